/* Acquisition files: DIR/raw.mfx (header + the exact bytes from the link, append-only)
 * and the tables decoded from it (cycles.csv, tracks.csv). `minflux acquire` and
 * `minflux decode` run the same decoder and writer, so decode reproduces the tables
 * byte for byte. Formats: README "Acquisition files". */
#ifndef MINFLUX_MFX_FILES_H
#define MINFLUX_MFX_FILES_H
#include <stdint.h>
#include <stdio.h>
#include "protocol.h"

#define MFX_RAW_MAGIC "MINFLUX-RAW 1\n"

/* The part of the raw header the tables need. */
typedef struct {
  double clk_hz;
  double eod_nm_per_lsb;
  unsigned agg;              /* multiplex cycles per record (AGG; 1 when absent) */
  uint64_t period_cycles;    /* multiplex cycle period in clk cycles (0: unknown) */
  unsigned k;                /* exposures per cycle (K, 1..8; 0 or absent: 4): cycles.csv has
                                n0..n3 and, for K > 4, n4..n(K-1) as its last columns */
} mfx_decode_params;

/* Table writer fed with CYCLE records in stream order. */
typedef struct {
  FILE *cycles, *tracks;
  mfx_decode_params p;
  uint64_t records, gaps, valid, photons;
  uint64_t seq_unwrapped, ts_hi;
  uint16_t prev_seq;
  uint32_t prev_ts, first_ts;
  uint64_t first_ts_full, last_ts_full;
  double sum_x, sum_y;       /* absolute positions of valid localizations */
  uint64_t by_state[16];     /* records by controller state (flags bits 7:4) */
  int started;
} mfx_tables;

int  mfx_tables_open(mfx_tables *t, const char *dir, const mfx_decode_params *p, char *err, size_t errlen);
void mfx_tables_add(mfx_tables *t, const mfx_cycle *c);
int  mfx_tables_close(mfx_tables *t, char *err, size_t errlen);

/* Raw file: header is one line of JSON (UTF-8, no newline inside). */
FILE *mfx_raw_create(const char *path, const char *header_json, char *err, size_t errlen);
/* Opens a raw file, checks the magic, returns the header JSON (malloc'd) and leaves the
 * stream at the first link byte. */
FILE *mfx_raw_open(const char *path, char **header_json, char *err, size_t errlen);
/* Reads clk_hz and eod_nm_per_lsb from a header. */
int   mfx_raw_params(const char *header_json, mfx_decode_params *p, char *err, size_t errlen);

#endif
