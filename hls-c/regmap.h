/* Register map and shared constants of the minflux firmware: the ONE source.
 * C models include this header; the RTL includes build/gen/minflux_regs.vh,
 * generated from it by hls-c/gen_regs.c (make regenerates it; a test checks it). */
#ifndef MINFLUX_REGMAP_H
#define MINFLUX_REGMAP_H

/* X(NAME, VALUE, DESCRIPTION): constants shared by RTL and C models. */
#define MINFLUX_CONSTS(X) \
  X(DESIGN_ID,      0x4D464C58, "design id 'MFLX'") \
  X(DESIGN_VERSION, 0x00000200, "firmware version 0.2.0 (major<<16 | minor<<8 | patch)") \
  X(CLK_HZ,         48000000,   "system clock in Hz") \
  X(K_MAX,          8,          "maximum exposures per multiplex cycle") \
  X(N_CH,           2,          "APD channels") \
  X(COUNT_W,        12,         "bits per per-exposure count (saturating)") \
  X(APD_GRAY_W,     4,          "bits of the APD-domain Gray counter") \
  X(APD_LAT,        3,          "cycles from an APD edge to its count at the counter input") \
  X(DAC_SYNC_GAP,   5,          "cycles SYNC stays high between DAC frames (>= 80 ns)") \
  X(DAC_FRAMES,     3,          "SPI frames per beam move: x store, y store, amp + update all") \
  X(TS_W,           32,         "bits of the cycle timestamp") \
  X(EST_STAGE_LAT,  1,          "cycles from counts complete to the estimator input (channel sums registered)") \
  X(RUN_PH_W,       24,         "bits of the run's photon count (saturating) and of PHOTON_STOP")

/* X(NAME, ADDR, WIDTH, DESCRIPTION): core registers (32-bit word bus).
 * Writes take effect as documented in README "Register map". */
#define MINFLUX_REGS(X) \
  X(ID,         0x00, 32, "RO design id") \
  X(VERSION,    0x01, 32, "RO firmware version") \
  X(CTRL,       0x02,  3, "WO strobes: bit0 start, bit1 stop after this cycle, bit2 abort now") \
  X(STATUS,     0x03,  7, "RO bit0 running, bit1 clamp x, bit2 clamp y, bit3 count saturated, bit5 estimator or controller register written while running (ignored), bit6 host watchdog tripped (sticky: write 1s to clear bits 1-3, 5, 6), bit4 emergency stop active") \
  X(NCYCLES,    0x04, 32, "cycles per run, 0 = until stopped; sampled when a run starts") \
  X(K,          0x05,  4, "exposures per cycle 1..8 (0 acts as 1, >8 as 8)") \
  X(DELAY,      0x06, 16, "gate delay in cycles from the beam move (laser blanked); 0 acts as 1") \
  X(GATE,       0x07, 16, "detection gate / laser on in cycles; 0 acts as 1") \
  X(WIN,        0x08, 16, "localization window in cycles after the last gate; 0 acts as 1") \
  X(CENTRE_X,   0x09, 16, "pattern centre x, signed DAC LSB, applied at the next cycle start") \
  X(CENTRE_Y,   0x0A, 16, "pattern centre y, signed DAC LSB, applied at the next cycle start") \
  X(LASER_AMP,  0x0B, 16, "laser amplitude DAC code (channel C), sent with every move") \
  X(SAFE_XMIN,  0x0C, 16, "safe window x minimum, signed DAC LSB") \
  X(SAFE_XMAX,  0x0D, 16, "safe window x maximum, signed DAC LSB") \
  X(SAFE_YMIN,  0x0E, 16, "safe window y minimum, signed DAC LSB") \
  X(SAFE_YMAX,  0x0F, 16, "safe window y maximum, signed DAC LSB") \
  X(CYCLES_DONE,0x10, 32, "RO cycles completed in the current/last run") \
  X(TIMESTAMP,  0x11, 32, "RO free-running cycle counter") \
  X(AGG,        0x18,  8, "multiplex cycles per record M (0 acts as 1): counts are summed over M cycles, one estimate and one record per M cycles; a stop ends the run at the end of a record") \
  X(PHOTON_STOP,0x1A, 24, "photon budget of a run, 0 = off (reset): once RUN_PHOTONS >= PHOTON_STOP the run stops at the end of the record (as CTRL stop); may change during a run") \
  X(RUN_PHOTONS,0x1B, 24, "RO photons detected in the gates of the current / last run, both channels (saturating; cleared by a start from idle)") \
  X(OFFSET0,    0x20, 32, "offset table: entry k at 0x20+k, x in [15:0], y in [31:16], signed DAC LSB")

#define MINFLUX_OFFSET_ADDR(k) (0x20 + (k))

#include "regmap_est.h"
#include "regmap_link.h"
#include "regmap_bayes.h"
#include "regmap_ctl.h"

#define MINFLUX_ENUM_CONST(name, value, desc) MINFLUX_##name = (value),
#define MINFLUX_ENUM_REG(name, addr, width, desc) MINFLUX_REG_##name = (addr),
enum { MINFLUX_CONSTS(MINFLUX_ENUM_CONST) MINFLUX_EST_CONSTS(MINFLUX_ENUM_CONST) MINFLUX_LINK_CONSTS(MINFLUX_ENUM_CONST) MINFLUX_BAYES_CONSTS(MINFLUX_ENUM_CONST) MINFLUX_CTL_CONSTS(MINFLUX_ENUM_CONST) MINFLUX_CONST_END_ };
enum { MINFLUX_REGS(MINFLUX_ENUM_REG) MINFLUX_EST_REGS(MINFLUX_ENUM_REG) MINFLUX_LINK_REGS(MINFLUX_ENUM_REG) MINFLUX_BAYES_REGS(MINFLUX_ENUM_REG) MINFLUX_CTL_REGS(MINFLUX_ENUM_REG) MINFLUX_REG_END_ };

#endif
