/* track_error: see track_error.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "est_float.h"
#include "track_error.h"

/* v at time x (linear between samples, held outside) */
static double lin_at(const double *t, const double *v, size_t n, size_t i, double x)
{
  if (x <= t[0]) return v[0];
  if (x >= t[n - 1]) return v[n - 1];
  return v[i] + (v[i + 1] - v[i]) * (x - t[i]) / (t[i + 1] - t[i]);
}

/* last i with t[i] <= x (0 if none) */
static size_t seg(const double *t, size_t n, double x)
{
  size_t lo = 0, hi = n - 1;
  if (x <= t[0]) return 0;
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    if (t[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo < n - 1 ? lo : n - 2;
}

double te_mean_over(const double *t, const double *v, size_t n, double t0, double t1)
{
  if (n == 0) return NAN;
  if (n == 1) return v[0];
  if (!(t1 > t0)) return lin_at(t, v, n, seg(t, n, t0), t0);
  double area = 0, a = t0;
  /* before the first sample and after the last: held */
  if (a < t[0]) { const double b = t1 < t[0] ? t1 : t[0]; area += v[0] * (b - a); a = b; }
  for (size_t i = seg(t, n, a); a < t1 && i + 1 < n; i++) {
    if (t[i + 1] <= a) continue;
    const double b = t1 < t[i + 1] ? t1 : t[i + 1];
    area += 0.5 * (lin_at(t, v, n, i, a) + lin_at(t, v, n, i, b)) * (b - a);   /* exact for linear */
    a = b;
  }
  if (a < t1) area += v[n - 1] * (t1 - a);
  return area / (t1 - t0);
}

double te_epsilon(const double *ex, const double *ey, const double *tx, const double *ty, size_t M, int d)
{
  if (M == 0 || (d != 1 && d != 2)) return NAN;
  double s = 0;
  for (size_t i = 0; i < M; i++) {
    const double dx = ex[i] - tx[i];
    s += dx * dx;
    if (d == 2) { const double dy = ey[i] - ty[i]; s += dy * dy; }
  }
  return sqrt(s / ((double)d * (double)M));
}

double te_spread(const double *x, const double *y, size_t M)
{
  if (M < 2) return NAN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < M; i++) { mx += x[i]; my += y[i]; }
  mx /= (double)M; my /= (double)M;
  double s = 0;
  for (size_t i = 0; i < M; i++) s += (x[i] - mx) * (x[i] - mx) + (y[i] - my) * (y[i] - my);
  return sqrt(s / (2.0 * (double)(M - 1)));
}

double te_crb_expect(const double *N, const double *rx, const double *ry, size_t M,
                     double L, double fwhm, double sbr0)
{
  mf_ebp_t ebp;
  mf_ebp4(L, fwhm, &ebp);
  double s = 0;
  size_t used = 0;
  for (size_t i = 0; i < M; i++) {
    if (!(N[i] > 0)) continue;
    const double c = rx ? mf_crb(&ebp, rx[i], ry[i], N[i], sbr0, NULL)
                        : (sbr0 > 0 && isfinite(sbr0) ? mf_crb_s31(L, fwhm, N[i], sbr0) : mf_crb_s27(L, fwhm, N[i]));
    if (!isfinite(c)) continue;
    s += c * c;
    used++;
  }
  return used ? sqrt(s / (double)used) : NAN;
}

void te_free(te_table *t)
{
  if (t->names) for (size_t i = 0; i < t->cols; i++) free(t->names[i]);
  free(t->names);
  free(t->v);
  memset(t, 0, sizeof *t);
}

int te_col(const te_table *t, const char *name)
{
  for (size_t i = 0; i < t->cols; i++) if (!strcmp(t->names[i], name)) return (int)i;
  return -1;
}

int te_read_csv(const char *path, te_table *t, char *err, size_t errlen)
{
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return -1; }
  char *line = NULL;
  size_t cap = 0, vcap = 0;
  long lineno = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (lineno == 1) {
      for (char *p = line, *tok; (tok = strsep(&p, ","));) {
        char **nn = realloc(t->names, (t->cols + 1) * sizeof *nn);
        if (!nn) goto oom;
        t->names = nn;
        t->names[t->cols++] = strdup(tok);
      }
      continue;
    }
    if (!len) continue;
    if ((t->rows + 1) * t->cols > vcap) {
      vcap = vcap ? 2 * vcap : 1024 * t->cols;
      double *nv = realloc(t->v, vcap * sizeof *nv);
      if (!nv) goto oom;
      t->v = nv;
    }
    size_t c = 0;
    for (char *p = line, *tok; (tok = strsep(&p, ",")); c++) {
      char *end;
      errno = 0;
      const double x = strtod(tok, &end);
      if (c >= t->cols || errno || end == tok || *end) {
        snprintf(err, errlen, "%s:%ld: column %zu%s%s: '%s' is not a number (or too many columns)", path, lineno, c + 1,
                 c < t->cols ? " " : "", c < t->cols ? t->names[c] : "", tok);
        goto fail;
      }
      t->v[t->rows * t->cols + c] = x;
    }
    if (c != t->cols) {
      snprintf(err, errlen, "%s:%ld: %zu columns, the header has %zu", path, lineno, c, t->cols);
      goto fail;
    }
    t->rows++;
  }
  if (lineno == 0) { snprintf(err, errlen, "%s is empty (no header line)", path); goto fail; }
  free(line);
  fclose(f);
  return 0;
oom:
  snprintf(err, errlen, "out of memory reading %s", path);
fail:
  free(line);
  fclose(f);
  te_free(t);
  return -1;
}

size_t te_match_truth(const te_table *truth, const double *t_loc, size_t M, double span_s,
                      double *mx, double *my, int *on)
{
  const int ct = te_col(truth, "t_s"), cx = te_col(truth, "x_nm"), cy = te_col(truth, "y_nm"), co = te_col(truth, "on");
  size_t unmatched = 0, j = 0;
  const double eps = 1e-7;   /* the files print times to 1 ns */
  for (size_t i = 0; i < M; i++) {
    double sx = 0, sy = 0;
    int all_on = 1;
    size_t n = 0;
    if (ct < 0 || cx < 0 || cy < 0 || co < 0) { mx[i] = my[i] = NAN; on[i] = 0; unmatched++; continue; }
    while (j < truth->rows && te_at(truth, j, ct) < t_loc[i] - eps) j++;
    for (size_t k = j; k < truth->rows && te_at(truth, k, ct) < t_loc[i] + span_s - eps; k++) {
      sx += te_at(truth, k, cx);
      sy += te_at(truth, k, cy);
      all_on &= te_at(truth, k, co) != 0;
      n++;
    }
    if (!n) { mx[i] = my[i] = NAN; on[i] = 0; unmatched++; continue; }
    mx[i] = sx / (double)n;
    my[i] = sy / (double)n;
    on[i] = all_on;
  }
  return unmatched;
}

void te_truth_between(const te_table *tt, int ct, int cx, int cy, double t0, double t1, double *x, double *y)
{
  double sx = 0, sy = 0, best = INFINITY;
  size_t m = 0, nearest = 0;
  for (size_t r = 0; r < tt->rows; r++) {
    const double t = te_at(tt, r, ct);
    if (t >= t0 && t <= t1) { sx += te_at(tt, r, cx); sy += te_at(tt, r, cy); m++; }
    const double d = t < t0 ? t0 - t : t > t1 ? t - t1 : 0;
    if (d < best) { best = d; nearest = r; }
  }
  *x = m ? sx / m : te_at(tt, nearest, cx);
  *y = m ? sy / m : te_at(tt, nearest, cy);
}

int te_read_truth(const char *path, te_table *t, int col[3], char *err, size_t errlen)
{
  if (te_read_csv(path, t, err, errlen)) return -1;
  if ((col[0] = te_col(t, "t_s")) < 0 || (col[1] = te_col(t, "x_nm")) < 0 || (col[2] = te_col(t, "y_nm")) < 0 || !t->rows) {
    snprintf(err, errlen, "%s has no rows t_s,x_nm,y_nm", path);
    te_free(t);
    return -1;
  }
  return 0;
}

int te_truth_open(const char *truth_csv, te_table *t, int col[3])
{
  char e[400];
  memset(t, 0, sizeof *t);
  if (!truth_csv) return 0;
  if (te_read_truth(truth_csv, t, col, e, sizeof e)) {
    fprintf(stderr, "minflux: warning: no truth for the localizations: %s\n", e);
    return 0;
  }
  return 1;
}

void te_truth_error(const te_table *t, const int col[3], double t0, double t1, double x, double y, double *tx, double *ty,
                    double *err)
{
  te_truth_between(t, col[0], col[1], col[2], t0, t1, tx, ty);
  *err = hypot(x - *tx, y - *ty);
}
