/* mlms: bit-exact fixed-point model of hdl/mlms.v (mLMS estimator, seed 003 S51).
 *
 * With u = n1 + n2 - 2 n3, v = n2 - n1 and N = n0 + n1 + n2 + n3, S49/S51 read
 *   x = (L F / 2) B(p0) u / (2N),   y = (L F / 2)(sqrt(3)/2) B(p0) v / N,
 *   B(p0) = beta0 + beta1 p0 [+ beta2 p0^2],  p0 = n0 / N,  F = 1/(1 - L^2 ln2/fwhm^2).
 * Division: N is normalized to M = N << lz in [2^14, 2^15) and r ~ 2^30/M (UQ0.16) is
 * read from a 256-entry table with linear interpolation (hls-c/gen_est_tables.c); a
 * quotient a/N is then (a << lz) r scaled by a constant shift. Every multiply is an
 * unsigned 16 x 16 product (one SB_MAC16) rounded half up by a constant in the DSP
 * post-adder; signs travel separately (sign-magnitude), so the result is exactly
 * antisymmetric. Formats: p0, |u|/2N, |v|/N, p0^2 UQ0.16 (saturated at 1 - 2^-16);
 * B and C = B s UQ3.13; gains KX, KY UQ10.6 nm; output Q11.5 nm, saturating. */
#include "mlms.h"
#include "est_tables.h"

void mlms_gains(const mlms_regs_t *rg, uint32_t *kx, uint32_t *ky)
{
  /* UQ10.6 x UQ3.13 = 2^-19; KX = L F / 2 in UQ10.6 -> >> 14 */
  *kx = est_mul_rnd16(rg->L, rg->F, 14);
  *ky = est_mul_rnd(*kx, MINFLUX_EST_SQRT3_2, 16);
}

void mlms_eval_trace(const mlms_regs_t *rg, const uint16_t nin[4], est_out_t *o,
                     mlms_trace_t *t)
{
  uint32_t n[4];
  for (int i = 0; i < 4; i++) n[i] = fx_mask(nin[i], MINFLUX_EST_N_W);
  mlms_trace_t z = {0};
  z.N = n[0] + n[1] + n[2] + n[3];
  mlms_gains(rg, &z.kx, &z.ky);
  o->ok = z.N != 0 && z.N >= fx_mask(rg->thresh, MINFLUX_EST_NSUM_W);
  o->x = o->y = 0;
  if (z.N == 0) {
    if (t) *t = z;
    return;
  }
  const int32_t u = (int32_t)(n[1] + n[2]) - 2 * (int32_t)n[3];
  const int32_t v = (int32_t)n[2] - (int32_t)n[1];
  const uint32_t au = (uint32_t)(u < 0 ? -u : u), av = (uint32_t)(v < 0 ? -v : v);

  /* reciprocal of the normalized N: r ~ 2^30 / M, UQ0.16 */
  z.lz = 14u - est_floor_log2(z.N);
  const uint32_t m = z.N << z.lz;
  const uint32_t idx = (m >> 6) & 0xFFu, f = m & 0x3Fu;
  z.r = est_recip_t[idx] - est_mul_rnd(est_recip_d[idx], f, 6);

  /* quotients, UQ0.16: (a << lz) r ~ (a/N) 2^30 */
  z.p0 = est_mul_rnd16(n[0] << z.lz, z.r, 14);
  z.sx = est_mul_rnd16(au << z.lz, z.r, 15);
  z.sy = est_mul_rnd16(av << z.lz, z.r, 14);

  /* B = beta0 + beta1 p0 [+ beta2 p0^2] in units of 2^-28 (Q4.12 x UQ0.16), summed
   * in the DSP post-adders modulo 2^32 and rounded once to UQ3.13. A beta register is
   * multiplied as its unsigned bit pattern beta_u = beta + 2^16 s (s = sign bit); the
   * excess s p 2^16 is removed through the upper half of the post-adder input:
   *   P1 = beta1_u p0 + {beta0 - s1 p0, 2^14}            = beta0 2^16 + beta1 p0 + 2^14
   *   P2 = beta2_u q  + {P1[31:16] - s2 q, P1[15:0]}     = P1 + beta2 q   (k = 2)
   * B = 0 if P2 is negative (as a signed 32-bit value), else P2[30:15]. Registers
   * that make |beta0 + beta1 p0 + beta2 q| reach 8 wrap; host/est_regs.c refuses them. */
  const uint32_t b0u = (uint16_t)rg->beta[0], b1u = (uint16_t)rg->beta[1];
  const uint32_t b2u = (uint16_t)rg->beta[2];
  const uint32_t s1 = b1u >> 15, s2 = b2u >> 15;
  uint32_t p = b1u * z.p0 + (((b0u - s1 * z.p0) & 0xFFFFu) << 16) + 0x4000u;
  if ((rg->k & 3u) == 2u) {
    z.q = est_mul_rnd(z.p0, z.p0, 16);
    p = b2u * z.q + ((((p >> 16) - s2 * z.q) & 0xFFFFu) << 16) + (p & 0xFFFFu);
  }
  z.bsum = p;
  z.b = (p & 0x80000000u) ? 0u : (p >> 15) & 0xFFFFu;

  /* C = B s: UQ3.13 x UQ0.16 = 2^-29 -> UQ3.13 */
  z.cx = est_mul_rnd16(z.b, z.sx, 16);
  z.cy = est_mul_rnd16(z.b, z.sy, 16);

  /* UQ10.6 x UQ3.13 = 2^-19 nm -> Q11.5 */
  o->x = est_signed(est_pos_mag((uint64_t)z.kx * z.cx, 14), u < 0);
  o->y = est_signed(est_pos_mag((uint64_t)z.ky * z.cy, 14), v < 0);
  if (t) *t = z;
}

void mlms_eval(const mlms_regs_t *rg, const uint16_t n[4], est_out_t *o)
{
  mlms_eval_trace(rg, n, o, 0);
}
