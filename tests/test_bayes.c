/* test_bayes: unit tests of Bayesian MINFLUX (issue #6).
 * - float reference host/bayes_float.c: the doughnut g (eq 1); the EIG of a Gaussian prior
 *   (eq 5, 6) against an independent Gauss-Hermite integration and against its sigma -> 0
 *   Fisher limit; D(sigma) (eq 8) is a maximum, tends to D0, and D0 solves its own
 *   stationarity condition; the D table file round trip; the re-centring/refining grid
 *   posterior against a brute-force fine grid fed the same exposures; the hexagon MLE
 *   spread against its Cramer-Rao bound.
 * - fixed-point model hls-c/bayes.c: the generated tables (C header = Verilog macros = the
 *   math), the accuracy of its 2^-y, y 2^-y, -log2 g and log2 stages over their whole input
 *   ranges, the register conversion and its refusals, and the fixed-point posterior against
 *   the float posterior fed the same beam positions, laser codes and counts.
 * Random tests print their seed (BAYES_SEED=S to repeat). */
#include <check.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bayes.h"
#include "bayes_float.h"
#include "bayes_regs.h"
#include "bayes_tables.h"
#include "vh_table.h"

static unsigned long g_seed;

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ float: physics ---- */

START_TEST(test_doughnut)
{
  const double s = 200.0, b = 0.01;
  ck_assert_double_eq_tol(bf_g(0.0, 0.0, s, b), b, 1e-15);
  ck_assert_double_eq_tol(bf_g(s, 0.0, s, b), 1.0 + b, 1e-12);               /* maximum at |x - r| = s */
  ck_assert_double_eq_tol(bf_g(0.0, -s, s, b), 1.0 + b, 1e-12);
  ck_assert_double_eq_tol(bf_g(30.0, 40.0, s, b), bf_g(-50.0, 0.0, s, b), 1e-15);  /* isotropic */
  const double q = 2500.0 / (s * s);
  ck_assert_double_eq_tol(bf_g(30.0, 40.0, s, b), M_E * q * exp(-q) + b, 1e-15);
  ck_assert(bf_g(s * 0.99, 0, s, b) < 1.0 + b && bf_g(s * 1.01, 0, s, b) < 1.0 + b);
}
END_TEST

/* EIG by a product Gauss-Hermite rule (GSL fixed quadrature), an integration independent of
 * the Cartesian grid of bf_eig_gauss; the Poisson sums run to 60 + 10 lambda_max. */
static double eig_hermite(double sigma, double d, double mu, double b, double s, int nn)
{
  gsl_integration_fixed_workspace *w =
      gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, (size_t)nn, 0.0, 1.0 / (2.0 * sigma * sigma), 0.0, 0.0);
  const double *x = gsl_integration_fixed_nodes(w), *wt = gsl_integration_fixed_weights(w);
  double norm = 0.0, fsum = 0.0, fmaxv = 0.0;
  for (int i = 0; i < nn; i++)
    for (int j = 0; j < nn; j++) {
      const double f = bf_g(x[i] - d, x[j], s, b);
      norm += wt[i] * wt[j];
      fsum += wt[i] * wt[j] * f;
      if (f > fmaxv) fmaxv = f;
    }
  const double eta = mu * norm / fsum;
  const int nmax = (int)(60 + 10 * eta * fmaxv);
  double *P = calloc((size_t)nmax + 1, sizeof(double)), A = 0.0;
  for (int i = 0; i < nn; i++)
    for (int j = 0; j < nn; j++) {
      const double lam = eta * bf_g(x[i] - d, x[j], s, b), ww = wt[i] * wt[j] / norm;
      for (int n = 0; n <= nmax; n++) {
        const double lp = n * log(lam) - lam - lgamma(n + 1.0), p = exp(lp);
        A += ww * p * lp;
        P[n] += ww * p;
      }
    }
  double B = 0.0;
  for (int n = 0; n <= nmax; n++)
    if (P[n] > 0.0) B += P[n] * log(P[n]);
  free(P);
  gsl_integration_fixed_free(w);
  return A - B;
}

START_TEST(test_eig_independent_integration)
{
  const struct { double sigma, d, mu, b; } c[] = {
      {30.0, 0.0, 0.1, 0.01}, {30.0, 60.0, 0.5, 0.01}, {10.0, 15.0, 2.0, 0.05}, {60.0, 250.0, 0.1, 0.05},
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    const double a = bf_eig_gauss(c[k].sigma, c[k].d, c[k].mu, c[k].b, 200.0);
    const double h = eig_hermite(c[k].sigma, c[k].d, c[k].mu, c[k].b, 200.0, 48);
    ck_assert_msg(a > 0.0 && fabs(a / h - 1.0) < 1e-4, "EIG(sigma %g, d %g, mu %g, b %g): grid %.9g, "
                  "Gauss-Hermite %.9g", c[k].sigma, c[k].d, c[k].mu, c[k].b, a, h);
  }
}
END_TEST

START_TEST(test_eig_small_sigma_limit)
{
  const double s = 200.0;
  const double ds[3] = {5.0, 12.0, 40.0};
  for (int k = 0; k < 3; k++) {
    const double sg = 0.25;
    const double e = bf_eig_gauss(sg, ds[k], 0.5, 0.01, s) / (sg * sg);
    const double f = bf_fisher_gauss0(ds[k], 0.5, 0.01, s);
    ck_assert_msg(fabs(e / f - 1.0) < 5e-3, "EIG/sigma^2 at d = %g: %.6g, Fisher limit %.6g", ds[k], e, f);
  }
}
END_TEST

/* d/dq of log(Fisher) of the sigma -> 0 limit, by a central difference in q. */
static double dlogfisher(double q, double b, double s)
{
  const double h = q * 1e-5;
  return (log(bf_fisher_gauss0(s * sqrt(q + h), 1.0, b, s)) - log(bf_fisher_gauss0(s * sqrt(q - h), 1.0, b, s))) / (2 * h);
}

START_TEST(test_dopt)
{
  const double s = 200.0;
  const double bs[2] = {0.01, 0.05};
  for (int k = 0; k < 2; k++) {
    /* D0 solves d(Fisher)/dq = 0: bisection on the sign change, independent of Brent */
    double lo = 1e-5, hi = 1.0;
    for (int it = 0; it < 80; it++) {
      const double m = sqrt(lo * hi);
      if (dlogfisher(m, bs[k], s) > 0) lo = m;
      else hi = m;
    }
    double D0;
    ck_assert_int_eq(bf_dopt(0.0, 0.1, bs[k], s, &D0, NULL), 0);
    ck_assert_msg(fabs(D0 / (s * sqrt(lo)) - 1.0) < 1e-3, "b %g: D0 %.5g nm, bisection %.5g nm", bs[k], D0, s * sqrt(lo));
    /* the small-b estimate q = b/e (where the doughnut signal equals the background) */
    ck_assert(fabs(D0 / (s * sqrt(bs[k] / M_E)) - 1.0) < 0.05);
    /* D(sigma) tends to D0 for small sigma */
    double D, e;
    ck_assert_int_eq(bf_dopt(0.05, 0.1, bs[k], s, &D, &e), 0);
    ck_assert_msg(fabs(D / D0 - 1.0) < 1e-3, "b %g: D(0.05 nm) = %.5g, D0 = %.5g", bs[k], D, D0);
  }
  /* D is the maximum: no distance on a fine scan does better */
  const double sig[3] = {3.0, 20.0, 150.0};
  for (int k = 0; k < 3; k++) {
    double D, e;
    ck_assert_int_eq(bf_dopt(sig[k], 0.1, 0.01, s, &D, &e), 0);
    for (double d = 0.0; d < 4 * sig[k] + 3 * s; d += (4 * sig[k] + 3 * s) / 300.0)
      ck_assert_msg(bf_eig_gauss(sig[k], d, 0.1, 0.01, s) <= e * (1 + 1e-9),
                    "sigma %g: EIG(%g) = %.9g above EIG(D = %g) = %.9g", sig[k], d,
                    bf_eig_gauss(sig[k], d, 0.1, 0.01, s), D, e);
  }
}
END_TEST

START_TEST(test_dtable_file)
{
  char err[256], path[] = "/tmp/test_bayes_dtable_XXXXXX";
  const int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  bf_dtable_t t, r;
  ck_assert_int_eq(bf_dtable_make(&t, 0.5, 0.05, 200.0, 0.5, 2, 5, 2, err, sizeof err), 0);
  ck_assert_int_eq(bf_dtable_write(&t, path, err, sizeof err), 0);
  ck_assert_int_eq(bf_dtable_read(&r, path, err, sizeof err), 0);
  ck_assert_int_eq(r.n, 5);
  for (int k = 0; k < 5; k++) {
    ck_assert_double_eq_tol(r.D[k], t.D[k], 1e-6 * t.D[k]);
    ck_assert_double_eq_tol(bf_dtable_eval(&t, 0.5 * pow(2.0, k / 2.0)), t.D[k], 1e-9 * t.D[k]);
  }
  ck_assert_double_eq_tol(bf_dtable_eval(&t, 0.5 * pow(2.0, 0.25)), 0.5 * (t.D[0] + t.D[1]), 1e-9 * t.D[0]);
  ck_assert_double_eq(bf_dtable_eval(&t, 1e-3), t.D[0]);
  ck_assert_double_eq(bf_dtable_eval(&t, 1e6), t.D[4]);
  FILE *f = fopen(path, "w");
  fputs("sigma_nm,D_nm\n1,2\n", f);
  fclose(f);
  ck_assert_int_eq(bf_dtable_read(&r, path, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "not a D table") != NULL, "message: %s", err);
  unlink(path);
  bf_dtable_free(&t);
}
END_TEST

/* -------------------------------------------------------- float: posterior ---- */

/* The adaptive 32 x 32 posterior against a brute-force 601 x 601 grid (2 nm spacing, +-600 nm,
 * never moved) fed the same exposures until the adaptive std is below 12 nm; returns the
 * relative std difference and the mean difference in units of the reference std. */
static void post_vs_fine(unsigned long seed, double *dstd, double *dmean, int *regrids)
{
  enum { F = 601 };
  const double s = 200.0, b = 0.01, mu = 2.0, sg0 = 150.0, hf = 2.0;
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, seed);
  bf_grid_cfg_t cfg;
  bf_grid_cfg_default(&cfg);
  bf_post_t *p = malloc(sizeof *p);
  double *L = malloc(sizeof(double) * F * F);
  char err[128];
  ck_assert_int_eq(bf_post_init(p, &cfg, s, b, 0.0, 0.0, sg0, 37.5, err, sizeof err), 0);
  for (int q = 0; q < F * F; q++) {
    const double x = (q % F - F / 2) * hf, y = (q / F - F / 2) * hf;
    L[q] = -(x * x + y * y) / (2 * sg0 * sg0);
  }
  const double x0 = fmax(fmin(gsl_ran_gaussian(g, 100.0), 300.0), -300.0);
  const double y0 = fmax(fmin(gsl_ran_gaussian(g, 100.0), 300.0), -300.0);
  /* until the posterior is narrow enough to have been refined a few times, but still wide
   * against the 2 nm reference spacing */
  for (int k = 0; k < 400 && p->std > 12.0; k++) {
    const double a = 2 * M_PI * gsl_rng_uniform(g), d = fmax(1.5 * p->std, 30.0);
    const double rx = p->map_x + d * cos(a), ry = p->map_y + d * sin(a);
    const double eta = bf_post_eta(p, rx, ry, mu);
    const unsigned n = gsl_ran_poisson(g, eta * bf_g(x0 - rx, y0 - ry, s, b));
    bf_post_update(p, rx, ry, eta, n);
    for (int q = 0; q < F * F; q++) {
      const double gg = bf_g((q % F - F / 2) * hf - rx, (q / F - F / 2) * hf - ry, s, b);
      L[q] += n * log(gg) - eta * gg;
    }
  }
  double mx = -INFINITY, W = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int q = 0; q < F * F; q++) mx = fmax(mx, L[q]);
  for (int q = 0; q < F * F; q++) {
    const double w = exp(L[q] - mx), x = (q % F - F / 2) * hf, y = (q / F - F / 2) * hf;
    W += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    syy += w * y * y;
  }
  const double ex = sx / W, ey = sy / W, es = sqrt((sxx / W - ex * ex + syy / W - ey * ey) / 2);
  *dstd = fabs(p->std / es - 1.0);
  if (!(es > 4.0 && es < 60.0)) *dstd = NAN;   /* did not narrow in 400 exposures: not compared */
  *dmean = hypot(p->mean_x - ex, p->mean_y - ey) / es;
  *regrids = p->regrids;
  free(L);
  free(p);
  gsl_rng_free(g);
}

/* Over 9 posteriors: the median differences are small. Single runs can differ more where
 * re-centring on the MAP dropped a secondary mode earlier (docs/bayes.md, grid method). */
START_TEST(test_posterior_vs_fine_grid)
{
  enum { R = 9 };
  double ds[R], dm[R];
  int rg = 0, k = 0;
  for (int t = 0; t < 2 * R && k < R; t++) {
    int r;
    post_vs_fine(g_seed * 32 + t, &ds[k], &dm[k], &r);
    if (isnan(ds[k])) continue;
    rg += r > 0;
    k++;
  }
  ck_assert_msg(k == R, "seed %lu: only %d of %d posteriors narrowed below 12 nm in 400 exposures", g_seed, k, 2 * R);
  qsort(ds, R, sizeof(double), cmp_double);
  qsort(dm, R, sizeof(double), cmp_double);
  printf("test_bayes posterior vs 601^2 fine grid, %d runs: |std difference| median %.4f max %.4f; "
         "|mean difference|/std median %.4f max %.4f\n", R, ds[R / 2], ds[R - 1], dm[R / 2], dm[R - 1]);
  /* over 98 seeds (1796400097 + 97 i, 2026-12-03) the median std difference reached 0.042
   * (95th percentile 0.026) and the median mean difference 0.077 std (95th percentile 0.068);
   * seed 1796304789 gave 0.090: the limits sit above that tail (a wrong likelihood or a
   * misplaced window gives differences of whole stds) */
  ck_assert_msg(ds[R / 2] < 0.06 && dm[R / 2] < 0.12, "seeds %lu..%lu: median std difference %.4f, "
                "median mean difference %.4f std", g_seed * 32, g_seed * 32 + 2 * R - 1, ds[R / 2], dm[R / 2]);
  ck_assert_msg(rg == R, "the window never moved or changed its spacing in %d runs", R - rg);
}
END_TEST

/* Stage-3-like hexagon: L = 40 nm, 300 photons, emitter at the centre: the MLE spread against
 * the CRB sqrt(1 / J) per axis, J = sum over a cycle of grad(lambda) grad(lambda)^T / lambda. */
START_TEST(test_hex_mle_vs_crb)
{
  const double s = 200.0, b = 0.01, mu = 0.1, L = 40.0;
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed + 1);
  double bx[7], by[7], gm = 0.0;
  for (int k = 0; k < 7; k++) {
    bf_hex_pos(k, L, &bx[k], &by[k]);
    gm += bf_g(bx[k], by[k], s, b) / 7;
  }
  ck_assert_double_eq_tol(hypot(bx[3], by[3]), L / 2, 1e-12);
  const double eta = mu / gm;
  double J = 0.0, ncyc = 0.0;   /* Fisher (x axis) and photons per cycle */
  for (int k = 0; k < 7; k++) {
    const double h = 1e-4;
    const double d = eta * (bf_g(h - bx[k], -by[k], s, b) - bf_g(-h - bx[k], -by[k], s, b)) / (2 * h);
    const double lam = eta * bf_g(-bx[k], -by[k], s, b);
    J += d * d / lam;
    ncyc += lam;
  }
  const int R = 600;   /* the std of R runs is known to ~1/sqrt(2R) = 2.9 %: 0.12 is 4 of those */
  const unsigned target = 300;
  double sxx = 0.0, sx = 0.0;
  unsigned cycles = 0;
  for (int r = 0; r < R; r++) {
    unsigned n[7] = {0}, m[7] = {0}, tot = 0;
    for (int k = 0; tot < target; k = (k + 1) % 7) {
      const unsigned c = gsl_ran_poisson(g, eta * bf_g(-bx[k], -by[k], s, b));
      n[k] += c;
      m[k]++;
      tot += c;
      cycles += k == 6;
    }
    double x, y;
    bf_mle(7, bx, by, n, m, eta, s, b, 0.0, 0.0, 60.0, 0.0, &x, &y);
    sx += x;
    sxx += x * x;
  }
  const double sd = sqrt(sxx / R - sx * sx / R / R), crb = sqrt(1.0 / (J * (target / ncyc)));
  printf("test_bayes hexagon: MLE std %.3f nm, CRB %.3f nm (%d runs of %u photons)\n", sd, crb, R, target);
  ck_assert_msg(fabs(sd / crb - 1.0) < 0.12, "seed %lu: MLE std %.3f nm, CRB %.3f nm", g_seed + 1, sd, crb);
  gsl_rng_free(g);
}
END_TEST


/* ------------------------------------------------------------ fixed: tables ---- */

START_TEST(test_tables_match_verilog_and_math)
{
  static long v[512];
  struct { const char *name; const void *t; int n, sgn; } T[] = {
      {"BY_EXP2T_INIT", by_exp2t, 256, 0}, {"BY_EXP2D_INIT", by_exp2d, 256, 0}, {"BY_LOG2T_INIT", by_log2t, 256, 0},
      {"BY_LOG2D_INIT", by_log2d, 256, 0}, {"BY_WT_INIT", by_wt, 512, 0}, {"BY_COS_INIT", by_cos, 256, 1},
  };
  for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
    ck_assert_msg(read_vh_table("bayes_tables.vh", T[k].name, v, T[k].n) == T[k].n, "%s: not found whole in bayes_tables.vh", T[k].name);
    for (int i = 0; i < T[k].n; i++) {
      const long c = T[k].sgn ? (((const int16_t *)T[k].t)[i] & 0xFFFF) : ((const uint16_t *)T[k].t)[i];
      ck_assert_msg(v[i] == c, "%s[%d]: Verilog %ld, C %ld", T[k].name, i, v[i], c);
    }
  }
  for (int i = 0; i < 256; i++) {
    ck_assert(fabs(by_exp2t[i] - 65536.0 * pow(2.0, -i / 256.0)) <= (i == 0 ? 1.0 : 0.5));
    ck_assert(fabs(by_log2t[i] - 65536.0 * log2(1.0 + i / 256.0)) <= 0.5);
    ck_assert(fabs(by_cos[i] - 16384.0 * cos(2 * M_PI * i / 256.0)) <= 0.5);
    ck_assert_int_eq(by_exp2d[i], by_exp2t[i] - (i < 255 ? by_exp2t[i + 1] : 32768));
    ck_assert_int_eq(by_log2d[i], (i < 255 ? by_log2t[i + 1] : 65536) - by_log2t[i]);
  }
  for (int i = 0; i < 512; i++) ck_assert(fabs(by_wt[i] - 8192.0 * pow(2.0, 1.0 - i / 32.0)) <= 0.5);
  ck_assert_int_eq(by_wt[32], 8192);
  ck_assert_int_eq(BY_LFSR_TAPS, 0x80200003u);
}
END_TEST

/* The stages against their math over their whole input range. */
START_TEST(test_stage_accuracy)
{
  double eE = 0.0, eY = 0.0;
  for (uint32_t y = 0; y < (64u << 24); y += 997) {
    uint16_t Y;
    const uint16_t E = bayes_exp2neg(y, &Y);
    const double yf = y / 16777216.0, te = pow(2.0, -yf);
    eE = fmax(eE, fabs(E / 65536.0 - te));
    eY = fmax(eY, fabs(Y / 65536.0 - yf * te));
  }
  double eN = 0.0;
  for (uint32_t g = 1; g < (1u << 18); g++) {
    const double t = -log2(g / 262144.0);
    eN = fmax(eN, fabs(bayes_nlg(g) / 2048.0 - t));
  }
  double eL = 0.0;
  for (uint32_t x = 1; x < (1u << 18); x += 7) eL = fmax(eL, fabs(bayes_log2q8(x) / 256.0 - log2(x / 256.0)));
  double eW = 0.0;
  for (int32_t e = -1024; e < 16384; e++) {
    const double t = 8192.0 * pow(2.0, -e / 1024.0);
    eW = fmax(eW, fabs(bayes_wt(e) - t) / (t > 8192 ? t : 8192));
  }
  printf("test_bayes stages: |2^-y| %.2e, |y 2^-y| %.2e, |-log2 g| %.2e, |log2 var| %.2e (max abs), weight %.4f "
         "(relative)\n", eE, eY, eN, eL, eW);
  /* E: table interpolation and the UQ0.16 output (2^-17 rounding); Y: y enters its product
   * truncated to 2^-12 on [1, 16), so up to 2^-12 2^-1 = 1.2e-4 near y = 1 */
  ck_assert_msg(eE < 3.0e-5 && eY < 1.5e-4, "2^-y error %.3g, y 2^-y error %.3g", eE, eY);
  ck_assert_msg(eN < 3.0e-4, "-log2 g error %.3g", eN);   /* UQ5.11 output: 2^-12 = 2.4e-4 rounding */
  ck_assert_msg(eL < 8.0e-3, "log2 error %.3g", eL);      /* 8-bit mantissa index (log2(1 + 2^-8) = 0.0056), Q.8 */
  ck_assert_msg(eW < 0.012, "weight error %.3g", eW);     /* 2^-5 log2 steps: 2^(1/64) - 1 = 1.09 %% */
  ck_assert_int_eq(bayes_wt(-5000), by_wt[0]);
  ck_assert_int_eq(bayes_wt(20000), 0);
  ck_assert_int_eq(bayes_nlg(0), 0xFFFF);
}
END_TEST

static void synth_dtable(bf_dtable_t *t, double b)
{
  memset(t, 0, sizeof *t);
  t->n = 105;
  t->per_octave = 8;
  t->sigma_min = 1.0 / 16.0;
  t->mu = 0.1;
  t->b = b;
  t->s = 200.0;
  t->D = calloc(105, sizeof(double));
  t->eig = calloc(105, sizeof(double));
  for (int k = 0; k < 105; k++) {
    const double sg = t->sigma_min * pow(2.0, k / 8.0);
    t->D[k] = sg < 45.0 ? 200.0 * sqrt(b / M_E) + 0.1 * sg : 500.0 + 0.3 * sg;
  }
  t->D0 = t->D[0];
}

static void phys_default(bayes_phys_t *p)
{
  memset(p, 0, sizeof *p);
  p->nm_per_lsb = 0.1;
  p->s_nm = 200.0;
  p->b = 0.01;
  p->mu = 0.5;
  p->sigma0_nm = 150.0;
  p->eta_per_code = 0.5 / (0.01 * 60000.0);
  p->seed = 1;
}

START_TEST(test_register_conversion)
{
  bf_dtable_t dt;
  synth_dtable(&dt, 0.01);
  bayes_phys_t p;
  bayes_regs_t r;
  char err[256];
  phys_default(&p);
  ck_assert_int_eq(bayes_regs_from_phys(&p, &dt, &r, err, sizeof err), 0);
  ck_assert_int_eq(r.h0, 24000);                                       /* 37.5 nm / (0.1 / 64) */
  ck_assert_int_eq(r.prior_a, (int)floor(65536.0 * M_LOG2E / 32.0 + 0.5));
  ck_assert(fabs(r.inv_s / 4294967296.0 * 128000.0 - sqrt(M_LOG2E)) < 1e-4);
  ck_assert(fabs(r.b32 / 4294967296.0 * M_E * M_LN2 - 0.01) < 1e-8);
  ck_assert_int_eq(r.lsig_stop, -32768);
  /* the D table is D at sigma_t = h0 2^(t/8 - 12), in UQ14.2 LSB */
  ck_assert_int_eq(r.dtab[96], (int)floor(bf_dtable_eval(&dt, 37.5) / 0.1 * 4 + 0.5));
  /* std output and MAP in nm */
  bayes_out_t o = {0};
  o.lsig = -256;
  o.map_x = 6400;
  double x, y;
  bayes_map_nm(&p, &r, &o, &x, &y);
  ck_assert_double_eq_tol(x, 10.0, 1e-12);
  ck_assert_double_eq_tol(bayes_std_nm(&p, &r, &o), 18.75, 1e-9);
  struct { const char *what; double *field; double bad; const char *msg; } cases[] = {
      {"nm_per_lsb", &p.nm_per_lsb, 0.0, "nm_per_lsb = 0: must be 0.001..100"},
      {"b", &p.b, 0.9, "b = 0.9: must be"},
      {"s", &p.s_nm, 20.0, "s / nm_per_lsb = 200: must be 1231..4924"},
      {"eta", &p.eta_per_code, 1.0, "eta_per_code = 1: must be"},
      {"sigma0", &p.sigma0_nm, -1.0, "sigma0_nm = -1: must be > 0"},
      {"h0", &p.h0_nm, 1000.0, "h0 (sub-LSB"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    phys_default(&p);
    *cases[k].field = cases[k].bad;
    ck_assert_int_eq(bayes_regs_from_phys(&p, &dt, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, cases[k].msg) != NULL, "%s: message '%s' lacks '%s'", cases[k].what, err, cases[k].msg);
  }
  phys_default(&p);
  p.eta_per_code = 0.5 / 1500.0;   /* the code for the background floor would be 150000 */
  ck_assert_int_eq(bayes_regs_from_phys(&p, &dt, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "raise eta_per_code") != NULL, "%s", err);
  bf_dtable_free(&dt);
}
END_TEST

/* The fixed-point posterior against the float posterior fed the same data, 6 runs x 6
 * checkpoints: the means agree within 0.1 std and the stds within 3 % at >= 28 of the 36,
 * and the medians within 0.05 std and 1 %. Not at all 36: the two grids re-centre and
 * refine on their own statistics, and when a posterior is still multimodal and they
 * re-grid at different exposures one can drop a mode the other keeps (seed 1796239354,
 * run 0: refine at exposure 86 vs 88, 1.6 std apart at 100, 2.1 vs 3.3 nm std at 200, and
 * still 1.6 nm apart at 600; 29 of its 36 within).
 * Measured over 100 seeds (1796300089 + 89 i): 97 with all 36 within, 2 with 34, 1 with
 * 30; the largest median 0.0084 std and 0.20 %. */
START_TEST(test_fixed_vs_float_posterior)
{
  bf_dtable_t dt;
  synth_dtable(&dt, 0.01);
  bayes_phys_t p;
  bayes_regs_t r;
  char err[256];
  phys_default(&p);
  ck_assert_int_eq(bayes_regs_from_phys_exact(&p, &dt, &r, err, sizeof err), 0);
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  bayes_state_t *s = malloc(sizeof *s);
  bf_post_t *f = malloc(sizeof *f);
  bf_grid_cfg_t cfg;
  bf_grid_cfg_default(&cfg);
  double worst_map = 0.0, worst_std = 0.0, vdm[36], vds[36];
  int checks = 0, within = 0;
  for (int run = 0; run < 6; run++) {
    gsl_rng_set(g, g_seed * 8 + run);
    r.seed = (uint32_t)gsl_rng_get(g) | 1u;
    /* within 2 sigma0: near the edge of the first window the two grids truncate the prior's
     * tail differently (they re-centre at different exposures) and the comparison is moot */
    const double x0 = fmax(fmin(gsl_ran_gaussian(g, 150.0), 300.0), -300.0);
    const double y0 = fmax(fmin(gsl_ran_gaussian(g, 150.0), 300.0), -300.0);
    ck_assert_int_eq(bf_post_init(f, &cfg, 200.0, 0.01, 0.0, 0.0, 150.0, r.h0 * 0.1 / 64.0, err, sizeof err), 0);
    bayes_out_t o;
    bayes_start(s, &r, &o);
    for (int k = 1; k <= 600; k++) {
      const double rx = o.beam_x * 0.1, ry = o.beam_y * 0.1, eta = o.amp * p.eta_per_code;
      const unsigned n = gsl_ran_poisson(g, eta * bf_g(x0 - rx, y0 - ry, 200.0, 0.01));
      bayes_count(s, &r, n, &o);
      bf_post_update(f, rx, ry, eta, n);
      if (k % 100 == 0) {
        const double mx = (r.x0 + s->tr.mean_x / 64.0) * 0.1, my = (r.y0 + s->tr.mean_y / 64.0) * 0.1;
        const double sd = bayes_std_nm(&p, &r, &o);
        const double dm = hypot(mx - f->mean_x, my - f->mean_y) / f->std, ds = fabs(sd / f->std - 1.0);
        worst_map = fmax(worst_map, dm);
        worst_std = fmax(worst_std, ds);
        if (checks < 36) { vdm[checks] = dm; vds[checks] = ds; }
        checks++;
        if (dm < 0.1 && ds < 0.03) within++;
        else
          printf("test_bayes fixed vs float posterior: seed %lu run %d exposure %d outside: fixed mean (%.3f, %.3f) "
                 "std %.4f, float mean (%.3f, %.3f) std %.4f\n", g_seed, run, k, mx, my, sd, f->mean_x, f->mean_y, f->std);
      }
    }
  }
  ck_assert_int_eq(checks, 36);
  qsort(vdm, 36, sizeof(double), cmp_double);
  qsort(vds, 36, sizeof(double), cmp_double);
  const double mdm = 0.5 * (vdm[17] + vdm[18]), mds = 0.5 * (vds[17] + vds[18]);
  printf("test_bayes fixed vs float posterior (same data, %d checkpoints, %d within 0.1 std / 3 %%): "
         "|mean_fixed - mean_float| median %.4f max %.3f std, |std_fixed/std_float - 1| median %.4f max %.4f\n",
         checks, within, mdm, worst_map, mds, worst_std);
  ck_assert_msg(within >= 28, "seed %lu: only %d of 36 checkpoints within 0.1 std / 3 %%", g_seed, within);
  ck_assert_msg(mdm < 0.05 && mds < 0.01, "seed %lu: median differences %.4f std, %.4f", g_seed, mdm, mds);
  free(s);
  free(f);
  gsl_rng_free(g);
  bf_dtable_free(&dt);
}
END_TEST

/* Calibration of the block's std at its stop: localizations from the prior (mu 0.1,
 * b 0.01, the emitter drawn from the sigma0 = 150 nm prior) to the 1 nm std target, Poisson
 * counts of eq 1-3. A calibrated 2D posterior puts the error beyond 4 std + h (h the final
 * spacing) with P < 3e-4 and has the 99th percentile of error/std at 3.03 (Rayleigh). The
 * re-gridding rules decide it: refining at std < 2 h (the first rules) left 1.4-2.0 % of
 * 1000-run sets beyond 4 std + h and the 99th percentile at 6.8 (a mode cut off by the
 * refined window, +-4 std); at std < 1.41 h (window +-5.7 std) 0.1 % and 3.1
 * (1000 runs each). 400 runs here: at most 4 beyond (Poisson mean
 * 0.4 now, 6-8 with the first rules), the 99th percentile below 4.5. */
START_TEST(test_std_calibration)
{
  bf_dtable_t dt;
  synth_dtable(&dt, 0.01);
  bayes_phys_t p;
  bayes_regs_t r;
  char err[256];
  phys_default(&p);
  p.mu = 0.1;
  p.eta_per_code = 0.1 / (0.01 * 60000.0);
  p.std_stop_nm = 1.0;
  p.nmax = 1000;
  ck_assert_int_eq(bayes_regs_from_phys_exact(&p, &dt, &r, err, sizeof err), 0);
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed * 8 + 7);
  bayes_state_t *s = malloc(sizeof *s);
  enum { RUNS = 400 };
  double q[RUNS];
  int far = 0, at_target = 0;
  for (int run = 0; run < RUNS; run++) {
    r.seed = (uint32_t)gsl_rng_get(g) | 1u;
    const double x0 = gsl_ran_gaussian(g, 150.0), y0 = gsl_ran_gaussian(g, 150.0);
    bayes_out_t o;
    bayes_start(s, &r, &o);
    while (!o.done) {
      const double rx = o.beam_x * 0.1, ry = o.beam_y * 0.1;
      bayes_count(s, &r, gsl_ran_poisson(g, o.amp * p.eta_per_code * bf_g(x0 - rx, y0 - ry, 200.0, 0.01)), &o);
    }
    double mx, my;
    bayes_map_nm(&p, &r, &o, &mx, &my);
    const double sd = bayes_std_nm(&p, &r, &o), e = hypot(mx - x0, my - y0), h = r.h0 * 0.1 / 64.0 / (1 << o.lev);
    at_target += (o.status & 8) != 0;
    far += e > 4.0 * sd + h;
    q[run] = e / sd;
  }
  qsort(q, RUNS, sizeof(double), cmp_double);
  const double p99 = q[RUNS * 99 / 100];
  printf("test_bayes std calibration (%d localizations to the 1 nm target, %d reached it): %d beyond 4 std + h, "
         "error/std median %.2f, 99th percentile %.2f (calibrated: 1.18, 3.03)\n", RUNS, at_target, far, q[RUNS / 2], p99);
  ck_assert_msg(at_target >= RUNS - 2, "seed %lu: %d of %d reached the std target", g_seed, at_target, RUNS);
  ck_assert_msg(far <= 4, "seed %lu: %d of %d localizations beyond 4 std + h", g_seed, far, RUNS);
  ck_assert_msg(p99 < 4.5, "seed %lu: error/std 99th percentile %.2f", g_seed, p99);
  free(s);
  gsl_rng_free(g);
  bf_dtable_free(&dt);
}
END_TEST

static Suite *bayes_suite(void)
{
  Suite *s = suite_create("bayes");
  TCase *t = tcase_create("float");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_doughnut);
  tcase_add_test(t, test_eig_independent_integration);
  tcase_add_test(t, test_eig_small_sigma_limit);
  tcase_add_test(t, test_dopt);
  tcase_add_test(t, test_dtable_file);
  tcase_add_test(t, test_posterior_vs_fine_grid);
  tcase_add_test(t, test_hex_mle_vs_crb);
  suite_add_tcase(s, t);
  t = tcase_create("fixed");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_tables_match_verilog_and_math);
  tcase_add_test(t, test_stage_accuracy);
  tcase_add_test(t, test_register_conversion);
  tcase_add_test(t, test_fixed_vs_float_posterior);
  tcase_add_test(t, test_std_calibration);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  const char *env = getenv("BAYES_SEED");
  g_seed = env && *env ? strtoul(env, NULL, 0) : (unsigned long)time(NULL);
  printf("test_bayes: seed %lu (BAYES_SEED=%lu to repeat)\n", g_seed, g_seed);
  fflush(stdout);
  SRunner *sr = srunner_create(bayes_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
