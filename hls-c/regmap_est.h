/* Estimator registers and constants (issue #3); included by regmap.h.
 * Same X-macro shapes as MINFLUX_CONSTS / MINFLUX_REGS; addresses 0x40..0x4F.
 *
 * Fixed-point notation: UQm.f = unsigned, m integer and f fractional bits;
 * Qm.f = two's complement with the sign counted in m. Every format below is
 * used by hls-c/mlms.c, hls-c/gauss1d.c (the bit-exact models), by hdl/mlms.v and
 * hdl/gauss1d.v (through build/gen/minflux_regs.vh) and by host/est_regs.c,
 * which converts user parameters (nm, betas) into these register values. */
#ifndef MINFLUX_REGMAP_EST_H
#define MINFLUX_REGMAP_EST_H

#define MINFLUX_EST_CONSTS(X) \
  X(EST_N_W,        13,    "bits per estimator count input n_i = ch0 + ch1 (unsigned)") \
  X(EST_NSUM_W,     15,    "bits of N = n0 + n1 + n2 + n3 and of the threshold register") \
  X(EST_POS_W,      16,    "bits of o_x/o_y: signed nm, saturating to +-(2^15-1) LSB") \
  X(EST_POS_FRAC,   5,     "fractional bits of o_x/o_y (Q11.5: 1/32 nm, range +-1023.97 nm)") \
  X(EST_PAR_W,      16,    "bits of every estimator parameter register") \
  X(EST_L_FRAC,     6,     "EST_L: pattern diameter L in nm, UQ10.6") \
  X(EST_F_FRAC,     13,    "EST_F: factor 1/(1 - L^2 ln2/fwhm^2), UQ3.13 (1 <= F < 8)") \
  X(EST_BETA_FRAC,  12,    "EST_BETAj: mLMS expansion coefficients, Q4.12 (-8 <= beta < 8)") \
  X(EST_G_FRAC,     6,     "EST_G: fwhm^2/(8 ln2 L) in nm, UQ10.6") \
  X(EST_K_FRAC,     6,     "internal mLMS gains KX = L F/2, KY = KX sqrt(3)/2 in nm, UQ10.6") \
  X(EST_P_FRAC,     16,    "internal p0, |u|/2N, |v|/N, p0^2 and reciprocal mantissa, UQ0.16") \
  X(EST_B_FRAC,     13,    "internal gain B = beta0 + beta1 p0 [+ beta2 p0^2] and C = B s, UQ3.13") \
  X(EST_LN_FRAC,    16,    "internal natural logarithms, UQ4.16; |ln ratio| scaled by 2^s (s from EST_G) to 16 bits") \
  X(EST_TAB_IDX_W,  8,     "index bits of the reciprocal and logarithm tables (256 entries, 1 EBR each)") \
  X(EST_SQRT3_2,    56756, "round(sqrt(3)/2 * 2^16), UQ0.16") \
  X(EST_MLMS_LAT,   12,    "hdl/mlms.v cycles from i_valid to o_valid") \
  X(EST_GAUSS_LAT,  14,    "hdl/gauss1d.v cycles from i_valid to o_valid")

/* Registers (32-bit word bus, values in the low bits, upper bits read as 0).
 * The core drives the estimator parameter ports from them; a quartet uses the
 * values present when its i_valid is seen (they must not change mid-estimate). */
#define MINFLUX_EST_REGS(X) \
  X(EST_K,      0x40,  2, "mLMS order: 2 = k=2 (beta2 used); any other value = k=1") \
  X(EST_THRESH, 0x41, 15, "reaction threshold: estimate valid only when N = n0+n1+n2+n3 >= THRESH and N > 0") \
  X(EST_L,      0x42, 16, "pattern diameter L, nm UQ10.6") \
  X(EST_F,      0x43, 16, "1/(1 - L^2 ln2/fwhm^2), UQ3.13") \
  X(EST_BETA0,  0x44, 16, "mLMS beta0, Q4.12 (live default 1.27 = 0x1452)") \
  X(EST_BETA1,  0x45, 16, "mLMS beta1, Q4.12 (live default 3.8 = 0x3CCD)") \
  X(EST_BETA2,  0x46, 16, "mLMS beta2, Q4.12 (k=2 only)") \
  X(EST_G,      0x47, 16, "Gaussian 1D MLE scale fwhm^2/(8 ln2 L), nm UQ10.6")

#endif
