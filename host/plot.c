/* plot: see plot.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include "plot.h"

struct plot {
  cairo_surface_t *s;
  cairo_t *cr;
  int w, h;
  double l, r, t, b;           /* plot area in pixels */
  double x0, x1, y0, y1;
  int nlegend, nnote;
  int legend_bottom;
};

plot_rgb plot_color(int i)
{
  static const plot_rgb pal[10] = {
    { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
    { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
    { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 } };
  return pal[((i % 10) + 10) % 10];
}

static double px(const plot *p, double x) { return p->l + (x - p->x0) / (p->x1 - p->x0) * (p->r - p->l); }
static double py(const plot *p, double y) { return p->b - (y - p->y0) / (p->y1 - p->y0) * (p->b - p->t); }

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks over range. */
static double nice_step(double range, int n)
{
  if (!(range > 0) || !isfinite(range)) return 1;
  const double raw = range / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - ax * e.width - e.x_bearing, y - ay * e.height - e.y_bearing);
  cairo_show_text(cr, s);
}

static void fmt_tick(char *buf, size_t n, double v, double step)
{
  const int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  snprintf(buf, n, "%.*f", dec, fabs(v) < step * 1e-6 ? 0.0 : v);
}

static void draw_axes(plot *p, const char *title, const char *xlabel, const char *ylabel)
{
  cairo_t *cr = p->cr;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 15);
  if (title) text_at(cr, (p->l + p->r) / 2, 8, title, 0.5, 0);
  cairo_set_font_size(cr, 12);
  char buf[64];
  const double sx = nice_step(p->x1 - p->x0, 6), sy = nice_step(p->y1 - p->y0, 6);
  cairo_set_line_width(cr, 1);
  for (double v = ceil(p->x0 / sx) * sx; v <= p->x1 + sx * 1e-9; v += sx) {
    const double X = floor(px(p, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, X, p->t); cairo_line_to(cr, X, p->b); cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, X, p->b); cairo_line_to(cr, X, p->b + 5); cairo_stroke(cr);
    fmt_tick(buf, sizeof buf, v, sx);
    text_at(cr, X, p->b + 8, buf, 0.5, 0);
  }
  for (double v = ceil(p->y0 / sy) * sy; v <= p->y1 + sy * 1e-9; v += sy) {
    const double Y = floor(py(p, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, p->l, Y); cairo_line_to(cr, p->r, Y); cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, p->l - 5, Y); cairo_line_to(cr, p->l, Y); cairo_stroke(cr);
    fmt_tick(buf, sizeof buf, v, sy);
    text_at(cr, p->l - 8, Y, buf, 1, 0.5);
  }
  cairo_rectangle(cr, p->l + 0.5, p->t + 0.5, p->r - p->l, p->b - p->t);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 13);
  if (xlabel) text_at(cr, (p->l + p->r) / 2, p->h - 6, xlabel, 0.5, 1);
  if (ylabel) {
    cairo_save(cr);
    cairo_translate(cr, 14, (p->t + p->b) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, ylabel, 0.5, 0.5);
    cairo_restore(cr);
  }
}

static plot *plot_alloc(int width, int height, double right_margin)
{
  plot *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->w = width; p->h = height;
  p->s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  p->cr = cairo_create(p->s);
  p->l = 78; p->r = width - right_margin; p->t = 34; p->b = height - 48;
  return p;
}

plot *plot_new(int width, int height, const char *title, const char *xlabel, const char *ylabel,
               double x0, double x1, double y0, double y1, int equal_aspect)
{
  plot *p = plot_alloc(width, height, 20);
  if (!p) return NULL;
  if (!(x1 > x0)) { x0 -= 1; x1 = x0 + 2; }
  if (!(y1 > y0)) { y0 -= 1; y1 = y0 + 2; }
  if (equal_aspect) {
    const double sx = (x1 - x0) / (p->r - p->l), sy = (y1 - y0) / (p->b - p->t);
    if (sx > sy) { const double c = (y0 + y1) / 2, hh = sx * (p->b - p->t) / 2; y0 = c - hh; y1 = c + hh; }
    else { const double c = (x0 + x1) / 2, hw = sy * (p->r - p->l) / 2; x0 = c - hw; x1 = c + hw; }
  }
  p->x0 = x0; p->x1 = x1; p->y0 = y0; p->y1 = y1;
  draw_axes(p, title, xlabel, ylabel);
  return p;
}

static void clip_area(plot *p)
{
  cairo_save(p->cr);
  cairo_rectangle(p->cr, p->l, p->t, p->r - p->l, p->b - p->t);
  cairo_clip(p->cr);
}

void plot_lines(plot *p, const double *x, const double *y, size_t n, plot_rgb c, double width)
{
  clip_area(p);
  cairo_t *cr = p->cr;
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_set_line_width(cr, width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_FAST);
  int open = 0;
  size_t seg = 0;
  double lx = 0, ly = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) { if (open) cairo_stroke(cr); open = 0; continue; }
    const double X = px(p, x[i]), Y = py(p, y[i]);
    if (!open) {
      cairo_move_to(cr, X, Y);
    } else {
      /* points within a third of a pixel of the last one drawn change nothing visible:
       * skipped (a million-point track would otherwise take minutes) */
      if (fabs(X - lx) < 0.33 && fabs(Y - ly) < 0.33 && i + 1 < n) continue;
      cairo_line_to(cr, X, Y);
    }
    lx = X; ly = Y;
    open = 1;
    if (++seg == 16) { cairo_stroke(cr); cairo_move_to(cr, X, Y); seg = 0; }   /* short strokes: cairo is slow on long self-overlapping paths */
  }
  if (open) cairo_stroke(cr);
  cairo_restore(cr);
}

void plot_points(plot *p, const double *x, const double *y, size_t n, plot_rgb c, double radius)
{
  clip_area(p);
  cairo_t *cr = p->cr;
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    cairo_new_sub_path(cr);
    cairo_arc(cr, px(p, x[i]), py(p, y[i]), radius, 0, 2 * M_PI);
    if ((i & 1023) == 1023) cairo_fill(cr);
  }
  cairo_fill(cr);
  cairo_restore(cr);
}

void plot_errbars(plot *p, const double *x, const double *y, const double *e, size_t n, plot_rgb c)
{
  clip_area(p);
  cairo_t *cr = p->cr;
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_set_line_width(cr, 1);
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i]) || !isfinite(e[i])) continue;
    const double X = px(p, x[i]);
    cairo_move_to(cr, X, py(p, y[i] - e[i]));
    cairo_line_to(cr, X, py(p, y[i] + e[i]));
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

void plot_legend(plot *p, const char *label, plot_rgb c, int as_line)
{
  cairo_t *cr = p->cr;
  const double y = p->legend_bottom ? p->b - 16 - 18 * p->nlegend++ : p->t + 16 + 18 * p->nlegend++, x = p->r - 170;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, x - 6, y - 9, 172, 18);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  if (as_line) {
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, x, y); cairo_line_to(cr, x + 22, y); cairo_stroke(cr);
  } else {
    cairo_arc(cr, x + 11, y, 3.5, 0, 2 * M_PI); cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 12);
  text_at(cr, x + 28, y, label, 0, 0.5);
}

void plot_legend_bottom(plot *p) { p->legend_bottom = 1; }

void plot_note(plot *p, const char *text)
{
  cairo_t *cr = p->cr;
  cairo_set_font_size(cr, 12);
  const double y = p->t + 14 + 16 * p->nnote++;
  cairo_text_extents_t e;
  cairo_text_extents(cr, text, &e);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, p->l + 6, y - 8, e.width + 8, 16);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  text_at(cr, p->l + 10, y, text, 0, 0.5);
}

void plot_scalebar(plot *p, double length, const char *label)
{
  cairo_t *cr = p->cr;
  const double x1 = p->r - 16, x0 = x1 - length / (p->x1 - p->x0) * (p->r - p->l), y = p->b - 18;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 6);
  cairo_move_to(cr, x0, y); cairo_line_to(cr, x1, y); cairo_stroke(cr);
  cairo_set_font_size(cr, 13);
  text_at(cr, (x0 + x1) / 2, y - 8, label, 0.5, 1);
}

int plot_write_png(plot *p, const char *path, char *err, size_t errlen)
{
  cairo_surface_flush(p->s);
  const cairo_status_t st = cairo_surface_write_to_png(p->s, path);
  if (st != CAIRO_STATUS_SUCCESS) {
    snprintf(err, errlen, "cannot write %s: %s", path, cairo_status_to_string(st));
    return -1;
  }
  return 0;
}

void plot_free(plot *p)
{
  if (!p) return;
  cairo_destroy(p->cr);
  cairo_surface_destroy(p->s);
  free(p);
}

/* ---- heat maps ---- */

static plot_rgb cmap(double t, int hot)
{
  /* anchor colours, linearly interpolated */
  static const plot_rgb hotc[5] = { { 0, 0, 0 }, { 0.55, 0.05, 0.05 }, { 0.95, 0.35, 0.05 }, { 1, 0.85, 0.2 }, { 1, 1, 1 } };
  static const plot_rgb cool[5] = { { 0.23, 0.10, 0.45 }, { 0.16, 0.38, 0.56 }, { 0.12, 0.62, 0.54 }, { 0.50, 0.80, 0.30 }, { 0.99, 0.91, 0.15 } };
  const plot_rgb *a = hot ? hotc : cool;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const double f = t * 4;
  const int i = f >= 4 ? 3 : (int)f;
  const double u = f - i;
  return (plot_rgb){ a[i].r + u * (a[i + 1].r - a[i].r), a[i].g + u * (a[i + 1].g - a[i].g), a[i].b + u * (a[i + 1].b - a[i].b) };
}

int plot_heatmap_png(const char *path, const double *v, int nx, int ny, double x0, double x1,
                     double y0, double y1, const char *title, const char *xlabel, const char *ylabel,
                     const char *cbar_label, int hot, double scalebar, const char *scalebar_label,
                     char *err, size_t errlen)
{
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < nx * ny; i++)
    if (isfinite(v[i])) { lo = fmin(lo, v[i]); hi = fmax(hi, v[i]); }
  if (!(hi >= lo)) { lo = 0; hi = 1; }
  if (hi == lo) hi = lo + 1;
  const int W = 640 + 100, H = 640;
  plot *p = plot_alloc(W, H, 110);
  if (!p) { snprintf(err, errlen, "out of memory"); return -1; }
  /* square pixels: fit the data aspect into the area */
  const double aw = p->r - p->l, ah = p->b - p->t, asp = (x1 - x0) / (y1 - y0);
  if (asp > aw / ah) { const double h2 = aw / asp; p->t += (ah - h2) / 2; p->b = p->t + h2; }
  else { const double w2 = ah * asp; p->r = p->l + w2; }
  p->x0 = x0; p->x1 = x1; p->y0 = y0; p->y1 = y1;
  draw_axes(p, title, xlabel, ylabel);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, nx, ny);
  unsigned char *d = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  cairo_surface_flush(img);
  for (int iy = 0; iy < ny; iy++)
    for (int ix = 0; ix < nx; ix++) {
      const double val = v[iy * nx + ix];
      plot_rgb c = isfinite(val) ? cmap((val - lo) / (hi - lo), hot) : (plot_rgb){ 1, 1, 1 };
      uint32_t *q = (uint32_t *)(d + (size_t)(ny - 1 - iy) * stride) + ix;
      *q = (uint32_t)lround(c.r * 255) << 16 | (uint32_t)lround(c.g * 255) << 8 | (uint32_t)lround(c.b * 255);
    }
  cairo_surface_mark_dirty(img);
  cairo_t *cr = p->cr;
  cairo_save(cr);
  cairo_translate(cr, p->l, p->t);
  cairo_scale(cr, (p->r - p->l) / nx, (p->b - p->t) / ny);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, p->l + 0.5, p->t + 0.5, p->r - p->l, p->b - p->t);
  cairo_stroke(cr);
  /* colour bar */
  const double bx = p->r + 18, bw = 16;
  for (int i = 0; i < 200; i++) {
    const plot_rgb c = cmap(i / 199.0, hot);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    const double y = p->b - (i + 1) * (p->b - p->t) / 200;
    cairo_rectangle(cr, bx, y, bw, (p->b - p->t) / 200 + 0.5);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, bx + 0.5, p->t + 0.5, bw, p->b - p->t);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  const double st = nice_step(hi - lo, 5);
  char buf[64];
  for (double t = ceil(lo / st) * st; t <= hi + st * 1e-9; t += st) {
    const double y = p->b - (t - lo) / (hi - lo) * (p->b - p->t);
    fmt_tick(buf, sizeof buf, t, st);
    text_at(cr, bx + bw + 4, y, buf, 0, 0.5);
  }
  if (cbar_label) {
    cairo_save(cr);
    cairo_translate(cr, W - 10, (p->t + p->b) / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_set_font_size(cr, 12);
    text_at(cr, 0, 0, cbar_label, 0.5, 0.5);
    cairo_restore(cr);
  }
  if (scalebar > 0) plot_scalebar(p, scalebar, scalebar_label ? scalebar_label : "");
  const int rc = plot_write_png(p, path, err, errlen);
  plot_free(p);
  return rc;
}

void plot_shutdown(void)
{
  /* cairo's font caches hold fontconfig objects: release them, then fontconfig's own */
  cairo_debug_reset_static_data();
  FcFini();
}
