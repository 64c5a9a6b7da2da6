/* gauss1d: bit-exact fixed-point model of hdl/gauss1d.v (Gaussian 1D MLE, seed 003 S40).
 *
 * x = G ln(n0/n1) with G = fwhm^2/(8 ln2 L). Logarithm: n = 2^E m, m in [1, 2);
 * ln n = E ln2 + ln m, ln m from a 256-entry table with linear interpolation on the
 * 4 bits below the index (hls-c/gen_est_tables.c), UQ4.16. The difference of the two
 * logarithms d (UQ4.16 + sign, |d| < 9.02) is scaled for the 16 x 16 multiply with G
 * (UQ10.6) by a shift s chosen from G alone: an unsaturated output needs |d| < 1024/G,
 * so s = 3, 2, 1, 0 for G >= 512, 256, 128 nm, else, keeps every such |d| within 16 bits:
 * dq = round(|d| 2^s / 16) saturated to 16 bits (UQ(4-s).(12+s); a saturated dq implies a
 * saturated output), and G dq is rounded (half away from zero once signed) by 13 + s
 * bits to Q11.5 nm. The error is then at most ~2^-6 nm plus the table error times G. */
#include "gauss1d.h"
#include "est_tables.h"

uint32_t gauss1d_ln(uint32_t n)
{
  n = fx_mask(n, MINFLUX_EST_N_W);
  const unsigned e = est_floor_log2(n);
  const uint32_t m = n << (MINFLUX_EST_N_W - 1u - e);
  const uint32_t idx = (m >> 4) & 0xFFu, f = m & 0xFu;
  return est_eln2[e] + est_ln_t[idx] + ((est_ln_d[idx] * f + 8u) >> 4);
}

unsigned gauss1d_shift(uint16_t G)
{
  return G >= 0x8000u ? 3u : G >= 0x4000u ? 2u : G >= 0x2000u ? 1u : 0u;
}

int16_t gauss1d_axis(uint16_t G, uint32_t a, uint32_t b)
{
  a = fx_mask(a, MINFLUX_EST_N_W);
  b = fx_mask(b, MINFLUX_EST_N_W);
  if (a == 0 || b == 0) return 0;
  const int32_t d = (int32_t)gauss1d_ln(a) - (int32_t)gauss1d_ln(b);
  const uint32_t ad = (uint32_t)(d < 0 ? -d : d);
  const unsigned sh = gauss1d_shift(G);
  const uint32_t dq = fx_sat_u(fx_shr_round((int64_t)ad << sh, 4), 16);
  /* UQ10.6 x UQ(4-s).(12+s) = 2^-(18+s) nm -> Q11.5 */
  return est_signed(est_pos_mag((uint64_t)G * dq, 13u + sh), d < 0);
}

void gauss1d_eval(const gauss1d_regs_t *rg, const uint16_t nin[4], est_out_t *o)
{
  uint32_t n[4];
  for (int i = 0; i < 4; i++) n[i] = fx_mask(nin[i], MINFLUX_EST_N_W);
  const uint32_t N = n[0] + n[1] + n[2] + n[3];
  o->ok = N != 0 && N >= fx_mask(rg->thresh, MINFLUX_EST_NSUM_W);
  o->x = gauss1d_axis(rg->G, n[0], n[1]);
  o->y = gauss1d_axis(rg->G, n[2], n[3]);
}
