/* W25Q128-class SPI flash operations as batched MPSSE transactions: each erase or page
 * program goes out in one USB write together with its write-enable, a status read that
 * proves the enable latched, and the first BUSY poll timed to the datasheet's typical
 * duration; further polls follow only while the flash is still busy. */
#include "flash_spi.h"

#include <stdio.h>
#include <time.h>

/* Status bytes clocked out per poll: the W25Q repeats status register 1 while /CS stays low,
 * so one poll samples BUSY several times. */
#define POLL_STATUS_BYTES 8
#define POLL_MIN_GAP_US   20.0
#define WALL_SLACK_S      2.0

static const struct { uint32_t id; const char *name; } parts[] = {
  { 0xEF4018, "Winbond W25Q128JV-IQ/FV" },
  { 0xEF7018, "Winbond W25Q128JV-IM" },
};

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One instruction with its address, as a whole /CS-low transaction. */
static void instr(mpsse *m, uint8_t op, const uint32_t *addr, const uint8_t *data, size_t n)
{
  uint8_t hdr[4] = { op, 0, 0, 0 };
  size_t len = 1;
  if (addr) {
    hdr[1] = (uint8_t)(*addr >> 16);
    hdr[2] = (uint8_t)(*addr >> 8);
    hdr[3] = (uint8_t)*addr;
    len = 4;
  }
  mpsse_cs(m, 0);
  mpsse_spi_write(m, hdr, len);
  if (n) mpsse_spi_write(m, data, n);
  mpsse_cs(m, 1);
}

static void queue_status(mpsse *m, uint8_t *dst, size_t n)
{
  const uint8_t op = W25Q_READ_SR1;
  mpsse_cs(m, 0);
  mpsse_spi_write(m, &op, 1);
  mpsse_spi_read(m, dst, n);
  mpsse_cs(m, 1);
}

int spiflash_wake(mpsse *m)
{
  instr(m, W25Q_RELEASE_PD, NULL, NULL, 0);
  mpsse_delay_us(m, W25Q_T_RES1_US + 1.0);
  return mpsse_flush(m);
}

int spiflash_power_down(mpsse *m)
{
  instr(m, W25Q_POWER_DOWN, NULL, NULL, 0);
  mpsse_delay_us(m, W25Q_T_DP_US + 1.0);
  return mpsse_flush(m);
}

int spiflash_identify(mpsse *m, uint32_t *jedec, uint8_t *sr1)
{
  uint8_t id[3] = { 0 }, sr = 0;
  const uint8_t op = W25Q_JEDEC_ID;
  mpsse_cs(m, 0);
  mpsse_spi_write(m, &op, 1);
  mpsse_spi_read(m, id, 3);
  mpsse_cs(m, 1);
  queue_status(m, &sr, 1);
  if (mpsse_flush(m)) return -1;
  *jedec = (uint32_t)id[0] << 16 | (uint32_t)id[1] << 8 | id[2];
  *sr1 = sr;
  return 0;
}

const char *spiflash_part_name(uint32_t jedec)
{
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (parts[i].id == jedec) return parts[i].name;
  return NULL;
}

int spiflash_check(mpsse *m, uint32_t jedec, uint8_t sr1)
{
  if (jedec == 0xFFFFFF || jedec == 0)
    return mpsse_fail(m, "no SPI flash answers on FT2232H channel A (JEDEC ID read as 0x%06X): "
                      "is the board's flash fitted, and is nothing else driving its SPI bus?", jedec);
  if (!spiflash_part_name(jedec))
    return mpsse_fail(m, "unexpected SPI flash JEDEC ID 0x%06X (manufacturer 0x%02X, type 0x%02X, "
                      "capacity 0x%02X): minflux flash supports the W25Q128 (0xEF4018, 0xEF7018)",
                      jedec, jedec >> 16, (jedec >> 8) & 0xFF, jedec & 0xFF);
  if (sr1 & W25Q_SR1_BUSY)
    return mpsse_fail(m, "the SPI flash reports BUSY before any command was sent (status register 1 = "
                      "0x%02X): is another programmer using it?", sr1);
  if (sr1 & W25Q_SR1_BP)
    return mpsse_fail(m, "the SPI flash is write-protected (status register 1 = 0x%02X, block-protect "
                      "bits BP2..BP0 = %u): clear them first, minflux flash does not change them",
                      sr1, (sr1 & W25Q_SR1_BP) >> 2);
  return 0;
}

/* Polls until BUSY clears: the first poll after typ_us of SCK time, then every quarter of it.
 * Gives up when more than twice the datasheet maximum has passed in SCK time (a lower bound
 * on a real chip, and the clock the emulator runs on), or in wall-clock time plus WALL_SLACK_S
 * (so that a slow USB round trip on a loaded host cannot fake a stuck flash). The first poll
 * goes out with whatever the caller queued before. */
static int wait_ready(mpsse *m, double typ_us, double max_us, const char *what, uint32_t addr,
                      const uint8_t *wel_sr, spiflash_stats *st)
{
  const double limit_s = 2.0 * max_us * 1e-6 + 0.01;
  const double clk0 = mpsse_clocked_s(m), wall0 = wall_s();
  double gap_us = typ_us;
  uint8_t sr[POLL_STATUS_BYTES];
  for (int round = 0;; round++) {
    mpsse_delay_us(m, gap_us);
    queue_status(m, sr, sizeof sr);
    if (mpsse_flush(m)) return -1;
    if (st) st->polls++;
    if (round == 0 && wel_sr && !(*wel_sr & W25Q_SR1_WEL))
      return mpsse_fail(m, "the SPI flash ignored write-enable before %s at 0x%06X (status register "
                        "1 = 0x%02X): is /WP held low?", what, addr, *wel_sr);
    for (size_t i = 0; i < sizeof sr; i++)
      if (!(sr[i] & W25Q_SR1_BUSY)) {
        if (st) st->busy_s += mpsse_clocked_s(m) - clk0;
        return 0;
      }
    const double clk = mpsse_clocked_s(m) - clk0, wall = wall_s() - wall0;
    const double waited = clk > wall ? clk : wall;
    if (clk > limit_s || wall > limit_s + WALL_SLACK_S)
      return mpsse_fail(m, "the SPI flash stayed busy for %.2f s after %s at 0x%06X (the datasheet "
                        "maximum is %.0f ms; status register 1 = 0x%02X)", waited, what, addr,
                        max_us * 1e-3, sr[sizeof sr - 1]);
    gap_us = typ_us / 4 > POLL_MIN_GAP_US ? typ_us / 4 : POLL_MIN_GAP_US;
  }
}

/* Write-enable, a status read proving it latched, the instruction, then the BUSY wait. */
static int write_instr(mpsse *m, uint8_t op, uint32_t addr, const uint8_t *data, size_t n,
                       double typ_us, double max_us, const char *what, spiflash_stats *st)
{
  uint8_t wel_sr = 0;
  instr(m, W25Q_WRITE_ENABLE, NULL, NULL, 0);
  queue_status(m, &wel_sr, 1);
  instr(m, op, &addr, data, n);
  return wait_ready(m, typ_us, max_us, what, addr, &wel_sr, st);
}

int spiflash_erase_block(mpsse *m, uint32_t addr, spiflash_stats *st)
{
  return write_instr(m, W25Q_BLOCK_ERASE64, addr, NULL, 0, W25Q_T_BE64_TYP_US, W25Q_T_BE64_MAX_US,
                     "erasing the 64 KiB block", st);
}

int spiflash_program_page(mpsse *m, uint32_t addr, const uint8_t *p, size_t n, spiflash_stats *st)
{
  if (n == 0 || n > SPIFLASH_PAGE || (addr % SPIFLASH_PAGE) + n > SPIFLASH_PAGE)
    return mpsse_fail(m, "internal: page program of %zu bytes at 0x%06X crosses a page", n, addr);
  return write_instr(m, W25Q_PAGE_PROGRAM, addr, p, n, W25Q_T_PP_TYP_US, W25Q_T_PP_MAX_US,
                     "programming the page", st);
}

int spiflash_read(mpsse *m, uint32_t addr, uint8_t *dst, size_t n)
{
  const uint8_t hdr[4] = { W25Q_READ_DATA, (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr };
  mpsse_cs(m, 0);
  mpsse_spi_write(m, hdr, sizeof hdr);
  mpsse_spi_read(m, dst, n);
  mpsse_cs(m, 1);
  return mpsse_flush(m);
}
