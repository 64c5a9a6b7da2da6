/* The FT2232H transport: channel B of the iCEBreaker's FT2232H is a plain UART to the
 * FPGA (8N1, no flow control), driven through libftdi1 from user space. See docs/ftdi.md. */
#include "transport.h"
#include "mpsse.h"        /* mfx_ftdi_explain_open, shared with channel A (flashing) */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ftdi.h>
#include <libusb.h>   /* libftdi1's pkg-config flags put libusb-1.0 on the path and link line */

#define FT_VID          0x0403
#define FT_PID          0x6010
#define FT_DEFAULT_BAUD 3000000u
/* Large chunks let one USB transfer carry a whole burst of records; libftdi 1.5 caps
 * the read side at 16 KiB on Linux by itself. */
#define FT_CHUNK        65536u
/* A healthy FT2232H answers every latency period (1 ms) even with no data, so a bulk
 * read that takes longer than this means a wedged chip; bounding it keeps read()'s
 * timeout honest instead of libftdi's 5 s default. */
#define FT_USB_READ_TIMEOUT_MS 100
#define FT_POLL_SLEEP_NS       200000L

typedef struct {
  mfx_transport t;          /* first, so a mfx_transport * is also an ftdi_link * */
  struct ftdi_context *ctx;
} ftdi_link;

/* Callers print err as one line, and a user-supplied serial could carry a newline. */
static void one_line(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  one_line(err);
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int ftdi_link_write(mfx_transport *t, const uint8_t *p, size_t n)
{
  ftdi_link *l = (ftdi_link *)t;
  while (n > 0) {
    /* ftdi_write_data takes an int; keep each call well inside it. */
    const int part = n > (1u << 20) ? (1 << 20) : (int)n;
    const int r = ftdi_write_data(l->ctx, p, part);
    if (r <= 0) {
      set_err(t->err, sizeof t->err, "FT2232H write failed: %s (board unplugged?)",
              r == 0 ? "no bytes accepted" : ftdi_get_error_string(l->ctx));
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static long ftdi_link_read(mfx_transport *t, uint8_t *p, size_t n, int timeout_ms)
{
  ftdi_link *l = (ftdi_link *)t;
  if (n == 0) return 0;
  const int want = n > INT_MAX ? INT_MAX : (int)n;
  const double deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  for (;;) {
    const int r = ftdi_read_data(l->ctx, p, want);
    if (r > 0) return r;
    /* A bulk-read timeout only means the chip stayed quiet; keep polling to our own
     * deadline. Any other failure (no device, pipe error) is final. */
    if (r < 0 && r != LIBUSB_ERROR_TIMEOUT) {
      const char *msg = ftdi_get_error_string(l->ctx);
      /* libftdi passes libusb's code through for a failed bulk transfer only. */
      if (strcmp(msg, "usb bulk read failed") == 0)
        set_err(t->err, sizeof t->err, "FT2232H read failed: %s, %s (board unplugged?)",
                msg, libusb_error_name(r));
      else
        set_err(t->err, sizeof t->err, "FT2232H read failed: %s (board unplugged?)", msg);
      return -1;
    }
    if (now_ms() >= deadline) return 0;
    const struct timespec nap = { 0, FT_POLL_SLEEP_NS };
    nanosleep(&nap, NULL);
  }
}

static void ftdi_link_close(mfx_transport *t)
{
  if (!t) return;
  ftdi_link *l = (ftdi_link *)t;
  /* Errors are moot here: an unplugged board cannot be released anyway. */
  ftdi_usb_close(l->ctx);
  ftdi_free(l->ctx);
  free(l);
}

/* libftdi reports a failed libusb_open() only as -4, dropping libusb's reason. Opening the
 * first 0403:6010 again through the same libusb context recovers it (ACCESS vs. other). */
static int probe_open_error(struct ftdi_context *ctx)
{
  libusb_device **devs;
  const ssize_t cnt = libusb_get_device_list(ctx->usb_ctx, &devs);
  if (cnt < 0) return (int)cnt;
  int rc = LIBUSB_ERROR_NOT_FOUND;
  for (ssize_t i = 0; i < cnt; i++) {
    struct libusb_device_descriptor d;
    if (libusb_get_device_descriptor(devs[i], &d) < 0) continue;
    if (d.idVendor != FT_VID || d.idProduct != FT_PID) continue;
    libusb_device_handle *h;
    rc = libusb_open(devs[i], &h);
    if (rc == 0) libusb_close(h);
    if (rc != 0) break;            /* the first one that refuses is the one libftdi hit */
  }
  libusb_free_device_list(devs, 1);
  return rc;
}

/* Turns ftdi_usb_open_desc()'s code into the one-line reason the user can act on. */
void mfx_ftdi_explain_open(struct ftdi_context *ctx, int rc, int saved_errno, const char *serial,
                           char channel, char *err, size_t errlen)
{
  const char *msg = ftdi_get_error_string(ctx);
  const char *with = serial ? " with serial " : "";
  const char *ser = serial ? serial : "";
  static const char perm[] =
    "permission denied opening the FT2232H: install the udev rule in docs/ftdi.md (or run as root)";
  char busy[160];
  snprintf(busy, sizeof busy, "FT2232H channel %c is busy: another program (minflux, iceprog, "
           "a serial terminal, or the ftdi_sio kernel driver) holds it", channel);

  switch (rc) {
  case -3:
    /* -3 is also "unable to set usb configuration", which means a driver holds the chip. */
    if (strstr(msg, "not found")) {
      set_err(err, errlen, "no FT2232H (USB 0403:6010) found%s%s: is the iCEBreaker plugged in?",
              with, ser);
      return;
    }
    set_err(err, errlen, "%s", busy);
    return;
  case -4: {
    const int probe = probe_open_error(ctx);
    if (saved_errno == EACCES || saved_errno == EPERM || probe == LIBUSB_ERROR_ACCESS)
      set_err(err, errlen, "%s", perm);
    else if (probe == LIBUSB_ERROR_BUSY)
      set_err(err, errlen, "%s", busy);
    else  /* the cause is not visible (the probe may even succeed after a replug) */
      set_err(err, errlen, "cannot open the FT2232H (permission denied?): %s%s%s: "
              "see the udev rule in docs/ftdi.md", msg, probe < 0 ? ", " : "",
              probe < 0 ? libusb_error_name(probe) : "");
    return;
  }
  case -5:
    set_err(err, errlen, "%s", busy);
    return;
  case -8:
    /* With no description filter, -8 comes only from a refused kernel-driver detach. */
    if (strstr(msg, "permission")) {
      set_err(err, errlen, "%s", perm);
      return;
    }
    break;
  default:
    break;
  }
  set_err(err, errlen, "cannot open the FT2232H%s%s: %s (libftdi error %d)", with, ser, msg, rc);
}

static int ftdi_link_set_baud(mfx_transport *t, unsigned baud)
{
  ftdi_link *l = (ftdi_link *)t;
  if (baud > (unsigned)INT_MAX || ftdi_set_baudrate(l->ctx, (int)baud) < 0) {
    snprintf(t->err, sizeof t->err, "FT2232H: baud rate %u not accepted: %s", baud, ftdi_get_error_string(l->ctx));
    return -1;
  }
  t->baud = (unsigned)l->ctx->baudrate;
  return 0;
}

mfx_transport *mfx_ftdi_open(const char *serial, unsigned baud, char *err, size_t errlen)
{
  if (serial && !serial[0]) serial = NULL;
  if (baud == 0) baud = FT_DEFAULT_BAUD;
  if (err && errlen) err[0] = '\0';
  if (baud > (unsigned)INT_MAX) {
    set_err(err, errlen, "FT2232H: baud rate %u is out of range", baud);
    return NULL;
  }

  struct ftdi_context *ctx = ftdi_new();
  if (!ctx) {
    set_err(err, errlen, "cannot look for the FT2232H%s%s: libftdi/libusb failed to initialise "
            "(no USB support on this machine?)", serial ? " with serial " : "", serial ? serial : "");
    return NULL;
  }
  if (ftdi_set_interface(ctx, INTERFACE_B) < 0) {
    set_err(err, errlen, "cannot select FT2232H channel B: %s", ftdi_get_error_string(ctx));
    ftdi_free(ctx);
    return NULL;
  }

  errno = 0;
  const int rc = ftdi_usb_open_desc(ctx, FT_VID, FT_PID, NULL, serial);
  const int saved_errno = errno;
  if (rc < 0) {
    mfx_ftdi_explain_open(ctx, rc, saved_errno, serial, 'B', err, errlen);
    ftdi_free(ctx);
    return NULL;
  }

  /* Each step names itself so a half-configured chip is reported precisely. */
  const char *step = NULL;
  int r;
  if ((r = ftdi_set_baudrate(ctx, (int)baud)) < 0) {
    set_err(err, errlen, "FT2232H: baud rate %u not accepted: %s", baud, ftdi_get_error_string(ctx));
    goto fail_quiet;
  }
  if (ftdi_set_line_property(ctx, BITS_8, STOP_BIT_1, NONE) < 0) step = "8N1 line setting";
  else if (ftdi_setflowctrl(ctx, SIO_DISABLE_FLOW_CTRL) < 0) step = "flow control off";
  /* The default 16 ms latency timer would stall every short reply by that much. */
  else if (ftdi_set_latency_timer(ctx, 1) < 0) step = "latency timer 1 ms";
  else if (ftdi_read_data_set_chunksize(ctx, FT_CHUNK) < 0) step = "read chunk size";
  else if (ftdi_write_data_set_chunksize(ctx, FT_CHUNK) < 0) step = "write chunk size";
#ifdef SIO_TCIFLUSH
  /* Bytes left over from a previous session would desynchronise the protocol. */
  else if (ftdi_tcioflush(ctx) < 0) step = "buffer flush";
#else
  else if (ftdi_usb_purge_buffers(ctx) < 0) step = "buffer flush";
#endif
  if (step) {
    set_err(err, errlen, "configuring the FT2232H failed (%s): %s", step, ftdi_get_error_string(ctx));
    goto fail_quiet;
  }
  ctx->usb_read_timeout = FT_USB_READ_TIMEOUT_MS;

  ftdi_link *l = calloc(1, sizeof *l);
  if (!l) {
    set_err(err, errlen, "FT2232H: out of memory");
    goto fail_quiet;
  }
  l->ctx = ctx;
  l->t.write = ftdi_link_write;
  l->t.read = ftdi_link_read;
  l->t.close = ftdi_link_close;
  l->t.set_baud = ftdi_link_set_baud;
  /* libftdi keeps the requested rate once the chip's divisor is within 5 % of it. */
  l->t.baud = (unsigned)ctx->baudrate;
  snprintf(l->t.kind, sizeof l->t.kind, "ftdi");
  return &l->t;

fail_quiet:
  ftdi_usb_close(ctx);
  ftdi_free(ctx);
  return NULL;
}
