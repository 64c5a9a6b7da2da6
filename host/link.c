/* Firmware session: see link.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "link.h"

#define CMD_TIMEOUT_MS 250
#define CMD_ATTEMPTS 3

void mfx_link_init(mfx_link *l, mfx_transport *t)
{
  memset(l, 0, sizeof *l);
  l->t = t;
  mfx_dec_init(&l->dec);
}

static void on_frame(void *ctx, const mfx_frame *f)
{
  mfx_link *l = ctx;
  if (f->type == MINFLUX_PROTO_T_CYCLE) {
    mfx_cycle c;
    if (mfx_cycle_parse(f, &c)) { l->malformed_records++; return; }
    if (l->on_cycle) l->on_cycle(l->cycle_ctx, &c);
  } else if (f->type == MINFLUX_PROTO_T_WRITE_R && l->batch_n && f->len >= 1) {
    for (size_t i = 0; i < l->batch_n; i++)
      if (!(l->batch_got >> i & 1u) && f->payload[0] == l->batch_addr[i]) {
        l->batch_got |= 1u << i;
        break;
      }
  } else if (f->type & 0x80) {
    l->resp = *f;
    l->have_resp = 1;
  }
}

long mfx_link_poll(mfx_link *l, int timeout_ms)
{
  uint8_t buf[16384];
  long n = l->t->read(l->t, buf, sizeof buf, timeout_ms);
  if (n < 0) { snprintf(l->err, sizeof l->err, "%s", l->t->err); return -1; }
  if (n > 0) {
    l->bytes_in += (uint64_t)n;
    if (l->on_raw) l->on_raw(l->raw_ctx, buf, (size_t)n);
    mfx_dec_feed(&l->dec, buf, (size_t)n, on_frame, l);
  }
  return n;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sends a command and waits for the answer of type `rtype` (for READ/WRITE with the
 * same address); retries on silence. */
static int transact(mfx_link *l, uint8_t type, const uint8_t *pl, uint8_t len, uint8_t rtype, mfx_frame *ans)
{
  uint8_t fr[MFX_FRAME_MAX];
  size_t n = mfx_frame_encode(fr, type, pl, len);
  for (int attempt = 0; attempt < CMD_ATTEMPTS; attempt++) {
    if (attempt) l->retries++;
    l->have_resp = 0;
    if (l->t->write(l->t, fr, n)) { snprintf(l->err, sizeof l->err, "%s", l->t->err); return -1; }
    double end = now_ms() + CMD_TIMEOUT_MS;
    for (;;) {
      double left = end - now_ms();
      if (left <= 0) break;
      if (mfx_link_poll(l, (int)left + 1) < 0) return -1;
      if (l->have_resp) {
        l->have_resp = 0;
        if (l->resp.type == rtype && (len == 0 || l->resp.payload[0] == pl[0])) {
          if (ans) *ans = l->resp;
          return 0;
        }
      }
    }
  }
  snprintf(l->err, sizeof l->err, "no answer from the firmware to command 0x%02X after %d attempts of %d ms "
           "(%llu bytes received, %llu CRC errors): wrong bitstream or link?", type, CMD_ATTEMPTS,
           CMD_TIMEOUT_MS, (unsigned long long)l->bytes_in, (unsigned long long)l->dec.crc_errors);
  return -1;
}

int mfx_ping(mfx_link *l)
{
  return transact(l, MINFLUX_PROTO_T_PING, NULL, 0, MINFLUX_PROTO_T_PONG, NULL);
}

int mfx_reg_read(mfx_link *l, uint8_t addr, uint32_t *val)
{
  mfx_frame f;
  if (transact(l, MINFLUX_PROTO_T_READ, &addr, 1, MINFLUX_PROTO_T_READ_R, &f)) return -1;
  *val = mfx_be32(f.payload + 1);
  return 0;
}

int mfx_reg_write(mfx_link *l, uint8_t addr, uint32_t val)
{
  uint8_t pl[5] = { addr };
  mfx_put32(pl + 1, val);
  return transact(l, MINFLUX_PROTO_T_WRITE, pl, 5, MINFLUX_PROTO_T_WRITE_R, NULL);
}

int mfx_link_set_rate(mfx_link *l, unsigned baud)
{
  unsigned code;
  const unsigned base = MINFLUX_CLK_HZ / MINFLUX_LINK_DIV_3M;
  if (baud == base) code = 0;
  else if (baud == 2 * base) code = 1;
  else if (baud == 4 * base) code = 2;
  else {
    snprintf(l->err, sizeof l->err, "link rate %u baud is not one the firmware runs (allowed: %u, %u, %u)", baud, base,
             2 * base, 4 * base);
    return -1;
  }
  if (baud == l->t->baud) return 0;
  const unsigned old = l->t->baud;
  /* answered at the old rate; the firmware switches once that answer is out */
  if (mfx_reg_write(l, MINFLUX_REG_LINK_BAUD, code)) return -1;
  const struct timespec pause = { 0, 2000000 };   /* > 20 byte times at 3 Mbaud */
  nanosleep(&pause, NULL);
  if (!l->t->set_baud || l->t->set_baud(l->t, baud)) {
    snprintf(l->err, sizeof l->err, "switching the host side to %u baud: %s", baud,
             l->t->set_baud ? l->t->err : "this transport has a fixed rate");
    return -1;
  }
  mfx_dec_init(&l->dec);   /* whatever was half-received at the old rate is gone */
  if (mfx_ping(l)) {
    char e[160];
    snprintf(e, sizeof e, "%.159s", l->err);
    if (l->t->set_baud) l->t->set_baud(l->t, old);
    snprintf(l->err, sizeof l->err, "no answer at %u baud after switching (the firmware returns to %u baud after "
             "1.4 s without commands): %s", baud, base, e);
    return -1;
  }
  return 0;
}

int mfx_reg_write_n(mfx_link *l, size_t n, const uint8_t *addr, const uint32_t *val)
{
  if (n > 8) {
    snprintf(l->err, sizeof l->err, "mfx_reg_write_n: %zu writes (at most 8)", n);
    return -1;
  }
  uint8_t fr[8 * MFX_FRAME_MAX];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t pl[5] = { addr[i] };
    mfx_put32(pl + 1, val[i]);
    m += mfx_frame_encode(fr + m, MINFLUX_PROTO_T_WRITE, pl, 5);
  }
  const unsigned all = (1u << n) - 1u;
  l->batch_n = n;
  l->batch_addr = addr;
  l->batch_got = 0;
  int rc = l->t->write(l->t, fr, m) ? -1 : 0;
  if (rc) snprintf(l->err, sizeof l->err, "%s", l->t->err);
  const double end = now_ms() + CMD_TIMEOUT_MS;
  while (!rc && l->batch_got != all) {
    const double left = end - now_ms();
    if (left <= 0) break;
    if (mfx_link_poll(l, (int)left + 1) < 0) rc = -1;
  }
  const unsigned got = l->batch_got;
  l->batch_n = 0;
  for (size_t i = 0; !rc && i < n; i++)   /* refused or lost: again, one at a time */
    if (!(got >> i & 1u)) {
      l->retries++;
      rc = mfx_reg_write(l, addr[i], val[i]);
    }
  return rc;
}
