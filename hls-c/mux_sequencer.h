/* mux_sequencer: C model of hdl/mux_sequencer.v. */
#ifndef MINFLUX_MUX_SEQUENCER_H
#define MINFLUX_MUX_SEQUENCER_H
#include <stdint.h>
#include "regmap.h"
#ifdef __cplusplus
extern "C" {
#endif

enum { SEQ_IDLE = 0, SEQ_MOVE = 1, SEQ_GATE = 2, SEQ_WIN = 3, SEQ_START = 4 };

typedef struct {
  int start, stop, abort;        /* strobes */
  uint32_t ncycles;
  uint8_t  k;                    /* 4-bit register value */
  uint16_t delay, gate, win;
  int16_t  cx, cy;
  int16_t  off_x[MINFLUX_K_MAX], off_y[MINFLUX_K_MAX];
  int      dac_busy;
  uint32_t now;
  int      hold;                 /* stay in the window (tracking controller) */
} mux_sequencer_in_t;

typedef struct {
  uint8_t  state;
  uint16_t tmr;
  uint8_t  tmr_last;             /* tmr <= 1, registered */
  uint8_t  start_pend, stop_pend;
  int16_t  cx, cy;
  uint32_t ts;
  uint32_t left;                 /* cycles left in the run, 0 = until stopped */
  uint8_t  final_cycle;          /* the cycle in its window is the run's last */
  int16_t  off_rd_x, off_rd_y;     /* table entry exp+1, read every cycle (RAM port) */
  int16_t  off_next_x, off_next_y; /* the same, registered once more */
  uint8_t  k_last;               /* exp == K_eff - 1, registered every cycle */
  uint8_t  dac_idle_q;           /* !dac_busy && !dac_req, registered every cycle */
  /* outputs */
  uint8_t  dac_req;
  int32_t  x, y;                 /* signed 17-bit sums */
  uint8_t  gate, exp, rec;
  uint32_t rec_ts;
  int16_t  rec_cx, rec_cy;
  uint32_t cycles_done;
} mux_sequencer_t;

void mux_sequencer_init(mux_sequencer_t *s);
void mux_sequencer_step(mux_sequencer_t *s, int rst, const mux_sequencer_in_t *in);
static inline int mux_sequencer_running(const mux_sequencer_t *s) { return s->state != SEQ_IDLE; }
/* Exposures per cycle the hardware uses for a K register value (0 acts as 1, >8 as 8). */
unsigned mux_sequencer_k_eff(unsigned k_reg);

#ifdef __cplusplus
}
#endif
#endif
