/* A session with the firmware over a transport: register access with retries, and the
 * record stream (every received byte to an optional raw sink, every CYCLE record to a
 * callback). One command is in flight at a time, but for the repeatable writes of mfx_reg_write_n. */
#ifndef MINFLUX_LINK_H
#define MINFLUX_LINK_H
#include "protocol.h"
#include "transport.h"

typedef struct mfx_link {
  mfx_transport *t;
  mfx_decoder dec;
  void (*on_cycle)(void *ctx, const mfx_cycle *c);
  void *cycle_ctx;
  void (*on_raw)(void *ctx, const uint8_t *p, size_t n);
  void *raw_ctx;
  int have_resp;
  mfx_frame resp;
  size_t batch_n;                /* mfx_reg_write_n: the writes in flight, their answers so far */
  const uint8_t *batch_addr;
  unsigned batch_got;
  uint64_t bytes_in, retries, malformed_records;
  char err[320];
} mfx_link;

void mfx_link_init(mfx_link *l, mfx_transport *t);
/* Reads what arrives within timeout_ms and decodes it: >= 0 bytes, -1 on transport error. */
long mfx_link_poll(mfx_link *l, int timeout_ms);
/* Commands; 0 on success, -1 with a message in l->err after 3 attempts. */
int mfx_ping(mfx_link *l);
int mfx_reg_read(mfx_link *l, uint8_t addr, uint32_t *val);
int mfx_reg_write(mfx_link *l, uint8_t addr, uint32_t val);
/* n (<= 8) writes of registers whose write may be repeated (no side effect but the value):
 * sent at once, then their answers awaited together (one round trip); those unanswered are
 * written again one by one. 0, or -1 with l->err. */
int mfx_reg_write_n(mfx_link *l, size_t n, const uint8_t *addr, const uint32_t *val);
/* Switches the firmware (LINK_BAUD) and then the transport to `baud` (3, 6 or 12 Mbaud) and
 * checks the link with a ping; 0 on success, -1 with a message in l->err. The firmware falls
 * back to 3 Mbaud by itself after 1.4 s without commands. */
int mfx_link_set_rate(mfx_link *l, unsigned baud);

#endif
