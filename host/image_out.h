/* image_out: the files of an imaging-mode run (docs/imaging.md "Outputs"):
 * `minflux acquire --mode image` writes DIR/localizations.csv (final localizations),
 * DIR/stage_localizations.csv (every stage) and summary.json "imaging";
 * `minflux analyze DIR` of such a run adds the rendered image (image.png, sites.png),
 * events.csv, sites.csv, precision.csv, export.npy (m2410 fields, one row per stage
 * localization) and the "imaging_analysis" keys of summary.json. */
#ifndef MINFLUX_IMAGE_OUT_H
#define MINFLUX_IMAGE_OUT_H
#include <stdio.h>
#include <jansson.h>
#include "image.h"
#include "img_regs.h"

int     img_write_locs(const char *dir, const img_params *p, const img_result *r, char *err, size_t errlen);
/* regs: the conversion acquire used (NULL in analyze: from the register words) */
json_t *img_summary_json(const img_params *p, const img_result *r, const img_regs_t *regs);
void    img_print_summary(FILE *f, const img_params *p, const img_result *r);

typedef struct {
  int      use_mle;          /* positions: 1 the host 2D MLE, 0 the firmware's (centre + live mLMS) */
  double   sbr;              /* MLE: SBR (<= 0: per-stage estimate) */
  int      sites;            /* k-means with this k (0: k chosen from the data, img_kmeans_auto) */
  double   radius_nm;        /* agglomerative clustering radius */
  int      min_event_locs;   /* events with fewer final localizations are not clustered */
  double   efo_min;          /* final localizations below efo_min x the median photon rate leave their event */
  int      png;
  unsigned seed;             /* k-means starts */
  int      quiet;
} img_opts;

/* the k-means choice of k from the data: significance of a cluster's excess scatter */
#define IMG_AUTO_ALPHA 1e-3
/* a site needs this many events (fewer: outliers), k-means and agglomerative alike */
#define IMG_SITE_MIN_EVENTS 3
void img_default_opts(img_opts *o);
/* The whole imaging analysis of DIR (raw already read, p from its header). Prints the report
 * on stdout unless quiet. 0, or -1 with a message. */
int img_analyze(const char *dir, const an_raw *raw, const img_params *p, const img_opts *o, char *err, size_t errlen);

/* Truth of the virtual board: the sites of DIR/physics.json ("sites": [{"x_nm":, "y_nm":}, ...]
 * or [[x, y], ...]) and the fraction of truth.csv rows with n_on >= 2. */
typedef struct {
  size_t nsites;
  double x[8], y[8];
  double frac_ge2;           /* of all rows of truth.csv (NAN: no n_on column) */
  double frac_ge2_of_on;     /* of the rows with n_on >= 1 */
  double frac_ge1;
  double phys_frac_ge2;      /* physics.json's own figure when it has one (NAN) */
  size_t rows;
  int    have_sites, have_non;
  /* truth.csv's runs of one site on (n_on == 1, the site nearest x_nm, y_nm) */
  struct img_truth_seg { double t0_s, t1_s; int site; } *seg;
  size_t nseg;
} img_truth;
void img_truth_read(const char *dir, img_truth *t);
void img_truth_free(img_truth *t);
/* The truth site on for most of [t0, t1] (-1: none on alone then). */
int img_truth_site_at(const img_truth *t, double t0_s, double t1_s);

#endif
