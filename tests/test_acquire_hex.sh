#!/usr/bin/env bash
# test_acquire_hex: `minflux acquire --mode hex` end to end (issue #6 item 3): iterative
# hexagon MINFLUX (centre + 6 at 60 deg, stages L = 200/150/40 nm ending at 40/90/N3
# photons, each re-centred on the previous stage's maximum-likelihood position) on
# sim/scenarios/bayes.ini (a static emitter at (40, -25) nm, the Bayesian model's physics).
# Checks: every record belongs to one stage (stage records and photons add up to the
# summary's, photons = the sum of the per-position counts), stage limits reached, the
# pattern centres (stage 0 at the prior centre, then the previous estimate), the laser code
# for mu photons per exposure, the localizations against truth.csv, the laser calibration fitted
# from the counts (also when the one used is 2x off), `minflux decode`
# reproduces cycles.csv (n4..n6 columns), hex_stages.csv and localizations.csv (also of a run that
# lost records), the refusals (exit 2, the key named), and the same
# mode on the board image's firmware (vboard_image: no controller, no Bayesian block).
# Usage: tests/test_acquire_hex.sh [minflux] [vboard_image]   (rerun a seed with SEED=S)
set -u
MF=${1:-${BUILD:-build}/minflux}
VBI=${2:-${BUILD:-build}/vl/vboard_image/vboard_image}
[ -x "$MF" ] || { echo "FAIL acquire_hex: $MF not built"; exit 1; }
[ -x "$VBI" ] || { echo "FAIL acquire_hex: $VBI not built"; exit 1; }
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
SEED=${SEED:-$(( $(date +%s) % 100000 + 1 ))}
echo "  acquire_hex: seed $SEED (rerun with SEED=$SEED tests/test_acquire_hex.sh $MF $VBI)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=acquire_hex
. "$(dirname "$0")/lib_check.sh"
B="sim:$SCN/bayes.ini"
export MINFLUX_VBOARD_ARGS="--seed $SEED"
# Reached stages of run DIR that did not end with the record reaching their limit (the sum
# without the stage's last record is already at the limit); -1 if none was reached.
late_stages() {
  awk -F, 'FNR == 1 {next} FILENAME == c {p[$2] = $3+$4+$5+$6+$13+$14+$15; next}
           $15 == 1 {n++; lim = ($2 == 0) ? 40 : ($2 == 1) ? 90 : 1000; if (!($9 in p) || $11 - p[$9] >= lim) bad++}
           END {print n ? bad + 0 : -1}' c="$1/cycles.csv" "$1/cycles.csv" "$1/hex_stages.csv"
}
# Mean number of records a reached stage of run DIR ran after the record that reached its limit.
extra_records() {
  awk -F, 'FNR == 1 {next} FILENAME == c {nr++; t[nr] = $2; p[nr] = $3+$4+$5+$6+$13+$14+$15; next}
           $15 == 1 {lim = ($2 == 0) ? 40 : ($2 == 1) ? 90 : 1000; s = 0; hit = 0; e = 0
                     for (i = 1; i <= nr; i++) if (t[i] >= $8 && t[i] <= $9) { if (hit) e++; s += p[i]; if (s >= lim) hit = 1 }
                     n++; tot += e}
           END {printf "%.2f", n ? tot / n : -1}' c="$1/cycles.csv" "$1/cycles.csv" "$1/hex_stages.csv"
}

# ---- refusals before the board (exit 2, the key named) ----
refused "controller on" 2 "mode = hex with controller = on: the host runs the hexagon stages" \
  "$MF" acquire --board "$B" --mode hex --duration 0.1 --out "$tmp/r1" controller=on
refused "agg 2" 2 "agg = 2: a hexagon stage ends on the photons of single records" \
  "$MF" acquire --board "$B" --mode hex --duration 0.1 --out "$tmp/r2" agg=2
refused "no laser calibration" 2 "bayes_eta_per_code = 0: mode = hex needs the laser calibration" \
  "$MF" acquire --board sim --mode hex --duration 0.1 --out "$tmp/r3"
refused "stage photons 0" 2 "hex_stage1_photons = '0' is not an integer in \[1, 1000000\]" \
  "$MF" acquire --board "$B" --mode hex --duration 0.1 --out "$tmp/r4" hex_stage1_photons=0
refused "laser code out of range" 2 "bayes_mu = 50 needs laser code [0-9]+ at stage 0" \
  "$MF" acquire --board "$B" --mode hex --duration 0.1 --out "$tmp/r5" bayes_mu=50
check "refusals leave no files" [ ! -e "$tmp/r1" -a ! -e "$tmp/r5" ]

# ---- 0.6 s of hexagon localizations on the full virtual board ----
D=$tmp/run
if "$MF" acquire --board "$B" --mode hex --duration 0.6 --out "$D" >"$tmp/out" 2>"$tmp/err"; then
  S=$D/summary.json; ST=$D/hex_stages.csv; L=$D/localizations.csv
  check "summary mode" grep -q '"mode": "hex"' "$S"
  check "nothing lost ($(jget "$S" gaps) gaps)" [ "$(jget "$S" gaps)" = 0 ]
  check "hex_stages.csv header" [ "$(head -1 "$ST")" = "loc,stage,L_nm,centre_x_nm,centre_y_nm,amp,eta,t0_s,t1_s,records,photons,gaps,x_nm,y_nm,reached,n0,n1,n2,n3,n4,n5,n6" ]
  nloc=$(jget "$S" localizations); nfin=$(jget "$S" localizations_finished)
  check "localizations: $nfin of $nloc finished (>= 3)" [ "${nfin:-0}" -ge 3 ]
  check "all but the last finished" [ "$(awk -F, 'NR>1 && $8 != "finished" && $1 != n - 1 {bad++} END{print bad+0}' n="$nloc" "$L")" = 0 ]
  check "every record in one stage (stage records add up to $(jget "$S" records))" \
    [ "$(awk -F, 'NR>1{s+=$10} END{print s+0}' "$ST")" = "$(jget "$S" records)" ]
  check "stage photons = the sum of n0..n6" [ "$(awk -F, 'NR>1 && $11 != $16+$17+$18+$19+$20+$21+$22 {bad++} END{print bad+0}' "$ST")" = 0 ]
  check "stage photons add up to the cycles.csv counts" \
    [ "$(awk -F, 'NR>1{s+=$11} END{print s+0}' "$ST")" = "$(awk -F, 'NR>1{s+=$3+$4+$5+$6+$13+$14+$15} END{print s+0}' "$D/cycles.csv")" ]
  check "stage L 200/150/40 in order" [ "$(awk -F, 'NR>1 && $3 != (($2 == 0) ? 200 : ($2 == 1) ? 150 : 40) {bad++} END{print bad+0}' "$ST")" = 0 ]
  check "a stage marked reached has its photons (40/90/1000)" \
    [ "$(awk -F, 'NR>1 && $15 == 1 && $11 < (($2 == 0) ? 40 : ($2 == 1) ? 90 : 1000) {bad++} END{print bad+0}' "$ST")" = 0 ]
  # the firmware's photon budget (PHOTON_STOP) ends a stage with the record that reaches its
  # limit: without the last record the stage is short of it (a host stop comes records later)
  check "each reached stage ends with the record that reaches its limit (firmware photon budget)" \
    [ "$(late_stages "$D")" = 0 ]
  check "stage 0 at the prior centre, stage s+1 at stage s's estimate (to the 0.1 nm LSB)" \
    [ "$(awk -F, 'NR>1 { if ($2 == 0) { if ($4 != 0 || $5 != 0) bad++ } else if (($4 - px)^2 > 0.0026 || ($5 - py)^2 > 0.0026) bad++; px = $13; py = $14 } END{print bad+0}' "$ST")" = 0 ]
  # laser code: mu / (eta_per_code x mean g over the pattern) for an emitter at the centre
  check "laser code for mu = 0.1 photons per exposure" [ "$(awk -F, 'function rnd(v) { return v < 0 ? -int(-v + 0.5) : int(v + 0.5) }
      NR>1 { gm = 0.01; for (k = 1; k < 7; k++) { ox = rnd($3 / 2 * cos(k * 3.14159265358979 / 3) / 0.1) * 0.1; oy = rnd($3 / 2 * sin(k * 3.14159265358979 / 3) / 0.1) * 0.1;
             q = (ox * ox + oy * oy) / 40000; gm += exp(1) * q * exp(-q) + 0.01 } gm /= 7;
             if ($6 != rnd(0.1 / (gm * 4.0690104e-4))) { bad++; printf "stage %d L %g: amp %d, expected %d; ", $2, $3, $6, rnd(0.1 / (gm * 4.0690104e-4)) > "/dev/stderr" } }
      END{print bad+0}' "$ST")" = 0 ]
  # stage 0 (40 photons, L = 200 nm, prior std 150 nm) lands on the far side in ~15 % of the
  # localizations (2 of 13 at seed 1, README; 2 of 4 at seed 5520), so with a few localizations
  # the median error is not a stable check: at least one finished one within 2 nm is
  good=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i} NR > 1 && $c["reason"] == "finished" && $c["error_nm"] < 2 {n++}
                  END{print n + 0}' "$L")
  check "finished localizations within 2 nm of the truth: $good of $nfin (>= 1)" [ "$good" -ge 1 ]
  check "median photons of a finished one >= 40 + 90 + 1000 ($(jget "$S" median_photons))" \
    awk -v m="$(jget "$S" median_photons)" 'BEGIN{exit !(m >= 1130)}'
  fit=$(jget "$S" eta_per_code_fit)
  check "the counts fit the scenario's laser calibration 4.069e-4 within 15 % ($fit)" \
    awk -v f="$fit" 'BEGIN{exit !(f != "null" && f / 4.0690104e-4 > 0.85 && f / 4.0690104e-4 < 1.15)}'
  check "the fit is printed" grep -q "^hexagon: the counts of the [0-9]* finished localizations fit bayes_eta_per_code = " "$tmp/out"
  bf=$(jget "$S" b_fit)
  # b fitted with the positions comes out low with few localizations (README): 0.0094-0.0104
  # with 3-4 at seeds 11-15
  check "with the background free: b within 40 % of the scenario's 0.01 ($bf)" \
    awk -v b="$bf" 'BEGIN{exit !(b != "null" && b > 0.006 && b < 0.014)}'
  check "cycles.csv has the n4..n6 columns" [ "$(head -1 "$D/cycles.csv")" = "seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state,n4,n5,n6" ]
  # localizations.csv with the truth beside the raw file
  decoded_same "hexagon run" "$D" "$tmp/dec" cycles.csv hex_stages.csv localizations.csv
  check "the printed summary" grep -qE "^hexagon: $nloc localizations, $nfin finished" "$tmp/out"
  refused "analyze of a hexagon run" 1 "a raw file of a hexagon acquisition \(config mode = hex\)" "$MF" analyze "$D"
else
  fail "acquire --mode hex: exit $?: $(tail -3 "$tmp/err")"
fi

# ---- on the board image's firmware (what `make bitstream` builds), with a laser calibration
# twice the true one (the laser codes half what mu needs): the fit still finds the true one ----
I=$tmp/image
if MINFLUX_VBOARD=$VBI "$MF" acquire --board "$B" --mode hex --duration 0.7 --out "$I" bayes_eta_per_code=8.138e-4 \
     >"$tmp/iout" 2>"$tmp/ierr"; then
  check "image firmware: a finished localization ($(jget "$I/summary.json" localizations_finished))" \
    [ "$(jget "$I/summary.json" localizations_finished)" -ge 1 ]
  check "image firmware: nothing lost" [ "$(jget "$I/summary.json" gaps)" = 0 ]
  fit=$(jget "$I/summary.json" eta_per_code_fit)
  check "image firmware, calibration 2x off: the fit within 20 % of the true 4.069e-4 ($fit)" \
    awk -v f="$fit" 'BEGIN{exit !(f != "null" && f / 4.0690104e-4 > 0.8 && f / 4.0690104e-4 < 1.2)}'
else
  fail "acquire --mode hex on the image firmware: exit $?: $(tail -3 "$tmp/ierr")"
fi

# ---- a link 1 ms late (scenario [link] latency_us, the FT2232H's latency timer): the
# firmware's budget still ends each stage with its limit's record; the host's stop
# (MINFLUX_HEX_HOST_STOP=1: what a firmware without PHOTON_STOP gets) comes ~10 records later ----
cp "$SCN/bayes.ini" "$tmp/late.ini" && printf '\n[link]\nlatency_us = 1000\n' >>"$tmp/late.ini"
for how in firmware host; do
  O=$tmp/late_$how
  if env $([ $how = host ] && echo MINFLUX_HEX_HOST_STOP=1) "$MF" acquire --board "sim:$tmp/late.ini" --mode hex --duration 0.35 \
       --out "$O" >"$tmp/lout" 2>"$tmp/lerr"; then
    nfin=$(jget "$O/summary.json" localizations_finished); late=$(late_stages "$O")
    check "link 1 ms late, $how stop: a finished localization ($nfin)" [ "${nfin:-0}" -ge 1 ]
    if [ $how = firmware ]; then
      check "link 1 ms late, firmware budget: every reached stage ends with its limit's record ($late late)" [ "$late" = 0 ]
    else
      check "link 1 ms late, host stop: the fallback says so" grep -q "MINFLUX_HEX_HOST_STOP=1 (PHOTON_STOP reads 40): the host stops each stage" "$tmp/lerr"
      check "link 1 ms late, host stop: stages end records after their limit ($late late)" [ "$late" -ge 2 ]
      # 1 ms at 8078 records/s: ~10 records (1.1 with no delay: the delay is what shows)
      ex=$(extra_records "$O")
      check "link 1 ms late, host stop: $ex records after the limit's record on average (>= 5)" awk -v e="$ex" 'BEGIN{exit !(e >= 5)}'
    fi
  else
    fail "acquire --mode hex, link 1 ms late, $how stop: exit $?: $(tail -3 "$tmp/lerr")"
  fi
done

# ---- records lost: K = 7 at 12000 cycles/s over a 3 Mbaud link is above its capacity (README
# "Link capacity"), so the firmware's FIFO drops records. A stage whose records that arrived
# fall short of its limit is reached by the firmware's RUN_PHOTONS (acquire reads it); decode,
# without that count, must still rebuild the same stages from the stage that follows ----
O=$tmp/lossy
if "$MF" acquire --board "$B" --mode hex cycle_hz=12000 baud=3000000 --duration 0.5 --out "$O" >"$tmp/lsout" 2>"$tmp/lserr"; then
  gaps=$(jget "$O/summary.json" gaps)
  check "records lost at 12000 cycles/s over 3 Mbaud ($gaps gaps)" [ "${gaps:-0}" -gt 0 ]
  nfw=$(grep -c "the firmware counted .* photons, the records that arrived" "$tmp/lserr")
  check "stages reached by the firmware's count though records were lost ($nfw)" [ "$nfw" -ge 1 ]
  if decoded_same "lossy run" "$O" "$tmp/ldec" cycles.csv hex_stages.csv localizations.csv; then
    check "lossy run: decode says which stages it counted reached" \
      grep -q "stages have fewer photons in the records that arrived than their limit" "$tmp/ldec.err"
  fi
else
  fail "acquire --mode hex, records lost: exit $?: $(tail -3 "$tmp/lserr")"
fi

echo "acquire_hex: $checks checks, $fails failed"
[ $fails -eq 0 ]
