#!/usr/bin/env bash
# make demo: a short tracking-mode acquisition on the virtual board (the Verilated
# firmware + a static emitter under a doughnut beam), through the unmodified host program.
set -eu
BUILD=${1:-build}
OUT=$BUILD/demo/track
rm -rf "$OUT"   # the demo's own previous output
mkdir -p "$BUILD/demo"
echo "demo: minflux info --board sim"
"$BUILD/minflux" info --board sim
echo
echo "demo: minflux acquire --board sim:sim/scenarios/static.ini --mode track --duration 0.5 --out $OUT"
"$BUILD/minflux" acquire --board sim:sim/scenarios/static.ini --mode track --duration 0.5 --out "$OUT"
echo
awk -F, 'NR>1 && $4==1 {x+=$2; y+=$3; n++} END {printf "demo: true emitter position (truth.csv, %d cycles): (%.2f, %.2f) nm\n", n, x/n, y/n}' "$OUT/truth.csv"
awk -F, 'NR>1 {x+=$2; y+=$3; n++} END {printf "demo: mean live mLMS position (tracks.csv, %d localizations): (%.2f, %.2f) nm\n", n, x/n, y/n}' "$OUT/tracks.csv"
echo "demo: first cycles (cycles.csv):"
head -6 "$OUT/cycles.csv" | column -t -s,
echo "demo: files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
