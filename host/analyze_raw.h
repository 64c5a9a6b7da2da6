/* analyze_raw: an acquisition read back for analysis. The raw file (DIR/raw.mfx) goes
 * through the same reader and stream decoder as `minflux decode` (mfx_raw_open,
 * mfx_dec_feed, mfx_cycle_parse); every CYCLE record becomes one an_rec in memory, and
 * every stretch of bytes that did not decode (garbage, a frame with a bad CRC, a frame
 * cut off by the end of the file, a record inconsistent with its neighbours) becomes a
 * damage entry with its byte offset in the file. The optional truth.csv of the virtual
 * board is read alongside. Nothing here aborts on bad data: what decodes is kept. */
#ifndef MINFLUX_ANALYZE_RAW_H
#define MINFLUX_ANALYZE_RAW_H
#include <stddef.h>
#include <stdint.h>
#include "mfx_files.h"
#include "track_error.h"

/* One multiplex cycle as recorded. */
typedef struct {
  uint64_t seq;            /* unwrapped sequence number (cycle index, gaps included) */
  double   t_s;            /* start of the record's (first) cycle on the firmware clock */
  float    cx_nm, cy_nm;   /* pattern centre */
  float    ex_nm, ey_nm;   /* live estimate relative to the centre */
  uint16_t n[8];           /* counts per exposure, both APDs summed */
  uint16_t ch[2];          /* counts per APD channel, all exposures summed */
  uint8_t  k, flags;
} an_rec;

/* A stretch of the file that did not decode into records. */
typedef struct {
  uint64_t offset;         /* byte offset in the file of the first damaged byte */
  uint64_t bytes;
  const char *what;        /* "garbage", "CRC error", "truncated frame", "implausible record" */
} an_damage;

/* What the raw header says about the run (defaults where a key is missing). */
typedef struct {
  char   mode[16];                 /* config.mode: "track", "image", ... */
  double clk_hz, eod_nm_per_lsb;
  double cycle_hz;                 /* actual multiplex rate */
  int    k;                        /* exposures per cycle */
  double L_nm, fwhm_nm;
  int    est_k;
  double beta[3];
  double thresh;
  unsigned delay_cycles, gate_cycles, win_cycles;   /* registers (0 when absent) */
  unsigned agg;                    /* multiplex cycles summed into one record (1 when absent) */
} an_header;

typedef struct {
  char *header_json;
  an_header h;
  an_rec *rec;
  size_t n, cap;
  an_damage *dmg;
  size_t ndmg, capdmg;
  uint64_t data_offset;            /* file offset of the first link byte */
  uint64_t file_bytes;
  uint64_t gaps;                   /* missing sequence numbers between records */
  uint64_t crc_errors, skipped_bytes, frames_other, rejected;
  int read_error;                  /* an I/O error stopped reading (damage entry added) */
  te_table truth;                  /* truth.csv (host/track_error.h reader) */
  int have_truth;
  char truth_note[320];            /* why truth.csv was not (fully) used, or "" */
} an_raw;

/* Reads DIR-less path `raw` (a raw.mfx file). Returns 0 when the header was readable
 * (records and damage filled in as far as the file allows), -1 with a message when the
 * file cannot be used at all (missing, not a raw file, header unreadable). */
int  an_raw_read(const char *path, an_raw *r, char *err, size_t errlen);
/* Parses the header JSON into h (also used by tests). */
int  an_header_parse(const char *json, an_header *h, char *err, size_t errlen);
/* Reads truth.csv (t_s,x_nm,y_nm,on) into r->truth with te_read_csv; a missing file is
 * not an error (returns 1); a malformed file is not used (truth_note says why, returns -1). */
int  an_truth_read(const char *path, an_raw *r);
void an_raw_free(an_raw *r);

/* Multiplex cycle period in seconds (from the registers when known). */
double an_period_s(const an_header *h);
/* Record period: agg cycles. */
double an_record_period_s(const an_header *h);

#endif
