#!/usr/bin/env bash
# bench_analyze: `minflux analyze` of a raw file with 10^6 CYCLE records (125 s of tracking
# at 8 kHz, blinking Brownian emitters written by build/tests/test_analyze_gen with the
# protocol library's encoder) on one core; fails above 30 s.
# Usage: tests/bench_analyze.sh [path/to/minflux] [path/to/test_analyze_gen] [records]
set -u
MF=${1:-${BUILD:-build}/minflux}
GEN=${2:-$(dirname "$MF")/tests/test_analyze_gen}
N=${3:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$GEN" "$tmp/run" scenario=track seed=1 cycles=$N background_hz=50e3 || exit 1
echo "raw file: $(stat -c %s "$tmp/run/raw.mfx") bytes, $N records"
start=$(date +%s.%N)
taskset -c 0 "$MF" analyze "$tmp/run" || { echo "FAIL bench_analyze: analyze failed"; exit 1; }
end=$(date +%s.%N)
el=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b - a}')
echo "bench_analyze: $N records analysed in $el s on one core (limit 30 s)"
awk -v e="$el" 'BEGIN{exit !(e < 30)}' || { echo "FAIL bench_analyze: $el s >= 30 s"; exit 1; }
