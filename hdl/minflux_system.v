`default_nettype none
// The whole firmware without the board specifics: core, UART and host link. The
// iCEBreaker top adds the PLL, power-on reset and pins; the virtual board (sim/vboard.cpp)
// Verilates this module directly at 48 MHz.

module minflux_system (
  input  wire        clk,
  input  wire        rst,
  input  wire        i_rx,            // UART from the host (idles high)
  output wire        o_tx,            // UART to the host
  input  wire [1:0]  i_apd,           // APD TTL pulses (asynchronous)
  input  wire        i_estop,         // emergency stop, active high (asynchronous)
  output wire        o_dac_sclk,
  output wire        o_dac_mosi,
  output wire        o_dac_sync_n,
  output wire        o_laser_en,
  output wire        o_gate,
  output wire        o_running,
  output wire        o_beam_gauss,    // tracking controller: 1 = Gaussian beam
  output wire        o_act405,        // tracking controller: 405 nm activation on
  // observation for the virtual board's truth log (unconnected on the board)
  output wire        o_dbg_rec_valid, // counts of a record complete (AGG cycles)
  output wire        o_dbg_cycle_end, // a multiplex cycle's last gate closed
  output wire [31:0] o_dbg_rec_ts,    // that cycle's start timestamp (from o_dbg_cycle_end on)
  output wire [4:0]  o_dbg_link_div   // UART clocks per bit (LINK_BAUD): the FT2232H follows it
);
`include "minflux_regs.vh"

  wire [31:0] rd_data;
  wire        wr_en;
  wire [7:0]  addr;
  wire [31:0] wr_data;
  wire        est_valid, est_ok;
  wire [15:0] est_x, est_y;
  wire [31:0] rec_ts;
  wire [15:0] rec_cx, rec_cy;
  wire        rec_sat;
  wire [2:0]  cnt_addr;
  wire [23:0] cnt_data;
  wire [3:0]  k;
  wire [3:0]  rec_state;
  wire        wdog;            // the host watchdog expired during a run

  /* verilator lint_off PINCONNECTEMPTY */
  minflux_core u_core (
    .clk(clk), .rst(rst),
    .i_wr_en(wr_en), .i_wr_addr(addr), .i_wr_data(wr_data),
    .i_rd_addr(addr), .o_rd_data_reg(rd_data),
    .i_apd(i_apd), .i_estop(i_estop), .i_wdog(wdog),
    .o_dac_sclk(o_dac_sclk), .o_dac_mosi(o_dac_mosi), .o_dac_sync_n(o_dac_sync_n),
    .o_laser_en(o_laser_en), .o_gate(o_gate),
    .o_rec_valid(o_dbg_rec_valid), .o_rec_ts(rec_ts), .o_rec_cx(rec_cx), .o_rec_cy(rec_cy),
    .i_cnt_rd_addr(cnt_addr), .o_cnt_rd_data(cnt_data), .o_rec_sat(rec_sat), .o_k(k),
    .o_est_valid_reg(est_valid), .o_est_x_reg(est_x), .o_est_y_reg(est_y), .o_est_ok_reg(est_ok),
    // observation ports exist for co-simulation only
    .o_dbg_apd_cnt(), .o_dbg_dac_req(), .o_dbg_dac_xy(), .o_dbg_exp(), .o_dbg_busy(),
    .o_dbg_xy_code(), .o_dbg_clamp(), .o_dbg_moved(), .o_dbg_cycle_end(o_dbg_cycle_end),
    .o_running(o_running), .o_rec_state(rec_state), .o_beam_gauss(o_beam_gauss),
    .o_act405(o_act405));
  /* verilator lint_on PINCONNECTEMPTY */
  assign o_dbg_rec_ts = rec_ts;

  wire       rx_valid, rx_err, tx_valid, tx_ready;
  wire [7:0] rx_data, tx_data;
  wire [4:0] link_div;
  assign o_dbg_link_div = link_div;
  uart_rx u_rx (.clk(clk), .rst(rst), .i_div(link_div), .i_rx(i_rx),
                .m_valid_reg(rx_valid), .m_data_reg(rx_data), .o_frame_err_reg(rx_err));
  uart_tx u_tx (.clk(clk), .rst(rst), .i_div(link_div), .s_valid(tx_valid), .s_data(tx_data),
                .s_ready(tx_ready), .o_tx_reg(o_tx));
  host_link u_link (
    .clk(clk), .rst(rst), .s_valid(rx_valid), .s_data(rx_data), .i_rx_err(rx_err),
    .o_wr_en_reg(wr_en), .o_addr_reg(addr), .o_wr_data_reg(wr_data), .i_rd_data(rd_data),
    .i_rec_valid(est_valid), .i_k(k), .i_state(rec_state),
    .i_rec_ts(rec_ts), .i_rec_cx(rec_cx), .i_rec_cy(rec_cy),
    .i_est_x(est_x), .i_est_y(est_y), .i_est_ok(est_ok),
    .i_rec_sat(rec_sat), .o_cnt_addr(cnt_addr), .i_cnt_data(cnt_data),
    .o_div_reg(link_div),
    .i_running(o_running), .o_wdog_reg(wdog),
    .m_valid(tx_valid), .m_data(tx_data), .m_ready(tx_ready));
endmodule
