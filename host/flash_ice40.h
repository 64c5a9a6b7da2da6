/* Loading the iCE40UP5K over FT2232H channel A: into its configuration SRAM as an SPI slave,
 * or into the W25Q128 flash it boots from, following the Lattice iCE40 Programming and
 * Configuration guide (FPGA-TN-02001: CRESET_B / SPI_SS_B sequence, 1200 us housekeeping,
 * 8 leading and >= 49 trailing clocks, CDONE). Both return 0, or -1 with one line in
 * mpsse_err(m). The image must have passed ice40_image_check. */
#ifndef MINFLUX_FLASH_ICE40_H
#define MINFLUX_FLASH_ICE40_H
#include <stddef.h>
#include <stdint.h>
#include "mpsse.h"

/* SPI clock used for both: the rate iceprog uses on this board; below the iCE40 slave
 * port's 25 MHz and the W25Q's 50 MHz limit for the 0x03 read. */
#define ICE40_SCK_HZ            6000000u
#define ICE40_T_RESET_US        10.0      /* CRESET_B low (>= 200 ns) */
#define ICE40_T_HOUSEKEEPING_US 1300.0    /* after CRESET_B rises (>= 1200 us) */
#define ICE40_LEADING_CLOCKS    8u        /* SPI_SS_B high before the image */
#define ICE40_TRAILING_CLOCKS   160u      /* after the image (>= 49; CDONE + user I/O start) */
#define ICE40_CDONE_TIMEOUT_S   2.0       /* configuring itself from the flash */
#define ICE40_CDONE_POLL_US     5000.0

/* Called with a phase ("erase", "write", "verify", "load") and progress in bytes. */
typedef void (*flash_progress_fn)(void *arg, const char *phase, size_t done, size_t total);

typedef struct {
  uint32_t jedec;
  const char *part;
  unsigned blocks_erased, pages_written;
  int      verified;
  double   busy_s;          /* SCK time spent waiting for the flash's BUSY to clear */
  unsigned polls;
  double   cdone_s;         /* SCK time from CRESET release (flash) or image end (SRAM) to CDONE */
} ice40_report;

int ice40_program_flash(mpsse *m, const uint8_t *img, size_t n, int verify,
                        flash_progress_fn cb, void *arg, ice40_report *rep);
int ice40_load_sram(mpsse *m, const uint8_t *img, size_t n, flash_progress_fn cb, void *arg,
                    ice40_report *rep);

#endif
