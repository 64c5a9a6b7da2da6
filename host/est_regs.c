/* est_regs: user estimator parameters -> register values (hls-c/regmap_est.h), with
 * validation. Every refusal names the value and the range it must lie in. */
#include "est_regs.h"
#include <math.h>
#include <stdio.h>
#include "est_float.h"

#define LN2 0.69314718055994530942
#define L_MIN_NM 1.0
#define L_MAX_NM 1000.0
#define FWHM_MAX_NM 10000.0

static long rnd(double v) { return (long)floor(v + 0.5); }

double est_reg_L_nm(uint16_t L) { return L / (double)(1 << MINFLUX_EST_L_FRAC); }
double est_reg_F(uint16_t F) { return F / (double)(1 << MINFLUX_EST_F_FRAC); }
double est_reg_beta(int16_t b) { return b / (double)(1 << MINFLUX_EST_BETA_FRAC); }
double est_reg_G_nm(uint16_t G) { return G / (double)(1 << MINFLUX_EST_G_FRAC); }
double est_pos_nm(int16_t v) { return v / (double)(1 << MINFLUX_EST_POS_FRAC); }

static int check_len(const char *what, double v, double lo, double hi, char *err, size_t n)
{
  if (!isfinite(v) || v < lo || v > hi) {
    snprintf(err, n, "%s = %g nm: must be %g..%g nm", what, v, lo, hi);
    return -1;
  }
  return 0;
}

int est_check_geometry(double L, double fwhm, char *err, size_t n)
{
  if (check_len("L", L, L_MIN_NM, L_MAX_NM, err, n)) return -1;
  if (check_len("fwhm", fwhm, L_MIN_NM, FWHM_MAX_NM, err, n)) return -1;
  const double lmax = fwhm / sqrt(LN2);
  if (!(L < lmax)) {
    snprintf(err, n, "L = %g nm with fwhm = %g nm: L must be < fwhm/sqrt(ln 2) = %.1f nm "
             "(the factor 1/(1 - L^2 ln2/fwhm^2) is singular)", L, fwhm, lmax);
    return -1;
  }
  return 0;
}

static double gain(int k, const double *b, double p0)
{
  return b[0] + b[1] * p0 + (k == 2 ? b[2] * p0 * p0 : 0.0);
}

int est_mlms_regs(double L, double fwhm, int k, const double beta[3], unsigned thresh,
                  mlms_regs_t *o, char *err, size_t n)
{
  if (k != 1 && k != 2) {
    snprintf(err, n, "mLMS order k = %d: must be 1 or 2", k);
    return -1;
  }
  if (est_check_geometry(L, fwhm, err, n)) return -1;
  const double F = mf_factor(L, fwhm);
  const double fmax = 8.0 - 1.0 / (1 << MINFLUX_EST_F_FRAC);
  if (!(F <= fmax)) {
    snprintf(err, n, "factor 1/(1 - L^2 ln2/fwhm^2) = %.4g for L = %g nm, fwhm = %g nm: "
             "the register holds 1..%.4f (needs L < %.1f nm)", F, L, fwhm, fmax,
             fwhm * sqrt((1.0 - 1.0 / fmax) / LN2));
    return -1;
  }
  const double kmax = 1024.0 - 1.0 / (1 << MINFLUX_EST_K_FRAC);
  if (!(L * F / 2.0 <= kmax)) {
    snprintf(err, n, "mLMS gain L/(2(1 - L^2 ln2/fwhm^2)) = %.1f nm: must be <= %.2f nm "
             "(use a smaller L)", L * F / 2.0, kmax);
    return -1;
  }
  const double bscale = 1 << MINFLUX_EST_BETA_FRAC;
  const double bmax = 8.0 - 1.0 / bscale;
  for (int j = 0; j <= k; j++) {
    if (!isfinite(beta[j]) || beta[j] < -8.0 || beta[j] > bmax) {
      snprintf(err, n, "beta%d = %g: must be -8..%.6f (register Q4.12)", j, beta[j], bmax);
      return -1;
    }
  }
  /* the gain B(p0) must fit its UQ3.13 register for every p0 in [0, 1] */
  double pts[3] = {0.0, 1.0, 0.0};
  int np = 2;
  if (k == 2 && beta[2] != 0.0) {
    const double pv = -beta[1] / (2.0 * beta[2]);
    if (pv > 0.0 && pv < 1.0) pts[np++] = pv;
  }
  const double gmax = 7.999;   /* B = 8 wraps in the 32-bit post-adder sum */
  for (int i = 0; i < np; i++) {
    const double g = gain(k, beta, pts[i]);
    if (g < 0.0 || g > gmax) {
      snprintf(err, n, "mLMS gain beta0 + beta1 p0%s = %g at p0 = %.3g: must stay within "
               "0..%.4f for every p0 in [0, 1]", k == 2 ? " + beta2 p0^2" : "", g, pts[i],
               gmax);
      return -1;
    }
  }
  if (thresh > (1u << MINFLUX_EST_NSUM_W) - 1u) {
    snprintf(err, n, "threshold = %u counts: must be 0..%u", thresh,
             (1u << MINFLUX_EST_NSUM_W) - 1u);
    return -1;
  }
  o->k = (uint8_t)k;
  o->thresh = (uint16_t)thresh;
  o->L = (uint16_t)rnd(L * (1 << MINFLUX_EST_L_FRAC));
  o->F = (uint16_t)rnd(F * (1 << MINFLUX_EST_F_FRAC));
  for (int j = 0; j < 3; j++)
    o->beta[j] = (int16_t)(j <= k ? rnd(beta[j] * bscale) : 0);
  return 0;
}

int est_gauss1d_regs(double L, double fwhm, unsigned thresh, gauss1d_regs_t *o,
                     char *err, size_t n)
{
  if (check_len("L", L, L_MIN_NM, L_MAX_NM, err, n)) return -1;
  if (check_len("fwhm", fwhm, L_MIN_NM, FWHM_MAX_NM, err, n)) return -1;
  const double G = fwhm * fwhm / (8.0 * LN2 * L);
  const double gmax = 1024.0 - 1.0 / (1 << MINFLUX_EST_G_FRAC);
  if (!(G <= gmax)) {
    snprintf(err, n, "fwhm^2/(8 ln2 L) = %.1f nm for L = %g nm, fwhm = %g nm: must be "
             "<= %.2f nm (register UQ10.6; needs L >= %.1f nm)", G, L, fwhm, gmax,
             fwhm * fwhm / (8.0 * LN2 * gmax));
    return -1;
  }
  if (thresh > (1u << MINFLUX_EST_NSUM_W) - 1u) {
    snprintf(err, n, "threshold = %u counts: must be 0..%u", thresh,
             (1u << MINFLUX_EST_NSUM_W) - 1u);
    return -1;
  }
  o->thresh = (uint16_t)thresh;
  o->G = (uint16_t)rnd(G * (1 << MINFLUX_EST_G_FRAC));
  return 0;
}
