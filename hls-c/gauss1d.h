/* gauss1d: bit-exact fixed-point model of hdl/gauss1d.v, the 1D Gaussian MLE of seed 003
 * eq. S40 applied per axis: x from (n0, n1), y from (n2, n3). Integer only. */
#ifndef MINFLUX_GAUSS1D_H
#define MINFLUX_GAUSS1D_H
#include <stdint.h>
#include "est_fixp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Register values (formats in hls-c/regmap_est.h; host/est_regs.c converts from nm). */
typedef struct {
  uint16_t thresh;  /* EST_THRESH (15 bits used) */
  uint16_t G;       /* EST_G = fwhm^2/(8 ln2 L), UQ10.6 nm */
} gauss1d_regs_t;

/* ln(n) for 1 <= n < 2^13 in UQ4.16 (table + interpolation, see gen_est_tables.c). */
uint32_t gauss1d_ln(uint32_t n);

/* Scale shift of the log difference, from G: 3, 2, 1, 0 for G >= 512, 256, 128 nm, else. */
unsigned gauss1d_shift(uint16_t G);

/* One axis: G ln(a/b) in Q11.5 nm; 0 when a = 0 or b = 0 (S40 convention).
 * Convention of S38/S40: exposure a is the Gaussian beam at +L/2, b the one at -L/2. */
int16_t gauss1d_axis(uint16_t G, uint32_t a, uint32_t b);

/* Estimates x from (n0, n1) and y from (n2, n3) (13-bit counts; pass n2 = n3 = 0
 * for 1D use, which gives y = 0). ok = N > 0 and N >= thresh, N = sum of all four. */
void gauss1d_eval(const gauss1d_regs_t *regs, const uint16_t n[4], est_out_t *out);

#ifdef __cplusplus
}
#endif
#endif
