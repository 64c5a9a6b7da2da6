/* est_float: double-precision references for the MINFLUX estimators and bounds
 * (seed 003 S11-S13, S17, S24-S32, S40, S49-S51, S54). See est_float.h. */
#include "est_float.h"
#include <math.h>
#include <stddef.h>

#define LN2 0.69314718055994530942

void mf_ebp4(double L, double fwhm, mf_ebp_t *e)
{
  e->K = 4;
  e->fwhm = fwhm;
  e->bx[0] = e->by[0] = 0.0;
  for (int i = 1; i <= 3; i++) {
    const double a = i * 2.0 * M_PI / 3.0;
    e->bx[i] = 0.5 * L * cos(a);
    e->by[i] = 0.5 * L * sin(a);
  }
}

/* S17: I(r) = A0 4e ln2 r^2/fwhm^2 exp(-4 ln2 r^2/fwhm^2), A0 = 1 (peak = 1). */
double mf_doughnut(double dx, double dy, double fwhm)
{
  const double s = 4.0 * LN2 * (dx * dx + dy * dy) / (fwhm * fwhm);
  return M_E * s * exp(-s);
}

void mf_doughnut_grad(double dx, double dy, double fwhm, double *gx, double *gy)
{
  const double a = 4.0 * LN2 / (fwhm * fwhm);
  const double s = a * (dx * dx + dy * dy);
  const double g = M_E * a * 2.0 * (1.0 - s) * exp(-s); /* dI/d(dx) = g dx */
  *gx = g * dx;
  *gy = g * dy;
}

static double bg_per_exposure(const mf_ebp_t *e, double sbr0)
{
  if (!(sbr0 > 0.0) || isinf(sbr0)) return 0.0;
  double s = 0.0;
  for (int i = 0; i < e->K; i++) s += mf_doughnut(-e->bx[i], -e->by[i], e->fwhm);
  return s / (e->K * sbr0);
}

int mf_pvec(const mf_ebp_t *e, double x, double y, double sbr0,
            double *p, double *dpx, double *dpy)
{
  const double b = bg_per_exposure(e, sbr0);
  double lam[MF_KMAX], gx[MF_KMAX], gy[MF_KMAX], S = 0.0, Sx = 0.0, Sy = 0.0;
  for (int i = 0; i < e->K; i++) {
    lam[i] = mf_doughnut(x - e->bx[i], y - e->by[i], e->fwhm) + b;
    mf_doughnut_grad(x - e->bx[i], y - e->by[i], e->fwhm, &gx[i], &gy[i]);
    S += lam[i];
    Sx += gx[i];
    Sy += gy[i];
  }
  if (!(S > 0.0)) return -1;
  for (int i = 0; i < e->K; i++) {
    p[i] = lam[i] / S;
    if (dpx) dpx[i] = (gx[i] * S - lam[i] * Sx) / (S * S);
    if (dpy) dpy[i] = (gy[i] * S - lam[i] * Sy) / (S * S);
  }
  return 0;
}

double mf_crb(const mf_ebp_t *e, double x, double y, double N, double sbr0,
              double cov[2][2])
{
  double p[MF_KMAX], px[MF_KMAX], py[MF_KMAX];
  if (mf_pvec(e, x, y, sbr0, p, px, py) != 0 || !(N > 0.0)) return INFINITY;
  /* S11: F = N sum 1/p_i grad p_i grad p_i^T */
  double fxx = 0.0, fyy = 0.0, fxy = 0.0;
  for (int i = 0; i < e->K; i++) {
    if (!(p[i] > 0.0)) {
      /* a zero p_i with a nonzero gradient carries infinite information; with a zero
       * gradient (doughnut zero without background) the term's limit is 0 */
      if (px[i] != 0.0 || py[i] != 0.0) return 0.0;
      continue;
    }
    fxx += px[i] * px[i] / p[i];
    fyy += py[i] * py[i] / p[i];
    fxy += px[i] * py[i] / p[i];
  }
  fxx *= N; fyy *= N; fxy *= N;
  const double det = fxx * fyy - fxy * fxy;          /* S25 */
  if (!(det > 0.0) || !isfinite(det)) return INFINITY;
  if (cov) {
    cov[0][0] = fyy / det;
    cov[1][1] = fxx / det;
    cov[0][1] = cov[1][0] = -fxy / det;
  }
  return sqrt(0.5 * (fxx + fyy) / det);               /* S26 = S13 with d = 2 */
}

double mf_factor(double L, double fwhm)
{
  return 1.0 / (1.0 - L * L * LN2 / (fwhm * fwhm));
}

double mf_crb_s27(double L, double fwhm, double N)
{
  return L / (2.0 * sqrt(2.0 * N)) * mf_factor(L, fwhm);
}

double mf_crb_s31(double L, double fwhm, double N, double sbr0)
{
  return mf_crb_s27(L, fwhm, N) * sqrt((1.0 + 1.0 / sbr0) * (1.0 + 0.75 / sbr0));
}

double mf_sbr_s32(double sbr_L0, double L0, double L, double fwhm)
{
  return (L * L) / (L0 * L0) * exp(LN2 / (fwhm * fwhm) * (L0 * L0 - L * L)) * sbr_L0;
}

int mf_mlms(const double n[4], double L, double fwhm, int k, const double *beta,
            double *x, double *y)
{
  const double N = n[0] + n[1] + n[2] + n[3];
  if (!(N > 0.0)) {
    *x = *y = 0.0;
    return 0;
  }
  const double p0 = n[0] / N, p1 = n[1] / N, p2 = n[2] / N, p3 = n[3] / N;
  double B = 0.0, pw = 1.0;
  for (int j = 0; j <= k; j++, pw *= p0) B += beta[j] * pw;
  /* S49: r = (L/2) F B [-p3 + (p1 + p2)/2, sqrt(3)/2 (p2 - p1)] (= -F B sum p_i r_bi, S50) */
  const double g = 0.5 * L * mf_factor(L, fwhm) * B;
  *x = g * (-p3 + 0.5 * (p1 + p2));
  *y = g * (0.5 * sqrt(3.0) * (p2 - p1));
  return 1;
}

int mf_lms(const double n[4], double L, double fwhm, double *x, double *y)
{
  const double one = 1.0;
  return mf_mlms(n, L, fwhm, 0, &one, x, y);
}

double mf_gauss1d(double n0, double n1, double L, double fwhm)
{
  if (!(n0 > 0.0) || !(n1 > 0.0)) return 0.0;
  return fwhm * fwhm / (8.0 * LN2 * L) * log(n0 / n1);
}

void mf_mlms_mean_s54(const mf_ebp_t *e, double x, double y, double sbr0, double N,
                      int k, const double *beta, double *mx, double *my)
{
  double p[MF_KMAX];
  *mx = *my = 0.0;
  if (mf_pvec(e, x, y, sbr0, p, NULL, NULL) != 0 || e->K != 4 || !(N > 0.0)) return;
  /* the beam diameter follows from the pattern: |r_b1| = L/2 */
  const double L = 2.0 * hypot(e->bx[1], e->by[1]);
  const double b0 = beta[0], b1 = k >= 1 ? beta[1] : 0.0, b2 = k >= 2 ? beta[2] : 0.0;
  const double F = mf_factor(L, e->fwhm);
  for (int i = 1; i <= 3; i++) {
    /* E(p0^j p_i) via the multinomial factorial moments (S54) */
    const double w = b0 * p[i] + (N - 1.0) / N * (b1 + b2 / N) * p[0] * p[i] +
                     b2 * (N - 1.0) * (N - 2.0) / (N * N) * p[0] * p[0] * p[i];
    *mx -= F * w * e->bx[i];
    *my -= F * w * e->by[i];
  }
}
