/* An emulated iCEBreaker below libftdi1: tests/ftdi_emu.c implements the libftdi1 and libusb
 * functions the host's FT2232H code calls (same prototypes, from <ftdi.h>), an FT2232H channel A
 * MPSSE engine that executes the byte stream bit by bit, and on its pins (DESIGN.md §3) a
 * W25Q128-like SPI flash and the iCE40UP5K configuration port (tests/ftdi_emu_dev.c).
 * A test program links it instead of -lftdi1 -lusb-1.0; one emulated board per process.
 *
 * Time is modelled, not measured: every USB write and every read that returns data costs one
 * high-speed microframe (125 us), a read of data that was not pushed by send-immediate (0x87)
 * waits for the latency timer, every SCK cycle costs 1/f_SCK, and the flash is busy for its
 * datasheet-typical erase/program times on that clock. */
#ifndef MINFLUX_FTDI_EMU_H
#define MINFLUX_FTDI_EMU_H
#include <stddef.h>
#include <stdint.h>

#define EMU_USB_FRAME_NS   125000.0     /* USB 2.0 high-speed microframe */
#define EMU_FLASH_BYTES    (16u << 20)

/* Failure injection and board variants. */
typedef struct {
  int      open_rc;          /* 0: the FT2232H is there; -3 none, -4 permission denied, -5 busy */
  long     usb_dies_after;   /* bytes written before the board "unplugs" (< 0: never) */
  int      flash_absent;     /* nothing answers on the SPI bus (MISO floats high) */
  uint32_t jedec_id;         /* 0xEF4018 (W25Q128JV-IQ) */
  uint8_t  sr1;              /* status register 1 at power-on (BP bits = write protection) */
  int      stuck_busy;       /* BUSY never clears once an erase or program started */
  long     stuck_bit_addr;   /* bit 0 of this byte cannot be programmed to 0 (< 0: none) */
  int      cdone_stuck_low;  /* the iCE40 never drives CDONE high */
} emu_knobs;

typedef struct {
  /* USB / FT2232H */
  unsigned long opens;            /* successful ftdi_usb_open_desc calls */
  unsigned long open_attempts;
  unsigned long usb_writes, usb_write_bytes, usb_write_max, usb_reads, usb_read_bytes;
  /* SPI flash */
  unsigned long erases, programs, status_writes;  /* executed (state-changing) instructions */
  unsigned long cmds[256];        /* instructions started, by opcode (host and iCE40) */
  unsigned long host_read_bytes;  /* bytes the host read with 0x03 */
  /* iCE40 */
  unsigned long sram_configs;     /* configurations accepted as SPI slave */
  unsigned long flash_boots, flash_boots_ok;
  char     ice40_why[160];        /* why the last configuration attempt failed ("" if none) */
  /* model time */
  double   t_ns, usb_ns, sck_ns, latency_ns;
  /* protocol violations: things a real board would not tolerate */
  unsigned long violations;
  char     violation[4][200];
} emu_stats;

void emu_defaults(emu_knobs *k);
/* A freshly powered board: flash erased (0xFF) except `flash` copied to address 0, FT2232H
 * pins inputs, the iCE40 coming out of power-on reset (it configures itself from the flash
 * if that holds a valid image). Clears the statistics and the model clock. */
void emu_power_on(const emu_knobs *k, const uint8_t *flash, size_t n);
const emu_stats *emu_get_stats(void);
const uint8_t *emu_flash(void);
int  emu_cdone(void);                 /* CDONE at the current model time */
int  emu_flash_powered_down(void);
/* Lets model time pass with the board left alone (e.g. a power-on boot). */
void emu_idle_ns(double ns);

#endif
