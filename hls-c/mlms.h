/* mlms: bit-exact fixed-point model of hdl/mlms.v, the live mLMS position estimator
 * (seed 003 eq. S51, k = 1 or 2) of the 4-doughnut pattern S24. Integer only. */
#ifndef MINFLUX_MLMS_H
#define MINFLUX_MLMS_H
#include <stdint.h>
#include "est_fixp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Register values (formats in hls-c/regmap_est.h; host/est_regs.c converts from nm). */
typedef struct {
  uint8_t  k;        /* EST_K: 2 selects k = 2, anything else k = 1 */
  uint16_t thresh;   /* EST_THRESH (15 bits used) */
  uint16_t L;        /* EST_L, UQ10.6 nm */
  uint16_t F;        /* EST_F, UQ3.13 */
  int16_t  beta[3];  /* EST_BETA0..2, Q4.12 */
} mlms_regs_t;

/* Intermediate values of one estimate, named as the RTL registers (for debugging a
 * co-simulation mismatch and for the accuracy analysis). */
typedef struct {
  uint32_t N;          /* n0 + n1 + n2 + n3 */
  unsigned lz;         /* normalization shift: M = N << lz in [2^14, 2^15) */
  uint32_t r;          /* reciprocal mantissa 2^30 / M, UQ0.16 */
  uint32_t kx, ky;     /* L F / 2 and L F sqrt(3)/4, UQ10.6 nm */
  uint32_t p0, sx, sy; /* n0/N, |u|/(2N), |v|/N, UQ0.16 (saturated) */
  uint32_t q;          /* p0^2, UQ0.16 (k = 2) */
  uint32_t bsum;       /* beta0 2^16 + beta1 p0 [+ beta2 p0^2] + 2^14, mod 2^32 (2^-28) */
  uint32_t b;          /* B = bsum >> 15 (0 when negative), UQ3.13 */
  uint32_t cx, cy;     /* B sx, B sy, UQ3.13 */
} mlms_trace_t;

/* Estimates (x, y) from the counts n[0..3] (13 bits each; higher bits are ignored
 * as the 13-bit RTL ports do). N = 0 gives x = y = 0 and ok = 0. */
void mlms_eval(const mlms_regs_t *regs, const uint16_t n[4], est_out_t *out);
void mlms_eval_trace(const mlms_regs_t *regs, const uint16_t n[4], est_out_t *out,
                     mlms_trace_t *trace);

/* The per-parameter gains the RTL recomputes from the L and F ports for every
 * quartet: KX = L F / 2 (UQ10.6, rounded, saturated), KY = KX sqrt(3)/2 (rounded). */
void mlms_gains(const mlms_regs_t *regs, uint32_t *kx, uint32_t *ky);

#ifdef __cplusplus
}
#endif
#endif
