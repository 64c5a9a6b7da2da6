/* `minflux acquire --mode hex`: see acq_hex.h. */
#include <errno.h>
#include <gsl/gsl_multimin.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "acq_hex.h"
#include "bayes_float.h"
#include "protocol.h"
#include "regmap.h"
#include "track_error.h"

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int16_t clamp_lsb(long v, long lo, long hi) { return (int16_t)(v < lo ? lo : v > hi ? hi : v); }

void acq_hex_pattern(const acq_config *c, const acq_regs *r, int s, double cx_nm, double cy_nm, acq_hex_stage *st)
{
  const core_config_t *cc = &r->core;
  const double g = c->eod_nm_per_lsb;
  memset(st, 0, sizeof *st);
  st->stage = s;
  st->L_nm = c->hex_L_nm[s];
  st->cx = clamp_lsb(lround(cx_nm / g), cc->xmin, cc->xmax);
  st->cy = clamp_lsb(lround(cy_nm / g), cc->ymin, cc->ymax);
  double gm = 0;
  for (int k = 0; k < ACQ_HEX_K; k++) {
    /* the pattern of acq_to_regs (exposure 0 at the centre, k at k 60 deg), then the DAC's clamp */
    const long ox = k ? lround(st->L_nm / 2 * cos(k * M_PI / 3) / g) : 0, oy = k ? lround(st->L_nm / 2 * sin(k * M_PI / 3) / g) : 0;
    st->bx[k] = clamp_lsb(st->cx + ox, cc->xmin, cc->xmax);
    st->by[k] = clamp_lsb(st->cy + oy, cc->ymin, cc->ymax);
    gm += bf_g((st->bx[k] - st->cx) * g, (st->by[k] - st->cy) * g, c->bayes_s_nm, c->bayes_b) / ACQ_HEX_K;
  }
  double a = round(c->bayes_mu / (gm * c->bayes_eta_per_code));
  if (!(a >= 1)) a = 1;
  if (a > c->bayes_amp_max) a = c->bayes_amp_max;
  st->amp = (unsigned)a;
  st->eta = st->amp * c->bayes_eta_per_code;
  st->x_nm = st->y_nm = NAN;
}

void acq_hex_init(acq_hex *h, const acq_config *c, const acq_regs *r, double clk, mfx_tables *tab)
{
  memset(h, 0, sizeof *h);
  h->cfg = c;
  h->regs = r;
  h->clk = clk;
  h->tab = tab;
  h->fw_budget = -1;
}

void acq_hex_on_cycle(void *ctx, const mfx_cycle *c)
{
  acq_hex *h = ctx;
  mfx_tables_add(h->tab, c);
  if (!h->active || c->k != ACQ_HEX_K) return;
  acq_hex_stage *st = &h->cur;
  const double t = (double)h->tab->last_ts_full / h->clk;
  if (!st->records) st->t0_s = t;
  st->t1_s = t;
  st->records++;
  for (int k = 0; k < ACQ_HEX_K; k++) {
    const unsigned n = c->counts[k][0] + c->counts[k][1];
    st->n[k] += n;
    st->m[k]++;
    st->photons += n;
  }
}

static double fw_elapsed(const acq_hex *h)
{
  return h->tab->records ? (double)(h->tab->last_ts_full - h->tab->first_ts_full) / h->clk : 0.0;
}

/* The stage's maximum-likelihood position: a grid search over +-half around its centre, then
 * the simplex (bf_mle). half: 3 prior std at stage 0, then the stage's own diameter scale. */
void acq_hex_stage_mle(const acq_config *c, acq_hex_stage *st)
{
  if (!st->photons) return;   /* nothing learnt: x, y stay NaN, the next stage keeps the centre */
  const double g = c->eod_nm_per_lsb;
  double bx[ACQ_HEX_K], by[ACQ_HEX_K];
  unsigned n[ACQ_HEX_K], m[ACQ_HEX_K];
  for (int k = 0; k < ACQ_HEX_K; k++) {
    bx[k] = st->bx[k] * g;
    by[k] = st->by[k] * g;
    n[k] = (unsigned)st->n[k];
    m[k] = (unsigned)st->m[k];
  }
  const double half = st->stage == 0 ? 3 * c->bayes_sigma0_nm : 1.5 * st->L_nm;
  bf_mle(ACQ_HEX_K, bx, by, n, m, st->eta, c->bayes_s_nm, c->bayes_b, st->cx * g, st->cy * g, half, 0.0, &st->x_nm, &st->y_nm);
}

static int push_stage(acq_hex *h)
{
  if (h->nst == h->capst) {
    const size_t nc = h->capst ? 2 * h->capst : 64;
    acq_hex_stage *p = realloc(h->st, nc * sizeof *p);
    if (!p) { h->oom = 1; return -1; }
    h->st = p;
    h->capst = nc;
  }
  h->st[h->nst++] = h->cur;
  return 0;
}

/* Runs h->cur until its photon limit, the duration, Ctrl-C or the firmware's own end.
 * 0, 1 (emergency stop), 3 (link failed; messages printed). */
static int run_stage(acq_hex *h, mfx_link *l, const acq_bayes_io *io)
{
  acq_hex_stage *st = &h->cur;
  const unsigned limit = (unsigned)h->cfg->hex_photons[st->stage];
  for (int k = 0; k < MINFLUX_K_MAX; k++) {
    const int16_t ox = k < ACQ_HEX_K ? (int16_t)(st->bx[k] - st->cx) : 0, oy = k < ACQ_HEX_K ? (int16_t)(st->by[k] - st->cy) : 0;
    if (mfx_reg_write(l, (uint8_t)MINFLUX_OFFSET_ADDR(k), (uint32_t)(uint16_t)oy << 16 | (uint16_t)ox)) goto link;
  }
  if (mfx_reg_write(l, MINFLUX_REG_CENTRE_X, (uint16_t)st->cx) || mfx_reg_write(l, MINFLUX_REG_CENTRE_Y, (uint16_t)st->cy) ||
      mfx_reg_write(l, MINFLUX_REG_LASER_AMP, st->amp))
    goto link;
  /* The firmware's photon budget ends the stage at the end of the record that reaches the
   * limit, whatever the link's latency; a firmware without PHOTON_STOP reads it back as 0
   * and the host stops the stage (CTRL stop) once it has counted the limit. */
  if (h->fw_budget != 0 && mfx_reg_write(l, MINFLUX_REG_PHOTON_STOP, limit)) goto link;
  if (h->fw_budget < 0) {
    uint32_t v;
    if (mfx_reg_read(l, MINFLUX_REG_PHOTON_STOP, &v)) goto link;
    /* MINFLUX_HEX_HOST_STOP=1: the host stops the stages as for such a firmware (tests,
     * the comparison in docs/bayes.md) */
    const char *hs = getenv("MINFLUX_HEX_HOST_STOP");
    h->fw_budget = v == limit && !(hs && !strcmp(hs, "1"));
    if (!h->fw_budget && v && mfx_reg_write(l, MINFLUX_REG_PHOTON_STOP, 0)) goto link;
    if (!h->fw_budget)
      fprintf(stderr, "minflux acquire: %s (PHOTON_STOP reads %u): the host stops each stage, a link round trip after "
              "its limit\n", v == limit ? "MINFLUX_HEX_HOST_STOP=1" : "this firmware has no photon budget", v);
  }
  h->gaps0 = h->tab->gaps;
  h->active = 1;
  if (mfx_reg_write(l, MINFLUX_REG_CTRL, 1)) goto link;
  double last_poll = mono_s(), last_byte = last_poll, last_status = 0;
  int stop_sent = 0, ctrl_stop = 0;
  double limit_t = 0;   /* when the host counted the limit, the firmware's budget ending the stage */
  for (;;) {
    const long n = mfx_link_poll(l, stop_sent ? 1 : 20);
    const double tn = mono_s();
    if (n < 0) { fprintf(stderr, "\nminflux acquire: link lost: %s\n", l->err); h->active = 0; return 3; }
    if (n > 0) last_byte = tn;
    const int over = *io->interrupted || (h->tab->records && fw_elapsed(h) >= io->duration_s);
    if (!stop_sent && (st->photons >= limit || over)) {
      stop_sent = 1;   /* ends after the current cycle, whose record still comes (and counts) */
      /* at the limit the firmware has ended the run with this record (or a later one, if
       * records were lost): no stop to send */
      if (over || !h->fw_budget) {
        if (mfx_reg_write(l, MINFLUX_REG_CTRL, 2)) goto link;
        ctrl_stop = 1;
      } else limit_t = tn;
    }
    /* the budget did not end it (a firmware reset cleared PHOTON_STOP?): the host stops it */
    if (stop_sent && !ctrl_stop && (over || tn - limit_t > 0.5)) {
      if (!over)
        fprintf(stderr, "\nminflux acquire: localization %d stage %d still runs 0.5 s after its photon limit: stopped by the host\n",
                st->loc, st->stage);
      if (mfx_reg_write(l, MINFLUX_REG_CTRL, 2)) goto link;
      ctrl_stop = 1;
    }
    if (stop_sent || tn - last_poll > 0.05) {
      uint32_t s;
      last_poll = tn;
      if (mfx_reg_read(l, MINFLUX_REG_STATUS, &s)) goto link;
      if ((s & 0x40) && !*io->wdog_tripped) {
        *io->wdog_tripped = 1;
        fprintf(stderr, "\nminflux acquire: the firmware's host watchdog tripped (no command for %.0f ms): run aborted, laser off, "
                "beam centred\n", io->watchdog_ms);
      }
      if (s & 0x10) {
        fprintf(stderr, "\nminflux acquire: EMERGENCY STOP input active: the firmware aborted the run; no further stage\n");
        h->active = 0;
        return 1;
      }
      if (!(s & 1)) {   /* idle: what is still on the way */
        double q = mono_s();
        while (mono_s() - q < 0.05) {
          const long m = mfx_link_poll(l, 10);
          if (m < 0) break;
          if (m > 0) q = mono_s();
        }
        break;
      }
    }
    if (tn - last_byte > 5.0) { fprintf(stderr, "\nminflux acquire: no bytes from the board for 5 s\n"); h->active = 0; return 3; }
    if (io->tty && tn - last_status > 0.25) {
      fprintf(stderr, "\r  %6.2f s firmware / %6.1f s wall  %7" PRIu64 " records  localization %d stage %d  lost %" PRIu64 "   ",
              fw_elapsed(h), tn - io->t0, h->tab->records, st->loc, st->stage, h->tab->gaps);
      last_status = tn;
    }
  }
  h->active = 0;
  st->gaps = h->tab->gaps - h->gaps0;
  st->reached = st->photons >= limit;
  if (h->fw_budget > 0 && !st->reached) {
    /* records lost on the link: the firmware's own count says whether the stage had its photons */
    uint32_t v;
    if (mfx_reg_read(l, MINFLUX_REG_RUN_PHOTONS, &v)) goto link;
    if (v >= limit) {
      st->reached = 1;
      fprintf(stderr, "\nminflux acquire: localization %d stage %d: the firmware counted %u photons, the records that "
              "arrived %" PRIu64 " (%" PRIu64 " lost)\n", st->loc, st->stage, v, st->photons, st->gaps);
    }
  }
  return 0;
link:
  h->active = 0;
  fprintf(stderr, "\nminflux acquire: localization %d stage %d: %s\n", st->loc, st->stage, l->err);
  return 3;
}

/* A finished stage into its localization: times, sums, the estimate (the next centre). */
static void loc_add_stage(acq_hex_loc *L, const acq_hex_stage *st, double *cx, double *cy)
{
  if (st->records) {
    if (!L->records) L->t0_s = st->t0_s;
    L->t1_s = st->t1_s;
  }
  L->records += st->records;
  L->photons += st->photons;
  L->gaps += st->gaps;
  L->stages = st->stage + 1;
  if (!isnan(st->x_nm)) {
    L->x_nm = st->x_nm;
    L->y_nm = st->y_nm;
    *cx = st->x_nm;
    *cy = st->y_nm;
  }
}

/* The localization ends with the last stage pushed: its reason, counted, one line on stdout. */
static void loc_end(acq_hex *h, acq_hex_loc *L)
{
  const acq_hex_stage *last = &h->st[h->nst - 1];
  L->reason = L->stages == 3 && last->reached ? "finished" : "stopped";
  h->nloc++;
  printf("localization %d: (%.2f, %.2f) nm, %" PRIu64 " photons in %d stages (", L->index, L->x_nm, L->y_nm, L->photons, L->stages);
  for (int s = 0; s < L->stages; s++) printf("%s%" PRIu64, s ? "/" : "", h->st[h->nst - (size_t)L->stages + (size_t)s].photons);
  printf(" at L = ");
  for (int s = 0; s < L->stages; s++) printf("%s%g", s ? "/" : "", h->st[h->nst - (size_t)L->stages + (size_t)s].L_nm);
  printf(" nm), %s\n", L->reason);
  fflush(stdout);
}

static acq_hex_loc *new_loc(acq_hex *h, int index)
{
  if (h->nloc == h->caploc) {
    const size_t nc = h->caploc ? 2 * h->caploc : 64;
    acq_hex_loc *p = realloc(h->loc, nc * sizeof *p);
    if (!p) return NULL;
    h->loc = p;
    h->caploc = nc;
  }
  acq_hex_loc *L = &h->loc[h->nloc];
  memset(L, 0, sizeof *L);
  L->index = index;
  L->x_nm = L->y_nm = L->tx_nm = L->ty_nm = L->err_nm = NAN;
  return L;
}

static int hex_loop(acq_hex *h, mfx_link *l, const acq_bayes_io *io)
{
  const acq_config *c = h->cfg;
  for (int i = 0;; i++) {
    if (*io->interrupted || (i > 0 && fw_elapsed(h) >= io->duration_s) || *io->wdog_tripped) return 0;
    acq_hex_loc *L = new_loc(h, i);
    if (!L) { fprintf(stderr, "minflux acquire: out of memory\n"); return 1; }
    double cx = c->centre_x_nm, cy = c->centre_y_nm;
    int rc = 0;
    for (int s = 0; s < 3; s++) {
      acq_hex_pattern(c, h->regs, s, cx, cy, &h->cur);
      h->cur.loc = i;
      rc = run_stage(h, l, io);
      if (!rc) acq_hex_stage_mle(h->cfg, &h->cur);
      if (push_stage(h)) { fprintf(stderr, "minflux acquire: out of memory\n"); return 1; }
      loc_add_stage(L, &h->cur, &cx, &cy);
      if (rc || !h->cur.reached) break;
    }
    loc_end(h, L);
    if (rc) return rc;
    if (strcmp(L->reason, "finished")) {
      /* a stage that did not reach its limit: the host stopped it (duration, Ctrl-C) or the
       * firmware ended it (NCYCLES = the whole duration, a watchdog trip) */
      return 0;
    }
  }
}

int acq_hex_loop(acq_hex *h, mfx_link *l, const acq_bayes_io *io)
{
  const int rc = hex_loop(h, l, io);
  /* the budget stays with the hexagon mode (every acquisition also writes 0 when it
   * configures); a link that failed cannot take it */
  if (rc != 3 && h->fw_budget > 0 && mfx_reg_write(l, MINFLUX_REG_PHOTON_STOP, 0))
    fprintf(stderr, "minflux acquire: clearing PHOTON_STOP: %s\n", l->err);
  return rc;
}

static int cmp_d(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
  if (!n) return NAN;
  qsort(v, n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* ---- the laser calibration from the stages' counts ---- */

enum { FIT_K = 3 * ACQ_HEX_K };

typedef struct {
  int n;                       /* localizations */
  double (*bx)[FIT_K], (*by)[FIT_K], *x0, *y0;
  unsigned (*cnt)[FIT_K], (*w)[FIT_K];
  const acq_config *c;
  double b;                    /* the background of the model */
} eta_fit_t;

/* -log L of every finished localization at calibration e^lc (photons per exposure per laser
 * code at the doughnut maximum), each at its own maximum-likelihood position. */
static double eta_negll(double lc, void *vp)
{
  const eta_fit_t *p = vp;
  double ll = 0;
  for (int i = 0; i < p->n; i++) {
    double x, y;
    /* the better of a search around the localization's own result and one over the prior
     * (as stage 0): a calibration far off misplaces the later stages and the result */
    const double a = bf_mle(FIT_K, p->bx[i], p->by[i], p->cnt[i], p->w[i], exp(lc), p->c->bayes_s_nm, p->b, p->x0[i],
                            p->y0[i], 1.5 * p->c->hex_L_nm[2], 0.0, &x, &y);
    const double b = bf_mle(FIT_K, p->bx[i], p->by[i], p->cnt[i], p->w[i], exp(lc), p->c->bayes_s_nm, p->b,
                            p->c->centre_x_nm, p->c->centre_y_nm, 3 * p->c->bayes_sigma0_nm, 0.0, &x, &y);
    ll += fmax(a, b);
  }
  return -ll;
}

/* The same with the background free too: v = (log c, log b). */
static double eta_b_negll(const gsl_vector *v, void *vp)
{
  eta_fit_t q = *(const eta_fit_t *)vp;
  q.b = exp(gsl_vector_get(v, 1));
  return q.b > 0.8 ? INFINITY : eta_negll(gsl_vector_get(v, 0), &q);
}

double acq_hex_fit_eta(const acq_hex *h, int *nloc, double *eta_b, double *b_fit)
{
  const acq_config *c = h->cfg;
  const double g = c->eod_nm_per_lsb;
  eta_fit_t p = { 0, NULL, NULL, NULL, NULL, NULL, NULL, c, c->bayes_b };
  *eta_b = *b_fit = NAN;
  p.bx = calloc(h->nloc + 1, sizeof *p.bx);
  p.by = calloc(h->nloc + 1, sizeof *p.by);
  p.cnt = calloc(h->nloc + 1, sizeof *p.cnt);
  p.w = calloc(h->nloc + 1, sizeof *p.w);
  p.x0 = calloc(h->nloc + 1, sizeof *p.x0);
  p.y0 = calloc(h->nloc + 1, sizeof *p.y0);
  double fit = NAN;
  if (!p.bx || !p.by || !p.cnt || !p.w || !p.x0 || !p.y0) goto out;
  /* the three stages of each finished localization as one pattern of 21 positions, the
   * exposures weighted with the stage's laser code (expected count m amp c g) */
  for (size_t i = 0, k = 0; i < h->nloc; i++) {
    const acq_hex_loc *L = &h->loc[i];
    const size_t k0 = k;
    while (k < h->nst && h->st[k].loc == L->index) k++;
    if (strcmp(L->reason, "finished") || k - k0 != 3) continue;
    int ok = 1;
    for (size_t s = 0; s < 3; s++) {
      const acq_hex_stage *st = &h->st[k0 + s];
      for (int q = 0; q < ACQ_HEX_K; q++) {
        const int j = (int)s * ACQ_HEX_K + q;
        const double wq = (double)st->m[q] * st->amp;
        if (st->n[q] > 0xFFFFFFFFu || wq > 4294967295.0) ok = 0;
        p.bx[p.n][j] = st->bx[q] * g;
        p.by[p.n][j] = st->by[q] * g;
        p.cnt[p.n][j] = (unsigned)st->n[q];
        p.w[p.n][j] = (unsigned)wq;
      }
    }
    if (!ok) continue;
    p.x0[p.n] = L->x_nm;
    p.y0[p.n] = L->y_nm;
    p.n++;
  }
  if (p.n) {
    /* log c over a factor 10 either side of the calibration used, then Brent */
    enum { NS = 41 };
    double lv[NS], fv[NS], lc, f;
    const double l0 = log(c->bayes_eta_per_code);
    for (int j = 0; j < NS; j++) lv[j] = l0 + log(10.0) * (2.0 * j / (NS - 1) - 1.0);
    bf_min_scan(eta_negll, &p, lv, fv, NS, 1e-4, &lc, &f);
    fit = exp(lc);
    /* both free: GSL nmsimplex2 from there, steps of 10 % in c and 30 % in b */
    gsl_multimin_function fn = { eta_b_negll, 2, &p };
    gsl_multimin_fminimizer *mm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 2);
    gsl_vector *v = gsl_vector_alloc(2), *st = gsl_vector_alloc(2);
    if (mm && v && st) {
      gsl_vector_set(v, 0, lc);
      gsl_vector_set(v, 1, log(c->bayes_b));
      gsl_vector_set(st, 0, 0.1);
      gsl_vector_set(st, 1, 0.3);
      gsl_multimin_fminimizer_set(mm, &fn, v, st);
      int it = 0;
      for (; it < 200; it++)
        if (gsl_multimin_fminimizer_iterate(mm) || gsl_multimin_test_size(gsl_multimin_fminimizer_size(mm), 1e-3) == GSL_SUCCESS)
          break;
      if (it < 200 && isfinite(mm->fval)) {
        *eta_b = exp(gsl_vector_get(mm->x, 0));
        *b_fit = exp(gsl_vector_get(mm->x, 1));
      }
    }
    gsl_vector_free(v);
    gsl_vector_free(st);
    if (mm) gsl_multimin_fminimizer_free(mm);
  }
out:
  *nloc = p.n;
  free(p.bx);
  free(p.by);
  free(p.cnt);
  free(p.w);
  free(p.x0);
  free(p.y0);
  return fit;
}

int acq_hex_finish(acq_hex *h, const char *dir, const char *truth_csv, json_t *sum, char *err, size_t errlen)
{
  const double g = h->cfg->eod_nm_per_lsb;
  char path[4200];
  int rc = 0;
  te_table tt;
  int tc[3];
  const int have_truth = te_truth_open(truth_csv, &tt, tc);
  for (size_t i = 0; have_truth && i < h->nloc; i++) {
    acq_hex_loc *L = &h->loc[i];
    if (L->records) te_truth_error(&tt, tc, L->t0_s, L->t1_s, L->x_nm, L->y_nm, &L->tx_nm, &L->ty_nm, &L->err_nm);
  }
  if (have_truth) te_free(&tt);

  snprintf(path, sizeof path, "%s/hex_stages.csv", dir);
  FILE *f = fopen(path, "w");
  if (!f) { snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno)); return -1; }
  fprintf(f, "loc,stage,L_nm,centre_x_nm,centre_y_nm,amp,eta,t0_s,t1_s,records,photons,gaps,x_nm,y_nm,reached,n0,n1,n2,n3,n4,n5,n6\n");
  for (size_t i = 0; i < h->nst; i++) {
    const acq_hex_stage *s = &h->st[i];
    fprintf(f, "%d,%d,%g,%.1f,%.1f,%u,%.6g,%.9f,%.9f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%.4f,%d", s->loc, s->stage, s->L_nm,
            s->cx * g, s->cy * g, s->amp, s->eta, s->t0_s, s->t1_s, s->records, s->photons, s->gaps, s->x_nm, s->y_nm, s->reached);
    for (int k = 0; k < ACQ_HEX_K; k++) fprintf(f, ",%" PRIu64, s->n[k]);
    fputc('\n', f);
  }
  if (ferror(f) | fclose(f)) { snprintf(err, errlen, "writing %s failed", path); rc = -1; }

  snprintf(path, sizeof path, "%s/localizations.csv", dir);
  f = fopen(path, "w");
  if (!f) { snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno)); return -1; }
  fprintf(f, "loc,t_s,x_nm,y_nm,photons,records,stages,reason,gaps%s\n", have_truth ? ",truth_x_nm,truth_y_nm,error_nm" : "");
  double *ph = calloc(h->nloc + 1, sizeof *ph), *er = calloc(h->nloc + 1, sizeof *er);
  if (!ph || !er) { free(ph); free(er); fclose(f); snprintf(err, errlen, "out of memory"); return -1; }
  size_t fin = 0, ner = 0;
  for (size_t i = 0; i < h->nloc; i++) {
    const acq_hex_loc *L = &h->loc[i];
    fprintf(f, "%d,%.9f,%.4f,%.4f,%" PRIu64 ",%" PRIu64 ",%d,%s,%" PRIu64, L->index, L->t1_s, L->x_nm, L->y_nm, L->photons,
            L->records, L->stages, L->reason, L->gaps);
    if (have_truth) fprintf(f, ",%.3f,%.3f,%.4f", L->tx_nm, L->ty_nm, L->err_nm);
    fputc('\n', f);
    if (strcmp(L->reason, "finished")) continue;
    ph[fin++] = (double)L->photons;
    if (isfinite(L->err_nm)) er[ner++] = L->err_nm;
  }
  if (ferror(f) | fclose(f)) { snprintf(err, errlen, "writing %s failed", path); rc = -1; }
  const double med_ph = median(ph, fin), med_er = median(er, ner);
  free(ph);
  free(er);
  json_object_set_new(sum, "localizations", json_integer((json_int_t)h->nloc));
  json_object_set_new(sum, "localizations_finished", json_integer((json_int_t)fin));
  json_object_set_new(sum, "median_photons", jnum(med_ph));
  json_object_set_new(sum, "median_error_nm", have_truth ? jnum(med_er) : json_null());
  json_t *j = json_object(), *jl = json_array(), *jp = json_array(), *jm = json_array();
  for (int s = 0; s < 3; s++) {
    json_array_append_new(jl, json_real(h->cfg->hex_L_nm[s]));
    json_array_append_new(jp, json_integer(h->cfg->hex_photons[s]));
    double *v = calloc(h->nst + 1, sizeof *v);
    size_t nv = 0;
    for (size_t i = 0; v && i < h->nst; i++)
      if (h->st[i].stage == s && h->st[i].reached) v[nv++] = (double)h->st[i].photons;
    json_array_append_new(jm, jnum(v ? median(v, nv) : NAN));
    free(v);
  }
  json_object_set_new(j, "stage_L_nm", jl);
  json_object_set_new(j, "stage_photons", jp);
  json_object_set_new(j, "median_photons_by_stage", jm);
  json_object_set_new(j, "stages_run", json_integer((json_int_t)h->nst));
  int nfit = 0;
  double cfit_b, bfit;
  const double cfit = acq_hex_fit_eta(h, &nfit, &cfit_b, &bfit);
  json_object_set_new(j, "eta_per_code_fit", jnum(cfit));
  json_object_set_new(j, "eta_per_code_fit_with_b", jnum(cfit_b));
  json_object_set_new(j, "b_fit", jnum(bfit));
  json_object_set_new(j, "eta_per_code_fit_localizations", json_integer(nfit));
  json_object_set_new(j, "eta_per_code_used", json_real(h->cfg->bayes_eta_per_code));
  json_object_set_new(sum, "hex", j);
  printf("hexagon: %zu localizations, %zu finished (3 stages to their photon limits)", h->nloc, fin);
  if (fin) printf(", median %.0f photons", med_ph);
  if (have_truth && ner) printf(", median error %.2f nm against the truth", med_er);
  printf("\n");
  if (nfit)
    printf("hexagon: the counts of the %d finished localizations fit bayes_eta_per_code = %.5g (%+.1f %% of the %.5g used; "
           "model bayes_s_nm = %g, bayes_b = %g)\n", nfit, cfit, 100.0 * (cfit / h->cfg->bayes_eta_per_code - 1.0),
           h->cfg->bayes_eta_per_code, h->cfg->bayes_s_nm, h->cfg->bayes_b);
  if (nfit && isfinite(bfit))
    printf("hexagon: fitting the background too: bayes_eta_per_code = %.5g, bayes_b = %.4g (bayes_s_nm = %g)\n", cfit_b, bfit,
           h->cfg->bayes_s_nm);
  return rc;
}

void acq_hex_free(acq_hex *h)
{
  free(h->st);
  free(h->loc);
  memset(h, 0, sizeof *h);
}

/* ---- minflux decode of a hexagon raw file ---- */

typedef struct {
  acq_hex *h;
  mfx_decode_params p;
  acq_hex_loc *L;              /* the localization being rebuilt (NULL: none yet) */
  double cx, cy;               /* the next stage's centre, nm */
  int next_stage, started, failed;
  uint16_t prev_seq;
  uint32_t prev_ts, period;    /* clocks per record within the stage (0: not seen yet) */
  uint64_t moved, after_end;   /* stages whose centre is not the one predicted; stages after a stopped one */
  uint64_t inferred;           /* stages short of their limit in the records (some lost) that a next stage follows */
} hex_dec;

static void dec_start_stage(hex_dec *x, const mfx_cycle *c)
{
  acq_hex *h = x->h;
  const acq_config *cf = h->cfg;
  if (!x->L) {
    if (h->nloc && strcmp(h->loc[h->nloc - 1].reason, "finished")) x->after_end++;
    x->L = new_loc(h, (int)h->nloc);
    if (!x->L) { x->failed = 1; return; }
    x->next_stage = 0;
    x->cx = cf->centre_x_nm;
    x->cy = cf->centre_y_nm;
  }
  acq_hex_pattern(cf, h->regs, x->next_stage, x->cx, x->cy, &h->cur);
  if (h->cur.cx != c->cx || h->cur.cy != c->cy) {   /* not where acquire would have put it: the record's centre holds */
    x->moved++;
    acq_hex_pattern(cf, h->regs, x->next_stage, c->cx * cf->eod_nm_per_lsb, c->cy * cf->eod_nm_per_lsb, &h->cur);
  }
  h->cur.loc = x->L->index;
  h->gaps0 = h->tab->gaps;
  h->active = 1;
  x->period = (uint32_t)x->p.period_cycles;   /* the header's cycle timing; else learnt from the stage's records */
}

/* The stage as acquire ended it: its limit reached or not, its estimate, into its localization.
 * more: another stage follows in the file. acquire goes on only after a stage that reached its
 * limit, deciding by the firmware's RUN_PHOTONS when records were lost; the file does not hold
 * that count, so a stage short of its limit with records lost that another one follows was
 * reached (for the file's last stage the records decide). */
static void dec_end_stage(hex_dec *x, int more)
{
  acq_hex *h = x->h;
  acq_hex_stage *st = &h->cur;
  if (!h->active || !x->L) return;
  h->active = 0;
  st->gaps = h->tab->gaps - h->gaps0;
  st->reached = st->photons >= (uint64_t)h->cfg->hex_photons[st->stage];
  if (!st->reached && more && st->gaps) {
    st->reached = 1;
    x->inferred++;
  }
  acq_hex_stage_mle(h->cfg, st);
  if (push_stage(h)) { x->failed = 1; return; }
  loc_add_stage(x->L, st, &x->cx, &x->cy);
  x->next_stage = st->stage + 1;
  if (st->stage == 2 || !st->reached) {
    loc_end(h, x->L);
    x->L = NULL;
  }
}

static void dec_hex_frame(void *ctx, const mfx_frame *f)
{
  hex_dec *x = ctx;
  mfx_cycle c;
  if (f->type != MINFLUX_PROTO_T_CYCLE || mfx_cycle_parse(f, &c) || x->failed) return;
  if (c.k == ACQ_HEX_K) {
    /* a stage ends where the sequencer was restarted: the centre moved, or the start of
     * this record is later than its sequence number allows at the stage's record period */
    const uint16_t ds = (uint16_t)(c.seq - x->prev_seq);
    const uint32_t dt = c.ts - x->prev_ts;
    int boundary = !x->started || !x->h->active || c.cx != x->h->cur.cx || c.cy != x->h->cur.cy;
    if (!boundary && x->period && (uint64_t)dt > (uint64_t)ds * x->period + x->period / 2) boundary = 1;
    if (!boundary && ds == 1 && (!x->period || dt < x->period)) x->period = dt;
    if (boundary) {
      dec_end_stage(x, 1);
      if (!x->failed) dec_start_stage(x, &c);
    }
    x->started = 1;
    x->prev_seq = c.seq;
    x->prev_ts = c.ts;
  }
  acq_hex_on_cycle(x->h, &c);
}

int acq_hex_decode_raw(FILE *f, const char *hdr_json, const char *dir, const char *truth_csv, char *err, size_t errlen)
{
  static acq_config c;
  static acq_regs r;
  double clk;
  hex_dec x;
  memset(&x, 0, sizeof x);
  json_t *root = acq_header_config(hdr_json, &c, &r, &clk, err, errlen);
  if (!root) return -1;
  json_decref(root);
  int rc;
  if (mfx_raw_params(hdr_json, &x.p, err, errlen)) return -1;
  mfx_tables tab;
  if (mfx_tables_open(&tab, dir, &x.p, err, errlen)) return -1;
  acq_hex h;
  acq_hex_init(&h, &c, &r, clk, &tab);
  x.h = &h;
  mfx_decoder d;
  mfx_dec_init(&d);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mfx_dec_feed(&d, buf, n, dec_hex_frame, &x);
  dec_end_stage(&x, 0);
  if (x.L && !x.failed) loc_end(&h, x.L);
  const int rd_err = ferror(f);
  const uint64_t records = tab.records, gaps = tab.gaps;
  rc = mfx_tables_close(&tab, err, errlen) ? -1 : 0;
  json_t *sum = json_object();
  if (!rc && acq_hex_finish(&h, dir, truth_csv, sum, err, errlen)) rc = -1;
  json_decref(sum);
  if (!rc && (rd_err || x.failed)) {
    snprintf(err, errlen, rd_err ? "reading the raw file failed (the tables hold what was read)" : "out of memory");
    rc = -1;
  }
  printf("%" PRIu64 " records, %" PRIu64 " gaps, %" PRIu64 " CRC errors, %" PRIu64 " bytes skipped -> %s/{cycles.csv,tracks.csv,"
         "hex_stages.csv,localizations.csv}\n", records, gaps, d.crc_errors, d.skipped_bytes, dir);
  if (x.moved)
    fprintf(stderr, "minflux decode: warning: %" PRIu64 " stages are not centred where this configuration puts them "
            "(the file's centres are used)\n", x.moved);
  if (x.inferred)
    fprintf(stderr, "minflux decode: %" PRIu64 " stages have fewer photons in the records that arrived than their limit (records "
            "lost) and the next stage follows them: counted as reached, as acquire did from the firmware's count\n", x.inferred);
  if (x.after_end)
    fprintf(stderr, "minflux decode: warning: %" PRIu64 " localizations follow one that stopped (acquire ends at such a one)\n",
            x.after_end);
  if (d.n) fprintf(stderr, "minflux decode: the file ends inside a frame (%zu bytes; acquisition cut short?)\n", d.n);
  acq_hex_free(&h);
  return rc;
}
