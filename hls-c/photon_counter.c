/* photon_counter: C model of hdl/photon_counter.v. Gate, exposure index and record
 * strobe go through APD_LAT stages so they line up with the apd_capture latency. */
#include <string.h>
#include "photon_counter.h"
#include "fixp.h"

#define LAT MINFLUX_APD_LAT

#define HI_MASK ((1u << (MINFLUX_RUN_PH_W - 12)) - 1u)

void photon_counter_init(photon_counter_t *s) { memset(s, 0, sizeof *s); }

uint32_t photon_counter_run_ph(const photon_counter_t *s)
{
  const uint32_t hi = (uint32_t)s->run_hi + s->run_cp;
  return (s->run_ovf || hi > HI_MASK) ? (1u << MINFLUX_RUN_PH_W) - 1u : hi << 12 | s->run_lo;
}

uint32_t photon_counter_run_raw(const photon_counter_t *s) { return (uint32_t)s->run_hi << 12 | s->run_lo; }

void photon_counter_step(photon_counter_t *s, int rst, const uint8_t cnt[MINFLUX_N_CH],
                         int gate, unsigned exp, int keep, int rec, unsigned rd_addr, int run_clr)
{
  const photon_counter_t o = *s;
  const int gd = o.gate_sr[LAT - 1], gd_prev = o.gate_sr[LAT];
  const unsigned exp_d = o.exp_sr[LAT - 1], exp_prev = o.exp_sr[LAT];
  const uint32_t cmax = fx_mask(0xFFFFFFFFu, MINFLUX_COUNT_W);
  const int first_open = gd && !gd_prev && exp_d == 0 && !o.keep;
  const int closed = gd_prev && !gd;

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
  s->keep = (uint8_t)(keep != 0);
  int ovf = 0;
  for (int ch = 0; ch < MINFLUX_N_CH; ch++) {
    s->base_q[ch] = o.bank[exp_d][ch];
    s->base[ch] = o.keep ? o.base_q[ch] : 0;
    const uint32_t sum = (uint32_t)(gd_prev ? o.acc[ch] : o.base[ch]) + cnt[ch];
    if (gd) s->acc[ch] = (uint16_t)(sum > cmax ? cmax : sum);
    ovf |= sum > cmax;
  }
  if (closed) memcpy(s->bank[exp_prev], o.acc, sizeof o.acc);
  for (unsigned e = 0; e < 4; e++) {
    if (first_open) s->nsum[e] = 0;
    else if (closed && exp_prev == e) s->nsum[e] = (uint16_t)(o.acc[0] + o.acc[1]);
  }
  s->sat_any = (uint8_t)((first_open ? 0 : o.sat_any) | (gd && ovf));
  s->rd_data = (uint32_t)o.bank[rd_addr & 7u][1] << MINFLUX_COUNT_W | o.bank[rd_addr & 7u][0];
  /* the run's photons: every count the gates accept, unsaturated per exposure; the channel
   * sum registered first, the carry of the low 12 bits a cycle later (the RTL's timing) */
  s->run_c = (uint8_t)(cnt[0] + cnt[1]);
  s->run_add = (uint8_t)(gd && !rst && !run_clr);
  if (rst || run_clr) {
    s->run_lo = s->run_hi = 0;
    s->run_cp = s->run_ovf = 0;
  } else {
    const unsigned lo = o.run_lo + (o.run_add ? o.run_c : 0u), hi = o.run_hi + o.run_cp;
    if (o.run_add) s->run_lo = (uint16_t)(lo & 0xFFFu);
    s->run_cp = (uint8_t)(o.run_add && lo > 0xFFFu);
    s->run_hi = (uint16_t)(hi & HI_MASK);
    if (hi > HI_MASK) s->run_ovf = 1;
  }
}
