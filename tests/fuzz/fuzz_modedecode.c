/* Fuzz target: `minflux decode` of the raw files of the host-driven modes, whose decoders
 * rebuild the acquisition from the records (host/acq_hex.c acq_hex_decode_raw: stage
 * boundaries, MLEs; host/acq_bayes.c acq_bayes_decode_raw: the block's records, and with
 * bayes_host = on the model run again over plain records). The first input byte picks the
 * header (0 hex, 1 bayes, 2 bayes with bayes_host = on, modulo 3), the rest is the link
 * stream. Properties beyond "no crash, no sanitizer report": the decoder returns 0, or -1
 * with a message; the tables it wrote account for no more records than the stream held. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "acq_bayes.h"
#include "acq_hex.h"
#include "bayes_float.h"
#include "bayes_regs.h"
#include "fuzz_util.h"

static char g_dir[64];
static char *g_hdr[3];

static void add_cfg(void *ctx, const char *k, const char *v) { json_object_set_new(ctx, k, json_string(v)); }

/* The raw header acquire would write for the mode (D table: a smooth stand-in). */
static char *make_header(int which)
{
  static acq_config c;
  static acq_regs r;
  char err[1200];
  acq_defaults(&c);
  FZ_CHECK(!acq_set(&c, "mode", which ? "bayes" : "hex", err, sizeof err), "%s", err);
  FZ_CHECK(!acq_set(&c, "bayes_eta_per_code", "4.0690104e-4", err, sizeof err), "%s", err);
  FZ_CHECK(!acq_set(&c, "bayes_photons", "300", err, sizeof err), "%s", err);
  FZ_CHECK(!acq_set(&c, "bayes_host", which == 2 ? "on" : "off", err, sizeof err), "%s", err);
  FZ_CHECK(!acq_to_regs(&c, 1.0, &r, err, sizeof err), "%s", err);
  json_t *hdr = json_object(), *fw = json_object(), *jc = json_object(), *jr = json_object();
  json_object_set_new(fw, "clk_hz", json_integer(MINFLUX_CLK_HZ));
  json_object_set_new(hdr, "firmware", fw);
  acq_each(&c, add_cfg, jc);
  json_object_set_new(hdr, "config", jc);
  json_object_set_new(jr, "k", json_integer(r.core.k));
  json_object_set_new(jr, "delay", json_integer(r.core.delay_cycles));
  json_object_set_new(jr, "gate", json_integer(r.core.gate_cycles));
  json_object_set_new(jr, "win", json_integer(r.core.win_cycles));
  json_object_set_new(jr, "agg", json_integer(1));
  if (which) {
    double D[105];
    bf_dtable_t dt = { .n = 105, .per_octave = 8, .sigma_min = 1.0 / 16, .mu = 0.1, .b = 0.01, .s = 200, .D = D };
    for (int j = 0; j < 105; j++) D[j] = fmin(12.0 + 3.85 * dt.sigma_min * pow(2.0, j / 8.0), 1500.0);
    FZ_CHECK(!bayes_regs_from_phys(&r.bayes_phys, &dt, &r.bayes, err, sizeof err), "%s", err);
    acq_bayes_window(&r);
    json_object_set_new(jr, "bayes", acq_bayes_header(&r));
  }
  json_object_set_new(hdr, "registers", jr);
  char *s = json_dumps(hdr, JSON_COMPACT);
  json_decref(hdr);
  return s;
}

/* The decoders' output directory goes when the fuzzer exits. */
static void remove_dir(void)
{
  static const char *const files[] = { "cycles.csv", "tracks.csv", "hex_stages.csv", "localizations.csv", "bayes_exposures.csv",
                                       "bayes_convergence.png", "bayes_localizations.png" };
  char path[128];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", g_dir, files[i]);
    unlink(path);
  }
  rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  snprintf(g_dir, sizeof g_dir, "/tmp/fuzz_modedecode.XXXXXX");
  FZ_CHECK(mkdtemp(g_dir), "mkdtemp failed");   /* the template's XXXXXX: a new directory */
  atexit(remove_dir);
  FZ_CHECK(freopen("/dev/null", "w", stdout), "stdout to /dev/null");   /* one line per localization */
  for (int i = 0; i < 3; i++) g_hdr[i] = make_header(i);
  return 0;
}

/* Data rows of DIR/name; the sum of column col (0-based; -1: none) into *sum. */
static long rows_of(const char *name, int col, unsigned long long *sum)
{
  char path[128], line[1024];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long n = -1;
  *sum = 0;
  while (fgets(line, sizeof line, f)) {
    if (n++ < 0 || col < 0) continue;
    const char *p = line;
    for (int i = 0; i < col && p; i++) p = (p = strchr(p, ',')) ? p + 1 : NULL;
    if (p) *sum += strtoull(p, NULL, 10);
  }
  fclose(f);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 1 << 16) return 0;
  const int which = data[0] % 3;
  /* an upper bound of the records in the stream: one per sync byte */
  unsigned long long syncs = 0;
  for (size_t i = 1; i < size; i++) syncs += data[i] == MINFLUX_PROTO_SYNC;
  FILE *f = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fopen("/dev/null", "r");
  FZ_CHECK(f, "fmemopen failed");
  char err[600];
  err[0] = 0;
  const int rc = which ? acq_bayes_decode_raw(f, g_hdr[which], g_dir, NULL, err, sizeof err)
                       : acq_hex_decode_raw(f, g_hdr[which], g_dir, NULL, err, sizeof err);
  fclose(f);
  FZ_CHECK(rc == 0 || (rc == -1 && err[0]), "decode returned %d with '%s'", rc, err);
  if (rc) return 0;
  unsigned long long sum;
  if (which) {
    const long n = rows_of("bayes_exposures.csv", -1, &sum);
    FZ_CHECK(n >= 0 && (unsigned long long)n <= syncs, "%ld exposure rows from %llu sync bytes", n, syncs);
  } else {
    const long st = rows_of("hex_stages.csv", 9, &sum);   /* records */
    FZ_CHECK(st >= 0 && sum <= syncs, "stages hold %llu records, %llu sync bytes", sum, syncs);
    const long cy = rows_of("cycles.csv", -1, &sum);
    FZ_CHECK(cy >= 0 && (unsigned long long)cy <= syncs, "%ld cycle rows from %llu sync bytes", cy, syncs);
  }
  return 0;
}
