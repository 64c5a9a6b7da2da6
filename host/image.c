/* image: see image.h and docs/imaging.md. */
#include "image.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <jansson.h>
#include "mle2d.h"
#include "protocol.h"
#include "regmap.h"

const char *const img_abort_names[IMG_AB_N] = { "", "cfr", "bright", "unknown" };

static int reg_word(json_t *ctl, const char *name, uint32_t *v)
{
  json_t *j = json_object_get(ctl, name);
  if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 0xFFFFFFFFll) return -1;
  *v = (uint32_t)json_integer_value(j);
  return 0;
}

static double cfg_d(json_t *cfg, const char *key, double dflt)
{
  json_t *v = json_object_get(cfg, key);
  if (json_is_string(v)) {
    char *end;
    const double d = strtod(json_string_value(v), &end);
    if (end != json_string_value(v) && isfinite(d)) return d;
  } else if (json_is_number(v)) {
    return json_number_value(v);
  }
  return dflt;
}

int img_params_from_header(const char *header_json, img_params *p, char *err, size_t n)
{
  memset(p, 0, sizeof *p);
  json_error_t je;
  json_t *root = json_loads(header_json, 0, &je);
  if (!root) { snprintf(err, n, "raw header is not JSON: %s", je.text); return -1; }
  json_t *cfg = json_object_get(root, "config"), *regs = json_object_get(root, "registers");
  json_t *ctl = json_object_get(regs, "ctl");
  uint32_t mode = 0;
  if (!json_is_object(ctl) || reg_word(ctl, "CTL_MODE", &mode) || !(mode & 2u)) { json_decref(root); return 0; }
  int rc = 1;
  uint32_t loss = 0, iab = 0, stg[IMG_STAGES] = { 0, 0, 0 };
  static const char *const sn[IMG_STAGES] = { "CTL_ISTG0", "CTL_ISTG1", "CTL_ISTG2" };
  if (reg_word(ctl, "CTL_LOSS", &loss) || reg_word(ctl, "CTL_IABORT", &iab) || reg_word(ctl, sn[0], &stg[0]) ||
      reg_word(ctl, sn[1], &stg[1]) || reg_word(ctl, sn[2], &stg[2])) {
    snprintf(err, n, "raw header: an imaging run (CTL_MODE 0x%X) without registers.ctl CTL_LOSS, CTL_IABORT and CTL_ISTG0..2", mode);
    json_decref(root);
    return -1;
  }
  reg_word(ctl, "CTL_IACT", &p->iact);
  reg_word(ctl, "CTL_IACT_T", &p->iact_t);
  p->ctl_mode = mode;
  p->last = (int)((mode >> 2) & 3u);
  if (p->last > 2) p->last = 2;
  p->ratio = loss & 0xFFu;
  p->dark = iab & 0xFFFFu;
  p->bright = (iab >> 16) & 0xFFu;
  json_t *fw = json_object_get(root, "firmware");
  p->clk_hz = json_is_integer(json_object_get(fw, "clk_hz")) ? (double)json_integer_value(json_object_get(fw, "clk_hz")) : MINFLUX_CLK_HZ;
  p->eod_nm_per_lsb = cfg_d(cfg, "eod_nm_per_lsb", 0.1);
  p->fwhm_nm = cfg_d(cfg, "fwhm_nm", 360);
  const double L = cfg_d(cfg, "L_nm", 100);
  json_t *jk = json_object_get(regs, "k");
  p->k = json_is_integer(jk) ? (int)json_integer_value(jk) : (int)cfg_d(cfg, "k", 4);
  if (p->k < 1 || p->k > 4 || !(p->eod_nm_per_lsb > 0) || !(p->fwhm_nm > 0) || !(L > 0)) {
    snprintf(err, n, "raw header: imaging run with k = %d, eod_nm_per_lsb = %g, fwhm_nm = %g, L_nm = %g (need k 1..4, positive lengths)",
             p->k, p->eod_nm_per_lsb, p->fwhm_nm, L);
    json_decref(root);
    return -1;
  }
  /* the stage-0 pattern as written (registers.offsets, x in [15:0], y in [31:16]), else the
   * pattern acquire computes: exposure 0 at the centre, the others on the circle of L */
  int16_t ox[8] = { 0 }, oy[8] = { 0 };
  json_t *jo = json_object_get(regs, "offsets");
  for (int i = 0; i < p->k; i++) {
    json_t *w = json_array_get(jo, (size_t)i);
    if (json_is_integer(w)) {
      const uint32_t v = (uint32_t)json_integer_value(w);
      ox[i] = (int16_t)(v & 0xFFFFu);
      oy[i] = (int16_t)(v >> 16);
    } else if (i > 0) {
      const double a = i * 2 * M_PI / (p->k - 1);
      ox[i] = (int16_t)lround(L / 2 * cos(a) / p->eod_nm_per_lsb);
      oy[i] = (int16_t)lround(L / 2 * sin(a) / p->eod_nm_per_lsb);
    }
  }
  for (int s = 0; s < IMG_STAGES; s++) {
    p->limit[s] = stg[s] & 0x3FFFu;
    p->shift[s] = (int)((stg[s] >> 14) & 3u);
    p->L_nm[s] = L / (1 << p->shift[s]);
    mf_ebp_t *e = &p->ebp[s];
    e->K = p->k;
    e->fwhm = p->fwhm_nm;
    for (int i = 0; i < p->k; i++) {   /* arithmetic shift of the LSB offsets, as the firmware */
      e->bx[i] = (double)(ox[i] >> p->shift[s]) * p->eod_nm_per_lsb;
      e->by[i] = (double)(oy[i] >> p->shift[s]) * p->eod_nm_per_lsb;
    }
  }
  json_t *jd = json_object_get(regs, "delay"), *jg = json_object_get(regs, "gate"), *jw = json_object_get(regs, "win");
  if (json_is_integer(jd) && json_is_integer(jg) && json_is_integer(jw))
    p->rec_s = (p->k * (double)(json_integer_value(jd) + json_integer_value(jg)) + (double)json_integer_value(jw) + 1) / p->clk_hz;
  json_decref(root);
  return rc;
}

int img_rule(const img_params *p, int stage, uint32_t nrec, uint32_t n0, uint32_t N)
{
  /* the firmware's compare: 2^8 sum(n0) >= ratio * sum(N) (16-bit sums) */
  if (stage >= 1 && p->ratio && ((uint64_t)(n0 & 0xFFFFu) << 8) >= (uint64_t)p->ratio * (N & 0xFFFFu)) return IMG_AB_CFR;
  if (p->bright && nrec < p->bright) return IMG_AB_BRIGHT;
  return IMG_AB_NONE;
}

static int push(img_result *r, const img_loc *l)
{
  if (r->nloc == r->cap) {
    const size_t c = r->cap ? 2 * r->cap : 1024;
    img_loc *q = realloc(r->loc, c * sizeof *q);
    if (!q) return -1;
    r->loc = q;
    r->cap = c;
  }
  r->loc[r->nloc++] = *l;
  return 0;
}

static unsigned st_of(const an_rec *a) { return (a->flags >> MFX_FLAG_STATE_SHIFT) & 0xFu; }

int img_extract(const an_raw *raw, const img_params *p, int mle, double sbr, img_result *r, char *err, size_t n)
{
  memset(r, 0, sizeof *r);
  const an_rec *R = raw->rec;
  size_t first = 0;
  int cur = -1, incomplete = 0;   /* the stage being summed, -1 none */
  uint32_t sums[8] = { 0 }, N = 0, nrec = 0, ch[2] = { 0, 0 };
  for (size_t i = 0; i < raw->n; i++) {
    const an_rec *a = &R[i];
    const unsigned st = st_of(a);
    r->by_state[st]++;
    const int gap = i > 0 && a->seq != R[i - 1].seq + 1;
    if (!(st & 4u)) {   /* search, pre-localization: a stage in progress was left (dark rule) */
      if (cur >= 0 && st == MINFLUX_CTL_ST_SEARCH && !gap) r->dark_aborts[cur]++;
      cur = -1;
      continue;
    }
    const int s = (int)(st & 3u) > 2 ? 2 : (int)(st & 3u);
    if (cur != s) { cur = s; first = i; incomplete = gap;   /* records lost just before may be this stage's */
      nrec = 0; N = 0; ch[0] = ch[1] = 0; memset(sums, 0, sizeof sums); }
    else if (gap) incomplete = 1;
    nrec++;
    for (int e = 0; e < a->k && e < 8; e++) { sums[e] += a->n[e]; N += a->n[e]; }
    ch[0] += a->ch[0]; ch[1] += a->ch[1];
    if (!(st & MINFLUX_CTL_ST_LOC)) continue;
    img_loc l;
    memset(&l, 0, sizeof l);
    l.rec = i; l.first = first; l.nrec = nrec; l.t_s = a->t_s; l.stage = s; l.final = s == p->last;
    l.cx_nm = a->cx_nm; l.cy_nm = a->cy_nm; l.ex_nm = a->ex_nm; l.ey_nm = a->ey_nm;
    l.x_nm = l.cx_nm + l.ex_nm; l.y_nm = l.cy_nm + l.ey_nm;
    l.mx_nm = l.my_nm = NAN;
    l.mle = -1;
    l.N = N;
    memcpy(l.n, sums, sizeof l.n);
    l.ch[0] = ch[0]; l.ch[1] = ch[1];
    l.cfr = N ? (double)sums[0] / N : NAN;
    l.incomplete = incomplete;
    /* what the controller did: the next record (when it follows without a gap) */
    l.next_state = i + 1 < raw->n && R[i + 1].seq == a->seq + 1 ? (int)st_of(&R[i + 1]) : -1;
    const int rule = img_rule(p, s, nrec, sums[0], N);
    if (l.next_state < 0) l.abort = rule;
    else if (l.next_state == MINFLUX_CTL_ST_SEARCH) {
      l.abort = rule != IMG_AB_NONE ? rule : IMG_AB_UNKNOWN;
      if (rule == IMG_AB_NONE && !incomplete) r->rule_mismatch++;
    } else {
      l.abort = IMG_AB_NONE;
      if (rule != IMG_AB_NONE && !incomplete) r->rule_mismatch++;
    }
    r->aborted[l.abort]++;
    r->by_stage[s]++;
    if (l.final) { r->nfinal++; r->aborted_final[l.abort]++; if (l.abort == IMG_AB_NONE) r->nfinal_ok++; }
    if (push(r, &l)) { snprintf(err, n, "out of memory"); return -1; }
    cur = -1;   /* the next record starts the next stage (or the last one again) */
  }
  /* SBR per stage, assuming the emitter at the pattern centre (no signal in exposure 0):
   * background per exposure = n0, signal = N - K n0 */
  for (int s = 0; s < IMG_STAGES; s++) {
    double sN = 0, s0 = 0;
    for (size_t i = 0; i < r->nloc; i++)
      if (r->loc[i].stage == s && r->loc[i].abort == IMG_AB_NONE) { sN += r->loc[i].N; s0 += r->loc[i].n[0]; }
    r->sbr[s] = s0 > 0 ? (sN - p->k * s0) / (p->k * s0) : (sN > 0 ? INFINITY : NAN);
    if (r->sbr[s] < 0.01) r->sbr[s] = 0.01;
  }
  /* events: consecutive final localizations not aborted, no search/pre-localization record
   * between them */
  uint32_t ev = 0;
  int open = 0;
  size_t last_rec = 0;
  for (size_t i = 0; i < r->nloc; i++) {
    img_loc *l = &r->loc[i];
    if (!l->final) continue;
    if (open) {
      for (size_t j = last_rec + 1; j <= l->rec; j++)
        if (!(st_of(&R[j]) & 4u)) { open = 0; break; }
    }
    if (l->abort != IMG_AB_NONE) { open = 0; continue; }
    if (!open) { ev++; open = 1; }
    l->event = ev;
    last_rec = l->rec;
  }
  r->nevents = ev;
  if (mle) {
    mle2d_ctx m[IMG_STAGES];
    int have[IMG_STAGES] = { 0, 0, 0 };
    for (int s = 0; s <= p->last; s++) {
      const double b = sbr > 0 ? sbr : r->sbr[s];
      /* the first grid spans 2 L_s around the centre (at least 60 nm) */
      if (mle2d_init(&m[s], &p->ebp[s], isfinite(b) ? b : 0, fmax(2 * p->L_nm[s], 60), err, n)) {
        for (int q = 0; q < s; q++) if (have[q]) mle2d_free(&m[q]);
        return -1;
      }
      have[s] = 1;
    }
    for (size_t i = 0; i < r->nloc; i++) {
      img_loc *l = &r->loc[i];
      double c[8], x, y;
      for (int e = 0; e < p->k; e++) c[e] = l->n[e];
      l->mle = mle2d_eval(&m[l->stage], c, &x, &y, NULL);
      if (l->mle >= 0) { l->mx_nm = l->cx_nm + x; l->my_nm = l->cy_nm + y; }
    }
    for (int s = 0; s <= p->last; s++) if (have[s]) mle2d_free(&m[s]);
  }
  return 0;
}

void img_result_free(img_result *r)
{
  free(r->loc);
  memset(r, 0, sizeof *r);
}

/* ---- events ---- */

int img_events(const img_result *r, int use_mle, img_event **evp, size_t *nev)
{
  *evp = NULL;
  *nev = 0;
  if (!r->nevents) return 0;
  img_event *ev = calloc(r->nevents, sizeof *ev);
  if (!ev) return -1;
  for (size_t i = 0; i < r->nloc; i++) {
    const img_loc *l = &r->loc[i];
    if (!l->event || l->low_efo) continue;
    const double x = use_mle ? l->mx_nm : l->x_nm, y = use_mle ? l->my_nm : l->y_nm;
    if (!isfinite(x) || !isfinite(y)) continue;
    img_event *e = &ev[l->event - 1];
    if (!e->nloc) e->t0_s = l->t_s;
    e->t1_s = l->t_s;
    e->nloc++;
    e->x_nm += x; e->y_nm += y; e->photons += l->N;
  }
  size_t m = 0;
  for (uint32_t k = 0; k < r->nevents; k++) {
    img_event *e = &ev[k];
    e->id = k + 1;
    e->site = -1;
    e->truth = -1;
    if (!e->nloc) continue;
    e->x_nm /= e->nloc; e->y_nm /= e->nloc; e->photons /= e->nloc;
  }
  for (size_t i = 0; i < r->nloc; i++) {
    const img_loc *l = &r->loc[i];
    if (!l->event || l->low_efo) continue;
    const double x = use_mle ? l->mx_nm : l->x_nm, y = use_mle ? l->my_nm : l->y_nm;
    if (!isfinite(x) || !isfinite(y)) continue;
    img_event *e = &ev[l->event - 1];
    e->ss_nm2 += (x - e->x_nm) * (x - e->x_nm) + (y - e->y_nm) * (y - e->y_nm);
  }
  for (uint32_t k = 0; k < r->nevents; k++) if (ev[k].nloc) ev[m++] = ev[k];
  *evp = ev;
  *nev = m;
  return 0;
}

/* ---- clustering ---- */

size_t img_cluster_radius(const double *x, const double *y, const double *w, size_t n, double radius,
                          int *label, img_site *sites)
{
  if (!n) return 0;
  /* clusters as weighted centroids; a point's cluster through a union-find-like parent */
  double *cx = malloc(n * sizeof *cx), *cy = malloc(n * sizeof *cy), *cw = malloc(n * sizeof *cw);
  size_t *par = malloc(n * sizeof *par);
  unsigned char *alive = malloc(n);
  if (!cx || !cy || !cw || !par || !alive) { free(cx); free(cy); free(cw); free(par); free(alive); return 0; }
  for (size_t i = 0; i < n; i++) { cx[i] = x[i]; cy[i] = y[i]; cw[i] = w ? w[i] : 1; par[i] = i; alive[i] = 1; }
  const double r2 = radius * radius;
  for (;;) {
    double best = INFINITY;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (size_t j = i + 1; j < n; j++) {
        if (!alive[j]) continue;
        const double d = (cx[i] - cx[j]) * (cx[i] - cx[j]) + (cy[i] - cy[j]) * (cy[i] - cy[j]);
        if (d < best) { best = d; bi = i; bj = j; }
      }
    }
    if (!(best < r2)) break;
    const double W = cw[bi] + cw[bj];
    cx[bi] = (cx[bi] * cw[bi] + cx[bj] * cw[bj]) / W;
    cy[bi] = (cy[bi] * cw[bi] + cy[bj] * cw[bj]) / W;
    cw[bi] = W;
    alive[bj] = 0;
    for (size_t q = 0; q < n; q++) if (par[q] == bj) par[q] = bi;
  }
  size_t m = 0;
  size_t *id = malloc(n * sizeof *id);
  for (size_t i = 0; id && i < n; i++) {
    if (!alive[i]) continue;
    id[i] = m;
    memset(&sites[m], 0, sizeof sites[m]);
    sites[m].x_nm = cx[i]; sites[m].y_nm = cy[i];
    sites[m].tx_nm = sites[m].ty_nm = NAN;
    sites[m].truth = -1;
    m++;
  }
  for (size_t i = 0; id && i < n; i++) { label[i] = (int)id[par[i]]; sites[label[i]].events++; }
  free(id); free(cx); free(cy); free(cw); free(par); free(alive);
  return m;
}

static uint64_t xs64(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return *s; }
static double urand(uint64_t *s) { return (xs64(s) >> 11) * (1.0 / 9007199254740992.0); }

/* k-means; a restart whose centres come nearer than min_sep is not kept (0 if none is) */
static size_t kmeans_sep(const double *x, const double *y, const double *w, size_t n, size_t k, unsigned seed,
                         int restarts, double min_sep, int *label, img_site *sites);

size_t img_kmeans(const double *x, const double *y, const double *w, size_t n, size_t k, unsigned seed,
                  int restarts, int *label, img_site *sites)
{
  return kmeans_sep(x, y, w, n, k, seed, restarts, 0, label, sites);
}

static size_t kmeans_sep(const double *x, const double *y, const double *w, size_t n, size_t k, unsigned seed,
                         int restarts, double min_sep, int *label, img_site *sites)
{
  if (!n || !k) return 0;
  if (k > n) k = n;
  double *mx = malloc(k * sizeof *mx), *my = malloc(k * sizeof *my), *bx = malloc(k * sizeof *bx),
         *by = malloc(k * sizeof *by), *d2 = malloc(n * sizeof *d2), *sw = malloc(k * sizeof *sw);
  int *lab = malloc(n * sizeof *lab);
  if (!mx || !my || !bx || !by || !d2 || !sw || !lab) {
    free(mx); free(my); free(bx); free(by); free(d2); free(sw); free(lab);
    return 0;
  }
  uint64_t st = 0x9E3779B97F4A7C15ull ^ seed;
  if (!st) st = 1;
  double best = INFINITY;
  for (int rs = 0; rs < (restarts > 0 ? restarts : 1); rs++) {
    /* k-means++ */
    size_t c0 = (size_t)(urand(&st) * n);
    mx[0] = x[c0]; my[0] = y[c0];
    for (size_t c = 1; c < k; c++) {
      double tot = 0;
      for (size_t i = 0; i < n; i++) {
        double dm = INFINITY;
        for (size_t q = 0; q < c; q++) dm = fmin(dm, (x[i] - mx[q]) * (x[i] - mx[q]) + (y[i] - my[q]) * (y[i] - my[q]));
        d2[i] = dm * (w ? w[i] : 1);
        tot += d2[i];
      }
      double u = urand(&st) * tot;
      size_t pick = n - 1;
      for (size_t i = 0; i < n; i++) { u -= d2[i]; if (u <= 0) { pick = i; break; } }
      mx[c] = x[pick]; my[c] = y[pick];
    }
    double sse = INFINITY;
    for (int it = 0; it < 100; it++) {
      int changed = 0;
      double s = 0;
      for (size_t i = 0; i < n; i++) {
        double dm = INFINITY;
        int bq = 0;
        for (size_t q = 0; q < k; q++) {
          const double d = (x[i] - mx[q]) * (x[i] - mx[q]) + (y[i] - my[q]) * (y[i] - my[q]);
          if (d < dm) { dm = d; bq = (int)q; }
        }
        if (it == 0 || lab[i] != bq) changed = 1;
        lab[i] = bq;
        s += dm * (w ? w[i] : 1);
      }
      sse = s;
      for (size_t q = 0; q < k; q++) bx[q] = by[q] = sw[q] = 0;   /* bx, by: weighted sums */
      for (size_t i = 0; i < n; i++) {
        const double wi = w ? w[i] : 1;
        bx[lab[i]] += wi * x[i]; by[lab[i]] += wi * y[i]; sw[lab[i]] += wi;
      }
      for (size_t q = 0; q < k; q++) if (sw[q] > 0) { mx[q] = bx[q] / sw[q]; my[q] = by[q] / sw[q]; }
      if (!changed) break;
    }
    double dmin = INFINITY;
    for (size_t a = 0; a < k; a++)
      for (size_t b = a + 1; b < k; b++) dmin = fmin(dmin, hypot(mx[a] - mx[b], my[a] - my[b]));
    if (sse < best && !(dmin < min_sep)) {
      best = sse;
      for (size_t i = 0; i < n; i++) label[i] = lab[i];
      for (size_t q = 0; q < k; q++) {
        memset(&sites[q], 0, sizeof sites[q]);
        sites[q].x_nm = mx[q]; sites[q].y_nm = my[q];
        sites[q].tx_nm = sites[q].ty_nm = NAN;
        sites[q].truth = -1;
      }
    }
  }
  free(mx); free(my); free(bx); free(by); free(d2); free(sw); free(lab);
  if (!isfinite(best)) return 0;
  for (size_t q = 0; q < k; q++) sites[q].events = 0;
  for (size_t i = 0; i < n; i++) sites[label[i]].events++;
  return k;
}

int img_event_mixed(const img_event *e, double sigma, double alpha)
{
  if (e->nloc < 2 || !(sigma > 0)) return 0;
  return gsl_cdf_chisq_Q(e->ss_nm2 / (sigma * sigma), 2.0 * (e->nloc - 1)) < alpha;
}

size_t img_kmeans_auto(const double *x, const double *y, const double *w, size_t n, size_t kmax, double sigma,
                       double alpha, double min_sep, unsigned seed, int restarts, int *label, img_site *sites,
                       double *p_min)
{
  if (p_min) *p_min = NAN;
  if (!n || !kmax || !(sigma > 0)) return 0;
  if (kmax > n) kmax = n;
  size_t k = 0;
  double p_prev = NAN;
  for (k = 1; k <= kmax; k++) {
    /* the best clustering whose centres are min_sep apart; none: k - 1 stands */
    if (kmeans_sep(x, y, w, n, k, seed, restarts, min_sep, label, sites) != k) {
      if (k == 1) return 0;
      k--;
      if (kmeans_sep(x, y, w, n, k, seed, restarts, min_sep, label, sites) != k) return 0;
      if (p_min) *p_min = p_prev;
      break;
    }
    double pm = 1;
    for (size_t q = 0; q < k; q++) {
      double chi2 = 0;
      size_t nq = 0;
      for (size_t i = 0; i < n; i++) {
        if ((size_t)label[i] != q) continue;
        const double dx = x[i] - sites[q].x_nm, dy = y[i] - sites[q].y_nm;
        chi2 += (w ? w[i] : 1) * (dx * dx + dy * dy) / (sigma * sigma);
        nq++;
      }
      if (nq >= 2) pm = fmin(pm, gsl_cdf_chisq_Q(chi2, 2.0 * (nq - 1)));
    }
    if (p_min) *p_min = pm;
    p_prev = pm;
    if (pm >= alpha / k || k == kmax) break;
  }
  return k;
}

/* ---- truth matching ---- */

/* the injection a -> b (na <= nb <= 8) minimizing sum |a_i - o - b_as(i)|^2 */
static void perm(size_t na, size_t pos, size_t nb, unsigned char *used, const double *ax, const double *ay,
                 const double *bx, const double *by, double ox, double oy, double *best, size_t *bestp, size_t *cur)
{
  if (pos == na) {
    double ss = 0;
    for (size_t i = 0; i < na; i++) {
      const double dx = ax[i] - ox - bx[cur[i]], dy = ay[i] - oy - by[cur[i]];
      ss += dx * dx + dy * dy;
    }
    if (ss < *best) { *best = ss; memcpy(bestp, cur, na * sizeof *cur); }
    return;
  }
  for (size_t t = 0; t < nb; t++) {
    if (used[t]) continue;
    used[t] = 1;
    cur[pos] = t;
    perm(na, pos + 1, nb, used, ax, ay, bx, by, ox, oy, best, bestp, cur);
    used[t] = 0;
  }
}

double img_match_truth(img_site *sites, size_t ns, const double *tx, const double *ty, size_t nt,
                       int remove_offset, double *dxo, double *dyo)
{
  if (dxo) *dxo = 0;
  if (dyo) *dyo = 0;
  for (size_t i = 0; i < ns; i++) { sites[i].truth = -1; sites[i].tx_nm = sites[i].ty_nm = NAN; }
  if (!ns || !nt || ns > 8 || nt > 8) return NAN;
  double sx[8], sy[8];
  for (size_t i = 0; i < ns; i++) { sx[i] = sites[i].x_nm; sy[i] = sites[i].y_nm; }
  /* the smaller set is matched into the larger one; the offset is site - truth */
  const int s_small = ns <= nt;
  const size_t na = s_small ? ns : nt, nb = s_small ? nt : ns;
  const double *ax = s_small ? sx : tx, *ay = s_small ? sy : ty, *bx = s_small ? tx : sx, *by = s_small ? ty : sy;
  size_t cur[8], as[8];
  unsigned char used[8] = { 0 };
  double ox = 0, oy = 0, best = INFINITY;
  perm(na, 0, nb, used, ax, ay, bx, by, 0, 0, &best, as, cur);
  for (int it = 0; remove_offset && it < 5; it++) {   /* offset = mean difference of the pairs, re-match */
    double mx = 0, my = 0;
    for (size_t i = 0; i < na; i++) { mx += ax[i] - bx[as[i]]; my += ay[i] - by[as[i]]; }
    ox = mx / na; oy = my / na;
    best = INFINITY;
    memset(used, 0, sizeof used);
    perm(na, 0, nb, used, ax, ay, bx, by, ox, oy, &best, as, cur);
  }
  for (size_t i = 0; i < na; i++) {
    const size_t si = s_small ? i : as[i], ti = s_small ? as[i] : i;
    sites[si].truth = (int)ti;
    sites[si].tx_nm = tx[ti];
    sites[si].ty_nm = ty[ti];
  }
  if (dxo) *dxo = s_small ? ox : -ox;
  if (dyo) *dyo = s_small ? oy : -oy;
  return sqrt(best / na);
}
