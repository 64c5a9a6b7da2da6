/* analyze_raw: see analyze_raw.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "analyze_raw.h"

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

static void add_damage(an_raw *r, uint64_t off, uint64_t bytes, const char *what)
{
  if (!bytes) return;
  /* consecutive damage of the same kind is one entry */
  if (r->ndmg && r->dmg[r->ndmg - 1].offset + r->dmg[r->ndmg - 1].bytes == off &&
      r->dmg[r->ndmg - 1].what == what) {
    r->dmg[r->ndmg - 1].bytes += bytes;
    return;
  }
  if (grow((void **)&r->dmg, &r->capdmg, r->ndmg + 1, sizeof *r->dmg)) return;
  r->dmg[r->ndmg++] = (an_damage){ off, bytes, what };
}

/* ---- header ---- */

static double cfg_num(json_t *cfg, const char *key, double dflt)
{
  json_t *v = json_object_get(cfg, key);
  if (json_is_string(v)) {
    char *end;
    const double d = strtod(json_string_value(v), &end);
    if (end != json_string_value(v) && isfinite(d)) return d;
  } else if (json_is_number(v)) {
    return json_number_value(v);
  }
  return dflt;
}

int an_header_parse(const char *json, an_header *h, char *err, size_t errlen)
{
  mfx_decode_params p;
  if (mfx_raw_params(json, &p, err, errlen)) return -1;
  memset(h, 0, sizeof *h);
  h->clk_hz = p.clk_hz;
  h->eod_nm_per_lsb = p.eod_nm_per_lsb;
  h->agg = p.agg >= 1 ? p.agg : 1;
  json_error_t je;
  json_t *root = json_loads(json, 0, &je);
  if (!root) { snprintf(err, errlen, "raw header is not JSON: %s", je.text); return -1; }
  json_t *cfg = json_object_get(root, "config"), *regs = json_object_get(root, "registers");
  json_t *mode = json_object_get(cfg, "mode");
  snprintf(h->mode, sizeof h->mode, "%s", json_is_string(mode) ? json_string_value(mode) : "track");
  if (!strcmp(h->mode, "hex")) {
    snprintf(err, errlen, "a raw file of a hexagon acquisition (config mode = hex): its localizations are localizations.csv and "
             "hex_stages.csv of `minflux acquire`; analyze segments tracks and images, which a hexagon run has not");
    json_decref(root);
    return -1;
  }
  h->k = (int)cfg_num(cfg, "k", 4);
  h->L_nm = cfg_num(cfg, "L_nm", 100);
  h->fwhm_nm = cfg_num(cfg, "fwhm_nm", 360);
  h->est_k = (int)cfg_num(cfg, "est_k", 1);
  h->beta[0] = cfg_num(cfg, "beta0", 1.27);
  h->beta[1] = cfg_num(cfg, "beta1", 3.8);
  h->beta[2] = cfg_num(cfg, "beta2", 0);
  h->thresh = cfg_num(cfg, "thresh", 6);
  h->delay_cycles = (unsigned)cfg_num(regs, "delay", 0);
  h->gate_cycles = (unsigned)cfg_num(regs, "gate", 0);
  h->win_cycles = (unsigned)cfg_num(regs, "win", 0);
  json_t *hz = json_object_get(root, "cycle_hz");
  h->cycle_hz = json_is_number(hz) ? json_number_value(hz) : cfg_num(cfg, "cycle_hz", 8000);
  json_decref(root);
  if (h->k < 1 || h->k > 8 || !(h->L_nm > 0) || !(h->fwhm_nm > 0) || !(h->cycle_hz > 0)) {
    snprintf(err, errlen, "raw header: k = %d, L_nm = %g, fwhm_nm = %g, cycle_hz = %g: need k in 1..8 "
             "and positive L, fwhm and rate", h->k, h->L_nm, h->fwhm_nm, h->cycle_hz);
    return -1;
  }
  return 0;
}

double an_period_s(const an_header *h)
{
  if (h->gate_cycles && h->delay_cycles && h->clk_hz > 0)
    return (h->k * (double)(h->delay_cycles + h->gate_cycles) + h->win_cycles + 1) / h->clk_hz;
  return 1.0 / h->cycle_hz;
}

double an_record_period_s(const an_header *h) { return h->agg * an_period_s(h); }

/* ---- records ---- */

/* A decoded CYCLE frame before the plausibility pass. */
typedef struct {
  uint64_t start, end;     /* file offsets */
  uint16_t seq;
  uint32_t ts;
} frame_pos;

typedef struct {
  an_raw *r;
  mfx_decoder *d;
  uint64_t fed_end;        /* file offset one past the last byte fed */
  uint64_t good_end;       /* file offset one past the last frame delivered (or the data start) */
  uint64_t crc_seen;       /* decoder crc_errors when the last damage was classified */
  frame_pos *fp;
  size_t nfp, capfp;
} feed_ctx;

static void on_frame(void *vctx, const mfx_frame *f)
{
  feed_ctx *x = vctx;
  an_raw *r = x->r;
  const uint64_t end = x->fed_end - x->d->n, start = end - (f->len + MFX_FRAME_OVERHEAD);
  if (start > x->good_end)
    add_damage(r, x->good_end, start - x->good_end, x->d->crc_errors > x->crc_seen ? "CRC error" : "garbage");
  x->crc_seen = x->d->crc_errors;
  x->good_end = end;
  mfx_cycle c;
  if (f->type != MINFLUX_PROTO_T_CYCLE || mfx_cycle_parse(f, &c)) { r->frames_other++; return; }
  if (grow((void **)&r->rec, &r->cap, r->n + 1, sizeof *r->rec) ||
      grow((void **)&x->fp, &x->capfp, x->nfp + 1, sizeof *x->fp)) return;
  x->fp[x->nfp++] = (frame_pos){ start, end, c.seq, c.ts };
  an_rec *a = &r->rec[r->n++];
  memset(a, 0, sizeof *a);
  a->cx_nm = (float)(c.cx * r->h.eod_nm_per_lsb);
  a->cy_nm = (float)(c.cy * r->h.eod_nm_per_lsb);
  a->ex_nm = (float)(c.ex / 32.0);   /* Q11.5 nm */
  a->ey_nm = (float)(c.ey / 32.0);
  a->k = c.k;
  a->flags = c.flags;
  for (int i = 0; i < c.k; i++) {
    a->n[i] = (uint16_t)(c.counts[i][0] + c.counts[i][1]);
    a->ch[0] = (uint16_t)(a->ch[0] + c.counts[i][0]);
    a->ch[1] = (uint16_t)(a->ch[1] + c.counts[i][1]);
  }
}

/* Whether record b can follow record a: the sequence number advances by 1..2^15-1, the
 * timestamp advances, and (with a known cycle period P) by at least half a period per
 * sequence step and at most 256 periods per step (records aggregating cycles). */
static int follows(const frame_pos *a, const frame_pos *b, double P)
{
  const uint16_t dseq = (uint16_t)(b->seq - a->seq);
  const uint32_t dts = b->ts - a->ts;
  if (dseq == 0 || dseq >= 0x8000u || dts == 0 || dts >= 0x80000000u) return 0;
  if (P > 0 && (dts < 0.5 * P * dseq || dts > 256.0 * P * dseq + P)) return 0;
  return 1;
}

/* A frame that passed its CRC by chance inside damaged bytes carries arbitrary numbers:
 * a record that can follow neither its predecessor nor precede its successor, while those
 * two fit together, is refused. A genuine discontinuity (e.g. the firmware restarted) is
 * kept, because the records after it fit each other. Then seq and ts are unwrapped. */
static void validate(an_raw *r, feed_ctx *x)
{
  const double P = r->h.gate_cycles ? an_record_period_s(&r->h) * r->h.clk_hz : 0;
  /* the timestamp is the start of a record's last cycle (agg > 1): t_s is its first */
  const double back = r->h.agg > 1 ? (r->h.agg - 1) * an_period_s(&r->h) : 0;
  const frame_pos *fp = x->fp;
  size_t w = 0, prev = SIZE_MAX;
  uint64_t seq = 0, ts_hi = 0;
  for (size_t i = 0; i < x->nfp; i++) {
    if (prev != SIZE_MAX && !follows(&fp[prev], &fp[i], P)) {
      const int has_next = i + 1 < x->nfp;
      const int outlier = !has_next || (!follows(&fp[i], &fp[i + 1], P) && follows(&fp[prev], &fp[i + 1], P));
      if (outlier) {
        add_damage(r, fp[i].start, fp[i].end - fp[i].start, "implausible record");
        r->rejected++;
        continue;
      }
    }
    if (prev == SIZE_MAX) {
      seq = fp[i].seq;
    } else {
      const uint16_t dseq = (uint16_t)(fp[i].seq - fp[prev].seq);
      if (dseq == 0 || dseq >= 0x8000u) seq += 1;   /* a discontinuity: continue the count */
      else { r->gaps += dseq - 1u; seq += dseq; }
      if (fp[i].ts < fp[prev].ts) ts_hi += 1ull << 32;
    }
    an_rec a = r->rec[i];
    a.seq = seq;
    a.t_s = (double)(ts_hi + fp[i].ts) / r->h.clk_hz - back;
    r->rec[w++] = a;
    prev = i;
  }
  r->n = w;
  /* damage entries were appended out of order: sort them by offset */
  for (size_t i = 1; i < r->ndmg; i++)
    for (size_t j = i; j > 0 && r->dmg[j - 1].offset > r->dmg[j].offset; j--) {
      const an_damage t = r->dmg[j];
      r->dmg[j] = r->dmg[j - 1];
      r->dmg[j - 1] = t;
    }
}

int an_raw_read(const char *path, an_raw *r, char *err, size_t errlen)
{
  memset(r, 0, sizeof *r);
  FILE *f = mfx_raw_open(path, &r->header_json, err, errlen);
  if (!f) return -1;
  if (an_header_parse(r->header_json, &r->h, err, errlen)) {
    fclose(f);
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0) r->file_bytes = (uint64_t)st.st_size;
  r->data_offset = (uint64_t)ftello(f);
  mfx_decoder d;
  mfx_dec_init(&d);
  feed_ctx x = { .r = r, .d = &d, .fed_end = r->data_offset, .good_end = r->data_offset };
  static uint8_t buf[1 << 16];
  size_t have = 0, pos = 0;
  for (;;) {
    if (pos == have) {
      have = fread(buf, 1, sizeof buf, f);
      pos = 0;
      if (have == 0) break;
    }
    /* feed no more than the decoder buffer takes at once, so that inside the callback
     * the file offset of every byte it holds is known exactly */
    size_t room = sizeof d.buf - d.n, take = have - pos < room ? have - pos : room;
    x.fed_end += take;
    mfx_dec_feed(&d, buf + pos, take, on_frame, &x);
    pos += take;
  }
  if (ferror(f)) {
    r->read_error = 1;
    add_damage(r, x.fed_end, r->file_bytes > x.fed_end ? r->file_bytes - x.fed_end : 1, "read error");
  }
  fclose(f);
  const uint64_t tail = x.fed_end - d.n;
  if (tail > x.good_end)
    add_damage(r, x.good_end, tail - x.good_end, d.crc_errors > x.crc_seen ? "CRC error" : "garbage");
  if (d.n) add_damage(r, tail, d.n, "truncated frame");
  r->crc_errors = d.crc_errors;
  r->skipped_bytes = d.skipped_bytes;
  validate(r, &x);
  free(x.fp);
  return 0;
}

/* ---- truth.csv ---- */

int an_truth_read(const char *path, an_raw *r)
{
  r->truth_note[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return 1;
  fclose(f);
  char err[256];
  if (te_read_csv(path, &r->truth, err, sizeof err)) {
    snprintf(r->truth_note, sizeof r->truth_note, "%s: not used", err);
    return -1;
  }
  if (te_col(&r->truth, "t_s") < 0 || te_col(&r->truth, "x_nm") < 0 || te_col(&r->truth, "y_nm") < 0 ||
      te_col(&r->truth, "on") < 0) {
    snprintf(r->truth_note, sizeof r->truth_note, "%s lacks the columns t_s,x_nm,y_nm,on: not used", path);
    te_free(&r->truth);
    return -1;
  }
  r->have_truth = 1;
  return 0;
}

void an_raw_free(an_raw *r)
{
  free(r->header_json);
  free(r->rec);
  free(r->dmg);
  if (r->have_truth) te_free(&r->truth);
  memset(r, 0, sizeof *r);
}
