/* `minflux decode RAW --out DIR`: the tables of an acquisition regenerated from its raw
 * file (same decoder and writer as `minflux acquire`, so the files match byte for byte):
 * cycles.csv and tracks.csv, for a Bayesian acquisition bayes_exposures.csv and
 * localizations.csv (with the replay through the C model), for a hexagon acquisition also
 * hex_stages.csv and localizations.csv. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "acq_bayes.h"
#include "acq_hex.h"
#include "mfx_files.h"

/* The header's config mode: 0 track or image (the plain tables), 1 bayes, 2 hex. */
static int raw_mode(const char *hdr)
{
  json_t *root = json_loads(hdr, 0, NULL);
  json_t *mode = json_object_get(json_object_get(root, "config"), "mode");
  const char *m = json_is_string(mode) ? json_string_value(mode) : "";
  const int r = !strcmp(m, "bayes") ? 1 : !strcmp(m, "hex") ? 2 : 0;
  json_decref(root);
  return r;
}

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
      printf("usage: minflux decode RAW.mfx --out DIR\nWrites DIR/cycles.csv and DIR/tracks.csv from a raw acquisition file;\n"
             "from a Bayesian one (mode = bayes) DIR/bayes_exposures.csv and DIR/localizations.csv, every localization\n"
             "replayed through the C model; from a hexagon one (mode = hex) also DIR/hex_stages.csv and DIR/localizations.csv\n"
             "(truth.csv beside the raw file, if there, gives the error columns).\n");
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
  const int mode = raw_mode(hdr);
  if (mode) {   /* the tables `minflux acquire --mode bayes` or `--mode hex` writes */
    if (mkdir(out, 0777) && errno != EEXIST) {
      fprintf(stderr, "minflux decode: cannot create %s: %s\n", out, strerror(errno));
      free(hdr); fclose(f);
      return 1;
    }
    /* the emitter's truth, when the acquisition ran on the virtual board, lies beside the raw file */
    char truth[4200];
    const char *sl = strrchr(argv[optind], '/');
    snprintf(truth, sizeof truth, "%.*s%struth.csv", sl ? (int)(sl - argv[optind] + 1) : 0, argv[optind], "");
    const int have_truth = access(truth, R_OK) == 0;
    if (have_truth) printf("truth: %s\n", truth);
    const int rc = mode == 1 ? acq_bayes_decode_raw(f, hdr, out, have_truth ? truth : NULL, err, sizeof err)
                             : acq_hex_decode_raw(f, hdr, out, have_truth ? truth : NULL, err, sizeof err);
    if (rc) fprintf(stderr, "minflux decode: %s: %s\n", argv[optind], err);
    free(hdr); fclose(f);
    return rc ? 1 : 0;
  }
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
