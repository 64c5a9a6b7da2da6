/* Framed protocol: see protocol.h and docs/protocol.md. */
#include <string.h>
#include "protocol.h"

uint16_t mfx_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
  while (n--) {
    crc ^= (uint16_t)(*p++ << 8);
    for (int b = 0; b < 8; b++)
      crc = (crc & 0x8000) ? (uint16_t)(crc << 1 ^ MINFLUX_PROTO_CRC_POLY) : (uint16_t)(crc << 1);
  }
  return crc;
}

size_t mfx_frame_encode(uint8_t *out, uint8_t type, const uint8_t *payload, uint8_t len)
{
  out[0] = MINFLUX_PROTO_SYNC;
  out[1] = type;
  out[2] = len;
  if (len) memcpy(out + 3, payload, len);
  uint16_t crc = mfx_crc16(MINFLUX_PROTO_CRC_INIT, out + 1, (size_t)len + 2);
  mfx_put16(out + 3 + len, crc);
  return (size_t)len + MFX_FRAME_OVERHEAD;
}

int mfx_frame_plausible(uint8_t type, uint8_t len)
{
  switch (type) {
  case MINFLUX_PROTO_T_PING:    return len == 0;
  case MINFLUX_PROTO_T_READ:    return len == 1;
  case MINFLUX_PROTO_T_WRITE:   return len == 5;
  case MINFLUX_PROTO_T_PONG:    return len == 0;
  case MINFLUX_PROTO_T_READ_R:  return len == 5;
  case MINFLUX_PROTO_T_WRITE_R: return len == 1;
  case MINFLUX_PROTO_T_CYCLE:
    return len >= MFX_CYCLE_LEN(1) && len <= MFX_CYCLE_LEN(8)
           && (len - MINFLUX_PROTO_CYCLE_HDR) % MINFLUX_PROTO_CYCLE_EXP == 0;
  default: return 0;
  }
}

size_t mfx_cycle_encode(const mfx_cycle *c, uint8_t *p)
{
  mfx_put16(p + 0, c->seq);
  mfx_put32(p + 2, c->ts);
  mfx_put16(p + 6, (uint16_t)c->cx);
  mfx_put16(p + 8, (uint16_t)c->cy);
  mfx_put16(p + 10, (uint16_t)c->ex);
  mfx_put16(p + 12, (uint16_t)c->ey);
  p[14] = c->flags;
  for (int k = 0; k < c->k; k++) {
    uint32_t w = (uint32_t)(c->counts[k][0] & 0xFFF) << 12 | (c->counts[k][1] & 0xFFF);
    uint8_t *q = p + MINFLUX_PROTO_CYCLE_HDR + MINFLUX_PROTO_CYCLE_EXP * k;
    q[0] = w >> 16; q[1] = w >> 8; q[2] = w;
  }
  return MFX_CYCLE_LEN(c->k);
}

int mfx_cycle_parse(const mfx_frame *f, mfx_cycle *c)
{
  if (f->type != MINFLUX_PROTO_T_CYCLE || !mfx_frame_plausible(f->type, f->len))
    return -1;
  const uint8_t *p = f->payload;
  memset(c, 0, sizeof *c);
  c->seq = mfx_be16(p + 0);
  c->ts = mfx_be32(p + 2);
  c->cx = (int16_t)mfx_be16(p + 6);
  c->cy = (int16_t)mfx_be16(p + 8);
  c->ex = (int16_t)mfx_be16(p + 10);
  c->ey = (int16_t)mfx_be16(p + 12);
  c->flags = p[14];
  c->k = (uint8_t)((f->len - MINFLUX_PROTO_CYCLE_HDR) / MINFLUX_PROTO_CYCLE_EXP);
  for (int k = 0; k < c->k; k++) {
    const uint8_t *q = p + MINFLUX_PROTO_CYCLE_HDR + MINFLUX_PROTO_CYCLE_EXP * k;
    uint32_t w = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
    c->counts[k][0] = (uint16_t)(w >> 12);
    c->counts[k][1] = (uint16_t)(w & 0xFFF);
  }
  return 0;
}

void mfx_dec_init(mfx_decoder *d) { memset(d, 0, sizeof *d); }

/* Drops the first `n` buffered bytes. */
static void dec_drop(mfx_decoder *d, size_t n)
{
  memmove(d->buf, d->buf + n, d->n - n);
  d->n -= n;
}

/* Decodes what the buffer holds; returns when it needs more bytes. */
static void dec_run(mfx_decoder *d, mfx_frame_cb cb, void *ctx)
{
  for (;;) {
    size_t s = 0;
    while (s < d->n && d->buf[s] != MINFLUX_PROTO_SYNC) s++;
    d->skipped_bytes += s;
    if (s) dec_drop(d, s);
    if (d->n < 3) return;
    uint8_t type = d->buf[1], len = d->buf[2];
    if (!mfx_frame_plausible(type, len)) {   /* not a frame start: skip the sync byte */
      d->skipped_bytes++;
      dec_drop(d, 1);
      continue;
    }
    size_t total = (size_t)len + MFX_FRAME_OVERHEAD;
    if (d->n < total) return;
    uint16_t crc = mfx_crc16(MINFLUX_PROTO_CRC_INIT, d->buf + 1, (size_t)len + 2);
    if (crc != mfx_be16(d->buf + 3 + len)) {
      d->crc_errors++;
      d->skipped_bytes++;
      dec_drop(d, 1);
      continue;
    }
    mfx_frame f;
    f.type = type;
    f.len = len;
    memcpy(f.payload, d->buf + 3, len);
    dec_drop(d, total);
    d->frames++;
    if (cb) cb(ctx, &f);
  }
}

void mfx_dec_feed(mfx_decoder *d, const uint8_t *p, size_t n, mfx_frame_cb cb, void *ctx)
{
  while (n) {
    size_t room = sizeof d->buf - d->n;
    size_t take = n < room ? n : room;
    memcpy(d->buf + d->n, p, take);
    d->n += take;
    p += take;
    n -= take;
    dec_run(d, cb, ctx);
  }
}
