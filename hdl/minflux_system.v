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

  wire [31:0] rd_data, core_rd, by_rd;
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
    .i_rd_addr(addr), .o_rd_data_reg(core_rd),
    .i_apd(i_apd), .i_estop(i_estop), .i_wdog(wdog),
    .o_dac_sclk(o_dac_sclk), .o_dac_mosi(o_dac_mosi), .o_dac_sync_n(o_dac_sync_n),
    .o_laser_en(o_laser_en), .o_gate(o_gate),
    .o_rec_valid(core_rec_valid), .o_rec_ts(rec_ts), .o_rec_cx(rec_cx), .o_rec_cy(rec_cy),
    .i_cnt_rd_addr(cnt_addr), .o_cnt_rd_data(core_cnt), .o_rec_sat(rec_sat), .o_k(core_k),
    .o_est_valid_reg(est_valid), .o_est_x_reg(est_x), .o_est_y_reg(est_y), .o_est_ok_reg(est_ok),
    // observation ports exist for co-simulation only
    .o_dbg_apd_cnt(), .o_dbg_dac_req(seq_req), .o_dbg_dac_xy(), .o_dbg_exp(), .o_dbg_busy(),
    .o_dbg_xy_code(), .o_dbg_clamp(), .o_dbg_moved(), .o_dbg_cycle_end(o_dbg_cycle_end),
    .o_running(o_running), .o_rec_state(rec_state), .o_beam_gauss(o_beam_gauss),
    .o_act405(o_act405),
    .i_ext_on(ext_on), .i_ext_cx(ext_cx), .i_ext_cy(ext_cy), .i_ext_amp(ext_amp),
    .i_ext_hold(ext_hold), .i_ext_start(ext_start), .i_ext_stop(ext_stop),
    .o_start(core_start), .o_rec_n0(rec_n0), .o_win(win));
  /* verilator lint_on PINCONNECTEMPTY */
  assign o_dbg_rec_ts = rec_ts;
  assign o_dbg_rec_valid = core_rec_valid;

  // ---- Bayesian block (issue #6; docs/bayes.md): on the virtual board, not in the board
  // image (MINFLUX_NO_BAYES, mk/board.mk: it does not fit the UP5K next to the rest) ----
  wire        core_rec_valid, core_start, seq_req;
  wire [12:0] rec_n0;
  wire [63:0] win;
  wire [23:0] core_cnt, by_cnt;
  wire [3:0]  core_k;
  wire        ext_on, ext_hold, ext_start, ext_stop, by_rec, by_cnt_sel;
  wire [15:0] ext_cx, ext_cy, ext_amp, by_lsig, by_amp_w;
  wire [3:0]  by_status;
`ifdef MINFLUX_NO_BAYES
  assign {ext_on, ext_hold, ext_start, ext_stop, by_rec, by_cnt_sel} = 6'd0;
  assign {ext_cx, ext_cy, ext_amp, by_lsig, by_amp_w, by_status} = 84'd0;
  assign by_cnt = 24'd0;
  assign by_rd = 32'd0;
  wire unused_by = &{1'b0, core_start, seq_req, rec_n0, win};
`else
  bayes_run u_bayes_run (
    .clk(clk), .rst(rst),
    .i_wr_en(wr_en), .i_wr_addr(addr), .i_wr_data(wr_data),
    .i_rd_addr(addr), .o_rd_data_reg(by_rd),
    .i_start(core_start), .i_running(o_running), .i_seq_req(seq_req),
    .i_rec_valid(core_rec_valid), .i_rec_n0(rec_n0), .i_win(win),
    .o_ext_on(ext_on), .o_ext_cx(ext_cx), .o_ext_cy(ext_cy), .o_ext_amp(ext_amp),
    .o_ext_hold(ext_hold), .o_ext_start(ext_start), .o_ext_stop(ext_stop),
    .o_rec_valid(by_rec), .o_rec_amp(by_amp_w), .o_rec_lsig(by_lsig), .o_rec_status(by_status),
    .i_cnt_rd_addr(cnt_addr), .o_cnt_rd_data(by_cnt), .o_cnt_sel(by_cnt_sel));
`endif
  assign rd_data  = core_rd | by_rd;      // each returns 0 outside its registers
  assign cnt_data = by_cnt_sel ? by_cnt : core_cnt;
  // in Bayes mode the link frames the block's records (K = 4 fields, docs/protocol.md)
  wire        l_rec_valid = ext_on ? by_rec : est_valid;
  assign      k = ext_on ? 4'd4 : core_k;
  wire [3:0]  l_state = ext_on ? by_status : rec_state;
  wire [15:0] l_est_x = ext_on ? by_amp_w : est_x;
  wire [15:0] l_est_y = ext_on ? by_lsig : est_y;
  wire        l_est_ok = ext_on || est_ok;

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
    .i_rec_valid(l_rec_valid), .i_k(k), .i_state(l_state), .i_flags_lo({1'b0, ext_on}),
    .i_rec_ts(rec_ts), .i_rec_cx(rec_cx), .i_rec_cy(rec_cy),
    .i_est_x(l_est_x), .i_est_y(l_est_y), .i_est_ok(l_est_ok),
    .i_rec_sat(rec_sat), .o_cnt_addr(cnt_addr), .i_cnt_data(cnt_data),
    .o_div_reg(link_div),
    .i_running(o_running), .o_wdog_reg(wdog),
    .m_valid(tx_valid), .m_data(tx_data), .m_ready(tx_ready));
endmodule
