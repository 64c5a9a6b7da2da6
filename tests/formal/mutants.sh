#!/usr/bin/env bash
# The formal properties can fail: each mutant below breaks one safety mechanism of the RTL
# (in a copy under OUT) and the job of that block must then FAIL (BMC or k-induction).
# usage: tests/formal/mutants.sh OUTDIR GENDIR        (make formal-mutants, in make bench)
set -u
out=$1 gen=$2
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
# BLOCK|TOP DEFINE BMC IND|what it breaks|perl substitution on hdl/BLOCK.v
mutants=(
  "dac_spi|dac_spi FORMAL_DAC_SPI 8 4|x below min not clamped|s/wire \[15:0\] xc = x_lt_reg \? i_xmin/wire [15:0] xc = x_lt_reg ? x_raw_reg[15:0]/"
  "dac_spi|dac_spi FORMAL_DAC_SPI 8 4|window written during the compare: stale flags|s/cmp_reg <= i_win_wr;\n        sel_reg <= !i_win_wr;/cmp_reg <= 1'b0;\n        sel_reg <= 1'b1;/"
  "dac_spi|dac_spi FORMAL_DAC_SPI 8 4|y frame sends the unclamped y|s/\{~y_code_reg\[15\], y_code_reg\[14:0\]\}\); \/\/ store B/{~y_raw_reg[15], y_raw_reg[14:0]}); \/\/ store B/"
  "mux_sequencer|mux_sequencer FORMAL_MUX_SEQUENCER 10 4|gate opens before the delay|s/wire       move_done = tmr_last && dac_idle_q/wire       move_done = dac_idle_q/"
  "mux_sequencer|mux_sequencer FORMAL_MUX_SEQUENCER 10 4|gate opens while the DAC is busy|s/wire       move_done = tmr_last && dac_idle_q && !o_dac_req_reg;/wire       move_done = tmr_last && !o_dac_req_reg;/"
  "mux_sequencer|mux_sequencer FORMAL_MUX_SEQUENCER 10 4|abort leaves the gate open|s/      o_gate_reg <= 1'b0;\n      o_rec_reg <= 1'b0;/      o_rec_reg <= 1'b0;/"
  "host_link|host_link FORMAL_HOST_LINK 12 3|record room margin 1 byte short|s/fill_reg <= 10'd512 - 10'd44 - 10'd4;/fill_reg <= 10'd512 - 10'd41 - 10'd4;/"
  "host_link|host_link FORMAL_HOST_LINK 12 3|pop without a byte|s/wire      pop = fill_nz_reg && !pop_q_reg/wire      pop = !pop_q_reg/"
  "host_link|host_link FORMAL_HOST_LINK 12 3|a dropped record not counted|s/dropped_reg <= dropped_reg \+ 16'd1;/dropped_reg <= dropped_reg;/"
  "host_link|host_link FORMAL_HOST_LINK 12 3|no timeout of a half frame|s/rto_top_reg <= !rst && !rv_reg && rs_reg != R_HUNT && rto_reg == 14'h3FFE;/rto_top_reg <= 1'b0;/"
)
fails=0; n=0
for m in "${mutants[@]}"; do
  IFS='|' read -r block job what sub <<<"$m"
  read -r top def bmc ind <<<"$job"
  n=$((n+1)); d=$out/m$n; mkdir -p "$d"
  perl -0pe "$sub" "$root/hdl/$block.v" >"$d/$block.v"
  if cmp -s "$root/hdl/$block.v" "$d/$block.v"; then echo "formal mutant $n ($block: $what): NOT APPLIED"; fails=$((fails+1)); continue; fi
  if COVERS='^$' "$here/prove.sh" "mut$n" "$d" "$bmc" "$ind" 1 "$top" "$def" "" -I"$gen" -I"$root/hdl" "$d/$block.v" >"$d/out" 2>&1; then
    echo "formal mutant $n ($block: $what): NOT DETECTED"; fails=$((fails+1))
  else
    echo "formal mutant $n ($block: $what): detected ($(grep -m1 -oE 'Assert failed in [a-z_]*: [A-Za-z_0-9]*' "$d"/*.log | sed 's/.*: //'))"
  fi
done
echo "formal mutants: $n, $((n - fails)) detected"
[ $fails = 0 ]
