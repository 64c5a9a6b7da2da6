/* FT2232H channel A as an MPSSE SPI master (FTDI AN_108 command set, AN_135 set-up), through
 * libftdi1. Commands are queued and sent in one USB write per flush; read-backs are scattered
 * into the caller's buffers by that flush. */
#include "mpsse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ftdi.h>
#include <libusb.h>   /* LIBUSB_ERROR_TIMEOUT: libftdi passes libusb codes through */

#define FT_VID 0x0403
#define FT_PID 0x6010

/* MPSSE opcodes (AN_108). Data shifting: bit 0 = data out changes on the falling edge,
 * bit 4 = write TDI/DO, bit 5 = read TDO/DI (sampled on the rising edge when bit 2 is 0),
 * MSB first (bit 3 clear), whole bytes (bit 1 clear): SPI mode 0. */
#define MC_WRITE_BYTES    0x11
#define MC_READ_BYTES     0x20
#define MC_SET_LOW        0x80
#define MC_GET_LOW        0x81
#define MC_LOOPBACK_OFF   0x85
#define MC_SET_DIVISOR    0x86
#define MC_SEND_IMMEDIATE 0x87
#define MC_DIV5_OFF       0x8A
#define MC_3PHASE_OFF     0x8D
#define MC_CLOCK_BITS     0x8E     /* n + 1 clocks, n = 0..7, no data */
#define MC_CLOCK_BYTES    0x8F     /* (n + 1) * 8 clocks, no data */
#define MC_ADAPTIVE_OFF   0x97
#define MC_BAD_COMMAND    0xAA     /* not an opcode: the engine answers 0xFA 0xAA */
#define MC_BAD_REPLY      0xFA

#define MPSSE_MASTER_HZ   60000000.0   /* with the divide-by-5 prescaler off */
#define MPSSE_MAX_SHIFT   65536u       /* bytes per data command (16-bit length - 1) */
#define MPSSE_QUEUE_BYTES (64u * 1024u + 64u)
#define USB_READ_TIMEOUT_MS 100
/* How long a flush may take beyond the SCK time it queued before the chip counts as gone. */
#define FLUSH_SLACK_S     2.0

struct pending_read { uint8_t *dst; size_t n; };

struct mpsse {
  struct ftdi_context *ctx;
  uint8_t *q;                   /* queued command bytes */
  size_t qlen;
  struct pending_read *reads;   /* destinations of the read-back, in order */
  size_t nreads, reads_cap, read_bytes;
  uint8_t *rx;                  /* read-back of one flush */
  uint8_t val, dir;
  unsigned sck_hz;
  uint64_t clocks, clocks_at_flush;
  int failed;
  char err[256];
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int mpsse_fail(mpsse *m, const char *fmt, ...)
{
  if (m->failed) return -1;        /* the first failure is the cause; keep it */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->err, sizeof m->err, fmt, ap);
  va_end(ap);
  for (char *s = m->err; *s; s++)
    if ((unsigned char)*s < 0x20) *s = ' ';
  m->failed = 1;
  return -1;
}

static void put(mpsse *m, uint8_t b) { m->q[m->qlen++] = b; }

/* Room for k more command bytes (+ the send-immediate a flush may add). */
static int room(mpsse *m, size_t k)
{
  if (m->failed) return 0;
  if (m->qlen + k + 1 > MPSSE_QUEUE_BYTES && mpsse_flush(m)) return 0;
  return 1;
}

/* Room for a read of n bytes (<= MPSSE_MAX_READ_PER_FLUSH) whose command takes k bytes. */
static int room_read(mpsse *m, size_t k, size_t n)
{
  if (m->failed) return 0;
  if (m->read_bytes + n > MPSSE_MAX_READ_PER_FLUSH && mpsse_flush(m)) return 0;
  if (!room(m, k)) return 0;
  if (m->nreads == m->reads_cap) {
    const size_t cap = m->reads_cap ? 2 * m->reads_cap : 64;
    struct pending_read *r = realloc(m->reads, cap * sizeof *r);
    if (!r) return mpsse_fail(m, "out of memory"), 0;
    m->reads = r;
    m->reads_cap = cap;
  }
  return 1;
}

static void add_read(mpsse *m, uint8_t *dst, size_t n)
{
  m->reads[m->nreads++] = (struct pending_read){ dst, n };
  m->read_bytes += n;
}

static int write_all(mpsse *m, const uint8_t *p, size_t n)
{
  while (n > 0) {
    const int part = n > (1u << 20) ? (1 << 20) : (int)n;
    const int r = ftdi_write_data(m->ctx, p, part);
    if (r <= 0)
      return mpsse_fail(m, "FT2232H write failed: %s (board unplugged?)",
                        r == 0 ? "no bytes accepted" : ftdi_get_error_string(m->ctx));
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int read_exact(mpsse *m, uint8_t *p, size_t n, double timeout_s)
{
  const double deadline = now_s() + timeout_s;
  size_t got = 0;
  while (got < n) {
    const size_t want = n - got > INT_MAX ? INT_MAX : n - got;
    const int r = ftdi_read_data(m->ctx, p + got, (int)want);
    if (r > 0) { got += (size_t)r; continue; }
    /* A bulk-read timeout only means nothing arrived yet; anything else is final. */
    if (r < 0 && r != LIBUSB_ERROR_TIMEOUT)
      return mpsse_fail(m, "FT2232H read failed: %s (board unplugged?)", ftdi_get_error_string(m->ctx));
    if (now_s() > deadline)
      return mpsse_fail(m, "FT2232H channel A returned %zu of %zu bytes within %.1f s: "
                        "the MPSSE engine stopped answering", got, n, timeout_s);
    const struct timespec nap = { 0, 100000L };
    nanosleep(&nap, NULL);
  }
  return 0;
}

int mpsse_flush(mpsse *m)
{
  if (m->failed) return -1;
  if (m->qlen == 0) return 0;
  if (m->read_bytes) put(m, MC_SEND_IMMEDIATE);   /* do not wait for the latency timer */
  const double clocked = (double)(m->clocks - m->clocks_at_flush) / m->sck_hz;
  m->clocks_at_flush = m->clocks;
  const size_t len = m->qlen;
  m->qlen = 0;
  if (write_all(m, m->q, len)) return -1;
  if (m->read_bytes) {
    if (read_exact(m, m->rx, m->read_bytes, FLUSH_SLACK_S + 2 * clocked)) return -1;
    size_t off = 0;
    for (size_t i = 0; i < m->nreads; i++) {
      memcpy(m->reads[i].dst, m->rx + off, m->reads[i].n);
      off += m->reads[i].n;
    }
  }
  m->nreads = 0;
  m->read_bytes = 0;
  return 0;
}

void mpsse_set_pins(mpsse *m, uint8_t value, uint8_t dir)
{
  if (!room(m, 3)) return;
  put(m, MC_SET_LOW);
  put(m, value);
  put(m, dir);
  m->val = value;
  m->dir = dir;
}

void mpsse_cs(mpsse *m, int high)
{
  mpsse_set_pins(m, high ? (uint8_t)(m->val | MPSSE_CS) : (uint8_t)(m->val & ~MPSSE_CS), m->dir);
}

void mpsse_spi_write(mpsse *m, const uint8_t *p, size_t n)
{
  while (n > 0 && !m->failed) {
    size_t part = n > MPSSE_MAX_SHIFT ? MPSSE_MAX_SHIFT : n;
    /* Fill what is left of the queue rather than flushing a nearly empty one. */
    if (m->qlen + 3 + part + 1 > MPSSE_QUEUE_BYTES) {
      const size_t space = MPSSE_QUEUE_BYTES - m->qlen;
      if (space < 3 + 1 + 256) { if (mpsse_flush(m)) return; continue; }
      part = space - 3 - 1;
    }
    put(m, MC_WRITE_BYTES);
    put(m, (uint8_t)((part - 1) & 0xFF));
    put(m, (uint8_t)((part - 1) >> 8));
    memcpy(m->q + m->qlen, p, part);
    m->qlen += part;
    m->clocks += 8u * part;
    p += part;
    n -= part;
  }
}

void mpsse_spi_fill(mpsse *m, uint8_t byte, size_t n)
{
  uint8_t chunk[256];
  memset(chunk, byte, sizeof chunk);
  while (n > 0 && !m->failed) {
    const size_t part = n > sizeof chunk ? sizeof chunk : n;
    mpsse_spi_write(m, chunk, part);
    n -= part;
  }
}

void mpsse_spi_read(mpsse *m, uint8_t *dst, size_t n)
{
  while (n > 0) {
    const size_t part = n > MPSSE_MAX_READ_PER_FLUSH ? MPSSE_MAX_READ_PER_FLUSH : n;
    if (!room_read(m, 3, part)) return;
    put(m, MC_READ_BYTES);
    put(m, (uint8_t)((part - 1) & 0xFF));
    put(m, (uint8_t)((part - 1) >> 8));
    add_read(m, dst, part);
    m->clocks += 8u * part;
    dst += part;
    n -= part;
  }
}

void mpsse_clocks(mpsse *m, uint64_t n)
{
  while (n >= 8 && !m->failed) {
    uint64_t bytes = n / 8;
    if (bytes > MPSSE_MAX_SHIFT) bytes = MPSSE_MAX_SHIFT;
    if (!room(m, 3)) return;
    put(m, MC_CLOCK_BYTES);
    put(m, (uint8_t)((bytes - 1) & 0xFF));
    put(m, (uint8_t)((bytes - 1) >> 8));
    m->clocks += 8 * bytes;
    n -= 8 * bytes;
  }
  if (n > 0 && room(m, 2)) {
    put(m, MC_CLOCK_BITS);
    put(m, (uint8_t)(n - 1));
    m->clocks += n;
  }
}

void mpsse_delay_us(mpsse *m, double us)
{
  if (us > 0) mpsse_clocks(m, (uint64_t)ceil(us * 1e-6 * m->sck_hz));
}

void mpsse_read_pins(mpsse *m, uint8_t *dst)
{
  if (!room_read(m, 1, 1)) return;
  put(m, MC_GET_LOW);
  add_read(m, dst, 1);
}

uint8_t mpsse_pins(const mpsse *m) { return m->val; }
uint8_t mpsse_dir(const mpsse *m) { return m->dir; }
unsigned mpsse_sck_hz(const mpsse *m) { return m->sck_hz; }
double mpsse_clocked_s(const mpsse *m) { return (double)m->clocks / m->sck_hz; }
const char *mpsse_err(const mpsse *m) { return m->err; }

/* AN_135: an invalid opcode makes the engine answer 0xFA and the opcode, which proves that
 * the channel is in MPSSE mode and that reads line up with the commands. */
static int synchronise(mpsse *m)
{
  const uint8_t bad = MC_BAD_COMMAND;
  if (write_all(m, &bad, 1)) return -1;
  uint8_t prev = 0, b = 0;
  for (int i = 0; i < 64; i++) {
    if (read_exact(m, &b, 1, 1.0)) {
      m->failed = 0;
      return mpsse_fail(m, "FT2232H channel A did not answer in MPSSE mode (no echo of the "
                        "invalid command 0xAA): is this an FT2232H?");
    }
    if (prev == MC_BAD_REPLY && b == MC_BAD_COMMAND) return 0;
    prev = b;
  }
  return mpsse_fail(m, "FT2232H channel A answers, but not with the MPSSE echo 0xFA 0xAA");
}

mpsse *mpsse_open(const char *serial, unsigned sck_hz, char *err, size_t errlen)
{
  if (serial && !serial[0]) serial = NULL;
  if (err && errlen) err[0] = '\0';
  mpsse *m = calloc(1, sizeof *m);
  if (m) m->q = malloc(MPSSE_QUEUE_BYTES), m->rx = malloc(MPSSE_MAX_READ_PER_FLUSH + 16);
  if (!m || !m->q || !m->rx) {
    if (err && errlen) snprintf(err, errlen, "out of memory");
    if (m) free(m->q), free(m->rx), free(m);
    return NULL;
  }
  m->ctx = ftdi_new();
  if (!m->ctx) {
    if (err && errlen) snprintf(err, errlen, "cannot look for the FT2232H: libftdi/libusb failed to "
                                "initialise (no USB support on this machine?)");
    free(m->q), free(m->rx), free(m);
    return NULL;
  }
  if (ftdi_set_interface(m->ctx, INTERFACE_A) < 0) {
    if (err && errlen) snprintf(err, errlen, "cannot select FT2232H channel A: %s", ftdi_get_error_string(m->ctx));
    ftdi_free(m->ctx), free(m->q), free(m->rx), free(m);
    return NULL;
  }
  errno = 0;
  const int rc = ftdi_usb_open_desc(m->ctx, FT_VID, FT_PID, NULL, serial);
  if (rc < 0) {
    mfx_ftdi_explain_open(m->ctx, rc, errno, serial, 'A', err, errlen);
    ftdi_free(m->ctx), free(m->q), free(m->rx), free(m);
    return NULL;
  }

  const char *step = NULL;
  if (ftdi_usb_reset(m->ctx) < 0) step = "reset";
  /* Replies to single reads come back at once (send-immediate) but a short latency timer
   * also bounds any read that misses it. */
  else if (ftdi_set_latency_timer(m->ctx, 1) < 0) step = "latency timer 1 ms";
  else if (ftdi_set_bitmode(m->ctx, 0, BITMODE_RESET) < 0) step = "bit mode reset";
  else if (ftdi_set_bitmode(m->ctx, 0, BITMODE_MPSSE) < 0) step = "MPSSE mode";
#ifdef SIO_TCIFLUSH
  else if (ftdi_tcioflush(m->ctx) < 0) step = "buffer flush";
#else
  else if (ftdi_usb_purge_buffers(m->ctx) < 0) step = "buffer flush";
#endif
  if (step) {
    if (err && errlen) snprintf(err, errlen, "configuring FT2232H channel A failed (%s): %s", step,
                                ftdi_get_error_string(m->ctx));
    m->failed = 1;              /* not in MPSSE mode: send nothing more on close */
    mpsse_close(m);
    return NULL;
  }
  m->ctx->usb_read_timeout = USB_READ_TIMEOUT_MS;

  if (sck_hz == 0) sck_hz = 1;
  unsigned long div = (unsigned long)ceil(MPSSE_MASTER_HZ / 2.0 / sck_hz) - 1;
  if (div > 0xFFFF) div = 0xFFFF;
  m->sck_hz = (unsigned)(MPSSE_MASTER_HZ / 2.0 / (double)(div + 1));

  if (synchronise(m) == 0) {
    put(m, MC_DIV5_OFF);
    put(m, MC_ADAPTIVE_OFF);
    put(m, MC_3PHASE_OFF);
    put(m, MC_LOOPBACK_OFF);
    put(m, MC_SET_DIVISOR);
    put(m, (uint8_t)(div & 0xFF));
    put(m, (uint8_t)(div >> 8));
    mpsse_set_pins(m, 0, 0);
    mpsse_flush(m);
  }
  if (m->failed) {
    if (err && errlen) snprintf(err, errlen, "%s", m->err);
    mpsse_close(m);
    return NULL;
  }
  return m;
}

void mpsse_close(mpsse *m)
{
  if (!m) return;
  if (!m->failed) {
    mpsse_set_pins(m, 0, 0);
    mpsse_flush(m);
  }
  /* Errors are moot here: an unplugged board cannot be released anyway. */
  ftdi_set_bitmode(m->ctx, 0, BITMODE_RESET);
  ftdi_usb_close(m->ctx);
  ftdi_free(m->ctx);
  free(m->reads);
  free(m->q);
  free(m->rx);
  free(m);
}
