/* track_ctl: C model of hdl/track_ctl.v (see the schedule at the top of the RTL). */
#include <string.h>
#include "track_ctl.h"
#include "fixp.h"

enum { PH_IDLE, PH_WAIT, PH_DEC, PH_M1, PH_M2, PH_M3, PH_FIN };

static void reset_regs(track_ctl_t *t)
{
  t->mode = 0;
  t->org_x = t->org_y = 0;
  t->step = 1;
  t->n = 1;
  t->dwell = 2400; t->dwell_le1 = 0; t->sthr = 15;
  t->act_len = 0; t->act_every = 0;
  t->pgate = 2400; t->pgate_le1 = 0; t->pthr = 20;
  t->pgain = t->gain = 0;
  t->pclamp = t->clamp = 0;
  t->ratio = t->lwin = 0;
  t->ldark = 0;
  t->img = t->last = 0;
  t->ithr = t->ion = t->ioff = t->idark = 0;
  t->ilp_sh = t->ibright = 0;
  for (int i = 0; i < MINFLUX_CTL_STAGES; i++) t->istg[i] = 1;
}

static void reset_state(track_ctl_t *t)
{
  t->state = 0; t->ph = PH_IDLE; t->busy = 0;
  t->act_left = 0; t->act_ctr = 0;
  t->rx = t->ry = t->cx = t->cy = 0;
  t->col = t->row = 0;
  t->dark = t->acc_n0 = t->acc_nn = 0; t->acc_cnt = 0;
  t->fnd = 0; t->nn = 0; t->ok = t->adv = t->wend = t->lost_r = 0;
  t->opa = t->opb = t->dx = t->dy = 0;
  t->p = 0; t->pr = 0;
  t->lp = 0; t->at = 0; t->send = t->brt = 0;
  for (int e = 0; e < 4; e++) t->acc[e] = 0;
}

void track_ctl_init(track_ctl_t *t)
{
  memset(t, 0, sizeof *t);
  reset_regs(t);
  reset_state(t);
}

int track_ctl_hold(const track_ctl_t *t, int rec_end) { return t->mode && (t->busy || rec_end); }
int track_ctl_gauss(const track_ctl_t *t, int running)
{
  return t->mode && running && (t->state == MINFLUX_CTL_ST_SEARCH || t->state == MINFLUX_CTL_ST_PRELOC);
}
static int lp_low(const track_ctl_t *t) { return t->lp < t->ithr; }

int track_ctl_act405(const track_ctl_t *t, int running)
{
  return t->mode && running && t->state == MINFLUX_CTL_ST_SEARCH &&
         (t->img ? (lp_low(t) && t->at < t->ion) : t->act_left != 0);
}

int track_ctl_stage(const track_ctl_t *t) { return (t->state & 4u) != 0; }
static uint32_t stg_w(const track_ctl_t *t) { return t->istg[(t->state & 3u) > 2 ? 2 : (t->state & 3u)]; }
unsigned track_ctl_shift(const track_ctl_t *t) { return (stg_w(t) >> 14) & 3u; }
uint16_t track_ctl_F(const track_ctl_t *t) { return (uint16_t)(stg_w(t) >> 16); }
int track_ctl_send(const track_ctl_t *t, const uint16_t n[4])
{
  const unsigned sn = (t->acc_nn + (unsigned)n[0] + n[1] + n[2] + n[3]) & 0xFFFFu;
  return track_ctl_stage(t) && sn >= (stg_w(t) & 0x3FFFu);
}

static uint16_t add13(uint16_t a, uint16_t b) { return (uint16_t)fx_sat_u((int64_t)a + b, 13); }

/* clamp(round(p / 2^16), +-cl): the RTL's step_of (cl >= 0, so the window is never empty) */
static int16_t step_of(int32_t p, uint16_t cl)
{
  return (int16_t)fx_clamp((int32_t)fx_shr_round(p, MINFLUX_CTL_GAIN_SHIFT), -(int32_t)cl, (int32_t)cl);
}

/* a + b saturating to the 16-bit range (the RTL's sat_add) */
static int16_t sat_add(int16_t a, int16_t b) { return (int16_t)fx_sat_s((int64_t)a + b, 16); }

void track_ctl_step(track_ctl_t *t, int rst, const track_ctl_in_t *in)
{
  const track_ctl_t o = *t;

  /* registers */
  if (rst) {
    reset_regs(t);
  } else if (in->we && !in->running) {
    const uint32_t d = in->wd;
    switch (in->wa) {
    case 0: t->mode = (uint8_t)(d & 1u); t->img = (uint8_t)((d >> 1) & 1u); t->last = (uint8_t)((d >> 2) & 3u); break;
    case 1: t->org_x = (int16_t)(d & 0xFFFFu); t->org_y = (int16_t)(d >> 16); break;
    case 2: t->step = (uint16_t)d; t->n = (uint8_t)(d >> 16); break;
    case 3: t->dwell = (uint16_t)d; t->dwell_le1 = (uint8_t)((t->dwell >> 1) == 0);
            t->sthr = (uint16_t)((d >> 16) & 0x7FFFu); break;
    case 4: t->act_len = (uint16_t)d; t->act_every = (uint8_t)(d >> 16); break;
    case 5: t->pgate = (uint16_t)d; t->pgate_le1 = (uint8_t)((t->pgate >> 1) == 0);
            t->pthr = (uint16_t)((d >> 16) & 0x7FFFu); break;
    case 6: t->pgain = (int16_t)(d & 0x7FFFu); t->pclamp = (uint16_t)((d >> 16) & 0x7FFFu); break;
    case 7: t->gain = (int16_t)(d & 0x7FFFu); t->clamp = (uint16_t)((d >> 16) & 0x7FFFu); break;
    case 8: t->ratio = (uint8_t)d; t->lwin = (uint8_t)(d >> 8); t->ldark = (uint16_t)(d >> 16); break;
    case 10: t->ithr = (uint16_t)d; t->ilp_sh = (uint8_t)((d >> 16) & 15u); break;
    case 11: t->ion = (uint16_t)d; t->ioff = (uint16_t)(d >> 16); break;
    case 12: t->idark = (uint16_t)d; t->ibright = (uint8_t)(d >> 16); break;
    case 13: case 14: case 15: t->istg[in->wa - 13] = d; break;
    default: break;
    }
  }

  /* every cycle */
  t->step3 = (uint16_t)(o.step + (uint16_t)(o.step << 1));
  const unsigned n_groups = (((unsigned)(o.n >> 1) + (o.n & 1u) + 1u) >> 1) & 0xFFu;
  t->col_last = (uint8_t)((unsigned)o.col + 1u >= n_groups);
  t->row_last = (uint8_t)((unsigned)o.row + 1u >= o.n);

  if (rst) {
    reset_state(t);
    return;
  }
  const int act_on = o.act_every != 0;
  if (in->start && !in->running) {
    t->state = o.mode ? MINFLUX_CTL_ST_SEARCH : 0;
    t->ph = PH_IDLE;
    t->busy = 0;
    t->rx = t->cx = o.org_x;
    t->ry = t->cy = o.org_y;
    t->col = t->row = 0;
    t->act_ctr = 0;
    t->act_left = act_on ? o.act_len : 0;
    t->lp = 0; t->at = 0;
    return;
  }
  const int stage = track_ctl_stage(&o);
  const uint32_t lim = stg_w(&o) & 0x3FFFu;
  const unsigned last_stage = o.last == 3 ? 2u : o.last;
  const int pre = o.state == MINFLUX_CTL_ST_PRELOC;
  switch (o.ph) {
  case PH_IDLE:
    if (o.mode && in->rec_end) { t->ph = PH_WAIT; t->busy = 1; }
    break;
  case PH_WAIT:
    if (in->g_valid) {
      t->ph = PH_DEC;
      t->fnd = 0;
      for (int e = 0; e < 4; e++) t->fnd |= (uint8_t)((in->n[e] >= o.sthr) << e);
      t->nn = (uint16_t)(in->n[0] + in->n[1] + in->n[2] + in->n[3]);
      t->ok = (uint8_t)((pre ? in->g_ok : in->m_ok) != 0);
      t->opa = pre ? in->gx : in->mx;
      t->opb = pre ? o.pgain : o.gain;
    }
    break;
  case PH_DEC:
    t->adv = 0;
    t->ph = PH_M1;
    t->p = (int32_t)o.opa * o.opb;
    t->opa = pre ? in->gy : in->my;
    if (o.state == MINFLUX_CTL_ST_SEARCH && o.act_left != 0) t->act_left = (uint16_t)(o.act_left - 1);
    if (o.state == MINFLUX_CTL_ST_SEARCH && o.img) {   /* imaging 405 nm */
      const int32_t d = (int32_t)((uint32_t)o.nn << MINFLUX_CTL_LP_FRAC) - (int32_t)o.lp;
      t->lp = (uint32_t)((int32_t)o.lp + fx_shr_floor(d, o.ilp_sh)) & 0xFFFFFu;
      if (!lp_low(&o)) t->at = 0;
      else t->at = ((uint32_t)o.at + 1u >= (uint32_t)o.ion + o.ioff) ? 0 : (uint16_t)(o.at + 1u);
    }
    if (o.state == MINFLUX_CTL_ST_SEARCH && o.fnd) {
      const uint16_t off = (o.fnd & 1) ? 0 : (o.fnd & 2) ? o.step : (o.fnd & 4) ? (uint16_t)(o.step << 1) : o.step3;
      t->cx = (int16_t)(uint16_t)(o.rx + off);
      t->cy = o.ry;
      t->state = MINFLUX_CTL_ST_PRELOC;
      t->ph = PH_FIN;
    } else if (o.state == MINFLUX_CTL_ST_SEARCH || (pre && !o.ok)) {
      t->adv = 1;
      t->state = MINFLUX_CTL_ST_SEARCH;
      t->ph = PH_FIN;
      if (!o.col_last) {
        t->col = (uint8_t)(o.col + 1);
        t->rx = (int16_t)(uint16_t)(o.rx + (uint16_t)(o.step << 2));
      } else {
        t->col = 0;
        t->rx = o.org_x;
        if (!o.row_last) {
          t->row = (uint8_t)(o.row + 1);
          t->ry = (int16_t)(uint16_t)(o.ry + o.step);
        } else {
          t->row = 0;
          t->ry = o.org_y;
          if (act_on) {
            if ((unsigned)o.act_ctr + 1u >= o.act_every) { t->act_ctr = 0; t->act_left = o.act_len; }
            else t->act_ctr = (uint8_t)(o.act_ctr + 1);
          }
        }
      }
    } else if (o.state == MINFLUX_CTL_ST_TRACK) {
      t->dark = o.ok ? 0 : (o.dark == 0xFFFF ? o.dark : (uint16_t)(o.dark + 1));
      t->acc_n0 = (uint16_t)(o.acc_n0 + in->n[0]);
      t->acc_nn = (uint16_t)(o.acc_nn + o.nn);
      t->acc_cnt = (uint8_t)(o.acc_cnt + 1);
    } else if (stage) {   /* stage sums: dark counts the stage's records */
      t->dark = o.dark == 0xFFFF ? o.dark : (uint16_t)(o.dark + 1);
      t->acc_n0 = (uint16_t)(o.acc_n0 + in->n[0]);
      t->acc_nn = (uint16_t)(o.acc_nn + o.nn);
      for (int e = 0; e < 4; e++) t->acc[e] = add13(o.acc[e], in->n[e]);
      t->send = (uint8_t)(t->acc_nn >= lim);
    }
    break;
  case PH_M1:
    t->ph = PH_M2;
    t->p = (int32_t)o.opa * o.opb;
    t->dx = step_of(o.p, pre ? o.pclamp : o.clamp);
    t->wend = (uint8_t)(o.lwin != 0 && (o.acc_cnt >= o.lwin || (o.acc_nn & 0x8000u)));
    t->pr = (uint32_t)o.ratio * o.acc_nn;
    t->brt = (uint8_t)(o.ibright != 0 && o.dark < o.ibright);
    break;
  case PH_M2:
    t->ph = PH_M3;
    if (o.ok && (!stage || o.send)) t->cx = sat_add(o.cx, o.dx);
    t->dy = step_of(o.p, pre ? o.pclamp : o.clamp);
    if (stage)   /* cfr abort at the end of a stage s >= 1 */
      t->lost_r = (uint8_t)(o.send && (o.state & 3u) != 0 && o.ratio != 0 && ((uint32_t)o.acc_n0 << 8) >= o.pr);
    else
      t->lost_r = (uint8_t)(o.wend && ((uint32_t)o.acc_n0 << 8) >= o.pr);
    if (o.wend && !stage) { t->acc_n0 = t->acc_nn = 0; t->acc_cnt = 0; }
    break;
  case PH_M3:
    t->ph = PH_FIN;
    if (o.ok && (!stage || o.send)) t->cy = sat_add(o.cy, o.dy);
    if (pre) {
      t->state = (o.mode && o.img) ? MINFLUX_CTL_ST_STAGE0 : MINFLUX_CTL_ST_TRACK;
      t->dark = t->acc_n0 = t->acc_nn = 0; t->acc_cnt = 0;
      for (int e = 0; e < 4; e++) t->acc[e] = 0;
    } else if (stage) {
      const int dark_end = o.idark != 0 && o.dark >= o.idark;
      if (o.send || dark_end) {
        t->dark = t->acc_n0 = t->acc_nn = 0;
        for (int e = 0; e < 4; e++) t->acc[e] = 0;
      }
      if (!o.send ? dark_end : (o.lost_r || o.brt)) {   /* abort: dark, cfr or bright */
        t->state = MINFLUX_CTL_ST_SEARCH;
        t->cx = o.rx;
        t->cy = o.ry;
      } else if (o.send) {
        t->state = (uint8_t)(((o.state & 3u) >= last_stage) ? (4u | last_stage) : (o.state + 1u));
      }
    } else if (o.lost_r || (o.ldark != 0 && o.dark >= o.ldark)) {
      t->state = MINFLUX_CTL_ST_SEARCH;
      t->cx = o.rx;
      t->cy = o.ry;
    }
    break;
  case PH_FIN:
    if (o.adv) { t->cx = o.rx; t->cy = o.ry; }
    t->ph = PH_IDLE;
    t->busy = 0;
    break;
  default:
    t->ph = PH_IDLE;
    break;
  }
}
