/* Channel A of the iCEBreaker's FT2232H in MPSSE mode (FTDI AN_108), through libftdi1:
 * a command queue sent in one USB write per flush, SPI mode 0 transfers, the ADBUS pins, and
 * delays timed by the MPSSE's own clock. The devices behind it live in flash_spi.c (W25Q SPI
 * flash) and flash_ice40.c (iCE40 CRESET/CDONE, SRAM configuration). */
#ifndef MINFLUX_MPSSE_H
#define MINFLUX_MPSSE_H
#include <stddef.h>
#include <stdint.h>

/* ADBUS pins of channel A on the iCEBreaker (DESIGN.md §3). */
#define MPSSE_SCK    0x01u   /* ADBUS0: SPI clock (flash, iCE40 configuration port) */
#define MPSSE_MOSI   0x02u   /* ADBUS1: host -> flash DI / iCE40 configuration input */
#define MPSSE_MISO   0x04u   /* ADBUS2: flash DO -> host */
#define MPSSE_CS     0x10u   /* ADBUS4: flash /CS and iCE40 SPI_SS_B (shared) */
#define MPSSE_CDONE  0x40u   /* ADBUS6: iCE40 CDONE (input) */
#define MPSSE_CRESET 0x80u   /* ADBUS7: iCE40 CRESET_B (low = FPGA held in reset) */
/* Pins the host drives while it owns the SPI bus. */
#define MPSSE_DIR_SPI (MPSSE_SCK | MPSSE_MOSI | MPSSE_CS | MPSSE_CRESET)

/* Largest amount of read-back data queued in one flush: the FT2232H holds 4 KiB per channel
 * towards the host and stops executing commands when that is full, which would stall the
 * write of the remaining commands (the host only reads after writing). */
#define MPSSE_MAX_READ_PER_FLUSH 2048u

typedef struct mpsse mpsse;

/* Opens channel A of the FT2232H (first one, or the one with this USB serial), resets it,
 * enters MPSSE mode, checks that the engine answers (bad-command echo, AN_135) and sets the
 * SPI clock to sck_hz (rounded down to what 60 MHz / (2 (1 + divisor)) gives). All pins
 * start as inputs. NULL with one line in err on failure. */
mpsse *mpsse_open(const char *serial, unsigned sck_hz, char *err, size_t errlen);
/* Returns the channel to its reset state (every pin an input: CRESET and CS are pulled up
 * on the board) and closes it. */
void mpsse_close(mpsse *m);

/* The queue. Nothing reaches the chip before mpsse_flush (or an automatic flush when the
 * buffer or the read limit is full); read destinations are filled by that flush. After an
 * error every call is a no-op and mpsse_flush returns -1 with the message in mpsse_err. */
void mpsse_set_pins(mpsse *m, uint8_t value, uint8_t dir);    /* ADBUS value + direction */
void mpsse_cs(mpsse *m, int high);                             /* only CS changes */
void mpsse_spi_write(mpsse *m, const uint8_t *p, size_t n);    /* MSB first, mode 0 */
void mpsse_spi_read(mpsse *m, uint8_t *dst, size_t n);         /* MSB first, mode 0 */
void mpsse_spi_fill(mpsse *m, uint8_t byte, size_t n);         /* n copies of one byte */
void mpsse_clocks(mpsse *m, uint64_t n);                       /* n SCK cycles, no data */
void mpsse_delay_us(mpsse *m, double us);                      /* >= us of SCK cycles */
void mpsse_read_pins(mpsse *m, uint8_t *dst);                  /* ADBUS levels */
int  mpsse_flush(mpsse *m);

uint8_t     mpsse_pins(const mpsse *m);      /* ADBUS value last queued */
uint8_t     mpsse_dir(const mpsse *m);
unsigned    mpsse_sck_hz(const mpsse *m);
/* SCK time queued so far, in seconds: a lower bound of the time that has really passed once
 * it is flushed, so waits built on it hold on a real chip and in an emulator alike. */
double      mpsse_clocked_s(const mpsse *m);
const char *mpsse_err(const mpsse *m);
/* Sets the sticky error (one line) from the layers above; returns -1. */
int         mpsse_fail(mpsse *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shared with host/transport_ftdi.c (defined there): turns ftdi_usb_open_desc()'s code into
 * the one line a user can act on (no device, permission -> docs/ftdi.md's udev rule, busy). */
struct ftdi_context;
void mfx_ftdi_explain_open(struct ftdi_context *ctx, int rc, int saved_errno, const char *serial,
                           char channel, char *err, size_t errlen);

#endif
