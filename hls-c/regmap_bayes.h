/* Bayesian MINFLUX block (issue #6): formats, sizes and registers; included by regmap.h.
 * Same X-macro shapes as MINFLUX_CONSTS / MINFLUX_REGS; addresses 0x60..0x6F.
 * hls-c/bayes.c (the bit-exact model), hdl/bayes.v (through build/gen/minflux_regs.vh) and
 * host/bayes_regs.c (physical parameters -> register values) all use these numbers; the
 * arithmetic they describe is specified in hls-c/bayes.c and docs/bayes.md.
 *
 * Units: positions in "sub-LSB" = 2^-6 DAC LSB, relative to the prior centre (BAYES_X0/Y0);
 * log posteriors in log2 units; UQm.f / Qm.f as in regmap_est.h. */
#ifndef MINFLUX_REGMAP_BAYES_H
#define MINFLUX_REGMAP_BAYES_H

#define MINFLUX_BAYES_CONSTS(X) \
  X(BY_N,          32,    "grid points per side (a 32 x 32 window, index 32 j + i)") \
  X(BY_C,          16,    "index of the window centre on each axis") \
  X(BY_POS_FRAC,   6,     "fractional bits of positions: sub-LSB units of 2^-6 DAC LSB") \
  X(BY_POS_W,      24,    "bits of the MAP outputs (signed sub-LSB; the position wraps beyond)") \
  X(BY_CX_W,       26,    "bits of the window centre registers (signed sub-LSB, wrapping)") \
  X(BY_L_FRAC,     10,    "log posterior L per point: Q6.10 log2 units, floor -32 (-32768)") \
  X(BY_G_FRAC,     16,    "g' = g / (e ln 2) per point: UQ0.16") \
  X(BY_NLG_FRAC,   11,    "-log2 g' per point: UQ5.11") \
  X(BY_U_FRAC,     12,    "u = (x - r) sqrt(log2 e) / s per column/row: Q4.12, saturating") \
  X(BY_Y_FRAC,     24,    "y = u^2: UQ8.24; E = 2^-y and Y = y E: UQ0.16") \
  X(BY_W_FRAC,     13,    "posterior weight w = 2^(L - ref): UQ2.13 (8192 = 1), 2^-5 log2 steps") \
  X(BY_W_N,        512,   "entries of the weight table (2^(1 - k/32), k = 0..511)") \
  X(BY_W_OVER,     1024,  "L - ref above this (1 log2 unit, Q6.10) saturates w and repeats the moments") \
  X(BY_LOG_IDX_W,  8,     "index bits of the 2^-x and log2(1 + x) tables (256 entries + differences)") \
  X(BY_COS_N,      256,   "entries of the cosine table (Q1.14): placement angles 2 pi k / 256") \
  X(BY_D_N,        128,   "entries of the D(sigma) table: sigma_t = h0 2^(t/8 - 12)") \
  X(BY_D_FRAC,     2,     "D table entries: UQ14.2 DAC LSB") \
  X(BY_ETA_FRAC,   14,    "eta'' (the log2-unit factor of g'): UQ10.14, = (A KM + 128) >> 8") \
  X(BY_LSIG_FRAC,  8,     "log2(std / h0): Q8.8") \
  X(BY_LEV_MAX,    15,    "most spacing halvings: h = H0 >> lev") \
  X(BY_REFINE_V,   4,     "halve the spacing when var_x + var_y < 4 grid units^2 (std < 1.41 h)") \
  X(BY_COARSEN_V,  64,    "double it when var_x + var_y >= 64 grid units^2 (std >= 5.66 h) and lev > 0") \
  X(BY_SHIFT_MAX,  4,     "re-centre when the MAP is more than 4 points from the window centre") \
  X(BY_LFSR_STEPS, 8,     "LFSR steps per exposure (taps in build/gen/bayes_tables.h/.vh); angle = low byte")

/* Registers (32-bit word bus). Written while the block is idle; they must not change
 * between i_start and o_done. */
#define MINFLUX_BAYES_REGS(X) \
  X(BAYES_ORIGIN,   0x60, 32, "prior centre: x in [15:0], y in [31:16], signed DAC LSB") \
  X(BAYES_H0,       0x61, 16, "initial grid spacing, sub-LSB (16..65535)") \
  X(BAYES_PRIOR_A,  0x62, 16, "prior: L = -(PRIOR_A r2 + 32) >> 6 at r2 = (i-16)^2 + (j-16)^2; = 2^16 log2(e) h0^2 / (2 sigma0^2)") \
  X(BAYES_INV_S,    0x63, 16, "2^32 sqrt(log2 e) / s, s in sub-LSB (16384..65535)") \
  X(BAYES_B,        0x64, 32, "background b' = b / (e ln 2), UQ0.32 (2^14 .. 0.45 2^32)") \
  X(BAYES_MU,       0x65, 16, "laser code numerator: A = MU (W >> 8) / (WG >> 8); = 64 mu / (e ln 2 eta_per_code)") \
  X(BAYES_KM,       0x66, 16, "eta per code: eta'' = (A KM + 128) >> 8, KM = 2^22 e eta_per_code") \
  X(BAYES_AMP_MAX,  0x67, 16, "largest laser code A (>= 1); A is at least 1") \
  X(BAYES_NMAX,     0x68, 32, "photon budget: stop once the photons reach it (0 = no budget)") \
  X(BAYES_LSIG_STOP,0x69, 16, "stop once log2(std / h0) (Q8.8, signed) is below it (-32768 = never)") \
  X(BAYES_SEED,     0x6A, 32, "LFSR seed of the placement angles (0 acts as 1)") \
  X(BAYES_DTAB,     0x6B, 32, "WO D table entry: index in [22:16], D (UQ14.2 DAC LSB) in [15:0]") \
  X(BAYES_STATUS,   0x6C, 8,  "RO bit0 running, bit1 done, bit2 photon budget reached, bit3 std target reached") \
  X(BAYES_MAP_X,    0x6D, 24, "RO MAP x, signed sub-LSB from the origin") \
  X(BAYES_MAP_Y,    0x6E, 24, "RO MAP y, signed sub-LSB from the origin") \
  X(BAYES_STD,      0x6F, 20, "RO log2(std / h0) (Q8.8, signed) in [15:0], spacing halvings lev in [19:16]") \
  X(BAYES_MODE,     0x70, 1,  "bit0 = 1: CTRL start runs one Bayesian localization (one exposure per cycle at the block's beam and laser code); written while idle; reads 0 in a firmware without the block")

#endif
