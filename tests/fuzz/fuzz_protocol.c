/* Fuzz target: the link stream decoder (host/protocol.c mfx_dec_feed) and the CYCLE
 * record parser on arbitrary bytes. Properties beyond "no crash, no sanitizer report":
 *  - every input byte is accounted for: skipped + bytes of delivered frames + buffered;
 *  - the buffer never holds more than one maximal frame;
 *  - delivered frames are plausible and their CRC checks; CYCLE records re-encode to the
 *    same payload;
 *  - the result does not depend on how the bytes are chunked (whole input vs. chunks of
 *    sizes drawn from the input's first byte vs. byte by byte);
 *  - a valid frame appended after the input is delivered, unless a frame decoded from the
 *    input itself reaches into it (a false frame with a good CRC);
 *  - the delivered frames, encoded again back to back, decode to the same frames with no
 *    byte skipped. */
#include <string.h>
#include "fuzz_util.h"
#include "protocol.h"

#define MAXF 4096

typedef struct {
  mfx_frame f[MAXF];
  size_t end[MAXF];     /* stream offset just past the frame's last byte */
  size_t nf, fed;
  uint64_t frame_bytes;
  mfx_decoder *d;
} sink;

static void on_frame(void *ctx, const mfx_frame *f)
{
  sink *s = ctx;
  FZ_CHECK(mfx_frame_plausible(f->type, f->len), "type 0x%02X len %u", f->type, f->len);
  uint8_t buf[MFX_FRAME_MAX];
  const size_t n = mfx_frame_encode(buf, f->type, f->payload, f->len);
  FZ_CHECK(mfx_crc16(MINFLUX_PROTO_CRC_INIT, buf + 1, n - 1) == 0, "re-encoded frame has a bad CRC");
  if (f->type == MINFLUX_PROTO_T_CYCLE) {
    mfx_cycle c;
    FZ_CHECK(mfx_cycle_parse(f, &c) == 0, "plausible CYCLE frame of len %u refused", f->len);
    uint8_t pl[255];
    const size_t pn = mfx_cycle_encode(&c, pl);
    FZ_CHECK(pn == f->len && !memcmp(pl, f->payload, pn), "CYCLE record does not re-encode to its payload");
  }
  s->frame_bytes += n;
  if (s->nf < MAXF) {
    s->f[s->nf] = *f;
    s->end[s->nf] = s->fed - s->d->n;   /* exact when fed byte by byte */
  }
  s->nf++;
}

static void run(sink *s, mfx_decoder *d, const uint8_t *p, size_t n, unsigned chunk_seed)
{
  s->nf = s->fed = 0;
  s->frame_bytes = 0;
  s->d = d;
  mfx_dec_init(d);
  unsigned r = chunk_seed;
  size_t off = 0;
  while (off < n) {
    size_t c;
    if (chunk_seed == 0) c = n - off;               /* one call */
    else if (chunk_seed == 1) c = 1;                /* byte by byte */
    else { r = r * 1103515245u + 12345u; c = 1 + (r >> 16) % 300; }
    if (c > n - off) c = n - off;
    s->fed += c;
    mfx_dec_feed(d, p + off, c, on_frame, s);
    FZ_CHECK(d->n <= MFX_FRAME_MAX, "decoder holds %zu bytes", d->n);
    off += c;
  }
  FZ_CHECK(d->skipped_bytes + s->frame_bytes + d->n == n,
           "%zu bytes in, %llu skipped + %llu in frames + %zu buffered", n,
           (unsigned long long)d->skipped_bytes, (unsigned long long)s->frame_bytes, d->n);
  FZ_CHECK(d->frames == s->nf, "frames counter %llu, callbacks %zu", (unsigned long long)d->frames, s->nf);
}

static int same(const sink *a, const mfx_decoder *da, const sink *b, const mfx_decoder *db)
{
  if (a->nf != b->nf || da->crc_errors != db->crc_errors || da->skipped_bytes != db->skipped_bytes ||
      da->n != db->n || memcmp(da->buf, db->buf, da->n))
    return 0;
  for (size_t i = 0; i < a->nf && i < MAXF; i++)
    if (a->f[i].type != b->f[i].type || a->f[i].len != b->f[i].len ||
        memcmp(a->f[i].payload, b->f[i].payload, a->f[i].len))
      return 0;
  return 1;
}

static sink s1, s2, s3;
static mfx_decoder d1, d2, d3;
static uint8_t stream[16384 + 2 * MFX_FRAME_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 16384) return 0;   /* <= 3277 frames: all fit in a sink */
  /* the input, then a known CYCLE record, then 260 bytes that cannot start a frame */
  mfx_cycle c = { .seq = 0x1234, .ts = 0xDEADBEEF, .cx = -5, .cy = 7, .ex = 100, .ey = -100,
                  .flags = MFX_FLAG_EST_VALID, .k = 4, .counts = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 4095, 0 } } };
  uint8_t pl[255];
  memcpy(stream, data, size);
  const size_t fl = mfx_frame_encode(stream + size, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)mfx_cycle_encode(&c, pl));
  memset(stream + size + fl, 0, MFX_FRAME_MAX);
  const size_t n = size + fl + MFX_FRAME_MAX;

  run(&s1, &d1, stream, n, 1);
  run(&s2, &d2, stream, n, 0);
  FZ_CHECK(same(&s1, &d1, &s2, &d2), "byte-by-byte and one-call decoding differ");
  run(&s3, &d3, stream, n, 2u + (size ? data[0] : 0));
  FZ_CHECK(same(&s1, &d1, &s3, &d3), "byte-by-byte and chunked decoding differ");

  /* the appended record: delivered, or overlapped by a frame found in the input */
  if (s1.nf <= MAXF) {
    int found = 0, overlapped = 0;
    for (size_t i = 0; i < s1.nf; i++) {
      if (s1.end[i] == size + fl && s1.f[i].type == MINFLUX_PROTO_T_CYCLE && s1.f[i].len == fl - MFX_FRAME_OVERHEAD &&
          !memcmp(s1.f[i].payload, stream + size + 3, s1.f[i].len))
        found = 1;
      else if (s1.end[i] > size)
        overlapped = 1;
    }
    FZ_CHECK(found || overlapped, "a valid frame after %zu input bytes was lost", size);

    /* the frames again, back to back: the same frames, nothing skipped */
    size_t m = 0;
    for (size_t i = 0; i < s1.nf; i++)
      m += mfx_frame_encode(stream + m, s1.f[i].type, s1.f[i].payload, s1.f[i].len);
    const size_t nf = s1.nf;
    run(&s2, &d2, stream, m, 0);
    FZ_CHECK(s2.nf == nf && d2.skipped_bytes == 0 && d2.crc_errors == 0 && d2.n == 0,
             "re-encoded frames: %zu of %zu back, %llu skipped", s2.nf, nf, (unsigned long long)d2.skipped_bytes);
    for (size_t i = 0; i < nf; i++)
      FZ_CHECK(s2.f[i].type == s1.f[i].type && s2.f[i].len == s1.f[i].len &&
               !memcmp(s2.f[i].payload, s1.f[i].payload, s1.f[i].len), "re-encoded frame %zu differs", i);
  }
  return 0;
}
