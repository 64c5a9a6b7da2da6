`default_nettype none
// bayes_run: runs the Bayesian block (hdl/bayes.v) on the instrument. It holds the BAYES_*
// registers (0x60..0x70), drives the core's sequencer through its external-source ports
// (one exposure per multiplex cycle at the block's beam position, laser amplitude DAC = the
// block's code A; the block places inside the safe window taken at the start, the core
// keeps its clamp for a window changed during the run and the laser blanking), feeds each
// exposure's count back and frames one record per exposure (docs/protocol.md "Bayesian
// exposure records"). Not in the board image (area, docs/bayes.md).
//
// A localization: CTRL start with BAYES_MODE = 1 starts the block (prior, first placement);
// the sequencer starts at its first exposure and waits in its window (hold) for each next
// one. The block stopping (std target, photon budget) stops the sequencer; the sequencer
// going idle otherwise (CTRL stop or abort, emergency stop, watchdog, NCYCLES) aborts the
// block once the last count's update has been reported (or no count is coming).

module bayes_run (
  input  wire         clk,
  input  wire         rst,
  // register bus (as the core sees it)
  input  wire         i_wr_en,
  input  wire [7:0]   i_wr_addr,
  input  wire [31:0]  i_wr_data,
  input  wire [7:0]   i_rd_addr,
  output reg  [31:0]  o_rd_data_reg,   // data of i_rd_addr three cycles later (0 outside 0x6C..0x70)
  // core
  input  wire         i_start,         // the core's CTRL start strobe
  input  wire         i_running,       // the sequencer runs
  input  wire         i_seq_req,       // the sequencer requests a beam move (it took the centre)
  input  wire         i_rec_valid,     // counts of a cycle complete ...
  input  wire [12:0]  i_rec_n0,        // ... exposure 0, both channels
  input  wire [63:0]  i_win,           // the core's safe window {xmin, xmax, ymin, ymax}
  output wire         o_ext_on,        // BAYES_MODE bit0: the core's sequencer is ours
  output reg  [15:0]  o_ext_cx,        // beam of the exposure, signed DAC LSB
  output reg  [15:0]  o_ext_cy,
  output reg  [15:0]  o_ext_amp,       // laser code A
  output wire         o_ext_hold,      // no next exposure yet: hold in the window
  output reg          o_ext_start,     // start the sequencer (first exposure)
  output wire         o_ext_stop,      // the block stopped: end the run
  // records to the host link
  output reg          o_rec_valid,     // 1-cycle pulse: an exposure's update is reported
  output wire [15:0]  o_rec_amp,       // record est_x field
  output wire [15:0]  o_rec_lsig,      // record est_y field
  output wire [3:0]   o_rec_status,    // record flags bits 7:4
  input  wire [2:0]   i_cnt_rd_addr,   // record count fields 1..3 ...
  output reg  [23:0]  o_cnt_rd_data,   // ... one cycle later, in the photon counter's {ch1, ch0} order
  output wire         o_cnt_sel        // o_cnt_rd_data replaces the counter's (registered address != 0)
);
`include "minflux_regs.vh"

  initial begin
    if (REG_BAYES_ORIGIN != 8'h60 || REG_BAYES_DTAB != 8'h6B || REG_BAYES_STD != 8'h6F || REG_BAYES_MODE != 8'h70) begin
      $display("bayes_run: the register decode assumes BAYES_ORIGIN..STD at 0x60..0x6F, BAYES_MODE at 0x70"); $finish;
    end
  end

  // ---- registers (written while no localization runs; ignored otherwise) ----
  reg  [31:0] origin_reg, b_reg, nmax_reg, seed_reg;
  reg  [15:0] h0_reg, pa_reg, inv_s_reg, mu_reg, km_reg, amax_reg, lsig_stop_reg;
  reg         mode_reg;
  reg         we_reg, dt_we_reg;
  reg  [7:0]  wa_reg;
  reg  [31:0] wd_reg;
  reg         run_reg;        // a localization is active (block or sequencer busy)
  reg  [63:0] win_reg;        // the safe window at the start: the block places inside it
  wire        idle = !run_reg && !i_running;
  always @(posedge clk) begin
    we_reg <= i_wr_en && !rst && (i_wr_addr[7:4] == 4'h6 || i_wr_addr == REG_BAYES_MODE);
    wa_reg <= i_wr_addr;
    wd_reg <= i_wr_data;
    dt_we_reg <= i_wr_en && !rst && i_wr_addr == REG_BAYES_DTAB && idle;
    if (rst) begin
      mode_reg <= 1'b0;
      origin_reg <= 32'd0; h0_reg <= 16'd16; pa_reg <= 16'd0; inv_s_reg <= 16'd16384;
      b_reg <= 32'd16384; mu_reg <= 16'd0; km_reg <= 16'd0; amax_reg <= 16'd1;
      nmax_reg <= 32'd0; lsig_stop_reg <= 16'h8000; seed_reg <= 32'd1;
    end else if (we_reg && idle) begin
      case (wa_reg)
        REG_BAYES_ORIGIN:    origin_reg <= wd_reg;
        REG_BAYES_H0:        h0_reg <= wd_reg[15:0];
        REG_BAYES_PRIOR_A:   pa_reg <= wd_reg[15:0];
        REG_BAYES_INV_S:     inv_s_reg <= wd_reg[15:0];
        REG_BAYES_B:         b_reg <= wd_reg;
        REG_BAYES_MU:        mu_reg <= wd_reg[15:0];
        REG_BAYES_KM:        km_reg <= wd_reg[15:0];
        REG_BAYES_AMP_MAX:   amax_reg <= wd_reg[15:0];
        REG_BAYES_NMAX:      nmax_reg <= wd_reg;
        REG_BAYES_LSIG_STOP: lsig_stop_reg <= wd_reg[15:0];
        REG_BAYES_SEED:      seed_reg <= wd_reg;
        REG_BAYES_MODE:      mode_reg <= wd_reg[0];
        default: ;
      endcase
    end
  end
  assign o_ext_on = mode_reg;

  // ---- the block ----
  // In the Verilated virtual board only, the block is clocked only while BAYES_MODE is set, a
  // localization runs or a D table entry is written; idle, its logic would otherwise halve the
  // virtual board's speed in the other modes. The enable is taken over at the falling edge, so
  // the gated clock has no glitch; synthesis sees the plain clock.
  wire       bclk;
`ifdef VERILATOR
  reg        ben_n = 1'b0;
  always @(negedge clk) ben_n <= mode_reg || run_reg || dt_we_reg || rst;
  assign bclk = clk & ben_n;
`else
  assign bclk = clk;
`endif
  reg         blk_start, blk_abort, exp_rdy, cnt_v;
  reg  [12:0] cnt_n;
  wire        b_exp_valid, b_cnt_ready, b_busy, b_upd;
  wire [15:0] b_bx, b_by, b_amp;
  wire [3:0]  b_status, b_lev;
  wire [23:0] b_mx, b_my;
  wire [15:0] b_lsig;
  wire [31:0] b_exposures;
  /* verilator lint_off PINCONNECTEMPTY */
  bayes u_bayes (
    .clk(bclk), .rst(rst), .i_start(blk_start), .i_abort(blk_abort),
    .i_x0(origin_reg[15:0]), .i_y0(origin_reg[31:16]), .i_h0(h0_reg), .i_prior_a(pa_reg),
    .i_inv_s(inv_s_reg), .i_b32(b_reg), .i_mu(mu_reg), .i_km(km_reg), .i_amp_max(amax_reg),
    .i_nmax(nmax_reg), .i_lsig_stop(lsig_stop_reg), .i_seed(seed_reg),
    .i_xmin(win_reg[63:48]), .i_xmax(win_reg[47:32]), .i_ymin(win_reg[31:16]), .i_ymax(win_reg[15:0]),
    .i_dt_we(dt_we_reg), .i_dt_addr(wd_reg[22:16]), .i_dt_data(wd_reg[15:0]),
    .o_exp_valid(b_exp_valid), .i_exp_ready(exp_rdy), .o_beam_x(b_bx), .o_beam_y(b_by), .o_amp(b_amp),
    .i_cnt_valid(cnt_v), .o_cnt_ready(b_cnt_ready), .i_cnt(cnt_n),
    .o_busy(b_busy), .o_status(b_status), .o_upd(b_upd),
    .o_map_x(b_mx), .o_map_y(b_my), .o_lsig(b_lsig), .o_lev(b_lev),
    .o_photons(), .o_exposures(b_exposures));
  /* verilator lint_on PINCONNECTEMPTY */

  // ---- sequencing ----
  reg        pend_reg;      // an exposure is latched and not yet started by the sequencer
  reg        go_reg;        // the sequencer has been started for this localization
  reg        start_q;       // the cycle after the block's start (it is busy from then on)
  reg        upd_due;       // a count went to the block: its update is the next record
  reg  [4:0] idle_cnt;      // cycles the sequencer has been idle since it was started
  wire       fire = b_exp_valid && !pend_reg && run_reg && !exp_rdy;
  assign o_ext_hold = !pend_reg;
  assign o_ext_stop = run_reg && go_reg && !b_busy;
  always @(posedge clk) begin
    blk_start <= 1'b0;
    blk_abort <= 1'b0;
    exp_rdy <= 1'b0;
    o_ext_start <= 1'b0;
    o_rec_valid <= 1'b0;
    start_q <= blk_start;
    if (rst) begin
      run_reg <= 1'b0; pend_reg <= 1'b0; go_reg <= 1'b0; cnt_v <= 1'b0; upd_due <= 1'b0;
      idle_cnt <= 5'd0;
    end else begin
      if (i_start && mode_reg && idle) begin
        blk_start <= 1'b1;
        win_reg <= i_win;
        run_reg <= 1'b1; go_reg <= 1'b0; pend_reg <= 1'b0; cnt_v <= 1'b0; upd_due <= 1'b0;
      end
      // the block's next exposure: latched into the beam registers (one handshake cycle)
      if (fire) begin
        exp_rdy <= 1'b1;
        pend_reg <= 1'b1;
        o_ext_cx <= b_bx; o_ext_cy <= b_by; o_ext_amp <= b_amp;
      end
      if (run_reg && pend_reg && !go_reg && !i_running && !o_ext_start) begin
        o_ext_start <= 1'b1;
        go_reg <= 1'b1;
      end
      // the sequencer took the centre (it loads it at the cycle start, the move request
      // follows): hold it in the window after this exposure until the next is latched
      if (run_reg && go_reg && i_seq_req) pend_reg <= 1'b0;
      if (run_reg && go_reg && i_rec_valid) begin
        cnt_n <= i_rec_n0;
        cnt_v <= 1'b1;
      end
      if (cnt_v && b_cnt_ready) begin
        cnt_v <= 1'b0;
        upd_due <= 1'b1;
      end
      if (b_upd && upd_due) begin
        o_rec_valid <= 1'b1;
        upd_due <= 1'b0;
      end
      // the sequencer stopped for another reason: abort the block once nothing is in flight
      idle_cnt <= (run_reg && go_reg && !i_running) ? (idle_cnt == 5'd31 ? 5'd31 : idle_cnt + 5'd1) : 5'd0;
      if (run_reg && go_reg && b_busy && idle_cnt == 5'd31 && !cnt_v && !upd_due) blk_abort <= 1'b1;
      if (run_reg && !b_busy && !i_running && !blk_start && !start_q) begin
        run_reg <= 1'b0;
        pend_reg <= 1'b0;
      end
    end
  end

  // ---- record fields (stable from o_rec_valid until the next exposure's update) ----
  reg [15:0] lsig_reg;
  reg [3:0]  status_reg;
  reg [23:0] mx_reg, my_reg, ex_reg;
  always @(posedge clk)
    if (b_upd && upd_due) begin
      lsig_reg <= b_lsig; status_reg <= b_status; mx_reg <= b_mx; my_reg <= b_my;
      ex_reg <= {b_lev, 4'd0, b_exposures[15:0]};
    end
  assign o_rec_amp = o_ext_amp;
  assign o_rec_lsig = lsig_reg;
  assign o_rec_status = status_reg;
  // the link sends {d[11:0], d[23:12]} of the counter's word d: swap so the 24-bit value
  // arrives as written
  function [23:0] sw(input [23:0] v);
    sw = {v[11:0], v[23:12]};
  endfunction
  reg sel_reg;
  always @(posedge clk) begin
    sel_reg <= mode_reg && i_cnt_rd_addr != 3'd0;
    case (i_cnt_rd_addr)
      3'd1:    o_cnt_rd_data <= sw(mx_reg);
      3'd2:    o_cnt_rd_data <= sw(my_reg);
      default: o_cnt_rd_data <= sw(ex_reg);
    endcase
  end
  assign o_cnt_sel = sel_reg;

  // ---- register reads: three registered steps like the core's ----
  reg [7:0]  ra1, ra2;
  reg [31:0] rv2;
  always @(posedge clk) begin
    ra1 <= i_rd_addr;
    ra2 <= ra1;
    case (ra1)
      REG_BAYES_STATUS: rv2 <= {28'd0, b_status[3:1], run_reg};
      REG_BAYES_MAP_X:  rv2 <= {{8{b_mx[23]}}, b_mx};
      REG_BAYES_MAP_Y:  rv2 <= {{8{b_my[23]}}, b_my};
      REG_BAYES_STD:    rv2 <= {12'd0, b_lev, b_lsig};
      REG_BAYES_MODE:   rv2 <= {31'd0, mode_reg};
      default:          rv2 <= 32'd0;
    endcase
    o_rd_data_reg <= rv2;
  end
  wire unused_ok = &{1'b0, ra2, b_exposures[31:16]};
endmodule
