`default_nettype none
// minflux core: register file, timestamp, APD capture, photon counters, multiplex
// sequencer and DAC driver. Vendor-free; the board top adds PLL, pins and the host link.

module minflux_core (
  input  wire         clk,
  input  wire         rst,
  // register bus (32-bit words)
  input  wire         i_wr_en,
  input  wire [7:0]   i_wr_addr,
  input  wire [31:0]  i_wr_data,
  input  wire [7:0]   i_rd_addr,
  output reg  [31:0]  o_rd_data_reg,   // data of i_rd_addr, three cycles later
  // instrument pins
  input  wire [1:0]   i_apd,           // APD TTL pulses (asynchronous)
  input  wire         i_estop,         // emergency stop, active high (asynchronous)
  input  wire         i_wdog,          // host watchdog expired during a run (1-cycle pulse, host_link)
  output wire         o_dac_sclk,
  output wire         o_dac_mosi,
  output wire         o_dac_sync_n,
  output wire         o_laser_en,      // EOM gate: laser on only inside the detection gate
  output wire         o_gate,          // detection gate (sync/trigger output)
  // count records: one per multiplex cycle; the estimate follows a fixed latency later
  output wire         o_rec_valid,     // counts complete (record fields below valid)
  output wire [31:0]  o_rec_ts,        // cycle start timestamp (clk cycles)
  output wire [15:0]  o_rec_cx,        // centre of that cycle, signed DAC LSB
  output wire [15:0]  o_rec_cy,
  input  wire [2:0]   i_cnt_rd_addr,   // counts of the record: exposure ...
  output wire [23:0]  o_cnt_rd_data,   // ... ch1 in [23:12], ch0 in [11:0], one cycle later
  output wire         o_rec_sat,       // a count of the record saturated
  output wire [3:0]   o_k,             // K register (exposures per cycle, as written)
  output reg          o_est_valid_reg, // 1-cycle pulse: estimate of the last record ready
  output reg  [15:0]  o_est_x_reg,     // live mLMS, Q11.5 nm relative to the centre
  output reg  [15:0]  o_est_y_reg,
  output reg          o_est_ok_reg,    // N > 0 and N >= EST_THRESH
  // observation ports for co-simulation (left unconnected on the board)
  output wire [7:0]   o_dbg_apd_cnt,   // apd_capture outputs, ch1 in [7:4]
  output wire         o_dbg_dac_req,
  output wire [33:0]  o_dbg_dac_xy,    // sequencer x in [16:0], y in [33:17]
  output wire [2:0]   o_dbg_exp,
  output wire         o_dbg_busy,
  output wire [31:0]  o_dbg_xy_code,   // clamped DAC x in [15:0], y in [31:16]
  output wire [1:0]   o_dbg_clamp,
  output wire [63:0]  o_win,           // safe window {SAFE_XMIN, XMAX, YMIN, YMAX} (Bayesian block)
  output wire         o_dbg_moved,     // dac_spi selected the clamped codes of a move
  output wire         o_dbg_cycle_end, // a cycle's last gate closed (every cycle, AGG or not);
                                       // o_rec_ts is that cycle's start from then on
  output wire         o_running,
  // tracking controller (issue #5): record state, beam type and 405 nm activation pins
  output wire [3:0]   o_rec_state,     // controller state of the record (flags bits 7:4; bit 3: imaging stage end)
  output wire         o_beam_gauss,    // 1 = Gaussian beam (search, pre-localization)
  output wire         o_act405,        // 405 nm activation laser on
  // external beam source (the Bayesian block, hdl/bayes_run.v; tied off without it): while
  // i_ext_on (sampled while idle) the sequencer runs one exposure per cycle at (i_ext_cx,
  // i_ext_cy) with laser code i_ext_amp, AGG taken as 1, starts on i_ext_start instead of
  // CTRL start, holds in its window on i_ext_hold and ends the run on i_ext_stop
  input  wire         i_ext_on,
  input  wire [15:0]  i_ext_cx,
  input  wire [15:0]  i_ext_cy,
  input  wire [15:0]  i_ext_amp,
  input  wire         i_ext_hold,
  input  wire         i_ext_start,
  input  wire         i_ext_stop,
  output wire         o_start,         // CTRL start strobe
  output wire [12:0]  o_rec_n0         // exposure 0 of the record, both channels (with o_rec_valid)
);
`include "minflux_regs.vh"

  initial begin
    if (REG_OFFSET0[2:0] != 3'd0 || K_MAX != 8) begin
      $display("minflux_core: the offset table must start 8-aligned and hold 8 entries"); $finish;
    end
    if (REG_SAFE_XMIN[1:0] != 2'd0 || REG_SAFE_YMAX != REG_SAFE_XMIN + 8'd3) begin
      $display("minflux_core: the safe window registers must fill an aligned group of 4"); $finish;
    end
    if (REG_NCYCLES != 8'h04 || REG_GATE != 8'h07 || REG_WIN != 8'h08 || REG_SAFE_YMAX != 8'h0F) begin
      $display("minflux_core: the write decode assumes NCYCLES..GATE at 0x04..0x07, WIN..SAFE_YMAX at 0x08..0x0F"); $finish;
    end
    if (REG_AGG != 8'h18 || REG_PHOTON_STOP[7:3] != 5'd3 || REG_RUN_PHOTONS[7:3] != 5'd3) begin
      $display("minflux_core: the write decode assumes AGG, PHOTON_STOP and RUN_PHOTONS in the group 0x18..0x1F"); $finish;
    end
    if (RUN_PH_W < 13) begin
      $display("minflux_core: the PHOTON_STOP compare splits RUN_PH_W at bit 12"); $finish;
    end
    if (REG_EST_K != 8'h40 || REG_EST_G != 8'h47) begin
      $display("minflux_core: the estimator registers must fill 0x40..0x47"); $finish;
    end
  end

  // ---- register file ----
  reg [31:0] ncycles_reg;
  reg [3:0]  k_reg;
  reg [15:0] delay_reg, gate_reg, win_reg;
  reg        delay_le1_reg, gate_le1_reg, win_le1_reg;   // the value is <= 1 (0 acts as 1)
  reg [15:0] cx_reg, cy_reg, amp_reg;
  reg [15:0] xmin_reg, xmax_reg, ymin_reg, ymax_reg;
  reg [31:0] off0_reg;               // offset table entry 0 (the table itself: off_mem below)
  reg [31:0] off4_reg;               // entry 4: the first pre-localization exposure
  reg [3:0]  sticky_reg;             // clamp x, clamp y, count saturated, est. write ignored
  reg [1:0]  est_k_reg;
  reg [14:0] est_thresh_reg;
  reg [15:0] est_L_reg, est_F_reg, est_b0_reg, est_b1_reg, est_b2_reg, est_G_reg;
  reg [31:0] ts_reg;
  reg [7:0]  agg_reg;                // AGG: cycles per record
  reg [RUN_PH_W-1:0] pstop_reg;      // PHOTON_STOP: the run's photon budget, 0 = off
  wire [RUN_PH_W-1:0] run_ph;        // RUN_PHOTONS (photon counter)
  wire [RUN_PH_W-1:0] run_ph_raw;    // its count without the saturation ...
  wire                run_ph_ovf;    // ... and the sticky carry (run_ph = all ones)
  // Gaussian 1D MLE and tracking controller outputs (instances below)
  wire        g_valid, g_ok;
  wire [15:0] g_x, g_y;
  wire        ctl_mode, ctl_hold, ctl_dwell_le1, ctl_pgate_le1;
  wire [2:0]  ctl_state;
  wire        ctl_img, ctl_stage, ctl_send;
  wire [1:0]  ctl_last, ctl_shift;
  wire [15:0] ctl_F;
  wire [12:0] ctl_acc0, ctl_acc1, ctl_acc2, ctl_acc3;
  wire [15:0] ctl_cx, ctl_cy, ctl_dwell, ctl_pgate, ctl_step, ctl_step3;
  wire [14:0] ctl_pthr;

  // Emergency stop: synchronized; while active the sequencer is held idle (laser off).
  reg [1:0] estop_sync_reg = 2'b00;
  always @(posedge clk) estop_sync_reg <= {estop_sync_reg[0], i_estop};
  wire estop = estop_sync_reg[1];

  // Bus writes are registered once before they take effect (timing): a write presented in
  // cycle t acts at the edge ending cycle t+1. The address group is decoded into the
  // *_we_reg flags in the first cycle; the word within the group (wa_reg) in the second.
  reg [2:0]  wa_reg;
  reg [31:0] wd_reg;
  reg        win_wr_reg = 1'b0;   // == write to a SAFE_* register, decoded early
  reg [2:0]  ctrl_reg = 3'd0;     // == CTRL bits start/stop/abort of a CTRL write, decoded early
  reg        off_we_reg = 1'b0;   // == write to the offset table (OFFSET0 + 0..7), decoded early
  reg        est_we_reg = 1'b0;   // == write to an estimator register (0x40..0x47), decoded early
  reg [1:0]  cfg_we_reg = 2'b00;  // == write to 0x00..0x07 / 0x08..0x0F, decoded early
  reg        g3_we_reg = 1'b0;    // == write to 0x18..0x1F, decoded early
  reg        ctl_we_reg = 1'b0;   // == write to a controller register (0x50..0x5F), decoded early
  reg        off4_we_reg = 1'b0;  // == write to OFFSET0 + 4 (pre-localization entry 0), decoded early
  reg        wa3_reg;
  reg        off0_we_reg = 1'b0;  // == write to OFFSET0, decoded early
  always @(posedge clk) begin
    off_we_reg <= i_wr_en && !rst && i_wr_addr[7:3] == REG_OFFSET0[7:3];
    est_we_reg <= i_wr_en && !rst && i_wr_addr[7:3] == REG_EST_K[7:3];
    cfg_we_reg <= {i_wr_en && !rst && i_wr_addr[7:3] == 5'd1, i_wr_en && !rst && i_wr_addr[7:3] == 5'd0};
    g3_we_reg <= i_wr_en && !rst && i_wr_addr[7:3] == 5'd3;
    off0_we_reg <= i_wr_en && !rst && i_wr_addr == REG_OFFSET0;
    off4_we_reg <= i_wr_en && !rst && i_wr_addr == REG_OFFSET0 + CTL_PRE_BASE[7:0];
    ctl_we_reg <= i_wr_en && !rst && i_wr_addr[7:4] == REG_CTL_MODE[7:4];
    wa3_reg <= i_wr_addr[3];
    ctrl_reg <= (i_wr_en && !rst && i_wr_addr == REG_CTRL) ? i_wr_data[2:0] : 3'd0;
    win_wr_reg <= i_wr_en && !rst && i_wr_addr[7:2] == REG_SAFE_XMIN[7:2];   // 0x0C..0x0F
    wa_reg <= i_wr_addr[2:0];
    wd_reg <= i_wr_data;
  end

  wire start = ctrl_reg[0];
  reg  ext_on_reg = 1'b0;            // i_ext_on, sampled while the sequencer is idle
  always @(posedge clk)
    if (rst) ext_on_reg <= 1'b0;
    else if (!o_running) ext_on_reg <= i_ext_on;
  wire abort = ctrl_reg[2] || estop || wd_abort;
  // Aggregation (AGG = M): a record sums the counts of M cycles. agg_cnt_reg counts the
  // cycles of the record in progress, agg_last_reg says the cycle running is its last (a
  // registered compare, one edge behind agg_cnt_reg and AGG). A stop is held until a record
  // is complete (its last gate closed), so a run always ends with a whole record: it
  // reaches the sequencer when idle, at the last gate of a record, or in the window after.
  reg  [7:0] agg_cnt_reg = 8'd0;
  reg        agg_last_reg = 1'b1;
  reg        agg_keep_reg = 1'b0;
  reg        stop_hold_reg = 1'b0;
  reg        rec_win_reg = 1'b0;    // a record completed and no gate has opened since
  reg        ph_hit_reg = 1'b0;     // the run's photons reached PHOTON_STOP (!= 0)
  reg        ph_hi_gt_reg = 1'b0, ph_hi_eq_reg = 1'b0, ph_lo_ge_reg = 1'b0, ph_ovf_reg = 1'b0, ph_nz_reg = 1'b0;
  wire [7:0] agg_m = (agg_reg == 8'd0 || ext_on_reg) ? 8'd1 : agg_reg;
  reg  [7:0] agg_m1_reg = 8'd0;     // agg_m - 1, registered (timing: AGG reaches agg_last_reg two edges on)
  reg  [RUN_PH_W-1:0] run_ph_q = {RUN_PH_W{1'b0}};   // RUN_PHOTONS as read: one edge behind (timing)
  wire       rec_end = seq_rec && agg_last_reg;
  wire       stop  = (ctrl_reg[1] || stop_hold_reg || (ext_on_reg && i_ext_stop)) && (!o_running || rec_win_reg || rec_end);

  wire        dac_busy, dac_moved, clamp_x, clamp_y;
  wire [15:0] x_code, y_code;
  wire        seq_req, seq_gate, seq_rec;
  wire [16:0] seq_x, seq_y;
  wire [2:0]  seq_exp;
  wire [31:0] seq_done;

  always @(posedge clk) begin
    ts_reg <= rst ? 32'd0 : ts_reg + 32'd1;
    if (rst) begin
      ncycles_reg <= 32'd0;
      k_reg       <= 4'd4;
      delay_reg   <= 16'd355;   // 7.4 us: seed 003 section 6.4.3 tracking timing
      gate_reg    <= 16'd1114;  // 23.2 us
      win_reg     <= 16'd95;    // 2 us window incl. the START cycle
      delay_le1_reg <= 1'b0;
      gate_le1_reg  <= 1'b0;
      win_le1_reg   <= 1'b0;
      cx_reg      <= 16'd0;
      cy_reg      <= 16'd0;
      amp_reg     <= 16'd0;
      xmin_reg    <= 16'h8000;
      xmax_reg    <= 16'h7FFF;
      ymin_reg    <= 16'h8000;
      ymax_reg    <= 16'h7FFF;
      sticky_reg  <= 4'd0;
      // estimator parameters come from the host (host/est_regs.c converts from nm);
      // reset: mLMS k = 1 with zero gains (estimates 0), reaction threshold 6 counts
      est_k_reg      <= 2'd1;
      est_thresh_reg <= 15'd6;
      est_L_reg      <= 16'd0;
      est_F_reg      <= 16'd0;
      est_b0_reg     <= 16'd0;
      est_b1_reg     <= 16'd0;
      est_b2_reg     <= 16'd0;
      est_G_reg      <= 16'd0;
      agg_reg        <= 8'd1;
      pstop_reg      <= {RUN_PH_W{1'b0}};
    end else begin
      // an event in the same cycle as a clear stays set
      sticky_reg <= (sticky_reg & ~((cfg_we_reg[0] && wa_reg[2:0] == REG_STATUS[2:0]) ? {wd_reg[5], wd_reg[3:1]} : 4'd0))
                    | {(est_we_reg || ctl_we_reg) && o_running,   // 0x40..0x47, 0x50..0x5F
                       rec_valid && rec_sat, dac_moved && clamp_y, dac_moved && clamp_x};
      begin
        // the address group is decoded a cycle early (cfg_we_reg), the word within it here
        if (cfg_we_reg[0])
          case (wa_reg[2:0])
            REG_NCYCLES[2:0]:   ncycles_reg <= wd_reg;
            REG_K[2:0]:         k_reg <= wd_reg[3:0];
            REG_DELAY[2:0]:     begin delay_reg <= wd_reg[15:0]; delay_le1_reg <= wd_reg[15:1] == 15'd0; end
            REG_GATE[2:0]:      begin gate_reg <= wd_reg[15:0]; gate_le1_reg <= wd_reg[15:1] == 15'd0; end
            default: ;
          endcase
        if (cfg_we_reg[1])
          case (wa_reg[2:0])
            REG_WIN[2:0]:       begin win_reg <= wd_reg[15:0]; win_le1_reg <= wd_reg[15:1] == 15'd0; end
            REG_CENTRE_X[2:0]:  cx_reg <= wd_reg[15:0];
            REG_CENTRE_Y[2:0]:  cy_reg <= wd_reg[15:0];
            REG_LASER_AMP[2:0]: amp_reg <= wd_reg[15:0];
            REG_SAFE_XMIN[2:0]: xmin_reg <= wd_reg[15:0];
            REG_SAFE_XMAX[2:0]: xmax_reg <= wd_reg[15:0];
            REG_SAFE_YMIN[2:0]: ymin_reg <= wd_reg[15:0];
            default:            ymax_reg <= wd_reg[15:0];   // REG_SAFE_YMAX
          endcase
        if (g3_we_reg && wa_reg[2:0] == REG_AGG[2:0]) agg_reg <= wd_reg[7:0];
        if (g3_we_reg && wa_reg[2:0] == REG_PHOTON_STOP[2:0]) pstop_reg <= wd_reg[RUN_PH_W-1:0];
        if (off0_we_reg) off0_reg <= wd_reg;
        if (off4_we_reg) off4_reg <= wd_reg;
        // Estimator parameters change only while the sequencer is idle (an estimate in
        // flight reads them for 14 cycles); writes during a run are ignored, STATUS bit 5.
        if (est_we_reg && !o_running) begin
          case (wa_reg[2:0])
            REG_EST_K[2:0]:      est_k_reg <= wd_reg[1:0];
            REG_EST_THRESH[2:0]: est_thresh_reg <= wd_reg[14:0];
            REG_EST_L[2:0]:      est_L_reg <= wd_reg[15:0];
            REG_EST_F[2:0]:      est_F_reg <= wd_reg[15:0];
            REG_EST_BETA0[2:0]:  est_b0_reg <= wd_reg[15:0];
            REG_EST_BETA1[2:0]:  est_b1_reg <= wd_reg[15:0];
            REG_EST_BETA2[2:0]:  est_b2_reg <= wd_reg[15:0];
            default:             est_G_reg <= wd_reg[15:0];   // REG_EST_G
          endcase
        end
      end
    end
  end

  // Register reads in three registered steps (timing): the address, then an 8:1 mux
  // inside each address group (0x00, 0x08, 0x10, 0x18, 0x40, 0x50, 0x58; the offset
  // table at 0x20 is write-only), then the group select.
  function [31:0] rd_word(input [7:0] a);
    begin
      case (a)
        REG_ID:          rd_word = DESIGN_ID;
        REG_VERSION:     rd_word = DESIGN_VERSION;
        REG_STATUS:      rd_word = {25'd0, wd_sticky_reg, sticky_reg[3], estop, sticky_reg[2:0], o_running};
        REG_NCYCLES:     rd_word = ncycles_reg;
        REG_K:           rd_word = {28'd0, k_reg};
        REG_DELAY:       rd_word = {16'd0, delay_reg};
        REG_GATE:        rd_word = {16'd0, gate_reg};
        REG_WIN:         rd_word = {16'd0, win_reg};
        REG_CENTRE_X:    rd_word = {16'd0, cx_reg};
        REG_CENTRE_Y:    rd_word = {16'd0, cy_reg};
        REG_LASER_AMP:   rd_word = {16'd0, amp_reg};
        REG_SAFE_XMIN:   rd_word = {16'd0, xmin_reg};
        REG_SAFE_XMAX:   rd_word = {16'd0, xmax_reg};
        REG_SAFE_YMIN:   rd_word = {16'd0, ymin_reg};
        REG_SAFE_YMAX:   rd_word = {16'd0, ymax_reg};
        REG_CYCLES_DONE: rd_word = seq_done;
        REG_TIMESTAMP:   rd_word = ts_reg;
        REG_AGG:         rd_word = {24'd0, agg_reg};
        REG_PHOTON_STOP: rd_word = {{(32-RUN_PH_W){1'b0}}, pstop_reg};
        REG_RUN_PHOTONS: rd_word = {{(32-RUN_PH_W){1'b0}}, run_ph_q};
        REG_EST_K:       rd_word = {30'd0, est_k_reg};
        REG_EST_THRESH:  rd_word = {17'd0, est_thresh_reg};
        REG_EST_L:       rd_word = {16'd0, est_L_reg};
        REG_EST_F:       rd_word = {16'd0, est_F_reg};
        REG_EST_BETA0:   rd_word = {16'd0, est_b0_reg};
        REG_EST_BETA1:   rd_word = {16'd0, est_b1_reg};
        REG_EST_BETA2:   rd_word = {16'd0, est_b2_reg};
        REG_EST_G:       rd_word = {16'd0, est_G_reg};
        REG_CTL_MODE:    rd_word = {28'd0, ctl_last, ctl_img, ctl_mode};
        REG_CTL_STATE:   rd_word = {29'd0, ctl_state};
        default:  // includes the offset table: write-only (its read-back mux cost ~130 LCs)
          rd_word = 32'd0;
      endcase
    end
  endfunction

  reg [7:0]  ra_reg;
  reg [31:0] rd_g0_reg, rd_g1_reg, rd_g2_reg, rd_g3_reg, rd_g8_reg, rd_g10_reg, rd_g11_reg;
  reg [4:0]  rd_grp_reg;
  always @(posedge clk) begin
    ra_reg <= i_rd_addr;
    rd_g0_reg <= rd_word({5'd0, ra_reg[2:0]});
    rd_g1_reg <= rd_word({5'd1, ra_reg[2:0]});
    rd_g2_reg <= rd_word({5'd2, ra_reg[2:0]});
    rd_g3_reg <= rd_word({5'd3, ra_reg[2:0]});
    rd_g8_reg <= rd_word({5'd8, ra_reg[2:0]});
    rd_g10_reg <= rd_word({5'd10, ra_reg[2:0]});
    rd_g11_reg <= rd_word({5'd11, ra_reg[2:0]});
    rd_grp_reg <= ra_reg[7:3];
    case (rd_grp_reg)
      5'd0:    o_rd_data_reg <= rd_g0_reg;
      5'd1:    o_rd_data_reg <= rd_g1_reg;
      5'd2:    o_rd_data_reg <= rd_g2_reg;
      5'd3:    o_rd_data_reg <= rd_g3_reg;
      5'd8:    o_rd_data_reg <= rd_g8_reg;
      5'd10:   o_rd_data_reg <= rd_g10_reg;
      5'd11:   o_rd_data_reg <= rd_g11_reg;
      default: o_rd_data_reg <= 32'd0;
    endcase
  end

  // Offset table in a RAM (one EBR pair on the board): written from the bus, read by the
  // sequencer one entry ahead through a registered read port. Zero at configuration; a
  // reset leaves it alone (the host writes the pattern before every run).
  (* ram_style = "block" *) reg [31:0] off_mem [0:K_MAX-1];
  wire [2:0]  off_raddr;
  reg  [31:0] off_rd_reg;
  integer oi;
  initial for (oi = 0; oi < K_MAX; oi = oi + 1) off_mem[oi] = 32'd0;
  initial off0_reg = 32'd0;
  initial off4_reg = 32'd0;
  // The controller's patterns: pre-localization reads entries 4..7; the search pattern
  // (4 raster pixels along x: 0, s, 2s, 3s) is generated, read with the same latency.
  wire        pat_pre = ctl_mode && ctl_state == CTL_ST_PRELOC[2:0];
  wire        pat_srch = ctl_mode && ctl_state == CTL_ST_SEARCH[2:0];
  reg  [15:0] srch_rd_reg;
  reg         pat_srch_q;
  always @(posedge clk) begin
    if (off_we_reg && !rst) off_mem[wa_reg[2:0]] <= wd_reg;
    off_rd_reg <= off_mem[pat_pre ? {1'b1, off_raddr[1:0]} : off_raddr];
    case (off_raddr[1:0])
      2'd0:    srch_rd_reg <= 16'd0;
      2'd1:    srch_rd_reg <= ctl_step;
      2'd2:    srch_rd_reg <= {ctl_step[14:0], 1'b0};
      default: srch_rd_reg <= ctl_step3;
    endcase
    pat_srch_q <= pat_srch;
  end
  // an imaging stage: the pattern shrinks by its L shift (x and y shifted arithmetically)
  function [31:0] off_shr(input [31:0] w, input [1:0] sh);
    off_shr = {$signed(w[31:16]) >>> sh, $signed(w[15:0]) >>> sh};
  endfunction
  wire [1:0]  off_sh = ctl_stage ? ctl_shift : 2'd0;
  wire [31:0] off_next = pat_srch_q ? {16'd0, srch_rd_reg} : off_shr(off_rd_reg, off_sh);
  wire [31:0] off_first = (pat_srch || ext_on_reg) ? 32'd0 : pat_pre ? off4_reg : off_shr(off0_reg, off_sh);
  // sequencer parameters: the controller's while it drives the run
  wire [3:0]  seq_k = ext_on_reg ? 4'd1 : (pat_srch || pat_pre) ? 4'd4 : k_reg;
  wire [15:0] seq_gate_len = pat_srch ? ctl_dwell : pat_pre ? ctl_pgate : gate_reg;
  wire        seq_gate_le1 = pat_srch ? ctl_dwell_le1 : pat_pre ? ctl_pgate_le1 : gate_le1_reg;
  wire [15:0] seq_cx = ext_on_reg ? i_ext_cx : ctl_mode ? ctl_cx : cx_reg;
  wire [15:0] seq_cy = ext_on_reg ? i_ext_cy : ctl_mode ? ctl_cy : cy_reg;
  wire        seq_hold = ctl_hold || (ext_on_reg && i_ext_hold);
  wire        seq_start = ext_on_reg ? i_ext_start : start;

  // ---- datapath ----
  wire [APD_GRAY_W-1:0] cnt0, cnt1;
  apd_capture #(.GRAY_W(APD_GRAY_W)) u_apd0 (.clk(clk), .rst(rst), .i_apd(i_apd[0]), .o_cnt_reg(cnt0));
  apd_capture #(.GRAY_W(APD_GRAY_W)) u_apd1 (.clk(clk), .rst(rst), .i_apd(i_apd[1]), .o_cnt_reg(cnt1));

  mux_sequencer #(.K_MAX(K_MAX), .TS_W(TS_W)) u_seq (
    .clk(clk), .rst(rst),
    .i_start(seq_start), .i_stop(stop), .i_abort(abort),
    .i_ncycles(ncycles_reg), .i_k(seq_k), .i_delay(delay_reg), .i_gate(seq_gate_len),
    .i_win(win_reg), .i_delay_le1(delay_le1_reg), .i_gate_le1(seq_gate_le1), .i_win_le1(win_le1_reg),
    .i_cx(seq_cx), .i_cy(seq_cy), .i_off0(off_first), .i_hold(seq_hold),
    .o_off_addr(off_raddr), .i_off_next(off_next),
    .i_dac_busy(seq_dac_busy), .i_now(ts_reg),
    .o_dac_req_reg(seq_req), .o_x_reg(seq_x), .o_y_reg(seq_y),
    .o_gate_reg(seq_gate), .o_exp_reg(seq_exp), .o_rec_reg(seq_rec),
    .o_rec_ts_reg(o_rec_ts), .o_rec_cx_reg(o_rec_cx), .o_rec_cy_reg(o_rec_cy),
    .o_cycles_done_reg(seq_done), .o_running(o_running));

  always @(posedge clk) begin
    if (rst || !o_running) begin
      agg_cnt_reg <= 8'd0;
      stop_hold_reg <= 1'b0;
      rec_win_reg <= 1'b0;
    end else begin
      if (seq_rec) agg_cnt_reg <= agg_last_reg ? 8'd0 : agg_cnt_reg + 8'd1;
      // the photon budget acts as a CTRL stop: held, it reaches the sequencer at a record end
      if (ctrl_reg[1] || ph_hit_reg) stop_hold_reg <= 1'b1;
      if (rec_end) rec_win_reg <= 1'b1;
      else if (seq_gate) rec_win_reg <= 1'b0;
    end
    agg_m1_reg   <= agg_m - 8'd1;
    agg_last_reg <= agg_cnt_reg >= agg_m1_reg;    // agg_cnt + 1 >= M
    run_ph_q     <= run_ph;
    // RUN_PHOTONS >= PHOTON_STOP != 0 in two registered steps over 12-bit halves (timing)
    ph_hi_gt_reg <= run_ph_raw[RUN_PH_W-1:12] > pstop_reg[RUN_PH_W-1:12];
    ph_hi_eq_reg <= run_ph_raw[RUN_PH_W-1:12] == pstop_reg[RUN_PH_W-1:12];
    ph_lo_ge_reg <= run_ph_raw[11:0] >= pstop_reg[11:0];
    ph_ovf_reg   <= run_ph_ovf;
    // only while running: the count of the last run must not stop the next
    ph_nz_reg    <= !rst && o_running && pstop_reg != {RUN_PH_W{1'b0}};
    ph_hit_reg   <= !rst && o_running && ph_nz_reg && (ph_ovf_reg || ph_hi_gt_reg || (ph_hi_eq_reg && ph_lo_ge_reg));
    agg_keep_reg <= agg_cnt_reg != 8'd0;
  end

  wire        rec_valid, rec_sat;
  wire [51:0] rec_nsum;
  photon_counter #(.K_MAX(K_MAX), .N_CH(N_CH), .COUNT_W(COUNT_W), .CNT_W(APD_GRAY_W),
                   .LAT(APD_LAT), .RUN_W(RUN_PH_W)) u_cnt (
    .clk(clk), .rst(rst), .i_cnt({cnt1, cnt0}), .i_gate(seq_gate), .i_exp(seq_exp),
    .i_keep(agg_keep_reg), .i_rec(rec_end), .o_rec_valid_reg(rec_valid), .o_nsum_reg(rec_nsum),
    .o_sat_any_reg(rec_sat), .i_rd_addr(i_cnt_rd_addr), .o_rd_data_reg(o_cnt_rd_data),
    .i_run_clr(seq_start && !o_running), .o_run_ph_reg(run_ph), .o_run_raw_reg(run_ph_raw),
    .o_run_ovf_reg(run_ph_ovf));

  // ---- host watchdog (i_wdog from the host link: the host went silent during a run) ----
  // The run is aborted the next cycle (laser off the cycle after; the abort comes from a
  // register, timing) and held idle until the beam is centred: one DAC
  // move to the code (0, 0) (clamped to the safe window like any move) with laser amplitude
  // 0, requested once the DAC is idle. The sequencer does not see that move (its DAC busy
  // input is masked), so its own moves and waits keep their meaning. STATUS bit 6 (sticky,
  // write 1 to clear) says that it happened.
  reg  wd_pend_reg = 1'b0;        // the centring move is still to be requested
  reg  wd_move_reg = 1'b0;        // the DAC is busy with the centring move
  reg  wd_sticky_reg = 1'b0;      // STATUS bit 6
  reg  wd_hold_reg = 1'b0;        // == wd_pend_reg || wd_move_reg: the sequencer is aborted
  // (a sequencer move requested in the cycle after the pulse goes first)
  wire wd_req = wd_pend_reg && !dac_busy && !seq_req;
  wire wd_abort = wd_hold_reg;
  wire seq_dac_busy = dac_busy && !wd_move_reg;
  wire        dac_req = seq_req || wd_req;   // exclusive
  wire [16:0] dac_x = wd_req ? 17'd0 : seq_x;
  wire [16:0] dac_y = wd_req ? 17'd0 : seq_y;
  wire [15:0] dac_amp = wd_req ? 16'd0 : ext_on_reg ? i_ext_amp : amp_reg;
  always @(posedge clk) begin
    if (rst) begin
      wd_pend_reg <= 1'b0;
      wd_move_reg <= 1'b0;
      wd_sticky_reg <= 1'b0;
      wd_hold_reg <= 1'b0;
    end else begin
      wd_hold_reg <= i_wdog || wd_pend_reg || (wd_move_reg && dac_busy);   // the next wd_pend || wd_move
      if (i_wdog) wd_pend_reg <= 1'b1;
      else if (wd_req) wd_pend_reg <= 1'b0;
      if (wd_req) wd_move_reg <= 1'b1;
      else if (!dac_busy) wd_move_reg <= 1'b0;
      wd_sticky_reg <= i_wdog || (wd_sticky_reg && !(cfg_we_reg[0] && wa_reg[2:0] == REG_STATUS[2:0] && wd_reg[6]));
    end
  end

  dac_spi #(.SYNC_GAP(DAC_SYNC_GAP)) u_dac (
    .clk(clk), .rst(rst), .i_req(dac_req), .i_x(dac_x), .i_y(dac_y), .i_amp(dac_amp),
    .i_xmin(xmin_reg), .i_xmax(xmax_reg), .i_ymin(ymin_reg), .i_ymax(ymax_reg),
    .i_win_wr(win_wr_reg),
    .o_busy_reg(dac_busy), .o_moved_reg(dac_moved), .o_clamp_x_reg(clamp_x),
    .o_clamp_y_reg(clamp_y), .o_x_code_reg(x_code), .o_y_code_reg(y_code),
    .o_sclk_reg(o_dac_sclk), .o_mosi_reg(o_dac_mosi), .o_sync_n_reg(o_dac_sync_n));

  // ---- live mLMS estimate of every record ----
  // The channel sums of exposures 0..3 come registered from the photon counter and hold
  // until the next record's first gate; the estimate starts the cycle after the record is
  // complete. The parameters are stable while an estimate is in flight: they only change
  // while the sequencer is idle.
  reg        q_valid_reg = 1'b0;
  always @(posedge clk) q_valid_reg <= rec_valid && !rst;

  wire        m_valid, m_ok;
  wire [15:0] m_x, m_y;
  // In an imaging stage the mLMS sees the stage's sums so far plus the record (13-bit
  // saturating) with the stage's L (EST_L >> shift) and F.
  function [12:0] sat13(input [12:0] a, input [12:0] b);
    reg [13:0] t;
    begin t = {1'b0, a} + {1'b0, b}; sat13 = t[13] ? 13'h1FFF : t[12:0]; end
  endfunction
  wire [12:0] m_n0 = ctl_stage ? sat13(ctl_acc0, rec_nsum[12:0])  : rec_nsum[12:0];
  wire [12:0] m_n1 = ctl_stage ? sat13(ctl_acc1, rec_nsum[25:13]) : rec_nsum[25:13];
  wire [12:0] m_n2 = ctl_stage ? sat13(ctl_acc2, rec_nsum[38:26]) : rec_nsum[38:26];
  wire [12:0] m_n3 = ctl_stage ? sat13(ctl_acc3, rec_nsum[51:39]) : rec_nsum[51:39];
  wire [15:0] m_L = ctl_stage ? est_L_reg >> ctl_shift : est_L_reg;
  wire [15:0] m_F = ctl_stage ? ctl_F : est_F_reg;
`ifdef MINFLUX_NO_EST
  // a Bayes-only image's size (make bayes-image-size): no live estimate, records still framed
  assign {m_valid, m_ok, m_x, m_y} = {q_valid_reg, 1'b0, 32'd0};
`else
  /* verilator lint_off PINCONNECTEMPTY */
  mlms u_mlms (
    .clk(clk), .rst(rst), .i_valid(q_valid_reg),
    .i_n0(m_n0), .i_n1(m_n1), .i_n2(m_n2), .i_n3(m_n3),
    .i_k(est_k_reg), .i_thresh(est_thresh_reg), .i_L(m_L), .i_F(m_F),
    .i_beta0(est_b0_reg), .i_beta1(est_b1_reg), .i_beta2(est_b2_reg),
    .o_valid(m_valid), .o_x(m_x), .o_y(m_y), .o_ok(m_ok), .o_busy());
  /* verilator lint_on PINCONNECTEMPTY */
`endif

  // ---- Gaussian 1D MLE of every record (pre-localization) and tracking controller ----
  // The board image is built with MINFLUX_NO_CTL (mk/board.mk): next to the host link and
  // the live mLMS they do not fit the UP5K (docs/controller.md, "Board image"); there
  // CTL_MODE reads 0 and runs are open loop.
`ifdef MINFLUX_NO_CTL
  assign {g_valid, g_ok, g_x, g_y} = 34'd0;
  assign {ctl_mode, ctl_hold, ctl_dwell_le1, ctl_pgate_le1, ctl_state} = 7'd0;
  assign {ctl_img, ctl_stage, ctl_send, ctl_last, ctl_shift, ctl_F} = 23'd0;
  assign {ctl_acc0, ctl_acc1, ctl_acc2, ctl_acc3} = 52'd0;
  assign {ctl_cx, ctl_cy, ctl_dwell, ctl_pgate, ctl_step, ctl_step3} = 96'd0;
  assign ctl_pthr = 15'd0;
  assign o_beam_gauss = 1'b0;
  assign o_act405 = 1'b0;
  wire unused_noctl = &{1'b0, ctl_pthr, wa3_reg};   // inputs of the blocks left out
`else
  /* verilator lint_off PINCONNECTEMPTY */
  gauss1d u_gauss (
    .clk(clk), .rst(rst), .i_valid(q_valid_reg),
    .i_n0(rec_nsum[12:0]), .i_n1(rec_nsum[25:13]), .i_n2(rec_nsum[38:26]), .i_n3(rec_nsum[51:39]),
    .i_thresh(ctl_pthr), .i_G(est_G_reg),
    .o_valid(g_valid), .o_x(g_x), .o_y(g_y), .o_ok(g_ok), .o_busy());
  /* verilator lint_on PINCONNECTEMPTY */
  track_ctl u_ctl (
    .clk(clk), .rst(rst), .i_we(ctl_we_reg), .i_wa({wa3_reg, wa_reg}), .i_wd(wd_reg),
    .i_start(start), .i_running(o_running), .i_rec_end(rec_end),
    .i_n0(rec_nsum[12:0]), .i_n1(rec_nsum[25:13]), .i_n2(rec_nsum[38:26]), .i_n3(rec_nsum[51:39]),
    .i_g_valid(g_valid), .i_gx(g_x), .i_gy(g_y), .i_g_ok(g_ok),
    .i_mx(o_est_x_reg), .i_my(o_est_y_reg), .i_m_ok(o_est_ok_reg),
    .o_mode_reg(ctl_mode), .o_img_reg(ctl_img), .o_last_reg(ctl_last),
    .o_state_reg(ctl_state), .o_cx_reg(ctl_cx), .o_cy_reg(ctl_cy),
    .o_hold(ctl_hold), .o_dwell_reg(ctl_dwell), .o_dwell_le1_reg(ctl_dwell_le1),
    .o_pgate_reg(ctl_pgate), .o_pgate_le1_reg(ctl_pgate_le1), .o_pthr_reg(ctl_pthr),
    .o_step_reg(ctl_step), .o_step3_reg(ctl_step3),
    .o_gauss(o_beam_gauss), .o_act405(o_act405),
    .o_stage(ctl_stage), .o_shift(ctl_shift), .o_F(ctl_F),
    .o_acc0_reg(ctl_acc0), .o_acc1_reg(ctl_acc1), .o_acc2_reg(ctl_acc2), .o_acc3_reg(ctl_acc3),
    .o_send(ctl_send));
`endif

  // The record's state is the one its cycles ran in; its estimate: the Gaussian MLE for a
  // pre-localization record, none for a search record (valid flag 0), else the mLMS.
  // Bit 3 (CTL_ST_LOC): the record ends its imaging stage, decided when the estimate starts.
  reg  [3:0]  rec_st_reg = 4'd0;
  always @(posedge clk)
    if (rst) rec_st_reg <= 4'd0;
    else if (rec_end) rec_st_reg <= {1'b0, ctl_state};
    else if (q_valid_reg && ctl_send) rec_st_reg[3] <= 1'b1;
  assign o_rec_state = rec_st_reg;
  wire rec_pre  = rec_st_reg == CTL_ST_PRELOC[3:0];
  wire rec_srch = rec_st_reg == CTL_ST_SEARCH[3:0];
  wire e_valid  = rec_pre ? g_valid : m_valid;
  // (The controller reads the Gaussian MLE from u_gauss and the mLMS from these registers:
  // a tracking record's mLMS is here one cycle before its Gaussian MLE is ready.)
  always @(posedge clk) begin
    o_est_valid_reg <= !rst && e_valid;
    if (e_valid) begin
      o_est_x_reg <= rec_pre ? g_x : m_x;
      o_est_y_reg <= rec_pre ? g_y : m_y;
      o_est_ok_reg <= rec_pre ? g_ok : (m_ok && !rec_srch);
    end
  end

  assign o_laser_en  = seq_gate;
  assign o_gate      = seq_gate;
  assign o_rec_valid = rec_valid;
  assign o_rec_n0    = rec_nsum[12:0];
  assign o_start     = start;
  assign o_rec_sat   = rec_sat;
  assign o_k         = k_reg;
  assign o_dbg_apd_cnt = {cnt1, cnt0};
  assign o_dbg_dac_req = seq_req;
  assign o_dbg_dac_xy  = {seq_y, seq_x};
  assign o_dbg_exp     = seq_exp;
  assign o_dbg_busy    = dac_busy;
  assign o_dbg_xy_code = {y_code, x_code};
  assign o_dbg_clamp   = {clamp_y, clamp_x};
  assign o_win         = {xmin_reg, xmax_reg, ymin_reg, ymax_reg};
  assign o_dbg_moved   = dac_moved;
  assign o_dbg_cycle_end = seq_rec;

`ifdef FORMAL
  // ==== Formal properties (make formal; docs/reliability.md) =============================
  // With FORMAL_MINFLUX_CORE the core is the top: register writes, APD pulses and the
  // emergency stop are free inputs. The assumptions dac_spi and mux_sequencer make about
  // their inputs are assertions here (the core provides them), and their own properties
  // hold with the real register file and DAC in place. At this level: the laser is off
  // from the third cycle of an emergency stop on, and off whenever the sequencer is idle.
  reg f_past_valid = 1'b0;
  always @(posedge clk) f_past_valid <= 1'b1;
`ifdef FORMAL_MINFLUX_CORE
  always @(*) if (!f_past_valid) assume(rst);
`endif
  reg [2:0] f_estop_q = 3'd0;   // i_estop in each of the last three cycles
  always @(posedge clk) f_estop_q <= {f_estop_q[1:0], i_estop};
  always @(*) if (f_past_valid) begin
    P_core_laser_off_3_cycles_after_estop: assert(!(f_estop_q[2] && o_laser_en));
    P_core_laser_off_idle: assert(!(!o_running && o_laser_en));
  end
  // Host watchdog: the laser is off from the cycle after i_wdog until the centring move is
  // done, and never on while the DAC is busy with any move (the sequencer's or the centring).
  reg f_wdog_q = 1'b0, f_wdog_q2 = 1'b0;   // i_wdog one / two cycles ago
  always @(posedge clk) begin f_wdog_q <= i_wdog; f_wdog_q2 <= f_wdog_q; end
  always @(*) if (f_past_valid) begin
    P_core_laser_off_after_wdog: assert(!((f_wdog_q2 || (wd_pend_reg && !f_wdog_q) || wd_move_reg) && o_laser_en));
    P_core_laser_off_dac_busy: assert(!(dac_busy && o_laser_en));
    A_core_wd_req_alone: assert(!(wd_req && seq_req));
  end
  // Invariants that make the proof inductive (each is itself proven).
  always @(*) if (f_past_valid) begin
    I_core_estop_sync: assert(estop_sync_reg == f_estop_q[1:0]);
    I_core_win_wr: assert(win_wr_reg == (cfg_we_reg[1] && wa_reg[2]));
    // the GATE register's own flag (the sequencer sees the controller's gate while it drives)
    if (!rst) I_core_gate_le1: assert(gate_le1_reg == (gate_reg <= 16'd1));
    if ((wd_pend_reg && !f_wdog_q) || wd_move_reg) I_core_wd_seq_idle: assert(!o_running && !seq_gate && !seq_req);
    I_core_wd_hold: assert(wd_hold_reg == (wd_pend_reg || wd_move_reg));
  end
  // Covers: the properties are not vacuous.
  always @(*) if (f_past_valid) begin
    C_core_laser_on: cover(o_laser_en);
    C_core_estop_in_gate: cover(f_estop_q[1] && !f_estop_q[2] && o_laser_en);
    C_core_wdog_centred: cover(wd_move_reg && !dac_busy);   // the centring move is done
  end
`endif
endmodule
