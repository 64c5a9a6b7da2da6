/* `minflux decode RAW --out DIR`: the tables of an acquisition regenerated from its raw
 * file (same decoder and writer as `minflux acquire`, so the files match byte for byte). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mfx_files.h"

static void on_frame(void *ctx, const mfx_frame *f)
{
  mfx_cycle c;
  if (f->type == MINFLUX_PROTO_T_CYCLE && !mfx_cycle_parse(f, &c)) mfx_tables_add(ctx, &c);
}

int cmd_decode(int argc, char **argv)
{
  const char *out = NULL;
  static const struct option lo[] = { { "out", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'h') {
      printf("usage: minflux decode RAW.mfx --out DIR\nWrites DIR/cycles.csv and DIR/tracks.csv from a raw acquisition file.\n");
      return 0;
    } else {
      fprintf(stderr, "minflux decode: unknown or incomplete option '%s' (try --help)\n", argv[optind - 1]);
      return 2;
    }
  }
  if (optind != argc - 1 || !out) {
    fprintf(stderr, "minflux decode: expected one RAW.mfx file and --out DIR (try --help)\n");
    return 2;
  }
  char err[512], *hdr = NULL;
  FILE *f = mfx_raw_open(argv[optind], &hdr, err, sizeof err);
  if (!f) { fprintf(stderr, "minflux decode: %s\n", err); return 1; }
  mfx_decode_params p;
  if (mfx_raw_params(hdr, &p, err, sizeof err)) {
    fprintf(stderr, "minflux decode: %s: %s\n", argv[optind], err);
    free(hdr); fclose(f);
    return 1;
  }
  free(hdr);
  if (mkdir(out, 0777) && errno != EEXIST) {
    fprintf(stderr, "minflux decode: cannot create %s: %s\n", out, strerror(errno));
    fclose(f);
    return 1;
  }
  mfx_tables tab;
  if (mfx_tables_open(&tab, out, &p, err, sizeof err)) { fprintf(stderr, "minflux decode: %s\n", err); fclose(f); return 1; }
  mfx_decoder d;
  mfx_dec_init(&d);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mfx_dec_feed(&d, buf, n, on_frame, &tab);
  int rc = ferror(f) ? 1 : 0;
  if (rc) fprintf(stderr, "minflux decode: reading %s failed\n", argv[optind]);
  fclose(f);
  const uint64_t records = tab.records, gaps = tab.gaps;
  if (mfx_tables_close(&tab, err, sizeof err)) { fprintf(stderr, "minflux decode: %s\n", err); return 1; }
  printf("%" PRIu64 " records, %" PRIu64 " gaps, %" PRIu64 " CRC errors, %" PRIu64 " bytes skipped -> %s/cycles.csv, %s/tracks.csv\n",
         records, gaps, d.crc_errors, d.skipped_bytes, out, out);
  if (d.n) fprintf(stderr, "minflux decode: the file ends inside a frame (%zu bytes; acquisition cut short?)\n", d.n);
  return rc;
}
