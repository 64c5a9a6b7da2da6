/* Internal interface between the emulated FT2232H (tests/ftdi_emu.c) and the devices on its
 * pins (tests/ftdi_emu_dev.c): pin-level events at the current model time. */
#ifndef MINFLUX_FTDI_EMU_DEV_H
#define MINFLUX_FTDI_EMU_DEV_H
#include "ftdi_emu.h"

extern double    emu_now_ns;          /* model clock */
extern emu_stats emu_st;

void emu_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SPI flash: /CS level, SCK edges with /CS low, its DO (-1 = not driving). */
void dev_flash_reset(const emu_knobs *k, const uint8_t *init, size_t n);
void dev_flash_cs(int level);
void dev_flash_rise(int mosi);
void dev_flash_fall(void);
int  dev_flash_miso(void);
int  dev_flash_selected(void);
const uint8_t *dev_flash_mem(void);
int  dev_flash_pd(void);

/* iCE40: CRESET_B level (with SPI_SS_B's level at that moment), SCK rising edges as a
 * configuration slave, CDONE, and whether it drives the SPI bus (master boot). */
void dev_ice40_reset(const emu_knobs *k);
void dev_ice40_creset(int level, int ss);
void dev_ice40_rise(int ss, int mosi);
int  dev_ice40_listening(void);      /* SCK edges matter to it now */
int  dev_ice40_cdone(void);
int  dev_ice40_drives_bus(void);

#endif
