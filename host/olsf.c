/* olsf: see olsf.h (seed 003 S65-S71). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "olsf.h"

void msd_blink(const double *x, const double *y, const uint8_t *q, size_t S, size_t smax,
               double *rho, double *pairs)
{
  rho[0] = 0;
  if (pairs) pairs[0] = 0;
  for (size_t s = 1; s <= smax; s++) {
    double sum = 0, n = 0;
    for (size_t i = 0; i + s < S; i++) {
      if (!q[i] || !q[i + s]) continue;
      const double dx = x[i + s] - x[i], dy = y[i + s] - y[i];
      sum += dx * dx + dy * dy;
      n++;
    }
    rho[s] = n > 0 ? sum / n : NAN;
    if (pairs) pairs[s] = n;
  }
}

double olsf_s_opt(double X) { return 2 + 4.6 * pow(X > 0 ? X : 0, 0.62); }

int olsf_fit_lags(const double *rho, const double *pairs, int s, double dt, double R, olsf_result *res)
{
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int k = 1; k <= s; k++) {
    if (!isfinite(rho[k]) || (pairs && pairs[k] < 1)) continue;
    sw += 1; sx += k; sy += rho[k]; sxx += (double)k * k; sxy += k * rho[k];
  }
  const double den = sw * sxx - sx * sx;
  if (sw < 2 || !(den > 0)) return -1;
  const double b = (sw * sxy - sx * sy) / den, a = (sy - b * sx) / sw;
  const int d = 2;
  res->a = a;
  res->b = b;
  res->s = s;
  res->D = b / (2 * d * dt);                                 /* slope = 2 d D dt */
  const double s2 = a / (2 * d) + 2 * R * res->D * dt;       /* offset = 2 d (sigma^2 - 2 R D dt) */
  res->sigma = s2 >= 0 ? sqrt(s2) : NAN;
  res->X = res->D > 0 ? s2 / (res->D * dt) - 2 * R : INFINITY;
  return 0;
}

int olsf_estimate(const double *x, const double *y, const uint8_t *q, size_t S, double dt,
                  double R, olsf_result *res)
{
  memset(res, 0, sizeof *res);
  res->D = res->sigma = res->X = NAN;
  res->S = S;
  for (size_t i = 0; i < S; i++) res->used += q[i] != 0;
  if (S < 4) return -1;
  /* lags beyond 1200 (the largest fit length of section 5.2.1.3) are not used: a track
   * without visible diffusion (X -> infinity) would otherwise ask for all S - 1 lags */
  const size_t smax = S - 1 < OLSF_MAX_LAGS ? S - 1 : OLSF_MAX_LAGS;
  double *rho = malloc((smax + 1) * sizeof *rho), *pairs = malloc((smax + 1) * sizeof *pairs);
  if (!rho || !pairs) { free(rho); free(pairs); return -1; }
  size_t have = 0;   /* lags computed so far */
  int s = (int)(S / 10), hist[16], nh = 0, rc = -1;
  for (int it = 0; it < 10; it++) {
    if (s < 2) s = 2;
    if ((size_t)s > smax) s = (int)smax;
    if ((size_t)s > have) {
      msd_blink(x, y, q, S, (size_t)s, rho, pairs);
      have = (size_t)s;
    }
    olsf_result r = *res;
    if (olsf_fit_lags(rho, pairs, s, dt, R, &r)) break;
    *res = r;
    res->iterations = it + 1;
    rc = 0;
    int next = isfinite(res->X) ? (int)lround(olsf_s_opt(res->X)) : (int)smax;
    if (next < 2) next = 2;
    if ((size_t)next > smax) next = (int)smax;
    if (next == s) { res->converged = 1; break; }
    int seen = 0;
    for (int k = 0; k < nh; k++) seen |= hist[k] == next;
    if (seen) break;   /* trapped between values (S71): not converged, keep the last fit */
    hist[nh++] = s;
    s = next;
  }
  free(rho);
  free(pairs);
  return rc;
}

/* integral of I (1 - I) dI from a to a + h */
static double seg(double a, double h)
{
  const double b = a + h;
  return (b * b / 2 - b * b * b / 3) - (a * a / 2 - a * a * a / 3);
}

double olsf_blur_R(int K, double delay, double gate, double win, int agg)
{
  if (K < 1 || !(gate > 0)) return 1.0 / 6;
  if (agg < 1) agg = 1;
  const double T = agg * (1 + K * (delay + gate) + win), h = 1.0 / (K * agg);
  double I = 0, integral = 0;
  for (int a = 0; a < agg; a++) {
    for (int k = 0; k < K; k++) {
      integral += I * (1 - I) * (k == 0 ? 1 + delay : delay);   /* laser off: I constant */
      integral += gate / h * seg(I, h);                         /* gate: I rises linearly by 1/(K agg) */
      I += h;
    }
    integral += I * (1 - I) * win;
  }
  return integral / T;
}
