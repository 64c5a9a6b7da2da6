/* `minflux acquire --mode bayes` (issue #6 item 5): the Bayesian MINFLUX block of the firmware
 * runs one localization per CTRL start; the host starts them one after the other (a new
 * BAYES_SEED each), decodes every exposure record, writes DIR/bayes_exposures.csv and
 * DIR/localizations.csv, and replays every localization's counts through the bit-exact C
 * model (hls-c/bayes.c) to check each record. Record layout: docs/protocol.md (Bayesian
 * records); columns: README "Bayesian acquisition". */
#ifndef MINFLUX_ACQ_BAYES_H
#define MINFLUX_ACQ_BAYES_H
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "acq_config.h"
#include "link.h"
#include "mfx_files.h"

/* One exposure record, decoded. */
typedef struct {
  uint64_t seq;              /* unwrapped */
  uint64_t ts;               /* exposure start, clock cycles (unwrapped) */
  uint32_t k;                /* exposure index in its localization (from the record's count) */
  int16_t  bx, by;           /* beam of this exposure, DAC LSB (the block places inside the safe window) */
  uint16_t amp;              /* laser code A */
  int16_t  lsig;             /* log2(std / h0), Q8.8, after the update */
  int32_t  map_x, map_y;     /* MAP after the update, sub-LSB from BAYES_ORIGIN */
  uint16_t n;                /* photons of the exposure (both APDs) */
  uint16_t exp16;            /* exposures so far, low 16 bits */
  uint8_t  lev, status;      /* spacing halvings; BAYES_STATUS bits 3..0 after the update */
  uint8_t  flags;
} acq_bayes_rec;

/* One localization. */
typedef struct {
  int      index;
  uint32_t seed;
  size_t   records;          /* received */
  uint64_t photons, exposures;
  double   t0_s, t1_s;       /* first and last exposure start */
  double   x_nm, y_nm, std_nm;
  int      lev;
  unsigned status;           /* BAYES_STATUS after it ended */
  const char *reason;        /* std_target, photon_budget, stopped; end_lost (decode only: the
                                records of its end were lost, the result is its last record's) */
  const char *replay;        /* ok, mismatch, skipped (records lost), none (no records) */
  uint64_t mismatches;       /* records that differ from the model */
  double   tx_nm, ty_nm, err_nm;   /* truth (NaN without) */
} acq_bayes_loc;

typedef struct acq_bayes {
  const acq_config *cfg;
  const acq_regs   *regs;
  double clk;
  FILE  *exp_csv;
  int    write_failed;
  /* the record stream */
  uint64_t records, gaps, photons, foreign, late;
  uint64_t seq_unw, ts_hi, first_ts, last_ts;
  uint16_t prev_seq;
  uint32_t prev_ts;
  int      started;
  /* the running localization */
  int      active, cur_done;
  int      end_lost;         /* set before acq_bayes_end: the running localization's end was lost */
  acq_bayes_rec *rec;
  size_t   nrec, caprec;
  /* finished localizations */
  acq_bayes_loc *loc;
  size_t   nloc, caploc;
  /* the bit-exact replay */
  void    *model;            /* bayes_state_t */
  uint64_t replayed, mismatches, replay_skipped, reg_mismatches;
  char     first_mismatch[256];
} acq_bayes;

/* The D(sigma) table: bayes_dtable if given (checked against bayes_mu, bayes_b, bayes_s_nm),
 * else computed (seconds; progress on stderr); saved as DIR/dtable.csv; then the registers
 * again with it. Returns 0, or -1 with a message naming the key in err (a usage error). */
int  acq_bayes_dtable(const acq_config *c, acq_regs *r, const char *dir, char *err, size_t errlen);

/* Register writes: BAYES_MODE = 1, read back (0: the firmware has no Bayesian block ->
 * returns 1 with the message in err), then every BAYES_* register and the 128 D entries.
 * With another mode it writes BAYES_MODE = 0 (a firmware without it ignores the write).
 * -1: the link failed (l->err). */
int  acq_bayes_configure(mfx_link *l, const acq_config *c, const acq_regs *r, char *err, size_t errlen);

/* The registers as written, for the raw header. */
json_t *acq_bayes_header(const acq_regs *r);

int  acq_bayes_open(acq_bayes *b, const acq_config *c, const acq_regs *r, double clk, const char *dir, char *err, size_t errlen);
/* The link's record callback. */
void acq_bayes_on_cycle(void *ctx, const mfx_cycle *c);

typedef struct {
  volatile sig_atomic_t *interrupted;
  double duration_s;         /* firmware time from the first record's start */
  int    tty;
  double t0;                 /* wall clock of the start (status line) */
  double watchdog_ms;
  int   *wdog_tripped;
  FILE  *raw;                /* flushed with the tables */
} acq_bayes_io;

/* The running localization: acq_bayes_begin before CTRL start; acq_bayes_end with the
 * block's registers BAYES_STATUS, MAP_X, MAP_Y, STD read after it ended: the result, the
 * replay of its records through the C model (seed = its BAYES_SEED), one line on stdout.
 * -1: out of memory. (acq_bayes_loop calls them; exported for tests/test_acq_bayes.c.) */
void acq_bayes_begin(acq_bayes *b);
int  acq_bayes_end(acq_bayes *b, uint32_t seed, uint32_t st, uint32_t mx, uint32_t my, uint32_t sd);

/* Runs localizations until the duration is used, Ctrl-C, or an error: 0, 1 (the firmware
 * does not run Bayesian localizations, message printed) or 3 (the link failed, printed). */
int  acq_bayes_loop(acq_bayes *b, mfx_link *l, const acq_bayes_io *io);

/* bayes_host = on (README "Bayesian acquisition"): the host runs the bit-exact model
 * hls-c/bayes.c in place of the firmware's block, for a firmware without it (the board
 * image). The firmware runs one exposure per CTRL start (K = 1, NCYCLES = 1) at CENTRE_X/Y
 * with LASER_AMP, the model's beam and laser code; the count of each plain K = 1 record
 * updates the model, whose outputs make the Bayesian exposure record the block would have
 * sent (same seq and timestamp), passed to acq_bayes_on_cycle: the tables, the replay and
 * the results are those of the block. A record lost on the link ends its localization
 * (stopped: the model cannot go on without the count); the next one starts with the next
 * seed. */
typedef struct {
  acq_bayes   *b;
  bayes_regs_t rg;           /* the running localization's registers (its seed) */
  void        *m;            /* bayes_state_t */
  bayes_out_t  o;            /* the model's last output: the next beam and code, or done */
  int          running, waiting;
  uint64_t     moved;        /* records at another centre than placed (the DAC clamped it) */
} acq_bayes_host;

int  acq_bayes_host_init(acq_bayes_host *h, acq_bayes *b);   /* -1: out of memory */
void acq_bayes_host_free(acq_bayes_host *h);
/* The link's record callback (ctx: the acq_bayes_host). */
void acq_bayes_host_on_cycle(void *ctx, const mfx_cycle *c);
/* Runs localizations until the duration is used, Ctrl-C, or an error: 0, 1 (emergency stop)
 * or 3 (the link failed); messages printed. */
int  acq_bayes_host_loop(acq_bayes_host *h, mfx_link *l, const acq_bayes_io *io);

/* The Bayesian exposure record the block sends (docs/protocol.md) for the exposure placed by
 * before and updated to after, with the channel counts ch0, ch1: the fields of c but seq, ts
 * and the saturation flag. (acq_bayes_decode reads it back.) */
void acq_bayes_encode(const bayes_out_t *before, const bayes_out_t *after, unsigned ch0, unsigned ch1, mfx_cycle *c);

/* The stream counters in the shape the acquisition summary uses. */
void acq_bayes_tab(const acq_bayes *b, mfx_tables *t);
/* The shared pieces (also tests/test_bayes_vboard.c): the fields of one Bayesian exposure
 * record (docs/protocol.md; seq, ts, k left 0); every BAYES_* register and D entry but
 * BAYES_MODE (0, or -1 with l->err); the bit-exact replay of n records of one localization
 * through hls-c/bayes.c from bayes_start (model: a bayes_state_t), returning the records that
 * differ, the first described in first, the model's last output in last (may be NULL). */
void     acq_bayes_decode(const mfx_cycle *c, acq_bayes_rec *r);
int      acq_bayes_write_regs(mfx_link *l, const bayes_regs_t *g);
uint64_t acq_bayes_replay(const bayes_regs_t *rg, const acq_bayes_rec *rec, size_t n, void *model,
                          bayes_out_t *last, char *first, size_t firstlen);

/* Closes bayes_exposures.csv, matches the localizations to truth_csv (NULL: no truth),
 * writes DIR/localizations.csv, adds the Bayesian results to sum and prints them.
 * Returns 0 or -1 with err. */
int  acq_bayes_finish(acq_bayes *b, const char *dir, const char *truth_csv, json_t *sum, char *err, size_t errlen);
void acq_bayes_free(acq_bayes *b);

/* The acquisition's configuration from a raw header: every config key through acq_set, the
 * registers from acq_to_regs (NCYCLES for 1 s), firmware.clk_hz. Returns the parsed header
 * (json_decref it), or NULL with err naming what is missing or wrong. (Decoders of modes
 * bayes and hex.) */
json_t *acq_header_config(const char *hdr_json, acq_config *c, acq_regs *r, double *clk_hz, char *err, size_t errlen);

/* `minflux decode` of a Bayesian raw file (f positioned after the header hdr_json): the
 * configuration and the BAYES_* registers and D table from the header, then every record
 * through the writer and replay `minflux acquire` uses, so DIR/bayes_exposures.csv and
 * DIR/localizations.csv match the acquisition's. A localization ends at the record whose
 * status has the done bit, before a record of exposure 1 (a new start), or at the end of the
 * file; its result is its last record's (the registers acquire reads hold the same); its seed
 * acq_bayes_loc_seed(config, index). truth_csv: NULL or the emitter's truth.csv. Returns 0,
 * or -1 with err (a header that names no usable configuration, an unwritable DIR). */
int  acq_bayes_decode_raw(FILE *f, const char *hdr_json, const char *dir, const char *truth_csv, char *err, size_t errlen);

#endif
