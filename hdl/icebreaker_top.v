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
  reg [16:0] por_reg = 17'd0;
  always @(posedge clk)
    if (!locked) por_reg <= 17'd0;
    else if (!por_reg[16]) por_reg <= por_reg + 17'd1;
  wire rst = !por_reg[16];

  wire [31:0] rd_data;
  wire        wr_en;
  wire [7:0]  addr;
  wire [31:0] wr_data;
  wire        est_valid, est_ok;
  wire [15:0] est_x, est_y;
  wire [31:0] rec_ts;
  wire [15:0] rec_cx, rec_cy, rec_sat;
  wire [191:0] rec_counts;
  wire        running;
  wire        estop = !ESTOP_N || !BTN_N;

  /* verilator lint_off PINCONNECTEMPTY */
  minflux_core u_core (
    .clk(clk), .rst(rst),
    .i_wr_en(wr_en), .i_wr_addr(addr), .i_wr_data(wr_data),
    .i_rd_addr(addr), .o_rd_data_reg(rd_data),
    .i_apd({APD2, APD1}), .i_estop(estop),
    .o_dac_sclk(DAC_SCLK), .o_dac_mosi(DAC_DIN), .o_dac_sync_n(DAC_SYNC_N),
    .o_laser_en(LASER_EN), .o_gate(GATE_OUT),
    .o_rec_valid(), .o_rec_ts(rec_ts), .o_rec_cx(rec_cx), .o_rec_cy(rec_cy),
    .o_rec_counts(rec_counts), .o_rec_sat(rec_sat),
    .o_est_valid_reg(est_valid), .o_est_x_reg(est_x), .o_est_y_reg(est_y), .o_est_ok_reg(est_ok),
    // observation ports exist for co-simulation only
    .o_dbg_apd_cnt(), .o_dbg_dac_req(), .o_dbg_dac_xy(), .o_dbg_exp(), .o_dbg_busy(),
    .o_dbg_xy_code(), .o_dbg_clamp(), .o_dbg_moved(),
    .o_running(running));
  /* verilator lint_on PINCONNECTEMPTY */

  wire       rx_valid, tx_valid, tx_ready;
  wire [7:0] rx_data, tx_data;
  /* verilator lint_off PINCONNECTEMPTY */
  uart_rx u_rx (.clk(clk), .rst(rst), .i_div(5'd16), .i_rx(RX),
                .m_valid_reg(rx_valid), .m_data_reg(rx_data), .o_frame_err_reg());
  /* verilator lint_on PINCONNECTEMPTY */
  uart_tx u_tx (.clk(clk), .rst(rst), .i_div(5'd16), .s_valid(tx_valid), .s_data(tx_data),
                .s_ready(tx_ready), .o_tx_reg(TX));
  debug_link u_link (
    .clk(clk), .rst(rst), .s_valid(rx_valid), .s_data(rx_data),
    .o_wr_en_reg(wr_en), .o_addr_reg(addr), .o_wr_data_reg(wr_data), .i_rd_data(rd_data),
    .i_rec_valid(est_valid), .i_est_x(est_x), .i_est_y(est_y), .i_est_ok(est_ok),
    .i_rec_ts(rec_ts), .i_rec_cx(rec_cx), .i_rec_cy(rec_cy),
    .i_rec_counts(rec_counts), .i_rec_sat(rec_sat),
    .m_valid(tx_valid), .m_data(tx_data), .m_ready(tx_ready));

  assign LEDR_N = !(estop || !locked);
  assign LEDG_N = !running;
endmodule
