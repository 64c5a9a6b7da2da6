/* The emulated FT2232H: libftdi1 and libusb entry points with their real prototypes, and the
 * channel A MPSSE engine (FTDI AN_108) executing the written byte stream bit by bit onto the
 * board's nets (tests/ftdi_emu_dev.c holds the flash and the iCE40). */
#include "ftdi_emu.h"
#include "ftdi_emu_dev.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftdi.h>
#include <libusb.h>

double    emu_now_ns;
emu_stats emu_st;

#define PIN_SCK    0x01
#define PIN_MOSI   0x02
#define PIN_MISO   0x04
#define PIN_CS     0x10
#define PIN_CDONE  0x40
#define PIN_CRESET 0x80
#define CHIP_RX_BYTES 4096u          /* FT2232H buffer towards the host, per channel */

static emu_knobs K;
static struct {
  struct ftdi_context *owner;        /* the context that has channel A open */
  int      mpsse;                    /* bit mode */
  uint8_t  val, dir;                 /* ADBUS output latch and directions */
  int      div5 , divisor_set;
  unsigned divisor;
  int      loopback, mosi_last;
  uint8_t *cmd;                      /* bytes of an incomplete command */
  size_t   cmd_len, cmd_cap;
  uint8_t  rx[1u << 16];             /* bytes towards the host */
  size_t   rx_len;
  int      rx_pushed;                /* a send-immediate followed the last reply byte */
  unsigned latency_ms;
  long     written;
  int      dead;
  /* nets as the devices saw them last */
  int      cs_net, creset_net, sck_net;
} E;

void emu_violation(const char *fmt, ...)
{
  if (emu_st.violations < 4) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(emu_st.violation[emu_st.violations], sizeof emu_st.violation[0], fmt, ap);
    va_end(ap);
  }
  emu_st.violations++;
}

void emu_defaults(emu_knobs *k)
{
  memset(k, 0, sizeof *k);
  k->usb_dies_after = -1;
  k->jedec_id = 0xEF4018;
  k->stuck_bit_addr = -1;
}

/* ---------------------------------------------------------------- nets ------------------- */

static int ftdi_drives(uint8_t pin) { return E.mpsse && (E.dir & pin); }
static int net_cs(void)     { return ftdi_drives(PIN_CS) ? !!(E.val & PIN_CS) : 1; }      /* pull-up */
static int net_creset(void) { return ftdi_drives(PIN_CRESET) ? !!(E.val & PIN_CRESET) : 1; }
static int net_sck(void)    { return ftdi_drives(PIN_SCK) ? !!(E.val & PIN_SCK) : 0; }
static int net_mosi(void)   { return ftdi_drives(PIN_MOSI) ? !!(E.val & PIN_MOSI) : 1; }
static int net_miso(void)
{
  const int d = dev_flash_miso();
  return d < 0 ? 1 : d;
}

static uint8_t pins_read(void)
{
  uint8_t v = 0x28;                                    /* unused ADBUS3/5 read high */
  if (net_sck()) v |= PIN_SCK;
  if (net_mosi()) v |= PIN_MOSI;
  if (net_miso()) v |= PIN_MISO;
  if (net_cs()) v |= PIN_CS;
  if (dev_ice40_cdone()) v |= PIN_CDONE;
  if (net_creset()) v |= PIN_CRESET;
  return v;
}

static void check_contention(void)
{
  if (E.mpsse && (E.dir & (PIN_MISO | PIN_CDONE)))
    emu_violation("FT2232H drives an input net (ADBUS direction 0x%02X: MISO or CDONE)", E.dir);
  if (dev_ice40_drives_bus() && (E.dir & (PIN_SCK | PIN_MOSI | PIN_CS)) && E.mpsse)
    emu_violation("bus contention: the FT2232H drives SCK/MOSI/CS while the iCE40 reads its flash");
}

/* After a change of the ADBUS latch or directions: edges reach the devices. CRESET_B falling
 * takes the iCE40 off the bus before anything else; CS changes before CRESET_B rises (the
 * iCE40 samples SPI_SS_B then). */
static void nets_update(void)
{
  const int cs = net_cs(), creset = net_creset(), sck = net_sck();
  if (!creset && E.creset_net) {
    E.creset_net = 0;
    dev_ice40_creset(0, cs);
  }
  check_contention();
  if (sck != E.sck_net) {
    emu_violation("SCK moved by a GPIO write (now %d): devices would see a stray clock edge", sck);
    E.sck_net = sck;
  }
  if (cs != E.cs_net) {
    E.cs_net = cs;
    dev_flash_cs(cs);
  }
  if (creset && !E.creset_net) {
    E.creset_net = 1;
    dev_ice40_creset(1, cs);
    check_contention();
  }
}

/* ---------------------------------------------------------------- MPSSE ------------------ */

static double sck_period_ns(void)
{
  const double base = E.div5 ? 12e6 : 60e6;
  return 1e9 / (base / (2.0 * (E.divisor + 1)));
}

static void reply(uint8_t b)
{
  if (E.rx_len >= CHIP_RX_BYTES)
    emu_violation("FT2232H: more than %u reply bytes pending: a real chip stops executing commands "
                  "until the host reads (the host writes first, then reads: deadlock)", CHIP_RX_BYTES);
  if (E.rx_len < sizeof E.rx) E.rx[E.rx_len++] = b;
  E.rx_pushed = 0;
}

/* One SCK cycle with SCK idling low: data out set up before the rising edge, devices sample
 * on it; the read sample is taken just before it (or after the falling edge when neg_in). */
static int clock_bit(int write, int out, int neg_out, int neg_in)
{
  const double half = sck_period_ns() / 2;
  emu_st.sck_ns += 2 * half;
  if (!ftdi_drives(PIN_SCK)) {
    emu_now_ns += 2 * half;                            /* the engine runs, the net stays still */
    return net_miso();
  }
  int mosi = net_mosi();
  if (write && ftdi_drives(PIN_MOSI)) {
    /* Written on the rising edge, the bit changes as the devices sample it: they see the
     * previous one. */
    mosi = neg_out ? out : E.mosi_last;
    E.mosi_last = out;
    E.val = (uint8_t)((E.val & ~PIN_MOSI) | (out ? PIN_MOSI : 0));
  }
  emu_now_ns += half;
  const int before = net_miso();
  if (dev_flash_selected()) dev_flash_rise(mosi);
  if (E.creset_net) dev_ice40_rise(E.cs_net, mosi);
  emu_now_ns += half;
  dev_flash_fall();
  return neg_in ? net_miso() : before;
}

static void need_divisor(void)
{
  check_contention();
  if (!E.divisor_set) emu_violation("MPSSE: data clocked before the clock divisor (0x86) was set");
  if (ftdi_drives(PIN_SCK) && (E.val & PIN_SCK))
    emu_violation("MPSSE: SCK idles high: the flash and the iCE40 expect SPI mode 0");
  if (dev_ice40_listening() && 1e9 / sck_period_ns() > 25e6)
    emu_violation("SCK %.1f MHz is above the iCE40 slave configuration limit of 25 MHz",
                  1e3 / sck_period_ns());
}

/* Bytes needed by the command at c[0] given n available; 0 = need more. */
static size_t command_length(const uint8_t *c, size_t n)
{
  const uint8_t op = c[0];
  if (!(op & 0x80)) {
    if (op & 0x40) return 3;                           /* TMS: length, data */
    const int wr = (op & 0x10) != 0;
    if (op & 0x02) return wr ? 3 : 2;                  /* bits: length (+ data byte) */
    if (n < 3) return 0;
    return 3 + (wr ? (size_t)(c[1] | c[2] << 8) + 1 : 0);
  }
  switch (op) {
  case 0x80: case 0x82: case 0x86: case 0x8F: case 0x9C: case 0x9D: return 3;
  case 0x8E: return 2;
  default: return 1;
  }
}

static void shift_command(const uint8_t *c)
{
  const uint8_t op = c[0];
  const int neg_out = op & 0x01, bits = op & 0x02, neg_in = op & 0x04, lsb = op & 0x08;
  const int wr = (op & 0x10) != 0, rd = (op & 0x20) != 0;
  if (op & 0x40) { emu_violation("MPSSE: TMS command 0x%02X on an SPI bus", op); return; }
  if (!wr && !rd) { reply(0xFA); reply(op); return; }
  need_divisor();
  if (wr && !neg_out) emu_violation("MPSSE: command 0x%02X changes data on the rising edge (SPI mode 0 "
                                     "devices sample there)", op);
  if (rd && neg_in) emu_violation("MPSSE: command 0x%02X samples on the falling edge (mode 0 data "
                                   "is valid at the rising edge)", op);
  const size_t nbytes = bits ? 1 : (size_t)(c[1] | c[2] << 8) + 1;
  const unsigned nbits = bits ? (unsigned)c[1] + 1 : 8;
  const uint8_t *data = bits ? c + 2 : c + 3;
  for (size_t i = 0; i < nbytes; i++) {
    const uint8_t o = wr ? data[i] : 0;
    uint8_t in = 0;
    for (unsigned j = 0; j < nbits; j++) {
      const unsigned bit = lsb ? j : 7 - j;
      const int r = clock_bit(wr, (o >> bit) & 1, neg_out, neg_in);
      in |= (uint8_t)(r << bit);
    }
    if (rd) reply(bits ? (uint8_t)(in >> (8 - nbits)) : in);
  }
}

static void idle_clocks(uint64_t n)
{
  need_divisor();
  /* Nothing listens to SCK with /CS high unless the iCE40 configuration port counts clocks. */
  if (!ftdi_drives(PIN_SCK) || (!dev_flash_selected() && !(E.creset_net && dev_ice40_listening()))) {
    emu_now_ns += (double)n * sck_period_ns();
    emu_st.sck_ns += (double)n * sck_period_ns();
    return;
  }
  for (uint64_t i = 0; i < n; i++) clock_bit(0, 0, 1, 0);
}

static void execute(const uint8_t *c)
{
  const uint8_t op = c[0];
  if (!(op & 0x80)) { shift_command(c); return; }
  switch (op) {
  case 0x80:
    E.val = c[1];
    E.dir = c[2];
    E.mosi_last = !!(E.val & PIN_MOSI);
    nets_update();
    return;
  case 0x81: reply(pins_read()); return;
  case 0x82: return;                                   /* ACBUS: not wired on channel A here */
  case 0x83: reply(0xFF); return;
  case 0x84: E.loopback = 1; emu_violation("MPSSE: loopback enabled"); return;
  case 0x85: E.loopback = 0; return;
  case 0x86: E.divisor = (unsigned)(c[1] | c[2] << 8); E.divisor_set = 1; return;
  case 0x87: E.rx_pushed = 1; return;
  case 0x8A: E.div5 = 0; return;
  case 0x8B: E.div5 = 1; return;
  case 0x8C: emu_violation("MPSSE: 3-phase clocking enabled on an SPI bus"); return;
  case 0x8D: case 0x96: case 0x97: return;
  case 0x8E: idle_clocks((uint64_t)c[1] + 1); return;
  case 0x8F: idle_clocks(8 * ((uint64_t)(c[1] | c[2] << 8) + 1)); return;
  default: reply(0xFA); reply(op); return;             /* AN_108: bad command echo */
  }
}

static void mpsse_input(const uint8_t *p, size_t n)
{
  if (E.cmd_len + n > E.cmd_cap) {
    E.cmd_cap = (E.cmd_len + n) * 2;
    E.cmd = realloc(E.cmd, E.cmd_cap);
    if (!E.cmd) abort();
  }
  memcpy(E.cmd + E.cmd_len, p, n);
  E.cmd_len += n;
  size_t pos = 0;
  while (pos < E.cmd_len) {
    const size_t need = command_length(E.cmd + pos, E.cmd_len - pos);
    if (need == 0 || pos + need > E.cmd_len) break;
    execute(E.cmd + pos);
    pos += need;
  }
  memmove(E.cmd, E.cmd + pos, E.cmd_len - pos);
  E.cmd_len -= pos;
}

/* ---------------------------------------------------------------- the board -------------- */

void emu_power_on(const emu_knobs *k, const uint8_t *flash, size_t n)
{
  if (k) K = *k;
  else emu_defaults(&K);
  uint8_t *cmd = E.cmd;
  const size_t cap = E.cmd_cap;
  memset(&E, 0, sizeof E);
  E.cmd = cmd;
  E.cmd_cap = cap;
  E.latency_ms = 16;
  memset(&emu_st, 0, sizeof emu_st);
  emu_now_ns = 0;
  dev_flash_reset(&K, flash, n);
  dev_ice40_reset(&K);
  E.cs_net = 1;
  E.sck_net = 0;
  E.creset_net = 1;
  dev_ice40_creset(1, 1);                              /* power-on: boots from the flash */
}

const emu_stats *emu_get_stats(void)
{
  emu_st.t_ns = emu_now_ns;
  return &emu_st;
}
const uint8_t *emu_flash(void) { return dev_flash_mem(); }
int emu_cdone(void) { return dev_ice40_cdone(); }
int emu_flash_powered_down(void) { return dev_flash_pd(); }
void emu_idle_ns(double ns) { emu_now_ns += ns; }

/* ---------------------------------------------------------------- libusb ----------------- */

struct libusb_device { int id; };
struct libusb_device_handle { int id; };
static struct libusb_device the_device = { 1 };
static struct libusb_device_handle the_handle = { 1 };

ssize_t libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
  (void)ctx;
  static libusb_device *devs[2];
  const int present = K.open_rc != -3;
  devs[0] = present ? &the_device : NULL;
  devs[1] = NULL;
  *list = devs;
  return present ? 1 : 0;
}

void libusb_free_device_list(libusb_device **list, int unref_devices) { (void)list; (void)unref_devices; }

int libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc)
{
  (void)dev;
  memset(desc, 0, sizeof *desc);
  desc->idVendor = 0x0403;
  desc->idProduct = 0x6010;
  return 0;
}

int libusb_open(libusb_device *dev, libusb_device_handle **h)
{
  (void)dev;
  if (K.open_rc == -4) return LIBUSB_ERROR_ACCESS;
  if (K.open_rc == -5) return LIBUSB_ERROR_BUSY;
  *h = &the_handle;
  return 0;
}

void libusb_close(libusb_device_handle *h) { (void)h; }

const char *libusb_error_name(int code)
{
  switch (code) {
  case LIBUSB_ERROR_ACCESS: return "LIBUSB_ERROR_ACCESS";
  case LIBUSB_ERROR_BUSY: return "LIBUSB_ERROR_BUSY";
  case LIBUSB_ERROR_NO_DEVICE: return "LIBUSB_ERROR_NO_DEVICE";
  case LIBUSB_ERROR_TIMEOUT: return "LIBUSB_ERROR_TIMEOUT";
  default: return "LIBUSB_ERROR_OTHER";
  }
}

/* ---------------------------------------------------------------- libftdi1 --------------- */

static int fail(struct ftdi_context *c, int rc, const char *msg)
{
  c->error_str = msg;
  return rc;
}

struct ftdi_context *ftdi_new(void)
{
  struct ftdi_context *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->usb_read_timeout = 5000;
  c->usb_write_timeout = 5000;
  c->index = INTERFACE_A;
  c->error_str = "";
  return c;
}

void ftdi_free(struct ftdi_context *c)
{
  if (!c) return;
  if (E.owner == c) E.owner = NULL;
  free(c);
}

int ftdi_set_interface(struct ftdi_context *c, enum ftdi_interface iface)
{
  if (iface != INTERFACE_A && iface != INTERFACE_B && iface != INTERFACE_ANY)
    return fail(c, -1, "Unknown interface");
  c->index = iface == INTERFACE_ANY ? INTERFACE_A : (int)iface;
  return 0;
}

static int is_a(const struct ftdi_context *c) { return c->index == INTERFACE_A; }

int ftdi_usb_open_desc(struct ftdi_context *c, int vendor, int product, const char *description,
                       const char *serial)
{
  (void)description;
  emu_st.open_attempts++;
  if (K.open_rc == -3 || vendor != 0x0403 || product != 0x6010 || (serial && strcmp(serial, "EMU0001")))
    return fail(c, -3, "device not found");
  if (K.open_rc == -4) {
    errno = EACCES;
    return fail(c, -4, "usb_open() failed");
  }
  if (K.open_rc == -5 || (is_a(c) && E.owner))
    return fail(c, -5, "unable to claim usb device. Make sure the default FTDI driver is not in use");
  if (K.open_rc) return fail(c, K.open_rc, "emulated failure");
  if (is_a(c)) E.owner = c;
  c->usb_dev = (struct libusb_device_handle *)&the_handle;
  emu_st.opens++;
  return 0;
}

int ftdi_usb_close(struct ftdi_context *c)
{
  if (E.owner == c) E.owner = NULL;
  c->usb_dev = NULL;
  return 0;
}

static int opened(struct ftdi_context *c) { return c && c->usb_dev && !E.dead; }

int ftdi_usb_reset(struct ftdi_context *c)
{
  if (!opened(c)) return fail(c, -2, "USB device unavailable");
  return 0;
}

int ftdi_set_latency_timer(struct ftdi_context *c, unsigned char latency)
{
  if (!opened(c)) return fail(c, -3, "USB device unavailable");
  if (latency < 1) return fail(c, -1, "latency out of range. Only valid for 1-255");
  if (is_a(c)) E.latency_ms = latency;
  return 0;
}

int ftdi_set_bitmode(struct ftdi_context *c, unsigned char bitmask, unsigned char mode)
{
  (void)bitmask;                                       /* MPSSE directions come from 0x80 */
  if (!opened(c)) return fail(c, -2, "USB device unavailable");
  if (!is_a(c)) return 0;
  if (mode == BITMODE_MPSSE) {
    E.mpsse = 1;
    E.val = E.dir = 0;
    E.divisor_set = 0;
    E.div5 = 1;
    E.cmd_len = 0;
  } else if (mode == BITMODE_RESET) {
    E.mpsse = 0;
    E.dir = 0;
  } else {
    return fail(c, -1, "emulated FT2232H: only BITMODE_RESET and BITMODE_MPSSE are modelled");
  }
  nets_update();
  return 0;
}

int ftdi_tcioflush(struct ftdi_context *c)
{
  if (!opened(c)) return fail(c, -3, "USB device unavailable");
  if (is_a(c)) E.rx_len = 0;
  return 0;
}

int ftdi_usb_purge_buffers(struct ftdi_context *c) { return ftdi_tcioflush(c); }

int ftdi_write_data(struct ftdi_context *c, const unsigned char *buf, int size)
{
  if (!opened(c)) return fail(c, -666, "USB device unavailable");
  if (size < 0) return fail(c, -1, "negative size");
  if (K.usb_dies_after >= 0 && E.written + size > K.usb_dies_after) {
    E.dead = 1;
    return fail(c, -1, "usb bulk write failed");
  }
  E.written += size;
  emu_st.usb_writes++;
  emu_st.usb_write_bytes += (unsigned long)size;
  if ((unsigned long)size > emu_st.usb_write_max) emu_st.usb_write_max = (unsigned long)size;
  emu_now_ns += EMU_USB_FRAME_NS;
  emu_st.usb_ns += EMU_USB_FRAME_NS;
  if (!is_a(c)) return size;                           /* channel B: UART bytes, not modelled */
  if (!E.mpsse) {
    emu_violation("FT2232H: %d bytes written to channel A while it is not in MPSSE mode", size);
    return size;
  }
  mpsse_input(buf, (size_t)size);
  return size;
}

int ftdi_read_data(struct ftdi_context *c, unsigned char *buf, int size)
{
  if (!opened(c)) return fail(c, -666, "USB device unavailable");
  emu_now_ns += EMU_USB_FRAME_NS;
  emu_st.usb_ns += EMU_USB_FRAME_NS;
  if (!is_a(c) || E.rx_len == 0 || size <= 0) return 0;
  if (!E.rx_pushed) {                                  /* waits for the latency timer */
    emu_now_ns += E.latency_ms * 1e6;
    emu_st.latency_ns += E.latency_ms * 1e6;
  }
  const size_t n = (size_t)size < E.rx_len ? (size_t)size : E.rx_len;
  memcpy(buf, E.rx, n);
  memmove(E.rx, E.rx + n, E.rx_len - n);
  E.rx_len -= n;
  emu_st.usb_reads++;
  emu_st.usb_read_bytes += n;
  return (int)n;
}

const char *ftdi_get_error_string(struct ftdi_context *c) { return c ? c->error_str : "no context"; }

/* Channel B (UART) set-up calls of host/transport_ftdi.c: accepted, not modelled. */
int ftdi_set_baudrate(struct ftdi_context *c, int baudrate) { c->baudrate = baudrate; return opened(c) ? 0 : -3; }
int ftdi_set_line_property(struct ftdi_context *c, enum ftdi_bits_type bits, enum ftdi_stopbits_type sbit,
                           enum ftdi_parity_type parity)
{
  (void)bits; (void)sbit; (void)parity;
  return opened(c) ? 0 : -2;
}
int ftdi_setflowctrl(struct ftdi_context *c, int flowctrl) { (void)flowctrl; return opened(c) ? 0 : -2; }
int ftdi_read_data_set_chunksize(struct ftdi_context *c, unsigned int chunksize) { (void)c; (void)chunksize; return 0; }
int ftdi_write_data_set_chunksize(struct ftdi_context *c, unsigned int chunksize) { (void)c; (void)chunksize; return 0; }
