`default_nettype none
// bayes: Bayesian MINFLUX (seed 002, semi-heuristic placement eq 9) on a 32 x 32 log-posterior
// window in SPRAM; bit-exact with hls-c/bayes.c, which specifies every operation.
//
// Per exposure: the placement r = MAP + v D(std) (v from an LFSR, D from a table, clamped into
// the safe window), the column and row factors of g' ("prep", 2 x 32 values), pass B over the 1024 points (g' and -log2 g'
// stored, sums of w and w g' for the laser code A), the exposure (o_exp_valid/i_exp_ready),
// its count (i_cnt_valid/o_cnt_ready), pass A (the Poisson update, the new maximum, the
// moments; a moment pass when a weight saturated), mean / var / log2 std with a sequential
// divider, the stop test, re-gridding (re-centre, refine or coarsen: one pass).
// Memories: 4 SPRAM (L ping-pong, G, NLG), EBRs for the tables and the column/row factors.
// Multipliers: 5 products p0..p4 (SB_MAC16), shared by the passes and the scalar steps.
// The parameter ports (BAYES_* registers) must hold from i_start until the block is idle.
//
// Point loops: stage 0 is the issue cycle (memories addressed), stage s is s cycles later;
// the tables next to the stage registers below give each mode's schedule.

module bayes (
    input  wire               clk,
    input  wire               rst,
    input  wire               i_start,     // starts a localization (prior, first placement)
    input  wire               i_abort,     // back to idle at once
    input  wire signed [15:0] i_x0,        // BAYES_ORIGIN x, DAC LSB
    input  wire signed [15:0] i_y0,        // BAYES_ORIGIN y
    input  wire        [15:0] i_h0,        // BAYES_H0
    input  wire        [15:0] i_prior_a,   // BAYES_PRIOR_A
    input  wire        [15:0] i_inv_s,     // BAYES_INV_S
    input  wire        [31:0] i_b32,       // BAYES_B
    input  wire        [15:0] i_mu,        // BAYES_MU
    input  wire        [15:0] i_km,        // BAYES_KM
    input  wire        [15:0] i_amp_max,   // BAYES_AMP_MAX
    input  wire        [31:0] i_nmax,      // BAYES_NMAX
    input  wire signed [15:0] i_lsig_stop, // BAYES_LSIG_STOP
    input  wire        [31:0] i_seed,      // BAYES_SEED
    input  wire signed [15:0] i_xmin,      // safe window (SAFE_XMIN..YMAX at the start), DAC LSB:
    input  wire signed [15:0] i_xmax,      // the beam is placed inside it
    input  wire signed [15:0] i_ymin,
    input  wire signed [15:0] i_ymax,
    input  wire               i_dt_we,     // D table write (BAYES_DTAB)
    input  wire         [6:0] i_dt_addr,
    input  wire        [15:0] i_dt_data,
    output reg                o_exp_valid, // next exposure: beam and laser code
    input  wire               i_exp_ready,
    output reg  signed [15:0] o_beam_x,    // DAC LSB
    output reg  signed [15:0] o_beam_y,
    output reg         [15:0] o_amp,       // laser code A
    input  wire               i_cnt_valid, // the exposure's count
    output wire               o_cnt_ready,
    input  wire        [12:0] i_cnt,
    output wire               o_busy,      // a localization is running
    output reg          [3:0] o_status,    // BAYES_STATUS bits 3..0 (bit 0 = o_busy)
    output reg                o_upd,       // pulse: map, std, photons of the last exposure valid
    output reg  signed [23:0] o_map_x,     // sub-LSB from the origin
    output reg  signed [23:0] o_map_y,
    output reg  signed [15:0] o_lsig,      // log2(std / h0), Q8.8
    output reg          [3:0] o_lev,
    output reg         [31:0] o_photons,
    output reg         [31:0] o_exposures
);

`include "minflux_regs.vh"
`include "bayes_tables.vh"

  generate
    if (BY_N != 32 || BY_C != 16 || BY_POS_FRAC != 6 || BY_POS_W != 24 || BY_CX_W != 26 ||
        BY_L_FRAC != 10 || BY_G_FRAC != 16 || BY_NLG_FRAC != 11 || BY_U_FRAC != 12 || BY_W_FRAC != 13 ||
        BY_W_N != 512 || BY_W_OVER != 1024 || BY_COS_N != 256 || BY_D_N != 128 || BY_D_FRAC != 2 ||
        BY_ETA_FRAC != 14 || BY_LEV_MAX != 15 || BY_REFINE_V != 4 || BY_COARSEN_V != 64 ||
        BY_SHIFT_MAX != 4 || BY_LFSR_STEPS != 8) begin : g_fmt
      bayes_formats_differ_from_regmap_bayes_h u_stop ();
    end
  endgenerate

  // ------------------------------------------------------------------ states ----
  localparam [5:0]
    S_IDLE = 6'd0,  S_LOOP = 6'd1,  S_X0 = 6'd2,   S_DX = 6'd3,   S_X1 = 6'd4,   S_DY = 6'd5,
    S_E0 = 6'd6,    S_DE = 6'd7,    S_V0 = 6'd8,   S_V1 = 6'd9,   S_LG = 6'd10,  S_LT = 6'd11,
    S_LV = 6'd12,   S_ST = 6'd13,   S_RG = 6'd14,  S_RU = 6'd15,  S_HC = 6'd16,  S_P0 = 6'd17,
    S_P1 = 6'd18,   S_P2 = 6'd19,   S_P3 = 6'd20,  S_P4 = 6'd21,  S_P5 = 6'd22,  S_P6 = 6'd23,
    S_P7 = 6'd24,   S_P9 = 6'd25,   S_P10 = 6'd26, S_U0 = 6'd27,  S_U1 = 6'd28,  S_A0 = 6'd29,
    S_A1 = 6'd30,   S_DA = 6'd31,   S_A2 = 6'd32,  S_A3 = 6'd33,  S_A4 = 6'd34,  S_OUT = 6'd35,
    S_WAIT = 6'd36, S_R0 = 6'd37,   S_R1 = 6'd38,  S_R2 = 6'd39,  S_R3 = 6'd40,  S_R4 = 6'd41,
    S_P8 = 6'd42;
  localparam [3:0]
    L_INIT = 4'd0, L_A = 4'd1, L_REDO = 4'd2, L_B = 4'd3, L_PC = 4'd4, L_PR = 4'd5,
    L_RGS = 4'd6, L_RGC = 4'd7, L_RGR = 4'd8;

  reg  [5:0] st;
  reg  [3:0] lm;              // loop mode (in S_LOOP)
  reg        first;           // the moments are the prior's (no stop test)
  reg        rows;            // U0 for the rows (second prep)
  assign o_busy = st != S_IDLE;
  assign o_cnt_ready = st == S_WAIT;

  // ------------------------------------------------------------------ state ----
  reg               bank;     // SPRAM holding L: 0 = u_l0, 1 = u_l1
  reg signed [25:0] cx, cy;   // window centre, sub-LSB
  reg        [15:0] h;        // H0 >> lev
  reg         [3:0] lev;
  reg signed [15:0] M;        // max of L
  reg         [4:0] mi, mj;   // MAP index
  reg        [31:0] lfsr;
  reg        [23:0] eta;      // eta'', UQ10.14
  reg        [12:0] n;        // count of the pending exposure
  reg        [30:0] rcost;    // cost of the previous MAP
  reg               over;     // pass A saturated a weight
  reg signed [15:0] Mn;       // running max of the new L
  reg         [9:0] kmax;
  reg        [31:0] photons;
  reg        [31:0] b32c;     // BAYES_B + 2^13

  // ------------------------------------------------------------------ multipliers ----
  reg  [15:0] a0, b0, a1, b1, a2, b2, a3, b3, a4, b4;
  reg  [31:0] c0, c1, c2, c3;
  reg         acc3, en3;
  reg  [31:0] p0, p1, p2, p3, p4;
  reg  [31:0] p5, p6;         // sum w i, sum w j of the moment passes (INIT, A, REDO)
  reg  [15:0] a5;
  reg  [4:0]  b5, b6;
  reg         acc5, en5;
  always @(posedge clk) begin
    if (en5) begin
      p5 <= a5 * b5 + (acc5 ? p5 : 32'd0);
      p6 <= a5 * b6 + (acc5 ? p6 : 32'd0);
    end
    p0 <= a0 * b0 + c0;
    p1 <= a1 * b1 + c1;
    p2 <= a2 * b2 + c2;
    p4 <= a4 * b4;
    if (en3) p3 <= a3 * b3 + (acc3 ? p3 : c3);
  end

  // ------------------------------------------------------------------ tables and buffers (EBR) ----
  reg [15:0] exp2t_m [0:255];
  reg [15:0] exp2d_m [0:255];
  reg [15:0] log2t_m [0:255];
  reg [15:0] log2d_m [0:255];
  reg [15:0] wt_m    [0:511];
  reg [15:0] cos_m   [0:255];
  reg [15:0] dtab_m  [0:127];
  reg [15:0] ybuf_m  [0:63];
  reg [15:0] ebuf_m  [0:63];
  initial begin
    `BY_EXP2T_INIT(exp2t_m)
    `BY_EXP2D_INIT(exp2d_m)
    `BY_LOG2T_INIT(log2t_m)
    `BY_LOG2D_INIT(log2d_m)
    `BY_WT_INIT(wt_m)
    `BY_COS_INIT(cos_m)
  end
  reg  [7:0]  exp2_a, log2_a, cos_a;
  reg  [8:0]  wt_a;
  reg  [6:0]  dt_a;
  reg  [5:0]  buf_ra, buf_wa;
  reg         buf_we;
  reg  [15:0] buf_wy, buf_wd;
  reg  [15:0] exp2t_q, exp2d_q, log2t_q, log2d_q, wt_q, cos_q, dt_q, ybuf_q, ebuf_q;
  always @(posedge clk) begin
    exp2t_q <= exp2t_m[exp2_a];
    exp2d_q <= exp2d_m[exp2_a];
    log2t_q <= log2t_m[log2_a];
    log2d_q <= log2d_m[log2_a];
    wt_q    <= wt_m[wt_a];
    cos_q   <= cos_m[cos_a];
    dt_q    <= dtab_m[dt_a];
    if (i_dt_we) dtab_m[i_dt_addr] <= i_dt_data;
    ybuf_q  <= ybuf_m[buf_ra];
    ebuf_q  <= ebuf_m[buf_ra];
    if (buf_we) begin
      ybuf_m[buf_wa] <= buf_wy;
      ebuf_m[buf_wa] <= buf_wd;
    end
  end

  // ------------------------------------------------------------------ SPRAM ----
  reg  [9:0]  l0_a, l1_a, g_a, nl_a;
  reg         l0_we, l1_we, g_we, nl_we;
  reg  [15:0] lw_d, g_d, nl_d;
  wire [15:0] l0_q, l1_q, g_q, nl_q;
  bayes_spram u_l0 (.clk(clk), .i_addr(l0_a), .i_we(l0_we), .i_wdata(lw_d), .o_rdata(l0_q));
  bayes_spram u_l1 (.clk(clk), .i_addr(l1_a), .i_we(l1_we), .i_wdata(lw_d), .o_rdata(l1_q));
  bayes_spram u_g  (.clk(clk), .i_addr(g_a),  .i_we(g_we),  .i_wdata(g_d),  .o_rdata(g_q));
  bayes_spram u_nl (.clk(clk), .i_addr(nl_a), .i_we(nl_we), .i_wdata(nl_d), .o_rdata(nl_q));
  wire signed [15:0] lq = bank ? l1_q : l0_q;   // the current grid

  // ------------------------------------------------------------------ helpers ----
  function [8:0] sq16;                     // (v - 16)^2
    input [4:0] v;
    reg [4:0] d;
    begin
      d = v[4] ? v - 5'd16 : 5'd16 - v;
      sq16 = {4'd0, d} * {4'd0, d};
    end
  endfunction
  // weight table address for e = ref - L: {beyond the table, idx}, idx = (max(e, -1024) + 1040) >> 5
  /* verilator lint_off UNUSEDSIGNAL */  // the 5 fraction bits of t are dropped
  function [9:0] wt_idx;
    input signed [17:0] e;
    reg signed [17:0] t;
    begin
      t = ((e < -18'sd1024) ? -18'sd1024 : e) + 18'sd1040;
      wt_idx = (t[17:14] != 4'd0) ? 10'h200 : {1'b0, t[13:5]};
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  function [4:0] lod18;                    // position of the leading one (0 for 0)
    input [17:0] v;
    integer q;
    begin
      lod18 = 5'd0;
      for (q = 0; q < 18; q = q + 1) if (v[q]) lod18 = q[4:0];
    end
  endfunction
  function signed [15:0] sat16;
    input signed [26:0] v;
    begin
      sat16 = (v > 27'sd32767) ? 16'sd32767 : (v < -27'sd32768) ? -16'sd32768 : v[15:0];
    end
  endfunction

  // ------------------------------------------------------------------ point loop ----
  // pv[k]: a point is in stage k + 1 (stage 0 = the issue cycle, memories addressed).
  reg  [9:0]  ik;             // issue index
  reg         iss;            // issuing
  reg  [1:0]  tap, tap1;      // RGR: tap being issued, tap whose data arrives
  reg         rowf;           // B: this slot fetches the row factors
  reg         rowf1;          // B: the row factors arrive this cycle
  reg  [7:0]  pv;
  reg  [9:0]  k1;             // index of the point in stage 1
  reg  [9:0]  wk, nk, mk;     // write (L, buffers, G), NLG write, moment counters
  wire [4:0]  ii = ik[4:0], ij = ik[9:5];
  wire        slot_pt = iss && !(lm == L_B && rowf) && !(lm == L_RGR && tap != 2'd3);
  wire        last_slot = (lm == L_PC || lm == L_PR) ? ik[4:0] == 5'd31 :
                          (lm == L_RGR) ? (ik == 10'd1023 && tap == 2'd3) :
                          (lm == L_B) ? (ik == 10'd1023 && !rowf) : ik == 10'd1023;

  // ---- moments (INIT, A, REDO) ----
  reg         mv;
  reg  [15:0] mw;
  reg  [24:0] W;
  reg  [29:0] A2;             // pass B: sum (w G) >> 10
  reg         wz;             // the weight address was beyond the table
  wire [4:0]  mki = mk[4:0], mkj = mk[9:5];
  wire [9:0]  r2m = {1'b0, sq16(mki)} + {1'b0, sq16(mkj)};

  // ---- pass A / INIT ----
  reg  [15:0] s1g, s1n, s2n;
  reg signed [15:0] s1l, s2l, s3l;
  reg signed [17:0] dh;
  reg signed [16:0] tl;
  reg signed [15:0] ln;
  wire signed [33:0] dfull = $signed({3'd0, rcost}) - $signed({2'd0, p2}) + 34'sd1;
  wire signed [32:0] dhalf = dfull[33:1];
  wire signed [17:0] dh_n  = (dhalf > 33'sd131071) ? 18'sd131071 : (dhalf < -33'sd131072) ? -18'sd131072 : dhalf[17:0];
  wire signed [18:0] lsum  = {{2{tl[16]}}, tl} + {dh[17], dh};
  wire signed [15:0] ln_a  = (lsum > 19'sd32767) ? 16'sd32767 : (lsum < -19'sd32768) ? -16'sd32768 : lsum[15:0];
  wire signed [15:0] ln_i  = (p0[31:6] >= 26'd32768) ? -16'sd32768 : -$signed({1'b0, p0[20:6]});
  wire signed [17:0] e_neg = -{{2{ln[15]}}, ln};                    // weight argument, A / INIT
  wire signed [17:0] e_ml  = {{2{M[15]}}, M} - {{2{lq[15]}}, lq};   // weight argument, B / REDO
  wire [9:0]  wti_neg = wt_idx(e_neg), wti_ml = wt_idx(e_ml);

  // ---- pass B ----
  reg  [15:0] yr, er, bE, bw2, bG3, bt5, bnlg;
  reg  [4:0]  bp3, bp4, bp5;
  reg  [17:0] bg3;
  reg         bz3, bz4, bz5;  // g18 = 0
  reg  [7:0]  bfr4;
  wire [17:0] g18 = p1[31:14];
  wire [4:0]  gp = lod18(g18);
  wire [15:0] m16 = (bp3 == 5'd17) ? bg3[16:1] : (bp3 == 5'd16) ? bg3[15:0] : {p2[14:0], 1'b0};
  wire [16:0] l17 = {1'b0, bt5} + {8'd0, p3[16:8]};
  wire [16:0] l17r = l17 + 17'd16;
  wire [15:0] nlg_n = bz5 ? 16'hFFFF : ({bp5 == 5'd0 ? 5'd18 : 5'd18 - bp5, 11'd0} - {4'd0, l17r[16:5]});

  // ---- prep ----
  reg signed [40:0] U;
  reg        [31:0] HS;
  reg        [15:0] pu;                      // |u|
  reg  [4:0]  qin3, qin4, qin5, qin6;        // integer part of y, clamped to 17
  reg  [7:0]  qfl3;
  reg  [1:0]  qr3, qr4, qr5, qr6, qr7;       // y range: 0 [0,1), 1 [1,16), 2 [16,64)
  reg  [15:0] qys3, qys4, qys5, qys6;        // y in the format of its Y product
  reg  [15:0] qt4, qef5, qef6, qE7;
  wire [31:0] y = p0;
  wire signed [41:0] urnd = {U[40], U} + 42'sd524288;
  wire signed [21:0] usft = urnd[41:20];
  wire [15:0] u_abs = (usft > 22'sd32767 || usft < -22'sd32767) ? 16'd32767 :
                      (usft[21] ? 16'd0 - usft[15:0] : usft[15:0]);
  wire [15:0] ef_n = qt4 - {8'd0, p1[15:8]};
  wire [15:0] E6 = (qin6 == 5'd17) ? 16'd0 : (qin6 == 5'd0) ? qef6 : p2[31:16];
  wire [15:0] Y7 = (qr7 == 2'd0) ? p3[31:16] : (qr7 == 2'd1) ? p3[27:12] : p3[25:10];

  // ---- regrid: old index of new point ik (refine: x2), tap address ----
  wire signed [7:0] gi16 = $signed({3'b000, ik[4:0]}) - 8'sd16;
  wire signed [7:0] gj16 = $signed({3'b000, ik[9:5]}) - 8'sd16;
  wire signed [7:0] gu2 = $signed({2'b00, mi, 1'b0}) + gi16;
  wire signed [7:0] gv2 = $signed({2'b00, mj, 1'b0}) + gj16;
  wire signed [7:0] gus = $signed({3'b000, mi}) + (lm == L_RGC ? gi16 <<< 1 : gi16);
  wire signed [7:0] gvs = $signed({3'b000, mj}) + (lm == L_RGC ? gj16 <<< 1 : gj16);
  wire        gok_r = gu2 >= 8'sd0 && gv2 >= 8'sd0 && gu2 <= 8'sd62 && gv2 <= 8'sd62;
  wire        gok_s = gus >= 8'sd0 && gvs >= 8'sd0 && gus <= 8'sd31 && gvs <= 8'sd31;
  wire [4:0]  gti = gu2[5:1] + {4'd0, tap[0] & gu2[0]};
  wire [4:0]  gtj = gv2[5:1] + {4'd0, tap[1] & gv2[0]};
  wire [9:0]  gaddr = (lm == L_RGR) ? {gtj, gti} : {gvs[4:0], gus[4:0]};
  reg         gok1;
  reg  [17:0] gsum;
  wire [17:0] gtot = gsum + {{2{lq[15]}}, lq} + 18'd2;
  wire signed [15:0] rg_avg = $signed(gtot[17:2]);

  // ------------------------------------------------------------------ divider ----
  reg  [25:0] dv_r;
  reg  [31:0] dv_q;
  reg  [24:0] dv_d;
  reg  [4:0]  dv_n;
  reg         dv_neg;
  wire [26:0] dv_t = {dv_r, dv_q[31]} - {2'b00, dv_d};
  wire        dv_ge = !dv_t[26];

  // ------------------------------------------------------------------ scalars ----
  reg signed [15:0] mx, my;
  reg        [17:0] e2, var_r, nrm;
  reg        [4:0]  lp;
  reg signed [12:0] lvar;
  reg signed [15:0] lsig;
  reg signed [26:0] mpx, mpy;
  reg        [6:0]  dti;
  reg        [4:0]  dfr;
  reg        [15:0] dv0, dvv;
  reg        [15:0] cosv, sinv;
  reg signed [17:0] rhox;
  reg signed [15:0] x0r, y0r, bxr, byr;
  reg signed [26:0] d0;
  reg        [15:0] hsh;
  reg        [3:0]  hcnt;
  reg        [15:0] ampa;
  reg        [1:0]  kind;

  wire signed [31:0] X1 = $signed(p5) - $signed({3'd0, W, 4'd0});   // sum w (i - 16)
  wire signed [31:0] Y1 = $signed(p6) - $signed({3'd0, W, 4'd0});   // sum w (j - 16)
  wire [31:0] ax1 = X1[31] ? -X1 : X1;
  wire [31:0] ay1 = Y1[31] ? -Y1 : Y1;
  wire [4:0]  dmi = mi[4] ? mi - 5'd16 : 5'd16 - mi;
  wire [4:0]  dmj = mj[4] ? mj - 5'd16 : 5'd16 - mj;
  wire signed [26:0] p2s = {6'd0, p2[20:0]};
  wire [29:0] m2sum = {1'b0, p0[28:0]} + {1'b0, p1[28:0]} + 30'd2048;
  wire [17:0] m2s = m2sum[29:12];
  wire [16:0] lt17 = {1'b0, log2t_q} + 17'd128;
  wire [8:0]  lt8 = lt17[16:8];
  wire signed [13:0] lvar_n = $signed({1'b0, lp, 8'd0}) - 14'sd2048 + $signed({5'd0, lt8});
  wire signed [13:0] lvh = ($signed({lvar[12], lvar}) - 14'sd256) >>> 1;
  wire signed [20:0] ls_full = {{7{lvh[13]}}, lvh} - $signed({9'd0, lev, 8'd0});
  wire signed [15:0] ls_sat = (ls_full > 21'sd32767) ? 16'sd32767 : (ls_full < -21'sd32768) ? -16'sd32768 : ls_full[15:0];
  wire signed [16:0] dq = {lsig[15], lsig} + 17'sd3072;
  wire        refine = var_r < 18'd1024 && lev != 4'd15 && h >= 16'd2;     // BY_REFINE_V << 8
  wire        coarsen = var_r >= 18'd16384 && lev != 4'd0;    // BY_COARSEN_V << 8
  wire        shift = dmi > 5'd4 || dmj > 5'd4;
  // The placement's BY_LFSR_STEPS = 8 LFSR steps, one per cycle in the point loop (INIT or
  // A) before it: the angle is read only in S_P1..S_P4, after the loop (lfsr_n counts them).
  wire [31:0] lfsr1 = {lfsr[30:0], ^(lfsr & `BY_LFSR_TAPS)};
  reg  [3:0]  lfsr_n;
  // rho = +-(D |cos| + 8192 or 8191) >> 14 (floor of the signed product), 17-bit magnitude
  wire signed [17:0] rho_c = $signed({1'b0, p0[30:14]});
  wire signed [17:0] rho_x = cosv[15] ? -rho_c : rho_c;
  wire signed [17:0] rho_y = sinv[15] ? -rho_c : rho_c;
  wire signed [26:0] rxs = mpx + $signed({{5{rhox[17]}}, rhox, 4'd0});
  wire signed [26:0] rys = mpy + $signed({{5{rho_y[17]}}, rho_y, 4'd0});
  wire signed [26:0] codex = (rxs + 27'sd32) >>> 6;
  wire signed [26:0] codey = (rys + 27'sd32) >>> 6;
  wire signed [15:0] bx_n = sat16($signed({{11{x0r[15]}}, x0r}) + codex);
  wire signed [15:0] by_n = sat16($signed({{11{y0r[15]}}, y0r}) + codey);
  wire [26:0] dabs = d0[26] ? -d0 : d0;
  wire [43:0] umag = {1'b0, p1[26:0], 16'd0} + {12'd0, p0};
  wire [40:0] umag_c = (umag > 44'h80_0000_0000) ? 41'h080_0000_0000 : umag[40:0];
  wire [15:0] amax = (i_amp_max == 16'd0) ? 16'd1 : i_amp_max;
  wire [4:0]  dfr32 = 5'd0 - dfr;            // 32 - fr modulo 32 (fr = 0 handled below)

  // ------------------------------------------------------------------ operands and addresses ----
  always @* begin
    a0 = 16'd0; b0 = 16'd0; c0 = 32'd0;
    a1 = 16'd0; b1 = 16'd0; c1 = 32'd0;
    a2 = 16'd0; b2 = 16'd0; c2 = 32'd0;
    a3 = 16'd0; b3 = 16'd0; c3 = 32'd0; acc3 = 1'b0; en3 = 1'b0;
    a5 = 16'd0; b5 = 5'd0; b6 = 5'd0; acc5 = 1'b0; en5 = 1'b0;
    a4 = bw2;   b4 = p1[31:16];
    l0_a = ik; l1_a = ik; g_a = ik; nl_a = ik;
    l0_we = 1'b0; l1_we = 1'b0; g_we = 1'b0; nl_we = 1'b0;
    lw_d = ln; g_d = bG3; nl_d = bnlg;
    exp2_a = y[23:16];
    log2_a = m16[15:8];
    wt_a = 9'd0;
    cos_a = lfsr[7:0];
    dt_a = dti;
    buf_ra = rowf ? {1'b1, ij} : {1'b0, ii};
    buf_wa = {lm == L_PR, wk[4:0]};
    buf_we = st == S_LOOP && (lm == L_PC || lm == L_PR) && pv[6];
    buf_wy = Y7; buf_wd = qE7;
    mv = 1'b0; mw = wz ? 16'd0 : wt_q;
    if (st == S_LOOP) begin
      case (lm)
        L_INIT: begin
          a0 = i_prior_a; b0 = {6'd0, {1'b0, sq16(k1[4:0])} + {1'b0, sq16(k1[9:5])}}; c0 = 32'd32;
          wt_a = wti_neg[8:0];
          mv = pv[3];
          if (pv[2]) begin
            if (bank) begin l0_a = wk; l0_we = 1'b1; end
            else      begin l1_a = wk; l1_we = 1'b1; end
          end
        end
        L_A: begin
          a0 = {4'd0, eta[11:0]};  b0 = g_q; c0 = 32'h0004_0000;
          a1 = {4'd0, eta[23:12]}; b1 = s1g; c1 = {12'd0, p0[31:12]};
          a2 = {3'd0, n};          b2 = s2n; c2 = {7'd0, p1[31:7]};
          wt_a = wti_neg[8:0];
          mv = pv[6];
          if (pv[5]) begin
            if (bank) begin l0_a = wk; l0_we = 1'b1; end
            else      begin l1_a = wk; l1_we = 1'b1; end
          end
        end
        L_REDO: begin
          wt_a = wti_ml[8:0];
          mv = pv[1];
        end
        L_B: begin
          a0 = ybuf_q; b0 = er; c0 = b32c;
          a1 = bE;     b1 = yr; c1 = p0;
          a2 = g18[15:0]; b2 = 16'h8000 >> gp[3:0];
          a3 = log2d_q; b3 = {8'd0, bfr4}; c3 = 32'd128; en3 = 1'b1;
          wt_a = wti_ml[8:0];
          if (pv[3]) begin g_a = wk; g_we = 1'b1; end
          if (pv[6]) begin nl_a = nk; nl_we = 1'b1; end
        end
        L_PC, L_PR: begin
          a0 = pu; b0 = pu;
          a1 = exp2d_q; b1 = {8'd0, qfl3}; c1 = 32'd128;
          a2 = qef5; b2 = (qin5 == 5'd0 || qin5 == 5'd17) ? 16'd0 : (16'h8000 >> (qin5 - 5'd1)); c2 = 32'h0000_8000;
          a3 = qys6; b3 = E6;
          c3 = (qr6 == 2'd0) ? 32'h0000_8000 : (qr6 == 2'd1) ? 32'h0000_0800 : 32'h0000_0200;
          en3 = 1'b1;
        end
        default: begin   // regrid: read the old grid, write the new one to the other bank
          l0_a = gaddr; l1_a = gaddr;
          if (pv[1]) begin
            if (bank) begin l0_a = wk; l0_we = 1'b1; end
            else      begin l1_a = wk; l1_we = 1'b1; end
          end
        end
      endcase
      if (lm == L_INIT || lm == L_A || lm == L_REDO) begin
        a3 = mw; b3 = {6'd0, r2m}; acc3 = mk != 10'd0; en3 = mv;
        a5 = mw; b5 = mki; b6 = mkj; acc5 = mk != 10'd0; en5 = mv;
      end
    end else begin
      g_a = {mj, mi}; nl_a = {mj, mi};
      log2_a = nrm[16:9];
      case (st)
        S_X0: begin a2 = {11'd0, dmi}; b2 = h; end
        S_X1: begin a2 = {11'd0, dmj}; b2 = h; end
        S_V0: begin
          a0 = mx[15] ? 16'd0 - mx : mx; b0 = mx[15] ? 16'd0 - mx : mx;
          a1 = my[15] ? 16'd0 - my : my; b1 = my[15] ? 16'd0 - my : my;
        end
        S_P2: dt_a = dti + 7'd1;
        S_P3: begin
          a0 = dv0; b0 = (dfr == 5'd0) ? 16'd32 : {11'd0, dfr32};
          a1 = dt_q; b1 = {11'd0, dfr};
        end
        S_P4: cos_a = lfsr[7:0] - 8'd64;
        S_P5: begin a0 = dvv; b0 = cosv[15] ? 16'd0 - cosv : cosv; c0 = cosv[15] ? 32'd8191 : 32'd8192; end
        S_P6: begin a0 = dvv; b0 = sinv[15] ? 16'd0 - sinv : sinv; c0 = sinv[15] ? 32'd8191 : 32'd8192; end
        S_U0: begin
          a0 = dabs[15:0];          b0 = i_inv_s;
          a1 = {5'd0, dabs[26:16]}; b1 = i_inv_s;
          a2 = h;                   b2 = i_inv_s;
        end
        S_A0: begin a0 = i_mu; b0 = W[23:8]; end
        S_A3: begin a0 = ampa; b0 = i_km; c0 = 32'd128; end
        S_R1: begin a0 = {4'd0, eta[11:0]}; b0 = g_q; c0 = 32'h0004_0000; end
        S_R2: begin a1 = {4'd0, eta[23:12]}; b1 = s1g; c1 = {12'd0, p0[31:12]}; end
        S_R3: begin a2 = {3'd0, n}; b2 = s1n; c2 = {7'd0, p1[31:7]}; end
        default: ;
      endcase
    end
  end

  // ------------------------------------------------------------------ sequencer ----
  always @(posedge clk) begin
    o_upd <= 1'b0;
    if (rst || i_abort) begin
      st <= S_IDLE;
      iss <= 1'b0;
      pv <= 8'd0;
      o_exp_valid <= 1'b0;
    end else begin
      case (st)
        S_IDLE: if (i_start) begin
          lev <= 4'd0; h <= i_h0; cx <= 26'sd0; cy <= 26'sd0; M <= 16'sd0;
          mi <= 5'd16; mj <= 5'd16; lfsr <= (i_seed == 32'd0) ? 32'd1 : i_seed; lfsr_n <= 4'd0;
          photons <= 32'd0; o_photons <= 32'd0; o_exposures <= 32'd0; o_status <= 4'd0;
          eta <= 24'd0; first <= 1'b1; bank <= 1'b0; b32c <= i_b32 + 32'd8192;
          x0r <= i_x0; y0r <= i_y0;
          lm <= L_INIT; st <= S_LOOP; iss <= 1'b1; ik <= 10'd0; wk <= 10'd0; mk <= 10'd0; pv <= 8'd0;
          W <= 25'd0;
        end

        // ---------------- point loops ----------------
        S_LOOP: begin
          if ((lm == L_INIT || lm == L_A) && !lfsr_n[3]) begin lfsr <= lfsr1; lfsr_n <= lfsr_n + 4'd1; end
          pv <= {pv[6:0], slot_pt};
          k1 <= ik;
          rowf1 <= lm == L_B && iss && rowf;
          tap1 <= tap;
          if (iss) begin
            if (lm == L_B && rowf) rowf <= 1'b0;
            else begin
              if (lm == L_RGR) tap <= tap + 2'd1;
              if (lm != L_RGR || tap == 2'd3) begin
                ik <= ik + 10'd1;
                if (lm == L_B && ik[4:0] == 5'd31) rowf <= 1'b1;
              end
              if (last_slot) iss <= 1'b0;
            end
          end
          if (mv) begin
            W <= W + {9'd0, mw};
            mk <= mk + 10'd1;
          end
          case (lm)
            L_INIT: begin
              if (pv[1]) ln <= ln_i;
              if (pv[2]) begin wz <= wti_neg[9]; wk <= wk + 10'd1; end
            end
            L_A: begin
              if (pv[0]) begin s1g <= g_q; s1n <= nl_q; s1l <= lq; end
              if (pv[1]) begin s2n <= s1n; s2l <= s1l; end
              if (pv[2]) s3l <= s2l;
              if (pv[3]) begin dh <= dh_n; tl <= {s3l[15], s3l} - {M[15], M}; end
              if (pv[4]) ln <= ln_a;
              if (pv[5]) begin
                wz <= wti_neg[9];
                wk <= wk + 10'd1;
                if (ln > Mn) begin Mn <= ln; kmax <= wk; end
                if (ln > 16'sd1024) over <= 1'b1;
              end
            end
            L_REDO: if (pv[0]) wz <= wti_ml[9];
            L_B: begin
              if (rowf1) begin yr <= ybuf_q; er <= ebuf_q; end
              if (pv[0]) begin bE <= ebuf_q; wz <= wti_ml[9]; end
              if (pv[1]) bw2 <= wz ? 16'd0 : wt_q;
              if (pv[2]) begin
                bp3 <= gp; bg3 <= g18; bG3 <= p1[31:16]; bz3 <= g18 == 18'd0;
                W <= W + {9'd0, bw2};
              end
              if (pv[3]) begin
                bfr4 <= m16[7:0]; bp4 <= bp3; bz4 <= bz3;
                A2 <= A2 + {11'd0, p4[28:10]};
                wk <= wk + 10'd1;
              end
              if (pv[4]) begin bp5 <= bp4; bz5 <= bz4; bt5 <= log2t_q; end
              if (pv[5]) bnlg <= nlg_n;
              if (pv[6]) nk <= nk + 10'd1;
            end
            L_PC, L_PR: begin
              if (iss) begin pu <= u_abs; U <= U + $signed({9'd0, HS}); end
              if (pv[1]) begin
                qin3 <= (y[31:24] >= 8'd17) ? 5'd17 : y[28:24];
                qfl3 <= y[15:8];
                qr3  <= (y < 32'h0100_0000) ? 2'd0 : (y < 32'h1000_0000) ? 2'd1 : 2'd2;
                qys3 <= (y < 32'h0100_0000) ? y[23:8] : (y < 32'h1000_0000) ? y[27:12] : y[29:14];
              end
              if (pv[2]) begin qin4 <= qin3; qr4 <= qr3; qys4 <= qys3; qt4 <= exp2t_q; end
              if (pv[3]) begin qin5 <= qin4; qr5 <= qr4; qys5 <= qys4; qef5 <= ef_n; end
              if (pv[4]) begin qin6 <= qin5; qr6 <= qr5; qys6 <= qys5; qef6 <= qef5; end
              if (pv[5]) begin qE7 <= E6; qr7 <= qr6; end
              if (pv[6]) wk <= wk + 10'd1;
            end
            default: begin  // regrid
              if (lm != L_RGR || tap == 2'd0) gok1 <= (lm == L_RGR) ? gok_r : gok_s;
              if (tap1 == 2'd0) gsum <= {{2{lq[15]}}, lq};
              else gsum <= gsum + {{2{lq[15]}}, lq};
              if (pv[0]) ln <= !gok1 ? -16'sd32768 : (lm == L_RGR) ? rg_avg : lq;
              if (pv[1]) wk <= wk + 10'd1;
            end
          endcase
          if (!iss && pv == 8'd0) begin
            case (lm)
              L_INIT: begin bank <= !bank; st <= S_X0; end
              L_A: begin
                bank <= !bank; M <= Mn; mi <= kmax[4:0]; mj <= kmax[9:5];
                if (over) begin
                  lm <= L_REDO; iss <= 1'b1; ik <= 10'd0; mk <= 10'd0;
                  W <= 25'd0;
                end else st <= S_X0;
              end
              L_REDO: st <= S_X0;
              L_B: st <= S_A0;
              L_PC: st <= S_P10;
              L_PR: begin
                lm <= L_B; iss <= 1'b1; rowf <= 1'b1; ik <= 10'd0; wk <= 10'd0; nk <= 10'd0;
                W <= 25'd0; A2 <= 30'd0;
              end
              default: st <= S_RU;
            endcase
          end
        end

        // ---------------- moments -> mean, var, log2 std ----------------
        S_X0: begin                          // mx = sum w (i - 16) 2^10 / W, sign-magnitude
          dv_d <= W; dv_neg <= X1[31];
          dv_r <= {1'b0, ax1[29:5]}; dv_q <= {ax1[4:0], 27'd0};
          dv_n <= 5'd15; st <= S_DX;
        end
        S_DX: begin
          if (dv_n == 5'd15) mpx <= {cx[25], cx} + (mi[4] ? p2s : -p2s);
          dv_r <= dv_ge ? dv_t[25:0] : {dv_r[24:0], dv_q[31]};
          dv_q <= {dv_q[30:0], dv_ge};
          dv_n <= dv_n - 5'd1;
          if (dv_n == 5'd1) st <= S_X1;
        end
        S_X1: begin
          mx <= dv_neg ? -$signed({1'b0, dv_q[14:0]}) : $signed({1'b0, dv_q[14:0]});
          dv_neg <= Y1[31];
          dv_r <= {1'b0, ay1[29:5]}; dv_q <= {ay1[4:0], 27'd0};
          dv_n <= 5'd15; st <= S_DY;
        end
        S_DY: begin
          if (dv_n == 5'd15) mpy <= {cy[25], cy} + (mj[4] ? p2s : -p2s);
          dv_r <= dv_ge ? dv_t[25:0] : {dv_r[24:0], dv_q[31]};
          dv_q <= {dv_q[30:0], dv_ge};
          dv_n <= dv_n - 5'd1;
          if (dv_n == 5'd1) st <= S_E0;
        end
        S_E0: begin                          // e2 = S2 2^8 / W
          my <= dv_neg ? -$signed({1'b0, dv_q[14:0]}) : $signed({1'b0, dv_q[14:0]});
          dv_r <= {4'd0, p3[31:10]}; dv_q <= {p3[9:0], 22'd0}; dv_n <= 5'd18; st <= S_DE;
        end
        S_DE: begin
          dv_r <= dv_ge ? dv_t[25:0] : {dv_r[24:0], dv_q[31]};
          dv_q <= {dv_q[30:0], dv_ge};
          dv_n <= dv_n - 5'd1;
          if (dv_n == 5'd1) st <= S_V0;
        end
        S_V0: begin e2 <= dv_q[17:0]; st <= S_V1; end          // p0, p1 = mx^2, my^2
        S_V1: begin
          var_r <= (e2 > m2s) ? e2 - m2s : 18'd1;
          nrm   <= (e2 > m2s) ? e2 - m2s : 18'd1;
          lp <= 5'd17; st <= S_LG;
        end
        S_LG: if (nrm[17]) st <= S_LT; else begin nrm <= {nrm[16:0], 1'b0}; lp <= lp - 5'd1; end
        S_LT: begin
          lvar <= lvar_n[12:0];
          st <= S_LV;
        end
        S_LV: begin
          lsig <= ls_sat;
          o_map_x <= mpx[23:0]; o_map_y <= mpy[23:0]; o_lev <= lev;
          st <= S_ST;
        end
        S_ST: begin
          o_lsig <= lsig; o_photons <= photons; o_upd <= 1'b1;
          if (!first && ((i_nmax != 32'd0 && photons >= i_nmax) || lsig < i_lsig_stop)) begin
            o_status <= {lsig < i_lsig_stop, i_nmax != 32'd0 && photons >= i_nmax, 2'b10};
            st <= S_IDLE;
          end else st <= S_RG;
        end
        S_RG: begin
          kind <= refine ? 2'd2 : coarsen ? 2'd3 : shift ? 2'd1 : 2'd0;
          if (refine || coarsen || shift) begin
            st <= S_LOOP; iss <= 1'b1; ik <= 10'd0; wk <= 10'd0; tap <= 2'd0;
            lm <= refine ? L_RGR : coarsen ? L_RGC : L_RGS;
          end else st <= S_P0;
        end
        S_RU: begin
          cx <= mpx[25:0]; cy <= mpy[25:0]; mi <= 5'd16; mj <= 5'd16; bank <= !bank;
          if (kind == 2'd2) begin lev <= lev + 4'd1; h <= h >> 1; st <= S_P0; end
          else if (kind == 2'd3) begin lev <= lev - 4'd1; hsh <= i_h0; hcnt <= lev - 4'd1; st <= S_HC; end
          else st <= S_P0;
        end
        S_HC: if (hcnt == 4'd0) begin h <= hsh; st <= S_P0; end else begin hsh <= hsh >> 1; hcnt <= hcnt - 4'd1; end

        // ---------------- placement ----------------
        S_P0: begin
          if (dq[16]) begin dti <= 7'd0; dfr <= 5'd0; end
          else if (dq[15:5] >= 11'd127) begin dti <= 7'd127; dfr <= 5'd0; end
          else begin dti <= dq[11:5]; dfr <= dq[4:0]; end
          st <= S_P1;
        end
        S_P1: st <= S_P2;                              // D[t] read
        S_P2: begin dv0 <= dt_q; st <= S_P3; end       // D[t + 1] read
        S_P3: st <= S_P4;                              // p0 = D[t] (32 - fr), p1 = D[t+1] fr; cos read
        S_P4: begin dvv <= dvsum[20:5]; cosv <= cos_q; st <= S_P5; end   // sin read
        S_P5: begin sinv <= cos_q; st <= S_P6; end     // p0 = D |cos|
        S_P6: begin rhox <= rho_x; st <= S_P7; end     // p0 = D |sin|
        S_P7: begin bxr <= bx_n; byr <= by_n; st <= S_P8; end
        S_P8: begin                                    // into the safe window, as dac_spi clamps
          bxr <= (bxr < i_xmin) ? i_xmin : (bxr > i_xmax) ? i_xmax : bxr;
          byr <= (byr < i_ymin) ? i_ymin : (byr > i_ymax) ? i_ymax : byr;
          st <= S_P9;
        end
        S_P9: begin                                    // d0 = cx - 16 h - rx (columns)
          d0 <= {cx[25], cx} - $signed({7'd0, h, 4'd0}) - $signed({{5{bxr[15]}}, bxr, 6'd0}) + $signed({{5{x0r[15]}}, x0r, 6'd0});
          rows <= 1'b0; st <= S_U0;
        end
        S_P10: begin                                   // d0 for the rows
          d0 <= {cy[25], cy} - $signed({7'd0, h, 4'd0}) - $signed({{5{byr[15]}}, byr, 6'd0}) + $signed({{5{y0r[15]}}, y0r, 6'd0});
          rows <= 1'b1; st <= S_U0;
        end
        S_U0: st <= S_U1;                              // p0, p1 = |d0| INV_S halves, p2 = h INV_S
        S_U1: begin
          U <= d0[26] ? -$signed(umag_c) : $signed(umag_c);
          HS <= p2;
          st <= S_LOOP; lm <= rows ? L_PR : L_PC; iss <= 1'b1; ik <= 10'd0; wk <= 10'd0; pv <= 8'd0;
        end

        // ---------------- laser code ----------------
        S_A0: begin dv_d <= (A2[29:8] == 22'd0) ? 25'd1 : {3'd0, A2[29:8]}; st <= S_A1; end   // p0 = MU (W >> 8)
        S_A1: begin
          if ({10'd0, p0[31:17]} >= dv_d) begin ampa <= amax; st <= S_A3; end
          else begin dv_r <= {11'd0, p0[31:17]}; dv_q <= {p0[16:0], 15'd0}; dv_n <= 5'd17; st <= S_DA; end
        end
        S_DA: begin
          dv_r <= dv_ge ? dv_t[25:0] : {dv_r[24:0], dv_q[31]};
          dv_q <= {dv_q[30:0], dv_ge};
          dv_n <= dv_n - 5'd1;
          if (dv_n == 5'd1) st <= S_A2;
        end
        S_A2: begin
          ampa <= (dv_q[16:0] > {1'b0, amax}) ? amax : (dv_q[16:0] == 17'd0) ? 16'd1 : dv_q[15:0];
          st <= S_A3;
        end
        S_A3: st <= S_A4;                              // p0 = A KM + 128
        S_A4: begin
          eta <= p0[31:8];
          o_beam_x <= bxr; o_beam_y <= byr; o_amp <= ampa; o_exp_valid <= 1'b1;
          st <= S_OUT;
        end
        S_OUT: if (i_exp_ready) begin o_exp_valid <= 1'b0; st <= S_WAIT; end
        S_WAIT: if (i_cnt_valid) begin n <= i_cnt; st <= S_R0; end

        // ---------------- the previous MAP's cost, then pass A ----------------
        S_R0: begin                                    // G, NLG of the MAP read
          photons <= ({1'b0, photons} + {20'd0, n} > 33'hFFFF_FFFF) ? 32'hFFFF_FFFF : photons + {19'd0, n};
          o_exposures <= o_exposures + 32'd1;
          first <= 1'b0;
          st <= S_R1;
        end
        S_R1: begin s1g <= g_q; s1n <= nl_q; st <= S_R2; end   // p0 = el G + 2^18
        S_R2: st <= S_R3;                              // p1 = eh G + p0 >> 12
        S_R3: st <= S_R4;                              // p2 = n NLG + p1 >> 7
        S_R4: begin
          rcost <= p2[30:0]; lfsr_n <= 4'd0;
          st <= S_LOOP; lm <= L_A; iss <= 1'b1; ik <= 10'd0; wk <= 10'd0; mk <= 10'd0; pv <= 8'd0;
          Mn <= -16'sd32768; kmax <= 10'd0; over <= 1'b0;
          W <= 25'd0;
        end
        default: st <= S_IDLE;
      endcase
    end
  end
  wire [20:0] dvsum = p0[20:0] + p1[20:0] + 21'd16;

  // bits computed by full-width expressions and not needed
  wire unused_ok = &{1'b0, p4[31:29], p4[9:0], dfull[0], bg3[17], l17r[4:0], urnd[19:0], gtot[1:0],
                     ax1[31:30], ay1[31:30], m2sum[11:0], dvsum[4:0], lvar_n[13], lt17[7:0]};

endmodule
