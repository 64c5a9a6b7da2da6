#!/usr/bin/env bash
# make demo: closed-loop tracking on the virtual board (the Verilated firmware with its
# tracking controller + the physics model), through the unmodified host program: the
# Lissajous bead of seed 003 Fig. S14A is searched, pre-localized and tracked for 2.5 s of
# firmware time; bench_track prints the tracking error e (S81) next to the CRB, and
# minflux analyze draws the true and the tracked trajectory (tracks.png).
set -eu
BUILD=${1:-build}
OUT=$BUILD/demo/track
rm -rf "$OUT"   # the demo's own previous output
mkdir -p "$BUILD/demo"
echo "demo: minflux info --board sim"
"$BUILD/minflux" info --board sim
echo
echo "demo: minflux acquire --board sim:sim/scenarios/lissajous.ini --mode track --duration 2.5 --out $OUT"
echo "      (the scenario's [acquire] section: controller=on, L 100 nm, fwhm 360 nm, 8 kHz; ~35 s here)"
"$BUILD/minflux" acquire --board sim:sim/scenarios/lissajous.ini --mode track --duration 2.5 --out "$OUT"
echo
echo "demo: build/tests/bench_track $OUT --track-state 3"
"$BUILD/tests/bench_track" "$OUT" --track-state 3
echo
echo "demo: minflux analyze $OUT"
"$BUILD/minflux" analyze "$OUT" --quiet
echo "demo: true vs tracked trajectory: $OUT/tracks.png"
echo "demo: files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
