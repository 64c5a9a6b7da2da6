/* iCE40UP5K configuration sequences over FT2232H channel A (pins per DESIGN.md §3):
 * SRAM load as an SPI slave, and programming the SPI flash the FPGA boots from. */
#include "flash_ice40.h"

#include <string.h>
#include <time.h>
#include "flash_spi.h"

#define STREAM_CHUNK 16384u    /* image bytes per USB write while streaming to the SRAM */
#define VERIFY_CHUNK 4096u

static void progress(flash_progress_fn cb, void *arg, const char *phase, size_t done, size_t total)
{
  if (cb) cb(arg, phase, done, total);
}

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The FPGA held in reset and the host driving the SPI bus (CS high, SCK low). */
static void own_bus(mpsse *m, uint8_t cs)
{
  mpsse_set_pins(m, cs, MPSSE_DIR_SPI);
}

static int cdone_high(const uint8_t pins) { return (pins & MPSSE_CDONE) != 0; }

int ice40_program_flash(mpsse *m, const uint8_t *img, size_t n, int verify,
                        flash_progress_fn cb, void *arg, ice40_report *rep)
{
  memset(rep, 0, sizeof *rep);
  spiflash_stats st = { 0, 0 };
  own_bus(m, MPSSE_CS);                          /* CRESET low: the iCE40 lets go of the bus */
  mpsse_delay_us(m, ICE40_T_RESET_US);
  uint8_t sr1 = 0;
  if (spiflash_wake(m) || spiflash_identify(m, &rep->jedec, &sr1) || spiflash_check(m, rep->jedec, sr1))
    return -1;
  rep->part = spiflash_part_name(rep->jedec);

  const size_t blocks = (n + SPIFLASH_BLOCK - 1) / SPIFLASH_BLOCK;
  for (size_t b = 0; b < blocks; b++) {
    progress(cb, arg, "erase", b * SPIFLASH_BLOCK, blocks * SPIFLASH_BLOCK);
    if (spiflash_erase_block(m, (uint32_t)(b * SPIFLASH_BLOCK), &st)) return -1;
    rep->blocks_erased++;
  }
  progress(cb, arg, "erase", blocks * SPIFLASH_BLOCK, blocks * SPIFLASH_BLOCK);

  for (size_t a = 0; a < n; a += SPIFLASH_PAGE) {
    progress(cb, arg, "write", a, n);
    const size_t len = n - a < SPIFLASH_PAGE ? n - a : SPIFLASH_PAGE;
    if (spiflash_program_page(m, (uint32_t)a, img + a, len, &st)) return -1;
    rep->pages_written++;
  }
  progress(cb, arg, "write", n, n);
  rep->busy_s = st.busy_s;
  rep->polls = st.polls;

  if (verify) {
    uint8_t back[VERIFY_CHUNK], first_got = 0;
    size_t bad = 0, first = 0;
    /* Read it all: the count of differing bytes tells a stuck bit from a dead chip. */
    for (size_t a = 0; a < n; a += VERIFY_CHUNK) {
      progress(cb, arg, "verify", a, n);
      const size_t len = n - a < VERIFY_CHUNK ? n - a : VERIFY_CHUNK;
      if (spiflash_read(m, (uint32_t)a, back, len)) return -1;
      for (size_t i = 0; i < len; i++)
        if (back[i] != img[a + i] && bad++ == 0) first = a + i, first_got = back[i];
    }
    progress(cb, arg, "verify", n, n);
    if (bad)
      return mpsse_fail(m, "verify failed: %zu of %zu bytes differ, the first at 0x%06zX (flash has 0x%02X, "
                        "the image 0x%02X)", bad, n, first, first_got, img[first]);
    rep->verified = 1;
  }

  /* Give the bus to the FPGA, then let it out of reset: with SPI_SS_B pulled high it
   * configures itself from the flash as SPI master. */
  mpsse_set_pins(m, 0, MPSSE_CRESET);
  mpsse_set_pins(m, MPSSE_CRESET, MPSSE_CRESET);
  const double clk0 = mpsse_clocked_s(m), wall0 = wall_s();
  for (;;) {
    uint8_t pins = 0;
    mpsse_delay_us(m, ICE40_CDONE_POLL_US);      /* SCK is an input now: time passes, no edges */
    mpsse_read_pins(m, &pins);
    if (mpsse_flush(m)) return -1;
    const double clk = mpsse_clocked_s(m) - clk0, wall = wall_s() - wall0;
    if (cdone_high(pins)) {
      rep->cdone_s = clk;
      return 0;
    }
    /* SCK time is a lower bound of the time passed; the wall clock only backs it up. */
    if (clk > ICE40_CDONE_TIMEOUT_S || wall > 2 * ICE40_CDONE_TIMEOUT_S)
      return mpsse_fail(m, "CDONE stayed low %.1f s after CRESET was released: the iCE40 did not "
                        "configure itself from the flash (%s)", clk > wall ? clk : wall,
                        verify ? "the flash holds the image, verified" : "not verified: try --verify");
  }
}

int ice40_load_sram(mpsse *m, const uint8_t *img, size_t n, flash_progress_fn cb, void *arg,
                    ice40_report *rep)
{
  memset(rep, 0, sizeof *rep);
  own_bus(m, MPSSE_CS);
  mpsse_delay_us(m, ICE40_T_RESET_US);
  /* The flash shares SPI_SS_B: asleep, it ignores the image streaming past it. */
  if (spiflash_power_down(m)) return -1;

  mpsse_set_pins(m, 0, MPSSE_DIR_SPI);                       /* SS low, CRESET still low */
  mpsse_set_pins(m, MPSSE_CRESET, MPSSE_DIR_SPI);            /* CRESET rises: SPI slave mode */
  /* Housekeeping with SS low, timed by the MPSSE clock (MOSI high: no sync word). */
  mpsse_spi_fill(m, 0xFF, (size_t)(ICE40_T_HOUSEKEEPING_US * 1e-6 * mpsse_sck_hz(m) / 8) + 1);
  mpsse_cs(m, 1);
  mpsse_clocks(m, ICE40_LEADING_CLOCKS);
  mpsse_cs(m, 0);
  for (size_t a = 0; a < n; a += STREAM_CHUNK) {
    progress(cb, arg, "load", a, n);
    mpsse_spi_write(m, img + a, n - a < STREAM_CHUNK ? n - a : STREAM_CHUNK);
    if (mpsse_flush(m)) return -1;
  }
  progress(cb, arg, "load", n, n);
  mpsse_cs(m, 1);
  const double clk0 = mpsse_clocked_s(m);
  uint8_t pins = 0, later = 0;
  mpsse_clocks(m, ICE40_TRAILING_CLOCKS);
  mpsse_read_pins(m, &pins);
  if (mpsse_flush(m)) return -1;
  if (!cdone_high(pins)) {
    /* Not expected after a valid image; a little longer before calling it a failure. */
    mpsse_delay_us(m, 1000.0);
    mpsse_read_pins(m, &later);
    if (mpsse_flush(m)) return -1;
  }
  rep->cdone_s = mpsse_clocked_s(m) - clk0;
  /* Wake the flash again and leave only CRESET driven (high). */
  if (spiflash_wake(m)) return -1;
  mpsse_set_pins(m, MPSSE_CRESET, MPSSE_CRESET);
  if (mpsse_flush(m)) return -1;
  if (!cdone_high(pins) && !cdone_high(later))
    return mpsse_fail(m, "CDONE stayed low after the image and %.0f us of clocks: the iCE40 did not "
                      "accept the configuration", rep->cdone_s * 1e6);
  return 0;
}
