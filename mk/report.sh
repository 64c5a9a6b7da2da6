#!/usr/bin/env bash
# Prints device utilisation and the clock Fmax figures from a nextpnr-ice40 log (the
# post-route ones: the last of each). Usage: report.sh nextpnr.log TARGET_MHZ ;
# exits 1 when the 48 MHz system clock 'clk' misses the target.
set -eu
log=$1; target=$2
echo "iCE40UP5K-SG48 utilisation (nextpnr-ice40):"
for cell in ICESTORM_LC ICESTORM_RAM ICESTORM_DSP ICESTORM_SPRAM ICESTORM_PLL SB_IO SB_GB; do
  line=$(grep -E "^Info:[[:space:]]+$cell:" "$log" | tail -1 | sed -E 's/^Info:[[:space:]]+//' || true)
  [ -n "$line" ] && echo "  $line"
done
last() { grep "Max frequency for clock" "$log" | grep -F "'$1'" | tail -1 | sed -E 's/.*: ([0-9.]+) MHz.*/\1/'; }
for c in $(grep -oE "Max frequency for clock +'[^']+'" "$log" | sed -E "s/.*'([^']+)'/\1/" | grep -i apd | sort -u); do
  echo "  APD capture clock $c: Fmax $(last "$c") MHz (pulse rate limit of the Gray counter)"
done
f=$(last clk)
if [ -n "$f" ] && awk -v f="$f" -v t="$target" 'BEGIN { exit !(f >= t) }'; then verdict=PASS; else verdict=FAIL; fi
echo "Fmax ${f:-?} MHz (target $target MHz): $verdict"
[ "$verdict" = PASS ]
