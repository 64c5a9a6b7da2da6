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
  uint8_t  keep;                         /* i_keep, registered */
  uint16_t base_q[MINFLUX_N_CH];         /* bank read at the delayed exposure index */
  uint16_t base[MINFLUX_N_CH];           /* start value of a gate that opens (bank entry or 0) */
  /* the bank (a RAM: both EBR copies hold the same words); entry e of a complete record
   * holds its counts; entries the record did not visit keep older values */
  uint16_t bank[MINFLUX_K_MAX][MINFLUX_N_CH];
  /* outputs */
  uint8_t  rec_valid;
  uint16_t nsum[4];                      /* ch0 + ch1 of exposures 0..3 (0 if not visited) */
  uint8_t  sat_any;
  uint32_t rd_data;                      /* framer read port: {ch1, ch0} of the address of the edge before */
  /* the run's photons since run_clr as the RTL holds them: low 12 bits, high bits, the carry
   * out of the low part pending for the high part, the sticky carry out of the high part */
  uint16_t run_lo, run_hi;
  uint8_t  run_cp, run_ovf;
  uint8_t  run_c, run_add;               /* ch0 + ch1 of the cycle before, and whether its gate accepted them */
} photon_counter_t;

void photon_counter_init(photon_counter_t *s);
/* RUN_PHOTONS: the run's photons, saturating at 2^RUN_PH_W - 1 */
uint32_t photon_counter_run_ph(const photon_counter_t *s);
/* the same without the carry pending this cycle (up to 4096 low for one cycle), the budget
 * compare's input */
uint32_t photon_counter_run_raw(const photon_counter_t *s);
/* One clk edge with the inputs seen during the cycle before it. keep: the cycle adds to
 * the bank (aggregation of several cycles into one record) instead of starting it anew;
 * rd_addr: the framer's read address; run_clr: a run starts (run_ph back to 0). */
void photon_counter_step(photon_counter_t *s, int rst, const uint8_t cnt[MINFLUX_N_CH],
                         int gate, unsigned exp, int keep, int rec, unsigned rd_addr, int run_clr);

#ifdef __cplusplus
}
#endif
#endif
