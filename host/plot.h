/* plot: small PNG plots with libcairo for the analysis outputs: line/point plots with
 * axes, ticks, labels and a legend, and heat maps (a colour bar, optional scale bar). */
#ifndef MINFLUX_PLOT_H
#define MINFLUX_PLOT_H
#include <stddef.h>

typedef struct { double r, g, b; } plot_rgb;
typedef struct plot plot;

/* Categorical colour i (cycles through 10). */
plot_rgb plot_color(int i);

/* A plot of width x height pixels with data range [x0, x1] x [y0, y1]; equal_aspect
 * widens one range so that a unit is as long on both axes (for positions). */
plot *plot_new(int width, int height, const char *title, const char *xlabel, const char *ylabel,
               double x0, double x1, double y0, double y1, int equal_aspect);
/* A polyline; a NaN coordinate starts a new piece. */
void plot_lines(plot *p, const double *x, const double *y, size_t n, plot_rgb c, double width);
void plot_points(plot *p, const double *x, const double *y, size_t n, plot_rgb c, double radius);
/* Vertical error bars of half-length e. */
void plot_errbars(plot *p, const double *x, const double *y, const double *e, size_t n, plot_rgb c);
void plot_legend(plot *p, const char *label, plot_rgb c, int as_line);
/* Legend entries from the lower right corner upwards instead of the upper right downwards. */
void plot_legend_bottom(plot *p);
/* A line of text under the title (e.g. fit results). */
void plot_note(plot *p, const char *text);
/* A scale bar of `length` data units labelled `label` at the lower right of the plot area. */
void plot_scalebar(plot *p, double length, const char *label);
int  plot_write_png(plot *p, const char *path, char *err, size_t errlen);
void plot_free(plot *p);

/* A heat map of v[iy * nx + ix] (iy = 0 at y0) over [x0, x1] x [y0, y1] with a colour
 * bar; NaN cells are white. scalebar > 0 draws a scale bar of that many x units labelled
 * scalebar_label; hot = 1 uses a black-red-yellow-white map (renders), else blue-yellow. */
int plot_heatmap_png(const char *path, const double *v, int nx, int ny, double x0, double x1,
                     double y0, double y1, const char *title, const char *xlabel, const char *ylabel,
                     const char *cbar_label, int hot, double scalebar, const char *scalebar_label,
                     char *err, size_t errlen);

/* Releases the font caches of cairo and fontconfig (call once, after the last plot). */
void plot_shutdown(void);

#endif
