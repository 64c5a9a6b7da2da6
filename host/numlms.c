/* numlms: see numlms.h (seed 003 S52-S58). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_interp2d.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_spline2d.h>
#include "est_float.h"
#include "numlms.h"

void numlms_default_opts(numlms_opts *o)
{
  o->R2_frac = 1.0;
  o->nR1 = 4;
  o->grid_nm = 1.0;
  o->M = 1000;
  o->nq = 5;
  o->fit_beta1 = 0;
  o->seed = 1;
}

/* S54 coefficients: R = beta0 A + c1 B + c2 C with A = -F sum p_i r_bi, B = -F sum p0 p_i r_bi,
 * C = -F sum p0^2 p_i r_bi (i = 1..3). */
static void s54_coef(double N, const double beta[3], double *c0, double *c1, double *c2)
{
  *c0 = beta[0];
  *c1 = (N - 1.0) / N * (beta[1] + beta[2] / N);
  *c2 = beta[2] * (N - 1.0) * (N - 2.0) / (N * N);
}

int numlms_mean(double L, double fwhm, double sbr, double N, const double beta[3],
                double x, double y, double *mx, double *my, double jac[2][2])
{
  mf_ebp_t e;
  mf_ebp4(L, fwhm, &e);
  double p[MF_KMAX], px[MF_KMAX], py[MF_KMAX];
  if (mf_pvec(&e, x, y, sbr, p, px, py)) return -1;
  const double F = mf_factor(L, fwhm);
  double c0, c1, c2;
  s54_coef(N, beta, &c0, &c1, &c2);
  double sx = 0, sy = 0, jxx = 0, jxy = 0, jyx = 0, jyy = 0;
  for (int i = 1; i <= 3; i++) {
    const double w = c0 * p[i] + c1 * p[0] * p[i] + c2 * p[0] * p[0] * p[i];
    /* dw/dr = c0 dp_i + c1 (dp0 p_i + p0 dp_i) + c2 (2 p0 dp0 p_i + p0^2 dp_i) */
    const double wx = c0 * px[i] + c1 * (px[0] * p[i] + p[0] * px[i]) + c2 * (2 * p[0] * px[0] * p[i] + p[0] * p[0] * px[i]);
    const double wy = c0 * py[i] + c1 * (py[0] * p[i] + p[0] * py[i]) + c2 * (2 * p[0] * py[0] * p[i] + p[0] * p[0] * py[i]);
    sx += w * e.bx[i];
    sy += w * e.by[i];
    jxx += wx * e.bx[i]; jxy += wy * e.bx[i];
    jyx += wx * e.by[i]; jyy += wy * e.by[i];
  }
  *mx = -F * sx;
  *my = -F * sy;
  if (jac) {
    jac[0][0] = -F * jxx; jac[0][1] = -F * jxy;
    jac[1][0] = -F * jyx; jac[1][1] = -F * jyy;
  }
  return 0;
}

/* ---- beta_opt ---- */

typedef struct {
  size_t n;
  double *x, *y, *r, *A, *B, *C;   /* per grid position: coordinates, |r|, S54 vectors (x, y pairs) */
  double N;
} bias_grid;

typedef struct { const bias_grid *g; double R1; int fit_beta1; } bias_obj;

static void beta_of(const gsl_vector *v, int fit_beta1, double beta[3])
{
  beta[0] = gsl_vector_get(v, 0);
  beta[1] = fit_beta1 ? gsl_vector_get(v, 1) : 0.0;
  beta[2] = gsl_vector_get(v, fit_beta1 ? 2 : 1);
}

/* mean |bias| (S52) over the grid positions with |r| <= R1 */
static double mean_bias(const bias_grid *g, double R1, const double beta[3])
{
  double c0, c1, c2, s = 0;
  s54_coef(g->N, beta, &c0, &c1, &c2);
  size_t m = 0;
  for (size_t i = 0; i < g->n; i++) {
    if (g->r[i] > R1) continue;
    const double bx = c0 * g->A[2 * i] + c1 * g->B[2 * i] + c2 * g->C[2 * i] - g->x[i];
    const double by = c0 * g->A[2 * i + 1] + c1 * g->B[2 * i + 1] + c2 * g->C[2 * i + 1] - g->y[i];
    s += sqrt(bx * bx + by * by);
    m++;
  }
  return m ? s / m : 0;
}

static double bias_f(const gsl_vector *v, void *params)
{
  const bias_obj *o = params;
  double beta[3];
  beta_of(v, o->fit_beta1, beta);
  return mean_bias(o->g, o->R1, beta);
}

static int optimize_beta(const bias_grid *g, double R1, int fit_beta1, double beta[3])
{
  const int dim = fit_beta1 ? 3 : 2;
  bias_obj o = { g, R1, fit_beta1 };
  gsl_multimin_function fn = { bias_f, (size_t)dim, &o };
  gsl_vector *x = gsl_vector_alloc(dim), *ss = gsl_vector_alloc(dim);
  gsl_vector_set(x, 0, beta[0]);
  if (fit_beta1) gsl_vector_set(x, 1, beta[1]);
  gsl_vector_set(x, dim - 1, beta[2]);
  gsl_vector_set_all(ss, 0.3);
  gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, dim);
  gsl_multimin_fminimizer_set(m, &fn, x, ss);
  int status = GSL_CONTINUE;
  for (int it = 0; it < 2000 && status == GSL_CONTINUE; it++) {
    if (gsl_multimin_fminimizer_iterate(m)) break;
    status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-5);
  }
  beta_of(m->x, fit_beta1, beta);
  gsl_multimin_fminimizer_free(m);
  gsl_vector_free(x);
  gsl_vector_free(ss);
  return status == GSL_SUCCESS ? 0 : -1;
}

/* ---- F: inverse of the mean map on a regular grid ---- */

typedef struct { double L, fwhm, sbr, N; double beta[3]; double Rabort; } map_par;

/* Newton on R(r) = u from r0; returns 0 when |R(r) - u| < tol with det J > 0. */
static int invert(const map_par *m, double ux, double uy, double *rx, double *ry, double tol)
{
  double x = *rx, y = *ry, mx, my, J[2][2];
  if (numlms_mean(m->L, m->fwhm, m->sbr, m->N, m->beta, x, y, &mx, &my, J)) return -1;
  double res = hypot(mx - ux, my - uy);
  for (int it = 0; it < 40; it++) {
    if (res < tol) {
      const double det = J[0][0] * J[1][1] - J[0][1] * J[1][0];
      if (!(det > 0)) return -1;
      *rx = x; *ry = y;
      return 0;
    }
    const double det = J[0][0] * J[1][1] - J[0][1] * J[1][0];
    if (!(fabs(det) > 1e-12)) return -1;
    const double fx = mx - ux, fy = my - uy;
    const double dx = (J[1][1] * fx - J[0][1] * fy) / det, dy = (-J[1][0] * fx + J[0][0] * fy) / det;
    double t = 1.0;
    for (int h = 0; h < 12; h++, t *= 0.5) {   /* damped: the residual must shrink */
      const double nx = x - t * dx, ny = y - t * dy;
      double nmx, nmy, NJ[2][2];
      if (numlms_mean(m->L, m->fwhm, m->sbr, m->N, m->beta, nx, ny, &nmx, &nmy, NJ)) continue;
      const double nres = hypot(nmx - ux, nmy - uy);
      if (nres < res) {
        x = nx; y = ny; mx = nmx; my = nmy; res = nres;
        memcpy(J, NJ, sizeof J);
        break;
      }
    }
    if (t < 1e-3 || hypot(x, y) > m->Rabort) return -1;
  }
  return -1;
}

typedef struct { double d; int i; } node_order;
static int cmp_node(const void *a, const void *b)
{
  const double x = ((const node_order *)a)->d, y = ((const node_order *)b)->d;
  return x < y ? -1 : x > y;
}

static void free_F(numlms_entry *e)
{
  if (e->spx) gsl_spline2d_free(e->spx);
  if (e->spy) gsl_spline2d_free(e->spy);
  if (e->ax) gsl_interp_accel_free(e->ax);
  if (e->ay) gsl_interp_accel_free(e->ay);
  free(e->fx); free(e->fy); free(e->ok);
  e->spx = e->spy = e->ax = e->ay = NULL;
  e->fx = e->fy = NULL;
  e->ok = NULL;
}

static int build_F(numlms_entry *e, double R1, double Rcap)
{
  const map_par m = { e->L, e->fwhm, e->sbr, e->N, { e->beta[0], e->beta[1], e->beta[2] }, 2 * Rcap };
  /* the grid covers the image of |r| <= Rcap with a margin; estimates beyond it are clamped
   * to its edge (they are far outside the calibrated region anyway) */
  double U = 0;
  for (int k = 0; k < 720; k++)
    for (int j = 1; j <= 8; j++) {
      const double a = k * M_PI / 360, rr = Rcap * j / 8;
      double mx, my;
      if (!numlms_mean(m.L, m.fwhm, m.sbr, m.N, m.beta, rr * cos(a), rr * sin(a), &mx, &my, NULL))
        U = fmax(U, fmax(fabs(mx), fabs(my)));
    }
  U = fmax(1.25 * U, 1.05 * R1);
  const double du = fmax(U / 60.0, 0.25);
  const int half = (int)ceil(U / du);
  const int ng = 2 * half + 1;
  e->ng = ng;
  e->U = half * du;
  const size_t nn = (size_t)ng * ng;
  e->fx = malloc(nn * sizeof *e->fx);
  e->fy = malloc(nn * sizeof *e->fy);
  e->ok = calloc(nn, 1);
  uint8_t *known = calloc(nn, 1);
  node_order *ord = malloc(nn * sizeof *ord);
  if (!e->fx || !e->fy || !e->ok || !known || !ord) { free(known); free(ord); return -1; }
  for (size_t i = 0; i < nn; i++) {
    const double ux = -e->U + (double)(i % ng) * du, uy = -e->U + (double)(i / ng) * du;
    ord[i].d = hypot(ux, uy);
    ord[i].i = (int)i;
  }
  qsort(ord, nn, sizeof *ord, cmp_node);
  const double tol = 1e-7 * e->L;
  for (size_t k = 0; k < nn; k++) {
    const int i = ord[k].i, ix = i % ng, iy = i / ng;
    const double ux = -e->U + ix * du, uy = -e->U + iy * du;
    /* start from the solved neighbour one step closer to the centre */
    double rx = 0, ry = 0;
    int have = 0;
    const int sx = ix < half ? 1 : ix > half ? -1 : 0, sy = iy < half ? 1 : iy > half ? -1 : 0;
    const int cand[3][2] = { { sx, sy }, { sx, 0 }, { 0, sy } };
    for (int c = 0; c < 3 && !have; c++) {
      if (!cand[c][0] && !cand[c][1]) continue;
      const int j = (iy + cand[c][1]) * ng + ix + cand[c][0];
      if (known[j]) { rx = e->fx[j]; ry = e->fy[j]; have = 1; }
    }
    /* marching outwards from the centre: a node whose inner neighbours are all outside
     * the invertible region is outside too (and is not tried) */
    if (!have && (ix != half || iy != half)) continue;
    if (invert(&m, ux, uy, &rx, &ry, tol) == 0 && hypot(rx, ry) <= Rcap) {
      e->fx[i] = rx; e->fy[i] = ry;
      known[i] = 1;
      e->ok[i] = hypot(rx, ry) <= R1;
    }
  }
  free(ord);
  /* nodes beyond the invertible region: continued by repeated averaging of the known
   * neighbours (a smooth, bounded continuation), flagged as outside */
  size_t unknown = 0;
  for (size_t i = 0; i < nn; i++) unknown += !known[i];
  if (unknown == nn) { free(known); return -1; }
  uint8_t *nk = malloc(nn);
  while (unknown && nk) {
    memcpy(nk, known, nn);
    for (size_t i = 0; i < nn; i++) {
      if (known[i]) continue;
      const int ix = (int)(i % ng), iy = (int)(i / ng);
      double sx = 0, sy = 0;
      int c = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          const int jx = ix + dx, jy = iy + dy;
          if ((!dx && !dy) || jx < 0 || jy < 0 || jx >= ng || jy >= ng) continue;
          const size_t j = (size_t)jy * ng + jx;
          if (known[j]) { sx += e->fx[j]; sy += e->fy[j]; c++; }
        }
      if (c) { e->fx[i] = sx / c; e->fy[i] = sy / c; nk[i] = 1; unknown--; }
    }
    memcpy(known, nk, nn);
  }
  free(nk);
  free(known);
  double *xa = malloc(ng * sizeof *xa);
  if (!xa) return -1;
  for (int i = 0; i < ng; i++) xa[i] = -e->U + i * du;
  e->spx = gsl_spline2d_alloc(gsl_interp2d_bicubic, ng, ng);
  e->spy = gsl_spline2d_alloc(gsl_interp2d_bicubic, ng, ng);
  e->ax = gsl_interp_accel_alloc();
  e->ay = gsl_interp_accel_alloc();
  gsl_spline2d_init(e->spx, xa, xa, e->fx, ng, ng);
  gsl_spline2d_init(e->spy, xa, xa, e->fy, ng, ng);
  free(xa);
  return 0;
}

int numlms_apply_F(numlms_entry *e, double ux, double uy, double *x, double *y)
{
  const double lim = e->U * (1 - 1e-12);
  const double cx = fmin(fmax(ux, -lim), lim), cy = fmin(fmax(uy, -lim), lim);
  *x = gsl_spline2d_eval(e->spx, cx, cy, e->ax, e->ay);
  *y = gsl_spline2d_eval(e->spy, cx, cy, e->ax, e->ay);
  const double du = 2 * e->U / (e->ng - 1);
  const int ix = (int)floor((cx + e->U) / du), iy = (int)floor((cy + e->U) / du);
  if (ix < 0 || iy < 0 || ix + 1 >= e->ng || iy + 1 >= e->ng) return 0;
  const int ng = e->ng;
  return e->ok[iy * ng + ix] && e->ok[iy * ng + ix + 1] && e->ok[(iy + 1) * ng + ix] && e->ok[(iy + 1) * ng + ix + 1];
}

int numlms_entry_eval(numlms_entry *e, const double n[4], double *x, double *y)
{
  double ux, uy;
  if (!mf_mlms(n, e->L, e->fwhm, 2, e->beta, &ux, &uy)) { *x = *y = 0; return -1; }
  return numlms_apply_F(e, ux, uy, x, y);
}

/* S56/S57: mean over query points of |sqrt(MSE) - CRB| for the estimator of entry e. */
static double test_loss(numlms_entry *e, double R2, const numlms_opts *o)
{
  mf_ebp_t eb;
  mf_ebp4(e->L, e->fwhm, &eb);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, (unsigned long)o->seed);
  const unsigned Nn = (unsigned)lround(e->N);
  double loss = 0;
  int nqp = 0;
  for (int axis = 0; axis < 2; axis++)
    for (int k = -o->nq; k <= o->nq; k++) {
      if (axis == 1 && k == 0) continue;   /* the origin once */
      const double qx = axis == 0 ? k * R2 / o->nq : 0, qy = axis == 1 ? k * R2 / o->nq : 0;
      double p[MF_KMAX];
      if (mf_pvec(&eb, qx, qy, e->sbr, p, NULL, NULL)) continue;
      double se = 0;
      for (int s = 0; s < o->M; s++) {
        unsigned c[4];
        gsl_ran_multinomial(rng, 4, Nn, p, c);
        const double nd[4] = { c[0], c[1], c[2], c[3] };
        double x, y;
        numlms_entry_eval(e, nd, &x, &y);
        se += (x - qx) * (x - qx) + (y - qy) * (y - qy);
      }
      /* per-coordinate RMS error, comparable with sigma_CRB = sqrt(tr Sigma / 2) (S13) */
      const double rmse = sqrt(se / o->M / 2), crb = mf_crb(&eb, qx, qy, e->N, e->sbr, NULL);
      loss += fabs(rmse - (isfinite(crb) ? crb : 0));
      nqp++;
    }
  gsl_rng_free(rng);
  return nqp ? loss / nqp : INFINITY;
}

int numlms_build(numlms_entry *e, double L, double fwhm, double N, double sbr,
                 const numlms_opts *o, char *err, size_t errlen)
{
  numlms_opts def;
  if (!o) { numlms_default_opts(&def); o = &def; }
  memset(e, 0, sizeof *e);
  if (!(L > 0) || !(fwhm > 0) || L * L * 0.6931471805599453 >= fwhm * fwhm || !(N >= 1)) {
    snprintf(err, errlen, "numLMS: L = %g nm, fwhm = %g nm, N = %g: need L < fwhm/sqrt(ln 2) and N >= 1",
             L, fwhm, N);
    return -1;
  }
  e->L = L; e->fwhm = fwhm; e->N = N;
  e->sbr = (sbr > 0 && isfinite(sbr)) ? sbr : INFINITY;
  const double R2 = o->R2_frac * L / 2, h = o->grid_nm;
  /* S54 vectors on the position grid */
  bias_grid g = { 0 };
  g.N = N;
  const int nh = (int)floor(R2 / h);
  const size_t cap = (size_t)(2 * nh + 1) * (2 * nh + 1);
  g.x = malloc(cap * sizeof(double)); g.y = malloc(cap * sizeof(double)); g.r = malloc(cap * sizeof(double));
  g.A = malloc(2 * cap * sizeof(double)); g.B = malloc(2 * cap * sizeof(double)); g.C = malloc(2 * cap * sizeof(double));
  int rc = -1;
  if (!g.x || !g.y || !g.r || !g.A || !g.B || !g.C) { snprintf(err, errlen, "numLMS: out of memory"); goto out; }
  mf_ebp_t eb;
  mf_ebp4(L, fwhm, &eb);
  const double F = mf_factor(L, fwhm);
  for (int iy = -nh; iy <= nh; iy++)
    for (int ix = -nh; ix <= nh; ix++) {
      const double x = ix * h, y = iy * h;
      if (hypot(x, y) > R2 + 1e-9) continue;
      double p[MF_KMAX];
      if (mf_pvec(&eb, x, y, e->sbr, p, NULL, NULL)) continue;
      double a[2] = { 0, 0 }, b[2] = { 0, 0 }, c[2] = { 0, 0 };
      for (int i = 1; i <= 3; i++) {
        a[0] -= F * p[i] * eb.bx[i]; a[1] -= F * p[i] * eb.by[i];
        b[0] -= F * p[0] * p[i] * eb.bx[i]; b[1] -= F * p[0] * p[i] * eb.by[i];
        c[0] -= F * p[0] * p[0] * p[i] * eb.bx[i]; c[1] -= F * p[0] * p[0] * p[i] * eb.by[i];
      }
      const size_t k = g.n++;
      g.x[k] = x; g.y[k] = y; g.r[k] = hypot(x, y);
      memcpy(&g.A[2 * k], a, sizeof a); memcpy(&g.B[2 * k], b, sizeof b); memcpy(&g.C[2 * k], c, sizeof c);
    }
  double best_loss = INFINITY, beta[3] = { 1, 0, 0 };
  numlms_entry best = { 0 };
  for (int j = 0; j < o->nR1; j++) {
    const double R1 = R2 * (o->nR1 > 1 ? 0.625 + 0.375 * j / (o->nR1 - 1) : 1.0);
    optimize_beta(&g, R1, o->fit_beta1, beta);   /* a non-converged simplex still gives a usable beta */
    numlms_entry t = *e;
    memcpy(t.beta, beta, sizeof beta);
    t.R1 = R1;
    t.bias_mean_nm = mean_bias(&g, R1, beta);
    if (build_F(&t, R1, 1.5 * R2)) { free_F(&t); continue; }
    t.loss = test_loss(&t, R2, o);
    if (t.loss < best_loss) {
      if (best.spx) free_F(&best);
      best = t;
      best_loss = t.loss;
    } else {
      free_F(&t);
    }
  }
  if (!best.spx) {
    snprintf(err, errlen, "numLMS: no invertible mean map for L = %g nm, fwhm = %g nm, N = %g, SBR = %g", L, fwhm, N, sbr);
    goto out;
  }
  *e = best;
  rc = 0;
out:
  free(g.x); free(g.y); free(g.r); free(g.A); free(g.B); free(g.C);
  return rc;
}

void numlms_free(numlms_entry *e) { free_F(e); }

/* ---- table ---- */

struct numlms_table {
  double L, fwhm;
  numlms_opts o;
  double *Ns, *sbrs;
  int nN, nS;
  numlms_entry **ent;     /* [iS * nN + iN], NULL until built */
  uint8_t *failed;
  char err[256];
};

numlms_table *numlms_table_new(double L, double fwhm, const double *Ns, int nN,
                               const double *sbrs, int nS, const numlms_opts *o)
{
  numlms_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->L = L; t->fwhm = fwhm;
  if (o) t->o = *o; else numlms_default_opts(&t->o);
  double dN[64], dS[8] = { 1, 2, 4, 8, 16, INFINITY };
  if (!Ns || nN <= 0) {
    nN = 0;
    for (double n = 3; n <= 1000 && nN < 63; n = n < 10 ? n + 1 : round(n * 1.2)) dN[nN++] = n;
    dN[nN++] = 1000;
    Ns = dN;
  }
  if (!sbrs || nS <= 0) { sbrs = dS; nS = 6; }
  t->Ns = malloc(nN * sizeof(double));
  t->sbrs = malloc(nS * sizeof(double));
  t->ent = calloc((size_t)nN * nS, sizeof *t->ent);
  t->failed = calloc((size_t)nN * nS, 1);
  if (!t->Ns || !t->sbrs || !t->ent || !t->failed) { numlms_table_free(t); return NULL; }
  memcpy(t->Ns, Ns, nN * sizeof(double));
  memcpy(t->sbrs, sbrs, nS * sizeof(double));
  t->nN = nN; t->nS = nS;
  return t;
}

void numlms_table_free(numlms_table *t)
{
  if (!t) return;
  if (t->ent)
    for (int i = 0; i < t->nN * t->nS; i++)
      if (t->ent[i]) { numlms_free(t->ent[i]); free(t->ent[i]); }
  free(t->ent); free(t->failed); free(t->Ns); free(t->sbrs);
  free(t);
}

static numlms_entry *get_entry(numlms_table *t, int iN, int iS)
{
  const int k = iS * t->nN + iN;
  if (t->ent[k] || t->failed[k]) return t->ent[k];
  numlms_entry *e = calloc(1, sizeof *e);
  if (!e || numlms_build(e, t->L, t->fwhm, t->Ns[iN], t->sbrs[iS], &t->o, t->err, sizeof t->err)) {
    free(e);
    t->failed[k] = 1;
    return NULL;
  }
  t->ent[k] = e;
  return e;
}

/* Bracketing nodes and the weight of the upper one, interpolating in v(node) = 1/node. */
static void bracket(const double *nodes, int n, double val, int *lo, int *hi, double *w)
{
  const double iv = val > 0 && isfinite(val) ? 1 / val : 0;
  if (n == 1 || iv >= 1 / nodes[0]) { *lo = *hi = 0; *w = 0; return; }
  const double ilast = isfinite(nodes[n - 1]) ? 1 / nodes[n - 1] : 0;
  if (iv <= ilast) { *lo = *hi = n - 1; *w = 0; return; }
  int i = 0;
  while (i + 1 < n && (isfinite(nodes[i + 1]) ? 1 / nodes[i + 1] : 0) > iv) i++;
  const double a = 1 / nodes[i], b = isfinite(nodes[i + 1]) ? 1 / nodes[i + 1] : 0;
  *lo = i; *hi = i + 1;
  *w = (a - iv) / (a - b);
}

int numlms_table_eval(numlms_table *t, const double n[4], double sbr, double *x, double *y)
{
  const double N = n[0] + n[1] + n[2] + n[3];
  *x = *y = 0;
  if (!(N > 0)) return -1;
  int n0, n1, s0, s1;
  double wn, ws;
  bracket(t->Ns, t->nN, N, &n0, &n1, &wn);
  bracket(t->sbrs, t->nS, sbr > 0 ? sbr : INFINITY, &s0, &s1, &ws);
  const int iN[2] = { n0, n1 }, iS[2] = { s0, s1 };
  const double wN[2] = { 1 - wn, wn }, wS[2] = { 1 - ws, ws };
  int inside = 1;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      const double w = wN[a] * wS[b];
      if (w == 0) continue;
      numlms_entry *e = get_entry(t, iN[a], iS[b]);
      if (!e) return -2;
      double ex, ey;
      if (numlms_entry_eval(e, n, &ex, &ey) != 1) inside = 0;
      *x += w * ex;
      *y += w * ey;
    }
  return inside;
}

const char *numlms_table_error(const numlms_table *t) { return t->err; }

void numlms_table_each(const numlms_table *t, void (*fn)(void *ctx, const numlms_entry *e), void *ctx)
{
  for (int i = 0; i < t->nN * t->nS; i++)
    if (t->ent[i]) fn(ctx, t->ent[i]);
}
