#!/usr/bin/env bash
# bench_track: issue #5's must-show runs on the virtual board, each followed by the table
# of tests/bench_track.c: lissajous, lissajous-bright, lissajous-L50 (2 s after the
# initiation), static (10^4 cycles), ribosome (many tracks), kinesin-steps.
# Usage: tests/bench_track.sh [BUILD] [SCENARIO ...]   (default: all of the above)
# Extra `minflux acquire` arguments for every run: BENCH_TRACK_ARGS="key=value ...";
# the runs are kept in $BUILD/bench_track/NAME.
set -u
BUILD=${1:-build}
shift || true
MF=$BUILD/minflux
BT=$BUILD/tests/bench_track
[ -x "$MF" ] && [ -x "$BT" ] || { echo "bench_track: build $MF and $BT first (make)"; exit 1; }
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
OUT=$BUILD/bench_track
mkdir -p "$OUT"
list=${*:-lissajous lissajous-bright lissajous-L50 static ribosome kinesin-steps}
fails=0
# with the firmware's tracking controller: switch it on (405 nm in every raster frame for
# the ribosomes); without it the runs are open loop and analysed as such (state 0)
if "$MF" acquire --help 2>&1 | grep -q 'controller='; then
  ctl="controller=on"; ribo_ctl="act_every=1"; state=3
else
  echo "bench_track: this host program has no tracking controller: open-loop runs (pattern fixed at the centre)"
  ctl=""; ribo_ctl=""; state=0
fi
for s in $list; do
  # acquisition settings of each scenario (its header comment), duration, bench options
  case $s in
    lissajous|lissajous-bright) args="L_nm=100 fwhm_nm=360 cycle_hz=8000"; dur=2.5; bopt="" ;;
    lissajous-L50)             args="L_nm=50 fwhm_nm=360 cycle_hz=8000";  dur=2.5; bopt="" ;;
    static)                    args="L_nm=100 fwhm_nm=360 cycle_hz=8000"; dur=1.25; bopt="" ;;
    ribosome)                  args="L_nm=130 fwhm_nm=450 cycle_hz=8000 $ribo_ctl"; dur=${RIBOSOME_S:-10}; bopt="--sbr 2.7 --window ${RIBOSOME_S:-10}" ;;
    kinesin-steps)             args="L_nm=100 fwhm_nm=360 cycle_hz=8000"; dur=1; bopt="" ;;
    *) echo "bench_track: unknown scenario '$s'"; fails=$((fails + 1)); continue ;;
  esac
  D=$OUT/$s
  rm -rf "$D"
  echo "=== $s: minflux acquire --board sim:sim/scenarios/$s.ini --mode track --duration $dur $ctl $args ${BENCH_TRACK_ARGS:-}"
  start=$(date +%s)
  # shellcheck disable=SC2086
  if ! "$MF" acquire --board "sim:$SCN/$s.ini" --mode track --duration "$dur" --out "$D" $ctl $args ${BENCH_TRACK_ARGS:-} >"$D.log" 2>&1; then
    echo "bench_track: acquire failed: $(tail -1 "$D.log")"; fails=$((fails + 1)); continue
  fi
  echo "    ($(( $(date +%s) - start )) s wall)"
  # shellcheck disable=SC2086
  "$BT" "$D" --track-state $state $bopt ${BENCH_TRACK_OPTS:-} || fails=$((fails + 1))
done
[ $fails = 0 ]
