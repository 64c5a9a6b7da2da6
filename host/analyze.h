/* analyze: the analysis of one acquisition (`minflux analyze DIR`, docs/analysis.md).
 *
 * Tracking (mode track): the total counts per multiplex cycle are segmented into emitter
 * on/off by the two-state HMM (S78-S80); on-periods separated by less than split_off_s
 * of darkness form a track; each on-cycle with >= min_counts photons is re-localized from
 * its count quartet (numLMS S58 with the HMM's SBR, or the 2D MLE S37, or the live mLMS as
 * recorded) and added to the pattern centre of its cycle (section 6.4.5); accepted tracks
 * (<n0/N> < n0_ratio_max, >= min_locs localizations) get D and sigma from the MSD with
 * blinking and the OLSF (S67-S71), and the tracking error against truth.csv (S81/S82).
 *
 * Imaging (mode image): the three-state HMM (S75) finds single-emitter events; the cycles
 * of an event (minus those next to a transition) are summed, the SBR of the event follows
 * from S76 and the event is localized by the 2D MLE (S37) or numLMS. */
#ifndef MINFLUX_ANALYZE_H
#define MINFLUX_ANALYZE_H
#include <stddef.h>
#include <stdint.h>
#include "analyze_raw.h"
#include "hmm.h"
#include "olsf.h"

enum an_estimator { AN_EST_NUMLMS, AN_EST_MLE, AN_EST_MLMS };
enum an_pipeline { AN_PIPE_AUTO, AN_PIPE_TRACK, AN_PIPE_IMAGE };

typedef struct {
  int    estimator;        /* -1: numlms for tracks, mle for imaging events */
  int    pipeline;
  double sbr;              /* > 0: use this SBR instead of the HMM's */
  double split_off_s;      /* darkness that ends a track (0.1 s, section 6.4.4.1) */
  double n0_ratio_max;     /* track acceptance, <n0/N> below this (0.23) */
  int    min_counts;       /* localizations with fewer photons are discarded (3) */
  int    min_locs;         /* accepted tracks have at least this many localizations (100, 6.4.7) */
  double min_photons;      /* imaging: events with fewer photons are not localized (50) */
  double jump_nm;          /* a centre step larger than this between records splits a track (0: 2 L) */
  unsigned track_states;   /* tracking: bit s set = records in controller state s (flags 7:4) are
                              tracking records; 0 = auto: state 3 (MINFLUX tracking of the
                              controller, issue #5) when the stream has any, else all states */
  int    verbose;
} an_opts;

void an_default_opts(an_opts *o);

typedef struct {
  uint32_t tid;            /* track / event id, from 1 */
  size_t   rec;            /* record index (the event's first record) */
  double   t_s;
  double   x_nm, y_nm;     /* refined, absolute */
  double   lx_nm, ly_nm;   /* live estimate as recorded (centre + estimate), absolute */
  double   cx_nm, cy_nm;   /* pattern centre */
  uint32_t n, n0;          /* photons, of them in the centre exposure */
  uint32_t ch0, ch1;       /* photons per APD */
  uint32_t cycles;         /* multiplex cycles summed (1 for tracks) */
  double   sbr;            /* SBR used for the refinement */
  uint8_t  valid;          /* the refinement is inside its calibrated region */
  uint8_t  used;           /* enters the MSD (q_i of S69) */
  uint8_t  has_truth;
  double   tx_nm, ty_nm;   /* truth (cycle average, S82) */
} an_loc;

typedef struct {
  uint32_t tid;
  size_t   first, count;   /* localizations loc[first .. first+count-1] */
  double   t0_s, t1_s;     /* first and last localization (cycle start) */
  double   duration_s;     /* t1 - t0 + one record period */
  size_t   cycles, cycles_on;
  double   n0_ratio;       /* <n0/N> over the on-cycles */
  int      accepted;
  const char *why;         /* reason when not accepted */
  olsf_result olsf;
  double   D_um2_s, sigma_nm;
  double   err_nm;         /* S81 against truth.csv, NAN without */
  size_t   err_n;
} an_track;

typedef struct {
  int      pipeline;       /* AN_PIPE_TRACK or AN_PIPE_IMAGE */
  int      estimator;
  double   dt_s;           /* record period */
  double   R_blur;         /* S66 */
  an_loc  *loc;
  size_t   nloc;
  an_track *trk;
  size_t   ntrk;
  hmm2_result h2;
  hmm3_result h3;
  double   sbr;            /* used for the refinement (tracks) / median of the events */
  double   fraction_on;
  double   photons_per_loc;
  double   D_um2_s, sigma_nm, err_nm;   /* medians over accepted tracks (NAN when none) */
  size_t   accepted;
  size_t   timeline;       /* samples of the cycle timeline (records + gaps) */
  size_t   outside;        /* refined localizations outside the calibrated region */
  unsigned track_states;   /* the states used (bit mask) */
  size_t   other_state;    /* records of other controller states (search, pre-localization) */
  double   numlms_build_s; /* time spent building numLMS entries */
  int      numlms_entries;
  char     note[256];
} an_result;

/* Runs the pipeline on a read acquisition. 0, or -1 with a message (nothing usable). */
int  an_run(const an_raw *raw, const an_opts *o, an_result *res, char *err, size_t errlen);
void an_result_free(an_result *r);

double an_median(double *v, size_t n);   /* sorts v; NAN for n = 0 */

#endif
