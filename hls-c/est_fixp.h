/* Helpers shared by the estimator models (hls-c/mlms.c, hls-c/gauss1d.c) on top of
 * fixp.h: leading-one position, normalization and sign application. Integer only; C99. */
#ifndef MINFLUX_EST_FIXP_H
#define MINFLUX_EST_FIXP_H
#include <stdint.h>
#include "fixp.h"
#include "regmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output of both estimators: o_x, o_y (Q11.5 nm) and o_ok as the RTL drives them. */
typedef struct {
  int16_t x;   /* nm * 2^EST_POS_FRAC, saturating to +-(2^15 - 1) */
  int16_t y;
  uint8_t ok;  /* 1 when N > 0 and N >= threshold register */
} est_out_t;

/* floor(log2(v)) for v > 0 (the position of the leading one, what the RTL's
 * priority encoder computes); returns 0 for v = 0. */
static inline unsigned est_floor_log2(uint32_t v)
{
  unsigned e = 0;
  while (v >>= 1) e++;
  return e;
}

/* An unsigned 16 x 16 product rounded right by s: (a b + 2^(s-1)) >> s. The RTL adds
 * the constant in the SB_MAC16 post-adder and takes a bit slice of the output. */
static inline uint32_t est_mul_rnd(uint32_t a, uint32_t b, unsigned s)
{
  return (uint32_t)fx_shr_round((int64_t)((uint64_t)a * b), s);
}

/* The same, saturated to 16 bits (the RTL ORs the bits above the slice). */
static inline uint32_t est_mul_rnd16(uint32_t a, uint32_t b, unsigned s)
{
  return fx_sat_u((int64_t)est_mul_rnd(a, b, s), 16);
}

/* Applies a sign to a magnitude already saturated to 2^15 - 1: symmetric output. */
static inline int16_t est_signed(uint32_t mag, int neg)
{
  return (int16_t)(neg ? -(int32_t)mag : (int32_t)mag);
}

/* Rounds an unsigned product p right by s (round half up on the magnitude, i.e.
 * half away from zero once the sign is applied) and saturates to 15 bits. */
static inline uint32_t est_pos_mag(uint64_t p, unsigned s)
{
  return fx_sat_u(fx_shr_round((int64_t)p, s), (unsigned)MINFLUX_EST_POS_W - 1u);
}

#ifdef __cplusplus
}
#endif
#endif
