/* analyze: see analyze.h and docs/analysis.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "analyze.h"
#include "est_float.h"
#include "mle2d.h"
#include "numlms.h"
#include "protocol.h"
#include "track_error.h"

#define AN_STATE_TRACK 3   /* controller state of MINFLUX tracking (issue #5: CTL_TRACK) */

void an_default_opts(an_opts *o)
{
  memset(o, 0, sizeof *o);
  o->estimator = -1;
  o->pipeline = AN_PIPE_AUTO;
  o->sbr = 0;
  o->split_off_s = 0.1;
  o->n0_ratio_max = 0.23;
  o->min_counts = 3;
  o->min_locs = 100;   /* section 6.4.7: D from fewer than 100 localizations discarded */
  o->min_photons = 50;
  o->jump_nm = 0;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double an_median(double *v, size_t n)
{
  if (!n) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The pattern of `minflux acquire`: exposure 0 at the centre, the others on a circle of
 * diameter L at angles i 2 pi / (k - 1) (S24 for k = 4). */
static void pattern(const an_header *h, mf_ebp_t *e)
{
  memset(e, 0, sizeof *e);
  e->K = h->k;
  e->fwhm = h->fwhm_nm;
  for (int i = 1; i < h->k; i++) {
    const double a = i * 2 * M_PI / (h->k - 1);
    e->bx[i] = h->L_nm / 2 * cos(a);
    e->by[i] = h->L_nm / 2 * sin(a);
  }
}

/* ---- refinement of one count set ---- */

typedef struct {
  int est;
  const an_header *h;
  numlms_table *tab;
  mle2d_ctx mle;
  int have_mle;
  double sbr;
  double build_s;
} refiner;

/* Position relative to the centre; returns 1 (in region), 0 (outside), -1 (no estimate). */
static int refine(refiner *r, const double *n, int k, const an_rec *rec, double sbr, double *x, double *y)
{
  if (r->est == AN_EST_MLMS) {
    if (!rec) return -1;
    *x = rec->ex_nm;
    *y = rec->ey_nm;
    return 1;
  }
  if (r->est == AN_EST_NUMLMS) {
    if (k != 4) return -1;
    const double t0 = mono_s();
    const int v = numlms_table_eval(r->tab, n, sbr, x, y);
    r->build_s += mono_s() - t0;   /* dominated by entries built on first use */
    return v == -2 ? -2 : v;
  }
  return mle2d_eval(&r->mle, n, x, y, NULL);
}

static int refiner_init(refiner *r, int est, const an_header *h, double sbr, int per_event_sbr,
                        char *err, size_t errlen)
{
  memset(r, 0, sizeof *r);
  r->est = est;
  r->h = h;
  r->sbr = sbr;
  if (est == AN_EST_NUMLMS) {
    if (h->k != 4) {
      snprintf(err, errlen, "numLMS needs the 4-exposure pattern of S24; this run has k = %d (use --estimator mle)", h->k);
      return -1;
    }
    /* one SBR for all tracks: the table's SBR axis has that one node; per-event SBRs
     * (imaging) use the default SBR nodes and interpolate */
    const double s1 = sbr > 0 && isfinite(sbr) ? sbr : INFINITY;
    r->tab = per_event_sbr ? numlms_table_new(h->L_nm, h->fwhm_nm, NULL, 0, NULL, 0, NULL)
                           : numlms_table_new(h->L_nm, h->fwhm_nm, NULL, 0, &s1, 1, NULL);
    if (!r->tab) { snprintf(err, errlen, "out of memory"); return -1; }
  } else if (est == AN_EST_MLE && !per_event_sbr) {
    mf_ebp_t e;
    pattern(h, &e);
    if (mle2d_init(&r->mle, &e, sbr, 240, err, errlen)) return -1;
    r->have_mle = 1;
  }
  return 0;
}

static void refiner_free(refiner *r)
{
  numlms_table_free(r->tab);
  if (r->have_mle) mle2d_free(&r->mle);
}

static void count_cb(void *ctx, const numlms_entry *e) { (void)e; ++*(int *)ctx; }

/* ---- growth helpers ---- */

static int push_loc(an_result *r, size_t *cap, const an_loc *l)
{
  if (r->nloc == *cap) {
    const size_t c = *cap ? *cap * 2 : 4096;
    an_loc *n = realloc(r->loc, c * sizeof *n);
    if (!n) return -1;
    r->loc = n;
    *cap = c;
  }
  r->loc[r->nloc++] = *l;
  return 0;
}

static an_track *push_trk(an_result *r, size_t *cap)
{
  if (r->ntrk == *cap) {
    const size_t c = *cap ? *cap * 2 : 64;
    an_track *n = realloc(r->trk, c * sizeof *n);
    if (!n) return NULL;
    r->trk = n;
    *cap = c;
  }
  an_track *t = &r->trk[r->ntrk++];
  memset(t, 0, sizeof *t);
  t->tid = (uint32_t)r->ntrk;
  t->err_nm = t->D_um2_s = t->sigma_nm = NAN;
  return t;
}

static void fill_counts(const an_rec *rec, double *n, uint32_t *N, uint32_t *n0)
{
  *N = 0;
  for (int i = 0; i < rec->k; i++) { n[i] = rec->n[i]; *N += rec->n[i]; }
  *n0 = rec->n[0];
}

/* ---- tracking ---- */

static int run_tracks(const an_raw *raw, const an_opts *o, const uint32_t *obs, const int64_t *idx,
                      uint8_t *path, size_t T, an_result *res, char *err, size_t errlen)
{
  const an_header *h = &raw->h;
  if (hmm2_segment(obs, T, res->dt_s, path, &res->h2)) { snprintf(err, errlen, "HMM failed"); return -1; }
  const size_t tot = res->h2.cycles_on + res->h2.cycles_off;
  res->fraction_on = tot ? (double)res->h2.cycles_on / tot : NAN;
  double sbr = o->sbr > 0 ? o->sbr : res->h2.sbr[2];
  if (!(sbr > 0)) {
    snprintf(res->note, sizeof res->note, "the HMM found no on/off contrast (SBR %g): refined without background", sbr);
    sbr = INFINITY;
  }
  res->sbr = sbr;
  const int est = o->estimator >= 0 ? o->estimator : AN_EST_NUMLMS;
  res->estimator = est;
  refiner rf;
  if (refiner_init(&rf, est, h, sbr, 0, err, errlen)) return -1;
  const double jump = o->jump_nm > 0 ? o->jump_nm : 2 * h->L_nm;
  const double split = o->split_off_s / res->dt_s;
  size_t lcap = 0, tcap = 0;
  an_track *cur = NULL;
  int64_t last_on = -1;
  const an_rec *prev = NULL;
  double photons = 0;
  size_t nphot = 0;
  int rc = 0;
  for (size_t t = 0; t < T && rc == 0; t++) {
    if (idx[t] < 0 || path[t] != 1) continue;
    const an_rec *rec = &raw->rec[idx[t]];
    if (cur && ((double)((int64_t)t - last_on) > split ||
                hypot(rec->cx_nm - prev->cx_nm, rec->cy_nm - prev->cy_nm) > jump ||
                (rec->flags >> 4) != (prev->flags >> 4)))
      cur = NULL;
    if (!cur) {
      if (!(cur = push_trk(res, &tcap))) { rc = -1; break; }
      cur->first = res->nloc;
      cur->t0_s = rec->t_s;
    }
    cur->cycles_on++;
    cur->t1_s = rec->t_s;
    last_on = (int64_t)t;
    prev = rec;
    double n[8];
    uint32_t N, n0;
    fill_counts(rec, n, &N, &n0);
    if ((int)N < o->min_counts) continue;   /* section 6.4.4.2: fewer than 3 counts discarded */
    an_loc l;
    memset(&l, 0, sizeof l);
    l.tid = cur->tid;
    l.rec = (size_t)idx[t];
    l.t_s = rec->t_s;
    l.cx_nm = rec->cx_nm; l.cy_nm = rec->cy_nm;
    l.lx_nm = rec->cx_nm + rec->ex_nm; l.ly_nm = rec->cy_nm + rec->ey_nm;
    l.n = N; l.n0 = n0; l.ch0 = rec->ch[0]; l.ch1 = rec->ch[1]; l.cycles = 1;
    l.sbr = sbr;
    double x, y;
    const int v = refine(&rf, n, rec->k, rec, sbr, &x, &y);
    if (v == -2) {
      snprintf(err, errlen, "%s", numlms_table_error(rf.tab));
      rc = -1;
      break;
    }
    if (v < 0) continue;
    l.x_nm = rec->cx_nm + x;
    l.y_nm = rec->cy_nm + y;
    l.valid = v == 1;
    l.used = 1;
    res->outside += v == 0;
    if (push_loc(res, &lcap, &l)) { rc = -1; break; }
    cur->count++;
    photons += N;
    nphot++;
  }
  if (rc) { if (!err[0]) snprintf(err, errlen, "out of memory"); refiner_free(&rf); return -1; }
  res->photons_per_loc = nphot ? photons / nphot : NAN;
  res->numlms_build_s = rf.build_s;
  /* the truth of each localization: S82 over the cycles of its record (host/track_error.c) */
  if (raw->have_truth && res->nloc) {
    double *tl = malloc(res->nloc * sizeof *tl), *mx = malloc(res->nloc * sizeof *mx), *my = malloc(res->nloc * sizeof *my);
    int *on = malloc(res->nloc * sizeof *on);
    if (tl && mx && my && on) {
      for (size_t i = 0; i < res->nloc; i++) tl[i] = res->loc[i].t_s;
      te_match_truth(&raw->truth, tl, res->nloc, res->dt_s, mx, my, on);
      for (size_t i = 0; i < res->nloc; i++)
        if (on[i] && isfinite(mx[i])) { an_loc *l = &res->loc[i]; l->has_truth = 1; l->tx_nm = mx[i]; l->ty_nm = my[i]; }
    }
    free(tl); free(mx); free(my); free(on);
  }
  if (rf.tab) numlms_table_each(rf.tab, count_cb, &res->numlms_entries);
  refiner_free(&rf);

  /* statistics per track */
  double *Ds = malloc((res->ntrk + 1) * sizeof *Ds), *Ss = malloc((res->ntrk + 1) * sizeof *Ss),
         *Es = malloc((res->ntrk + 1) * sizeof *Es);
  size_t nD = 0, nS = 0, nE = 0;
  for (size_t k = 0; k < res->ntrk; k++) {
    an_track *tr = &res->trk[k];
    const an_loc *L0 = res->loc + tr->first;
    tr->duration_s = tr->t1_s - tr->t0_s + res->dt_s;
    double r0 = 0;
    for (size_t i = 0; i < tr->count; i++) r0 += (double)L0[i].n0 / L0[i].n;
    tr->n0_ratio = tr->count ? r0 / tr->count : NAN;
    if (tr->count) {
      const uint64_t s0 = raw->rec[L0[0].rec].seq, s1 = raw->rec[L0[tr->count - 1].rec].seq;
      tr->cycles = (size_t)(s1 - s0 + 1);
    }
    if ((int)tr->count < o->min_locs) { tr->why = "too few localizations"; continue; }
    if (!(tr->n0_ratio < o->n0_ratio_max)) { tr->why = "<n0/N> too high (background)"; continue; }
    tr->accepted = 1;
    res->accepted++;
    /* the track on its cycle timeline: q_i = 1 where a localization is used (S69) */
    const size_t S = tr->cycles;
    double *x = calloc(S, sizeof *x), *y = calloc(S, sizeof *y);
    uint8_t *q = calloc(S, 1);
    double *ex = malloc(tr->count * sizeof *ex), *ey = malloc(tr->count * sizeof *ey),
           *etx = malloc(tr->count * sizeof *etx), *ety = malloc(tr->count * sizeof *ety);
    if (!x || !y || !q || !ex || !ey || !etx || !ety) {
      free(x); free(y); free(q); free(ex); free(ey); free(etx); free(ety);
      continue;
    }
    const uint64_t s0 = raw->rec[L0[0].rec].seq;
    size_t m = 0;
    for (size_t i = 0; i < tr->count; i++) {
      if (!L0[i].used) continue;
      const size_t j = (size_t)(raw->rec[L0[i].rec].seq - s0);
      x[j] = L0[i].x_nm; y[j] = L0[i].y_nm; q[j] = 1;
      if (L0[i].has_truth) { ex[m] = L0[i].x_nm; ey[m] = L0[i].y_nm; etx[m] = L0[i].tx_nm; ety[m] = L0[i].ty_nm; m++; }
    }
    if (olsf_estimate(x, y, q, S, res->dt_s, res->R_blur, &tr->olsf) == 0) {
      tr->D_um2_s = tr->olsf.D * 1e-6;
      tr->sigma_nm = tr->olsf.sigma;
      if (isfinite(tr->D_um2_s)) Ds[nD++] = tr->D_um2_s;
      if (isfinite(tr->sigma_nm)) Ss[nS++] = tr->sigma_nm;
    }
    if (m) {
      tr->err_nm = te_epsilon(ex, ey, etx, ety, m, 2);   /* S81, d = 2 */
      tr->err_n = m;
      Es[nE++] = tr->err_nm;
    }
    free(x); free(y); free(q); free(ex); free(ey); free(etx); free(ety);
  }
  res->D_um2_s = an_median(Ds, nD);
  res->sigma_nm = an_median(Ss, nS);
  res->err_nm = an_median(Es, nE);
  free(Ds); free(Ss); free(Es);
  return 0;
}

/* ---- imaging ---- */

static int run_image(const an_raw *raw, const an_opts *o, const uint32_t *obs, const int64_t *idx,
                     uint8_t *path, size_t T, an_result *res, char *err, size_t errlen)
{
  const an_header *h = &raw->h;
  if (hmm3_segment(obs, T, res->dt_s, path, &res->h3)) { snprintf(err, errlen, "HMM failed"); return -1; }
  const size_t tot = res->h3.occupancy[0] + res->h3.occupancy[1] + res->h3.occupancy[2];
  res->fraction_on = tot ? (double)(res->h3.occupancy[1] + res->h3.occupancy[2]) / tot : NAN;
  const double lbg = res->h3.lambda_bg;
  const int est = o->estimator >= 0 ? o->estimator : AN_EST_MLE;
  res->estimator = est;
  if (est == AN_EST_MLMS) { snprintf(err, errlen, "imaging events are localized by mle or numlms, not the live mlms"); return -1; }
  refiner rf;
  if (refiner_init(&rf, est, h, 0, 1, err, errlen)) return -1;
  mf_ebp_t eb;
  pattern(h, &eb);
  size_t lcap = 0, tcap = 0;
  double *sbrs = NULL;
  size_t nsbr = 0;
  double photons = 0;
  int rc = 0;
  for (size_t t = 0; t < T && rc == 0;) {
    if (path[t] != 1) { t++; continue; }
    size_t b = t;
    while (b < T && path[b] == 1) b++;
    /* [t, b) is a single-emitter run: the cycles next to a transition are dropped */
    size_t a = t + (t > 0), e = b - (b < T);
    while (a < e) {
      double n[8] = { 0 };
      uint32_t N = 0, ch0 = 0, ch1 = 0, Q = 0;
      size_t first = SIZE_MAX, last = 0, j = a;
      for (; j < e; j++) {
        if (idx[j] < 0) continue;
        const an_rec *rec = &raw->rec[idx[j]];
        if (rec->k != h->k) continue;
        if (first != SIZE_MAX && (rec->cx_nm != raw->rec[idx[first]].cx_nm || rec->cy_nm != raw->rec[idx[first]].cy_nm))
          break;   /* the pattern moved: a new event */
        if (first == SIZE_MAX) first = j;
        last = j;
        for (int i = 0; i < rec->k; i++) { n[i] += rec->n[i]; N += rec->n[i]; }
        ch0 += rec->ch[0]; ch1 += rec->ch[1];
        Q++;
      }
      a = j;
      if (!Q || N < o->min_photons) continue;
      const an_rec *r0 = &raw->rec[idx[first]];
      /* S76: SBR = N / (lambda_bg Q) - 1 */
      double sbr = lbg > 0 ? N / (lbg * Q) - 1 : INFINITY;
      if (o->sbr > 0) sbr = o->sbr;
      if (!(sbr > 0)) sbr = 0.1;
      double x, y;
      int v;
      if (est == AN_EST_MLE) {
        mle2d_ctx m;
        if (mle2d_init(&m, &eb, sbr, 240, err, errlen)) { rc = -1; break; }
        v = mle2d_eval(&m, n, &x, &y, NULL);
        mle2d_free(&m);
      } else {
        v = refine(&rf, n, h->k, NULL, sbr, &x, &y);
        if (v == -2) { snprintf(err, errlen, "%s", numlms_table_error(rf.tab)); rc = -1; break; }
      }
      if (v < 0) continue;
      an_track *tr = push_trk(res, &tcap);
      if (!tr) { rc = -1; break; }
      an_loc l;
      memset(&l, 0, sizeof l);
      l.tid = tr->tid;
      l.rec = (size_t)idx[first];
      l.t_s = r0->t_s;
      l.cx_nm = r0->cx_nm; l.cy_nm = r0->cy_nm;
      l.x_nm = r0->cx_nm + x; l.y_nm = r0->cy_nm + y;
      l.lx_nm = NAN; l.ly_nm = NAN;
      l.n = N; l.n0 = (uint32_t)n[0]; l.ch0 = ch0; l.ch1 = ch1; l.cycles = Q;
      l.sbr = sbr;
      l.valid = v == 1;
      l.used = 1;
      res->outside += v == 0;
      tr->first = res->nloc;
      tr->count = 1;
      tr->t0_s = r0->t_s;
      tr->t1_s = raw->rec[idx[last]].t_s;
      tr->duration_s = tr->t1_s - tr->t0_s + res->dt_s;
      tr->cycles = last - first + 1;
      tr->cycles_on = Q;
      tr->n0_ratio = n[0] / N;
      tr->accepted = 1;
      res->accepted++;
      if (push_loc(res, &lcap, &l)) { rc = -1; break; }
      double *ns = realloc(sbrs, (nsbr + 1) * sizeof *ns);
      if (!ns) { rc = -1; break; }
      sbrs = ns;
      sbrs[nsbr++] = sbr;
      photons += N;
    }
    t = b;
  }
  if (rf.tab) numlms_table_each(rf.tab, count_cb, &res->numlms_entries);
  res->numlms_build_s = rf.build_s;
  refiner_free(&rf);
  res->photons_per_loc = res->nloc ? photons / res->nloc : NAN;
  res->sbr = an_median(sbrs, nsbr);
  free(sbrs);
  res->D_um2_s = res->sigma_nm = res->err_nm = NAN;
  if (rc && !err[0]) snprintf(err, errlen, "out of memory");
  return rc;
}

int an_run(const an_raw *raw, const an_opts *o, an_result *res, char *err, size_t errlen)
{
  memset(res, 0, sizeof *res);
  err[0] = 0;
  const an_header *h = &raw->h;
  res->pipeline = o->pipeline != AN_PIPE_AUTO ? o->pipeline : !strcmp(h->mode, "image") ? AN_PIPE_IMAGE : AN_PIPE_TRACK;
  res->dt_s = an_record_period_s(h);
  res->R_blur = h->gate_cycles ? olsf_blur_R(h->k, h->delay_cycles, h->gate_cycles, h->win_cycles, (int)h->agg) : 1.0 / 6;
  res->D_um2_s = res->sigma_nm = res->err_nm = res->sbr = NAN;
  if (!raw->n) { snprintf(err, errlen, "no CYCLE record could be decoded: nothing to analyse"); return -1; }
  const uint64_t s0 = raw->rec[0].seq, s1 = raw->rec[raw->n - 1].seq;
  const size_t T = (size_t)(s1 - s0 + 1);
  res->timeline = T;
  uint32_t *obs = malloc(T * sizeof *obs);
  int64_t *idx = malloc(T * sizeof *idx);
  uint8_t *path = malloc(T);
  if (!obs || !idx || !path) { free(obs); free(idx); free(path); snprintf(err, errlen, "out of memory (%zu cycles)", T); return -1; }
  for (size_t t = 0; t < T; t++) { obs[t] = HMM_MISSING; idx[t] = -1; }
  /* which controller states are MINFLUX tracking records: records of the others (raster
   * search, Gaussian pre-localization) are not quartets of the doughnut pattern and count
   * as not observed */
  unsigned seen = 0;
  for (size_t i = 0; i < raw->n; i++) seen |= 1u << (raw->rec[i].flags >> MFX_FLAG_STATE_SHIFT);
  unsigned use = o->track_states;
  if (!use) use = (seen & (1u << AN_STATE_TRACK)) ? 1u << AN_STATE_TRACK : 0xFFFFu;
  if (res->pipeline == AN_PIPE_IMAGE) use = 0xFFFFu;
  res->track_states = use & seen;
  for (size_t i = 0; i < raw->n; i++) {
    const an_rec *r = &raw->rec[i];
    if (!(use & 1u << (r->flags >> MFX_FLAG_STATE_SHIFT))) { res->other_state++; continue; }
    uint32_t N = 0;
    for (int k = 0; k < r->k; k++) N += r->n[k];
    const size_t t = (size_t)(r->seq - s0);
    obs[t] = N;
    idx[t] = (int64_t)i;
  }
  const int rc = res->pipeline == AN_PIPE_IMAGE ? run_image(raw, o, obs, idx, path, T, res, err, errlen)
                                                : run_tracks(raw, o, obs, idx, path, T, res, err, errlen);
  free(obs);
  free(idx);
  free(path);
  return rc;
}

void an_result_free(an_result *r)
{
  free(r->loc);
  free(r->trk);
  memset(r, 0, sizeof *r);
}
