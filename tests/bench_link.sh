#!/usr/bin/env bash
# bench_link: record throughput of the host link at 3 Mbaud on the virtual board (the
# Verilated firmware with bit-level UART lines), against the theoretical maximum for the
# record size: 3e6 baud / 10 bits per byte / frame bytes. Below capacity nothing may be
# lost; above it the firmware drops whole records and counts them (FIFO overflows = gaps).
# Usage: tests/bench_link.sh [path/to/minflux]
set -u
MF=${1:-${BUILD:-build}/minflux}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jget() { sed -n "s/^ *\"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1"; }
fails=0
printf "%-8s %-4s %-12s %-12s %-10s %-12s %-8s %-14s\n" cycle_hz K frame_bytes max_rec_s rec_s link_load gaps fifo_overflows
for spec in "8000 4" "9000 4" "9300 4" "12000 4" "16000 2" "6000 8" "8000 8"; do
  set -- $spec
  hz=$1; k=$2
  frame=$((5 + 15 + 3 * k))
  max=$(awk -v f=$frame 'BEGIN{printf "%.0f", 3e6/10/f}')
  out=$tmp/r$hz-$k
  if ! "$MF" acquire --board sim --mode track --duration 0.4 --out "$out" cycle_hz=$hz k=$k delay_us=3.5 >/dev/null 2>"$tmp/err"; then
    echo "FAIL bench_link: acquire cycle_hz=$hz k=$k: $(tail -1 "$tmp/err")"; fails=$((fails+1)); continue
  fi
  S=$out/summary.json
  rec=$(jget "$S" records); gaps=$(jget "$S" gaps); ovf=$(jget "$S" fifo_overflows); run=$(jget "$S" cycles_run)
  dur=$(jget "$S" duration_s)
  rs=$(awk -v r="$rec" -v d="$dur" 'BEGIN{printf "%.0f", r/d}')
  load=$(awk -v h="$hz" -v m="$max" 'BEGIN{printf "%.2f", h/m}')
  printf "%-8s %-4s %-12s %-12s %-10s %-12s %-8s %-14s\n" "$hz" "$k" "$frame" "$max" "$rs" "$load" "$gaps" "$ovf"
  # every cycle is accounted for: received or counted as dropped by the firmware
  if [ $((rec + gaps)) != "$run" ] || [ "$gaps" != "$ovf" ]; then
    echo "FAIL bench_link: cycle_hz=$hz k=$k: $rec records + $gaps gaps vs $run cycles, $ovf overflows"; fails=$((fails+1))
  fi
  if awk -v l="$load" 'BEGIN{exit !(l < 1)}' && [ "$gaps" != 0 ]; then
    echo "FAIL bench_link: cycle_hz=$hz k=$k below capacity lost $gaps records"; fails=$((fails+1))
  fi
done
echo "bench_link: $fails failed"
[ $fails = 0 ]
