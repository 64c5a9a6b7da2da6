`default_nettype none
// mlms: live mLMS position estimator (seed 003 eq. S51, k = 1 or 2) of the 4-doughnut
// pattern; a 12-cycle sequential datapath on two SB_MAC16, bit-exact with hls-c/mlms.c.
//
// Arithmetic (hls-c/mlms.c is the specification): u = n1 + n2 - 2 n3, v = n2 - n1,
// N = n0 + n1 + n2 + n3; M = N << lz in [2^14, 2^15); r ~ 2^30/M from the reciprocal
// table (T, D in two EBRs) with linear interpolation; p0 = n0/N, sx = |u|/2N, sy = |v|/N
// (UQ0.16); B = beta0 + beta1 p0 [+ beta2 p0^2] (UQ3.13); x = +-KX B sx, y = +-KY B sy
// with KX = L F/2, KY = KX sqrt(3)/2 recomputed from the ports for every quartet.
// Both multipliers compute p = a b + {c, d}: 16 x 16 unsigned products plus a 32-bit
// post-adder input (rounding constant, a sign correction or a running sum), so
// absolute values, rounding and the B sum cost no carry chains in front of a DSP.
// Timing rule: at most one carry chain between two registers; the steps are one-hot
// (step_reg) and the operands an AND-OR of them (two LUT levels).
//
// Schedule (step = cycles after the i_valid cycle; A, B = the two multipliers):
//   0 (i_valid) N, u, v (carry-save + one chain each)
//   1 E = floor(log2 N) (lz = 14 - E), ok, beta0c   B: L F
//   2 KX                                        A: N 2^lz = M       B: (u^su) 2^lz + su 2^lz
//   3 table read at M[13:6]; |u|s               A: (v^sv) 2^lz + .. B: KX S3
//   4 |v|s; KY                                  A: n0 2^lz          B: D f + {~T, 32}
//   5 r = ~(B >> 6) = T - D f/64                A: n0s r            B: |u|s r
//   6 sx                                        A: p0 p0            B: beta1 p0 + {s1 ~p0, 2^14}
//   7 Y = beta0c + s2k2 ~q                      A: beta2 q + P1     B: |v|s r
//   8 B = (P2 + Y 2^16) >> 15 (0 if negative); sy
//   9                                           A: B sx             B: B sy
//  10                                           A: KX Cx            B: KY Cy
//  11 o_x, o_y, o_ok; o_valid (high in the 12th cycle after i_valid)
// A quartet presented while o_busy is high is ignored. The parameter ports must hold
// their values from the i_valid cycle until o_valid.

module mlms (
    input  wire               clk,
    input  wire               rst,
    input  wire               i_valid,
    input  wire        [12:0] i_n0,      // centre exposure
    input  wire        [12:0] i_n1,      // exposures at (L/2)(cos a_i, sin a_i), a_i = i 120 deg
    input  wire        [12:0] i_n2,
    input  wire        [12:0] i_n3,
    input  wire         [1:0] i_k,       // EST_K: 2 = k=2, else k=1
    input  wire        [14:0] i_thresh,  // EST_THRESH, counts
    input  wire        [15:0] i_L,       // EST_L, UQ10.6 nm
    input  wire        [15:0] i_F,       // EST_F, UQ3.13
    input  wire        [15:0] i_beta0,   // EST_BETA0..2, Q4.12
    input  wire        [15:0] i_beta1,
    input  wire        [15:0] i_beta2,
    output reg                o_valid,   // one-cycle pulse
    output reg  signed [15:0] o_x,       // Q11.5 nm, saturating to +-(2^15-1)
    output reg  signed [15:0] o_y,
    output reg                o_ok,      // N > 0 and N >= i_thresh
    output wire               o_busy
);

`include "minflux_regs.vh"
`include "est_tables.vh"

  // The formats below are the ones of hls-c/regmap_est.h; stop if they drift.
  generate
    if (EST_N_W != 13 || EST_NSUM_W != 15 || EST_POS_W != 16 || EST_POS_FRAC != 5 ||
        EST_L_FRAC != 6 || EST_F_FRAC != 13 || EST_BETA_FRAC != 12 || EST_K_FRAC != 6 ||
        EST_P_FRAC != 16 || EST_B_FRAC != 13 || EST_TAB_IDX_W != 8 || EST_MLMS_LAT != 12) begin : g_fmt
      mlms_formats_differ_from_regmap_est_h u_stop ();
    end
  endgenerate

  localparam [15:0] S3 = EST_SQRT3_2[15:0];   // sqrt(3)/2, UQ0.16

  // ---- control ----
  reg  [11:1] step_reg; // one-hot: step_reg[k] high during step k
  reg         busy_reg; // = |step_reg, kept as a register for a short start path
  assign o_busy = busy_reg;
  wire start = i_valid && !busy_reg;

  always @(posedge clk) begin
    o_valid <= 1'b0;
    if (rst) begin
      step_reg <= 11'd0;
      busy_reg <= 1'b0;
    end else begin
      step_reg <= {step_reg[10:1], start};
      busy_reg <= start || (busy_reg && !step_reg[11]);
      o_valid  <= step_reg[11];
    end
  end

  // ---- step 0 (capture): N and u through a carry-save stage, v ----
  wire [14:0] c0a = {2'b00, i_n0}, c0b = {2'b00, i_n1}, c0c = {2'b00, i_n2}, c0d = {2'b00, i_n3};
  wire [14:0] nsa = c0a ^ c0b ^ c0c;
  wire [14:0] nca = ((c0a & c0b) | (c0a & c0c) | (c0b & c0c)) << 1;
  wire [14:0] nsb = nsa ^ nca ^ c0d;
  wire [14:0] ncb = ((nsa & nca) | (nsa & c0d) | (nca & c0d)) << 1;
  wire [15:0] u0a = {3'b000, i_n1}, u0b = {3'b000, i_n2}, u0c = ~{2'b00, i_n3, 1'b0};
  wire [15:0] usa = u0a ^ u0b ^ u0c;
  wire [15:0] uca = {((u0a[14:0] & u0b[14:0]) | (u0a[14:0] & u0c[14:0]) | (u0b[14:0] & u0c[14:0])), 1'b1};
  reg  [12:0] n0_reg;
  reg  [14:0] nsum_reg;
  reg  [15:0] u_reg;    // u, two's complement (the 1 in uca completes -2 n3)
  reg  [13:0] v_reg;    // v, two's complement
  always @(posedge clk)
    if (start) begin
      n0_reg   <= i_n0;
      nsum_reg <= nsb + ncb;
      u_reg    <= usa + uca;
      v_reg    <= {1'b0, i_n2} - {1'b0, i_n1};
    end
  wire su = u_reg[15], sv = v_reg[13];

  // ---- step 1: normalization shift, threshold, beta0 + sign corrections ----
  // floor(log2 N), N = 0 gives 0 (the datapath then yields x = y = 0). Flat for timing:
  // per nibble "nonzero" and its own floor(log2) (one LUT each), then the top nonzero
  // nibble picks the low two bits.
  wire [15:0] nn = {1'b0, nsum_reg};
  wire [3:0]  nz, hb1, hb0;
  genvar gq;
  generate
    for (gq = 0; gq < 4; gq = gq + 1) begin : g_nib
      assign nz[gq]  = |nn[4*gq +: 4];
      assign hb1[gq] = nn[4*gq+3] | nn[4*gq+2];
      assign hb0[gq] = nn[4*gq+3] | (!nn[4*gq+2] & nn[4*gq+1]);
    end
  endgenerate
  wire       e3  = nz[3] | nz[2];
  wire       e2  = nz[3] | (!nz[2] & nz[1]);
  wire       e1  = nz[3] ? hb1[3] : nz[2] ? hb1[2] : nz[1] ? hb1[1] : hb1[0];
  wire       e0  = nz[3] ? hb0[3] : nz[2] ? hb0[2] : nz[1] ? hb0[1] : hb0[0];
  wire       unused_nz0 = &{1'b0, nz[0]};   // the lowest nibble's own flag is not needed
  wire        k2  = i_k == 2'd2;
  wire        s1  = i_beta1[15];
  wire        s2k = i_beta2[15] && k2;
  reg  [3:0]  e_reg;                                           // floor(log2 N)
  reg         ok_reg;
  reg  [15:0] b0c_reg;                                          // beta0 + s1 + s2k
  always @(posedge clk)
    if (step_reg[1]) begin
      e_reg   <= {e3, e2, e1, e0};
      ok_reg  <= |nsum_reg && nsum_reg >= i_thresh;
      b0c_reg <= i_beta0 + {14'd0, s1 && s2k, s1 ^ s2k};
    end
  wire [15:0] pow2_lz = 16'h4000 >> e_reg;                     // 2^lz, lz = 14 - E

  // ---- products ----
  reg  [31:0] pa_reg, pb_reg;

  // ---- reciprocal table: T[i] ~ 2^24/(256+i), D[i] = T[i] - T[i+1] (EBRs) ----
  reg [15:0] rt_mem [0:255];
  reg [15:0] rd_mem [0:255];
  initial begin
    `EST_RECIP_T_INIT(rt_mem)
    `EST_RECIP_D_INIT(rd_mem)
  end
  reg [15:0] rt_q, rd_q;
  reg [5:0]  f_reg;                   // M[5:0], the interpolation fraction
  always @(posedge clk)
    if (step_reg[3]) begin       // read once, addressed by M = N 2^lz; held after
      rt_q  <= rt_mem[pa_reg[13:6]];
      rd_q  <= rd_mem[pa_reg[13:6]];
      f_reg <= pa_reg[5:0];
    end

  // ---- operand selection: p = a b + {c, d} ----
  reg  [15:0] aa, ab, ac, ad, ba, bb, bc, bd;
  reg  [15:0] kx_reg, ky_reg, aus_reg, avs_reg, r_reg, sx_reg, sy_reg, y_reg, bg_reg;

  // slices of the products (the model's est_mul_rnd / est_mul_rnd16)
  wire [15:0] r_c   = ~pb_reg[21:6];                                // T - (D f + 32) >> 6
  wire [15:0] p0_c  = (|pa_reg[31:30]) ? 16'hFFFF : pa_reg[29:14];  // n0s r >> 14
  wire [15:0] q_c   = pa_reg[31:16];                                // p0 p0 >> 16
  wire [15:0] sx_c  = pb_reg[31] ? 16'hFFFF : pb_reg[30:15];        // |u|s r >> 15
  wire [15:0] sy_c  = (|pb_reg[31:30]) ? 16'hFFFF : pb_reg[29:14];  // |v|s r >> 14
  wire [15:0] cx_c  = pa_reg[31:16];     // B sx >> 16 (B sx + 2^15 < 2^32: no saturation)
  wire [15:0] cy_c  = pb_reg[31:16];     // B sy >> 16

  // One-hot AND-OR selection (two LUT levels per bit): S(sel, v) = v when sel, else 0.
  function [15:0] S;
    input        sel;
    input [15:0] v;
    S = {16{sel}} & v;
  endfunction
  always @* begin
    aa = S(step_reg[2], {1'b0, nsum_reg}) | S(step_reg[3], {2'b00, v_reg ^ {14{sv}}}) | S(step_reg[4], {3'd0, n0_reg})
       | S(step_reg[5], pa_reg[15:0]) | S(step_reg[6], p0_c) | S(step_reg[7] && k2, i_beta2) | S(step_reg[9], bg_reg)
       | S(step_reg[10], kx_reg);
    ab = S(step_reg[2] | step_reg[3] | step_reg[4], pow2_lz) | S(step_reg[5], r_c) | S(step_reg[6], p0_c) | S(step_reg[7], q_c)
       | S(step_reg[9], sx_reg) | S(step_reg[10], cx_c);
    ac = S(step_reg[7], pb_reg[31:16]) | S(step_reg[10] && su, 16'hFFFF);
    ad = S(step_reg[3] && sv, pow2_lz) | S(step_reg[5], 16'h2000) | S(step_reg[6] | step_reg[9], 16'h8000)
       | S(step_reg[7], pb_reg[15:0]) | S(step_reg[10], su ? 16'hE000 : 16'h2000);
    ba = S(step_reg[1], i_L) | S(step_reg[2], u_reg ^ {16{su}}) | S(step_reg[3], kx_reg) | S(step_reg[4], rd_q)
       | S(step_reg[5], aus_reg) | S(step_reg[6], i_beta1) | S(step_reg[7], avs_reg) | S(step_reg[9], bg_reg)
       | S(step_reg[10], ky_reg);
    bb = S(step_reg[1], i_F) | S(step_reg[2], pow2_lz) | S(step_reg[3], S3) | S(step_reg[4], {10'd0, f_reg})
       | S(step_reg[5], r_c) | S(step_reg[6], p0_c) | S(step_reg[7], r_reg) | S(step_reg[9], sy_reg) | S(step_reg[10], cy_c);
    bc = S(step_reg[4], {10'd0, ~rt_q[15:10]}) | S(step_reg[6] && s1, ~p0_c) | S(step_reg[10] && sv, 16'hFFFF);
    bd = S(step_reg[1], 16'h2000) | S(step_reg[2] && su, pow2_lz) | S(step_reg[3], 16'h8000)
       | S(step_reg[4], {~rt_q[9:0], 6'h20}) | S(step_reg[5] | step_reg[6], 16'h4000) | S(step_reg[7], 16'h2000)
       | S(step_reg[9], 16'h8000) | S(step_reg[10], sv ? 16'hE000 : 16'h2000);
  end

  always @(posedge clk) begin
    pa_reg <= aa * ab + {ac, ad};
    pb_reg <= ba * bb + {bc, bd};
  end

  // ---- datapath registers ----
  wire [15:0] bhi = pa_reg[31:16] + y_reg;                  // P2 + Y 2^16, upper half
  always @(posedge clk) begin          // step_reg is one-hot: at most one of these fires
    if (step_reg[2]) kx_reg  <= (|pb_reg[31:30]) ? 16'hFFFF : pb_reg[29:14];
    if (step_reg[3]) aus_reg <= pb_reg[15:0];
    if (step_reg[4]) begin avs_reg <= pa_reg[15:0]; ky_reg <= pb_reg[31:16]; end
    if (step_reg[5]) r_reg   <= r_c;
    if (step_reg[6]) sx_reg  <= sx_c;
    if (step_reg[7]) y_reg   <= b0c_reg + (s2k ? ~q_c : 16'd0);
    if (step_reg[8]) begin bg_reg <= bhi[15] ? 16'd0 : {bhi[14:0], pa_reg[15]}; sy_reg <= sy_c; end
  end

  // ---- step 11: signed Q11.5 output without a carry chain ----
  // Positive: P = q + 2^13, m = P >> 14 = round(q / 2^14), out = min(m, 2^15 - 1).
  // Negative: P = q - 2^13 (mod 2^32), so P >> 14 = m - 1 and -m = ~(m - 1); P wraps to
  // all ones above bit 12 exactly when m = 0. Same values as hls-c/mlms.c (sat., sign).
  function [15:0] signed_out;
    input [31:13] p;
    input        neg;
    begin
      if (!neg)
        signed_out = (|p[31:29]) ? 16'h7FFF : {1'b0, p[28:14]};
      else if (&p[31:13])
        signed_out = 16'h0000;                                   // m = 0
      else if ((|p[31:29]) || (&p[28:14]))
        signed_out = 16'h8001;                                   // m >= 2^15: -(2^15 - 1)
      else
        signed_out = ~{1'b0, p[28:14]};                          // -(m - 1) - 1 = -m
    end
  endfunction
  always @(posedge clk)
    if (step_reg[11]) begin
      o_x  <= signed_out(pa_reg[31:13], su);    // N = 0: u = 0, x = +0
      o_y  <= signed_out(pb_reg[31:13], sv);
      o_ok <= ok_reg;
    end

endmodule
