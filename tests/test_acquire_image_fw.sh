#!/usr/bin/env bash
# test_acquire_image_fw: the host against the board image's firmware configuration. The
# bitstream is built with MINFLUX_NO_CTL and MINFLUX_NO_BAYES (mk/board.mk: the tracking
# controller and the Bayesian block do not fit the UP5K next to the rest); the virtual board
# vboard_image is the same RTL with the same defines. On it: `minflux info`, an open-loop
# acquisition (records, no gaps), and the two modes the image lacks refused in one stderr line
# with exit 1 before anything runs (controller=on: CTL_MODE reads 0; mode bayes: BAYES_MODE
# reads 0), no files but the raw header left half-written.
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
refused "mode bayes" 1 "this firmware has no Bayesian block \(BAYES_MODE reads 0" \
  "$MF" acquire --board "sim:$SCN/bayes.ini" --mode bayes --duration 0.1 --out "$tmp/nob" bayes_dtable="$tmp/dt.csv"

echo "test_acquire_image_fw.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
