/* The iCEBreaker's W25Q128-class SPI NOR flash behind FT2232H channel A. Opcodes and times
 * from the Winbond W25Q128JV datasheet (instruction set; AC electrical characteristics).
 * Every function returns 0, or -1 with one line in mpsse_err(m). */
#ifndef MINFLUX_FLASH_SPI_H
#define MINFLUX_FLASH_SPI_H
#include <stddef.h>
#include <stdint.h>
#include "mpsse.h"

#define SPIFLASH_PAGE  256u            /* page program unit */
#define SPIFLASH_BLOCK 65536u          /* block erase unit (0xD8) */
#define SPIFLASH_BYTES (16u << 20)     /* W25Q128: 128 Mbit */

/* Instructions. */
#define W25Q_WRITE_ENABLE  0x06
#define W25Q_READ_SR1      0x05
#define W25Q_PAGE_PROGRAM  0x02
#define W25Q_READ_DATA     0x03
#define W25Q_BLOCK_ERASE64 0xD8
#define W25Q_JEDEC_ID      0x9F
#define W25Q_POWER_DOWN    0xB9
#define W25Q_RELEASE_PD    0xAB
#define W25Q_SR1_BUSY      0x01
#define W25Q_SR1_WEL       0x02
#define W25Q_SR1_BP        0x1C        /* block-protect bits BP2..BP0 */

/* Times in microseconds: typical (what a poll waits for first) and maximum. */
#define W25Q_T_RES1_US     3.0         /* release from power-down until the next instruction */
#define W25Q_T_DP_US       3.0         /* power-down takes effect */
#define W25Q_T_PP_TYP_US   400.0
#define W25Q_T_PP_MAX_US   3000.0
#define W25Q_T_BE64_TYP_US 150000.0
#define W25Q_T_BE64_MAX_US 2000000.0

typedef struct {
  double   busy_s;      /* SCK time spent waiting for BUSY to clear */
  unsigned polls;       /* status-register polls (one USB round trip each) */
} spiflash_stats;

int spiflash_wake(mpsse *m);                                   /* 0xAB, then tRES1 */
int spiflash_power_down(mpsse *m);                             /* 0xB9, then tDP */
/* JEDEC ID (0x9F) and status register 1 (0x05) in one round trip. */
int spiflash_identify(mpsse *m, uint32_t *jedec, uint8_t *sr1);
/* The part's name for a supported JEDEC ID, else NULL. */
const char *spiflash_part_name(uint32_t jedec);
/* Refuses an unknown or absent part and a write-protected or stuck-busy one. */
int spiflash_check(mpsse *m, uint32_t jedec, uint8_t sr1);
int spiflash_erase_block(mpsse *m, uint32_t addr, spiflash_stats *st);
/* n <= SPIFLASH_PAGE bytes that must not cross a page boundary. */
int spiflash_program_page(mpsse *m, uint32_t addr, const uint8_t *p, size_t n, spiflash_stats *st);
int spiflash_read(mpsse *m, uint32_t addr, uint8_t *dst, size_t n);

#endif
