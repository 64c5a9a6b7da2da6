/* bayes_float: double-precision reference of Bayesian MINFLUX (seed 002 eq 1-9) and of the
 * iterative hexagon mode. See bayes_float.h for the conventions. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_multimin.h>
#include "bayes_float.h"

double bf_g(double dx, double dy, double s, double b)
{
  const double q = (dx * dx + dy * dy) / (s * s);
  return M_E * q * exp(-q) + b;
}

/* ---- EIG of a Gaussian prior ---- */

double bf_eig_gauss(double sigma, double d, double mu, double b, double s)
{
  const double step = fmin(sigma / 10.0, s / 16.0);
  const int M = (int)ceil(6.5 * sigma / step);
  const int nx = 2 * M + 1, ny = M + 1;   /* y >= 0 only: symmetric about the beam axis */
  double *w = malloc(sizeof(double) * (size_t)nx * ny);
  double *f = malloc(sizeof(double) * (size_t)nx * ny);
  if (!w || !f) {
    free(w);
    free(f);
    return NAN;
  }
  double wsum = 0.0, fsum = 0.0;
  for (int jb = 0; jb < ny; jb++)
    for (int ia = 0; ia < nx; ia++) {
      const double x = (ia - M) * step, y = jb * step;
      const double wt = exp(-(x * x + y * y) / (2.0 * sigma * sigma)) * (jb > 0 ? 2.0 : 1.0);
      const size_t k = (size_t)jb * nx + ia;
      w[k] = wt;
      f[k] = bf_g(x - d, y, s, b);
      wsum += wt;
      fsum += wt * f[k];
    }
  const double eta = mu * wsum / fsum;
  /* P(n) (eq 6) and sum_x w sum_n p log p for every point, up to each point's n_max. */
  int nmax_all = 0;
  for (size_t k = 0; k < (size_t)nx * ny; k++) {
    const double lam = eta * f[k];
    const int nm = (int)ceil(lam + 12.0 * sqrt(lam) + 15.0);
    if (nm > nmax_all) nmax_all = nm;
  }
  double *P = calloc((size_t)nmax_all + 1, sizeof(double));
  double *logn = malloc(sizeof(double) * ((size_t)nmax_all + 2));
  if (!P || !logn) {
    free(w);
    free(f);
    free(P);
    free(logn);
    return NAN;
  }
  for (int n = 1; n <= nmax_all + 1; n++) logn[n] = log((double)n);
  double A = 0.0;
  for (size_t k = 0; k < (size_t)nx * ny; k++) {
    const double wt = w[k] / wsum, lam = eta * f[k], ll = log(lam);
    const int nm = (int)ceil(lam + 12.0 * sqrt(lam) + 15.0);
    double lp = -lam, a = 0.0;
    for (int n = 0; n <= nm; n++) {
      const double p = exp(lp);
      a += p * lp;
      P[n] += wt * p;
      lp += ll - logn[n + 1];
    }
    A += wt * a;
  }
  double B = 0.0;
  for (int n = 0; n <= nmax_all; n++)
    if (P[n] > 0.0) B += P[n] * log(P[n]);
  free(w);
  free(f);
  free(P);
  free(logn);
  return A - B;
}

double bf_fisher_gauss0(double d, double mu, double b, double s)
{
  const double q = d * d / (s * s);
  const double g = M_E * q * exp(-q) + b;
  const double dg = M_E * (1.0 - q) * exp(-q) * 2.0 * d / (s * s);   /* |grad g| at the mean */
  return mu * dg * dg / (2.0 * g * g);
}

typedef struct {
  double sigma, mu, b, s;
} dopt_par_t;

static double neg_eig(double d, void *vp)
{
  const dopt_par_t *p = vp;
  if (p->sigma <= 0.0) return -bf_fisher_gauss0(d, p->mu, p->b, p->s);
  return -bf_eig_gauss(p->sigma, d, p->mu, p->b, p->s);
}

int bf_min_scan(double (*f)(double, void *), void *par, const double *xv, double *fv, int n, double tol, double *x,
                double *fmin)
{
  int best = 0;
  for (int k = 0; k < n; k++) {
    fv[k] = f(xv[k], par);
    if (fv[k] < fv[best]) best = k;
  }
  *x = xv[best];
  *fmin = fv[best];
  if (best == 0 || best == n - 1) return 0;  /* at an end of the scan: keep it */
  gsl_function fn = {f, par};
  gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int rc = gsl_min_fminimizer_set_with_values(m, &fn, xv[best], fv[best], xv[best - 1],
                                              fv[best - 1], xv[best + 1], fv[best + 1]);
  for (int it = 0; rc == GSL_SUCCESS && it < 100; it++) {
    rc = gsl_min_fminimizer_iterate(m);
    if (rc != GSL_SUCCESS) break;
    const double lo = gsl_min_fminimizer_x_lower(m), hi = gsl_min_fminimizer_x_upper(m);
    if (gsl_min_test_interval(lo, hi, tol, tol) == GSL_SUCCESS) break;
  }
  if (rc == GSL_SUCCESS) {
    *x = gsl_min_fminimizer_x_minimum(m);
    *fmin = gsl_min_fminimizer_f_minimum(m);
  }
  gsl_set_error_handler(old);
  gsl_min_fminimizer_free(m);
  return rc == GSL_SUCCESS ? 0 : -1;
}

int bf_dopt(double sigma, double mu, double b, double s, double *D, double *eig)
{
  dopt_par_t par = {sigma, mu, b, s};
  enum { NSCAN = 96 };
  const double dmax = 4.0 * fmax(sigma, 0.0) + 3.0 * s;
  double dv[NSCAN + 1], fv[NSCAN + 1], f;
  for (int k = 0; k <= NSCAN; k++) {
    const double t = (double)k / NSCAN;
    dv[k] = dmax * t * t;                    /* finer steps near the beam axis */
  }
  const int rc = bf_min_scan(neg_eig, &par, dv, fv, NSCAN + 1, 1e-4, D, &f);
  if (eig) *eig = -f;
  return rc;
}

/* ---- D table ---- */

typedef struct {
  bf_dtable_t *t;
  int first, stride, failed;
} dtab_job_t;

static void *dtab_worker(void *vp)
{
  dtab_job_t *j = vp;
  bf_dtable_t *t = j->t;
  for (int k = j->first; k < t->n; k += j->stride) {
    const double sg = t->sigma_min * pow(2.0, (double)k / t->per_octave);
    if (bf_dopt(sg, t->mu, t->b, t->s, &t->D[k], &t->eig[k])) j->failed = 1;
  }
  return NULL;
}

int bf_dtable_make(bf_dtable_t *t, double mu, double b, double s, double sigma_min,
                   int per_octave, int n, int threads, char *err, int errlen)
{
  memset(t, 0, sizeof *t);
  if (!(mu > 0.0) || !(b > 0.0) || !(s > 0.0) || !(sigma_min > 0.0) || per_octave < 1 || n < 2) {
    snprintf(err, errlen, "D table: mu = %g, b = %g, s = %g nm, sigma_min = %g nm: all must be > 0 "
             "(and >= 1 step per octave, >= 2 entries)", mu, b, s, sigma_min);
    return -1;
  }
  t->n = n;
  t->per_octave = per_octave;
  t->sigma_min = sigma_min;
  t->mu = mu;
  t->b = b;
  t->s = s;
  t->D = calloc((size_t)n, sizeof(double));
  t->eig = calloc((size_t)n, sizeof(double));
  if (!t->D || !t->eig) {
    bf_dtable_free(t);
    snprintf(err, errlen, "D table: out of memory");
    return -1;
  }
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  pthread_t th[16];
  dtab_job_t jobs[16];
  for (int i = 0; i < threads; i++) {
    jobs[i] = (dtab_job_t){t, i, threads, 0};
    if (i > 0 && pthread_create(&th[i], NULL, dtab_worker, &jobs[i])) {
      jobs[i].failed = 2;
    }
  }
  dtab_worker(&jobs[0]);
  int failed = 0;
  for (int i = 1; i < threads; i++) {
    if (jobs[i].failed != 2) pthread_join(th[i], NULL);
    else dtab_worker(&jobs[i]);    /* no thread: do its share here */
    failed |= jobs[i].failed;
  }
  failed |= jobs[0].failed;
  if (bf_dopt(0.0, mu, b, s, &t->D0, NULL)) failed = 1;
  if (failed) {
    bf_dtable_free(t);
    snprintf(err, errlen, "D table: the EIG maximization did not converge (mu = %g, b = %g, s = %g)",
             mu, b, s);
    return -1;
  }
  return 0;
}

void bf_dtable_free(bf_dtable_t *t)
{
  free(t->D);
  free(t->eig);
  t->D = t->eig = NULL;
  t->n = 0;
}

double bf_dtable_eval(const bf_dtable_t *t, double sigma)
{
  if (!(sigma > t->sigma_min)) return t->D[0];
  const double u = log2(sigma / t->sigma_min) * t->per_octave;
  if (u >= t->n - 1) return t->D[t->n - 1];
  const int k = (int)u;
  const double f = u - k;
  return t->D[k] + f * (t->D[k + 1] - t->D[k]);
}

int bf_dtable_write(const bf_dtable_t *t, const char *path, char *err, int errlen)
{
  FILE *fp = fopen(path, "w");
  if (!fp) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  fprintf(fp, "# D(sigma) of seed 002 eq 8: mu=%.17g b=%.17g s_nm=%.17g sigma_min_nm=%.17g "
          "per_octave=%d n=%d D0_nm=%.17g\n", t->mu, t->b, t->s, t->sigma_min, t->per_octave, t->n, t->D0);
  fprintf(fp, "sigma_nm,D_nm,eig_nats\n");
  for (int k = 0; k < t->n; k++)
    fprintf(fp, "%.9g,%.9g,%.9g\n", t->sigma_min * pow(2.0, (double)k / t->per_octave), t->D[k], t->eig[k]);
  if (fclose(fp)) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

int bf_dtable_read(bf_dtable_t *t, const char *path, char *err, int errlen)
{
  memset(t, 0, sizeof *t);
  FILE *fp = fopen(path, "r");
  if (!fp) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char line[512];
  int ok = fgets(line, sizeof line, fp) &&
           sscanf(line, "# D(sigma) of seed 002 eq 8: mu=%lf b=%lf s_nm=%lf sigma_min_nm=%lf "
                  "per_octave=%d n=%d D0_nm=%lf", &t->mu, &t->b, &t->s, &t->sigma_min,
                  &t->per_octave, &t->n, &t->D0) == 7 &&
           t->n >= 2 && t->n <= 4096 && t->per_octave >= 1 && fgets(line, sizeof line, fp);
  if (ok) {
    t->D = calloc((size_t)t->n, sizeof(double));
    t->eig = calloc((size_t)t->n, sizeof(double));
    ok = t->D && t->eig;
  }
  for (int k = 0; ok && k < t->n; k++) {
    double sg;
    ok = fgets(line, sizeof line, fp) && sscanf(line, "%lf,%lf,%lf", &sg, &t->D[k], &t->eig[k]) == 3 &&
         fabs(sg / (t->sigma_min * pow(2.0, (double)k / t->per_octave)) - 1.0) < 1e-6;
    if (!ok) snprintf(err, errlen, "%s line %d: expected sigma_nm,D_nm,eig_nats of entry %d", path, k + 3, k);
  }
  fclose(fp);
  if (!ok) {
    if (t->D == NULL || t->n < 2) snprintf(err, errlen, "%s: not a D table written by bf_dtable_write", path);
    bf_dtable_free(t);
    return -1;
  }
  return 0;
}

/* ---- grid posterior ---- */

void bf_grid_cfg_default(bf_grid_cfg_t *c)
{
  c->N = 32;
  c->refine_std = M_SQRT2;
  c->coarsen_std = 4.0 * M_SQRT2;
  c->recentre = 4.0;
  c->floor_log = 32.0 * M_LN2;
}

int bf_post_init(bf_post_t *p, const bf_grid_cfg_t *cfg, double s, double b, double x0,
                 double y0, double sigma0, double h0, char *err, int errlen)
{
  if (cfg->N < 4 || cfg->N > BF_NMAX || (cfg->N & 1) || !(cfg->refine_std > 0.0) ||
      !(cfg->coarsen_std > 2.0 * cfg->refine_std) || !(cfg->floor_log > 0.0)) {
    snprintf(err, errlen, "grid: N = %d must be even and 4..%d, 0 < 2 refine_std < coarsen_std, floor > 0",
             cfg->N, BF_NMAX);
    return -1;
  }
  if (!(s > 0.0) || !(b > 0.0) || !(sigma0 > 0.0) || !(h0 > 0.0)) {
    snprintf(err, errlen, "grid: s = %g, b = %g, sigma0 = %g, h0 = %g: all must be > 0", s, b, sigma0, h0);
    return -1;
  }
  p->cfg = *cfg;
  p->s = s;
  p->b = b;
  p->h = h0;
  p->cx = x0;
  p->cy = y0;
  p->regrids = 0;
  p->gvalid = 0;
  const int N = cfg->N;
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++) {
      const double dx = (i - N / 2) * h0, dy = (j - N / 2) * h0;
      p->L[j * N + i] = fmax(-(dx * dx + dy * dy) / (2.0 * sigma0 * sigma0), -cfg->floor_log);
    }
  bf_post_stats(p);
  return 0;
}

/* g at every grid point for the beam at (rx, ry), kept for the update that follows. */
static void post_gcache(bf_post_t *p, double rx, double ry)
{
  if (p->gvalid && p->grx == rx && p->gry == ry) return;
  const int N = p->cfg.N;
  for (int j = 0; j < N; j++) {
    const double y = p->cy + (j - N / 2) * p->h;
    for (int i = 0; i < N; i++) p->g[j * N + i] = bf_g(p->cx + (i - N / 2) * p->h - rx, y - ry, p->s, p->b);
  }
  p->grx = rx;
  p->gry = ry;
  p->gvalid = 1;
}

double bf_post_eta(bf_post_t *p, double rx, double ry, double mu)
{
  const int N = p->cfg.N;
  post_gcache(p, rx, ry);
  double W = 0.0, G = 0.0;
  for (int k = 0; k < N * N; k++) {
    W += p->w[k];
    G += p->w[k] * p->g[k];
  }
  return mu * W / G;
}

void bf_post_stats(bf_post_t *p)
{
  const int N = p->cfg.N;
  double W = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, Lmax = -INFINITY;
  int imax = 0;
  for (int k = 0; k < N * N; k++)
    if (p->L[k] > Lmax) {
      Lmax = p->L[k];
      imax = k;
    }
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++) {
      const double w = exp(p->L[j * N + i] - Lmax), u = i - N / 2, v = j - N / 2;
      p->w[j * N + i] = w;
      W += w;
      sx += w * u;
      sy += w * v;
      sxx += w * u * u;
      syy += w * v * v;
    }
  p->map_i = imax % N;
  p->map_j = imax / N;
  p->map_x = p->cx + (p->map_i - N / 2) * p->h;
  p->map_y = p->cy + (p->map_j - N / 2) * p->h;
  const double mx = sx / W, my = sy / W;
  p->mean_x = p->cx + mx * p->h;
  p->mean_y = p->cy + my * p->h;
  const double var = (sxx / W - mx * mx + syy / W - my * my) / 2.0;
  p->std = sqrt(fmax(var, 0.0)) * p->h;
}

/* Re-centres on the MAP and/or changes the spacing; new points are bilinear interpolations
 * of the old log posterior, points outside the old window get the floor. */
static void post_regrid(bf_post_t *p, double hn)
{
  static __thread double old[BF_NMAX * BF_NMAX];
  const int N = p->cfg.N;
  memcpy(old, p->L, sizeof(double) * (size_t)N * N);
  const double cxn = p->map_x, cyn = p->map_y, fl = -p->cfg.floor_log;
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++) {
      /* position of the new point in old grid indices */
      const double u = (cxn + (i - N / 2) * hn - p->cx) / p->h + N / 2;
      const double v = (cyn + (j - N / 2) * hn - p->cy) / p->h + N / 2;
      double val = fl;
      if (u >= -1e-9 && v >= -1e-9 && u <= N - 1 + 1e-9 && v <= N - 1 + 1e-9) {
        int i0 = (int)floor(u + 1e-9), j0 = (int)floor(v + 1e-9);
        if (i0 > N - 2) i0 = N - 2;
        if (j0 > N - 2) j0 = N - 2;
        const double fu = u - i0, fv = v - j0;
        val = (1 - fu) * (1 - fv) * old[j0 * N + i0] + fu * (1 - fv) * old[j0 * N + i0 + 1] +
              (1 - fu) * fv * old[(j0 + 1) * N + i0] + fu * fv * old[(j0 + 1) * N + i0 + 1];
      }
      p->L[j * N + i] = val;
    }
  p->cx = cxn;
  p->cy = cyn;
  p->h = hn;
  p->regrids++;
  p->gvalid = 0;
}

void bf_post_update(bf_post_t *p, double rx, double ry, double eta, unsigned n)
{
  const int N = p->cfg.N;
  post_gcache(p, rx, ry);
  double Lmax = -INFINITY;
  for (int k = 0; k < N * N; k++) {
    const double g = p->g[k];
    p->L[k] += (n ? n * log(g) : 0.0) - eta * g;
    if (p->L[k] > Lmax) Lmax = p->L[k];
  }
  for (int k = 0; k < N * N; k++) p->L[k] = fmax(p->L[k] - Lmax, -p->cfg.floor_log);
  bf_post_stats(p);
  const double sh = p->std / p->h;
  double hn = p->h;
  if (sh < p->cfg.refine_std) hn = p->h / 2.0;
  else if (sh >= p->cfg.coarsen_std) hn = p->h * 2.0;
  if (hn != p->h || abs(p->map_i - N / 2) > p->cfg.recentre || abs(p->map_j - N / 2) > p->cfg.recentre) {
    post_regrid(p, hn);
    bf_post_stats(p);
  }
}

void bf_place(const bf_post_t *p, const bf_dtable_t *t, double angle, double *rx, double *ry)
{
  const double D = bf_dtable_eval(t, p->std);
  *rx = p->map_x + D * cos(angle);
  *ry = p->map_y + D * sin(angle);
}

/* ---- hexagon ---- */

void bf_hex_pos(int k, double L, double *dx, double *dy)
{
  if (k == 0) {
    *dx = *dy = 0.0;
    return;
  }
  const double a = (k - 1) * M_PI / 3.0;
  *dx = 0.5 * L * cos(a);
  *dy = 0.5 * L * sin(a);
}

typedef struct {
  int K;
  const double *bx, *by;
  const unsigned *n, *m;
  double eta, s, b;
  double px, py, psig;   /* Gaussian prior (psig > 0) */
} mle_par_t;

static double neg_loglik(const mle_par_t *q, double x, double y)
{
  double ll = 0.0;
  if (q->psig > 0.0) ll = -((x - q->px) * (x - q->px) + (y - q->py) * (y - q->py)) / (2.0 * q->psig * q->psig);
  for (int k = 0; k < q->K; k++) {
    if (!q->m[k]) continue;
    const double g = bf_g(x - q->bx[k], y - q->by[k], q->s, q->b);
    ll += q->n[k] * log(q->eta * g) - q->m[k] * q->eta * g;
  }
  return -ll;
}

static double mle_f(const gsl_vector *v, void *vp)
{
  return neg_loglik(vp, gsl_vector_get(v, 0), gsl_vector_get(v, 1));
}

double bf_mle(int K, const double *bx, const double *by, const unsigned *n, const unsigned *m,
              double eta, double s, double b, double x0, double y0, double half,
              double prior_sigma, double *x, double *y)
{
  mle_par_t q = {K, bx, by, n, m, eta, s, b, x0, y0, prior_sigma};
  double bestx = x0, besty = y0, bestf = neg_loglik(&q, x0, y0);
  if (half > 0.0)
    for (int j = 0; j <= 40; j++)
      for (int i = 0; i <= 40; i++) {
        const double xi = x0 + half * (i - 20) / 20.0, yj = y0 + half * (j - 20) / 20.0;
        const double fv = neg_loglik(&q, xi, yj);
        if (fv < bestf) {
          bestf = fv;
          bestx = xi;
          besty = yj;
        }
      }
  gsl_multimin_function fn = {mle_f, 2, &q};
  gsl_multimin_fminimizer *mm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 2);
  gsl_vector *v = gsl_vector_alloc(2), *st = gsl_vector_alloc(2);
  gsl_vector_set(v, 0, bestx);
  gsl_vector_set(v, 1, besty);
  const double step = half > 0.0 ? half / 20.0 : 5.0;
  gsl_vector_set_all(st, step);
  gsl_multimin_fminimizer_set(mm, &fn, v, st);
  for (int it = 0; it < 500; it++) {
    if (gsl_multimin_fminimizer_iterate(mm)) break;
    if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(mm), 1e-4) == GSL_SUCCESS) break;
  }
  if (mm->fval < bestf) {
    bestf = mm->fval;
    bestx = gsl_vector_get(mm->x, 0);
    besty = gsl_vector_get(mm->x, 1);
  }
  gsl_vector_free(v);
  gsl_vector_free(st);
  gsl_multimin_fminimizer_free(mm);
  *x = bestx;
  *y = besty;
  return -bestf;
}
