/* test_acq_bayes: the host side of `minflux acquire --mode bayes` without a board.
 * - keys: mode = bayes and the bayes_* keys through host/acq_config.c, their refusals (naming
 *   the key), the registers they give;
 * - records: localizations of the fixed-point model hls-c/bayes.c (Poisson counts of an
 *   emitter), encoded as the firmware frames them (docs/protocol.md, Bayesian records) with
 *   host/protocol.c, decoded by the link's decoder into host/acq_bayes.c: fields back in nm,
 *   every record replayed bit-exactly (0 mismatches), the result from the block's registers;
 * - the replay catches a changed MAP, std, beam, laser code or status bit, and a localization
 *   with a lost record is skipped (not counted as mismatches);
 * - decode of a raw file (acq_bayes_decode_raw): a localization ends at its done record, before
 *   the next one's exposure 1 when the done record was lost, or at the end of the file;
 * - bayes_host = on: the firmware's plain K = 1 records decoded by running the model again
 *   (whole localizations; a record lost inside one ends it, a lost first record gives an empty
 *   one), as acquire runs it;
 * - decode of a hexagon raw file (acq_hex_decode_raw): the stages found again (loc, stage,
 *   centre, records, photons, gaps) with whole streams and with records lost inside a stage,
 *   at a stage's start and across a stage boundary.
 * Random counts print their seed (ACQ_BAYES_SEED=S to repeat). */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "acq_bayes.h"
#include "acq_hex.h"
#include "bayes_float.h"
#include "acq_config.h"
#include "bayes.h"
#include "bayes_regs.h"
#include "mfx_files.h"
#include "protocol.h"

static unsigned long g_seed;

/* ---- keys ---- */

static int set(acq_config *c, const char *k, const char *v, char *err, size_t n) { return acq_set(c, k, v, err, n); }

static void bayes_config(acq_config *c)
{
  char err[600];
  acq_defaults(c);
  ck_assert_int_eq(set(c, "mode", "bayes", err, sizeof err), 0);
  ck_assert_int_eq(set(c, "bayes_eta_per_code", "4.0690104e-4", err, sizeof err), 0);
}

START_TEST(test_keys)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  bayes_config(&c);
  ck_assert_int_eq(c.baud, 12000000);   /* the mode's default link rate */
  ck_assert_int_eq(acq_to_regs(&c, 1.0, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.core.k, 1);
  ck_assert_uint_eq(r.core.ncycles, 0);
  ck_assert_uint_eq(r.core.gate_cycles, 480);   /* bayes_gate_us 10 */
  ck_assert_uint_eq(r.core.delay_cycles, 355);  /* delay_us 7.4 */
  ck_assert_uint_eq(r.core.laser_amp, 0);
  ck_assert_uint_eq(r.bayes.nmax, 1000);
  ck_assert_int_eq(r.bayes.lsig_stop, (int)floor(256.0 * log2(1.0 / (r.bayes.h0 * 0.1 / 64))));
  ck_assert_uint_eq(r.bayes.seed, acq_bayes_loc_seed(&c, 0));
  ck_assert_uint_ne(acq_bayes_loc_seed(&c, 0), acq_bayes_loc_seed(&c, 1));
  ck_assert(fabs(bayes_eta_per_code_of(&r.bayes) / 4.0690104e-4 - 1) < 1e-3);
  /* bayes_amp_max lowers the block's limit */
  ck_assert_int_eq(set(&c, "bayes_amp_max", "30000", err, sizeof err), 0);
  ck_assert_int_eq(acq_to_regs(&c, 1.0, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.bayes.amp_max, 30000);

  /* refusals name the key */
  static const struct { const char *k, *v, *pat; } bad[] = {
    { "bayes_mu", "0", "bayes_mu = '0' is not a number" },
    { "bayes_b", "1", "bayes_b = '1' is not a number" },
    { "bayes_s_nm", "-3", "bayes_s_nm" },
    { "bayes_photons", "1.5", "bayes_photons = '1.5' is not an integer" },
    { "bayes_seed", "-1", "bayes_seed" },
    { "mode", "scan", "only 'track', 'image', 'bayes' and 'hex'" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bayes_config(&c);
    ck_assert_int_eq(set(&c, bad[i].k, bad[i].v, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad[i].pat), "%s=%s: '%s' lacks '%s'", bad[i].k, bad[i].v, err, bad[i].pat);
  }
  /* refusals of the combination (acq_to_regs) */
  static const struct { const char *k, *v, *pat; } badc[] = {
    { "bayes_eta_per_code", "0", "bayes_eta_per_code = 0: mode = bayes needs the laser calibration" },
    { "bayes_eta_per_code", "1e-5", "Bayesian registers: bayes_eta_per_code = 1e-05: must be" },
    { "bayes_mu", "60", "Bayesian registers: bayes_mu / bayes_eta_per_code" },
    { "bayes_s_nm", "50", "Bayesian registers: bayes_s_nm / eod_nm_per_lsb" },
    { "agg", "2", "agg = 2: a Bayesian exposure is one record" },
    { "controller", "on", "mode = bayes with controller = on" },
    { "centre_x_nm", "5000", "must lie inside the safe window" },
  };
  for (size_t i = 0; i < sizeof badc / sizeof badc[0]; i++) {
    bayes_config(&c);
    ck_assert_int_eq(set(&c, badc[i].k, badc[i].v, err, sizeof err), 0);
    ck_assert_int_eq(acq_to_regs(&c, 1.0, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, badc[i].pat), "%s=%s: '%s' lacks '%s'", badc[i].k, badc[i].v, err, badc[i].pat);
  }
  /* bayes_dtable is a path; the help lists the keys */
  bayes_config(&c);
  ck_assert_int_eq(set(&c, "bayes_dtable", "/tmp/x.csv", err, sizeof err), 0);
  ck_assert_str_eq(c.bayes_dtable, "/tmp/x.csv");
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  acq_help_keys(f);
  fclose(f);
  ck_assert(strstr(buf, "bayes_mu=0.1") && strstr(buf, "bayes_std_stop_nm=1") && strstr(buf, "bayes_dtable=") &&
            strstr(buf, "bayes_gate_us=10") && strstr(buf, "bayes_eta_per_code=0"));
  free(buf);
}
END_TEST

/* ---- records ---- */

typedef struct {
  uint8_t bytes[1 << 22];
  size_t n;
  uint16_t seq;
  uint32_t ts;
} stream_t;

static void emit_frame(stream_t *st, const mfx_cycle *c)
{
  uint8_t pl[64];
  const size_t len = mfx_cycle_encode(c, pl);
  ck_assert_uint_lt(st->n + MFX_FRAME_MAX, sizeof st->bytes);
  st->n += mfx_frame_encode(st->bytes + st->n, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)len);
}

static void emit(stream_t *st, const bayes_out_t *before, const bayes_out_t *after, unsigned n)
{
  mfx_cycle c;
  memset(&c, 0, sizeof c);
  c.seq = st->seq++;
  c.ts = st->ts;
  st->ts += 3140;
  acq_bayes_encode(before, after, n / 2, n - n / 2, &c);
  emit_frame(st, &c);
}

/* One localization of the model with Poisson counts of an emitter at (ex, ey) nm; its records
 * appended to st; the block's final registers in reg[4]. Returns the photons. */
static unsigned localize(const acq_regs *r, uint32_t seed, gsl_rng *g, double ex, double ey, stream_t *st, uint32_t reg[4])
{
  static bayes_state_t s;
  bayes_regs_t rg = r->bayes;
  rg.seed = seed;
  bayes_out_t o, prev;
  bayes_start(&s, &rg, &o);
  const double epc = bayes_eta_per_code_of(&rg), sn = r->bayes_phys.s_nm, b = r->bayes_phys.b, gain = r->bayes_phys.nm_per_lsb;
  unsigned photons = 0;
  while (!o.done && o.exposures < 20000) {
    const double dx = ex - o.beam_x * gain, dy = ey - o.beam_y * gain, q = (dx * dx + dy * dy) / (sn * sn);
    const unsigned n = gsl_ran_poisson(g, o.amp * epc * (M_E * q * exp(-q) + b));
    prev = o;
    bayes_count(&s, &rg, n, &o);
    emit(st, &prev, &o, n);
    photons += n;
  }
  reg[0] = o.status & 0xE;
  reg[1] = (uint32_t)o.map_x & 0xFFFFFF;
  reg[2] = (uint32_t)o.map_y & 0xFFFFFF;
  reg[3] = (uint32_t)o.lev << 16 | (uint16_t)o.lsig;
  return photons;
}

static void on_frame(void *ctx, const mfx_frame *f)
{
  mfx_cycle c;
  ck_assert_int_eq(mfx_cycle_parse(f, &c), 0);
  acq_bayes_on_cycle(ctx, &c);
}
static void feed(acq_bayes *b, const uint8_t *p, size_t n)
{
  mfx_decoder d;
  mfx_dec_init(&d);
  for (size_t i = 0; i < n; i += 977) mfx_dec_feed(&d, p + i, n - i < 977 ? n - i : 977, on_frame, b);   /* any chunking */
  ck_assert_uint_eq(d.crc_errors, 0);
}

/* Bytes of one record frame (sync, type, len, 27 bytes of payload, CRC). */
#define FRAME_BYTES (MFX_FRAME_OVERHEAD + MFX_CYCLE_LEN(4))

/* A D table of the right shape (the replay does not care what D is). */
static void regs_with_dtable(acq_regs *r)
{
  acq_config c;
  char err[1200];
  bayes_config(&c);
  ck_assert_int_eq(set(&c, "bayes_photons", "400", err, sizeof err), 0);
  ck_assert_int_eq(acq_to_regs(&c, 1.0, r, err, sizeof err), 0);
  double D[105];
  bf_dtable_t dt = { .n = 105, .per_octave = 8, .sigma_min = 1.0 / 16, .mu = 0.1, .b = 0.01, .s = 200, .D = D };
  for (int j = 0; j < 105; j++) D[j] = fmin(12.0 + 3.85 * dt.sigma_min * pow(2.0, j / 8.0), 1500.0);
  ck_assert_int_eq(bayes_regs_from_phys(&r->bayes_phys, &dt, &r->bayes, err, sizeof err), 0);
  acq_bayes_window(r);
}

START_TEST(test_records_replay)
{
  static acq_regs r;
  static acq_config c;
  static stream_t st;
  char err[600], dir[] = "/tmp/test_acq_bayes.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  regs_with_dtable(&r);
  bayes_config(&c);
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed);
  acq_bayes b;
  ck_assert_int_eq(acq_bayes_open(&b, &c, &r, MINFLUX_CLK_HZ, dir, err, sizeof err), 0);

  /* 1: three clean localizations */
  uint32_t reg[4];
  unsigned ph[3];
  for (int i = 0; i < 3; i++) {
    st.n = 0;
    acq_bayes_begin(&b);
    ph[i] = localize(&r, 1 + i, g, 40, -25, &st, reg);
    feed(&b, st.bytes, st.n);
    ck_assert_int_eq(acq_bayes_end(&b, 1 + i, reg[0], reg[1], reg[2], reg[3]), 0);
  }
  ck_assert_uint_eq(b.nloc, 3);
  ck_assert_uint_eq(b.mismatches, 0);
  ck_assert_uint_eq(b.replay_skipped, 0);
  ck_assert_uint_eq(b.reg_mismatches, 0);
  ck_assert_uint_eq(b.gaps, 0);
  ck_assert_uint_eq(b.replayed, b.records);
  for (int i = 0; i < 3; i++) {
    const acq_bayes_loc *L = &b.loc[i];
    ck_assert_str_eq(L->replay, "ok");
    ck_assert_uint_eq(L->photons, ph[i]);
    ck_assert_uint_eq(L->exposures, L->records);
    ck_assert(!strcmp(L->reason, "std_target") || !strcmp(L->reason, "photon_budget"));
    if (!strcmp(L->reason, "std_target")) ck_assert(L->std_nm <= 1.0);
    else ck_assert_uint_ge(L->photons, 400);
    /* a loose check of the decoding in nm: the model localizes the emitter */
    ck_assert_msg(hypot(L->x_nm - 40, L->y_nm + 25) < 60, "localization %d at (%g, %g)", i, L->x_nm, L->y_nm);
  }

  /* 2: a changed field of one record is a mismatch (the byte offsets of docs/protocol.md) */
  static const struct { int off, mask; const char *what; } flips[] = {
    { 3 + 6, 1, "beam" }, { 3 + 9, 1, "beam" }, { 3 + 10, 1, "code" }, { 3 + 12, 1, "lsig" }, { 3 + 19, 1, "MAP" },
    { 3 + 23, 1, "MAP" }, { 3 + 24, 0x10, "lev" }, { 3 + 26, 1, "exposures" }, { 3 + 14, 0x80, "status" },
  };
  for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
    st.n = 0;
    acq_bayes_begin(&b);
    const uint32_t seed = 100 + (uint32_t)f;
    localize(&r, seed, g, 40, -25, &st, reg);
    const size_t nrec = st.n / FRAME_BYTES, j = nrec / 2;
    uint8_t *fr = st.bytes + j * FRAME_BYTES;
    fr[flips[f].off] ^= (uint8_t)flips[f].mask;   /* then a fresh CRC: the frame arrives intact */
    const uint16_t crc = mfx_crc16(0xFFFF, fr + 1, 2 + MFX_CYCLE_LEN(4));
    fr[3 + MFX_CYCLE_LEN(4)] = (uint8_t)(crc >> 8);
    fr[4 + MFX_CYCLE_LEN(4)] = (uint8_t)crc;
    const uint64_t before = b.mismatches;
    b.first_mismatch[0] = 0;
    feed(&b, st.bytes, st.n);
    ck_assert_int_eq(acq_bayes_end(&b, seed, reg[0], reg[1], reg[2], reg[3]), 0);
    ck_assert_msg(b.mismatches == before + 1, "byte %d (%s): %llu mismatches", flips[f].off, flips[f].what,
                  (unsigned long long)(b.mismatches - before));
    ck_assert_msg(strstr(b.first_mismatch, flips[f].what), "byte %d: '%s' lacks '%s'", flips[f].off, b.first_mismatch,
                  flips[f].what);
    ck_assert_str_eq(b.loc[b.nloc - 1].replay, "mismatch");
  }
  /* the status bits: the done bit set early */
  {
    st.n = 0;
    acq_bayes_begin(&b);
    localize(&r, 200, g, 40, -25, &st, reg);
    uint8_t *fr = st.bytes + 10 * FRAME_BYTES;
    fr[3 + 14] |= 0x20;
    const uint16_t crc = mfx_crc16(0xFFFF, fr + 1, 2 + MFX_CYCLE_LEN(4));
    fr[3 + MFX_CYCLE_LEN(4)] = (uint8_t)(crc >> 8);
    fr[4 + MFX_CYCLE_LEN(4)] = (uint8_t)crc;
    const uint64_t before = b.mismatches;
    feed(&b, st.bytes, st.n);
    ck_assert_int_eq(acq_bayes_end(&b, 200, reg[0], reg[1], reg[2], reg[3]), 0);
    ck_assert_uint_eq(b.mismatches, before + 1);
  }
  /* the wrong seed (the host would replay another localization): every beam differs */
  {
    st.n = 0;
    acq_bayes_begin(&b);
    localize(&r, 300, g, 40, -25, &st, reg);
    const uint64_t before = b.mismatches;
    feed(&b, st.bytes, st.n);
    ck_assert_int_eq(acq_bayes_end(&b, 301, reg[0], reg[1], reg[2], reg[3]), 0);
    ck_assert_uint_gt(b.mismatches, before + b.loc[b.nloc - 1].records / 2);
  }

  /* 3: a record lost on the link: a gap, the localization is not replayed */
  {
    st.n = 0;
    acq_bayes_begin(&b);
    localize(&r, 400, g, 40, -25, &st, reg);
    const size_t j = 7;
    memmove(st.bytes + j * FRAME_BYTES, st.bytes + (j + 1) * FRAME_BYTES, st.n - (j + 1) * FRAME_BYTES);
    st.n -= FRAME_BYTES;
    const uint64_t before = b.mismatches, gaps = b.gaps;
    feed(&b, st.bytes, st.n);
    ck_assert_int_eq(acq_bayes_end(&b, 400, reg[0], reg[1], reg[2], reg[3]), 0);
    ck_assert_uint_eq(b.mismatches, before);
    ck_assert_uint_eq(b.gaps, gaps + 1);
    ck_assert_uint_eq(b.replay_skipped, 1);
    ck_assert_str_eq(b.loc[b.nloc - 1].replay, "skipped");
    ck_assert_uint_eq(b.loc[b.nloc - 1].exposures, b.loc[b.nloc - 1].records + 1);   /* from the record's count */
  }

  /* the files */
  json_t *sum = json_object();
  ck_assert_int_eq(acq_bayes_finish(&b, dir, NULL, sum, err, sizeof err), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(sum, "localizations")), (json_int_t)b.nloc);
  ck_assert_int_eq(json_integer_value(json_object_get(sum, "model_mismatches")), (json_int_t)b.mismatches);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "bayes"), "replay_skipped")), 1);
  json_decref(sum);
  char path[200], line[400];
  snprintf(path, sizeof path, "%s/localizations.csv", dir);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  int rows = 0;
  while (fgets(line, sizeof line, f)) rows++;
  fclose(f);
  ck_assert_int_eq(rows, (int)b.nloc + 1);
  snprintf(path, sizeof path, "%s/bayes_exposures.csv", dir);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "loc,k,t_s,beam_x_nm,beam_y_nm,amp,eta,n,map_x_nm,map_y_nm,std_nm,lev,status,seq\n");
  rows = 0;
  while (fgets(line, sizeof line, f)) rows++;
  fclose(f);
  ck_assert_int_eq(rows, (int)b.records);
  acq_bayes_free(&b);
  gsl_rng_free(g);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST


/* ---- decode of a raw file: where localizations end ---- */

/* Writes DIR/raw.mfx: a header of cfg, regs (both taken) and the clock, then p[0..n); opens it
 * again as decode does (the stream after the header, the header in *h). */
static FILE *raw_write_open(const char *dir, json_t *cfg, json_t *regs, const uint8_t *p, size_t n, char **h)
{
  char path[200], err[600];
  json_t *hdr = json_object(), *fw = json_object();
  json_object_set_new(fw, "clk_hz", json_integer(MINFLUX_CLK_HZ));
  json_object_set_new(hdr, "config", cfg);
  json_object_set_new(hdr, "registers", regs);
  json_object_set_new(hdr, "firmware", fw);
  char *js = json_dumps(hdr, JSON_COMPACT);
  json_decref(hdr);
  snprintf(path, sizeof path, "%s/raw.mfx", dir);
  FILE *f = mfx_raw_create(path, js, err, sizeof err);
  free(js);
  ck_assert_msg(f != NULL, "%s", err);
  ck_assert_uint_eq(fwrite(p, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
  f = mfx_raw_open(path, h, err, sizeof err);
  ck_assert_msg(f != NULL, "%s", err);
  return f;
}

/* Decodes a raw file holding the bytes p[0..n) behind a header for c and r; returns the
 * localizations.csv rows (without the header) as "reason,records,replay" in rows[], their number. */
static int decode_rows(const acq_config *c, const acq_regs *r, const uint8_t *p, size_t n, char rows[][64], int maxrows)
{
  char dir[] = "/tmp/test_acq_bayes_dec.XXXXXX", path[200], err[600], line[600];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  json_t *cfg = json_object(), *regs = json_object();
  json_object_set_new(cfg, "mode", json_string("bayes"));
  json_object_set_new(cfg, "bayes_eta_per_code", json_string("4.0690104e-4"));
  json_object_set_new(cfg, "bayes_photons", json_string("400"));
  json_object_set_new(cfg, "bayes_seed", json_string("1"));
  json_object_set_new(cfg, "bayes_host", json_string(c->bayes_host ? "on" : "off"));
  json_object_set_new(regs, "bayes", acq_bayes_header(r));
  char *h = NULL;
  FILE *f = raw_write_open(dir, cfg, regs, p, n, &h);
  ck_assert_msg(acq_bayes_decode_raw(f, h, dir, NULL, err, sizeof err) == 0, "%s", err);
  fclose(f);
  free(h);
  snprintf(path, sizeof path, "%s/localizations.csv", dir);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));   /* loc,t_s,...,reason,seed,lev,records,replay,... */
  int nr = 0;
  while (fgets(line, sizeof line, f) && nr < maxrows) {
    char *fld[16];
    int nf = 0;
    for (char *t = strtok(line, ",\n"); t && nf < 16; t = strtok(NULL, ",\n")) fld[nf++] = t;
    ck_assert_int_ge(nf, 13);
    snprintf(rows[nr++], 64, "%s,%s,%s", fld[7], fld[10], fld[11]);
  }
  fclose(f);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
  return nr;
}

/* The registers and configuration of the decode tests (photon budget 400, seed 1). */
static void decode_config(acq_regs *r, acq_config *c, const char *host)
{
  char err[600];
  regs_with_dtable(r);
  bayes_config(c);
  ck_assert_int_eq(set(c, "bayes_photons", "400", err, sizeof err), 0);
  ck_assert_int_eq(set(c, "bayes_seed", "1", err, sizeof err), 0);
  ck_assert_int_eq(set(c, "bayes_host", host, err, sizeof err), 0);
}

START_TEST(test_decode_boundaries)
{
  static acq_regs r;
  static acq_config c;
  static stream_t st;
  char rows[8][64], want[64];
  decode_config(&r, &c, "off");
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed + 1);
  /* three localizations, each with the seed acquire gives it */
  size_t end[3], nrec[3];
  uint32_t reg[4];
  st.n = 0;
  st.seq = 0;
  for (int i = 0; i < 3; i++) {
    const size_t n0 = st.n;
    localize(&r, acq_bayes_loc_seed(&c, (unsigned)i), g, 40, -25, &st, reg);
    end[i] = st.n;
    nrec[i] = (st.n - n0) / FRAME_BYTES;
  }
  /* whole: each localization ends at its done record */
  int nr = decode_rows(&c, &r, st.bytes, st.n, rows, 8);
  ck_assert_int_eq(nr, 3);
  for (int i = 0; i < 3; i++) {
    ck_assert_msg(strstr(rows[i], ",ok") != NULL, "localization %d: %s", i, rows[i]);
    snprintf(want, sizeof want, ",%zu,ok", nrec[i]);
    ck_assert_msg(strstr(rows[i], want) != NULL, "localization %d: '%s' lacks '%s'", i, rows[i], want);
  }
  /* the done record of the first one lost: it ends before the next one's exposure 1, marked
   * end_lost (its result is the last record received, not the block's); what was received
   * replays; the next two are whole */
  static uint8_t cut[1 << 22];
  const size_t d0 = end[0] - FRAME_BYTES;
  memcpy(cut, st.bytes, d0);
  memcpy(cut + d0, st.bytes + end[0], st.n - end[0]);
  nr = decode_rows(&c, &r, cut, st.n - FRAME_BYTES, rows, 8);
  ck_assert_int_eq(nr, 3);
  snprintf(want, sizeof want, "end_lost,%zu,ok", nrec[0] - 1);
  ck_assert_msg(strstr(rows[0], want) != NULL, "localization 0: '%s' lacks '%s'", rows[0], want);
  for (int i = 1; i < 3; i++) {
    snprintf(want, sizeof want, ",%zu,ok", nrec[i]);
    ck_assert_msg(strstr(rows[i], want) != NULL, "localization %d: '%s' lacks '%s'", i, rows[i], want);
  }
  /* the file cut inside the last localization: it ends at the end of the file */
  nr = decode_rows(&c, &r, st.bytes, end[1] + 5 * FRAME_BYTES, rows, 8);
  ck_assert_int_eq(nr, 3);
  snprintf(want, sizeof want, ",5,ok");
  ck_assert_msg(strstr(rows[2], want) != NULL, "the cut localization: '%s' lacks '%s'", rows[2], want);
  ck_assert_msg(!strncmp(rows[2], "stopped,", 8), "the cut localization: %s", rows[2]);
  gsl_rng_free(g);
}
END_TEST

/* ---- bayes_host = on: decode of the firmware's plain records ---- */

/* Localization i as acquire runs it with bayes_host = on: the model on the host, one K = 1
 * record per exposure at the placed beam; the record of exposure lost_at (0-based; -1: none)
 * is lost on the link (its seq used), which ends the localization. Returns its records. */
static size_t host_localize(const acq_config *c, const acq_regs *r, unsigned i, gsl_rng *g, long lost_at, stream_t *st)
{
  static bayes_state_t s;
  bayes_regs_t rg = r->bayes;
  rg.seed = acq_bayes_loc_seed(c, i);
  bayes_out_t o;
  bayes_start(&s, &rg, &o);
  const double epc = bayes_eta_per_code_of(&rg), sn = r->bayes_phys.s_nm, b = r->bayes_phys.b, gain = r->bayes_phys.nm_per_lsb;
  size_t nrec = 0;
  for (long j = 0; !o.done && j < 20000; j++) {
    const double dx = 40 - o.beam_x * gain, dy = -25 - o.beam_y * gain, q = (dx * dx + dy * dy) / (sn * sn);
    const unsigned n = gsl_ran_poisson(g, o.amp * epc * (M_E * q * exp(-q) + b));
    mfx_cycle rc;
    memset(&rc, 0, sizeof rc);
    rc.seq = st->seq++;
    rc.ts = st->ts;
    st->ts += 20000;
    if (j == lost_at) break;
    rc.cx = o.beam_x;
    rc.cy = o.beam_y;
    rc.k = 1;
    rc.counts[0][0] = (uint16_t)(n / 2);
    rc.counts[0][1] = (uint16_t)(n - n / 2);
    emit_frame(st, &rc);
    nrec++;
    bayes_count(&s, &rg, n, &o);
  }
  return nrec;
}

START_TEST(test_host_decode)
{
  static acq_regs r;
  static acq_config c;
  static stream_t st;
  char rows[8][64], want[64];
  decode_config(&r, &c, "on");
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  /* whole: three localizations, each replayed, ended by the model's own rule */
  static const struct { long lost[3]; const char *want[3]; } cases[] = {
    { { -1, -1, -1 }, { "", "", "" } },
    { { 50, -1, -1 }, { "stopped", "", "" } },     /* a record lost inside localization 0 */
    { { -1, 0, -1 }, { "", "stopped", "" } },      /* the first record of localization 1 lost */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    gsl_rng_set(g, g_seed + 3);
    st.n = 0;
    st.seq = 0;
    size_t nrec[3];
    for (unsigned i = 0; i < 3; i++) nrec[i] = host_localize(&c, &r, i, g, cases[k].lost[i], &st);
    const int nr = decode_rows(&c, &r, st.bytes, st.n, rows, 8);
    ck_assert_int_eq(nr, 3);
    for (int i = 0; i < 3; i++) {
      snprintf(want, sizeof want, "%s,%zu,%s", *cases[k].want[i] ? cases[k].want[i] : "", nrec[i], nrec[i] ? "ok" : "none");
      if (*cases[k].want[i])
        ck_assert_msg(!strcmp(rows[i], want), "case %zu localization %d: '%s', want '%s'", k, i, rows[i], want);
      else
        ck_assert_msg(strstr(rows[i], want) && (!strncmp(rows[i], "std_target,", 11) || !strncmp(rows[i], "photon_budget,", 14)),
                      "case %zu localization %d: '%s' is not ended by the model with '%s'", k, i, rows[i], want);
    }
  }
  /* 200 records lost after localization 0 (a damaged file: acquire takes 0.1 s per lost
   * record it waits for): 64 localizations without records, not 200, then the rest */
  static char many[80][64];
  gsl_rng_set(g, g_seed + 4);
  st.n = 0;
  st.seq = 0;
  const size_t n0 = host_localize(&c, &r, 0, g, -1, &st);
  st.seq += 200;
  const size_t n1 = host_localize(&c, &r, 65, g, -1, &st);
  ck_assert_int_eq(decode_rows(&c, &r, st.bytes, st.n, many, 80), 66);
  snprintf(want, sizeof want, ",%zu,ok", n0);
  ck_assert_msg(strstr(many[0], want) != NULL, "localization 0: '%s' lacks '%s'", many[0], want);
  for (int i = 1; i <= 64; i++) ck_assert_msg(!strcmp(many[i], "stopped,0,none"), "localization %d: '%s'", i, many[i]);
  snprintf(want, sizeof want, ",%zu,ok", n1);
  ck_assert_msg(strstr(many[65], want) != NULL, "localization 65 (seed of index 65): '%s' lacks '%s'", many[65], want);
  gsl_rng_free(g);
}
END_TEST

/* ---- hexagon decode ---- */

typedef struct {
  int loc, stage;
  int16_t cx, cy;
  size_t first, last;          /* record indices */
  uint64_t photons;
} hex_truth_stage;

typedef struct {
  mfx_cycle rec[6000];
  size_t n;
  hex_truth_stage st[16];
  int nst;
} hex_stream;

/* Two localizations of three stages as acquire runs them: the host stops a stage one record
 * after its photon limit, restarts the sequencer 10 record periods later, centred on the
 * stage's estimate (acq_hex_stage_mle; loc 1 stage 1 on its stage 0's centre instead);
 * Poisson counts of an emitter at (40, -25) nm. */
static void hex_stream_make(const acq_config *c, const acq_regs *r, const mfx_decode_params *p, gsl_rng *g, hex_stream *hs)
{
  hs->n = 0;
  hs->nst = 0;
  uint32_t ts = 1000;
  uint16_t seq = 0;
  for (int loc = 0; loc < 2; loc++) {
    double cx = c->centre_x_nm, cy = c->centre_y_nm;
    for (int s = 0; s < 3; s++) {
      acq_hex_stage st;
      /* loc 1 stage 1 starts where its stage 0 ran (as if the estimate had fallen on the
       * centre): only the gap in the timestamps tells the two stages apart */
      if (hs->nst == 4) {
        cx = hs->st[3].cx * c->eod_nm_per_lsb;
        cy = hs->st[3].cy * c->eod_nm_per_lsb;
      }
      acq_hex_pattern(c, r, s, cx, cy, &st);
      hex_truth_stage *t = &hs->st[hs->nst++];
      t->loc = loc;
      t->stage = s;
      t->cx = st.cx;
      t->cy = st.cy;
      t->first = hs->n;
      int extra = -1;
      while (extra < 1) {
        mfx_cycle *rc = &hs->rec[hs->n++];
        ck_assert_uint_lt(hs->n, sizeof hs->rec / sizeof hs->rec[0]);
        memset(rc, 0, sizeof *rc);
        rc->seq = seq++;
        rc->ts = ts;
        ts += (uint32_t)p->period_cycles;
        rc->cx = st.cx;
        rc->cy = st.cy;
        rc->k = ACQ_HEX_K;
        /* records 0 and 5 of a stage without photons: losing them leaves the stage's photons
         * (and so where acquire ended it) as they were */
        const int dark = hs->n - 1 == t->first || hs->n - 1 == t->first + 5;
        for (int k = 0; k < ACQ_HEX_K; k++) {
          const double g0 = c->eod_nm_per_lsb;
          const unsigned n = dark ? 0 : gsl_ran_poisson(g, st.eta * bf_g(40 - st.bx[k] * g0, -25 - st.by[k] * g0, c->bayes_s_nm, c->bayes_b));
          rc->counts[k][0] = (uint16_t)(n > 4095 ? 4095 : n);
          st.n[k] += rc->counts[k][0];
          st.m[k]++;
          st.photons += rc->counts[k][0];
        }
        if (extra >= 0 || st.photons >= (uint64_t)c->hex_photons[s]) extra++;
      }
      t->last = hs->n - 1;
      t->photons = st.photons;
      acq_hex_stage_mle(c, &st);
      cx = st.x_nm;
      cy = st.y_nm;
      ts += 10 * (uint32_t)p->period_cycles;
    }
  }
}

static void add_cfg(void *ctx, const char *k, const char *v) { json_object_set_new(ctx, k, json_string(v)); }

/* Decodes the records of hs but those in drop[] (indices, ascending, -1 ends) from a raw file;
 * the rows of hex_stages.csv into rows. Returns the number of rows. */
static int hex_decode_rows(const acq_config *c, const acq_regs *r, const hex_stream *hs, const long *drop, char rows[][256], int maxrows)
{
  char dir[] = "/tmp/test_acq_hex_dec.XXXXXX", path[200], err[600], line[600];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  json_t *cfg = json_object(), *regs = json_object();
  acq_each(c, add_cfg, cfg);   /* every key, as acquire writes the header */
  json_object_set_new(regs, "k", json_integer(r->core.k));
  json_object_set_new(regs, "delay", json_integer(r->core.delay_cycles));
  json_object_set_new(regs, "gate", json_integer(r->core.gate_cycles));
  json_object_set_new(regs, "win", json_integer(r->core.win_cycles));
  json_object_set_new(regs, "agg", json_integer(1));
  static uint8_t bytes[sizeof hs->rec / sizeof hs->rec[0] * MFX_FRAME_MAX];
  size_t nb = 0;
  for (size_t i = 0, d = 0; i < hs->n; i++) {
    if (drop[d] >= 0 && (size_t)drop[d] == i) { d++; continue; }
    uint8_t pl[255];
    const size_t len = mfx_cycle_encode(&hs->rec[i], pl);
    nb += mfx_frame_encode(bytes + nb, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)len);
  }
  char *h = NULL;
  FILE *f = raw_write_open(dir, cfg, regs, bytes, nb, &h);
  ck_assert_msg(acq_hex_decode_raw(f, h, dir, NULL, err, sizeof err) == 0, "%s", err);
  fclose(f);
  free(h);
  snprintf(path, sizeof path, "%s/hex_stages.csv", dir);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  int nr = -1;
  while (fgets(line, sizeof line, f)) {
    if (nr >= 0 && nr < maxrows) snprintf(rows[nr], 256, "%.255s", line);
    nr++;
  }
  fclose(f);
  static const char *const files[] = { "raw.mfx", "cycles.csv", "tracks.csv", "hex_stages.csv", "localizations.csv" };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
  return nr;
}

/* Row i of hex_stages.csv against stage t of the stream: loc, stage, centre, records, gaps, reached. */
static void hex_row_check(const char *row, const hex_truth_stage *t, double g, size_t records, unsigned gaps, const char *what)
{
  int loc, stage, reached;
  double L, cx, cy;
  unsigned long long nrec, photons, ngaps;
  ck_assert_msg(sscanf(row, "%d,%d,%lf,%lf,%lf,%*u,%*f,%*f,%*f,%llu,%llu,%llu,%*f,%*f,%d", &loc, &stage, &L, &cx, &cy, &nrec,
                       &photons, &ngaps, &reached) == 9, "%s: row '%s'", what, row);
  ck_assert_msg(loc == t->loc && stage == t->stage, "%s: row '%s' is not loc %d stage %d", what, row, t->loc, t->stage);
  ck_assert_msg(fabs(cx - t->cx * g) < 0.06 && fabs(cy - t->cy * g) < 0.06, "%s: row '%s': centre not (%.1f, %.1f)", what, row,
                t->cx * g, t->cy * g);
  ck_assert_msg(nrec == records && ngaps == gaps, "%s: row '%s': want %zu records, %u gaps", what, row, records, gaps);
  ck_assert_msg(reached == 1, "%s: row '%s': the stage did not reach its limit", what, row);
}

START_TEST(test_hex_decode)
{
  static acq_config c;
  static acq_regs r;
  static hex_stream hs;
  char err[1200], rows[16][256];
  acq_defaults(&c);
  ck_assert_int_eq(set(&c, "mode", "hex", err, sizeof err), 0);
  ck_assert_int_eq(set(&c, "bayes_eta_per_code", "4.0690104e-4", err, sizeof err), 0);
  ck_assert_int_eq(acq_to_regs(&c, 1.0, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.core.k, ACQ_HEX_K);
  const mfx_decode_params p = { .period_cycles = (uint64_t)r.core.k * (r.core.delay_cycles + r.core.gate_cycles) + r.core.win_cycles + 1 };
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed + 2);
  hex_stream_make(&c, &r, &p, g, &hs);
  gsl_rng_free(g);
  ck_assert_int_eq(hs.nst, 6);
  ck_assert(hs.st[4].cx == hs.st[3].cx && hs.st[4].cy == hs.st[3].cy);
  const double gain = c.eod_nm_per_lsb;
  /* whole: every stage where it ran */
  const long none[] = { -1 };
  ck_assert_int_eq(hex_decode_rows(&c, &r, &hs, none, rows, 16), 6);
  for (int i = 0; i < 6; i++) {
    hex_row_check(rows[i], &hs.st[i], gain, hs.st[i].last - hs.st[i].first + 1, 0, "whole");
  }
  /* a record lost inside loc 0 stage 1, the first record of loc 0 stage 2, the last of loc 1
   * stage 0 (one after its limit) together with the first of loc 1 stage 1: the same six
   * stages, the losses counted in the stage that follows them */
  const hex_truth_stage *S = hs.st;
  for (int i = 0; i < 6; i++) ck_assert_uint_gt(S[i].last, S[i].first + 6);
  const long drop[] = { (long)S[1].first + 5, (long)S[2].first, (long)S[3].last, (long)S[4].first, -1 };
  ck_assert_int_eq(hex_decode_rows(&c, &r, &hs, drop, rows, 16), 6);
  const size_t want_rec[6] = { S[0].last - S[0].first + 1, S[1].last - S[1].first, S[2].last - S[2].first,
                               S[3].last - S[3].first, S[4].last - S[4].first, S[5].last - S[5].first + 1 };
  const unsigned want_gaps[6] = { 0, 1, 1, 0, 2, 0 };
  for (int i = 0; i < 6; i++) hex_row_check(rows[i], &hs.st[i], gain, want_rec[i], want_gaps[i], "records lost");
}
END_TEST

int main(void)
{
  const char *env = getenv("ACQ_BAYES_SEED");
  g_seed = env && *env ? strtoul(env, NULL, 0) : (unsigned long)time(NULL);
  printf("test_acq_bayes: seed %lu (ACQ_BAYES_SEED=%lu to repeat)\n", g_seed, g_seed);
  fflush(stdout);
  Suite *s = suite_create("acq_bayes");
  TCase *t = tcase_create("host");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_keys);
  tcase_add_test(t, test_records_replay);
  tcase_add_test(t, test_decode_boundaries);
  tcase_add_test(t, test_hex_decode);
  tcase_add_test(t, test_host_decode);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
