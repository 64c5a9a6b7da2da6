#!/usr/bin/env bash
# test_acquire_bayes: `minflux acquire --mode bayes` end to end on the virtual board (issue #6
# item 5): Bayesian localizations of the firmware's block one after the other on
# sim/scenarios/bayes.ini (a static emitter at (40, -25) nm), every exposure record replayed
# bit-exactly through the C model hls-c/bayes.c (model_mismatches = 0), photons and exposures
# per localization recounted from bayes_exposures.csv, the stop rules, the localizations
# against truth.csv; Ctrl-C (complete files, the last localization "stopped", the D table
# of the first run reused through bayes_dtable); the refusals (bad keys exit 2 naming the
# key; a firmware without the block: tests/test_acquire_image_fw.sh); `minflux decode` of the
# raw file gives the same tables; a narrow safe window.
# Usage: tests/test_acquire_bayes.sh [minflux]   (rerun a seed with SEED=S)
#
# The error bound: a finished localization (std target 1 nm or the photon budget) should lie
# within 4 std + h of the truth (std = the block's reported std per axis, h = the grid spacing
# 37.5 nm / 2^lev it was computed on; for a calibrated 2D Gaussian posterior P = e^-8 =
# 3e-4). Measured with the bit-exact model (1000 localizations from the prior to the 1 nm
# target, docs/bayes.md "Calibration"): 0.1 % end further out (1.4-2.0 % with the first
# re-gridding rules), so the test allows one such localization per run and fails on two.
set -u
MF=${1:-${BUILD:-build}/minflux}
[ -x "$MF" ] || { echo "FAIL acquire_bayes: $MF not built"; exit 1; }
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
SEED=${SEED:-$(( $(date +%s) % 100000 + 1 ))}
echo "  acquire_bayes: seed $SEED (rerun with SEED=$SEED tests/test_acquire_bayes.sh $MF)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=acquire_bayes
. "$(dirname "$0")/lib_check.sh"
B="sim:$SCN/bayes.ini"
export MINFLUX_VBOARD_ARGS="--seed $SEED"

# ---- refusals before the board (exit 2, the key named) ----
refused "bayes_mu = 0" 2 "bayes_mu = '0' is not a number in" "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r1" bayes_mu=0
refused "bayes_b = 2" 2 "bayes_b = '2' is not a number in" "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r2" bayes_b=2
refused "no laser calibration" 2 "bayes_eta_per_code = 0: mode = bayes needs the laser calibration" \
  "$MF" acquire --board sim --mode bayes --duration 0.1 --out "$tmp/r3"
refused "calibration out of range" 2 "Bayesian registers: bayes_eta_per_code = 1e-05: must be" \
  "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r4" bayes_eta_per_code=1e-5
refused "mu for this calibration" 2 "Bayesian registers: bayes_mu / bayes_eta_per_code" \
  "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r5" bayes_mu=50
refused "agg" 2 "agg = 3: a Bayesian exposure is one record" "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r6" agg=3
refused "controller" 2 "mode = bayes with controller = on" "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r7" controller=on
refused "mode scan" 2 "mode = 'scan': this firmware runs only 'track', 'image', 'bayes' and 'hex'" \
  "$MF" acquire --board "$B" --mode scan --duration 0.1 --out "$tmp/r8"
refused "missing D table" 2 "bayes_dtable = '$tmp/none.csv': .*No such file" \
  "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r9" bayes_dtable="$tmp/none.csv"
if "$MF" bayes dtable --mu 0.5 --b 0.05 --per-octave 1 --octaves 2 --out "$tmp/dt_other.csv" >/dev/null 2>&1; then
  refused "D table of another mu" 2 "is the table of mu = 0.5, b = 0.05, s = 200 nm, not of bayes_mu = 0.1" \
    "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$tmp/r10" bayes_dtable="$tmp/dt_other.csv"
else
  fail "minflux bayes dtable (a small table for the refusal)"
fi

# ---- 1 s of firmware time: ~15000 exposures, ~4 localizations at the 1 nm std target ----
D=$tmp/run
w0=$(date +%s.%N)
"$MF" acquire --board "$B" --mode bayes --duration 1 --out "$D" bayes_seed=$SEED bayes_photons=400 >"$tmp/mout" 2>"$tmp/merr"; rc=$?
wall=$(awk -v a="$w0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
if [ $rc -ne 0 ]; then
  fail "acquire --mode bayes: exit $rc: $(cat "$tmp/merr")"
else
  S=$D/summary.json
  recs=$(jget "$S" records)
  echo "  acquire_bayes: $recs records, $(jget "$S" localizations) localizations, $(jget "$S" model_mismatches) model mismatches," \
       "median error $(jget "$S" median_error_nm) nm, median photons $(jget "$S" median_photons), $wall s wall"
  check "records > 12000 ($recs)" [ "${recs:-0}" -gt 12000 ]
  check "gaps = 0" [ "$(jget "$S" gaps)" = 0 ]
  check "crc_errors = 0" [ "$(jget "$S" crc_errors)" = 0 ]
  check "fifo_overflows = 0 (12 Mbaud)" [ "$(jget "$S" fifo_overflows)" = 0 ]
  check "model_mismatches = 0 ($(jget "$S" first_mismatch))" [ "$(jget "$S" model_mismatches)" = 0 ]
  check "every record replayed ($(jget "$S" records_replayed) of $recs)" [ "$(jget "$S" records_replayed)" = "$recs" ]
  check "replay_skipped = 0" [ "$(jget "$S" replay_skipped)" = 0 ]
  check "register_mismatches = 0" [ "$(jget "$S" register_mismatches)" = 0 ]
  check "foreign_records = 0" [ "$(jget "$S" foreign_records)" = 0 ]
  check "duration 1.0..1.1 s ($(jget "$S" duration_s))" awk -v d="$(jget "$S" duration_s)" 'BEGIN{exit !(d >= 1.0 && d < 1.1)}'
  check "median_error_nm given" awk -v e="$(jget "$S" median_error_nm)" 'BEGIN{exit !(e + 0 > 0)}'
  E=$D/bayes_exposures.csv L=$D/localizations.csv
  check "bayes_exposures.csv header" [ "$(head -1 "$E")" = "loc,k,t_s,beam_x_nm,beam_y_nm,amp,eta,n,map_x_nm,map_y_nm,std_nm,lev,status,seq" ]
  check "localizations.csv header" [ "$(head -1 "$L")" = "loc,t_s,x_nm,y_nm,std_nm,photons,exposures,reason,seed,lev,records,replay,mismatches,truth_x_nm,truth_y_nm,error_nm" ]
  check "a row per record" [ "$(($(wc -l <"$E") - 1))" = "$recs" ]
  check "truth.csv: a row per exposure, at its t_s" [ "$(paste -d, <(cut -d, -f3 "$E") <(cut -d, -f1 "$D/truth.csv") | awk -F, 'NR>1 && $1!=$2{bad++} END{print bad+0}')" = 0 ]
  check "seq 0.. without a gap, k = 0.. per localization" \
    [ "$(awk -F, 'NR>1 { if ($14 != NR-2) bad++; if (NR == 2 || $1 != pl) { if ($2 != 0) bad++ } else if ($2 != pk + 1) bad++; pl = $1; pk = $2 } END{print bad+0}' "$E")" = 0 ]
  check "raw header: the Bayesian registers and 128 D entries" \
    grep -q '"BAYES_DTAB":\[[0-9]*\(,[0-9]*\)\{127\}\],"BAYES_MODE":1' "$D/raw.mfx"
  nloc=$(jget "$S" localizations); nfin=$(jget "$S" localizations_finished)
  check ">= 1 finished localization (${nfin:-0} of ${nloc:-0})" [ "${nfin:-0}" -ge 1 ]
  check "localizations.csv: a row each" [ "$(($(wc -l <"$L") - 1))" = "${nloc:-x}" ]
  check "a line per localization on stdout" [ "$(grep -c '^localization [0-9]*: (' "$tmp/mout")" = "${nloc:-x}" ]
  check "a seed per localization" [ "$(cut -d, -f9 "$L" | sort -u | wc -l)" = "$(wc -l <"$L")" ]
  # photons and exposures recounted from the records; the stop rules
  awk -F, 'NR>1 {n[$1] += $8; c[$1]++; last[$1] = $8}
           END {for (l in n) print l, n[l], c[l], last[l]}' "$E" | sort -n >"$tmp/recount"
  check "photons and exposures per localization = the records' sums" \
    [ "$(awk -F, 'NR>1 {print $1, $6, $7}' "$L" | sort -n)" = "$(awk '{print $1, $2, $3}' "$tmp/recount")" ]
  check "std_target ends below 1 nm, photon_budget at the first exposure reaching 400 photons" \
    [ "$(awk 'FNR==NR {last[$1] = $4; next} FNR>1 { split($0, f, ",");
           if (f[8] == "std_target" && !(f[5] <= 1.0)) bad++;
           if (f[8] == "photon_budget" && !(f[6] >= 400 && f[6] - last[f[1]] < 400)) bad++;
           if (f[8] == "stopped" && f[1] != n - 1) bad++ } END{print bad+0}' "$tmp/recount" n="$nloc" FS=, "$L")" = 0 ]
  # the error bound (see the top): at most one finished localization beyond 4 std + h
  far=$(awk -F, 'NR>1 && $8 != "stopped" { h = 37.5 / 2^$10; if ($16 > 4 * $5 + h) { n++; printf "loc %d: %.2f nm > 4 x %.3f + %.3f; ", $1, $16, $5, h } } END{print n+0}' "$L")
  check "at most one finished localization beyond 4 std + h of the truth: $far" [ "${far##*; }" -le 1 ]
  for png in bayes_convergence bayes_localizations; do
    png_ok "$png.png" "$D/$png.png"
  done
  # the raw file alone gives the same tables (the localization boundaries from the records)
  "$MF" decode "$D/raw.mfx" --out "$tmp/dec" >"$tmp/dout" 2>"$tmp/derr"; drc=$?
  check "decode of the Bayesian raw file: exit 0 ($drc: $(tail -1 "$tmp/derr"))" [ $drc -eq 0 ]
  check "decode: bayes_exposures.csv identical to acquire's" cmp -s "$E" "$tmp/dec/bayes_exposures.csv"
  check "decode: localizations.csv identical to acquire's" cmp -s "$L" "$tmp/dec/localizations.csv"
  check "decode: the replay line" grep -q "^bit-exact replay through hls-c/bayes.c: $recs records, 0 mismatches" "$tmp/dout"
  final=$(awk -F, 'NR>1 && $8 != "stopped" {l = $0} END{print l}' "$L")
  echo "  acquire_bayes: final finished localization: $final"
  check "the final localization's truth is the scenario's (40, -25)" \
    awk -F, -v l="$final" 'BEGIN{split(l, f, ","); exit !(f[14] == 40 && f[15] == -25)}'
fi

# ---- Ctrl-C: complete files, the last localization stopped; the D table reused ----
if [ -f "$D/dtable.csv" ]; then
  I=$tmp/int
  "$MF" acquire --board "$B" --mode bayes --duration 30 --out "$I" bayes_seed=$SEED bayes_dtable="$D/dtable.csv" >"$tmp/iout" 2>"$tmp/ierr" &
  pid=$!
  for _ in $(seq 400); do grep -q '^localization 0:' "$tmp/iout" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5   # into localization 1 (~6 s of wall time at the 1 nm target), not between the two
  kill -INT $pid
  wait $pid; irc=$?
  check "Ctrl-C: exit 0 ($irc: $(tail -1 "$tmp/ierr"))" [ $irc -eq 0 ]
  check "Ctrl-C: interrupted" grep -q '"interrupted": true' "$I/summary.json"
  check "Ctrl-C: no D table computed" [ "$(grep -c 'computing D(sigma)' "$tmp/ierr")" = 0 ]
  check "Ctrl-C: model_mismatches = 0" [ "$(jget "$I/summary.json" model_mismatches)" = 0 ]
  check "Ctrl-C: the last localization stopped" [ "$(tail -1 "$I/localizations.csv" | cut -d, -f8)" = stopped ]
  check "Ctrl-C: well before 30 s of firmware time ($(jget "$I/summary.json" duration_s))" \
    awk -v d="$(jget "$I/summary.json" duration_s)" 'BEGIN{exit !(d > 0 && d < 5)}'
  # ---- records lost on the link: that localization is not replayed (no false mismatch), exit 4 ----
  # 40 random bytes after a firmware byte: now and then they cost no record (between two
  # frames; seed 76924 at 0.1 s: a correct outcome, but not the case under test): another
  # injection time then
  for gt in 0.1 0.13 0.17; do
    G=$tmp/garbage$gt
    MINFLUX_VBOARD_ARGS="--seed $SEED --fault-garbage $gt:40" "$MF" acquire --board "$B" --mode bayes --duration 0.3 --out "$G" \
      bayes_seed=$SEED bayes_dtable="$D/dtable.csv" >"$tmp/gout" 2>"$tmp/gerr"; grc=$?
    [ "$(jget "$G/summary.json" gaps)" = 0 ] && [ $grc -eq 0 ] || break
    echo "  acquire_bayes: the garbage at $gt s cost no record: once more"
  done
  check "lost records: exit 4 ($grc: $(tail -1 "$tmp/gerr"))" [ $grc -eq 4 ]
  check "lost records: gaps >= 1" [ "$(jget "$G/summary.json" gaps)" -ge 1 ]
  check "lost records: replay_skipped >= 1" [ "$(jget "$G/summary.json" replay_skipped)" -ge 1 ]
  check "lost records: model_mismatches = 0" [ "$(jget "$G/summary.json" model_mismatches)" = 0 ]
  check "lost records: 'skipped' in localizations.csv" grep -q ',skipped,' "$G/localizations.csv"
  "$MF" decode "$G/raw.mfx" --out "$tmp/gdec" >"$tmp/gdout" 2>&1; gdrc=$?
  check "lost records: decode exit 0, gaps reported, no false mismatch ($gdrc)" \
    awk -v rc=$gdrc '/^[0-9]+ records, [0-9]+ gaps/ {g = $3} /^bit-exact replay/ {m = $(NF-6)}
                     END {exit !(rc == 0 && g >= 1 && m == "0")}' "$tmp/gdout"
  # ---- a narrow safe window: the block places on its edge, the replay (with the window from
  # the configuration) still agrees, no beam outside ----
  W=$tmp/window
  "$MF" acquire --board "$B" --mode bayes --duration 0.1 --out "$W" bayes_seed=$SEED bayes_dtable="$D/dtable.csv" \
    safe_x_min_nm=-30 safe_x_max_nm=60 safe_y_min_nm=-45 safe_y_max_nm=30 >"$tmp/wout" 2>"$tmp/werr"; wrc=$?
  check "safe window: exit 0 ($wrc: $(tail -1 "$tmp/werr"))" [ $wrc -eq 0 ]
  check "safe window: model_mismatches = 0" [ "$(jget "$W/summary.json" model_mismatches)" = 0 ]
  check "safe window: records ($(jget "$W/summary.json" records))" [ "$(jget "$W/summary.json" records)" -gt 100 ]
  wb=$(awk -F, 'NR>1 { if ($4 < -30.0001 || $4 > 60.0001 || $5 < -45.0001 || $5 > 30.0001) out++;
                       if ($4 <= -29.9999 || $4 >= 59.9999 || $5 <= -44.9999 || $5 >= 29.9999) edge++ }
                END {print out+0, edge+0}' "$W/bayes_exposures.csv")
  check "safe window: no beam outside, some on the edge (outside, edge: $wb)" \
    awk -v w="$wb" 'BEGIN{split(w, f, " "); exit !(f[1] == 0 && f[2] > 0)}'
else
  fail "no D table written by the first run"
fi

echo "test_acquire_bayes.sh: $checks checks, $fails failed (seed $SEED)"
[ $fails -eq 0 ]
