/* mle2d: see mle2d.h (seed 003 S37, section 6.3.3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mle2d.h"

int mle2d_init(mle2d_ctx *m, const mf_ebp_t *ebp, double sbr, double diameter_nm, char *err, size_t errlen)
{
  memset(m, 0, sizeof *m);
  if (ebp->K < 1 || ebp->K > MF_KMAX || !(ebp->fwhm > 0) || !(diameter_nm > 0)) {
    snprintf(err, errlen, "mle: pattern of %d exposures, fwhm %g nm, search diameter %g nm: need 1..%d exposures and positive sizes",
             ebp->K, ebp->fwhm, diameter_nm, MF_KMAX);
    return -1;
  }
  m->ebp = *ebp;
  m->sbr = sbr > 0 && isfinite(sbr) ? sbr : INFINITY;
  m->radius_nm = diameter_nm / 2;
  const double steps[4] = { 5, 1, 0.1, 0.01 };
  memcpy(m->step_nm, steps, sizeof steps);
  m->nstage = 4;
  const int h = (int)floor(m->radius_nm / steps[0]);
  const size_t cap = (size_t)(2 * h + 1) * (2 * h + 1);
  m->gx = malloc(cap * sizeof *m->gx);
  m->gy = malloc(cap * sizeof *m->gy);
  m->lnp = malloc(cap * ebp->K * sizeof *m->lnp);
  if (!m->gx || !m->gy || !m->lnp) { mle2d_free(m); snprintf(err, errlen, "mle: out of memory"); return -1; }
  for (int iy = -h; iy <= h; iy++)
    for (int ix = -h; ix <= h; ix++) {
      const double x = ix * steps[0], y = iy * steps[0];
      if (hypot(x, y) > m->radius_nm + 1e-9) continue;
      double p[MF_KMAX];
      if (mf_pvec(ebp, x, y, m->sbr, p, NULL, NULL)) continue;
      m->gx[m->n0] = x;
      m->gy[m->n0] = y;
      for (int i = 0; i < ebp->K; i++) m->lnp[(size_t)m->n0 * ebp->K + i] = p[i] > 0 ? log(p[i]) : -INFINITY;
      m->n0++;
    }
  return 0;
}

void mle2d_free(mle2d_ctx *m)
{
  free(m->gx); free(m->gy); free(m->lnp);
  m->gx = m->gy = m->lnp = NULL;
}

/* S37: l(r) = sum n_i ln p_i(r); a zero p_i with n_i > 0 gives -inf. */
static double loglik_at(const mle2d_ctx *m, const double *n, double x, double y)
{
  double p[MF_KMAX];
  if (mf_pvec(&m->ebp, x, y, m->sbr, p, NULL, NULL)) return -INFINITY;
  double l = 0;
  for (int i = 0; i < m->ebp.K; i++) {
    if (n[i] == 0) continue;
    if (!(p[i] > 0)) return -INFINITY;
    l += n[i] * log(p[i]);
  }
  return l;
}

int mle2d_eval(const mle2d_ctx *m, const double *n, double *x, double *y, double *loglik)
{
  const int K = m->ebp.K;
  double N = 0;
  for (int i = 0; i < K; i++) N += n[i];
  *x = *y = 0;
  if (!(N > 0) || !m->n0) { if (loglik) *loglik = 0; return -1; }
  double best = -INFINITY;
  int bi = 0;
  for (int j = 0; j < m->n0; j++) {
    const double *lp = m->lnp + (size_t)j * K;
    double l = 0;
    for (int i = 0; i < K && l > -INFINITY; i++) if (n[i] != 0) l += n[i] * lp[i];
    if (l > best) { best = l; bi = j; }
  }
  double bx = m->gx[bi], by = m->gy[bi];
  const int edge = hypot(bx, by) > m->radius_nm - m->step_nm[0] + 1e-9;
  for (int s = 1; s < m->nstage; s++) {
    const double st = m->step_nm[s];
    const int h = (int)lround(m->step_nm[s - 1] / st);
    const double cx = bx, cy = by;
    for (int iy = -h; iy <= h; iy++)
      for (int ix = -h; ix <= h; ix++) {
        const double px = cx + ix * st, py = cy + iy * st;
        const double l = loglik_at(m, n, px, py);
        if (l > best) { best = l; bx = px; by = py; }
      }
  }
  *x = bx;
  *y = by;
  if (loglik) *loglik = best;
  return edge ? 0 : 1;
}
