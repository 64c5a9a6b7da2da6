/* image: the localizations of an imaging-mode run (issue #10, docs/imaging.md) and their
 * analysis: emission events, sites, precision.
 *
 * The firmware's imaging mode (hls-c/regmap_ctl.h) marks every record with its state:
 * 1 search, 2 pre-localization, 4 + s stage s in progress, 12 + s the record that reached
 * stage s's photon limit. A stage localization is the run of consecutive records of one
 * stage that ends with a 12 + s record: N and the counts are the sums over that run, the
 * position is the end record's centre + its live estimate (the mLMS of the stage's sums at
 * L_s, relative to the centre) and, refined here, the 2D MLE (S37) of the summed counts at
 * the stage's actual pattern (offsets >> shift). Final localizations are those of the last
 * stage. The firmware may abort at a stage end (cfr for s >= 1, too few records = too
 * bright): the next record is then SEARCH; the host applies the same rules (it knows the
 * registers from the raw header) and names the reason.
 *
 * Events: consecutive final localizations without a search or pre-localization record
 * between them belong to one emission (one molecule's on period). Sites: events grouped by
 * centroid-linkage agglomerative clustering with a radius, or k-means with k given (e.g.
 * the number of truth sites of DIR/physics.json). */
#ifndef MINFLUX_IMAGE_H
#define MINFLUX_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include "analyze_raw.h"
#include "est_float.h"

#define IMG_STAGES 3

typedef struct {
  int      last;               /* last stage (CTL_MODE[3:2], 3 acts as 2) */
  int      k;                  /* exposures per record (K) */
  double   eod_nm_per_lsb, fwhm_nm, clk_hz;
  double   L_nm[IMG_STAGES];   /* stage diameter: L_nm >> shift (nominal) */
  int      shift[IMG_STAGES];
  unsigned limit[IMG_STAGES];  /* photon limits */
  mf_ebp_t ebp[IMG_STAGES];    /* the stage's actual pattern in nm (offset LSB >> shift) */
  unsigned ratio;              /* CTL_LOSS[7:0]: cfr abort at stage end, s >= 1 (0 off) */
  unsigned dark, bright;       /* CTL_IABORT */
  uint32_t ctl_mode, iact, iact_t;   /* register words as written (for reports) */
  double   rec_s;              /* record period of the stage records */
} img_params;

/* From the raw header of `minflux acquire --mode image`: 1 when it is an imaging run
 * (registers.ctl.CTL_MODE with bit 1), 0 when not, -1 with a message when the header is
 * inconsistent. */
int img_params_from_header(const char *header_json, img_params *p, char *err, size_t errlen);

enum { IMG_AB_NONE, IMG_AB_CFR, IMG_AB_BRIGHT, IMG_AB_UNKNOWN, IMG_AB_N };
extern const char *const img_abort_names[IMG_AB_N];   /* "", "cfr", "bright", "unknown" */

typedef struct {
  size_t   rec, first;         /* stage-end record and the stage's first record (indices) */
  uint32_t nrec;               /* records of the stage */
  double   t_s;                /* start of the stage-end record */
  int      stage, final;
  double   cx_nm, cy_nm;       /* pattern centre of the stage */
  double   ex_nm, ey_nm;       /* the firmware's estimate (mLMS at L_s) relative to it */
  double   x_nm, y_nm;         /* centre + firmware estimate */
  double   mx_nm, my_nm;       /* centre + host 2D MLE of the summed counts (NAN: none) */
  int      mle;                /* 1 inside the grid, 0 on its edge, -1 none */
  uint32_t N, n[8];
  uint32_t ch[2];              /* photons per APD */
  double   cfr;                /* sum n0 / sum N */
  int      incomplete;         /* records of the stage missing (gap): sums too small */
  int      abort;              /* IMG_AB_*: the controller aborted at this record */
  int      next_state;         /* state of the next record (-1: none, end of run or gap) */
  uint32_t event;              /* final and not aborted: its emission event (from 1), else 0 */
  int      low_efo;            /* analyze's efo filter: left out of its event (img_events skips it) */
} img_loc;

typedef struct {
  img_loc *loc;
  size_t   nloc, cap;
  size_t   nfinal, nfinal_ok;          /* final localizations, of them not aborted */
  size_t   by_stage[IMG_STAGES];       /* stage localizations per stage */
  size_t   aborted[IMG_AB_N];          /* stage-end aborts by reason (all stages) */
  size_t   aborted_final[IMG_AB_N];
  size_t   dark_aborts[IMG_STAGES];    /* stages left for SEARCH without reaching the limit */
  size_t   rule_mismatch;              /* host rule verdict differs from the next record's state */
  uint64_t by_state[16];               /* records by state (flags 7:4) */
  uint32_t nevents;
  double   sbr[IMG_STAGES];            /* per stage: (sum N - K sum n0) / (K sum n0), centred-emitter estimate */
} img_result;

/* Stage localizations of the records of raw. mle: also the host 2D MLE, with the SBR
 * sbr (> 0) or, when sbr <= 0, the stage's estimate from its own localizations. 0 or -1. */
int  img_extract(const an_raw *raw, const img_params *p, int mle, double sbr, img_result *r, char *err, size_t errlen);
void img_result_free(img_result *r);

/* The abort verdict of the host rules for a stage localization (IMG_AB_NONE, _CFR, _BRIGHT). */
int  img_rule(const img_params *p, int stage, uint32_t nrec, uint32_t n0, uint32_t N);

/* ---- events, sites ---- */

typedef struct {
  uint32_t id;                 /* = img_loc.event */
  size_t   nloc;
  double   t0_s, t1_s;
  double   x_nm, y_nm;         /* mean of its final localizations */
  double   ss_nm2;             /* sum of squared distances to the mean (both axes) */
  double   photons;            /* mean N per localization */
  int      site;               /* cluster label, -1 unassigned */
  int      truth;              /* truth site on during it (virtual board, synthetic), -1 */
} img_event;

/* Events of r (use_mle: the host MLE positions, else the firmware's). *ev malloc'd. */
int img_events(const img_result *r, int use_mle, img_event **ev, size_t *nev);

typedef struct {
  double x_nm, y_nm;
  size_t events, locs;
  double tx_nm, ty_nm;         /* matched truth site (NAN: none) */
  int    truth;                /* index of the matched truth site, -1 */
} img_site;

/* Centroid-linkage agglomerative clustering of points (x, y) weighted by w: clusters merge
 * while the closest pair of centroids is nearer than radius. label[i] = cluster; sites
 * (capacity n) get the weighted centroids. Returns the number of clusters. */
size_t img_cluster_radius(const double *x, const double *y, const double *w, size_t n, double radius,
                          int *label, img_site *sites);
/* Weighted k-means (k-means++ starts, `restarts` of them from seed, the lowest sum of
 * squares kept). Returns k (or n when n < k). */
size_t img_kmeans(const double *x, const double *y, const double *w, size_t n, size_t k, unsigned seed,
                  int restarts, int *label, img_site *sites);
/* An event whose own localizations scatter more than one emitter at precision sigma
 * allows: ss/sigma^2 ~ chi^2 with 2 (n - 1) dof has an upper tail below alpha (two
 * emitters, or a switch within the event). 0 for n < 2 or sigma not > 0. */
int img_event_mixed(const img_event *e, double sigma, double alpha);
/* k-means with k chosen from the data: the smallest k (1..kmax) for which the points of
 * every cluster scatter about its centre as their known variance predicts. Point i has
 * variance sigma^2 / w[i] per axis (an event mean of w[i] localizations of precision
 * sigma), so a cluster of one site has sum w |p - c|^2 / sigma^2 ~ chi^2 with 2 (n - 1)
 * degrees of freedom; k is accepted when no cluster's upper tail probability is below
 * alpha / k. *p_min (may be NULL) gets the smallest tail probability of the k returned.
 * Only clusterings whose centres are min_sep apart (the resolution asked for) count; when
 * the restarts find none for k, the search ends at k - 1 (then *p_min may be below
 * alpha / k: the sites scatter more than the precision alone explains). When no
 * k <= kmax passes, returns kmax's clustering with *p_min below alpha / kmax. 0: none. */
size_t img_kmeans_auto(const double *x, const double *y, const double *w, size_t n, size_t kmax, double sigma,
                       double alpha, double min_sep, unsigned seed, int restarts, int *label, img_site *sites,
                       double *p_min);
/* Matches sites to truth positions (tx, ty; nt of them, at most 8 sites matched
 * exhaustively) minimizing the sum of squared distances after removing the mean offset
 * when remove_offset; fills sites[].truth/tx/ty. Returns the RMS distance of the matched
 * pairs (after the offset, dx, dy, when removed; may be NULL). */
double img_match_truth(img_site *sites, size_t ns, const double *tx, const double *ty, size_t nt,
                       int remove_offset, double *dx, double *dy);

#endif
