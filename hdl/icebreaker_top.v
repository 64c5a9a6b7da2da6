`default_nettype none
// iCEBreaker (iCE40UP5K-SG48) board top: 12 -> 48 MHz PLL, power-on reset, instrument
// pins (README "Wiring") and the UART to FT2232H channel B.

module icebreaker_top (
  input  wire CLK,        // 12 MHz, pin 35
  input  wire RX,         // FT2232H channel B -> FPGA, pin 6
  output wire TX,         // FPGA -> FT2232H channel B, pin 9
  input  wire BTN_N,      // user button, pin 10: held low = emergency stop
  output wire LEDR_N,     // red: emergency stop or PLL not locked
  output wire LEDG_N,     // green: sequencer running
  // PMOD 1A: DAC and laser control
  output wire DAC_SYNC_N, // P1A1
  output wire DAC_SCLK,   // P1A2
  output wire DAC_DIN,    // P1A3
  output wire LASER_EN,   // P1A4: EOM gate, high = laser on
  output wire GATE_OUT,   // P1A7: detection gate / sync out
  output wire ACT405,     // P1A8: 405 nm activation laser gate, high = on
  output wire BEAM_GAUSS, // P1A9: beam shape select, high = Gaussian (search, pre-localization)
  // PMOD 1B: detectors and interlock
  input  wire APD1,       // P1B1
  input  wire APD2,       // P1B2
  input  wire ESTOP_N     // P1B3: external emergency stop, low = stop (pull-up)
);
  wire clk, locked;
  // icepll -i 12 -o 48: DIVR 0, DIVF 63, DIVQ 4, FILTER_RANGE 1 (DESIGN.md section 3)
  SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR(4'b0000),
    .DIVF(7'b0111111),
    .DIVQ(3'b100),
    .FILTER_RANGE(3'b001)
  ) u_pll (
    .PACKAGEPIN(CLK),
    .PLLOUTGLOBAL(clk),
    .LOCK(locked),
    .RESETB(1'b1),
    .BYPASS(1'b0)
  );

  // Power-on reset: held until the PLL has locked and 2^16 cycles have passed.
  // rst is a register of its own (timing: it feeds logic all over the chip).
  reg [16:0] por_reg = 17'd0;
  reg        rst = 1'b1;
  always @(posedge clk) begin
    if (!locked) por_reg <= 17'd0;
    else if (!por_reg[16]) por_reg <= por_reg + 17'd1;
    rst <= !por_reg[16];
  end

  wire running;
  wire estop = !ESTOP_N || !BTN_N;

  /* verilator lint_off PINCONNECTEMPTY */
  minflux_system u_sys (
    .clk(clk), .rst(rst), .i_rx(RX), .o_tx(TX),
    .i_apd({APD2, APD1}), .i_estop(estop),
    .o_dac_sclk(DAC_SCLK), .o_dac_mosi(DAC_DIN), .o_dac_sync_n(DAC_SYNC_N),
    .o_laser_en(LASER_EN), .o_gate(GATE_OUT), .o_running(running),
    .o_beam_gauss(BEAM_GAUSS), .o_act405(ACT405),
    .o_dbg_rec_valid(), .o_dbg_cycle_end(), .o_dbg_rec_ts(), .o_dbg_link_div());
  /* verilator lint_on PINCONNECTEMPTY */

  assign LEDR_N = !(estop || !locked);
  assign LEDG_N = !running;
endmodule
