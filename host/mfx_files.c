/* Acquisition files: see mfx_files.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <jansson.h>
#include "mfx_files.h"

static FILE *create_in(const char *dir, const char *name, char *err, size_t errlen)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
  return f;
}

int mfx_tables_open(mfx_tables *t, const char *dir, const mfx_decode_params *p, char *err, size_t errlen)
{
  memset(t, 0, sizeof *t);
  t->p = *p;
  if (!(t->cycles = create_in(dir, "cycles.csv", err, errlen))) return -1;
  if (!(t->tracks = create_in(dir, "tracks.csv", err, errlen))) { fclose(t->cycles); return -1; }
  if (t->p.k < 1 || t->p.k > 8) t->p.k = 4;
  fprintf(t->cycles, "seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state");
  for (unsigned k = 4; k < t->p.k; k++) fprintf(t->cycles, ",n%u", k);
  fputc('\n', t->cycles);
  fprintf(t->tracks, "t_s,x_nm,y_nm,n,state\n");
  return 0;
}

void mfx_tables_add(mfx_tables *t, const mfx_cycle *c)
{
  if (!t->started) {
    t->seq_unwrapped = c->seq;
    t->first_ts = c->ts;
    t->started = 1;
  } else {
    const uint16_t missing = (uint16_t)(c->seq - t->prev_seq - 1u);
    t->gaps += missing;
    t->seq_unwrapped += (uint64_t)missing + 1;
    if (c->ts < t->prev_ts) t->ts_hi += 1ull << 32;
  }
  t->prev_seq = c->seq;
  t->prev_ts = c->ts;
  const uint64_t ts = t->ts_hi + c->ts;
  if (t->records == 0) t->first_ts_full = ts;
  t->last_ts_full = ts;
  t->records++;
  unsigned n[8] = { 0 }, total = 0;
  for (int k = 0; k < c->k && k < 8; k++) {
    const unsigned s = c->counts[k][0] + c->counts[k][1];
    n[k] = s;
    total += s;
  }
  t->photons += total;
  /* the record's timestamp is the start of its last cycle; t_s is the start of its first */
  const uint64_t back = t->p.agg > 1 ? (uint64_t)(t->p.agg - 1) * t->p.period_cycles : 0;
  const double t_s = (double)(ts >= back ? ts - back : 0) / t->p.clk_hz;
  const double cx = c->cx * t->p.eod_nm_per_lsb, cy = c->cy * t->p.eod_nm_per_lsb;
  const double ex = c->ex / 32.0, ey = c->ey / 32.0;   /* Q11.5 nm */
  const int valid = (c->flags & MFX_FLAG_EST_VALID) != 0;
  const unsigned state = (c->flags >> MFX_FLAG_STATE_SHIFT) & 0xFu;
  t->by_state[state]++;
  fprintf(t->cycles, "%" PRIu64 ",%.9f,%u,%u,%u,%u,%.4f,%.4f,%.5f,%.5f,%d,%u", t->seq_unwrapped, t_s,
          n[0], n[1], n[2], n[3], cx, cy, ex, ey, valid, state);
  for (unsigned k = 4; k < t->p.k; k++) fprintf(t->cycles, ",%u", n[k]);
  fputc('\n', t->cycles);
  if (valid) {
    fprintf(t->tracks, "%.9f,%.5f,%.5f,%u,%u\n", t_s, cx + ex, cy + ey, total, state);
    t->valid++;
    t->sum_x += cx + ex;
    t->sum_y += cy + ey;
  }
}

int mfx_tables_close(mfx_tables *t, char *err, size_t errlen)
{
  int bad = 0;
  if (t->cycles && (ferror(t->cycles) | fclose(t->cycles))) bad = 1;
  if (t->tracks && (ferror(t->tracks) | fclose(t->tracks))) bad = 1;
  t->cycles = t->tracks = NULL;
  if (bad) snprintf(err, errlen, "writing cycles.csv/tracks.csv failed: %s", strerror(errno));
  return bad ? -1 : 0;
}

FILE *mfx_raw_create(const char *path, const char *header_json, char *err, size_t errlen)
{
  FILE *f = fopen(path, "wb");
  if (!f) { snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno)); return NULL; }
  fputs(MFX_RAW_MAGIC, f);
  fputs(header_json, f);
  fputc('\n', f);
  if (fflush(f)) { snprintf(err, errlen, "writing %s failed: %s", path, strerror(errno)); fclose(f); return NULL; }
  return f;
}

FILE *mfx_raw_open(const char *path, char **header_json, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (!f) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return NULL; }
  char magic[sizeof MFX_RAW_MAGIC] = "";
  if (fread(magic, 1, sizeof MFX_RAW_MAGIC - 1, f) != sizeof MFX_RAW_MAGIC - 1 ||
      memcmp(magic, MFX_RAW_MAGIC, sizeof MFX_RAW_MAGIC - 1)) {
    snprintf(err, errlen, "%s is not a minflux raw file (it does not start with \"MINFLUX-RAW 1\")", path);
    fclose(f);
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *h = malloc(cap);
  int ch;
  while (h && (ch = fgetc(f)) != EOF && ch != '\n') {
    if (n + 1 >= cap) {
      if (cap >= (1u << 24)) { free(h); h = NULL; break; }
      char *nh = realloc(h, cap *= 2);
      if (!nh) { free(h); h = NULL; break; }
      h = nh;
    }
    h[n++] = (char)ch;
  }
  if (!h || ch != '\n') {
    snprintf(err, errlen, "%s: the header line is missing, truncated or longer than 16 MiB", path);
    free(h);
    fclose(f);
    return NULL;
  }
  h[n] = 0;
  *header_json = h;
  return f;
}

int mfx_raw_params(const char *header_json, mfx_decode_params *p, char *err, size_t errlen)
{
  json_error_t je;
  json_t *root = json_loads(header_json, 0, &je);
  if (!root) { snprintf(err, errlen, "raw header is not JSON: %s (column %d)", je.text, je.column); return -1; }
  json_t *clk = json_object_get(json_object_get(root, "firmware"), "clk_hz");
  json_t *gain = json_object_get(json_object_get(root, "config"), "eod_nm_per_lsb");
  json_t *mode = json_object_get(json_object_get(root, "config"), "mode");
  /* Bayesian exposure records fill the CYCLE fields with other quantities (docs/protocol.md):
   * read as multiplex cycles they would give meaningless tables */
  if (json_is_string(mode) && !strcmp(json_string_value(mode), "bayes")) {
    snprintf(err, errlen, "a raw file of a Bayesian acquisition (config mode = bayes): its records are exposures of the "
             "Bayesian block, read by `minflux acquire` into bayes_exposures.csv and localizations.csv, not multiplex cycles");
    json_decref(root);
    return -1;
  }
  json_t *regs = json_object_get(root, "registers");
  int rc = 0;
  /* headers written before aggregation existed have no agg: one cycle per record */
  json_t *agg = json_object_get(regs, "agg");
  p->agg = json_is_integer(agg) && json_integer_value(agg) >= 1 && json_integer_value(agg) <= 255
           ? (unsigned)json_integer_value(agg) : 1;
  p->period_cycles = 0;
  json_t *jk = json_object_get(regs, "k"), *jd = json_object_get(regs, "delay"), *jg = json_object_get(regs, "gate"),
         *jw = json_object_get(regs, "win");
  p->k = json_is_integer(jk) && json_integer_value(jk) >= 1 && json_integer_value(jk) <= 8 ? (unsigned)json_integer_value(jk) : 4;
  if (json_is_integer(jk) && json_is_integer(jd) && json_is_integer(jg) && json_is_integer(jw))
    p->period_cycles = (uint64_t)(json_integer_value(jk) * (json_integer_value(jd) + json_integer_value(jg)) +
                                  json_integer_value(jw) + 1);
  if (p->agg > 1 && p->period_cycles == 0) {
    snprintf(err, errlen, "raw header has registers.agg = %u but not the cycle timing (registers k, delay, gate, win)", p->agg);
    rc = -1;
  }
  if (rc) { json_decref(root); return rc; }
  if (!json_is_number(clk) || json_number_value(clk) <= 0) {
    snprintf(err, errlen, "raw header lacks a positive firmware.clk_hz");
    rc = -1;
  } else if (!json_is_string(gain) || !((p->eod_nm_per_lsb = strtod(json_string_value(gain), NULL)) > 0) ||
             !isfinite(p->eod_nm_per_lsb)) {   /* NaN and inf too (found by tests/fuzz/fuzz_rawfile) */
    snprintf(err, errlen, "raw header lacks a positive finite config.eod_nm_per_lsb");
    rc = -1;
  } else {
    p->clk_hz = json_number_value(clk);
  }
  json_decref(root);
  return rc;
}
