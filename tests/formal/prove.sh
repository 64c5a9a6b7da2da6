#!/usr/bin/env bash
# One formal job: yosys reads the RTL with -DFORMAL (and -D$DEFINE, which makes the top's
# environment assumptions), writes SMT-LIB2, and yosys-smtbmc (z3) runs
#   1. BMC for BMC steps from reset: no assertion fails;
#   2. k-induction of depth IND (skipped when IND = 0): the assertions hold in every
#      reachable state, not only the first BMC steps (unbounded);
#   3. covers for COVER steps from reset (ABC bmc3): every cover statement is reached.
# It prints one line per assertion with PASS/FAIL and how it was proven, one per cover.
#   The cover runs read the RTL with -DFORMAL_COVER too (a top may fix inputs to shorten
#   the search: extra assumptions only remove traces, a trace found is still a trace).
# usage: tests/formal/prove.sh NAME OUTDIR BMC IND COVER TOP DEFINE "YOSYS_EXTRA" FILE...
set -u
name=$1 out=$2 bmc=$3 ind=$4 cov=$5 top=$6 def=$7 extra=$8
shift 8
mkdir -p "$out"
smt=$out/$name.smt2
solver=${FORMAL_SOLVER:-z3}
smt_of() {   # smt_of FILE EXTRA_DEFINE
  yosys -q -l "$1.yosys.log" -p "read_verilog -formal -DFORMAL -D$def $2 $FILES; prep -top $top; $extra
     flatten; async2sync; dffunmap; opt_clean; write_smt2 -wires $1" >/dev/null 2>&1 && return 0
  echo "formal $name: yosys failed:"; grep -iE 'error|warning' "$1.yosys.log" | head -20; exit 1
}
FILES="$*"
smt_of "$smt" ""
# property names: assertion / cover labels in the smt2 file (cells named by their labels)
names() { sed -n "s/^; yosys-smt2-$1 [0-9]* \(.*\)$/\1/p" "$smt" | sed 's/^.*[.\\]//; s/ .*$//' | sort -u; }
# covers checked by this job (COVERS=REGEX: those of the top; sub-blocks' covers need
# their own environment and run in their own jobs)
asserts=$(names assert); covers=$(names cover | grep -E "${COVERS:-.}")
[ -n "$asserts" ] || [ "$bmc" = 0 ] || { echo "formal $name: no assertions found"; exit 1; }
run() {   # run LOG SMT2 ARGS...: yosys-smtbmc, 0 when it reports PASS
  local log=$1 file=$2; shift 2
  timeout 1200 yosys-smtbmc -s "$solver" --unroll --presat "$@" "$file" >"$log" 2>&1
  grep -q 'Status: PASSED' "$log"
}
t0=$(date +%s)
ok=1
if [ "$bmc" = 0 ]; then asserts=""     # a cover-only job
elif ! run "$out/$name.bmc.log" "$smt" -t "$bmc"; then
  ok=0; echo "formal $name: BMC (depth $bmc) FAILED:"; grep -E 'Assert failed|failed|Error|error' "$out/$name.bmc.log" | head -10
fi
how="bounded: BMC depth $bmc"
if [ $ok = 1 ] && [ "$ind" -gt 0 ] && [ -n "$asserts" ]; then
  if run "$out/$name.ind.log" "$smt" -i -t "$ind"; then how="unbounded: BMC depth $bmc + k-induction depth $ind"
  else ok=0; echo "formal $name: k-induction (depth $ind) FAILED:"; grep -E 'Assert failed|failed|Error' "$out/$name.ind.log" | head -10; fi
fi
for a in $asserts; do
  if [ $ok = 1 ]; then echo "formal $name: $a PASS ($how)"; else echo "formal $name: $a FAIL"; fi
done
# Covers with ABC's bmc3 (far faster than the SMT solver on the ~160-step traces a DAC
# move needs): per cover, a copy of the sources in which that one-line cover statement
# `C_name: cover(expr);` becomes `C_name: assert(!(expr));`, every other assertion and
# cover removed; a failing "assertion" in frame N is the cover reached at step N.
if [ -n "$covers" ]; then
  cdir=$out/$name.cover; mkdir -p "$cdir"
  vfiles=""; flags=""
  for f in $FILES; do
    case $f in
      -*) flags="$flags $f" ;;
      *) sed -E 's/^([[:space:]]*)(C_[A-Za-z0-9_]+): cover\((.*)\);/\1\2: assert(!(\3));/' "$f" >"$cdir/$(basename "$f")"
         vfiles="$vfiles $cdir/$(basename "$f")" ;;
    esac
  done
  for c in $covers; do
    if ! yosys -q -l "$cdir/$c.yosys.log" -p "read_verilog -formal -DFORMAL -D$def -DFORMAL_COVER $flags $vfiles; prep -top $top; $extra
         chformal -remove -assert */P_* */I_* */A_* */C_* */$c %d; flatten; memory_map; opt -fast; async2sync;
         setattr -unset keep; delete -output; opt -full; techmap; opt -fast; dffunmap; abc -g AND -fast; opt_clean;
         write_aiger -I -B -zinit -map $cdir/$c.aim $cdir/$c.aig" >/dev/null 2>&1; then
      ok=0; echo "formal $name: $c: yosys failed ($cdir/$c.yosys.log)"; continue
    fi
    timeout 1200 yosys-abc -c "read_aiger $cdir/$c.aig; fold; strash; bmc3 -F $cov -v" >"$cdir/$c.abc.log" 2>&1
    step=$(sed -n 's/^Output 0 of miter .* was asserted in frame \([0-9]*\).*/\1/p' "$cdir/$c.abc.log")
    if [ -n "$step" ]; then echo "formal $name: $c reached at step $step"
    else ok=0; echo "formal $name: $c NOT reached within $cov steps ($cdir/$c.abc.log)"; fi
  done
fi
echo "formal $name: $(echo "$asserts" | wc -w) assertions, $(echo "$covers" | wc -w) covers, $(( $(date +%s) - t0 )) s: $([ $ok = 1 ] && echo PASS || echo FAIL)"
[ $ok = 1 ]
