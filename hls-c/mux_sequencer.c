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

static void load_tmr(mux_sequencer_t *s, uint16_t v)
{
  s->tmr = v;
  s->tmr_last = (uint8_t)(v <= 1);
}

/* Datapath loads of the START cycle; the RTL applies them even during reset. */
static void start_cycle_data(mux_sequencer_t *s, const mux_sequencer_in_t *in)
{
  load_tmr(s, in->delay);
  s->exp = 0;
  s->final_cycle = 0;
  s->cx = in->cx;
  s->cy = in->cy;
  s->ts = in->now;
  s->x = (int32_t)in->cx + in->off_x[0];
  s->y = (int32_t)in->cy + in->off_y[0];
}

void mux_sequencer_step(mux_sequencer_t *s, int rst, const mux_sequencer_in_t *in)
{
  const mux_sequencer_t o = *s;
  const int run_done = o.stop_pend || o.final_cycle;
  const int cyc_start = (o.state == SEQ_IDLE && o.start_pend && o.dac_idle_q) ||
                        (o.state == SEQ_WIN && o.tmr_last && !run_done && !in->hold);
  s->off_rd_x = in->off_x[(o.exp + 1u) & 7u];   /* the core's RAM read port */
  s->off_rd_y = in->off_y[(o.exp + 1u) & 7u];
  s->off_next_x = o.off_rd_x;                     /* registered once more */
  s->off_next_y = o.off_rd_y;
  s->k_last = (uint8_t)(o.exp >= mux_sequencer_k_eff(in->k) - 1u);
  s->dac_idle_q = (uint8_t)(!in->dac_busy && !o.dac_req);
  if (rst) {
    s->state = SEQ_IDLE;
    load_tmr(s, 0);
    s->start_pend = s->stop_pend = 0;
    s->dac_req = 0;
    s->gate = 0;
    s->exp = 0;
    s->rec = 0;
    s->cycles_done = 0;
    if (o.state == SEQ_START) start_cycle_data(s, in);
    return;
  }
  const int k_last = o.k_last;
  const int tmr_last = o.tmr_last;
  const int move_done = o.tmr_last && o.dac_idle_q && !o.dac_req;
  const unsigned k_next = (o.exp + 1u) & 7u;

  s->dac_req = 0;
  s->rec = 0;
  if (o.tmr != 0) s->tmr = (uint16_t)(o.tmr - 1);
  s->tmr_last = (uint8_t)(o.tmr <= 2);  /* (tmr - 1) <= 1; 0 stays 0 */

  switch (o.state) {
  case SEQ_IDLE:
    if (o.start_pend && o.dac_idle_q) {
      s->start_pend = 0;
      s->stop_pend = 0;
      s->cycles_done = 0;
      s->left = in->ncycles;
    }
    break;
  case SEQ_MOVE:
    if (move_done) {
      s->state = SEQ_GATE;
      load_tmr(s, in->gate);
      s->gate = 1;
    }
    break;
  case SEQ_GATE:
    if (tmr_last) {
      s->gate = 0;
      if (k_last) {
        s->state = SEQ_WIN;
        load_tmr(s, in->win);
        s->rec = 1;
        s->rec_ts = o.ts;
        s->rec_cx = o.cx;
        s->rec_cy = o.cy;
        s->cycles_done = o.cycles_done + 1;
        s->final_cycle = (uint8_t)(o.left == 1);
        if (o.left != 0) s->left = o.left - 1;
      } else {
        s->state = SEQ_MOVE;
        load_tmr(s, in->delay);
        s->exp = (uint8_t)k_next;
        s->dac_req = 1;
        s->x = (int32_t)o.cx + o.off_next_x;
        s->y = (int32_t)o.cy + o.off_next_y;
      }
    }
    break;
  case SEQ_WIN:
    if (tmr_last && run_done) {
      s->state = SEQ_IDLE;
      s->stop_pend = 0;
    }
    break;
  default: /* SEQ_START: handled below */
    break;
  }

  if (o.state == SEQ_START) {
    s->state = SEQ_MOVE;
    s->dac_req = 1;
    start_cycle_data(s, in);
  }
  if (cyc_start) s->state = SEQ_START;

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
