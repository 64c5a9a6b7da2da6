#!/usr/bin/env bash
# bench_link: record throughput of the host link on the virtual board (the Verilated
# firmware with bit-level UART lines), against the theoretical maximum for the record size
# and rate: baud / 10 bits per byte / frame bytes / (1/agg cycles per record). Below capacity
# nothing may be lost; above it the firmware drops whole records and counts them (FIFO
# overflows = gaps); aggregation (agg cycles per record) and 6/12 Mbaud bring fast cycle
# rates back under the capacity.
# Usage: tests/bench_link.sh [path/to/minflux]
set -u
MF=${1:-${BUILD:-build}/minflux}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jget() { sed -n "s/^ *\"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1"; }
fails=0
printf "%-8s %-3s %-4s %-9s %-6s %-12s %-9s %-9s %-9s %-6s %-14s\n" cycle_hz K agg baud frame max_cycles_s rec_s cycles_s link_load gaps fifo_overflows
for spec in "8000 4 1 3" "9000 4 1 3" "9300 4 1 3" "12000 4 1 3" "16000 2 1 3" "6000 8 1 3" "8000 8 1 3" \
            "16000 4 2 3" "20000 4 4 3" "16000 4 1 6" "20000 4 1 12" "30000 2 1 12"; do
  set -- $spec
  hz=$1; k=$2; agg=$3; baud=$(( $4 * 1000000 ))
  frame=$((5 + 15 + 3 * k))
  max=$(awk -v f=$frame -v b=$baud -v a=$agg 'BEGIN{printf "%.0f", b/10/f*a}')
  out=$tmp/r$hz-$k-$agg-$4
  if ! "$MF" acquire --board sim --mode track --duration 0.4 --out "$out" cycle_hz=$hz k=$k agg=$agg baud=$baud delay_us=3.5 >/dev/null 2>"$tmp/err"; then
    echo "FAIL bench_link: acquire cycle_hz=$hz k=$k agg=$agg baud=$baud: $(tail -1 "$tmp/err")"; fails=$((fails+1)); continue
  fi
  S=$out/summary.json
  rec=$(jget "$S" records); gaps=$(jget "$S" gaps); ovf=$(jget "$S" fifo_overflows); run=$(jget "$S" cycles_run)
  dur=$(jget "$S" duration_s)
  rs=$(awk -v r="$rec" -v d="$dur" 'BEGIN{printf "%.0f", r/d}')
  cs=$(awk -v r="$rec" -v a="$agg" -v d="$dur" 'BEGIN{printf "%.0f", r*a/d}')
  load=$(awk -v h="$hz" -v m="$max" 'BEGIN{printf "%.2f", h/m}')
  printf "%-8s %-3s %-4s %-9s %-6s %-12s %-9s %-9s %-9s %-6s %-14s\n" "$hz" "$k" "$agg" "$baud" "$frame" "$max" "$rs" "$cs" "$load" "$gaps" "$ovf"
  # every cycle is accounted for: received or counted as dropped by the firmware
  if [ $(((rec + gaps) * agg)) != "$run" ] || [ "$gaps" != "$ovf" ]; then
    echo "FAIL bench_link: cycle_hz=$hz k=$k agg=$agg: ($rec records + $gaps gaps) x $agg vs $run cycles, $ovf overflows"; fails=$((fails+1))
  fi
  if awk -v l="$load" 'BEGIN{exit !(l < 1)}' && [ "$gaps" != 0 ]; then
    echo "FAIL bench_link: cycle_hz=$hz k=$k agg=$agg baud=$baud below capacity lost $gaps records"; fails=$((fails+1))
  fi
done
echo "bench_link: $fails failed"
[ $fails = 0 ]
