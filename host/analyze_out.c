/* analyze_out: see analyze_out.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "analyze_out.h"
#include "plot.h"

const npy_field an_m2410_fields[AN_M2410_NFIELDS] = {
  { "vld", "|b1", 1 }, { "fnl", "|b1", 1 }, { "bot", "|b1", 1 }, { "eot", "|b1", 1 },
  { "sta", "|u1", 1 }, { "tim", "<f8", 1 }, { "tid", "<u4", 1 }, { "gri", "<u4", 1 },
  { "thi", "|u1", 1 }, { "sqi", "|u1", 1 }, { "itr", "<i4", 1 }, { "loc", "<f8", 3 },
  { "lnc", "<f8", 3 }, { "eco", "<u4", 1 }, { "ecc", "<u4", 1 }, { "efo", "<f4", 1 },
  { "efc", "<f4", 1 }, { "cfr", "<f2", 1 }, { "dcr", "<f2", 2 }, { "fbg", "<f4", 1 },
};

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

/* ---- CSV ---- */

int an_write_csv(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen)
{
  (void)raw;
  char path[4200];
  const int img = res->pipeline == AN_PIPE_IMAGE;
  FILE *f = open_in(dir, img ? "localizations_refined.csv" : "tracks_refined.csv", path, sizeof path, err, errlen);
  if (!f) return -1;
  if (img) {
    fprintf(f, "tid,t_start_s,t_end_s,cycles,n,n0,sbr,x_nm,y_nm,cx_nm,cy_nm,valid\n");
    for (size_t i = 0; i < res->nloc; i++) {
      const an_loc *l = &res->loc[i];
      const an_track *t = &res->trk[l->tid - 1];
      fprintf(f, "%u,%.9f,%.9f,%u,%u,%u,%.4f,%.3f,%.3f,%.3f,%.3f,%d\n", l->tid, t->t0_s, t->t1_s, l->cycles, l->n,
              l->n0, l->sbr, l->x_nm, l->y_nm, l->cx_nm, l->cy_nm, l->valid);
    }
  } else {
    fprintf(f, "tid,t_s,x_nm,y_nm,live_x_nm,live_y_nm,n,n0,valid,accepted%s\n", raw->have_truth ? ",truth_x_nm,truth_y_nm" : "");
    for (size_t i = 0; i < res->nloc; i++) {
      const an_loc *l = &res->loc[i];
      fprintf(f, "%u,%.9f,%.3f,%.3f,%.3f,%.3f,%u,%u,%d,%d", l->tid, l->t_s, l->x_nm, l->y_nm, l->lx_nm, l->ly_nm,
              l->n, l->n0, l->valid, res->trk[l->tid - 1].accepted);
      if (raw->have_truth) {
        if (l->has_truth) fprintf(f, ",%.3f,%.3f", l->tx_nm, l->ty_nm);
        else fprintf(f, ",,");
      }
      fputc('\n', f);
    }
  }
  if (close_checked(f, path, err, errlen)) return -1;
  if (!(f = open_in(dir, "track_stats.csv", path, sizeof path, err, errlen))) return -1;
  fprintf(f, "tid,t_start_s,duration_s,localizations,cycles,cycles_on,n0_ratio,accepted,D_um2_s,sigma_nm,s_fit,X,converged,tracking_error_nm,note\n");
  for (size_t k = 0; k < res->ntrk; k++) {
    const an_track *t = &res->trk[k];
    fprintf(f, "%u,%.9f,%.6f,%zu,%zu,%zu,%.4f,%d,", t->tid, t->t0_s, t->duration_s, t->count, t->cycles,
            t->cycles_on, t->n0_ratio, t->accepted);
    if (t->accepted && t->olsf.iterations)
      fprintf(f, "%.6g,%.4g,%d,%.4g,%d,", t->D_um2_s, t->sigma_nm, t->olsf.s, t->olsf.X, t->olsf.converged);
    else
      fprintf(f, ",,,,,");
    if (isfinite(t->err_nm)) fprintf(f, "%.4g", t->err_nm);
    fprintf(f, ",%s\n", t->why ? t->why : "");
  }
  return close_checked(f, path, err, errlen);
}

/* ---- MSD ---- */

/* The track's timeline arrays (x, y, q), as in the OLSF. */
static size_t track_timeline(const an_raw *raw, const an_result *res, const an_track *t, double **x, double **y, uint8_t **q)
{
  const an_loc *L0 = res->loc + t->first;
  const size_t S = t->cycles;
  *x = calloc(S, sizeof **x);
  *y = calloc(S, sizeof **y);
  *q = calloc(S, 1);
  if (!*x || !*y || !*q) { free(*x); free(*y); free(*q); *x = *y = NULL; *q = NULL; return 0; }
  const uint64_t s0 = raw->rec[L0[0].rec].seq;
  for (size_t i = 0; i < t->count; i++) {
    if (!L0[i].used) continue;
    const size_t j = (size_t)(raw->rec[L0[i].rec].seq - s0);
    (*x)[j] = L0[i].x_nm; (*y)[j] = L0[i].y_nm; (*q)[j] = 1;
  }
  return S;
}

static int cmp_len(const void *a, const void *b, void *ctx)
{
  const an_result *r = ctx;
  const size_t x = r->trk[*(const size_t *)a].count, y = r->trk[*(const size_t *)b].count;
  return x < y ? 1 : x > y ? -1 : 0;
}

int an_write_msd(const char *dir, const an_raw *raw, const an_result *res, int png, char *err, size_t errlen)
{
  if (res->pipeline == AN_PIPE_IMAGE) return 0;
  char path[4200];
  FILE *f = open_in(dir, "msd.csv", path, sizeof path, err, errlen);
  if (!f) return -1;
  fprintf(f, "tid,lag,lag_s,msd_nm2,pairs,fit_nm2\n");
  /* the longest accepted tracks go into the plot */
  size_t *ord = malloc((res->ntrk + 1) * sizeof *ord), no = 0;
  for (size_t k = 0; ord && k < res->ntrk; k++)
    if (res->trk[k].accepted && res->trk[k].olsf.iterations) ord[no++] = k;
  if (ord) qsort_r(ord, no, sizeof *ord, cmp_len, (void *)res);
  const size_t nplot = no < 8 ? no : 8;
  double xmax = 0, ymax = 0;
  double **px = calloc(nplot + 1, sizeof *px), **pyv = calloc(nplot + 1, sizeof *pyv);
  int *pn = calloc(nplot + 1, sizeof *pn);
  for (size_t k = 0; k < res->ntrk; k++) {
    const an_track *t = &res->trk[k];
    if (!t->accepted || !t->olsf.iterations) continue;
    double *x, *y;
    uint8_t *q;
    const size_t S = track_timeline(raw, res, t, &x, &y, &q);
    if (!S) continue;
    size_t smax = (size_t)(2 * t->olsf.s > 10 ? 2 * t->olsf.s : 10);
    if (smax > 200) smax = 200;
    if (smax > S - 1) smax = S - 1;
    double *rho = malloc((smax + 1) * sizeof *rho), *pairs = malloc((smax + 1) * sizeof *pairs);
    if (rho && pairs) {
      msd_blink(x, y, q, S, smax, rho, pairs);
      for (size_t s = 1; s <= smax; s++)
        fprintf(f, "%u,%zu,%.9f,%.4f,%.0f,%.4f\n", t->tid, s, s * res->dt_s, rho[s], pairs[s], t->olsf.a + t->olsf.b * s);
      for (size_t j = 0; j < nplot; j++)
        if (ord[j] == k) {
          px[j] = malloc((smax + 1) * sizeof **px);
          pyv[j] = rho;
          rho = NULL;
          pn[j] = (int)smax;
          for (size_t s = 0; px[j] && s <= smax; s++) px[j][s] = s * res->dt_s * 1e3;
          xmax = fmax(xmax, smax * res->dt_s * 1e3);
          for (size_t s = 1; s <= smax; s++) if (isfinite(pyv[j][s])) ymax = fmax(ymax, pyv[j][s]);
        }
    }
    free(rho); free(pairs); free(x); free(y); free(q);
  }
  int rc = close_checked(f, path, err, errlen);
  if (rc == 0 && png && nplot) {
    char title[160];
    snprintf(title, sizeof title, "MSD with blinking (S68) and OLSF fits (S67), %zu longest of %zu tracks", nplot, res->accepted);
    plot *p = plot_new(800, 560, title, "lag (ms)", "MSD (nm^2)", 0, xmax * 1.02, 0, ymax * 1.1, 0);
    if (p) plot_legend_bottom(p);
    for (size_t j = 0; p && j < nplot; j++) {
      const an_track *t = &res->trk[ord[j]];
      if (!px[j]) continue;
      plot_points(p, px[j] + 1, pyv[j] + 1, (size_t)pn[j], plot_color((int)j), 2.5);
      const double fx[2] = { 0, px[j][pn[j]] }, fy[2] = { t->olsf.a, t->olsf.a + t->olsf.b * pn[j] };
      plot_lines(p, fx, fy, 2, plot_color((int)j), 1.5);
      char lab[96];
      snprintf(lab, sizeof lab, "#%u D %.3g, s %d", t->tid, t->D_um2_s, t->olsf.s);
      plot_legend(p, lab, plot_color((int)j), 0);
    }
    if (p) {
      char note[160];
      snprintf(note, sizeof note, "median D = %.4g um^2/s, sigma = %.3g nm (lines: fits over lags 1..s)", res->D_um2_s, res->sigma_nm);
      plot_note(p, note);
      snprintf(path, sizeof path, "%s/msd.png", dir);
      rc = plot_write_png(p, path, err, errlen);
      plot_free(p);
    }
  }
  for (size_t j = 0; j < nplot; j++) { free(px[j]); free(pyv[j]); }
  free(px); free(pyv); free(pn); free(ord);
  return rc;
}

/* ---- export.npy (Abberior m2410 flat layout) ---- */

int an_write_npy(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen)
{
  const an_header *h = &raw->h;
  size_t off[AN_M2410_NFIELDS];
  const size_t rs = npy_row_size(an_m2410_fields, AN_M2410_NFIELDS, off);
  uint64_t rows = 0;
  for (size_t i = 0; i < res->nloc; i++) rows += res->trk[res->loc[i].tid - 1].accepted;
  char path[4200];
  FILE *f = open_in(dir, "export.npy", path, sizeof path, err, errlen);
  if (!f) return -1;
  if (npy_write_header(f, an_m2410_fields, AN_M2410_NFIELDS, rows, err, errlen)) { fclose(f); return -1; }
  const double gate_s = h->gate_cycles ? h->gate_cycles / h->clk_hz : res->dt_s / h->k;
  /* background per cycle: the off level of the HMM (tracks) or state 1 of S75 (imaging) */
  const double bg_cycle = res->pipeline == AN_PIPE_IMAGE ? res->h3.lambda_bg : res->h2.lambda_off[1];
  const float fbg = (float)(bg_cycle / (h->k * gate_s));
  uint8_t row[256];
  for (size_t i = 0; i < res->nloc; i++) {
    const an_loc *l = &res->loc[i];
    const an_track *t = &res->trk[l->tid - 1];
    if (!t->accepted) continue;
    memset(row, 0, rs);
    const int first = i == t->first, last = i == t->first + t->count - 1;
    npy_put_u8(row + off[0], 1);                    /* vld */
    npy_put_u8(row + off[1], 1);                    /* fnl: the only iteration */
    npy_put_u8(row + off[2], first);                /* bot */
    npy_put_u8(row + off[3], last);                 /* eot */
    npy_put_u8(row + off[4], l->valid ? 0 : 1);     /* sta: 1 = outside the calibrated region */
    npy_put_f64(row + off[5], l->t_s);              /* tim */
    npy_put_u32(row + off[6], l->tid);              /* tid */
    npy_put_u32(row + off[7], 0);                   /* gri */
    npy_put_u8(row + off[8], 0);                    /* thi */
    npy_put_u8(row + off[9], 0);                    /* sqi */
    npy_put_i32(row + off[10], 0);                  /* itr */
    const double lx = isfinite(l->lx_nm) ? l->lx_nm : l->x_nm, ly = isfinite(l->ly_nm) ? l->ly_nm : l->y_nm;
    const double loc[3] = { l->x_nm * 1e-9, l->y_nm * 1e-9, 0 }, lnc[3] = { lx * 1e-9, ly * 1e-9, 0 };
    for (int c = 0; c < 3; c++) {
      npy_put_f64(row + off[11] + 8 * c, loc[c]);
      npy_put_f64(row + off[12] + 8 * c, lnc[c]);
    }
    const uint32_t eco = l->n - l->n0, ecc = l->n0;
    npy_put_u32(row + off[13], eco);
    npy_put_u32(row + off[14], ecc);
    const double efo = h->k > 1 ? eco / (l->cycles * (h->k - 1) * gate_s) : 0, efc = ecc / (l->cycles * gate_s);
    npy_put_f32(row + off[15], (float)efo);
    npy_put_f32(row + off[16], (float)efc);
    npy_put_f16(row + off[17], (float)(efo > 0 ? efc / efo : 0));
    const double chs = (double)l->ch0 + l->ch1;
    npy_put_f16(row + off[18], (float)(chs > 0 ? l->ch0 / chs : 0));
    npy_put_f16(row + off[18] + 2, (float)(chs > 0 ? l->ch1 / chs : 0));
    npy_put_f32(row + off[19], fbg);
    fwrite(row, 1, rs, f);
  }
  return close_checked(f, path, err, errlen);
}

/* ---- PNGs ---- */

static void extent(const an_result *res, double *x0, double *x1, double *y0, double *y1)
{
  *x0 = *y0 = INFINITY;
  *x1 = *y1 = -INFINITY;
  for (size_t i = 0; i < res->nloc; i++) {
    const an_loc *l = &res->loc[i];
    if (!res->trk[l->tid - 1].accepted) continue;
    *x0 = fmin(*x0, l->x_nm); *x1 = fmax(*x1, l->x_nm);
    *y0 = fmin(*y0, l->y_nm); *y1 = fmax(*y1, l->y_nm);
  }
  if (!(*x1 >= *x0)) { *x0 = *y0 = -100; *x1 = *y1 = 100; }
  const double m = fmax(fmax(*x1 - *x0, *y1 - *y0) * 0.05, 10);
  *x0 -= m; *x1 += m; *y0 -= m; *y1 += m;
}

static double nice_length(double v)
{
  const double mag = pow(10, floor(log10(v))), f = v / mag;
  return (f < 2 ? 1 : f < 5 ? 2 : 5) * mag;
}

int an_write_pngs(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen)
{
  char path[4200], title[200];
  double x0, x1, y0, y1;
  extent(res, &x0, &x1, &y0, &y1);
  const int img = res->pipeline == AN_PIPE_IMAGE;
  /* at most ~150000 points are drawn (every stride-th localization of each track): cairo
   * needs ~15 us per segment, and the render below shows every localization anyway */
  size_t drawn = 0;
  for (size_t k = 0; k < res->ntrk; k++) if (res->trk[k].accepted) drawn += res->trk[k].count;
  const size_t stride = drawn > 150000 ? (drawn + 149999) / 150000 : 1;
  char every[48] = "";
  if (stride > 1) snprintf(every, sizeof every, ", every %zuth point", stride);
  snprintf(title, sizeof title, img ? "%zu localized events (%s%s)" : "%zu accepted tracks (%s refinement%s)",
           res->accepted, res->estimator == AN_EST_MLE ? "MLE" : res->estimator == AN_EST_NUMLMS ? "numLMS" : "live mLMS",
           every);
  plot *p = plot_new(720, 720, title, "x (nm)", "y (nm)", x0, x1, y0, y1, 1);
  if (!p) { snprintf(err, errlen, "out of memory"); return -1; }
  double *bx = malloc((res->nloc + 1) * sizeof *bx), *by = malloc((res->nloc + 1) * sizeof *by);
  if (!bx || !by) { free(bx); free(by); plot_free(p); snprintf(err, errlen, "out of memory"); return -1; }
  for (size_t k = 0; k < res->ntrk; k++) {
    const an_track *t = &res->trk[k];
    if (!t->accepted) continue;
    size_t m = 0;
    for (size_t i = 0; i < t->count; i += stride) { bx[m] = res->loc[t->first + i].x_nm; by[m++] = res->loc[t->first + i].y_nm; }
    if (img) plot_points(p, bx, by, m, plot_color((int)k), 2);
    else plot_lines(p, bx, by, m, plot_color((int)k), 1);
  }
  /* the true trajectory (truth.csv of the virtual board) over the tracks */
  const plot_rgb grey = {0.05, 0.05, 0.05};
  int have_truth = 0;
  if (raw->have_truth && !img) {
    for (size_t k = 0; k < res->ntrk; k++) {
      const an_track *t = &res->trk[k];
      if (!t->accepted) continue;
      size_t m = 0;
      for (size_t i = 0; i < t->count; i += stride) {
        const an_loc *l = &res->loc[t->first + i];
        if (l->has_truth) { bx[m] = l->tx_nm; by[m++] = l->ty_nm; }
      }
      if (m) { plot_lines(p, bx, by, m, grey, 1.2); have_truth = 1; }
    }
  }
  if (have_truth) { plot_legend(p, "truth (S82)", grey, 1); plot_legend(p, "tracked", plot_color(0), 1); }
  snprintf(path, sizeof path, "%s/tracks.png", dir);
  int rc = plot_write_png(p, path, err, errlen);
  plot_free(p);
  if (rc) { free(bx); free(by); return -1; }
  /* rendered localizations: a histogram blurred by a Gaussian of the localization
   * precision (sigma from the OLSF, else 4 nm), at most 400 x 400 pixels */
  const double span = fmax(x1 - x0, y1 - y0);
  double px_nm = fmax(span / 400, 0.5);
  const int nx = (int)ceil((x1 - x0) / px_nm), ny = (int)ceil((y1 - y0) / px_nm);
  double *im = calloc((size_t)nx * ny, sizeof *im), *tmp = calloc((size_t)nx * ny, sizeof *tmp);
  if (!im || !tmp) { free(im); free(tmp); free(bx); free(by); snprintf(err, errlen, "out of memory"); return -1; }
  for (size_t i = 0; i < res->nloc; i++) {
    const an_loc *l = &res->loc[i];
    if (!res->trk[l->tid - 1].accepted) continue;
    const int ix = (int)((l->x_nm - x0) / px_nm), iy = (int)((l->y_nm - y0) / px_nm);
    if (ix >= 0 && iy >= 0 && ix < nx && iy < ny) im[(size_t)iy * nx + ix] += 1;
  }
  const double sig_nm = isfinite(res->sigma_nm) && res->sigma_nm > 0 ? res->sigma_nm : 4.0;
  const double sp = fmax(sig_nm / px_nm, 0.7);
  const int hw = (int)ceil(3 * sp);
  double *ker = malloc((2 * hw + 1) * sizeof *ker), ks = 0;
  for (int k = -hw; ker && k <= hw; k++) ks += ker[k + hw] = exp(-0.5 * k * k / (sp * sp));
  for (int k = 0; ker && k <= 2 * hw; k++) ker[k] /= ks;
  for (int iy = 0; ker && iy < ny; iy++)
    for (int ix = 0; ix < nx; ix++) {
      double s = 0;
      for (int k = -hw; k <= hw; k++) { const int j = ix + k; if (j >= 0 && j < nx) s += ker[k + hw] * im[(size_t)iy * nx + j]; }
      tmp[(size_t)iy * nx + ix] = s;
    }
  for (int iy = 0; ker && iy < ny; iy++)
    for (int ix = 0; ix < nx; ix++) {
      double s = 0;
      for (int k = -hw; k <= hw; k++) { const int j = iy + k; if (j >= 0 && j < ny) s += ker[k + hw] * tmp[(size_t)j * nx + ix]; }
      im[(size_t)iy * nx + ix] = s;
    }
  free(ker);
  const double bar = nice_length(span / 5);
  char barlab[32];
  if (bar >= 1000) snprintf(barlab, sizeof barlab, "%g um", bar / 1000);
  else snprintf(barlab, sizeof barlab, "%g nm", bar);
  snprintf(title, sizeof title, "rendered localizations (Gaussian sigma %.3g nm)", sig_nm);
  snprintf(path, sizeof path, "%s/render.png", dir);
  rc = plot_heatmap_png(path, im, nx, ny, x0, x0 + nx * px_nm, y0, y0 + ny * px_nm, title, "x (nm)", "y (nm)",
                        "localizations per pixel", 1, bar, barlab, err, errlen);
  free(im); free(tmp); free(bx); free(by);
  return rc;
}

/* ---- summary.json ---- */

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

int an_write_summary(const char *dir, const char *raw_path, const an_raw *raw, const an_result *res,
                     double elapsed_s, char *err, size_t errlen)
{
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  snprintf(tmp, sizeof tmp, "%s/.summary.json.tmp", dir);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!json_is_object(root)) { json_decref(root); root = json_object(); }
  const int img = res->pipeline == AN_PIPE_IMAGE;
  json_object_set_new(root, "D_um2_s", num_or_null(res->D_um2_s));
  json_object_set_new(root, "sigma_nm", num_or_null(res->sigma_nm));
  json_object_set_new(root, "photons_per_loc", num_or_null(res->photons_per_loc));
  json_object_set_new(root, "sbr", num_or_null(res->sbr));
  json_object_set_new(root, "fraction_on", num_or_null(res->fraction_on));
  json_t *dur = json_array();
  for (size_t k = 0; k < res->ntrk; k++)
    if (res->trk[k].accepted) json_array_append_new(dur, json_real(res->trk[k].duration_s));
  json_object_set_new(root, "track_durations_s", dur);
  json_object_set_new(root, "tracking_error_nm", num_or_null(res->err_nm));

  json_t *a = json_object();
  json_object_set_new(a, "raw_file", json_string(raw_path));
  json_object_set_new(a, "pipeline", json_string(img ? "image" : "track"));
  json_object_set_new(a, "estimator", json_string(res->estimator == AN_EST_MLE ? "mle" : res->estimator == AN_EST_NUMLMS ? "numlms" : "mlms"));
  json_object_set_new(a, "records", json_integer((json_int_t)raw->n));
  json_object_set_new(a, "gaps", json_integer((json_int_t)raw->gaps));
  json_object_set_new(a, "record_period_s", json_real(res->dt_s));
  json_object_set_new(a, "blur_R", json_real(res->R_blur));
  json_object_set_new(a, "crc_errors", json_integer((json_int_t)raw->crc_errors));
  json_object_set_new(a, "rejected_records", json_integer((json_int_t)raw->rejected));
  json_object_set_new(a, "file_bytes", json_integer((json_int_t)raw->file_bytes));
  json_t *dm = json_array();
  uint64_t damaged = 0;
  for (size_t i = 0; i < raw->ndmg; i++) {
    json_t *d = json_object();
    json_object_set_new(d, "offset", json_integer((json_int_t)raw->dmg[i].offset));
    json_object_set_new(d, "bytes", json_integer((json_int_t)raw->dmg[i].bytes));
    json_object_set_new(d, "what", json_string(raw->dmg[i].what));
    if (json_array_size(dm) < 1000) json_array_append_new(dm, d); else json_decref(d);
    damaged += raw->dmg[i].bytes;
  }
  json_object_set_new(a, "damage", dm);
  json_object_set_new(a, "damaged_stretches", json_integer((json_int_t)raw->ndmg));
  json_object_set_new(a, "damaged_bytes", json_integer((json_int_t)damaged));
  json_object_set_new(a, "first_damage_offset", raw->ndmg ? json_integer((json_int_t)raw->dmg[0].offset) : json_null());
  json_object_set_new(a, "tracks", json_integer((json_int_t)res->ntrk));
  json_object_set_new(a, "tracks_accepted", json_integer((json_int_t)res->accepted));
  json_object_set_new(a, "localizations", json_integer((json_int_t)res->nloc));
  json_object_set_new(a, "outside_calibrated_region", json_integer((json_int_t)res->outside));
  json_object_set_new(a, "track_states_mask", json_integer((json_int_t)res->track_states));
  json_object_set_new(a, "records_other_states", json_integer((json_int_t)res->other_state));
  if (img) {
    json_object_set_new(a, "hmm3_lambda_per_cycle", json_pack("[fff]", res->h3.lambda[0], res->h3.lambda[1], res->h3.lambda[2]));
    json_object_set_new(a, "hmm3_cycles_per_state", json_pack("[III]", (json_int_t)res->h3.occupancy[0],
                        (json_int_t)res->h3.occupancy[1], (json_int_t)res->h3.occupancy[2]));
    json_object_set_new(a, "lambda_bg_per_cycle", json_real(res->h3.lambda_bg));
  } else {
    json_object_set_new(a, "hmm2_t_on_s", json_pack("[fff]", res->h2.t_on_s[0], res->h2.t_on_s[1], res->h2.t_on_s[2]));
    json_object_set_new(a, "hmm2_t_off_s", json_pack("[fff]", res->h2.t_off_s[0], res->h2.t_off_s[1], res->h2.t_off_s[2]));
    json_object_set_new(a, "hmm2_sbr", json_pack("[ooo]", num_or_null(res->h2.sbr[0]), num_or_null(res->h2.sbr[1]), num_or_null(res->h2.sbr[2])));
    json_object_set_new(a, "lambda_on_per_cycle", json_real(res->h2.lambda_on[1]));
    json_object_set_new(a, "lambda_off_per_cycle", json_real(res->h2.lambda_off[1]));
    json_t *D = json_array(), *S = json_array(), *E = json_array();
    for (size_t k = 0; k < res->ntrk; k++) {
      if (!res->trk[k].accepted) continue;
      json_array_append_new(D, num_or_null(res->trk[k].D_um2_s));
      json_array_append_new(S, num_or_null(res->trk[k].sigma_nm));
      json_array_append_new(E, num_or_null(res->trk[k].err_nm));
    }
    json_object_set_new(a, "track_D_um2_s", D);
    json_object_set_new(a, "track_sigma_nm", S);
    json_object_set_new(a, "track_error_nm", E);
    json_object_set_new(a, "numlms_entries", json_integer(res->numlms_entries));
  }
  if (res->note[0]) json_object_set_new(a, "note", json_string(res->note));
  if (raw->truth_note[0]) json_object_set_new(a, "truth_note", json_string(raw->truth_note));
  json_object_set_new(a, "elapsed_s", json_real(elapsed_s));
  json_object_set_new(root, "analysis", a);
  int rc = 0;
  if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || rename(tmp, path)) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    rc = -1;
  }
  json_decref(root);
  return rc;
}
