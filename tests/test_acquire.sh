#!/usr/bin/env bash
# test_acquire: the host link end to end as a user runs it, on the virtual board:
# `minflux info`, `minflux acquire` (record count, gaps, CRC errors, files), `minflux
# decode` (byte-identical tables), a noisy link (errors counted, nothing silently lost),
# Ctrl-C (complete files), and the refusals (one stderr line, non-zero exit).
# Usage: tests/test_acquire.sh [path/to/minflux]   (default ${BUILD:-build}/minflux)
set -u
MF=${1:-${BUILD:-build}/minflux}
[ -x "$MF" ] || { echo "FAIL acquire: $MF not built"; exit 1; }
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; checks=0
ok()   { checks=$((checks+1)); }
fail() { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL acquire: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }
jget() { sed -n "s/^ *\"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1"; }
refused() {   # refused NAME PATTERN CMD...: non-zero exit (no crash), one stderr line matching PATTERN
  local name=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name: exit $rc"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"; return; fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}

# ---- info ----
if "$MF" info --board sim >"$tmp/info" 2>"$tmp/err"; then
  check "info: design id" grep -q "design id:   0x4D464C58 ('MFLX')" "$tmp/info"
  check "info: clock" grep -q "clock:       48.000 MHz" "$tmp/info"
  check "info: link" grep -q "3000000 baud" "$tmp/info"
else
  fail "info --board sim: $(cat "$tmp/err")"
fi
refused "info --board ftdi without a board" "FT2232H" "$MF" info --board ftdi
refused "info --board bogus" "unknown board 'bogus'" "$MF" info --board bogus

# ---- a 0.5 s acquisition at 8 kHz: 4000 records, nothing lost ----
D=$tmp/run
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.5 --out "$D" >"$tmp/out" 2>"$tmp/err"; then
  S=$D/summary.json
  check "records = 4000 ($(jget "$S" records))" [ "$(jget "$S" records)" = 4000 ]
  check "cycles_run = 4000" [ "$(jget "$S" cycles_run)" = 4000 ]
  check "gaps = 0" [ "$(jget "$S" gaps)" = 0 ]
  check "crc_errors = 0" [ "$(jget "$S" crc_errors)" = 0 ]
  check "fifo_overflows = 0" [ "$(jget "$S" fifo_overflows)" = 0 ]
  check "cycles.csv rows" [ "$(wc -l <"$D/cycles.csv")" = 4001 ]
  check "cycles.csv header" [ "$(head -1 "$D/cycles.csv")" = "seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state" ]
  check "tracks.csv header" [ "$(head -1 "$D/tracks.csv")" = "t_s,x_nm,y_nm,n,state" ]
  check "truth.csv header" [ "$(head -1 "$D/truth.csv")" = "t_s,x_nm,y_nm,on" ]
  check "truth.csv one row per cycle" [ "$(wc -l <"$D/truth.csv")" = 4001 ]
  check "seq runs 0..3999" [ "$(awk -F, 'NR>1 && $1!=NR-2{bad++} END{print bad+0}' "$D/cycles.csv")" = 0 ]
  check "cycle period 125 us" [ "$(awk -F, 'NR>2{d=$2-p; if (d<0.0001249||d>0.0001251) bad++} NR>1{p=$2} END{print bad+0}' "$D/cycles.csv")" = 0 ]
  check "truth times match cycle times" [ "$(paste -d, <(cut -d, -f2 "$D/cycles.csv") <(cut -d, -f1 "$D/truth.csv") | awk -F, 'NR>1 && $1!=$2{bad++} END{print bad+0}')" = 0 ]
  # the live estimate lands near the true emitter (12, -8) nm: within 5 nm on average
  check "mean estimate near the truth ($(jget "$S" mean_x_nm), $(jget "$S" mean_y_nm))" \
    awk -v x="$(jget "$S" mean_x_nm)" -v y="$(jget "$S" mean_y_nm)" 'BEGIN{exit !((x-12)^2+(y+8)^2 < 25)}'
  check "raw.mfx starts with its magic" [ "$(head -c 14 "$D/raw.mfx")" = "MINFLUX-RAW 1" ]
  if "$MF" decode "$D/raw.mfx" --out "$tmp/dec" >"$tmp/out" 2>"$tmp/err"; then
    check "decode reproduces cycles.csv byte for byte" cmp -s "$D/cycles.csv" "$tmp/dec/cycles.csv"
    check "decode reproduces tracks.csv byte for byte" cmp -s "$D/tracks.csv" "$tmp/dec/tracks.csv"
  else
    fail "decode: $(cat "$tmp/err")"
  fi
  refused "acquire into an existing run" "exists" "$MF" acquire --board sim --mode track --duration 0.1 --out "$D"
else
  fail "acquire: $(cat "$tmp/err")"
fi

# ---- a photon budget: the firmware ends the run at the record that reaches it ----
P=$tmp/budget
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.5 --out "$P" photon_budget=3000 >"$tmp/pout" 2>"$tmp/err"; then
  S=$P/summary.json
  rp=$(jget "$S" run_photons); sums=$(awk -F, 'NR>1{s+=$3+$4+$5+$6; last=$3+$4+$5+$6} END{print s, s-last}' "$P/cycles.csv")
  check "budget: ended by it ($(jget "$S" cycles_run) of 4000 cycles)" [ "$(jget "$S" ended_by_photon_budget)" = true ]
  check "budget: RUN_PHOTONS $rp = the records' photons (${sums% *})" [ "$rp" = "${sums% *}" ]
  check "budget: at least 3000, short of it without the last record ($sums)" \
    awk -v a="${sums% *}" -v b="${sums#* }" 'BEGIN{exit !(a >= 3000 && b < 3000)}'
  check "budget: nothing lost" [ "$(jget "$S" gaps)" = 0 ]
  check "budget: printed" grep -q "^photon budget: the firmware ended the run after [0-9]* of 4000 cycles with $rp photons (budget 3000)" "$tmp/pout"
else
  fail "acquire photon_budget=3000: $(cat "$tmp/err")"
fi
refused "photon budget with mode hex" "photon_budget = 50 with mode = hex: the stages end at hex_stage0..2_photons" \
  "$MF" acquire --board "sim:$SCN/bayes.ini" --mode hex --duration 0.1 --out "$tmp/x30" photon_budget=50
refused "photon budget with mode bayes" "photon_budget = 50 with mode = bayes: a localization's budget is bayes_photons" \
  "$MF" acquire --board "sim:$SCN/bayes.ini" --mode bayes --duration 0.1 --out "$tmp/x31" photon_budget=50
refused "photon budget out of range" "photon_budget = '16777216' is not an integer in \[0, 16777215\]" \
  "$MF" acquire --board sim --duration 0.1 --out "$tmp/x32" photon_budget=16777216

# ---- a noisy link: corrupted bytes are CRC errors and gaps, every cycle is accounted ----
N=$tmp/noisy
"$MF" acquire --board "sim:$SCN/noisy-link.ini" --mode track --duration 0.25 --out "$N" >"$tmp/out" 2>"$tmp/err"; nrc=$?
if [ $nrc = 4 ]; then   # exit 4: records lost on the link (docs/reliability.md)
  S=$N/summary.json
  r=$(jget "$S" records); g=$(jget "$S" gaps); c=$(jget "$S" cycles_run); e=$(jget "$S" crc_errors)
  check "noisy: CRC errors counted ($e)" [ "$e" -gt 0 ]
  check "noisy: gaps counted ($g)" [ "$g" -gt 0 ]
  check "noisy: records + gaps = cycles run ($r + $g = $c)" [ $((r + g)) = "$c" ]
  check "noisy: the firmware still answers" "$MF" info --board "sim:$SCN/noisy-link.ini" >/dev/null
  "$MF" decode "$N/raw.mfx" --out "$tmp/ndec" >/dev/null 2>&1
  check "noisy: decode reproduces cycles.csv" cmp -s "$N/cycles.csv" "$tmp/ndec/cycles.csv"
else
  fail "noisy acquire: $(cat "$tmp/err")"
fi

# ---- Ctrl-C: the firmware stops after its cycle, the files are complete ----
I=$tmp/int
"$MF" acquire --board sim --mode track --duration 60 --out "$I" >"$tmp/iout" 2>"$tmp/ierr" &
pid=$!
for _ in $(seq 50); do [ -s "$I/cycles.csv" ] && break; sleep 0.1; done
sleep 0.5
kill -INT $pid
wait $pid; rc=$?
check "Ctrl-C: exit 0 (rc $rc)" [ $rc = 0 ]
check "Ctrl-C: summary says interrupted" grep -q '"interrupted": true' "$I/summary.json"
r=$(jget "$I/summary.json" records)
check "Ctrl-C: some records ($r)" [ "${r:-0}" -gt 0 ]
check "Ctrl-C: cycles.csv holds every record" [ "$(wc -l <"$I/cycles.csv")" = $((r + 1)) ]
check "Ctrl-C: records = cycles run" [ "$r" = "$(jget "$I/summary.json" cycles_run)" ]

# ---- K = 7 (centre + hexagon): every exposure's count has a column (n4..n6 come last) ----
H=$tmp/hex
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.05 --out "$H" k=7 cycle_hz=4000 >"$tmp/out" 2>"$tmp/err"; then
  check "k 7: cycles.csv header" [ "$(head -1 "$H/cycles.csv")" = "seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state,n4,n5,n6" ]
  check "k 7: every row has 15 fields" [ "$(awk -F, 'NF!=15{bad++} END{print bad+0}' "$H/cycles.csv")" = 0 ]
  check "k 7: photons in n4..n6 (outer exposures)" [ "$(awk -F, 'NR>1{s+=$13+$14+$15} END{print (s>0)}' "$H/cycles.csv")" = 1 ]
  check "k 7: n0..n6 of each valid record sum to its tracks.csv n" \
    [ "$(paste -d, <(awk -F, 'NR>1 && $11==1{print $3+$4+$5+$6+$13+$14+$15}' "$H/cycles.csv") <(tail -n +2 "$H/tracks.csv" | cut -d, -f4) | awk -F, '$1!=$2{bad++} END{print bad+0 (NR>0 ? "" : "no rows")}')" = 0 ]
  "$MF" decode "$H/raw.mfx" --out "$tmp/hdec" >/dev/null 2>&1
  check "k 7: decode reproduces cycles.csv" cmp -s "$H/cycles.csv" "$tmp/hdec/cycles.csv"
else
  fail "k 7 acquire: $(cat "$tmp/err")"
fi

# ---- above the link's capacity: 16 kHz, K = 4 is 16000 records/s, 3 Mbaud carries 9375 ----
O=$tmp/over
if "$MF" acquire --board sim --duration 0.2 --out "$O" cycle_hz=16000 >"$tmp/out" 2>"$tmp/err"; then
  S=$O/summary.json
  r=$(jget "$S" records); g=$(jget "$S" gaps); c=$(jget "$S" cycles_run); f=$(jget "$S" fifo_overflows)
  check "over capacity: FIFO overflows counted ($f)" [ "$f" -gt 0 ]
  check "over capacity: every lost record is a gap ($g = $f)" [ "$g" = "$f" ]
  check "over capacity: records + gaps = cycles run ($r + $g = $c)" [ $((r + g)) = "$c" ]
else
  fail "over-capacity acquire: $(cat "$tmp/err")"
fi
A=$tmp/agg
if "$MF" acquire --board sim --duration 0.2 --out "$A" cycle_hz=16000 agg=2 >"$tmp/out" 2>"$tmp/err"; then
  S=$A/summary.json
  check "agg 2: 1600 records ($(jget "$S" records))" [ "$(jget "$S" records)" = 1600 ]
  check "agg 2: 3200 cycles run" [ "$(jget "$S" cycles_run)" = 3200 ]
  check "agg 2: nothing lost" [ "$(jget "$S" gaps)/$(jget "$S" fifo_overflows)" = 0/0 ]
  check "agg 2: cycles_per_record" [ "$(jget "$S" cycles_per_record)" = 2 ]
  check "agg 2: records 125 us apart" [ "$(awk -F, 'NR>2{d=$2-p; if (d<0.0001249||d>0.0001251) bad++} NR>1{p=$2} END{print bad+0}' "$A/cycles.csv")" = 0 ]
  check "agg 2: record t_s = start of its first cycle (= truth row 2i)" \
    [ "$(paste -d, <(cut -d, -f2 "$A/cycles.csv" | tail -n +2) <(awk -F, 'NR>1 && NR%2==0{print $1}' "$A/truth.csv") | awk -F, '$1!=$2{bad++} END{print bad+0}')" = 0 ]
  check "agg 2: photons per record = 2 x per cycle" \
    awk -v a="$(jget "$S" photons_per_record)" -v b="$(jget "$S" photons_per_cycle)" 'BEGIN{exit !(a > 0 && a == 2*b)}'
  "$MF" decode "$A/raw.mfx" --out "$tmp/adec" >/dev/null 2>&1
  check "agg 2: decode reproduces cycles.csv" cmp -s "$A/cycles.csv" "$tmp/adec/cycles.csv"
else
  fail "agg acquire: $(cat "$tmp/err")"
fi
B=$tmp/baud
if "$MF" acquire --board sim --duration 0.2 --out "$B" cycle_hz=16000 baud=12000000 >"$tmp/out" 2>"$tmp/err"; then
  S=$B/summary.json
  check "12 Mbaud: 3200 records, nothing lost ($(jget "$S" records), $(jget "$S" gaps))" \
    [ "$(jget "$S" records)/$(jget "$S" gaps)/$(jget "$S" fifo_overflows)" = 3200/0/0 ]
  check "12 Mbaud: link_baud in the summary" [ "$(jget "$S" link_baud)" = 12000000 ]
  check "12 Mbaud: back at 3 Mbaud afterwards" sh -c "'$MF' info --board sim | grep -q 'LINK_BAUD 0'"
else
  fail "12 Mbaud acquire: $(cat "$tmp/err")"
fi
I=$tmp/intagg
"$MF" acquire --board sim --mode track --duration 60 --out "$I" agg=3 >"$tmp/iout" 2>"$tmp/ierr" &
pid=$!
for _ in $(seq 50); do [ -s "$I/cycles.csv" ] && break; sleep 0.1; done
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
r=$(jget "$I/summary.json" records)
check "Ctrl-C with agg 3: exit 0 (rc $rc)" [ $rc = 0 ]
check "Ctrl-C with agg 3: whole records ($r x 3 = $(jget "$I/summary.json" cycles_run))" [ $((${r:-0} * 3)) = "$(jget "$I/summary.json" cycles_run)" ]

# ---- the tracking controller (docs/controller.md) on the static emitter at (12, -8) nm:
# raster search from the origin, pre-localization, tracking; the tracked position is the emitter's ----
C=$tmp/ctl
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.5 --out "$C" controller=on >"$tmp/out" 2>"$tmp/err"; then
  S=$C/summary.json
  read -r n1 n2 n3 n0 first last <<<"$(awk -F, 'NR > 1 { c[$12]++; if (NR == 2) f = $12 "@" $7 "," $8; l = $12 }
    END { print c[1] + 0, c[2] + 0, c[3] + 0, c[0] + 0, f, l }' "$C/cycles.csv")"
  echo "  controller: records by state: $n1 search, $n2 pre-localization, $n3 tracking, $n0 open loop; first $first"
  check "controller: 4000 records ($(jget "$S" records))" [ "$(jget "$S" records)" = 4000 ]
  check "controller: the run starts searching at the raster origin (-889, -889) nm ($first)" [ "$first" = "1@-889.0000,-889.0000" ]
  check "controller: records reach state 3 and the run ends tracking ($n3, last state $last)" [ "$n3" -gt 3000 -a "$last" = 3 ]
  check "controller: a pre-localization record ($n2)" [ "$n2" -ge 1 ]
  check "controller: no open-loop record ($n0)" [ "$n0" = 0 ]
  check "controller: summary records_by_state = the state column" \
    [ "$(jget "$S" open)/$(jget "$S" search)/$(jget "$S" preloc)/$(jget "$S" track)" = "$n0/$n1/$n2/$n3" ]
  # tracked position (state 3 rows of tracks.csv) against the emitter's (truth.csv mean)
  read -r tx ty <<<"$(awk -F, 'NR > 1 { x += $2; y += $3; n++ } END { printf "%.4f %.4f", x / n, y / n }' "$C/truth.csv")"
  read -r mx my nt <<<"$(awk -F, 'NR > 1 && $5 == 3 { x += $2; y += $3; n++ } END { printf "%.4f %.4f %d", x / n, y / n, n }' "$C/tracks.csv")"
  echo "  controller: mean of $nt tracked localizations ($mx, $my) nm, emitter ($tx, $ty) nm"
  check "controller: tracked mean ($mx, $my) within 5 nm of the emitter ($tx, $ty)" \
    awk -v x="$mx" -v y="$my" -v a="$tx" -v b="$ty" 'BEGIN { exit !((x - a)^2 + (y - b)^2 < 25) }'
  check "controller: the registers written are in the raw header (CTL_RASTER 15 x 1270 LSB)" grep -q '"CTL_RASTER":984310' "$C/raw.mfx"
  "$MF" decode "$C/raw.mfx" --out "$tmp/cdec" >/dev/null 2>&1
  check "controller: decode reproduces tracks.csv" cmp -s "$C/tracks.csv" "$tmp/cdec/tracks.csv"
else
  fail "controller acquire: $(cat "$tmp/err")"
fi
check "acquire --help lists the controller keys" sh -c "'$MF' acquire --help | grep -q 'controller=off' && '$MF' acquire --help | grep -q 'dark_records=40'"
# a scenario's [acquire] keys apply, key=value arguments override them
printf '[acquire]\ncontroller = on\nk = 5\n[emitter]\nx_nm = 0\n' >"$tmp/acq.ini"
refused "scenario [acquire] applied" "k = 5 with controller = on" "$MF" acquire --board "sim:$tmp/acq.ini" --duration 0.01 --out "$tmp/x20"
if "$MF" acquire --board "sim:$tmp/acq.ini" --duration 0.01 --out "$tmp/x21" k=4 >"$tmp/out" 2>"$tmp/err"; then
  check "scenario [acquire]: controller on from the scenario" grep -q '"controller":"on"' "$tmp/x21/raw.mfx"
  check "scenario [acquire]: k from the command line" grep -q '"k":"4"' "$tmp/x21/raw.mfx"
else
  fail "scenario [acquire] with k=4: $(cat "$tmp/err")"
fi

# ---- refusals ----
refused "controller with k = 5" "k = 5 with controller = on: .*\(allowed: k = 1..4\)" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x12" controller=on k=5
refused "controller with agg = 2" "agg = 2 with controller = on: .*\(allowed: agg = 1\)" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x13" controller=on agg=2
refused "controller loss_ratio = 1" "loss_ratio = 1: round\(loss_ratio\*256\) = 256 must be 1..255" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x14" controller=on loss_ratio=1
refused "controller gain too large" "gain = 2: .* = 40960 must be 1..32767 \(gain 4.88281e-05..1.59995\)" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x15" controller=on gain=2
refused "controller raster outside the window" "leaves the safe window" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x16" controller=on search_field_nm=7000
refused "controller not on/off" "controller = 'yes' is not 'on' or 'off'" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x17" controller=yes
refused "link rate" "not a link rate of the firmware \(allowed: 3000000, 6000000, 12000000" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x10" baud=9600
refused "agg out of range" "agg = '256' is not an integer in \[1, 255\]" "$MF" acquire --board sim --duration 0.1 --out "$tmp/x11" agg=256
refused "unknown key" "unknown key 'foo'" "$MF" acquire --board sim --mode track --duration 0.1 --out "$tmp/x1" foo=1
refused "k out of range" "k = '9' is not an integer in \[1, 8\]" "$MF" acquire --board sim --mode track --duration 0.1 --out "$tmp/x2" k=9
refused "mode scan" "only 'track', 'image', 'bayes' and 'hex'" "$MF" acquire --board sim --mode scan --duration 0.1 --out "$tmp/x3"
refused "no gate left" "leaves no detection gate" "$MF" acquire --board sim --mode track --duration 0.1 --out "$tmp/x4" cycle_hz=50000
refused "centre outside window" "must lie inside the safe window" "$MF" acquire --board sim --mode track --duration 0.1 --out "$tmp/x5" centre_x_nm=5000
refused "bad duration" "--duration 'abc'" "$MF" acquire --board sim --mode track --duration abc --out "$tmp/x6"
refused "missing --out" "--out DIR and --duration T are required" "$MF" acquire --board sim --duration 1
printf 'x_nm = 1\n' >"$tmp/bad.ini"
refused "missing scenario" "cannot open scenario $tmp/none.ini" "$MF" acquire --board "sim:$tmp/none.ini" --duration 0.1 --out "$tmp/x18"
printf '[emitter]\nx_nm = 0\n[acquire]\nL = 3\n' >"$tmp/badacq.ini"
refused "bad [acquire] key in a scenario" "badacq.ini: unknown key 'L'" "$MF" acquire --board "sim:$tmp/badacq.ini" --duration 0.1 --out "$tmp/x19"
refused "scenario key outside a section" "unknown key" "$MF" acquire --board "sim:$tmp/bad.ini" --mode track --duration 0.1 --out "$tmp/x7"
printf 'k = 4\n[weird]\nL_nm = 3\n' >"$tmp/cfg.ini"
refused "config section" "section \[weird\]" "$MF" acquire --board sim --mode track --duration 0.1 --out "$tmp/x8" --config "$tmp/cfg.ini"
printf 'hello\n' >"$tmp/not.mfx"
refused "decode a non-raw file" "not a minflux raw file" "$MF" decode "$tmp/not.mfx" --out "$tmp/x9"

echo "acquire: $checks checks, $fails failed"
[ $fails = 0 ]
