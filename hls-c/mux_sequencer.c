/* mux_sequencer: C model of hdl/mux_sequencer.v, statement for statement: every
 * decision reads the state before the clock edge; later assignments override earlier. */
#include <string.h>
#include "mux_sequencer.h"
#include "fixp.h"

void mux_sequencer_init(mux_sequencer_t *s) { memset(s, 0, sizeof *s); }

unsigned mux_sequencer_k_eff(unsigned k_reg)
{
  k_reg &= 15u;
  return k_reg == 0 ? 1u : (k_reg > MINFLUX_K_MAX ? (unsigned)MINFLUX_K_MAX : k_reg);
}

static void start_cycle(mux_sequencer_t *s, const mux_sequencer_in_t *in)
{
  s->state = SEQ_MOVE;
  s->tmr = in->delay;
  s->exp = 0;
  s->cx = in->cx;
  s->cy = in->cy;
  s->ts = in->now;
  s->dac_req = 1;
  s->x = (int32_t)in->cx + in->off_x[0];
  s->y = (int32_t)in->cy + in->off_y[0];
}

void mux_sequencer_step(mux_sequencer_t *s, int rst, const mux_sequencer_in_t *in)
{
  const mux_sequencer_t o = *s;
  if (rst) {
    s->state = SEQ_IDLE;
    s->tmr = 0;
    s->start_pend = s->stop_pend = 0;
    s->dac_req = 0;
    s->gate = 0;
    s->exp = 0;
    s->rec = 0;
    s->cycles_done = 0;
    return;
  }
  const unsigned k_eff = mux_sequencer_k_eff(in->k);
  const int k_last = (o.exp == k_eff - 1);
  const int tmr_last = (o.tmr <= 1);
  const int dac_done = !in->dac_busy && !o.dac_req;
  const unsigned k_next = (o.exp + 1u) & 7u;
  const int run_done = o.stop_pend || (in->ncycles != 0 && o.cycles_done >= in->ncycles);

  s->dac_req = 0;
  s->rec = 0;
  if (o.tmr != 0) s->tmr = (uint16_t)(o.tmr - 1);

  switch (o.state) {
  case SEQ_IDLE:
    if (o.start_pend && dac_done) {
      s->start_pend = 0;
      s->stop_pend = 0;
      s->cycles_done = 0;
    }
    break;
  case SEQ_MOVE:
    if (tmr_last && dac_done) {
      s->state = SEQ_GATE;
      s->tmr = in->gate;
      s->gate = 1;
    }
    break;
  case SEQ_GATE:
    if (tmr_last) {
      s->gate = 0;
      if (k_last) {
        s->state = SEQ_WIN;
        s->tmr = in->win;
        s->rec = 1;
        s->rec_ts = o.ts;
        s->rec_cx = o.cx;
        s->rec_cy = o.cy;
        s->cycles_done = o.cycles_done + 1;
      } else {
        s->state = SEQ_MOVE;
        s->tmr = in->delay;
        s->exp = (uint8_t)k_next;
        s->dac_req = 1;
        s->x = (int32_t)o.cx + in->off_x[k_next];
        s->y = (int32_t)o.cy + in->off_y[k_next];
      }
    }
    break;
  default:
    if (tmr_last && run_done) {
      s->state = SEQ_IDLE;
      s->stop_pend = 0;
    }
    break;
  }

  if ((o.state == SEQ_IDLE && o.start_pend && dac_done) ||
      (o.state == SEQ_WIN && tmr_last && !run_done))
    start_cycle(s, in);

  if (in->abort) {
    s->state = SEQ_IDLE;
    s->start_pend = s->stop_pend = 0;
    s->dac_req = 0;
    s->gate = 0;
    s->rec = 0;
  } else if (in->stop) {
    s->start_pend = 0;
    if (o.state != SEQ_IDLE || o.start_pend) s->stop_pend = 1;
  } else if (in->start && o.state == SEQ_IDLE) {
    s->start_pend = 1;
  }
}
