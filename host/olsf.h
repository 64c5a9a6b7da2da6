/* olsf: diffusion coefficient and localization precision of a 2D trajectory (seed 003
 * section 5): the MSD of a blinking trajectory (S68, with q_i of S69 = 1 when sample i is
 * an accepted localization), fitted by least squares to rho_s = 2d(sigma^2 - 2 R D dt)
 * + 2 d D s dt (S67, d = 2) over the lags 1..s, with s chosen by the recursion of S71:
 * s0 = S/10, then s = 2 + 4.6 X^0.62 (S70) from X = sigma^2/(D dt) - 2R, 10 iterations,
 * stopped early when an s value repeats, s at most OLSF_MAX_LAGS. R is the motion-blur
 * coefficient of S66. */
#ifndef MINFLUX_OLSF_H
#define MINFLUX_OLSF_H
#include <stddef.h>
#include <stdint.h>

#define OLSF_MAX_LAGS 1200   /* the longest fit (s in [2, 1200] in section 5.2.1.3) */

/* S68: rho[s] for s = 1..smax (rho[0] = 0) and pairs[s] = sum q_i q_{i+s} (may be NULL).
 * Positions x, y in any unit; samples with q[i] = 0 are ignored. */
void msd_blink(const double *x, const double *y, const uint8_t *q, size_t S, size_t smax,
               double *rho, double *pairs);

typedef struct {
  double D;            /* diffusion coefficient, position unit^2 / s */
  double sigma;        /* localization precision (per coordinate), position unit; NAN when
                          the fit gives sigma^2 < 0 */
  double X;            /* reduced square localization error of the last fit */
  int    s;            /* lags used in the last fit */
  int    iterations;
  int    converged;    /* the recursion reached a fixed point or a repeating pair */
  double a, b;         /* fit rho = a + b s */
  size_t S, used;      /* samples, samples with q = 1 */
} olsf_result;

/* Fit of S67 to the lags 1..s of rho (weights: none, as in the OLSF). */
int olsf_fit_lags(const double *rho, const double *pairs, int s, double dt, double R, olsf_result *res);
/* The whole S71 recursion on a trajectory; -1 when fewer than 4 pairs at lag 1/2. */
int olsf_estimate(const double *x, const double *y, const uint8_t *q, size_t S, double dt,
                  double R, olsf_result *res);
/* S70 */
double olsf_s_opt(double X);
/* S66 for a record of agg multiplex cycles (in clock cycles): each cycle is 1 start cycle,
 * then K times (delay, gate) with the laser on in the gates only, then the window.
 * Uniform exposure gives 1/6. */
double olsf_blur_R(int K, double delay, double gate, double win, int agg);

#endif
