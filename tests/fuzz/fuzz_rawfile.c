/* Fuzz target: the raw.mfx reader (host/mfx_files.c: mfx_raw_open, mfx_raw_params) and
 * what `minflux decode` does with the rest of the file (stream decoder, CYCLE parser,
 * table writer), on arbitrary file contents. Properties beyond "no crash, no sanitizer
 * report":
 *  - accepted decode parameters are finite and positive;
 *  - the tables account for every record: the unwrapped sequence number of the last row
 *    is the first seq + records + gaps - 1;
 *  - a header line written by mfx_raw_create reads back identically (the input's bytes
 *    up to the first newline or NUL as the header). */
#include <math.h>
#include <string.h>
#include "fuzz_util.h"
#include "mfx_files.h"

static FILE *g_null;

typedef struct { mfx_tables t; uint16_t first_seq; } dec_ctx;

static void on_frame(void *ctx, const mfx_frame *f)
{
  mfx_cycle c;
  if (f->type != MINFLUX_PROTO_T_CYCLE || mfx_cycle_parse(f, &c)) return;
  dec_ctx *x = ctx;
  const int first = !x->t.started;
  const uint64_t before = x->t.records + x->t.gaps;
  const uint16_t missing = first ? 0 : (uint16_t)(c.seq - x->t.prev_seq - 1u);
  if (first) x->first_seq = c.seq;
  mfx_tables_add(&x->t, &c);
  FZ_CHECK(x->t.records + x->t.gaps == before + 1 + missing, "records + gaps did not advance by 1 + %u", missing);
}

static void decode_file(const char *path)
{
  char err[512], *hdr = NULL;
  FILE *f = mfx_raw_open(path, &hdr, err, sizeof err);
  if (!f) { FZ_CHECK(err[0], "mfx_raw_open failed without a message"); return; }
  FZ_CHECK(hdr && !strchr(hdr, '\n'), "header has a newline");
  mfx_decode_params p;
  memset(&p, 0, sizeof p);
  err[0] = 0;
  const int bad = mfx_raw_params(hdr, &p, err, sizeof err);
  free(hdr);
  if (bad) { FZ_CHECK(err[0], "mfx_raw_params failed without a message"); fclose(f); return; }
  FZ_CHECK(isfinite(p.clk_hz) && p.clk_hz > 0, "clk_hz %g accepted", p.clk_hz);
  FZ_CHECK(isfinite(p.eod_nm_per_lsb) && p.eod_nm_per_lsb > 0, "eod_nm_per_lsb %g accepted", p.eod_nm_per_lsb);
  dec_ctx x;
  memset(&x, 0, sizeof x);   /* mfx_tables_open without files: both tables to /dev/null */
  x.t.p = p;
  x.t.cycles = x.t.tracks = g_null;
  mfx_decoder d;
  mfx_dec_init(&d);
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mfx_dec_feed(&d, buf, n, on_frame, &x);
  fclose(f);
  if (x.t.records)
    FZ_CHECK(x.t.seq_unwrapped == x.first_seq + x.t.records + x.t.gaps - 1, "last seq %llu, first %u, %llu records, %llu gaps",
             (unsigned long long)x.t.seq_unwrapped, x.first_seq, (unsigned long long)x.t.records,
             (unsigned long long)x.t.gaps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!g_null) g_null = fopen("/dev/null", "w");
  if (size > 1 << 20) return 0;
  char path[64];
  int fd = fz_memfd(data, size, path, sizeof path);
  decode_file(path);
  close(fd);

  /* header round trip through mfx_raw_create / mfx_raw_open */
  size_t hl = 0;
  while (hl < size && data[hl] != '\n' && data[hl] != 0) hl++;
  char *h = malloc(hl + 1);
  memcpy(h, data, hl);
  h[hl] = 0;
  fd = fz_memfd(NULL, 0, path, sizeof path);
  char err[512], *back = NULL;
  FILE *w = mfx_raw_create(path, h, err, sizeof err);
  FZ_CHECK(w, "mfx_raw_create: %s", err);
  fclose(w);
  FILE *r = mfx_raw_open(path, &back, err, sizeof err);
  FZ_CHECK(r, "mfx_raw_open of a file just created: %s", err);
  FZ_CHECK(!strcmp(back, h), "header of %zu bytes did not read back", hl);
  FZ_CHECK(fgetc(r) == EOF, "bytes after the header of a file without records");
  fclose(r);
  free(back);
  free(h);
  close(fd);
  return 0;
}
