`default_nettype none
// Tracking controller (issue #5, seed 003 section 6.4): raster search with a Gaussian
// beam -> Gaussian pre-localization -> MINFLUX tracking with the live mLMS -> loss ->
// search. docs/controller.md describes it, hls-c/regmap_ctl.h the registers;
// hls-c/track_ctl.c is the bit- and cycle-exact model (co-simulated in cosim_core).
//
// Per record (the core holds the sequencer in its window while o_hold is high):
//   rec_end      ph IDLE -> WAIT (busy)
//   g_valid      (the Gaussian MLE, the last estimator to finish) -> DEC: found flags,
//                N, multiplier operands (x), ok
//   DEC          search: found -> centre, PRELOC; else raster advance
//                preloc/track: p = x * gain; operand y; dark / loss sums (track)
//   M1           p = y * gain; dx = clamp(round(p_x)); loss window end, ratio product
//   M2           centre x += dx (ok); dy; ratio verdict
//   M3           centre y += dy (ok); preloc -> TRACK; track: lost -> SEARCH
//   FIN          search: centre = raster position; release the hold
//
// Imaging mode (CTL_MODE bit1, issue #10; hls-c/regmap_ctl.h): PRELOC leads to the
// iterative stages (state 4 + s) instead of TRACK. A stage record adds its counts to the
// stage sums (o_acc*: the core feeds sums + record to the mLMS, with the stage's L and F);
// the record that brings the stage's N to its photon limit ends the stage (o_send, latched
// by the core into the record's state bit 3): re-centre by the estimate (M2/M3), cfr and
// bright aborts, next stage. The 405 nm light follows the low-passed search count rate.

module track_ctl (
  input  wire               clk,
  input  wire               rst,
  // register writes (0x50..0x5F), decoded by the core; ignored while running
  input  wire               i_we,
  input  wire [3:0]         i_wa,   // address - 0x50
  input  wire [31:0]        i_wd,
  // run and record events
  input  wire               i_start,     // a run starts (CTRL start while idle)
  input  wire               i_running,
  input  wire               i_rec_end,   // a record's last gate closed
  input  wire [12:0]        i_n0, i_n1, i_n2, i_n3,   // the record's exposure sums
  input  wire               i_g_valid,   // Gaussian MLE of the record ready
  input  wire signed [15:0] i_gx, i_gy,
  input  wire               i_g_ok,
  input  wire signed [15:0] i_mx, i_my,  // live mLMS of the record (ready before i_g_valid)
  input  wire               i_m_ok,
  // to the core
  output reg                o_mode_reg,  // CTL_MODE bit0: the controller drives runs
  output reg                o_img_reg,   // CTL_MODE bit1: imaging mode
  output reg  [1:0]         o_last_reg,  // CTL_MODE [3:2] as written
  output reg  [2:0]         o_state_reg, // CTL_ST_*
  output reg  signed [15:0] o_cx_reg, o_cy_reg,
  output wire               o_hold,      // keep the sequencer in its window
  output reg  [15:0]        o_dwell_reg, // search pixel gate
  output reg                o_dwell_le1_reg,
  output reg  [15:0]        o_pgate_reg, // pre-localization gate
  output reg                o_pgate_le1_reg,
  output reg  [14:0]        o_pthr_reg,  // pre-localization threshold (Gaussian MLE)
  output reg  [15:0]        o_step_reg,  // raster step: search offsets 0, s, 2s, 3s
  output reg  [15:0]        o_step3_reg,
  output wire               o_gauss,     // Gaussian beam (search, pre-localization)
  output wire               o_act405,    // 405 nm activation
  // imaging stages (valid while o_stage)
  output wire               o_stage,     // the state is an imaging stage
  output wire [1:0]         o_shift,     // the stage's L shift
  output wire [15:0]        o_F,         // the stage's EST_F
  output reg  [12:0]        o_acc0_reg, o_acc1_reg, o_acc2_reg, o_acc3_reg,  // stage sums so far
  output wire               o_send       // the record's counts (i_n*) reach the stage's limit
);
`include "minflux_regs.vh"

  localparam [2:0] ST_SEARCH = CTL_ST_SEARCH[2:0], ST_PRELOC = CTL_ST_PRELOC[2:0],
                   ST_TRACK = CTL_ST_TRACK[2:0], ST_STAGE0 = CTL_ST_STAGE0[2:0];
  localparam [2:0] PH_IDLE = 3'd0, PH_WAIT = 3'd1, PH_DEC = 3'd2, PH_M1 = 3'd3, PH_M2 = 3'd4,
                   PH_M3 = 3'd5, PH_FIN = 3'd6;

  initial begin
    if (CTL_ST_SEARCH != 1 || CTL_ST_PRELOC != 2 || CTL_ST_TRACK != 3 || CTL_GAIN_SHIFT != 16 ||
        CTL_RATIO_FRAC != 8 || CTL_WIN_NMAX != 32768 || REG_CTL_MODE != 8'h50 || REG_CTL_LOSS != 8'h58 ||
        CTL_ST_STAGE0 != 4 || CTL_STAGES != 3 || CTL_LP_FRAC != 4 || REG_CTL_ISTG2 != 8'h5F) begin
      $display("track_ctl: hls-c/regmap_ctl.h changed; update the RTL"); $finish;
    end
  end

  // ---- registers ----
  reg signed [15:0] org_x_reg, org_y_reg;
  reg [7:0]  n_reg;
  reg [14:0] sthr_reg;
  reg [15:0] act_len_reg;
  reg [7:0]  act_every_reg;
  reg signed [15:0] pgain_reg, gain_reg;   // 15-bit fields, sign bit 0
  reg [14:0] pclamp_reg, clamp_reg;
  reg [7:0]  ratio_reg, lwin_reg;
  reg [15:0] ldark_reg;
  reg [15:0] ithr_reg, ion_reg, ioff_reg, idark_reg;   // imaging (0x5A..0x5C)
  reg [3:0]  ilp_sh_reg;
  reg [7:0]  ibright_reg;
  reg [31:0] istg0_reg, istg1_reg, istg2_reg;          // 0x5D..0x5F

  always @(posedge clk) begin
    if (rst) begin
      o_mode_reg <= 1'b0;
      org_x_reg <= 16'sd0; org_y_reg <= 16'sd0;
      o_step_reg <= 16'd1; n_reg <= 8'd1;
      o_dwell_reg <= 16'd2400; o_dwell_le1_reg <= 1'b0; sthr_reg <= 15'd15;
      act_len_reg <= 16'd0; act_every_reg <= 8'd0;
      o_pgate_reg <= 16'd2400; o_pgate_le1_reg <= 1'b0; o_pthr_reg <= 15'd20;
      pgain_reg <= 16'sd0; pclamp_reg <= 15'd0; gain_reg <= 16'sd0; clamp_reg <= 15'd0;
      ratio_reg <= 8'd0; lwin_reg <= 8'd0; ldark_reg <= 16'd0;
      o_img_reg <= 1'b0; o_last_reg <= 2'd0;
      ithr_reg <= 16'd0; ilp_sh_reg <= 4'd0; ion_reg <= 16'd0; ioff_reg <= 16'd0;
      idark_reg <= 16'd0; ibright_reg <= 8'd0;
      istg0_reg <= 32'd1; istg1_reg <= 32'd1; istg2_reg <= 32'd1;
    end else if (i_we && !i_running) begin
      case (i_wa)
        4'h0: begin o_mode_reg <= i_wd[0]; o_img_reg <= i_wd[1]; o_last_reg <= i_wd[3:2]; end
        4'h1: begin org_x_reg <= i_wd[15:0]; org_y_reg <= i_wd[31:16]; end
        4'h2: begin o_step_reg <= i_wd[15:0]; n_reg <= i_wd[23:16]; end
        4'h3: begin o_dwell_reg <= i_wd[15:0]; o_dwell_le1_reg <= i_wd[15:1] == 15'd0; sthr_reg <= i_wd[30:16]; end
        4'h4: begin act_len_reg <= i_wd[15:0]; act_every_reg <= i_wd[23:16]; end
        4'h5: begin o_pgate_reg <= i_wd[15:0]; o_pgate_le1_reg <= i_wd[15:1] == 15'd0; o_pthr_reg <= i_wd[30:16]; end
        4'h6: begin pgain_reg <= {1'b0, i_wd[14:0]}; pclamp_reg <= i_wd[30:16]; end
        4'h7: begin gain_reg <= {1'b0, i_wd[14:0]}; clamp_reg <= i_wd[30:16]; end
        4'h8: begin ratio_reg <= i_wd[7:0]; lwin_reg <= i_wd[15:8]; ldark_reg <= i_wd[31:16]; end
        4'hA: begin ithr_reg <= i_wd[15:0]; ilp_sh_reg <= i_wd[19:16]; end
        4'hB: begin ion_reg <= i_wd[15:0]; ioff_reg <= i_wd[31:16]; end
        4'hC: begin idark_reg <= i_wd[15:0]; ibright_reg <= i_wd[23:16]; end
        4'hD: istg0_reg <= i_wd;
        4'hE: istg1_reg <= i_wd;
        4'hF: istg2_reg <= i_wd;
        default: ;
      endcase
    end
  end

  // ---- state ----
  reg [2:0]  ph_reg;
  reg        busy_reg;
  reg signed [15:0] rx_reg, ry_reg;   // raster: first pixel of the current group of 4
  reg [7:0]  col_reg, row_reg;
  reg        col_last_reg, row_last_reg;
  reg [15:0] act_left_reg;
  reg [7:0]  act_ctr_reg;
  reg [15:0] dark_reg, acc_n0_reg, acc_nn_reg;
  reg [7:0]  acc_cnt_reg;
  reg [3:0]  fnd_reg;
  reg [15:0] nn_reg;                  // N of the record
  reg        ok_reg, adv_reg, wend_reg, lost_r_reg;
  reg signed [15:0] opa_reg, opb_reg, dx_reg, dy_reg;
  reg signed [31:0] p_reg;
  reg [23:0] pr_reg;
  reg [19:0] lp_reg;                  // imaging: low-passed N of search records, UQ16.4
  reg [15:0] at_reg;                  // imaging: search records into the 405 nm on/off period
  reg        send_reg, brt_reg;

  wire        img = o_mode_reg && o_img_reg;
  wire        lp_low = lp_reg < {4'd0, ithr_reg};
  assign o_hold   = o_mode_reg && (busy_reg || i_rec_end);
  assign o_gauss  = o_mode_reg && i_running && (o_state_reg == ST_SEARCH || o_state_reg == ST_PRELOC);
  assign o_act405 = o_mode_reg && i_running && o_state_reg == ST_SEARCH &&
                    (o_img_reg ? (lp_low && at_reg < ion_reg) : act_left_reg != 16'd0);
  // imaging stage parameters (state 4 + s; s = 3 does not occur)
  assign o_stage = o_state_reg[2];
  wire [31:0] stg_w = (o_state_reg[1:0] == 2'd0) ? istg0_reg : (o_state_reg[1:0] == 2'd1) ? istg1_reg : istg2_reg;
  assign o_shift = stg_w[15:14];
  assign o_F     = stg_w[31:16];
  wire [1:0]  last_stage = (o_last_reg == 2'd3) ? 2'd2 : o_last_reg;

  // step = clamp(round(p / 2^16), +-clamp)
  function signed [15:0] step_of(input signed [31:0] p, input [14:0] cl);
    /* verilator lint_off UNUSEDSIGNAL */
    reg signed [31:0] r;
    /* verilator lint_on UNUSEDSIGNAL */
    reg signed [16:0] q;
    begin
      r = (p + 32'sd32768) >>> 16;   // |p| <= 2^30: the result fits 17 bits
      q = r[16:0];
      if (q > $signed({2'b00, cl}))       step_of = {1'b0, cl};
      else if (q < -$signed({2'b00, cl})) step_of = -$signed({1'b0, cl});
      else                                step_of = q[15:0];
    end
  endfunction
  // a + b saturating to the 16-bit range
  function signed [15:0] sat_add(input signed [15:0] a, input signed [15:0] b);
    reg signed [16:0] s;
    begin
      s = {a[15], a} + {b[15], b};
      if (s > 17'sd32767)       sat_add = 16'sh7FFF;
      else if (s < -17'sd32768) sat_add = 16'sh8000;
      else                      sat_add = s[15:0];
    end
  endfunction

  wire [15:0] n_sum = {3'd0, i_n0} + {3'd0, i_n1} + {3'd0, i_n2} + {3'd0, i_n3};
  wire [15:0] acc_nn_add = acc_nn_reg + nn_reg;   // < 2^16: a window ends at 2^15
  wire [15:0] fnd_off = fnd_reg[0] ? 16'd0 : fnd_reg[1] ? o_step_reg :
                        fnd_reg[2] ? {o_step_reg[14:0], 1'b0} : o_step3_reg;
  wire [7:0]  n_groups = ({1'b0, n_reg[7:1]} + {7'd0, n_reg[0]} + 8'd1) >> 1;   // ceil(n/4)
  wire        act_on = act_every_reg != 8'd0;
  wire [15:0] sn_add = acc_nn_reg + n_sum;       // a stage's N with this record (< 2^16)
  assign o_send = o_stage && sn_add >= {2'd0, stg_w[13:0]};
  function [12:0] add13(input [12:0] a, input [12:0] b);   // saturating
    reg [13:0] s;
    begin s = {1'b0, a} + {1'b0, b}; add13 = s[13] ? 13'h1FFF : s[12:0]; end
  endfunction
  // lp + ((N << 4) - lp) >>> a: stays within [0, 2^20)
  wire signed [20:0] lp_d = $signed({1'b0, nn_reg, 4'd0}) - $signed({1'b0, lp_reg});
  wire signed [20:0] lp_ds = lp_d >>> ilp_sh_reg;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [20:0] lp_new = {1'b0, lp_reg} + lp_ds;   // bit 20 is 0
  /* verilator lint_on UNUSEDSIGNAL */
  wire [16:0] at_inc = {1'b0, at_reg} + 17'd1;

  always @(posedge clk) begin
    o_step3_reg  <= o_step_reg + {o_step_reg[14:0], 1'b0};
    col_last_reg <= {1'b0, col_reg} + 9'd1 >= {1'b0, n_groups};
    row_last_reg <= {1'b0, row_reg} + 9'd1 >= {1'b0, n_reg};
    if (rst) begin
      o_state_reg <= 3'd0;
      lp_reg <= 20'd0; at_reg <= 16'd0; send_reg <= 1'b0; brt_reg <= 1'b0;
      o_acc0_reg <= 13'd0; o_acc1_reg <= 13'd0; o_acc2_reg <= 13'd0; o_acc3_reg <= 13'd0;
      ph_reg <= PH_IDLE;
      busy_reg <= 1'b0;
      act_left_reg <= 16'd0; act_ctr_reg <= 8'd0;
      rx_reg <= 16'sd0; ry_reg <= 16'sd0; o_cx_reg <= 16'sd0; o_cy_reg <= 16'sd0;
      col_reg <= 8'd0; row_reg <= 8'd0;
      dark_reg <= 16'd0; acc_n0_reg <= 16'd0; acc_nn_reg <= 16'd0; acc_cnt_reg <= 8'd0;
      fnd_reg <= 4'd0; nn_reg <= 16'd0; ok_reg <= 1'b0; adv_reg <= 1'b0; wend_reg <= 1'b0;
      lost_r_reg <= 1'b0; opa_reg <= 16'sd0; opb_reg <= 16'sd0; dx_reg <= 16'sd0; dy_reg <= 16'sd0;
      p_reg <= 32'sd0; pr_reg <= 24'd0;
    end else if (i_start && !i_running) begin
      o_state_reg <= o_mode_reg ? ST_SEARCH : 3'd0;
      lp_reg <= 20'd0; at_reg <= 16'd0;
      ph_reg <= PH_IDLE;
      busy_reg <= 1'b0;
      rx_reg <= org_x_reg; ry_reg <= org_y_reg;
      o_cx_reg <= org_x_reg; o_cy_reg <= org_y_reg;
      col_reg <= 8'd0; row_reg <= 8'd0;
      act_ctr_reg <= 8'd0;
      act_left_reg <= act_on ? act_len_reg : 16'd0;
    end else begin
      case (ph_reg)
        PH_IDLE: if (o_mode_reg && i_rec_end) begin ph_reg <= PH_WAIT; busy_reg <= 1'b1; end
        PH_WAIT: if (i_g_valid) begin
          ph_reg <= PH_DEC;
          fnd_reg <= {{2'd0, i_n3} >= sthr_reg, {2'd0, i_n2} >= sthr_reg,
                      {2'd0, i_n1} >= sthr_reg, {2'd0, i_n0} >= sthr_reg};
          nn_reg <= n_sum;
          ok_reg <= (o_state_reg == ST_PRELOC) ? i_g_ok : i_m_ok;
          opa_reg <= (o_state_reg == ST_PRELOC) ? i_gx : i_mx;
          opb_reg <= (o_state_reg == ST_PRELOC) ? pgain_reg : gain_reg;
        end
        PH_DEC: begin
          adv_reg <= 1'b0;
          ph_reg <= PH_M1;
          p_reg <= opa_reg * opb_reg;
          opa_reg <= (o_state_reg == ST_PRELOC) ? i_gy : i_my;
          if (o_state_reg == ST_SEARCH && act_left_reg != 16'd0) act_left_reg <= act_left_reg - 16'd1;
          if (o_state_reg == ST_SEARCH && o_img_reg) begin   // imaging 405 nm
            lp_reg <= lp_new[19:0];
            if (!lp_low) at_reg <= 16'd0;
            else at_reg <= (at_inc >= {1'b0, ion_reg} + {1'b0, ioff_reg}) ? 16'd0 : at_inc[15:0];
          end
          if (o_state_reg == ST_SEARCH && fnd_reg != 4'd0) begin
            o_cx_reg <= rx_reg + $signed(fnd_off);
            o_cy_reg <= ry_reg;
            o_state_reg <= ST_PRELOC;
            ph_reg <= PH_FIN;
          end else if (o_state_reg == ST_SEARCH || (o_state_reg == ST_PRELOC && !ok_reg)) begin
            // raster advance by a group of 4 pixels
            adv_reg <= 1'b1;
            o_state_reg <= ST_SEARCH;
            ph_reg <= PH_FIN;
            if (!col_last_reg) begin
              col_reg <= col_reg + 8'd1;
              rx_reg <= rx_reg + $signed({o_step_reg[13:0], 2'b00});
            end else begin
              col_reg <= 8'd0;
              rx_reg <= org_x_reg;
              if (!row_last_reg) begin
                row_reg <= row_reg + 8'd1;
                ry_reg <= ry_reg + $signed(o_step_reg);
              end else begin
                row_reg <= 8'd0;
                ry_reg <= org_y_reg;
                if (act_on) begin   // a new frame
                  if ({1'b0, act_ctr_reg} + 9'd1 >= {1'b0, act_every_reg}) begin
                    act_ctr_reg <= 8'd0;
                    act_left_reg <= act_len_reg;
                  end else
                    act_ctr_reg <= act_ctr_reg + 8'd1;
                end
              end
            end
          end else if (o_state_reg == ST_TRACK) begin
            dark_reg <= ok_reg ? 16'd0 : (dark_reg == 16'hFFFF ? dark_reg : dark_reg + 16'd1);
            acc_n0_reg <= acc_n0_reg + {3'd0, i_n0};
            acc_nn_reg <= acc_nn_add;
            acc_cnt_reg <= acc_cnt_reg + 8'd1;
          end else if (o_stage) begin
            // stage sums: dark_reg counts the stage's records, acc_n0/acc_nn its n0 and N
            dark_reg <= (dark_reg == 16'hFFFF) ? dark_reg : dark_reg + 16'd1;
            acc_n0_reg <= acc_n0_reg + {3'd0, i_n0};
            acc_nn_reg <= acc_nn_add;
            o_acc0_reg <= add13(o_acc0_reg, i_n0); o_acc1_reg <= add13(o_acc1_reg, i_n1);
            o_acc2_reg <= add13(o_acc2_reg, i_n2); o_acc3_reg <= add13(o_acc3_reg, i_n3);
            send_reg <= acc_nn_add >= {2'd0, stg_w[13:0]};
          end
        end
        PH_M1: begin
          ph_reg <= PH_M2;
          p_reg <= opa_reg * opb_reg;
          dx_reg <= step_of(p_reg, (o_state_reg == ST_PRELOC) ? pclamp_reg : clamp_reg);
          wend_reg <= lwin_reg != 8'd0 && (acc_cnt_reg >= lwin_reg || acc_nn_reg[15]);
          pr_reg <= ratio_reg * acc_nn_reg;
          brt_reg <= ibright_reg != 8'd0 && dark_reg < {8'd0, ibright_reg};
        end
        PH_M2: begin
          ph_reg <= PH_M3;
          if (ok_reg && (!o_stage || send_reg)) o_cx_reg <= sat_add(o_cx_reg, dx_reg);
          dy_reg <= step_of(p_reg, (o_state_reg == ST_PRELOC) ? pclamp_reg : clamp_reg);
          if (o_stage)   // cfr abort at the end of a stage s >= 1
            lost_r_reg <= send_reg && o_state_reg[1:0] != 2'd0 && ratio_reg != 8'd0 && {acc_n0_reg, 8'd0} >= pr_reg;
          else
            lost_r_reg <= wend_reg && {acc_n0_reg, 8'd0} >= pr_reg;
          if (wend_reg && !o_stage) begin acc_n0_reg <= 16'd0; acc_nn_reg <= 16'd0; acc_cnt_reg <= 8'd0; end
        end
        PH_M3: begin
          ph_reg <= PH_FIN;
          if (ok_reg && (!o_stage || send_reg)) o_cy_reg <= sat_add(o_cy_reg, dy_reg);
          if (o_state_reg == ST_PRELOC) begin
            o_state_reg <= img ? ST_STAGE0 : ST_TRACK;
            dark_reg <= 16'd0; acc_n0_reg <= 16'd0; acc_nn_reg <= 16'd0; acc_cnt_reg <= 8'd0;
            o_acc0_reg <= 13'd0; o_acc1_reg <= 13'd0; o_acc2_reg <= 13'd0; o_acc3_reg <= 13'd0;
          end else if (o_stage) begin
            if (send_reg || (idark_reg != 16'd0 && dark_reg >= idark_reg)) begin   // the stage ends
              dark_reg <= 16'd0; acc_n0_reg <= 16'd0; acc_nn_reg <= 16'd0;
              o_acc0_reg <= 13'd0; o_acc1_reg <= 13'd0; o_acc2_reg <= 13'd0; o_acc3_reg <= 13'd0;
            end
            if (!send_reg ? (idark_reg != 16'd0 && dark_reg >= idark_reg) : (lost_r_reg || brt_reg)) begin
              o_state_reg <= ST_SEARCH;   // abort: dark, cfr or bright
              o_cx_reg <= rx_reg;
              o_cy_reg <= ry_reg;
            end else if (send_reg)
              o_state_reg <= (o_state_reg[1:0] >= last_stage) ? {1'b1, last_stage} : o_state_reg + 3'd1;
          end else if (lost_r_reg || (ldark_reg != 16'd0 && dark_reg >= ldark_reg)) begin
            o_state_reg <= ST_SEARCH;
            o_cx_reg <= rx_reg;
            o_cy_reg <= ry_reg;
          end
        end
        PH_FIN: begin
          if (adv_reg) begin o_cx_reg <= rx_reg; o_cy_reg <= ry_reg; end
          ph_reg <= PH_IDLE;
          busy_reg <= 1'b0;
        end
        default: ph_reg <= PH_IDLE;
      endcase
    end
  end

`ifdef FORMAL
  // The sequencer's gate-length flags: "<= 1" registered with the values (the core's
  // A_seq_le1_flags depends on it; make formal proves this inside the core job).
  reg f_past_valid = 1'b0;
  always @(posedge clk) f_past_valid <= 1'b1;
  always @(*) if (f_past_valid) begin
    I_ctl_dwell_le1: assert(o_dwell_le1_reg == (o_dwell_reg <= 16'd1));
    I_ctl_pgate_le1: assert(o_pgate_le1_reg == (o_pgate_reg <= 16'd1));
  end
`endif
endmodule
