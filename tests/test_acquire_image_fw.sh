#!/usr/bin/env bash
# test_acquire_image_fw: the host against the board image's firmware configuration. The
# bitstream is built with MINFLUX_NO_CTL and MINFLUX_NO_BAYES (mk/board.mk: the tracking
# controller and the Bayesian block do not fit the UP5K next to the rest); the virtual board
# vboard_image is the same RTL with the same defines. On it: `minflux info`, an open-loop
# acquisition (records, no gaps), and the two modes the image lacks refused in one stderr line
# with exit 1 before anything runs (controller=on: CTL_MODE reads 0; mode bayes: BAYES_MODE
# reads 0), no files but the raw header left half-written; mode bayes with bayes_host=on (the
# host runs the block's C model, the firmware one exposure per start): records, the replay,
# a localization to the std target near the truth, `minflux decode` of its raw file.
# Usage: tests/test_acquire_image_fw.sh [minflux] [vboard_image]
set -u
MF=${1:-${BUILD:-build}/minflux}
VB=${2:-${BUILD:-build}/vl/vboard_image/vboard_image}
[ -x "$MF" ] || { echo "FAIL acquire_image_fw: $MF not built"; exit 1; }
[ -x "$VB" ] || { echo "FAIL acquire_image_fw: $VB not built"; exit 1; }
export MINFLUX_VBOARD=$VB
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=acquire_image_fw
. "$(dirname "$0")/lib_check.sh"

if "$MF" info --board sim >"$tmp/info" 2>"$tmp/err"; then
  check "info: design id" grep -q "design id:   0x4D464C58 ('MFLX')" "$tmp/info"
else
  fail "info --board sim: $(cat "$tmp/err")"
fi

D=$tmp/run
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.2 --out "$D" >"$tmp/out" 2>"$tmp/err"; then
  S=$D/summary.json
  check "open loop: 1600 records at 8 kHz ($(jget "$S" records))" [ "$(jget "$S" records)" = 1600 ]
  check "open loop: gaps = 0" [ "$(jget "$S" gaps)" = 0 ]
  check "open loop: photons counted" awk -v p="$(jget "$S" photons_per_record)" 'BEGIN{exit !(p > 1)}'
else
  fail "acquire --mode track on the image firmware: $(cat "$tmp/err")"
fi

refused "controller=on" 1 "this firmware has no tracking controller \(CTL_MODE reads 0" \
  "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.1 --out "$tmp/ctl" controller=on
# a D table so that the refusal is not preceded by ~10 s of computing it
"$MF" bayes dtable --mu 0.1 --b 0.01 --s 200 --per-octave 1 --out "$tmp/dt.csv" >/dev/null 2>&1 ||
  fail "minflux bayes dtable: $?"
refused "mode bayes" 1 "this firmware has no Bayesian block \(BAYES_MODE reads 0.*run --mode bayes with bayes_host=on" \
  "$MF" acquire --board "sim:$SCN/bayes.ini" --mode bayes --duration 0.1 --out "$tmp/nob" bayes_dtable="$tmp/dt.csv"

# bayes_host=on: the host runs the block's model, the image's sequencer one exposure per start
H=$tmp/host
if "$MF" acquire --board "sim:$SCN/bayes.ini" --mode bayes bayes_host=on bayes_std_stop_nm=2 --duration 1 --out "$H" bayes_dtable="$tmp/dt.csv" \
     >"$tmp/hout" 2>"$tmp/herr"; then
  S=$H/summary.json
  nrec=$(($(wc -l <"$H/bayes_exposures.csv") - 1))
  check "bayes_host: exposure records ($nrec) = the summary's records" [ "$nrec" = "$(jget "$S" records)" ]
  check "bayes_host: no gaps" [ "$(jget "$S" gaps)" = 0 ]
  check "bayes_host: every exposure at the beam the model placed" [ "$(jget "$S" bayes_host_clamped)" = 0 ]
  check "bayes_host: the records replay bit-exact through the model" grep -q "replay through hls-c/bayes.c: $nrec records, 0 mismatches" "$tmp/hout"
  fin=$(awk -F, 'NR > 1 && $8 == "std_target"' "$H/localizations.csv" | wc -l)
  check "bayes_host: localizations reached the 2 nm std target ($fin)" [ "$fin" -ge 1 ]
  check "bayes_host: their errors against the truth below 5 std" \
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
             NR > 1 && $c["reason"] == "std_target" {n++; if (!($c["error_nm"] < 5 * $c["std_nm"])) bad++}
             END {exit !(n >= 1 && !bad)}' "$H/localizations.csv"
  check "bayes_host: the stdout names the host model" grep -q "the host runs the model" "$tmp/herr"
  decoded_same "bayes_host" "$H" "$tmp/hdec" bayes_exposures.csv localizations.csv
else
  fail "acquire --mode bayes bayes_host=on on the image firmware: exit $?: $(tail -3 "$tmp/herr")"
fi

echo "test_acquire_image_fw.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
