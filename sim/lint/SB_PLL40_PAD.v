`default_nettype none
// Port-only stand-in of the iCE40 PLL primitive for `verilator --lint-only` of the board
// top (the real cell comes from Yosys' ice40 library at synthesis). Not simulated.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module SB_PLL40_PAD #(
  parameter FEEDBACK_PATH = "SIMPLE",
  parameter [3:0] DIVR = 4'd0,
  parameter [6:0] DIVF = 7'd0,
  parameter [2:0] DIVQ = 3'd0,
  parameter [2:0] FILTER_RANGE = 3'd0
) (
  input  wire PACKAGEPIN,
  output wire PLLOUTGLOBAL,
  output wire LOCK,
  input  wire RESETB,
  input  wire BYPASS
);
  assign PLLOUTGLOBAL = PACKAGEPIN;
  assign LOCK = RESETB;
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
