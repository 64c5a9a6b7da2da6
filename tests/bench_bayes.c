/* bench_bayes: photon efficiency of Bayesian MINFLUX (seed 002) against iterative hexagon
 * MINFLUX. For every setting (mu, b): RUNS localizations from a Gaussian prior of sigma 150 nm
 * (the emitter drawn from it), with (a) the fixed-point firmware model hls-c/bayes.c, (b) the
 * float reference host/bayes_float.c (both with the semi-heuristic placement of eq 9), (c) the
 * hexagon mode (6 + centre, L = 200/150/40 nm, 40/90/N3 photons, Poisson MLE per stage,
 * re-centred on each stage's estimate). Writes the median 1D error ||x_MAP - x0||/sqrt(2) vs
 * cumulative photons and vs exposures as CSV and PNG and prints one line per setting:
 *   bayes mu=<mu> b=<b>: photons_to_1nm fixed=<n> float=<n> hex=<n> exposures_to_1nm fixed=<n>
 * photons_to_1nm: the first photon count at which the median, averaged in log over +-5 % of
 * the count, is <= 1 nm; exposures_to_1nm: the first exposure checkpoint (4 % apart).
 * Before it, a bootstrap line (100 resamples of the runs) gives 95 % intervals of each
 * photons_to_1nm and of the ratios fixed / float and hex / fixed: how well RUNS resolve them.
 * Usage: bench_bayes [--full] [--runs R] [--seed S] [--threads T] [--out DIR]
 *                    [--setting MU,B]... [--pmax P] [--emax E] [--dtable FILE.csv]
 *                    [--grid N,REFINE,COARSEN,RECENTRE]   (the float reference's grid)
 *                    [--float-lag 1]  (the float reference places each beam from the posterior
 *                    one count behind: the schedule of a fused single-pass block, docs/bayes.md)
 * The seed (printed) fixes every emitter position, count and placement angle. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cairo.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include "bayes.h"
#include "bayes_float.h"
#include "bayes_regs.h"

#define S_NM      200.0     /* radius of the doughnut maximum (seed 002 eq 1) */
#define SIGMA0_NM 150.0     /* prior std */
/* initial grid spacing: the N points of a side cover +-4 sigma0 (37.5 nm for N = 32) */
#define H0_NM(N)  (8.0 * SIGMA0_NM / (N))
#define NMETH     3
enum { M_FIXED, M_FLOAT, M_HEX };
static const char *meth_name[NMETH] = {"fixed", "float", "hex"};

typedef struct {
  double mu, b;
} setting_t;

typedef struct {
  int runs, threads, pmax, emax, pmax_hex;
  uint64_t seed;
  const char *out;
  int have_fixed;
  bf_grid_cfg_t grid;      /* the float reference's grid */
  const char *dtable;      /* read D(sigma) from this file instead of computing it */
  int float_lag;           /* 1: the float reference places exposure j from the posterior after j - 2 */
} opts_t;

/* Exposure checkpoints: 1..20, then about 4 % apart. */
static int ncheck;
static int checks[512];
static void make_checks(int emax)
{
  ncheck = 0;
  double e = 1.0;
  while ((int)e <= emax && ncheck < 512) {
    if (ncheck == 0 || (int)e != checks[ncheck - 1]) checks[ncheck++] = (int)e;
    e = e < 20.0 ? e + 1.0 : e * 1.04;
  }
}

/* Errors of one run: after cumulative photon count p (index p; all detected photons, and
 * separately the fluorescence photons alone) and at every exposure checkpoint. */
typedef struct {
  double *ep;   /* pmax + 1: vs detected photons */
  double *es;   /* pmax + 1: vs fluorescence photons (background photons not counted) */
  double *ee;   /* ncheck */
  int pmax, ci;
  unsigned photons, signal;
  long exposures;
  double last;
} rec_t;

static void rec_start(rec_t *r, double *ep, double *es, double *ee, int pmax, double err0)
{
  r->ep = ep;
  r->es = es;
  r->ee = ee;
  r->pmax = pmax;
  r->ci = 0;
  r->photons = r->signal = 0;
  r->exposures = 0;
  r->last = err0;
  ep[0] = es[0] = err0;
  for (int p = 1; p <= pmax; p++) ep[p] = es[p] = NAN;
  for (int k = 0; k < ncheck; k++) ee[k] = NAN;
}

/* One exposure with n photons, nsig of them from the emitter, after which the estimate has
 * error err. */
static void rec_exposure(rec_t *r, unsigned n, unsigned nsig, double err)
{
  for (unsigned p = r->photons + 1; p <= r->photons + n && (int)p <= r->pmax; p++) r->ep[p] = err;
  for (unsigned p = r->signal + 1; p <= r->signal + nsig && (int)p <= r->pmax; p++) r->es[p] = err;
  r->photons += n;
  r->signal += nsig;
  r->exposures++;
  if (r->ci < ncheck && checks[r->ci] == r->exposures) r->ee[r->ci++] = err;
  r->last = err;
}

/* Runs that end early keep their last error for the rest of the curve. */
static void rec_finish(rec_t *r)
{
  for (int p = 1; p <= r->pmax; p++) {
    if (isnan(r->ep[p])) r->ep[p] = r->last;
    if (isnan(r->es[p])) r->es[p] = r->last;
  }
  for (int k = r->ci; k < ncheck; k++) r->ee[k] = r->last;
}

/* A Poisson count of an exposure with rate eta g at offset (dx, dy), and its fluorescence
 * part (a binomial split: the background share of the rate is eta b). */
static unsigned expose(gsl_rng *g, double eta, double dx, double dy, double b, unsigned *nsig)
{
  const double gx = bf_g(dx, dy, S_NM, b);
  const unsigned n = gsl_ran_poisson(g, eta * gx);
  *nsig = n ? gsl_ran_binomial(g, (gx - b) / gx, n) : 0;
  return n;
}

static double err1d(double x, double y, double x0, double y0)
{
  return hypot(x - x0, y - y0) / M_SQRT2;
}

/* (b) the float reference. */
static void run_float(const setting_t *st, const bf_dtable_t *dt, gsl_rng *g, double x0, double y0,
                      const opts_t *o, bf_post_t *post, rec_t *rec)
{
  char err[128];
  if (bf_post_init(post, &o->grid, S_NM, st->b, 0.0, 0.0, SIGMA0_NM, H0_NM(o->grid.N), err, sizeof err)) {
    fprintf(stderr, "bench_bayes: %s\n", err);
    exit(1);
  }
  /* With the lag, the beam of exposure j was placed before the count of exposure j - 1 was
   * known (from the posterior after j - 2; the first two from the prior); eta still comes
   * from the posterior after j - 1, as a fused pass computes the laser code from the weights
   * it has just updated. */
  double px = 0.0, py = 0.0;
  if (o->float_lag) bf_place(post, dt, 2.0 * M_PI * gsl_rng_uniform(g), &px, &py);
  while ((int)rec->photons < o->pmax && rec->exposures < o->emax) {
    double rx, ry;
    bf_place(post, dt, 2.0 * M_PI * gsl_rng_uniform(g), &rx, &ry);
    if (o->float_lag) {
      const double nx = rx, ny = ry;
      rx = px;
      ry = py;
      px = nx;
      py = ny;
    }
    const double eta = bf_post_eta(post, rx, ry, st->mu);
    unsigned nsig;
    const unsigned n = expose(g, eta, x0 - rx, y0 - ry, st->b, &nsig);
    bf_post_update(post, rx, ry, eta, n);
    rec_exposure(rec, n, nsig, err1d(post->map_x, post->map_y, x0, y0));
  }
}

/* The block's physical set-up in the benchmark: 0.1 nm per DAC LSB, the prior centre at the
 * DAC origin, the laser calibrated so that the code for the background floor
 * (mu / (b eta_per_code)) is about 60000 (36000 at b = 0.05), quantized to what the KM register represents so
 * that the model's likelihood uses the calibration the physics uses. */
static int fixed_setup(const setting_t *st, const bf_dtable_t *dt, bayes_phys_t *ph, bayes_regs_t *rg, char *err, int len)
{
  memset(ph, 0, sizeof *ph);
  ph->nm_per_lsb = 0.1;
  ph->s_nm = S_NM;
  ph->b = st->b;
  ph->mu = st->mu;
  ph->sigma0_nm = SIGMA0_NM;
  ph->h0_nm = H0_NM(bayes_grid_n());
  /* the background-floor code ~60000, but MU (64 mu / (e ln 2 eta_per_code)) <= 65535: at
   * b = 0.05 the floor code is 36000 */
  ph->eta_per_code = st->mu / (st->b * fmin(60000.0, 1800.0 / st->b));
  return bayes_regs_from_phys_exact(ph, dt, rg, err, len);
}

/* (a) the fixed-point model of the firmware block. */
static void run_fixed(const setting_t *st, const bayes_phys_t *ph, bayes_regs_t *rg, gsl_rng *g, double x0,
                      double y0, const opts_t *o, bayes_state_t *bs, rec_t *rec)
{
  bayes_out_t out;
  rg->seed = (uint32_t)gsl_rng_get(g) | 1u;
  bayes_start(bs, rg, &out);
  while ((int)rec->photons < o->pmax && rec->exposures < o->emax && !out.done) {
    const double rx = out.beam_x * ph->nm_per_lsb, ry = out.beam_y * ph->nm_per_lsb;
    unsigned nsig;
    const unsigned n = expose(g, out.amp * ph->eta_per_code, x0 - rx, y0 - ry, st->b, &nsig);
    bayes_count(bs, rg, n, &out);
    double mx, my;
    bayes_map_nm(ph, rg, &out, &mx, &my);
    rec_exposure(rec, n, nsig, err1d(mx, my, x0, y0));
  }
}

/* (c) the hexagon mode. */
static void run_hex(const setting_t *st, gsl_rng *g, double x0, double y0, const opts_t *o, rec_t *rec)
{
  static const double Ls[3] = {200.0, 150.0, 40.0};
  static const unsigned Ns[3] = {40, 90, 0};       /* stage 3 runs to the photon limit */
  static const double half[3] = {3.0 * SIGMA0_NM, 150.0, 60.0};
  double cx = 0.0, cy = 0.0;    /* the pattern centre: the prior mean, then each stage's estimate */
  for (int s = 0; s < 3; s++) {
    double bx[7], by[7];
    unsigned n[7] = {0}, m[7] = {0}, stage = 0;
    double gm = 0.0;
    for (int k = 0; k < 7; k++) {
      bf_hex_pos(k, Ls[s], &bx[k], &by[k]);
      gm += bf_g(bx[k], by[k], S_NM, st->b) / 7.0;
      bx[k] += cx;
      by[k] += cy;
    }
    const double eta = st->mu / gm;    /* mu photons per exposure for an emitter at the centre */
    double ex = cx, ey = cy;
    for (int k = 0; (Ns[s] == 0 || stage < Ns[s]); k = (k + 1) % 7) {
      if ((int)rec->photons >= o->pmax_hex || rec->exposures >= o->emax) break;
      unsigned csig;
      const unsigned c = expose(g, eta, x0 - bx[k], y0 - by[k], st->b, &csig);
      n[k] += c;
      m[k]++;
      stage += c;
      double e = err1d(cx, cy, x0, y0);
      if (s == 2 && c > 0) {              /* the final stage's running estimate */
        bf_mle(7, bx, by, n, m, eta, S_NM, st->b, ex, ey, stage < 8 ? half[s] : 0.0, 0.0, &ex, &ey);
        e = err1d(ex, ey, x0, y0);
      } else if (s == 2) {
        e = err1d(ex, ey, x0, y0);
      }
      rec_exposure(rec, c, csig, e);
    }
    if (s < 2) bf_mle(7, bx, by, n, m, eta, S_NM, st->b, cx, cy, half[s], 0.0, &cx, &cy);
  }
}

/* ---- the runs, split over threads ---- */

typedef struct {
  const setting_t *st;
  const bf_dtable_t *dt;
  const opts_t *o;
  bayes_phys_t ph;
  bayes_regs_t rg;
  double *ep[NMETH], *es[NMETH], *ee[NMETH];   /* runs x (pmax + 1), runs x ncheck */
  int next;
  pthread_mutex_t lock;
} job_t;

static void *worker(void *vp)
{
  job_t *j = vp;
  bf_post_t *post = malloc(sizeof *post);
  bayes_state_t *bs = malloc(sizeof *bs);
  bayes_regs_t rg = j->rg;
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  for (;;) {
    pthread_mutex_lock(&j->lock);
    const int r = j->next++;
    pthread_mutex_unlock(&j->lock);
    if (r >= j->o->runs) break;
    /* every run has its own stream: results do not depend on the thread count */
    const uint64_t rs = j->o->seed * 1000003u + (uint64_t)r * 7919u + (uint64_t)(j->st->mu * 1000) * 31u +
                        (uint64_t)(j->st->b * 100000);
    gsl_rng_set(g, (unsigned long)(rs ^ (rs >> 32)));
    const double x0 = gsl_ran_gaussian(g, SIGMA0_NM), y0 = gsl_ran_gaussian(g, SIGMA0_NM);
    const unsigned long sub = gsl_rng_get(g);
    for (int m = 0; m < NMETH; m++) {
      if (m == M_FIXED && !j->o->have_fixed) continue;
      gsl_rng_set(g, sub + (unsigned long)m * 104729u);
      rec_t rec;
      const int pm = m == M_HEX ? j->o->pmax_hex : j->o->pmax;
      rec_start(&rec, j->ep[m] + (size_t)r * (pm + 1), j->es[m] + (size_t)r * (pm + 1),
                j->ee[m] + (size_t)r * ncheck, pm,
                err1d(0.0, 0.0, x0, y0));
      if (m == M_FIXED) run_fixed(j->st, &j->ph, &rg, g, x0, y0, j->o, bs, &rec);
      else if (m == M_FLOAT) run_float(j->st, j->dt, g, x0, y0, j->o, post, &rec);
      else if (m == M_HEX) run_hex(j->st, g, x0, y0, j->o, &rec);
      rec_finish(&rec);
    }
  }
  gsl_rng_free(g);
  free(post);
  free(bs);
  return NULL;
}

static int cmp_d(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median over runs of column c of a runs x stride array. */
static double median_col(const double *a, int runs, int stride, int c, double *tmp)
{
  for (int r = 0; r < runs; r++) tmp[r] = a[(size_t)r * stride + c];
  qsort(tmp, (size_t)runs, sizeof(double), cmp_d);
  return runs % 2 ? tmp[runs / 2] : 0.5 * (tmp[runs / 2 - 1] + tmp[runs / 2]);
}

/* Bootstrap of photons_to_1nm: B resamples of the runs with replacement (the same resample
 * for every method: runs are paired by their emitter), each giving the median curves and
 * their first crossing; the 2.5 / 97.5 % points of each method's crossing and of the ratios
 * fixed / float and hex / fixed (a resample whose curve never crossed counts as infinite). */
enum { BOOT_B = 100 };
static int first_below(const double *med, int n, int smooth);
static void boot_ci(const double *const ep[], const int pm[], int runs, int nmeth, uint64_t seed, double lo[],
                    double hi[], double rlo[2], double rhi[2])
{
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, (unsigned long)(seed * 2654435761u + 17u));
  int *idx = malloc(sizeof(int) * runs);
  double *tmp = malloc(sizeof(double) * runs);
  int pmx = 0;
  for (int m = 0; m < nmeth; m++) pmx = pm[m] > pmx ? pm[m] : pmx;
  double *med = malloc(sizeof(double) * (pmx + 1));
  double *cr = malloc(sizeof(double) * BOOT_B * (nmeth + 2));
  for (int bi = 0; bi < BOOT_B; bi++) {
    for (int r = 0; r < runs; r++) idx[r] = (int)gsl_rng_uniform_int(g, (unsigned long)runs);
    double c[8];
    for (int m = 0; m < nmeth; m++) {
      c[m] = -1;
      if (!ep[m]) continue;
      for (int p = 0; p <= pm[m]; p++) {
        for (int r = 0; r < runs; r++) tmp[r] = ep[m][(size_t)idx[r] * (pm[m] + 1) + p];
        med[p] = gsl_stats_median(tmp, 1, (size_t)runs);
      }
      c[m] = first_below(med, pm[m] + 1, 1);
    }
    for (int m = 0; m < nmeth; m++) cr[(size_t)m * BOOT_B + bi] = c[m] < 0 ? INFINITY : c[m];
    cr[(size_t)nmeth * BOOT_B + bi] = c[0] > 0 && c[1] > 0 ? c[0] / c[1] : NAN;
    cr[(size_t)(nmeth + 1) * BOOT_B + bi] = c[0] > 0 && c[2] > 0 ? c[2] / c[0] : NAN;
  }
  for (int q = 0; q < nmeth + 2; q++) {
    double *v = cr + (size_t)q * BOOT_B;
    qsort(v, BOOT_B, sizeof(double), cmp_d);
    const double a = v[(int)(0.025 * (BOOT_B - 1) + 0.5)], b = v[(int)(0.975 * (BOOT_B - 1) + 0.5)];
    if (q < nmeth) { lo[q] = a; hi[q] = b; }
    else { rlo[q - nmeth] = a; rhi[q - nmeth] = b; }
  }
  free(cr);
  free(med);
  free(tmp);
  free(idx);
  gsl_rng_free(g);
}

/* ---- plot ---- */

typedef struct {
  const double *x;
  const double *y;
  int n;
  const char *label;
  double r, g, b;
} series_t;

static void plot_panel(cairo_t *cr, double X, double Y, double W, double H, const char *xlabel,
                       double xmin, double xmax, const series_t *s, int ns, const char *title)
{
  const double ymin = 0.1, ymax = 300.0;
  const double l = X + 60, r = X + W - 15, t = Y + 30, b = Y + H - 45;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, l, t, r - l, b - t);
  cairo_stroke(cr);
#define PX(v) (l + (r - l) * (log10(v) - log10(xmin)) / (log10(xmax) - log10(xmin)))
#define PY(v) (b - (b - t) * (log10(v) - log10(ymin)) / (log10(ymax) - log10(ymin)))
  cairo_set_font_size(cr, 12);
  char buf[64];
  for (double d = 1.0; d <= xmax * 1.001; d *= 10.0) {
    if (d < xmin) continue;
    cairo_move_to(cr, PX(d), b);
    cairo_line_to(cr, PX(d), b + 5);
    cairo_stroke(cr);
    snprintf(buf, sizeof buf, "%g", d);
    cairo_move_to(cr, PX(d) - 8, b + 18);
    cairo_show_text(cr, buf);
  }
  for (double d = 0.1; d <= ymax * 1.001; d *= 10.0) {
    cairo_move_to(cr, l - 5, PY(d));
    cairo_line_to(cr, l, PY(d));
    cairo_stroke(cr);
    snprintf(buf, sizeof buf, "%g", d);
    cairo_move_to(cr, l - 38, PY(d) + 4);
    cairo_show_text(cr, buf);
  }
  cairo_move_to(cr, (l + r) / 2 - 60, b + 36);
  cairo_show_text(cr, xlabel);
  cairo_move_to(cr, l, t - 10);
  cairo_show_text(cr, title);
  cairo_save(cr);
  cairo_move_to(cr, X + 16, (t + b) / 2 + 50);
  cairo_rotate(cr, -M_PI / 2);
  cairo_show_text(cr, "median 1D error (nm)");
  cairo_restore(cr);
  const double dash[1] = {4.0};
  cairo_set_dash(cr, dash, 1, 0);
  cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
  cairo_move_to(cr, l, PY(1.0));
  cairo_line_to(cr, r, PY(1.0));
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  cairo_rectangle(cr, l, t, r - l, b - t);
  cairo_clip(cr);
  cairo_set_line_width(cr, 2.0);
  for (int k = 0; k < ns; k++) {
    cairo_set_source_rgb(cr, s[k].r, s[k].g, s[k].b);
    int started = 0;
    for (int i = 0; i < s[k].n; i++) {
      if (!(s[k].x[i] >= xmin) || !(s[k].y[i] > 0.0)) continue;
      const double px = PX(s[k].x[i]), py = PY(fmin(fmax(s[k].y[i], ymin * 0.5), ymax * 2));
      if (!started) cairo_move_to(cr, px, py);
      else cairo_line_to(cr, px, py);
      started = 1;
    }
    cairo_stroke(cr);
  }
  cairo_reset_clip(cr);
  cairo_set_font_size(cr, 12);
  for (int k = 0; k < ns; k++) {
    cairo_set_source_rgb(cr, s[k].r, s[k].g, s[k].b);
    cairo_move_to(cr, r - 150, t + 18 + 16 * k);
    cairo_line_to(cr, r - 125, t + 18 + 16 * k);
    cairo_stroke(cr);
    cairo_move_to(cr, r - 120, t + 22 + 16 * k);
    cairo_show_text(cr, s[k].label);
  }
#undef PX
#undef PY
}

/* ---- one setting ---- */

/* The first index at which the median curve is at or below 1 nm: on the photon axis the log
 * of the median is first averaged over +-5 % of the photon count (at least +-2), because the
 * median of a few hundred runs fluctuates from one photon to the next. */
static int first_below(const double *med, int n, int smooth)
{
  for (int i = 0; i < n; i++) {
    double v = log(med[i]);
    if (smooth) {
      const int hw = i / 20 > 2 ? i / 20 : 2;
      double s = 0.0;
      int c = 0;
      for (int k = i - hw; k <= i + hw; k++)
        if (k >= 0 && k < n && med[k] > 0.0) {
          s += log(med[k]);
          c++;
        }
      v = s / c;
    }
    if (v <= 0.0) return i;
  }
  return -1;
}

static void fmt_count(char *buf, size_t len, int v, int limit)
{
  if (v < 0) snprintf(buf, len, ">%d", limit);
  else snprintf(buf, len, "%d", v);
}

static int run_setting(const setting_t *st, const opts_t *o)
{
  char err[256], path[512], tag[64];
  snprintf(tag, sizeof tag, "mu%g_b%g", st->mu, st->b);
  const clock_t c0 = clock();
  const time_t w0 = time(NULL);
  bf_dtable_t dt;
  if (o->dtable) {
    if (bf_dtable_read(&dt, o->dtable, err, sizeof err)) {
      fprintf(stderr, "bench_bayes: %s\n", err);
      return -1;
    }
    if (dt.mu != st->mu || dt.b != st->b || dt.s != S_NM) {
      fprintf(stderr, "bench_bayes: %s: a table for mu = %g, b = %g, s = %g, not for this setting\n",
              o->dtable, dt.mu, dt.b, dt.s);
      return -1;
    }
  } else if (bf_dtable_make(&dt, st->mu, st->b, S_NM, 1.0 / 16.0, 8, 8 * 13 + 1, o->threads, err, sizeof err)) {
    fprintf(stderr, "bench_bayes: %s\n", err);
    return -1;
  }
  snprintf(path, sizeof path, "%s/dtable_%s.csv", o->out, tag);
  if (!o->dtable && bf_dtable_write(&dt, path, err, sizeof err)) {
    fprintf(stderr, "bench_bayes: %s\n", err);
    return -1;
  }
  printf("bench_bayes %s: D table (eq 8, %d sigmas) in %ld s: D(0) = %.2f nm, D(1 nm) = %.2f nm, "
         "D(150 nm) = %.1f nm -> %s\n", tag, dt.n, (long)(time(NULL) - w0), dt.D0,
         bf_dtable_eval(&dt, 1.0), bf_dtable_eval(&dt, 150.0), path);
  fflush(stdout);

  job_t j;
  memset(&j, 0, sizeof j);
  j.st = st;
  j.dt = &dt;
  j.o = o;
  if (fixed_setup(st, &dt, &j.ph, &j.rg, err, sizeof err)) {
    fprintf(stderr, "bench_bayes: fixed-point registers: %s\n", err);
    return -1;
  }
  pthread_mutex_init(&j.lock, NULL);
  for (int m = 0; m < NMETH; m++) {
    const int pm = m == M_HEX ? o->pmax_hex : o->pmax;
    j.ep[m] = calloc((size_t)o->runs * (pm + 1), sizeof(double));
    j.es[m] = calloc((size_t)o->runs * (pm + 1), sizeof(double));
    j.ee[m] = calloc((size_t)o->runs * ncheck, sizeof(double));
  }
  const time_t w1 = time(NULL);
  pthread_t th[16];
  for (int t = 1; t < o->threads; t++) pthread_create(&th[t], NULL, worker, &j);
  worker(&j);
  for (int t = 1; t < o->threads; t++) pthread_join(th[t], NULL);

  const int pmx = o->pmax_hex > o->pmax ? o->pmax_hex : o->pmax;
  double *tmp = malloc(sizeof(double) * o->runs);
  double *medp[NMETH], *meds[NMETH], *mede[NMETH];
  double *px = malloc(sizeof(double) * (pmx + 1)), *exv = malloc(sizeof(double) * ncheck);
  for (int p = 0; p <= pmx; p++) px[p] = p;
  for (int k = 0; k < ncheck; k++) exv[k] = checks[k];
  int p1[NMETH], s1[NMETH], e1[NMETH];
  for (int m = 0; m < NMETH; m++) {
    const int pm = m == M_HEX ? o->pmax_hex : o->pmax;
    medp[m] = malloc(sizeof(double) * (pmx + 1));
    meds[m] = malloc(sizeof(double) * (pmx + 1));
    mede[m] = malloc(sizeof(double) * ncheck);
    for (int p = 0; p <= pmx; p++) {
      const int have = p <= pm && (m != M_FIXED || o->have_fixed);
      medp[m][p] = have ? median_col(j.ep[m], o->runs, pm + 1, p, tmp) : NAN;
      meds[m][p] = have ? median_col(j.es[m], o->runs, pm + 1, p, tmp) : NAN;
    }
    for (int k = 0; k < ncheck; k++)
      mede[m][k] = (m != M_FIXED || o->have_fixed) ? median_col(j.ee[m], o->runs, ncheck, k, tmp) : NAN;
    p1[m] = first_below(medp[m], pm + 1, 1);
    s1[m] = first_below(meds[m], pm + 1, 1);
    const int k1 = first_below(mede[m], ncheck, 0);
    e1[m] = k1 < 0 ? -1 : checks[k1];
  }
  snprintf(path, sizeof path, "%s/bayes_%s_photons.csv", o->out, tag);
  FILE *fp = fopen(path, "w");
  if (!fp) {
    fprintf(stderr, "bench_bayes: %s: %s\n", path, strerror(errno));
    return -1;
  }
  fprintf(fp, "photons,median_err_fixed_nm,median_err_float_nm,median_err_hex_nm,"
              "median_err_fixed_vs_signal_nm,median_err_float_vs_signal_nm,median_err_hex_vs_signal_nm\n");
  for (int p = 0; p <= pmx; p++)
    fprintf(fp, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", p, medp[0][p], medp[1][p], medp[2][p], meds[0][p],
            meds[1][p], meds[2][p]);
  fclose(fp);
  snprintf(path, sizeof path, "%s/bayes_%s_exposures.csv", o->out, tag);
  fp = fopen(path, "w");
  if (!fp) {
    fprintf(stderr, "bench_bayes: %s: %s\n", path, strerror(errno));
    return -1;
  }
  fprintf(fp, "exposures,median_err_fixed_nm,median_err_float_nm,median_err_hex_nm\n");
  for (int k = 0; k < ncheck; k++) fprintf(fp, "%d,%.6g,%.6g,%.6g\n", checks[k], mede[0][k], mede[1][k], mede[2][k]);
  fclose(fp);

  snprintf(path, sizeof path, "%s/bayes_%s.png", o->out, tag);
  cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1100, 460);
  cairo_t *cr = cairo_create(sf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  series_t sp[NMETH], se[NMETH];
  const double col[NMETH][3] = {{0.85, 0.1, 0.1}, {0.1, 0.3, 0.85}, {0.1, 0.1, 0.1}};
  const char *lab[NMETH] = {"fixed-point model", "float reference", "hexagon (MLE)"};
  int ns = 0;
  for (int m = 0; m < NMETH; m++) {
    if (m == M_FIXED && !o->have_fixed) continue;
    sp[ns] = (series_t){px, medp[m], (m == M_HEX ? o->pmax_hex : o->pmax) + 1, lab[m], col[m][0], col[m][1], col[m][2]};
    se[ns] = (series_t){exv, mede[m], ncheck, lab[m], col[m][0], col[m][1], col[m][2]};
    ns++;
  }
  char title[128];
  snprintf(title, sizeof title, "mu = %g, b = %g, %d runs, prior sigma %g nm", st->mu, st->b, o->runs, SIGMA0_NM);
  plot_panel(cr, 0, 0, 550, 460, "cumulative photons", 1.0, pmx, sp, ns, title);
  plot_panel(cr, 550, 0, 550, 460, "exposures", 1.0, o->emax, se, ns, title);
  cairo_destroy(cr);
  const cairo_status_t cs = cairo_surface_write_to_png(sf, path);
  cairo_surface_destroy(sf);
  if (cs != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "bench_bayes: %s: %s\n", path, cairo_status_to_string(cs));
    return -1;
  }
  printf("bench_bayes %s: %d runs in %ld s (%.0f CPU s); %s/bayes_%s{.png,_photons.csv,_exposures.csv}\n",
         tag, o->runs, (long)(time(NULL) - w1), (double)(clock() - c0) / CLOCKS_PER_SEC, o->out, tag);
  char f0[16], f1[16], f2[16], f3[16];
  if (o->have_fixed) fmt_count(f0, sizeof f0, p1[M_FIXED], o->pmax);
  else snprintf(f0, sizeof f0, "n/a");
  fmt_count(f1, sizeof f1, p1[M_FLOAT], o->pmax);
  fmt_count(f2, sizeof f2, p1[M_HEX], o->pmax_hex);
  if (o->have_fixed) fmt_count(f3, sizeof f3, e1[M_FIXED], o->emax);
  else snprintf(f3, sizeof f3, "n/a");
  char g0[16], g1[16], g2[16];
  if (o->have_fixed) fmt_count(g0, sizeof g0, s1[M_FIXED], o->pmax);
  else snprintf(g0, sizeof g0, "n/a");
  fmt_count(g1, sizeof g1, s1[M_FLOAT], o->pmax);
  fmt_count(g2, sizeof g2, s1[M_HEX], o->pmax_hex);
  printf("bench_bayes %s: fluorescence photons alone (background photons not counted) to 1 nm: "
         "fixed=%s float=%s hex=%s\n", tag, g0, g1, g2);
  /* The information bound of this model: the Fisher information about the position per
   * detected photon, (dg/dd)^2 / g^2, is largest at one distance d* of the doughnut zero from
   * the emitter (where the signal is about the background); with placements in all
   * directions each axis gets half of it, so N photons give a per-axis std >= sqrt(2 / (N I*)),
   * and the median of |x_MAP - x0| / sqrt(2) of a 2D Gaussian error is sqrt(ln 2) times the
   * per-axis std. Below N_min = 2 ln 2 / I* (1 nm) no estimator reaches 1 nm, whatever it
   * places (the prior, 150 nm, adds nothing at this scale). */
  double ibest = 0.0, dbest = 0.0;
  for (double d = 0.01; d < 2.0 * S_NM; d += 0.01) {
    const double q = d * d / (S_NM * S_NM), sig = M_E * q * exp(-q), g = sig + st->b;
    const double dg = M_E * exp(-q) * (1.0 - q) * 2.0 * d / (S_NM * S_NM);
    if (dg * dg / (g * g) > ibest) { ibest = dg * dg / (g * g); dbest = d; }
  }
  {
    const double q = dbest * dbest / (S_NM * S_NM), sig = M_E * q * exp(-q);
    const double nmin = 2.0 * log(2.0) / ibest;
    printf("bench_bayes %s: information bound: photons_to_1nm >= %.0f detected photons (%.0f fluorescence) "
           "for any placement (best distance of the zero %.1f nm, %.0f %% of its photons background)\n",
           tag, nmin, nmin * sig / (sig + st->b), dbest, 100.0 * st->b / (sig + st->b));
  }
  if (o->have_fixed) {
    const double *epm[NMETH] = { j.ep[M_FIXED], j.ep[M_FLOAT], j.ep[M_HEX] };
    const int pms[NMETH] = { o->pmax, o->pmax, o->pmax_hex };
    double lo[NMETH], hi[NMETH], rlo[2], rhi[2];
    boot_ci(epm, pms, o->runs, NMETH, o->seed + (uint64_t)(st->mu * 1000) + (uint64_t)(st->b * 1e5), lo, hi, rlo, rhi);
    printf("bench_bayes %s: bootstrap (%d resamples of the %d runs), 95 %% intervals of photons_to_1nm: fixed %g-%g, "
           "float %g-%g, hex %g-%g; fixed / float %.3f-%.3f, hex / fixed %.2f-%.2f\n", tag, BOOT_B, o->runs, lo[0], hi[0],
           lo[1], hi[1], lo[2], hi[2], rlo[0], rhi[0], rlo[1], rhi[1]);
  }
  printf("bayes mu=%g b=%g: photons_to_1nm fixed=%s float=%s hex=%s exposures_to_1nm fixed=%s\n",
         st->mu, st->b, f0, f1, f2, f3);
  fflush(stdout);
  for (int m = 0; m < NMETH; m++) {
    free(j.ep[m]);
    free(j.es[m]);
    free(j.ee[m]);
    free(medp[m]);
    free(meds[m]);
    free(mede[m]);
  }
  free(tmp);
  free(px);
  free(exv);
  bf_dtable_free(&dt);
  (void)meth_name;
  return 0;
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *v)
{
  char *end;
  errno = 0;
  *v = strtol(s, &end, 0);
  if (end == s || *end || errno || *v < lo || *v > hi) {
    fprintf(stderr, "bench_bayes: %s '%s': must be an integer %ld..%ld\n", opt, s, lo, hi);
    return -1;
  }
  return 0;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: bench_bayes [--full] [--runs R] [--seed S] [--threads T] [--out DIR] [--setting MU,B]... [--pmax P] "
             "[--emax E] [--dtable FILE.csv] [--grid N,REFINE,COARSEN,RECENTRE] [--float-lag 0|1]\n");
}

int main(int argc, char **argv)
{
  opts_t o = {500, 2, 1000, 20000, 2000, (uint64_t)time(NULL), "build/bench_bayes", 1, {0}, NULL, 0};
  int limits_given = 0;   /* --pmax or --emax: no scaling with b */
  bf_grid_cfg_default(&o.grid);
  setting_t sets[16];
  int nset = 0, full = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long v;
    if (!strcmp(a, "--full")) {
      full = 1;
      continue;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      printf("Photons and exposures to 1 nm median 1D error: fixed-point model, float reference, hexagon (docs/bayes.md).\n");
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "bench_bayes: %s needs a value\n", a);
      return 2;
    }
    const char *s = argv[++i];
    if (!strcmp(a, "--runs")) { if (parse_int(a, s, 1, 100000, &v)) return 2; o.runs = (int)v; }
    else if (!strcmp(a, "--threads")) { if (parse_int(a, s, 1, 16, &v)) return 2; o.threads = (int)v; }
    else if (!strcmp(a, "--pmax")) { if (parse_int(a, s, 10, 100000, &v)) return 2; o.pmax = (int)v; limits_given = 1; }
    else if (!strcmp(a, "--emax")) { if (parse_int(a, s, 10, 10000000, &v)) return 2; o.emax = (int)v; limits_given = 1; }
    else if (!strcmp(a, "--seed")) { if (parse_int(a, s, 0, 0x7FFFFFFF, &v)) return 2; o.seed = (uint64_t)v; }
    else if (!strcmp(a, "--out")) o.out = s;
    else if (!strcmp(a, "--dtable")) o.dtable = s;
    else if (!strcmp(a, "--float-lag")) { if (parse_int(a, s, 0, 1, &v)) return 2; o.float_lag = (int)v; }
    else if (!strcmp(a, "--grid")) {
      char c;
      if (sscanf(s, "%d,%lf,%lf,%lf%c", &o.grid.N, &o.grid.refine_std, &o.grid.coarsen_std, &o.grid.recentre, &c) != 4) {
        fprintf(stderr, "bench_bayes: --grid '%s': expected N,REFINE,COARSEN,RECENTRE (default 32,1.414,5.657,4)\n", s);
        return 2;
      }
    }
    else if (!strcmp(a, "--setting")) {
      double mu, b;
      char c;
      if (nset >= 16 || sscanf(s, "%lf,%lf%c", &mu, &b, &c) != 2 || !(mu > 0.0 && mu <= 100.0) ||
          !(b > 0.0 && b < 1.0)) {
        fprintf(stderr, "bench_bayes: --setting '%s': expected MU,B with 0 < MU <= 100, 0 < B < 1\n", s);
        return 2;
      }
      sets[nset++] = (setting_t){mu, b};
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (nset == 0 && full) {
    const double mus[3] = {0.1, 0.5, 2.0}, bs[2] = {0.01, 0.05};
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 2; b++) sets[nset++] = (setting_t){mus[a], bs[b]};
  } else if (nset == 0) {
    sets[nset++] = (setting_t){0.1, 0.01};
  }
  if (mkdir(o.out, 0777) && errno != EEXIST) {
    fprintf(stderr, "bench_bayes: %s: %s\n", o.out, strerror(errno));
    return 1;
  }
  printf("bench_bayes: seed %" PRIu64 ", %d runs per setting, %d settings, %d threads, photons <= %d "
         "(hexagon %d), exposures <= %d%s; fixed-point window %d x %d, float %d x %d\n", o.seed, o.runs, nset,
         o.threads, o.pmax, o.pmax_hex, o.emax, limits_given ? "" : " (x b / 0.01 for b > 0.01)",
         bayes_grid_n(), bayes_grid_n(), o.grid.N, o.grid.N);
  fflush(stdout);
  for (int k = 0; k < nset; k++) {
    /* the photons 1 nm needs grow about as b (the information bound: 206 at b = 0.01, 1076 at
     * 0.05): the limits scale with b unless given */
    opts_t os = o;
    if (!limits_given && sets[k].b > 0.01 * 1.001) {
      const double f = sets[k].b / 0.01;
      os.pmax = (int)lround(o.pmax * f);
      os.pmax_hex = (int)lround(o.pmax_hex * f);
      os.emax = (int)lround(o.emax * f);
    }
    make_checks(os.emax);
    if (run_setting(&sets[k], &os)) return 1;
  }
  return 0;
}
