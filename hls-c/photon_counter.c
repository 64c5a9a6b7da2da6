/* photon_counter: C model of hdl/photon_counter.v. Gate, exposure index and record
 * strobe go through APD_LAT stages so they line up with the apd_capture latency. */
#include <string.h>
#include "photon_counter.h"
#include "fixp.h"

#define LAT MINFLUX_APD_LAT

void photon_counter_init(photon_counter_t *s) { memset(s, 0, sizeof *s); }

void photon_counter_step(photon_counter_t *s, int rst, const uint8_t cnt[MINFLUX_N_CH],
                         int gate, unsigned exp, int rec)
{
  const photon_counter_t o = *s;
  const int gd = o.gate_sr[LAT - 1], gd_prev = o.gate_sr[LAT];
  const unsigned exp_d = o.exp_sr[LAT - 1], exp_prev = o.exp_sr[LAT];
  const uint32_t cmax = fx_mask(0xFFFFFFFFu, MINFLUX_COUNT_W);

  if (rst) {
    memset(s->gate_sr, 0, sizeof s->gate_sr);
    memset(s->rec_sr, 0, sizeof s->rec_sr);
    s->rec_valid = 0;
  } else {
    for (int i = LAT; i > 0; i--) s->gate_sr[i] = o.gate_sr[i - 1];
    s->gate_sr[0] = (uint8_t)(gate != 0);
    for (int i = LAT - 1; i > 0; i--) s->rec_sr[i] = o.rec_sr[i - 1];
    s->rec_sr[0] = (uint8_t)(rec != 0);
    s->rec_valid = o.rec_sr[LAT - 1];
  }
  for (int i = LAT; i > 0; i--) s->exp_sr[i] = o.exp_sr[i - 1];
  s->exp_sr[0] = (uint8_t)(exp & 7u);

  if (gd) {
    for (int ch = 0; ch < MINFLUX_N_CH; ch++) {
      uint32_t sum = (gd_prev ? o.acc[ch] : 0u) + cnt[ch];
      s->acc[ch] = (uint16_t)(sum > cmax ? cmax : sum);
      s->acc_sat[ch] = (uint8_t)((gd_prev && o.acc_sat[ch]) || sum > cmax);
    }
  }

  for (unsigned e = 0; e < MINFLUX_K_MAX; e++) {
    if (gd && !gd_prev && exp_d == 0) {
      memset(s->counts[e], 0, sizeof s->counts[e]);
      memset(s->sat[e], 0, sizeof s->sat[e]);
    } else if (gd_prev && !gd && exp_prev == e) {
      memcpy(s->counts[e], o.acc, sizeof o.acc);
      memcpy(s->sat[e], o.acc_sat, sizeof o.acc_sat);
    }
  }
}
