/* minflux_core: C model of hdl/minflux_core.v (register file + the foundation blocks).
 * Cycle-exact: one call of minflux_core_step is one clk edge. */
#ifndef MINFLUX_CORE_H
#define MINFLUX_CORE_H
#include <stdint.h>
#include "regmap.h"
#include "apd_capture.h"
#include "photon_counter.h"
#include "mux_sequencer.h"
#include "dac_spi.h"
#include "mlms.h"
#include "gauss1d.h"
#include "track_ctl.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int      rst;
  int      wr_en;
  uint8_t  wr_addr;
  uint32_t wr_data;
  uint8_t  rd_addr;
  int      estop;                   /* emergency stop pin, active high */
  int      wdog;                    /* host watchdog expired during a run (host_link's 1-cycle pulse) */
  uint8_t  apd_edges[MINFLUX_N_CH]; /* APD rising edges since the previous clk edge */
  uint8_t  cnt_rd_addr;             /* record counts read port (the host link's framer) */
} minflux_core_in_t;

typedef struct {
  /* bus write stage (writes act one cycle after they are presented) */
  uint8_t  we, wa;
  uint32_t wd;
  /* register file */
  uint32_t ncycles;
  uint8_t  k;
  uint16_t delay, gate, win, amp;
  int16_t  cx, cy, xmin, xmax, ymin, ymax;
  uint32_t offsets[MINFLUX_K_MAX];
  uint32_t off4;                    /* entry 4 as a register (pre-localization entry 0) */
  uint8_t  sticky;                  /* bit0 clamp x, bit1 clamp y, bit2 saturated, bit3 est write ignored */
  uint8_t  estop_sync[2];           /* synchronizer; [1] is the active flag */
  uint8_t  wd_pend, wd_move, wd_sticky; /* host watchdog: centring move to request / in the DAC; STATUS bit 6 */
  mlms_regs_t mlms_r;               /* EST_K, EST_THRESH, EST_L, EST_F, EST_BETA0..2 */
  uint16_t est_G;                   /* EST_G: the Gaussian MLE's scale */
  uint8_t  agg;                     /* AGG: cycles per record (0 acts as 1) */
  uint32_t pstop;                   /* PHOTON_STOP (RUN_PH_W bits) */
  uint8_t  ph_cmp, ph_hit;          /* PHOTON_STOP != 0 and RUN_PHOTONS >= it: registered (the RTL's two halves), and once more */
  uint8_t  agg_cnt, agg_last, agg_keep, stop_hold, rec_win;   /* aggregation state (see the RTL) */
  uint8_t  agg_m1;                  /* max(AGG, 1) - 1, registered */
  uint32_t run_ph_q;                /* RUN_PHOTONS as read: the count one clock earlier */
  /* the estimator starts the cycle after a record is complete */
  uint8_t  q_valid;
  /* the live mLMS: a fixed-latency pipeline (EST_MLMS_LAT) */
  uint8_t  m_cd, m_valid;
  est_out_t m_res;
  /* the Gaussian 1D MLE: a fixed-latency pipeline (EST_GAUSS_LAT) */
  uint8_t  g_cd, g_valid;
  est_out_t g_res;
  /* the tracking controller and the state of the last record */
  track_ctl_t ctl;
  uint8_t  rec_st;
  int16_t  srch_rd;                 /* generated search offset, read like the RAM */
  uint8_t  pat_srch_q;
  /* outputs */
  uint8_t  est_valid;
  est_out_t est;
  uint32_t ts;
  uint8_t  ra;                      /* read address stage */
  uint32_t rd_word;                 /* read mux stage (groups of 8 addresses) */
  uint32_t rd_data;                 /* data of the address presented three edges earlier */
  /* blocks */
  apd_capture_t    apd[MINFLUX_N_CH];
  mux_sequencer_t  seq;
  photon_counter_t cnt;
  dac_spi_t        dac;
} minflux_core_t;

void minflux_core_init(minflux_core_t *c);
void minflux_core_step(minflux_core_t *c, const minflux_core_in_t *in);

/* Reset values of the registers (tracking timing of seed 003 section 6.4.3). */
enum {
  CORE_RESET_K = 4, CORE_RESET_DELAY = 355, CORE_RESET_GATE = 1114, CORE_RESET_WIN = 95
};

#ifdef __cplusplus
}
#endif
#endif
