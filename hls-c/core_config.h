/* Legal configuration of the foundation blocks (sequencer, counters, DAC), in firmware
 * units (clock cycles, DAC LSB). The RTL defines what it does with illegal values (see
 * README "Register map"); the host refuses them with the message this validator writes. */
#ifndef MINFLUX_CORE_CONFIG_H
#define MINFLUX_CORE_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "regmap.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  unsigned k;                        /* exposures per cycle */
  unsigned delay_cycles, gate_cycles, win_cycles;
  uint32_t ncycles;                  /* 0 = until stopped */
  int32_t  centre_x, centre_y;       /* DAC LSB */
  int32_t  off_x[MINFLUX_K_MAX], off_y[MINFLUX_K_MAX];
  int32_t  xmin, xmax, ymin, ymax;   /* safe window, DAC LSB */
  uint32_t laser_amp;
  unsigned agg;                      /* AGG: cycles per record, 1..255 */
  uint32_t photon_stop;              /* PHOTON_STOP: the run's photon budget, 0 = off */
} core_config_t;

/* The shortest gate delay that the DAC move allows (cycles): a smaller DELAY register
 * value is legal for the RTL (the gate then opens this late) but refused here. */
unsigned core_config_min_delay(void);
/* Multiplex cycle period in clock cycles: K (DELAY + GATE) + WIN + 1. */
uint64_t core_config_period_cycles(const core_config_t *c);
/* Tracking timing of seed 003 section 6.4.3 (8 kHz, 7.4/23.2/2 us) with a 4-exposure
 * pattern of the given offsets; imaging timing of section 6.3.1 (125 us, 13.6/13.6 us). */
void core_config_tracking_preset(core_config_t *c);
void core_config_imaging_preset(core_config_t *c);
/* 0 when legal; else -1 with one line in err naming the field, its value and the range. */
int core_config_validate(const core_config_t *c, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
