/* image_out: see image_out.h and docs/imaging.md. */
#include "image_out.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analyze_out.h"
#include "npy.h"
#include "plot.h"
#include "regmap.h"
#include "track_error.h"

static FILE *open_in(const char *dir, const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
  snprintf(path, pathlen, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
  return f;
}

static int close_checked(FILE *f, const char *path, char *err, size_t errlen)
{
  const int bad = ferror(f) | fclose(f);
  if (bad) snprintf(err, errlen, "writing %s failed: %s", path, strerror(errno));
  return bad ? -1 : 0;
}

static void num(FILE *f, double v, const char *fmt)
{
  if (isfinite(v)) fprintf(f, fmt, v);
}

/* ---- acquire: localizations.csv, stage_localizations.csv ---- */

static void loc_row(FILE *f, const img_params *p, const img_loc *l)
{
  fprintf(f, "%.9f,%.4f,%.4f,%u,%g,%d,", l->t_s, l->x_nm, l->y_nm, l->N, p->L_nm[l->stage], l->stage);
  num(f, l->cfr, "%.5f");
  fprintf(f, ",%d,%s,%u,%u,%.4f,%.4f,%.5f,%.5f,", l->abort != IMG_AB_NONE, img_abort_names[l->abort], l->event, l->nrec,
          l->cx_nm, l->cy_nm, l->ex_nm, l->ey_nm);
  num(f, l->mx_nm, "%.4f");
  fputc(',', f);
  num(f, l->my_nm, "%.4f");
  for (int e = 0; e < 4; e++) fprintf(f, ",%u", e < p->k ? l->n[e] : 0);
  fprintf(f, ",%d,%d\n", l->incomplete, l->next_state);
}

static const char *LOC_HEADER =
  "t_s,x_nm,y_nm,N,L_nm,stage,cfr,aborted,abort_reason,event,records,cx_nm,cy_nm,ex_nm,ey_nm,mle_x_nm,mle_y_nm,"
  "n0,n1,n2,n3,incomplete,next_state\n";

int img_write_locs(const char *dir, const img_params *p, const img_result *r, char *err, size_t n)
{
  char path[4200];
  FILE *f = open_in(dir, "localizations.csv", path, sizeof path, err, n);
  if (!f) return -1;
  fputs(LOC_HEADER, f);
  for (size_t i = 0; i < r->nloc; i++) if (r->loc[i].final) loc_row(f, p, &r->loc[i]);
  if (close_checked(f, path, err, n)) return -1;
  if (!(f = open_in(dir, "stage_localizations.csv", path, sizeof path, err, n))) return -1;
  fputs(LOC_HEADER, f);
  for (size_t i = 0; i < r->nloc; i++) loc_row(f, p, &r->loc[i]);
  return close_checked(f, path, err, n);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *img_summary_json(const img_params *p, const img_result *r, const img_regs_t *regs)
{
  json_t *j = json_object();
  json_object_set_new(j, "stages", json_integer(p->last + 1));
  json_object_set_new(j, "ctl_mode", json_integer(p->ctl_mode));
  json_t *L = json_array(), *lim = json_array(), *per = json_array(), *dark = json_array(), *sbr = json_array();
  for (int s = 0; s <= p->last; s++) {
    json_array_append_new(L, json_real(p->L_nm[s]));
    json_array_append_new(lim, json_integer(p->limit[s]));
    json_array_append_new(per, json_integer((json_int_t)r->by_stage[s]));
    json_array_append_new(dark, json_integer((json_int_t)r->dark_aborts[s]));
    json_array_append_new(sbr, jnum(r->sbr[s]));
  }
  json_object_set_new(j, "L_nm", L);
  json_object_set_new(j, "photon_limits", lim);
  json_object_set_new(j, "localizations", json_integer((json_int_t)r->nfinal_ok));
  json_object_set_new(j, "final_localizations", json_integer((json_int_t)r->nfinal));
  json_t *ab = json_object(), *aa = json_object();
  for (int k = 1; k < IMG_AB_N; k++) {
    json_object_set_new(ab, img_abort_names[k], json_integer((json_int_t)r->aborted_final[k]));
    json_object_set_new(aa, img_abort_names[k], json_integer((json_int_t)r->aborted[k]));
  }
  json_object_set_new(j, "aborted", ab);
  json_object_set_new(j, "aborted_all_stages", aa);
  json_object_set_new(j, "stage_localizations", per);
  json_object_set_new(j, "dark_aborts", dark);
  json_object_set_new(j, "rule_mismatch", json_integer((json_int_t)r->rule_mismatch));
  json_object_set_new(j, "events", json_integer(r->nevents));
  double sN = 0;
  for (size_t i = 0; i < r->nloc; i++) if (r->loc[i].final && r->loc[i].abort == IMG_AB_NONE) sN += r->loc[i].N;
  json_object_set_new(j, "photons_per_localization", r->nfinal_ok ? json_real(sN / r->nfinal_ok) : json_null());
  json_object_set_new(j, "sbr_estimate", sbr);
  json_t *bys = json_object();
  static const char *const nm[16] = { "open", "search", "preloc", "track", "stage0", "stage1", "stage2", "stage3", "8", "9",
                                      "10", "11", "stage0_end", "stage1_end", "stage2_end", "stage3_end" };
  for (int s = 0; s < 16; s++)
    if (r->by_state[s] || s == 1 || s == 2 || (s >= 4 && s <= 4 + p->last) || (s >= 12 && s <= 12 + p->last))
      json_object_set_new(bys, nm[s], json_integer((json_int_t)r->by_state[s]));
  json_object_set_new(j, "records_by_state", bys);
  json_t *act = json_object();
  json_object_set_new(act, "CTL_IACT", json_integer(p->iact));
  json_object_set_new(act, "CTL_IACT_T", json_integer(p->iact_t));
  json_object_set_new(act, "threshold_counts_per_search_record", json_real((p->iact & 0xFFFFu) / 16.0));
  json_object_set_new(act, "lp_shift", json_integer((p->iact >> 16) & 15u));
  json_object_set_new(act, "on_search_records", json_integer(p->iact_t & 0xFFFFu));
  json_object_set_new(act, "off_search_records", json_integer(p->iact_t >> 16));
  if (regs) json_object_set_new(act, "search_record_us", json_real(regs->search_record_cycles * 1e6 / MINFLUX_CLK_HZ));
  json_object_set_new(j, "activation", act);
  json_object_set_new(j, "positions", json_string("x_nm,y_nm: centre + the firmware's live mLMS of the stage sums; "
                                                  "mle_x_nm,mle_y_nm: host 2D MLE (S37) of the summed counts"));
  return j;
}

void img_print_summary(FILE *f, const img_params *p, const img_result *r)
{
  double sN = 0;
  for (size_t i = 0; i < r->nloc; i++) if (r->loc[i].final && r->loc[i].abort == IMG_AB_NONE) sN += r->loc[i].N;
  fprintf(f, "imaging: %zu final localizations (stage %d, L %g nm), %zu kept, aborted: %zu cfr, %zu bright, %zu unknown; "
          "%u emission events; %.1f photons per localization\n", r->nfinal, p->last, p->L_nm[p->last], r->nfinal_ok,
          r->aborted_final[IMG_AB_CFR], r->aborted_final[IMG_AB_BRIGHT], r->aborted_final[IMG_AB_UNKNOWN], r->nevents,
          r->nfinal_ok ? sN / r->nfinal_ok : 0.0);
  fprintf(f, "records by state: %llu search, %llu pre-localization", (unsigned long long)r->by_state[1], (unsigned long long)r->by_state[2]);
  for (int s = 0; s <= p->last; s++)
    fprintf(f, ", stage %d: %llu (+%llu ends, %zu dark aborts)", s, (unsigned long long)r->by_state[4 + s],
            (unsigned long long)r->by_state[12 + s], r->dark_aborts[s]);
  fprintf(f, "\n");
}

/* ---- truth ---- */

void img_truth_read(const char *dir, img_truth *t)
{
  memset(t, 0, sizeof *t);
  t->frac_ge2 = t->frac_ge2_of_on = t->frac_ge1 = t->phys_frac_ge2 = NAN;
  char path[4200];
  snprintf(path, sizeof path, "%s/physics.json", dir);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (json_is_object(root)) {
    json_t *s = json_object_get(root, "sites");
    if (!json_is_array(s)) s = json_object_get(root, "emitters");
    for (size_t i = 0; json_is_array(s) && i < json_array_size(s) && t->nsites < 8; i++) {
      json_t *e = json_array_get(s, i), *x = NULL, *y = NULL;
      if (json_is_object(e)) { x = json_object_get(e, "x_nm"); y = json_object_get(e, "y_nm"); }
      else if (json_is_array(e)) { x = json_array_get(e, 0); y = json_array_get(e, 1); }
      if (json_is_number(x) && json_is_number(y)) {
        t->x[t->nsites] = json_number_value(x);
        t->y[t->nsites++] = json_number_value(y);
      }
    }
    t->have_sites = t->nsites > 0;
    /* a figure of its own for the time with two or more sites on */
    const char *const keys[] = { "frac_on_ge2", "fraction_ge2_on", "frac_ge2_on", "fraction_two_or_more_on", "fraction_multi_on" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      json_t *v = json_object_get(root, keys[k]);
      if (json_is_number(v)) { t->phys_frac_ge2 = json_number_value(v); break; }
    }
  }
  json_decref(root);
  snprintf(path, sizeof path, "%s/truth.csv", dir);
  te_table tt;
  char e[256];
  if (te_read_csv(path, &tt, e, sizeof e) == 0) {
    const int c = te_col(&tt, "n_on");
    if (c >= 0 && tt.rows) {
      size_t ge1 = 0, ge2 = 0;
      for (size_t i = 0; i < tt.rows; i++) { const double v = te_at(&tt, i, c); ge1 += v >= 1; ge2 += v >= 2; }
      t->rows = tt.rows;
      t->frac_ge2 = (double)ge2 / tt.rows;
      t->frac_ge1 = (double)ge1 / tt.rows;
      t->frac_ge2_of_on = ge1 ? (double)ge2 / ge1 : NAN;
      t->have_non = 1;
      /* runs of one site on: which truth site each emission event saw */
      const int ct = te_col(&tt, "t_s"), cx = te_col(&tt, "x_nm"), cy = te_col(&tt, "y_nm");
      size_t cap = 0;
      for (size_t i = 0; t->have_sites && ct >= 0 && cx >= 0 && cy >= 0 && i < tt.rows; i++) {
        if (te_at(&tt, i, c) != 1) continue;
        const double x = te_at(&tt, i, cx), y = te_at(&tt, i, cy), ts = te_at(&tt, i, ct);
        int best = 0;
        for (size_t q = 1; q < t->nsites; q++)
          if (hypot(x - t->x[q], y - t->y[q]) < hypot(x - t->x[best], y - t->y[best])) best = (int)q;
        const double dt = i + 1 < tt.rows ? te_at(&tt, i + 1, ct) - ts : 0;
        struct img_truth_seg *g = t->nseg ? &t->seg[t->nseg - 1] : NULL;
        if (g && g->site == best && ts - g->t1_s < 1e-9 + 2 * (dt > 0 ? dt : 0)) { g->t1_s = ts + dt; continue; }
        if (t->nseg == cap) {
          struct img_truth_seg *ns = realloc(t->seg, (cap = cap ? 2 * cap : 256) * sizeof *ns);
          if (!ns) break;
          t->seg = ns;
        }
        t->seg[t->nseg++] = (struct img_truth_seg){ ts, ts + dt, best };
      }
    }
    te_free(&tt);
  }
}

void img_truth_free(img_truth *t) { free(t->seg); t->seg = NULL; t->nseg = 0; }

int img_truth_site_at(const img_truth *t, double t0_s, double t1_s)
{
  double ov[8] = { 0 };
  /* first run ending after t0 (the runs are in time order) */
  size_t lo = 0, hi = t->nseg;
  while (lo < hi) { const size_t mid = (lo + hi) / 2; if (t->seg[mid].t1_s <= t0_s) lo = mid + 1; else hi = mid; }
  for (size_t i = lo; i < t->nseg && t->seg[i].t0_s < t1_s; i++)
    ov[t->seg[i].site] += fmin(t1_s, t->seg[i].t1_s) - fmax(t0_s, t->seg[i].t0_s);
  int best = -1;
  for (size_t q = 0; q < t->nsites && q < 8; q++) if (ov[q] > 0 && (best < 0 || ov[q] > ov[best])) best = (int)q;
  return best;
}

/* ---- analyze ---- */

void img_default_opts(img_opts *o)
{
  memset(o, 0, sizeof *o);
  o->use_mle = 1;   /* the host MLE: next to the CRB, the live mLMS 1.3-1.8x above it (docs/imaging.md) */
  o->sbr = 0;
  o->sites = 0;
  o->radius_nm = 3;
  o->min_event_locs = 2;
  o->efo_min = 0.5;
  o->png = 1;
  o->seed = 1;
}

static int fopen_exists(const char *path)
{
  FILE *f = fopen(path, "r");
  if (f) fclose(f);
  return f != NULL;
}

static double nice_length(double v)
{
  const double mag = pow(10, floor(log10(v))), f = v / mag;
  return (f < 2 ? 1 : f < 5 ? 2 : 5) * mag;
}

/* pooled per-axis spread of localizations about their event means (events with >= 2) */
typedef struct { double ss; double dof; double N; size_t n; } prec_acc;

static double prec_sigma(const prec_acc *a) { return a->dof > 0 ? sqrt(a->ss / (2 * a->dof)) : NAN; }

static int write_npy(const char *dir, const img_params *p, const img_result *r, int use_mle, char *err, size_t n)
{
  size_t off[AN_M2410_NFIELDS];
  const size_t rs = npy_row_size(an_m2410_fields, AN_M2410_NFIELDS, off);
  char path[4200];
  FILE *f = open_in(dir, "export.npy", path, sizeof path, err, n);
  if (!f) return -1;
  if (npy_write_header(f, an_m2410_fields, AN_M2410_NFIELDS, r->nloc, err, n)) { fclose(f); return -1; }
  /* gate per exposure: the record period without window and delays is not known here; the
   * rates use the stage's records x record period / K */
  uint8_t row[256];
  for (size_t i = 0; i < r->nloc; i++) {
    const img_loc *l = &r->loc[i];
    memset(row, 0, rs);
    int bot = 0, eot = 0;
    if (l->event) {
      bot = 1; eot = 1;
      for (size_t j = i; j-- > 0;) if (r->loc[j].final) { bot = r->loc[j].event != l->event; break; }
      for (size_t j = i + 1; j < r->nloc; j++) if (r->loc[j].final) { eot = r->loc[j].event != l->event; break; }
    }
    const double x = use_mle && isfinite(l->mx_nm) ? l->mx_nm : l->x_nm, y = use_mle && isfinite(l->my_nm) ? l->my_nm : l->y_nm;
    npy_put_u8(row + off[0], l->abort == IMG_AB_NONE);   /* vld */
    npy_put_u8(row + off[1], l->final);                   /* fnl */
    npy_put_u8(row + off[2], bot);
    npy_put_u8(row + off[3], eot);
    npy_put_u8(row + off[4], (unsigned)l->abort);         /* sta: abort reason (0 none, 1 cfr, 2 bright, 3 unknown) */
    npy_put_f64(row + off[5], l->t_s);                    /* tim */
    npy_put_u32(row + off[6], l->event);                  /* tid: emission event */
    npy_put_u32(row + off[7], 0);
    npy_put_u8(row + off[8], 0);
    npy_put_u8(row + off[9], 0);
    npy_put_i32(row + off[10], l->stage);                 /* itr: the stage */
    const double loc[3] = { x * 1e-9, y * 1e-9, 0 }, lnc[3] = { l->x_nm * 1e-9, l->y_nm * 1e-9, 0 };
    for (int c = 0; c < 3; c++) { npy_put_f64(row + off[11] + 8 * c, loc[c]); npy_put_f64(row + off[12] + 8 * c, lnc[c]); }
    const uint32_t eco = l->N - l->n[0], ecc = l->n[0];
    npy_put_u32(row + off[13], eco);
    npy_put_u32(row + off[14], ecc);
    const double T = l->nrec * (p->rec_s > 0 ? p->rec_s : 125e-6);
    const double efo = p->k > 1 ? eco / (T * (p->k - 1) / p->k) : 0, efc = ecc / (T / p->k);
    npy_put_f32(row + off[15], (float)efo);
    npy_put_f32(row + off[16], (float)efc);
    npy_put_f16(row + off[17], (float)(efo > 0 ? efc / efo : 0));
    const double chs = (double)l->ch[0] + l->ch[1];
    npy_put_f16(row + off[18], (float)(chs > 0 ? l->ch[0] / chs : 0));
    npy_put_f16(row + off[18] + 2, (float)(chs > 0 ? l->ch[1] / chs : 0));
    npy_put_f32(row + off[19], 0);
    fwrite(row, 1, rs, f);
  }
  return close_checked(f, path, err, n);
}

int img_analyze(const char *dir, const an_raw *raw, const img_params *p, const img_opts *o, char *err, size_t n)
{
  img_result r;
  if (img_extract(raw, p, 1, o->sbr, &r, err, n)) { img_result_free(&r); return -1; }
  /* efo filter: a final localization whose photons came at a fraction of the usual rate
   * (N per record of its stage) spent part of the stage with the dye off, on background
   * alone: its SBR is not the run's and its MLE is biased; it leaves its event (it stays
   * in the files: export.npy has its efo, localizations.csv its records) */
  size_t low_efo = 0;
  double efo_med = NAN;
  {
    double *rt = malloc((r.nloc + 1) * sizeof *rt);
    size_t nr = 0;
    for (size_t i = 0; rt && i < r.nloc; i++)
      if (r.loc[i].event && r.loc[i].nrec) rt[nr++] = (double)r.loc[i].N / r.loc[i].nrec;
    if (nr) {
      efo_med = an_median(rt, nr);
      for (size_t i = 0; i < r.nloc; i++) {
        r.loc[i].low_efo = o->efo_min > 0 && r.loc[i].event && r.loc[i].nrec &&
                           (double)r.loc[i].N / r.loc[i].nrec < o->efo_min * efo_med;
        low_efo += (size_t)r.loc[i].low_efo;
      }
    }
    free(rt);
  }
  img_event *ev = NULL;
  size_t nev = 0;
  if (img_events(&r, o->use_mle, &ev, &nev)) { img_result_free(&r); snprintf(err, n, "out of memory"); return -1; }
  img_truth tr;
  img_truth_read(dir, &tr);
  int rc = 0;
  char path[4200];
  FILE *f = NULL;
  /* precision: within events, both position sources; by photons in quartiles of N */
  prec_acc pa = { 0, 0, 0, 0 }, pm = { 0, 0, 0, 0 };
  for (size_t i = 0; i < nev; i++) {
    if (ev[i].nloc < 2) continue;
    pa.ss += ev[i].ss_nm2; pa.dof += ev[i].nloc - 1; pa.N += ev[i].photons * ev[i].nloc; pa.n += ev[i].nloc;
  }
  {   /* the other position source */
    img_event *e2 = NULL;
    size_t n2 = 0;
    if (!img_events(&r, !o->use_mle, &e2, &n2))
      for (size_t i = 0; i < n2; i++)
        if (e2[i].nloc >= 2) { pm.ss += e2[i].ss_nm2; pm.dof += e2[i].nloc - 1; pm.N += e2[i].photons * e2[i].nloc; pm.n += e2[i].nloc; }
    free(e2);
  }
  const int ls = p->last;
  const double sbr_last = r.sbr[ls];
  const double meanN = pa.n ? pa.N / pa.n : NAN;
  const double crb0 = isfinite(meanN) ? mf_crb(&p->ebp[ls], 0, 0, meanN, 0, NULL) : NAN;
  const double crbb = isfinite(meanN) && isfinite(sbr_last) ? mf_crb(&p->ebp[ls], 0, 0, meanN, sbr_last, NULL) : NAN;
  /* quartile bins of N over the localizations of events with >= 2 */
  size_t nq = 0;
  double *Ns = malloc((r.nloc + 1) * sizeof *Ns);
  for (size_t i = 0; Ns && i < r.nloc; i++) {
    const img_loc *l = &r.loc[i];
    if (!l->event || l->low_efo) continue;
    for (size_t e = 0; e < nev; e++) if (ev[e].id == l->event && ev[e].nloc >= 2) { Ns[nq++] = l->N; break; }
  }
  double edges[5] = { 0, 0, 0, 0, INFINITY };
  if (Ns && nq >= 8) {
    double *c = malloc(nq * sizeof *c);
    if (c) {
      memcpy(c, Ns, nq * sizeof *c);
      an_median(c, nq);   /* sorts */
      for (int q = 1; q < 4; q++) edges[q] = c[nq * q / 4];
      free(c);
    }
  }
  free(Ns);
  prec_acc bins[4] = { { 0, 0, 0, 0 } };
  if (nq >= 8) {
    for (size_t i = 0; i < r.nloc; i++) {
      const img_loc *l = &r.loc[i];
      if (!l->event || l->low_efo) continue;
      const img_event *e = NULL;
      for (size_t q = 0; q < nev; q++) if (ev[q].id == l->event) { e = &ev[q]; break; }
      if (!e || e->nloc < 2) continue;
      const double x = o->use_mle ? l->mx_nm : l->x_nm, y = o->use_mle ? l->my_nm : l->y_nm;
      if (!isfinite(x) || !isfinite(y)) continue;
      int b = 0;
      while (b < 3 && l->N >= edges[b + 1]) b++;
      /* residual about the event mean, dof-corrected by n/(n-1) */
      const double k = (double)e->nloc / (e->nloc - 1);
      bins[b].ss += k * ((x - e->x_nm) * (x - e->x_nm) + (y - e->y_nm) * (y - e->y_nm));
      bins[b].dof += 1; bins[b].N += l->N; bins[b].n++;
    }
  }
  if (!(f = open_in(dir, "precision.csv", path, sizeof path, err, n))) { rc = -1; goto out; }
  fprintf(f, "bin,N_min,N_max,localizations,photons_mean,sigma_nm,crb_nm,crb_sbr_nm,sbr\n");
  fprintf(f, "all,,,%zu,", pa.n);
  num(f, meanN, "%.2f"); fputc(',', f); num(f, prec_sigma(&pa), "%.4f"); fputc(',', f); num(f, crb0, "%.4f");
  fputc(',', f); num(f, crbb, "%.4f"); fputc(',', f); num(f, sbr_last, "%.4g"); fputc('\n', f);
  for (int b = 0; b < 4 && nq >= 8; b++) {
    if (!bins[b].n) continue;
    const double mN = bins[b].N / bins[b].n;
    fprintf(f, "q%d,%g,", b + 1, edges[b]);
    num(f, edges[b + 1], "%g");
    fprintf(f, ",%zu,%.2f,", bins[b].n, mN);
    num(f, prec_sigma(&bins[b]), "%.4f"); fputc(',', f);
    num(f, mf_crb(&p->ebp[ls], 0, 0, mN, 0, NULL), "%.4f"); fputc(',', f);
    num(f, isfinite(sbr_last) ? mf_crb(&p->ebp[ls], 0, 0, mN, sbr_last, NULL) : NAN, "%.4f");
    fputc(',', f); num(f, sbr_last, "%.4g"); fputc('\n', f);
  }
  if (close_checked(f, path, err, n)) { rc = -1; goto out; }

  /* sites: events with enough localizations, weighted by their localizations */
  size_t m = 0;
  double *ex = malloc((nev + 1) * sizeof *ex), *ey = malloc((nev + 1) * sizeof *ey), *ew = malloc((nev + 1) * sizeof *ew);
  int *lab = malloc((nev + 1) * sizeof *lab), *lab2 = malloc((nev + 1) * sizeof *lab2);
  size_t *eidx = malloc((nev + 1) * sizeof *eidx);
  img_site *sa = malloc((nev + 1) * sizeof *sa), sk[8];
  if (!ex || !ey || !ew || !lab || !lab2 || !eidx || !sa) {
    free(ex); free(ey); free(ew); free(lab); free(lab2); free(eidx); free(sa);
    snprintf(err, n, "out of memory"); rc = -1; goto out;
  }
  /* events whose own localizations scatter far more than the precision (chi^2 tail below
   * IMG_AUTO_ALPHA: two emitters, or a switch within the event) are not clustered */
  const double sig_loc = prec_sigma(&pa);
  size_t mixed = 0;
  for (size_t i = 0; i < nev; i++) {
    if ((int)ev[i].nloc < o->min_event_locs) continue;
    if (isfinite(sig_loc) && img_event_mixed(&ev[i], sig_loc, IMG_AUTO_ALPHA)) { mixed++; continue; }
    ex[m] = ev[i].x_nm; ey[m] = ev[i].y_nm; ew[m] = (double)ev[i].nloc; eidx[m++] = i;
  }
  /* the precision of the events kept (the mixed ones would widen it): the clusters' yardstick */
  prec_acc pk = { 0, 0, 0, 0 };
  for (size_t i = 0; i < m; i++)
    if (ev[eidx[i]].nloc >= 2) { pk.ss += ev[eidx[i]].ss_nm2; pk.dof += ev[eidx[i]].nloc - 1; }
  const double sig_clu = pk.dof > 0 ? prec_sigma(&pk) : sig_loc;
  size_t na = img_cluster_radius(ex, ey, ew, m, o->radius_nm, lab, sa);
  {   /* clusters of fewer than 3 events are outliers, not sites: their events unassigned */
    int *map = malloc((na + 1) * sizeof *map);
    size_t kept = 0;
    for (size_t q = 0; map && q < na; q++) map[q] = sa[q].events >= IMG_SITE_MIN_EVENTS ? (int)kept++ : -1;
    for (size_t q = 0; map && q < na; q++) if (map[q] >= 0) sa[map[q]] = sa[q];
    for (size_t i = 0; map && i < m; i++) lab[i] = map[lab[i]];
    if (map) na = kept;
    free(map);
  }
  /* k-means: the user's k, else k from the data (the truth only scores the result) */
  size_t nk = 0;
  double auto_p = NAN;
  size_t lone = 0;
  if (o->sites > 0) {
    if (o->sites <= 8 && m >= (size_t)o->sites) nk = img_kmeans(ex, ey, ew, m, (size_t)o->sites, o->seed, 50, lab2, sk);
  } else if (m > 0 && isfinite(sig_clu) && sig_clu > 0) {
    nk = img_kmeans_auto(ex, ey, ew, m, 8, sig_clu, IMG_AUTO_ALPHA, o->radius_nm, o->seed, 50, lab2, sk, &auto_p);
    /* a cluster of fewer than 3 events is an outlier (two emitters on together localize
     * between them; a biased event), not a site: its events are left unassigned */
    int map[8];
    size_t cnt[8] = { 0 }, kept = 0;
    for (size_t i = 0; nk && i < m; i++) cnt[lab2[i]]++;
    for (size_t q = 0; q < nk; q++) map[q] = cnt[q] >= IMG_SITE_MIN_EVENTS ? (int)kept++ : -1;
    for (size_t q = 0; q < nk; q++) if (map[q] >= 0) sk[map[q]] = sk[q];
    for (size_t i = 0; nk && i < m; i++) { if (map[lab2[i]] < 0) lone++; lab2[i] = map[lab2[i]]; }
    nk = kept;
  }
  /* the truth site of each event, and how many truth sites the clustered events saw */
  size_t truth_seen = 0;
  unsigned seen_mask = 0;
  {
    unsigned mask = 0;
    for (size_t i = 0; i < nev && tr.nseg; i++) {
      ev[i].truth = img_truth_site_at(&tr, ev[i].t0_s, ev[i].t1_s + p->rec_s);
    }
    /* truth sites with IMG_SITE_MIN_EVENTS or more of the clustered events (the fewer are not reported) */
    size_t per[8] = { 0 };
    for (size_t i = 0; i < m; i++) if (ev[eidx[i]].truth >= 0) per[ev[eidx[i]].truth]++;
    for (size_t q = 0; q < 8; q++) if (per[q] >= IMG_SITE_MIN_EVENTS) mask |= 1u << q;
    seen_mask = mask;
    for (; mask; mask &= mask - 1) truth_seen++;
  }
  /* the sites reported: k-means, else (no precision, no k) the agglomerative clusters */
  const int use_k = nk > 0;
  const int auto_k = use_k && o->sites <= 0;
  img_site *S = use_k ? sk : sa;
  const size_t ns = use_k ? nk : na;
  int *L = use_k ? lab2 : lab;
  for (size_t q = 0; q < ns; q++) { S[q].events = 0; S[q].locs = 0; }
  for (size_t i = 0; i < m; i++)
    if (L[i] >= 0) { S[L[i]].events++; S[L[i]].locs += ev[eidx[i]].nloc; ev[eidx[i]].site = L[i]; }
  double off_x = 0, off_y = 0, rms = NAN, rms_abs = NAN;
  if (tr.have_sites && ns <= 8) {
    rms_abs = img_match_truth(S, ns, tr.x, tr.y, tr.nsites, 0, NULL, NULL);
    rms = img_match_truth(S, ns, tr.x, tr.y, tr.nsites, 1, &off_x, &off_y);
  }
  /* pairwise distances, measured and truth (matched pairs) */
  double maxdd = NAN;
  json_t *jpairs = json_array();
  for (size_t a = 0; a < ns && ns <= 8; a++)
    for (size_t b = a + 1; b < ns; b++) {
      const double d = hypot(S[a].x_nm - S[b].x_nm, S[a].y_nm - S[b].y_nm);
      json_t *jp = json_object();
      json_object_set_new(jp, "a", json_integer((json_int_t)a));
      json_object_set_new(jp, "b", json_integer((json_int_t)b));
      json_object_set_new(jp, "distance_nm", json_real(d));
      if (S[a].truth >= 0 && S[b].truth >= 0) {
        const double dt = hypot(tr.x[S[a].truth] - tr.x[S[b].truth], tr.y[S[a].truth] - tr.y[S[b].truth]);
        json_object_set_new(jp, "truth_nm", json_real(dt));
        json_object_set_new(jp, "error_nm", json_real(d - dt));
        if (!(fabs(d - dt) <= maxdd)) maxdd = fabs(d - dt);
      }
      json_array_append_new(jpairs, jp);
    }
  if (!(f = open_in(dir, "sites.csv", path, sizeof path, err, n))) { rc = -1; goto sites_done; }
  fprintf(f, "site,x_nm,y_nm,events,localizations,truth,truth_x_nm,truth_y_nm,error_nm\n");
  for (size_t q = 0; q < ns; q++) {
    fprintf(f, "%zu,%.4f,%.4f,%zu,%zu,%d,", q, S[q].x_nm, S[q].y_nm, S[q].events, S[q].locs, S[q].truth);
    num(f, S[q].tx_nm, "%.4f"); fputc(',', f); num(f, S[q].ty_nm, "%.4f"); fputc(',', f);
    num(f, hypot(S[q].x_nm - off_x - S[q].tx_nm, S[q].y_nm - off_y - S[q].ty_nm), "%.4f");
    fputc('\n', f);
  }
  if (close_checked(f, path, err, n)) { rc = -1; goto sites_done; }
  if (!(f = open_in(dir, "events.csv", path, sizeof path, err, n))) { rc = -1; goto sites_done; }
  fprintf(f, "event,t_start_s,t_end_s,localizations,photons_mean,x_nm,y_nm,sigma_nm,site,truth_site\n");
  for (size_t i = 0; i < nev; i++) {
    fprintf(f, "%u,%.9f,%.9f,%zu,%.2f,%.4f,%.4f,", ev[i].id, ev[i].t0_s, ev[i].t1_s, ev[i].nloc, ev[i].photons, ev[i].x_nm, ev[i].y_nm);
    num(f, ev[i].nloc >= 2 ? sqrt(ev[i].ss_nm2 / (2.0 * (ev[i].nloc - 1))) : NAN, "%.4f");
    fprintf(f, ",%d,%d\n", ev[i].site, ev[i].truth);
  }
  if (close_checked(f, path, err, n)) { rc = -1; goto sites_done; }
  if (write_npy(dir, p, &r, o->use_mle, err, n)) { rc = -1; goto sites_done; }
  snprintf(path, sizeof path, "%s/localizations.csv", dir);   /* a run not written by acquire (synthetic) */
  if (!fopen_exists(path) && img_write_locs(dir, p, &r, err, n)) { rc = -1; goto sites_done; }

  /* image.png: the final localizations rendered with Gaussians of the measured precision */
  const double sig = isfinite(prec_sigma(&pa)) && prec_sigma(&pa) > 0 ? prec_sigma(&pa) : 1.0;
  if (o->png) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    size_t cnt = 0;
    for (size_t i = 0; i < r.nloc; i++) {
      const img_loc *l = &r.loc[i];
      if (!l->event || l->low_efo) continue;
      const double x = o->use_mle ? l->mx_nm : l->x_nm, y = o->use_mle ? l->my_nm : l->y_nm;
      if (!isfinite(x) || !isfinite(y)) continue;
      x0 = fmin(x0, x); x1 = fmax(x1, x); y0 = fmin(y0, y); y1 = fmax(y1, y); cnt++;
    }
    if (!cnt) { x0 = y0 = -20; x1 = y1 = 20; }
    /* a robust field: the sites +- 15 nm when there are few, at most 2 um */
    const double mx = 0.5 * (x0 + x1), my = 0.5 * (y0 + y1);
    double half = fmax(fmax(x1 - x0, y1 - y0) / 2 + 3 * sig, 15);
    if (half > 1000) half = 1000;
    x0 = mx - half; x1 = mx + half; y0 = my - half; y1 = my + half;
    const double px_nm = fmax(2 * half / 400, 0.1);
    const int nx = (int)ceil(2 * half / px_nm), ny = nx;
    double *im = calloc((size_t)nx * ny, sizeof *im);
    if (!im) { snprintf(err, n, "out of memory"); rc = -1; goto sites_done; }
    const double sp = sig / px_nm;
    const int hw = (int)ceil(3 * sp);
    for (size_t i = 0; i < r.nloc; i++) {
      const img_loc *l = &r.loc[i];
      if (!l->event || l->low_efo) continue;
      const double x = o->use_mle ? l->mx_nm : l->x_nm, y = o->use_mle ? l->my_nm : l->y_nm;
      if (!isfinite(x) || !isfinite(y)) continue;
      const double fx = (x - x0) / px_nm, fy = (y - y0) / px_nm;
      for (int iy = (int)fy - hw; iy <= (int)fy + hw; iy++)
        for (int ix = (int)fx - hw; ix <= (int)fx + hw; ix++) {
          if (ix < 0 || iy < 0 || ix >= nx || iy >= ny) continue;
          const double dx = ix + 0.5 - fx, dy = iy + 0.5 - fy;
          im[(size_t)iy * nx + ix] += exp(-0.5 * (dx * dx + dy * dy) / (sp * sp));
        }
    }
    const double bar = nice_length(2 * half / 5);
    char barlab[32], title[200];
    snprintf(barlab, sizeof barlab, "%g nm", bar);
    snprintf(title, sizeof title, "%zu final localizations, %zu events (%s positions, Gaussian sigma %.2f nm)", cnt, nev,
             o->use_mle ? "host MLE" : "firmware mLMS", sig);
    snprintf(path, sizeof path, "%s/image.png", dir);
    rc = plot_heatmap_png(path, im, nx, ny, x0, x1, y0, y1, title, "x (nm)", "y (nm)", "rendered density", 1, bar, barlab, err, n);
    free(im);
    if (rc) goto sites_done;
    /* sites.png: event means by site, site centres, truth */
    plot *pl = plot_new(720, 720, "emission events (means) clustered into sites", "x (nm)", "y (nm)", x0, x1, y0, y1, 1);
    if (!pl) { snprintf(err, n, "out of memory"); rc = -1; goto sites_done; }
    for (size_t q = 0; q < ns; q++) {
      size_t c = 0;
      for (size_t i = 0; i < m; i++) if (L[i] == (int)q) { ex[c] = ev[eidx[i]].x_nm; ey[c++] = ev[eidx[i]].y_nm; }
      plot_points(pl, ex, ey, c, plot_color((int)q + (q >= 3)), 2.5);   /* colour 3 is red, the truth's */
    }
    double cx[8], cy[8];
    size_t nc = 0;
    for (size_t q = 0; q < ns && nc < 8; q++) { cx[nc] = S[q].x_nm; cy[nc++] = S[q].y_nm; }
    const plot_rgb black = { 0, 0, 0 }, red = { 0.85, 0.1, 0.1 };
    plot_points(pl, cx, cy, nc, black, 6);
    plot_legend(pl, use_k ? "site (k-means)" : "site (agglomerative)", black, 0);
    if (tr.have_sites) {
      double tx[8], ty[8];
      for (size_t q = 0; q < tr.nsites; q++) { tx[q] = tr.x[q] + off_x; ty[q] = tr.y[q] + off_y; }
      plot_points(pl, tx, ty, tr.nsites, red, 4);
      plot_legend(pl, "truth site (+ offset)", red, 0);
    }
    plot_scalebar(pl, bar, barlab);
    snprintf(path, sizeof path, "%s/sites.png", dir);
    rc = plot_write_png(pl, path, err, n);
    plot_free(pl);
    if (rc) goto sites_done;
  }

  /* summary.json: the acquisition's keys kept, "imaging" refreshed, "imaging_analysis" added */
  {
    char tmp[4300];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    snprintf(tmp, sizeof tmp, "%s/.summary.json.tmp", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!json_is_object(root)) { json_decref(root); root = json_object(); }
    json_t *old = json_object_get(root, "imaging"), *act = json_object_get(old, "activation");
    json_t *search_us = json_object_get(act, "search_record_us");
    json_t *im = img_summary_json(p, &r, NULL);
    if (json_is_number(search_us)) json_object_set(json_object_get(im, "activation"), "search_record_us", search_us);
    json_object_set_new(root, "imaging", im);
    json_t *a = json_object();
    json_object_set_new(a, "positions", json_string(o->use_mle ? "mle" : "firmware"));
    json_object_set_new(a, "events", json_integer((json_int_t)nev));
    json_object_set_new(a, "events_clustered", json_integer((json_int_t)m));
    json_object_set_new(a, "events_mixed", json_integer((json_int_t)mixed));
    json_object_set_new(a, "efo_min", json_real(o->efo_min));
    json_object_set_new(a, "efo_median_photons_per_ms", jnum(efo_med / p->rec_s * 1e-3));
    json_object_set_new(a, "localizations_low_efo", json_integer((json_int_t)low_efo));
    json_object_set_new(a, "events_lone", json_integer((json_int_t)lone));
    json_object_set_new(a, "precision_nm", jnum(prec_sigma(&pa)));
    json_object_set_new(a, "precision_other_nm", jnum(prec_sigma(&pm)));
    json_object_set_new(a, "precision_localizations", json_integer((json_int_t)pa.n));
    json_object_set_new(a, "photons_per_localization", jnum(meanN));
    json_object_set_new(a, "crb_nm", jnum(crb0));
    json_object_set_new(a, "crb_sbr_nm", jnum(crbb));
    json_object_set_new(a, "sbr_estimate", jnum(sbr_last));
    json_object_set_new(a, "cluster", json_string(auto_k ? "kmeans_auto" : use_k ? "kmeans" : "agglomerative"));
    json_object_set_new(a, "kmeans_auto_alpha", json_real(IMG_AUTO_ALPHA));
    json_object_set_new(a, "kmeans_auto_p_min", jnum(auto_p));
    json_object_set_new(a, "kmeans_auto_sigma_nm", jnum(sig_clu));
    json_object_set_new(a, "cluster_radius_nm", json_real(o->radius_nm));
    json_object_set_new(a, "agglomerative_clusters", json_integer((json_int_t)na));
    json_t *js = json_array();
    for (size_t q = 0; q < ns; q++) {
      json_t *s = json_object();
      json_object_set_new(s, "x_nm", json_real(S[q].x_nm));
      json_object_set_new(s, "y_nm", json_real(S[q].y_nm));
      json_object_set_new(s, "events", json_integer((json_int_t)S[q].events));
      json_object_set_new(s, "truth", json_integer(S[q].truth));
      json_array_append_new(js, s);
    }
    json_object_set_new(a, "sites", js);
    json_object_set_new(a, "pairs", jpairs);
    jpairs = NULL;
    json_object_set_new(a, "max_distance_error_nm", jnum(maxdd));
    json_object_set_new(a, "truth_sites", json_integer((json_int_t)tr.nsites));
    if (tr.nseg) {
      json_object_set_new(a, "truth_sites_with_events", json_integer((json_int_t)truth_seen));
      json_t *js2 = json_array();
      for (int q = 0; q < 8; q++) if (seen_mask >> q & 1u) json_array_append_new(js2, json_integer(q));
      json_object_set_new(a, "truth_sites_seen", js2);
    }
    json_object_set_new(a, "site_rms_error_nm", jnum(rms_abs));
    json_object_set_new(a, "site_rms_error_after_offset_nm", jnum(rms));
    json_object_set_new(a, "offset_nm", json_pack("[ff]", off_x, off_y));
    json_object_set_new(a, "truth_fraction_ge2_on", jnum(tr.frac_ge2));
    json_object_set_new(a, "truth_fraction_ge2_of_on", jnum(tr.frac_ge2_of_on));
    json_object_set_new(a, "truth_fraction_ge1_on", jnum(tr.frac_ge1));
    json_object_set_new(a, "physics_fraction_ge2_on", jnum(tr.phys_frac_ge2));
    json_object_set_new(root, "imaging_analysis", a);
    if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || rename(tmp, path)) {
      snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
      rc = -1;
    }
    json_decref(root);
  }
  size_t nev2 = 0;
  for (size_t i = 0; i < nev; i++) nev2 += ev[i].nloc >= 2;
  if (rc == 0 && !o->quiet) {
    img_print_summary(stdout, p, &r);
    printf("efo filter: %zu final localizations below %.2g x the median photon rate %.1f kHz left out of the events\n",
           low_efo, o->efo_min, efo_med / p->rec_s * 1e-3);
    printf("precision (%s positions, spread within the localizations of %zu events with >= 2): %.3g nm at %.1f photons; CRB %.3g nm "
           "(no background), %.3g nm (SBR %.3g estimated); the other positions (%s) %.3g nm\n",
           o->use_mle ? "host MLE" : "firmware mLMS", nev2, prec_sigma(&pa), meanN, crb0, crbb, sbr_last,
           o->use_mle ? "firmware" : "host MLE", prec_sigma(&pm));
    if (auto_k)
      printf("sites: %zu (k-means of %zu events with >= %d localizations, k chosen from the data: the smallest k whose clusters "
             "scatter as the precision %.3g nm predicts (chi^2 p_min %.3g, asked >= %.3g / k) and no two nearer than %.3g nm; "
             "%zu events in clusters of fewer than %d dropped; %zu events left out as mixed (their own scatter too large); "
             "%zu agglomerative clusters at %.3g nm)\n",
             ns, m, o->min_event_locs, sig_clu, auto_p, IMG_AUTO_ALPHA, o->radius_nm, lone, IMG_SITE_MIN_EVENTS, mixed, na,
             o->radius_nm);
    else
      printf("sites: %zu (%s of %zu events with >= %d localizations; %zu agglomerative clusters at %.3g nm)\n", ns,
             use_k ? "k-means, k given" : "agglomerative", m, o->min_event_locs, na, o->radius_nm);
    for (size_t q = 0; q < ns; q++) {
      printf("  site %zu: (%.2f, %.2f) nm, %zu events", q, S[q].x_nm, S[q].y_nm, S[q].events);
      if (S[q].truth >= 0)
        printf(", truth %d (%.2f, %.2f) nm, error %.2f nm after the offset", S[q].truth, S[q].tx_nm, S[q].ty_nm,
               hypot(S[q].x_nm - off_x - S[q].tx_nm, S[q].y_nm - off_y - S[q].ty_nm));
      printf("\n");
    }
    for (size_t a = 0; a < ns && ns <= 8; a++)
      for (size_t b = a + 1; b < ns; b++) {
        const double d = hypot(S[a].x_nm - S[b].x_nm, S[a].y_nm - S[b].y_nm);
        printf("  distance %zu-%zu: %.2f nm", a, b, d);
        if (S[a].truth >= 0 && S[b].truth >= 0) {
          const double dt = hypot(tr.x[S[a].truth] - tr.x[S[b].truth], tr.y[S[a].truth] - tr.y[S[b].truth]);
          printf(" (truth %.2f nm, error %+.2f nm)", dt, d - dt);
        }
        printf("\n");
      }
    if (tr.nseg)
      printf("truth: %zu of the %zu sites were on alone during %d or more clustered events\n", truth_seen, tr.nsites,
             IMG_SITE_MIN_EVENTS);
    if (tr.have_sites)
      printf("site RMS error %.2f nm (%.2f nm after removing the common offset (%.2f, %.2f) nm); largest distance error %.2f nm\n",
             rms_abs, rms, off_x, off_y, maxdd);
    if (tr.have_non || isfinite(tr.phys_frac_ge2))
      printf("truth: >= 2 sites on %.3f %% of the time (physics.json %.3f %%), >= 1 on %.2f %% (of that %.3f %% with >= 2); 405 nm: "
             "threshold %.2f counts per search record (lp shift %u), on %u / off %u search records\n",
             100 * tr.frac_ge2, 100 * tr.phys_frac_ge2, 100 * tr.frac_ge1, 100 * tr.frac_ge2_of_on, (p->iact & 0xFFFFu) / 16.0,
             (p->iact >> 16) & 15u, p->iact_t & 0xFFFFu, p->iact_t >> 16);
    printf("files: %s/{precision.csv,events.csv,sites.csv,export.npy%s,summary.json}\n", dir, o->png ? ",image.png,sites.png" : "");
  }
sites_done:
  json_decref(jpairs);
  free(ex); free(ey); free(ew); free(lab); free(lab2); free(eidx); free(sa);
out:
  free(ev);
  img_truth_free(&tr);
  img_result_free(&r);
  return rc;
}
