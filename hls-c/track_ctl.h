/* track_ctl: bit- and cycle-exact C model of hdl/track_ctl.v, the tracking controller
 * (issue #5; docs/controller.md, registers in regmap_ctl.h). One call of track_ctl_step
 * is one clk edge; the inputs are the values the RTL sees before that edge. */
#ifndef MINFLUX_TRACK_CTL_H
#define MINFLUX_TRACK_CTL_H
#include <stdint.h>
#include "regmap.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int      we;           /* a write to 0x50..0x5F (ignored while running) */
  uint8_t  wa;           /* address - 0x50 */
  uint32_t wd;
  int      start;        /* CTRL start strobe */
  int      running;      /* the sequencer runs */
  int      rec_end;      /* a record's last gate closed */
  uint16_t n[4];         /* the record's exposure sums (13 bit) */
  int      g_valid;      /* Gaussian MLE ready */
  int16_t  gx, gy;
  int      g_ok;
  int16_t  mx, my;       /* live mLMS of the record */
  int      m_ok;
} track_ctl_in_t;

typedef struct {
  /* registers */
  uint8_t  mode;
  int16_t  org_x, org_y;
  uint16_t step;
  uint8_t  n;
  uint16_t dwell;
  uint8_t  dwell_le1;
  uint16_t sthr;
  uint16_t act_len;
  uint8_t  act_every;
  uint16_t pgate;
  uint8_t  pgate_le1;
  uint16_t pthr;
  int16_t  pgain, gain;
  uint16_t pclamp, clamp;
  uint8_t  ratio, lwin;
  uint16_t ldark;
  uint8_t  img, last;               /* CTL_MODE bit1, [3:2] */
  uint16_t ithr, ion, ioff, idark;  /* imaging: CTL_IACT, CTL_IACT_T, CTL_IABORT */
  uint8_t  ilp_sh, ibright;
  uint32_t istg[MINFLUX_CTL_STAGES];
  /* state */
  uint8_t  state, ph, busy;
  int16_t  cx, cy, rx, ry;
  uint8_t  col, row, col_last, row_last;
  uint16_t step3;
  uint16_t act_left;
  uint8_t  act_ctr;
  uint16_t dark, acc_n0, acc_nn;
  uint8_t  acc_cnt;
  uint8_t  fnd;
  uint16_t nn;
  uint8_t  ok, adv, wend, lost_r;
  int16_t  opa, opb, dx, dy;
  int32_t  p;
  uint32_t pr;
  uint32_t lp;                      /* imaging: low-passed search N, UQ16.4 */
  uint16_t at;                      /* imaging: search records into the 405 nm period */
  uint16_t acc[4];                  /* imaging: the stage's exposure sums (13-bit saturating) */
  uint8_t  send, brt;
} track_ctl_t;

void track_ctl_init(track_ctl_t *t);
void track_ctl_step(track_ctl_t *t, int rst, const track_ctl_in_t *in);
/* Combinational outputs (from the state before the next edge). */
int track_ctl_hold(const track_ctl_t *t, int rec_end);
int track_ctl_gauss(const track_ctl_t *t, int running);
int track_ctl_act405(const track_ctl_t *t, int running);
/* Imaging stages: the state is a stage; its L shift and EST_F; whether a record with
 * exposure sums n brings the stage to its photon limit (the RTL's o_send). */
int track_ctl_stage(const track_ctl_t *t);
unsigned track_ctl_shift(const track_ctl_t *t);
uint16_t track_ctl_F(const track_ctl_t *t);
int track_ctl_send(const track_ctl_t *t, const uint16_t n[4]);

#ifdef __cplusplus
}
#endif
#endif
