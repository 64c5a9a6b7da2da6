/* Fixed-point helpers shared by every C model: each shift, round and saturation
 * is written once here. Integer only; two's complement; C99. */
#ifndef MINFLUX_FIXP_H
#define MINFLUX_FIXP_H
#include <stdint.h>

/* Unsigned saturation of v to `bits` bits. */
static inline uint32_t fx_sat_u(int64_t v, unsigned bits)
{
  const int64_t max = (bits >= 32) ? (int64_t)UINT32_MAX : (((int64_t)1 << bits) - 1);
  return (uint32_t)(v < 0 ? 0 : (v > max ? max : v));
}

/* Signed saturation of v to a `bits`-bit two's complement range. */
static inline int32_t fx_sat_s(int64_t v, unsigned bits)
{
  const int64_t max = ((int64_t)1 << (bits - 1)) - 1;
  const int64_t min = -((int64_t)1 << (bits - 1));
  return (int32_t)(v < min ? min : (v > max ? max : v));
}

/* Sign-extends the low `bits` bits of v. */
static inline int32_t fx_sext(uint32_t v, unsigned bits)
{
  const uint32_t m = (uint32_t)1 << (bits - 1);
  v &= (bits >= 32) ? 0xFFFFFFFFu : ((m << 1) - 1u);
  return (int32_t)((v ^ m) - m);
}

/* Arithmetic shift right by s with round-half-up (adds 2^(s-1) first), as the
 * RTL does with `(v + (1 << (s-1))) >>> s`. */
static inline int64_t fx_shr_round(int64_t v, unsigned s)
{
  if (s == 0) return v;
  return (v + ((int64_t)1 << (s - 1))) >> s; /* >> on negative int64 is arithmetic on gcc/clang */
}

/* Arithmetic shift right by s, truncating toward minus infinity (Verilog >>>). */
static inline int64_t fx_shr_floor(int64_t v, unsigned s) { return v >> s; }

/* Clamp v into [lo, hi] the way the RTL compares: below lo -> lo, else above hi -> hi. */
static inline int32_t fx_clamp(int32_t v, int32_t lo, int32_t hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Mask to the low `bits` bits (register width). */
static inline uint32_t fx_mask(uint32_t v, unsigned bits)
{
  return bits >= 32 ? v : (v & (((uint32_t)1 << bits) - 1u));
}

#endif
