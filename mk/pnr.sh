#!/usr/bin/env bash
# Place and route with nextpnr-ice40, trying placement seeds two at a time (nextpnr is
# single-threaded; CI machines have two cores). The first seed of the list, in list order,
# that meets the clock target wins: its .asc goes to OUT and its log to LOG.
# Usage: pnr.sh JSON PCF FREQ_MHZ OUT.asc LOG "SEEDS..."
set -u
json=$1; pcf=$2; freq=$3; out=$4; log=$5; seeds=$6
dir=$(dirname "$out")
rm -f "$out"
set -- $seeds
while [ $# -gt 0 ]; do
  batch="$1"; shift
  if [ $# -gt 0 ]; then batch="$batch $1"; shift; fi
  for s in $batch; do
    echo "nextpnr-ice40 --up5k --package sg48 --freq $freq --seed $s"
    nextpnr-ice40 -q --up5k --package sg48 --json "$json" --pcf "$pcf" --freq "$freq" \
      --asc "$dir/pnr.s$s.asc" --log "$dir/nextpnr.s$s.log" --seed "$s" 2>/dev/null &
  done
  wait
  for s in $batch; do
    grep -E "Max frequency for clock +'clk'" "$dir/nextpnr.s$s.log" | tail -1 | sed "s/^/seed $s: /"
  done
  for s in $batch; do
    if [ -s "$dir/pnr.s$s.asc" ] && mk/report.sh "$dir/nextpnr.s$s.log" "$freq" >/dev/null; then
      mv "$dir/pnr.s$s.asc" "$out"; cp "$dir/nextpnr.s$s.log" "$log"
      echo "seed $s meets $freq MHz"
      rm -f "$dir"/pnr.s*.asc
      exit 0
    fi
  done
  last=$(echo $batch | awk '{print $NF}')
  cp "$dir/nextpnr.s$last.log" "$log"
  rm -f "$dir"/pnr.s*.asc
done
echo "bitstream: no seed of $seeds meets $freq MHz" >&2
mk/report.sh "$log" "$freq" || true
exit 1
