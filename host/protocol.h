/* The host <-> firmware framed protocol (docs/protocol.md): CRC, frame encoding, a
 * streaming decoder that resynchronizes on garbage, and the CYCLE record layout.
 * Shared by the host program, the virtual board and the tests; numbers from
 * hls-c/regmap_link.h (the same header generates the RTL constants). */
#ifndef MINFLUX_PROTOCOL_H
#define MINFLUX_PROTOCOL_H
#include <stddef.h>
#include <stdint.h>
#include "regmap.h"

#define MFX_FRAME_OVERHEAD 5                 /* sync, type, len, crc hi, crc lo */
#define MFX_FRAME_MAX      (MFX_FRAME_OVERHEAD + 255)
#define MFX_CYCLE_LEN(k)   (MINFLUX_PROTO_CYCLE_HDR + MINFLUX_PROTO_CYCLE_EXP * (k))

/* record flags (CYCLE byte 14) */
#define MFX_FLAG_EST_VALID 0x01u   /* estimate valid: N > 0 and N >= EST_THRESH */
#define MFX_FLAG_SATURATED 0x02u   /* a count of this record saturated at 4095 */
#define MFX_FLAG_BAYES     0x04u   /* a Bayesian exposure record (docs/protocol.md; host/acq_bayes.c) */
#define MFX_FLAG_STATE_SHIFT 4     /* bits 7:4: controller state (0 = open loop) */

typedef struct {
  uint8_t type, len;
  uint8_t payload[255];
} mfx_frame;

typedef struct {
  uint16_t seq;          /* wraps at 2^16 */
  uint32_t ts;           /* cycle start, clk cycles (wraps at 2^32) */
  int16_t  cx, cy;       /* pattern centre, signed DAC LSB */
  int16_t  ex, ey;       /* live estimate relative to the centre, Q11.5 nm */
  uint8_t  flags;
  uint8_t  k;            /* exposures in the record, 1..8 */
  uint16_t counts[8][2]; /* [exposure][channel], 12 bit */
} mfx_cycle;

uint16_t mfx_crc16(uint16_t crc, const uint8_t *p, size_t n);

/* Writes a whole frame to out (MFX_FRAME_OVERHEAD + len bytes); returns its size. */
size_t mfx_frame_encode(uint8_t *out, uint8_t type, const uint8_t *payload, uint8_t len);

/* Whether (type, len) is a frame this protocol defines (either direction). */
int mfx_frame_plausible(uint8_t type, uint8_t len);

/* CYCLE payload <-> struct. parse returns 0, or -1 when len does not fit 1..8 exposures. */
size_t mfx_cycle_encode(const mfx_cycle *c, uint8_t *payload);
int    mfx_cycle_parse(const mfx_frame *f, mfx_cycle *c);

/* Streaming decoder. Feed it any bytes: complete frames with a valid CRC are passed to
 * the callback in order; a byte that cannot start a valid frame is skipped (counted),
 * a frame whose CRC fails is counted and decoding resumes at the byte after its sync.
 * It never reads outside its own buffer and keeps at most one frame's worth of bytes. */
typedef void (*mfx_frame_cb)(void *ctx, const mfx_frame *f);
typedef struct {
  uint8_t  buf[MFX_FRAME_MAX];
  size_t   n;
  uint64_t frames, crc_errors, skipped_bytes;
} mfx_decoder;

void mfx_dec_init(mfx_decoder *d);
void mfx_dec_feed(mfx_decoder *d, const uint8_t *p, size_t n, mfx_frame_cb cb, void *ctx);

static inline uint32_t mfx_be32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint16_t mfx_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void mfx_put32(uint8_t *p, uint32_t v)
{ p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline void mfx_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }

#endif
