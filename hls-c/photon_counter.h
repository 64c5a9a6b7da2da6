/* photon_counter: C model of hdl/photon_counter.v. */
#ifndef MINFLUX_PHOTON_COUNTER_H
#define MINFLUX_PHOTON_COUNTER_H
#include <stdint.h>
#include "regmap.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint8_t  gate_sr[MINFLUX_APD_LAT + 1]; /* [0] newest */
  uint8_t  exp_sr[MINFLUX_APD_LAT + 1];
  uint8_t  rec_sr[MINFLUX_APD_LAT];
  uint16_t acc[MINFLUX_N_CH];
  uint8_t  acc_sat[MINFLUX_N_CH];
  /* outputs */
  uint8_t  rec_valid;
  uint16_t counts[MINFLUX_K_MAX][MINFLUX_N_CH];
  uint8_t  sat[MINFLUX_K_MAX][MINFLUX_N_CH];
} photon_counter_t;

void photon_counter_init(photon_counter_t *s);
/* One clk edge with the inputs seen during the cycle before it. */
void photon_counter_step(photon_counter_t *s, int rst, const uint8_t cnt[MINFLUX_N_CH],
                         int gate, unsigned exp, int rec);

#ifdef __cplusplus
}
#endif
#endif
