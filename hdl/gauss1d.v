`default_nettype none
// gauss1d: 1D Gaussian MLE (seed 003 eq. S40) per axis, x = G ln(n0/n1), y = G ln(n2/n3),
// G = fwhm^2/(8 ln2 L); one SB_MAC16 and two EBRs, bit-exact with hls-c/gauss1d.c.
//
// Arithmetic (hls-c/gauss1d.c is the specification): ln n = E ln2 + T[i] + (D[i] f + 8)/16
// with E = floor(log2 n), M = n << (12 - E), i = M[11:4], f = M[3:0] (UQ4.16); the
// difference d = ln a - ln b is scaled by 2^s, s = 3, 2, 1, 0 for G >= 512, 256, 128 nm,
// else (static during an estimate), to dq = round(|d| 2^s / 16) (16 bits, saturating) and
// x = +-round(G dq / 2^(13+s)), Q11.5 nm, saturating; x = 0 when a = 0 or b = 0. The
// multiplier computes p = a b + {c, d}; the table interpolation adds T through {c, d}.
// At most one carry chain between registers.
//
// Schedule (step = cycles after the i_valid cycle; log unit stages for input j = 0..3):
//   0 (i_valid) load n0..n3 into the shift register; zero flags
//   j+1  E = floor(log2 n_j); N += n_j              (steps 1..4; N >= thresh at 5)
//   j+2  M = n_j << (12 - E)                        (2..5)
//   j+3  table read at M[11:4]                      (3..6)
//   j+4  DSP: D f + {T, 8}                          (4..7)
//   j+5  ln_j = ELN2[E] + (DSP >> 4)                (5..8)
//   x:  7 d = ln0 - ln1   8 dq   9 DSP: G dq  10 sat(DSP >> (13+s))  11 sign
//   y:  9 d = ln2 - ln3  10 dq  11 DSP: G dq  12 sat                  13 sign; o_valid in 14
// o_x changes in step 11, o_y and o_ok in step 13; all hold until step 11 of the next estimate.
// A quartet presented while o_busy is high is ignored. i_thresh and i_G must hold their
// values from the i_valid cycle until o_valid.

module gauss1d (
    input  wire               clk,
    input  wire               rst,
    input  wire               i_valid,
    input  wire        [12:0] i_n0,      // Gaussian beam at +L/2 on x (S38/S40)
    input  wire        [12:0] i_n1,      // at -L/2 on x
    input  wire        [12:0] i_n2,      // at +L/2 on y
    input  wire        [12:0] i_n3,      // at -L/2 on y
    input  wire        [14:0] i_thresh,  // EST_THRESH, counts
    input  wire        [15:0] i_G,       // EST_G, UQ10.6 nm
    output reg                o_valid,   // one-cycle pulse
    output reg  signed [15:0] o_x,       // Q11.5 nm, saturating to +-(2^15-1)
    output reg  signed [15:0] o_y,
    output reg                o_ok,      // N > 0 and N >= i_thresh (N = n0+n1+n2+n3)
    output wire               o_busy
);

`include "minflux_regs.vh"
`include "est_tables.vh"

  // The formats below are the ones of hls-c/regmap_est.h; stop if they drift.
  generate
    if (EST_N_W != 13 || EST_NSUM_W != 15 || EST_POS_W != 16 || EST_POS_FRAC != 5 ||
        EST_G_FRAC != 6 || EST_LN_FRAC != 16 || EST_TAB_IDX_W != 8 || EST_GAUSS_LAT != 14) begin : g_fmt
      gauss1d_formats_differ_from_regmap_est_h u_stop ();
    end
  endgenerate

  `EST_ELN2_FUNC

  // ---- control ----
  reg        busy_reg;
  reg  [3:0] step_reg;
  assign o_busy = busy_reg;
  wire start = i_valid && !busy_reg;

  always @(posedge clk) begin
    o_valid <= 1'b0;
    if (rst) begin
      busy_reg <= 1'b0;
      step_reg <= 4'd0;
    end else if (start) begin
      busy_reg <= 1'b1;
      step_reg <= 4'd1;
    end else if (busy_reg) begin
      step_reg <= step_reg + 4'd1;
      if (step_reg == 4'd13) begin
        busy_reg <= 1'b0;
        o_valid  <= 1'b1;
      end
    end
  end

  // ---- step 0: inputs into a shift register (n0 first), zero flags; N accumulated ----
  reg  [51:0] nsr_reg;
  reg  [14:0] nsum_reg;
  reg         zx_reg, zy_reg, ok_reg;
  always @(posedge clk) begin
    if (start) begin
      nsr_reg  <= {i_n3, i_n2, i_n1, i_n0};
      nsum_reg <= 15'd0;
      zx_reg   <= i_n0 == 13'd0 || i_n1 == 13'd0;
      zy_reg   <= i_n2 == 13'd0 || i_n3 == 13'd0;
    end else if (busy_reg) begin
      nsr_reg  <= {13'd0, nsr_reg[51:13]};
      nsum_reg <= nsum_reg + {2'b00, nsr_reg[12:0]};   // steps 1..4 add n0..n3, then zeros
    end
    if (step_reg == 4'd5) ok_reg <= |nsum_reg && nsum_reg >= i_thresh;
  end

  // ---- log unit, stage 1: leading one ----
  wire [12:0] nj = nsr_reg[12:0];
  wire        e3  = |nj[12:8];                                 // floor(log2 n) by a tree
  wire [7:0]  t8  = e3 ? {3'b000, nj[12:8]} : nj[7:0];
  wire        e2  = |t8[7:4];
  wire [3:0]  t4  = e2 ? t8[7:4] : t8[3:0];
  wire        e1  = |t4[3:2];
  wire        e0  = e1 ? t4[3] : t4[1];
  wire [3:0]  e_c = {e3, e2, e1, e0};
  wire        unused_lzc_bits = &{1'b0, t4[0]};   // a lone bit 0 means floor(log2) = 0
  reg  [11:0] v1_reg;                 // n_j below its leading one
  reg  [3:0]  e1_reg, e2_reg, e3_reg, e4_reg;
  reg  [11:0] m2_reg;                 // M without its leading one
  reg  [3:0]  f3_reg;
  always @(posedge clk) begin
    v1_reg <= nj[11:0];
    e1_reg <= e_c;
    // stage 2: normalize
    m2_reg <= v1_reg[11:0] << (4'd12 - e1_reg);
    e2_reg <= e1_reg;
    // stage 3: table read (below), fraction and exponent follow
    f3_reg <= m2_reg[3:0];
    e3_reg <= e2_reg;
    e4_reg <= e3_reg;
  end

  // ---- log table: T[i] = ln(1 + i/256) 2^16, D[i] = T[i+1] - T[i] (EBRs) ----
  reg [15:0] lt_mem [0:255];
  reg [15:0] ld_mem [0:255];
  initial begin
    `EST_LN_T_INIT(lt_mem)
    `EST_LN_D_INIT(ld_mem)
  end
  reg [15:0] lt_q, ld_q;
  always @(posedge clk) begin
    lt_q <= lt_mem[m2_reg[11:4]];
    ld_q <= ld_mem[m2_reg[11:4]];
  end

  // ---- scale shift from G (static during an estimate) ----
  reg  [1:0] sh_reg;
  always @(posedge clk)
    if (step_reg == 4'd1) sh_reg <= i_G[15] ? 2'd3 : i_G[14] ? 2'd2 : i_G[13] ? 2'd1 : 2'd0;

  // ---- multiplier: p = a b + {c, d} ----
  reg  [31:0] p_reg;
  reg  [15:0] ma, mb, mc, md;
  reg  [15:0] dq_reg;
  always @* begin
    if (step_reg == 4'd9 || step_reg == 4'd11) begin
      ma = i_G;  mb = dq_reg;  mc = 16'd0;
      md = 16'h1000 << sh_reg;                     // 2^(12+s): rounding of >> (13+s)
    end else begin
      ma = ld_q; mb = {12'd0, f3_reg};         // D f + 16 T + 8
      mc = {12'd0, lt_q[15:12]};  md = {lt_q[11:0], 4'h8};
    end
  end
  always @(posedge clk) p_reg <= ma * mb + {mc, md};

  // ---- stage 5: ln = E ln2 + p >> 4 (UQ4.16); two registers, alternating a/b ----
  wire [19:0] ln_c = est_eln2(e4_reg) + {4'd0, p_reg[19:4]};
  reg  [19:0] lna_reg, lnb_reg;
  always @(posedge clk) begin
    if (step_reg == 4'd5 || step_reg == 4'd7) lna_reg <= ln_c;
    if (step_reg == 4'd6 || step_reg == 4'd8) lnb_reg <= ln_c;
  end

  // ---- d = ln a - ln b (steps 7, 9); dq (8, 10), zero rule applied here ----
  wire [20:0] d_c = {1'b0, lna_reg} - {1'b0, lnb_reg};
  reg  [19:0] m1_reg;                                        // |d| - sd_reg (ones' complement)
  reg         sd_reg;
  always @(posedge clk)
    if (step_reg == 4'd7 || step_reg == 4'd9) begin
      m1_reg <= d_c[19:0] ^ {20{d_c[20]}};
      sd_reg     <= d_c[20];
    end
  wire [22:0] m1s = {3'd0, m1_reg} << sh_reg;                    // (|d| - sd_reg) << s
  wire [4:0]  addk = sh_reg == 2'd3 ? {sd_reg, ~sd_reg, 3'b000}            // (sd_reg << s) + 8, no adder
                                : {2'b01, sh_reg == 2'd2 && sd_reg, sh_reg == 2'd1 && sd_reg, sh_reg == 2'd0 && sd_reg};
  wire [22:0] dsum = m1s + {18'd0, addk};                    // (|d| << s) + 8
  // A dq that would saturate (dsum >= 2^20) always gives a saturated output for this s
  // (hls-c/gauss1d.c saturates dq): the flag forces the output instead.
  reg         sgn_reg;
  reg  [2:0]  ovf_reg;
  always @(posedge clk)
    if (step_reg == 4'd8 || step_reg == 4'd10) begin
      dq_reg  <= dsum[19:4];
      ovf_reg <= dsum[22:20];
      sgn_reg <= sd_reg;
    end

  // ---- output: >> (13+s), saturate, zero rule (steps 10, 12); sign (11, 13) ----
  reg  [18:0] mag_c;
  always @* begin
    case (sh_reg)
      2'd0: mag_c = p_reg[31:13];
      2'd1: mag_c = {1'b0, p_reg[31:14]};
      2'd2: mag_c = {2'b00, p_reg[31:15]};
      default: mag_c = {3'b000, p_reg[31:16]};
    endcase
  end
  wire        zero = step_reg == 4'd10 ? zx_reg : zy_reg;
  reg  [14:0] mag_reg;
  reg         msgn_reg;
  always @(posedge clk)
    if (step_reg == 4'd10 || step_reg == 4'd12) begin
      mag_reg  <= zero ? 15'd0 : (|ovf_reg || |mag_c[18:15]) ? 15'h7FFF : mag_c[14:0];
      msgn_reg <= sgn_reg && !zero;
    end
  wire [15:0] out_c = ({1'b0, mag_reg} ^ {16{msgn_reg}}) + {15'd0, msgn_reg};
  // Bits the fixed-point model rounds away (Verilator's *unused* naming convention).
  wire unused_rounding_bits = &{1'b0, p_reg[3:0], dsum[3:0]};
  // o_x is written in step 11 and o_y, o_ok in step 13: all hold from the o_valid cycle
  // until step 11 of the next estimate.
  always @(posedge clk) begin
    if (step_reg == 4'd11) o_x <= out_c;
    if (step_reg == 4'd13) begin
      o_y  <= out_c;
      o_ok <= ok_reg;
    end
  end

endmodule
