/* `minflux acquire --mode hex` (issue #6 item 3): conventional iterative MINFLUX with the
 * hexagon pattern (centre + 6 at 60 deg; seed 002's comparison, its ref [4]). The firmware's
 * multiplex sequencer runs the pattern with K = 7; the host runs the stages: stage s runs the
 * hexagon of diameter hex_L_nm[s] around the centre until hex_photons[s] photons, the host
 * stops it, computes the Poisson maximum-likelihood position of the stage's sums (the same
 * likelihood as the Bayesian model, host/bayes_float.c bf_mle) and re-centres the next stage
 * on it. Stage 2's estimate is the localization; the next one starts again from the prior
 * centre. Every record also goes to cycles.csv / tracks.csv as in track mode.
 * Columns: README "Hexagon acquisition". */
#ifndef MINFLUX_ACQ_HEX_H
#define MINFLUX_ACQ_HEX_H
#include <stdint.h>
#include <jansson.h>
#include "acq_bayes.h"
#include "acq_config.h"
#include "link.h"
#include "mfx_files.h"

#define ACQ_HEX_K 7

/* One stage as run. */
typedef struct {
  int      loc, stage;
  double   L_nm;
  int16_t  cx, cy;             /* pattern centre, DAC LSB (inside the safe window) */
  int16_t  bx[ACQ_HEX_K], by[ACQ_HEX_K];   /* beam positions as the DAC places them, DAC LSB */
  unsigned amp;                /* LASER_AMP */
  double   eta;                /* amp x bayes_eta_per_code: photons per exposure at the doughnut maximum */
  uint64_t n[ACQ_HEX_K], m[ACQ_HEX_K];     /* photons and exposures per pattern position */
  uint64_t records, photons, gaps;
  double   t0_s, t1_s;         /* first and last record start */
  double   x_nm, y_nm;         /* the stage's maximum-likelihood position (NaN: no record) */
  int      reached;            /* ended at its photon limit */
} acq_hex_stage;

/* One localization (its stages in the stage list). */
typedef struct {
  int      index, stages;      /* stages run */
  double   t0_s, t1_s, x_nm, y_nm;
  uint64_t photons, records, gaps;
  const char *reason;          /* finished (stage 2 reached its limit) or stopped */
  double   tx_nm, ty_nm, err_nm;   /* truth (NaN without) */
} acq_hex_loc;

typedef struct {
  const acq_config *cfg;
  const acq_regs   *regs;
  double clk;
  mfx_tables *tab;             /* cycles.csv / tracks.csv: every record goes there first */
  int active;                  /* a stage is collecting */
  acq_hex_stage cur;
  uint64_t gaps0;
  acq_hex_stage *st;
  size_t nst, capst;
  acq_hex_loc *loc;
  size_t nloc, caploc;
  int oom;
  int fw_budget;               /* the firmware holds PHOTON_STOP and ends each stage itself (-1: not asked yet) */
} acq_hex;

void acq_hex_init(acq_hex *h, const acq_config *c, const acq_regs *r, double clk, mfx_tables *tab);
/* The link's record callback (ctx: the acq_hex). */
void acq_hex_on_cycle(void *ctx, const mfx_cycle *c);
/* Runs localizations until the duration (firmware time) is used, Ctrl-C, or an error:
 * 0, 1 (an emergency stop, printed) or 3 (the link failed, printed). */
int  acq_hex_loop(acq_hex *h, mfx_link *l, const acq_bayes_io *io);
/* Writes DIR/hex_stages.csv and DIR/localizations.csv (truth_csv: NULL or the board's
 * truth.csv), adds the results to sum and prints them. 0, or -1 with err. */
int  acq_hex_finish(acq_hex *h, const char *dir, const char *truth_csv, json_t *sum, char *err, size_t errlen);
void acq_hex_free(acq_hex *h);

/* `minflux decode` of a hexagon raw file (f after the header hdr_json): cycles.csv and
 * tracks.csv, and hex_stages.csv and localizations.csv rebuilt as acquire wrote them. A stage
 * is the run of K = 7 records between two sequencer starts (the centre moves, or a record
 * starts later than its sequence number allows at the stage's record period); its stage index,
 * L, laser code, limit and estimate follow from the header's configuration as in acquire.
 * truth_csv: NULL or the emitter's truth.csv. 0, or -1 with err. */
int  acq_hex_decode_raw(FILE *f, const char *hdr_json, const char *dir, const char *truth_csv, char *err, size_t errlen);

/* The pattern of stage s around centre (cx, cy) DAC LSB: the centre clamped into the safe
 * window, the beam positions as the DAC clamps them, the laser code for bayes_mu photons
 * per exposure from an emitter at the centre (1..bayes_amp_max). Exported for tests. */
void acq_hex_pattern(const acq_config *c, const acq_regs *r, int s, double cx_nm, double cy_nm, acq_hex_stage *st);
/* The laser calibration the counts give: bayes_eta_per_code (photons per exposure per laser
 * code at the doughnut maximum) maximizing the Poisson likelihood of every finished
 * localization's three stages (each localization at its own maximum-likelihood position,
 * bayes_s_nm and bayes_b as configured), searched within a factor 10 of the one used; and
 * with the background free too, *eta_b and *b_fit (NaN when that fit did not converge).
 * NaN without a finished localization; *nloc: those used. */
double acq_hex_fit_eta(const acq_hex *h, int *nloc, double *eta_b, double *b_fit);
/* The stage's maximum-likelihood position from its sums (x_nm, y_nm; NaN without photons). */
void acq_hex_stage_mle(const acq_config *c, acq_hex_stage *st);

#endif
