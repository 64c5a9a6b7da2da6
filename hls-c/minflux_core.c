/* minflux_core: C model of hdl/minflux_core.v. Every block is stepped with the outputs
 * the other blocks had before the clock edge, as the registered RTL sees them. */
#include <string.h>
#include "minflux_core.h"
#include "fixp.h"

static void reset_regs(minflux_core_t *c)
{
  c->ncycles = 0;
  c->k = CORE_RESET_K;
  c->delay = CORE_RESET_DELAY;
  c->gate = CORE_RESET_GATE;
  c->win = CORE_RESET_WIN;
  c->cx = c->cy = 0;
  c->amp = 0;
  c->xmin = c->ymin = INT16_MIN;
  c->xmax = c->ymax = INT16_MAX;
  c->sticky = 0;   /* the offset table keeps its contents (a RAM): zero only at init */
  memset(&c->mlms_r, 0, sizeof c->mlms_r);
  c->est_G = 0;
  c->mlms_r.k = 1;
  c->mlms_r.thresh = 6;
  c->agg = 1;
  c->pstop = 0;
}

void minflux_core_init(minflux_core_t *c)
{
  memset(c, 0, sizeof *c);
  c->agg_last = 1;
  for (int ch = 0; ch < MINFLUX_N_CH; ch++) apd_capture_init(&c->apd[ch]);
  mux_sequencer_init(&c->seq);
  track_ctl_init(&c->ctl);
  photon_counter_init(&c->cnt);
  dac_spi_init(&c->dac);
}

static uint32_t read_reg(const minflux_core_t *o, uint8_t addr)
{
  switch (addr) {
  case MINFLUX_REG_ID:          return MINFLUX_DESIGN_ID;
  case MINFLUX_REG_VERSION:     return MINFLUX_DESIGN_VERSION;
  case MINFLUX_REG_STATUS:
    return ((uint32_t)o->wd_sticky << 6) | ((uint32_t)((o->sticky >> 3) & 1u) << 5) | ((uint32_t)o->estop_sync[1] << 4) |
           ((uint32_t)(o->sticky & 7u) << 1) | (uint32_t)mux_sequencer_running(&o->seq);
  case MINFLUX_REG_NCYCLES:     return o->ncycles;
  case MINFLUX_REG_K:           return o->k;
  case MINFLUX_REG_DELAY:       return o->delay;
  case MINFLUX_REG_GATE:        return o->gate;
  case MINFLUX_REG_WIN:         return o->win;
  case MINFLUX_REG_CENTRE_X:    return (uint16_t)o->cx;
  case MINFLUX_REG_CENTRE_Y:    return (uint16_t)o->cy;
  case MINFLUX_REG_LASER_AMP:   return o->amp;
  case MINFLUX_REG_SAFE_XMIN:   return (uint16_t)o->xmin;
  case MINFLUX_REG_SAFE_XMAX:   return (uint16_t)o->xmax;
  case MINFLUX_REG_SAFE_YMIN:   return (uint16_t)o->ymin;
  case MINFLUX_REG_SAFE_YMAX:   return (uint16_t)o->ymax;
  case MINFLUX_REG_CYCLES_DONE: return o->seq.cycles_done;
  case MINFLUX_REG_TIMESTAMP:   return o->ts;
  case MINFLUX_REG_AGG:         return o->agg;
  case MINFLUX_REG_PHOTON_STOP: return o->pstop;
  case MINFLUX_REG_RUN_PHOTONS: return o->run_ph_q;
  case MINFLUX_REG_EST_K:       return o->mlms_r.k;
  case MINFLUX_REG_EST_THRESH:  return o->mlms_r.thresh;
  case MINFLUX_REG_EST_L:       return o->mlms_r.L;
  case MINFLUX_REG_EST_F:       return o->mlms_r.F;
  case MINFLUX_REG_EST_BETA0:   return (uint16_t)o->mlms_r.beta[0];
  case MINFLUX_REG_EST_BETA1:   return (uint16_t)o->mlms_r.beta[1];
  case MINFLUX_REG_EST_BETA2:   return (uint16_t)o->mlms_r.beta[2];
  case MINFLUX_REG_EST_G:       return o->est_G;
  case MINFLUX_REG_CTL_MODE:    return (uint32_t)o->ctl.mode | (uint32_t)o->ctl.img << 1 | (uint32_t)o->ctl.last << 2;
  case MINFLUX_REG_CTL_STATE:   return o->ctl.state;
  default:
    /* the offset table is write-only (its read-back mux cost ~130 LCs) */
    return 0;
  }
}

static int is_est_reg(uint8_t addr) { return addr >= MINFLUX_REG_EST_K && addr <= MINFLUX_REG_EST_G; }
static int is_ctl_reg(uint8_t addr) { return (addr >> 4) == (MINFLUX_REG_CTL_MODE >> 4); }

/* running: estimator parameters (EST_*) are written only while idle */
static void write_reg(minflux_core_t *c, uint8_t addr, uint32_t d, int running)
{
  if (running && is_est_reg(addr)) return;
  switch (addr) {
  case MINFLUX_REG_NCYCLES:   c->ncycles = d; break;
  case MINFLUX_REG_K:         c->k = (uint8_t)fx_mask(d, 4); break;
  case MINFLUX_REG_DELAY:     c->delay = (uint16_t)d; break;
  case MINFLUX_REG_GATE:      c->gate = (uint16_t)d; break;
  case MINFLUX_REG_WIN:       c->win = (uint16_t)d; break;
  case MINFLUX_REG_CENTRE_X:  c->cx = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_CENTRE_Y:  c->cy = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_LASER_AMP: c->amp = (uint16_t)d; break;
  case MINFLUX_REG_SAFE_XMIN: c->xmin = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_SAFE_XMAX: c->xmax = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_SAFE_YMIN: c->ymin = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_SAFE_YMAX: c->ymax = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_EST_K:     c->mlms_r.k = (uint8_t)(d & 3u); break;
  case MINFLUX_REG_EST_THRESH: c->mlms_r.thresh = (uint16_t)fx_mask(d, 15); break;
  case MINFLUX_REG_EST_L:     c->mlms_r.L = (uint16_t)d; break;
  case MINFLUX_REG_EST_F:     c->mlms_r.F = (uint16_t)d; break;
  case MINFLUX_REG_EST_BETA0: c->mlms_r.beta[0] = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_EST_BETA1: c->mlms_r.beta[1] = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_EST_BETA2: c->mlms_r.beta[2] = (int16_t)fx_sext(d, 16); break;
  case MINFLUX_REG_EST_G:     c->est_G = (uint16_t)d; break;
  case MINFLUX_REG_AGG:       c->agg = (uint8_t)d; break;
  case MINFLUX_REG_PHOTON_STOP: c->pstop = fx_mask(d, MINFLUX_RUN_PH_W); break;
  default:
    if (addr >= MINFLUX_REG_OFFSET0 && addr < MINFLUX_REG_OFFSET0 + MINFLUX_K_MAX)
      c->offsets[addr - MINFLUX_REG_OFFSET0] = d;
    if (addr == MINFLUX_REG_OFFSET0 + MINFLUX_CTL_PRE_BASE) c->off4 = d;
    break;
  }
}

void minflux_core_step(minflux_core_t *c, const minflux_core_in_t *in)
{
  const minflux_core_t o = *c;   /* everything as it was before the edge */
  const int wr_ctrl = o.we && o.wa == MINFLUX_REG_CTRL;
  const int estop = o.estop_sync[1];

  c->estop_sync[1] = o.estop_sync[0];
  c->estop_sync[0] = (uint8_t)(in->estop != 0);
  c->we = (uint8_t)(in->wr_en && !in->rst);
  c->wa = in->wr_addr;
  c->wd = in->wr_data;

  /* register file and status */
  c->ts = in->rst ? 0 : o.ts + 1;
  if (in->rst) {
    reset_regs(c);
  } else {
    const int any_sat = o.cnt.sat_any;
    const int running = mux_sequencer_running(&o.seq);
    const uint8_t clr = (o.we && o.wa == MINFLUX_REG_STATUS) ? (uint8_t)(((o.wd >> 1) & 7u) | ((o.wd >> 2) & 8u)) : 0;
    const uint8_t set = (uint8_t)(((o.we && running && (is_est_reg(o.wa) || is_ctl_reg(o.wa))) << 3) |
                                  ((o.cnt.rec_valid && any_sat) << 2) |
                                  ((o.dac.moved && o.dac.clamp_y) << 1) |
                                  (o.dac.moved && o.dac.clamp_x));
    c->sticky = (uint8_t)((o.sticky & ~clr) | set);
    if (o.we) write_reg(c, o.wa, o.wd, running);
  }
  c->ra = in->rd_addr;
  c->rd_word = read_reg(&o, o.ra);   /* the RTL splits this mux over two stages */
  c->rd_data = o.rd_word;

  /* blocks */
  uint8_t cnt[MINFLUX_N_CH];
  for (int ch = 0; ch < MINFLUX_N_CH; ch++) {
    cnt[ch] = o.apd[ch].cnt;
    apd_capture_step(&c->apd[ch], in->rst, in->apd_edges[ch]);
  }

  mux_sequencer_in_t si;
  si.start = wr_ctrl && (o.wd & 1u);
  const int running_o = mux_sequencer_running(&o.seq);
  const int ctrl_stop = wr_ctrl && (o.wd & 2u);
  const int rec_end = o.seq.rec && o.agg_last;
  si.stop = (ctrl_stop || o.stop_hold) && (!running_o || o.rec_win || rec_end);
  /* the host watchdog: abort at once, hold idle until the beam is centred (see the RTL) */
  const int wd_req = o.wd_pend && !o.dac.busy && !o.seq.dac_req;
  si.abort = (wr_ctrl && (o.wd & 4u)) || estop || o.wd_pend || o.wd_move;   /* the RTL's wd_hold_reg */
  si.ncycles = o.ncycles;
  /* the controller's patterns and parameters while it drives the run */
  const int pat_pre = o.ctl.mode && o.ctl.state == MINFLUX_CTL_ST_PRELOC;
  const int pat_srch = o.ctl.mode && o.ctl.state == MINFLUX_CTL_ST_SEARCH;
  si.k = (pat_pre || pat_srch) ? 4 : o.k;
  si.delay = o.delay;
  si.gate = pat_srch ? o.ctl.dwell : pat_pre ? o.ctl.pgate : o.gate;
  si.win = o.win;
  si.cx = o.ctl.mode ? o.ctl.cx : o.cx;
  si.cy = o.ctl.mode ? o.ctl.cy : o.cy;
  /* an imaging stage shrinks the pattern by its L shift */
  const unsigned off_sh = track_ctl_stage(&o.ctl) ? track_ctl_shift(&o.ctl) : 0;
  for (int e = 0; e < MINFLUX_K_MAX; e++) {
    const uint32_t w = e == 0 ? (pat_pre ? o.off4 : o.offsets[0])
                              : o.offsets[pat_pre ? MINFLUX_CTL_PRE_BASE + (e & 3) : e];
    si.off_x[e] = (int16_t)fx_shr_floor(fx_sext(w, 16), off_sh);
    si.off_y[e] = (int16_t)fx_shr_floor(fx_sext(w >> 16, 16), off_sh);
  }
  /* The RTL's RAM port gives the entry of the next exposure (o.seq.exp + 1); in a search
   * cycle the generated offset, registered the same way, replaces it. */
  {
    const unsigned a = (o.seq.exp + 1u) & 3u;
    c->srch_rd = (int16_t)(a == 0 ? 0 : a == 1 ? o.ctl.step : a == 2 ? (uint16_t)(o.ctl.step << 1) : o.ctl.step3);
    c->pat_srch_q = (uint8_t)pat_srch;
    if (pat_srch) si.off_x[0] = si.off_y[0] = 0;   /* the first pixel: at the centre */
  }
  si.dac_busy = o.dac.busy && !o.wd_move;   /* the centring move is not the sequencer's */
  si.now = o.ts;
  si.hold = track_ctl_hold(&o.ctl, o.seq.rec && o.agg_last);
  mux_sequencer_step(&c->seq, in->rst, &si);
  if (o.pat_srch_q) {   /* the search offset replaces the RAM's in the sequencer's register */
    c->seq.off_next_x = o.srch_rd;
    c->seq.off_next_y = 0;
  }

  /* aggregation of AGG cycles per record */
  if (in->rst || !running_o) {
    c->agg_cnt = 0;
    c->stop_hold = 0;
    c->rec_win = 0;
  } else {
    if (o.seq.rec) c->agg_cnt = (uint8_t)(o.agg_last ? 0 : o.agg_cnt + 1);
    /* the photon budget: as a CTRL stop (held; it reaches the sequencer at a record end) */
    if (ctrl_stop || o.ph_hit) c->stop_hold = 1;
    if (rec_end) c->rec_win = 1;
    else if (o.seq.gate) c->rec_win = 0;
  }
  /* the budget compare in two registered steps (the RTL compares 12-bit halves: timing),
   * only while running: the count of the last run must not stop the next */
  c->ph_cmp = (uint8_t)(!in->rst && running_o && o.pstop && (o.cnt.run_ovf || photon_counter_run_raw(&o.cnt) >= o.pstop));
  c->ph_hit = (uint8_t)(!in->rst && running_o && o.ph_cmp);
  /* AGG - 1 and RUN_PHOTONS's read value registered once more (the RTL: timing) */
  c->agg_m1 = (uint8_t)((o.agg ? o.agg : 1u) - 1u);
  c->agg_last = (uint8_t)(o.agg_cnt >= o.agg_m1);
  c->run_ph_q = photon_counter_run_ph(&o.cnt);
  c->agg_keep = (uint8_t)(o.agg_cnt != 0);
  photon_counter_step(&c->cnt, in->rst, cnt, o.seq.gate, o.seq.exp, o.agg_keep, rec_end, in->cnt_rd_addr,
                      si.start && !running_o);

  dac_spi_in_t di;
  di.req = o.seq.dac_req || wd_req;
  di.x = wd_req ? 0 : o.seq.x;
  di.y = wd_req ? 0 : o.seq.y;
  di.amp = wd_req ? 0 : o.amp;
  di.xmin = o.xmin;
  di.xmax = o.xmax;
  di.ymin = o.ymin;
  di.ymax = o.ymax;
  di.win_wr = o.we && o.wa >= MINFLUX_REG_SAFE_XMIN && o.wa <= MINFLUX_REG_SAFE_YMAX;
  dac_spi_step(&c->dac, in->rst, &di);
  if (in->rst) {
    c->wd_pend = c->wd_move = c->wd_sticky = 0;
  } else {
    if (in->wdog) c->wd_pend = 1;
    else if (wd_req) c->wd_pend = 0;
    if (wd_req) c->wd_move = 1;
    else if (!o.dac.busy) c->wd_move = 0;
    c->wd_sticky = (uint8_t)(in->wdog || (o.wd_sticky && !(o.we && o.wa == MINFLUX_REG_STATUS && (o.wd & 0x40u))));
  }

  /* the estimate starts the cycle after the record is complete, from the photon counter's
   * channel sums (they hold until the next record's first gate) */
  c->q_valid = (uint8_t)(o.cnt.rec_valid && !in->rst);
  /* the live mLMS: o_valid is high EST_MLMS_LAT cycles after the i_valid cycle */
  c->m_valid = (uint8_t)(!in->rst && o.m_cd == 1);
  c->m_cd = (uint8_t)(o.m_cd ? o.m_cd - 1 : 0);
  if (o.q_valid) {   /* the parameters cannot change while the estimate is in flight */
    /* an imaging stage: the stage's sums so far plus the record, the stage's L and F */
    mlms_regs_t mr = o.mlms_r;
    uint16_t mn[4];
    for (int e = 0; e < 4; e++) mn[e] = o.cnt.nsum[e];
    if (track_ctl_stage(&o.ctl)) {
      for (int e = 0; e < 4; e++) mn[e] = (uint16_t)fx_sat_u((int64_t)o.ctl.acc[e] + o.cnt.nsum[e], 13);
      mr.L = (uint16_t)(o.mlms_r.L >> track_ctl_shift(&o.ctl));
      mr.F = track_ctl_F(&o.ctl);
    }
    mlms_eval(&mr, mn, &c->m_res);
    c->m_cd = MINFLUX_EST_MLMS_LAT - 1;
  }
  if (in->rst) c->m_cd = 0;
  /* the Gaussian 1D MLE of the same counts: o_valid EST_GAUSS_LAT cycles after i_valid */
  c->g_valid = (uint8_t)(!in->rst && o.g_cd == 1);
  c->g_cd = (uint8_t)(o.g_cd ? o.g_cd - 1 : 0);
  if (o.q_valid) {
    const gauss1d_regs_t gr = {o.ctl.pthr, o.est_G};
    gauss1d_eval(&gr, o.cnt.nsum, &c->g_res);
    c->g_cd = MINFLUX_EST_GAUSS_LAT - 1;
  }
  if (in->rst) c->g_cd = 0;

  /* the tracking controller */
  track_ctl_in_t ti;
  ti.we = o.we && is_ctl_reg(o.wa);
  ti.wa = (uint8_t)(o.wa & 15u);
  ti.wd = o.wd;
  ti.start = wr_ctrl && (o.wd & 1u);
  ti.running = running_o;
  ti.rec_end = rec_end;
  for (int e = 0; e < 4; e++) ti.n[e] = o.cnt.nsum[e];
  ti.g_valid = o.g_valid;
  ti.gx = o.g_res.x;
  ti.gy = o.g_res.y;
  ti.g_ok = o.g_res.ok;
  ti.mx = o.est.x;
  ti.my = o.est.y;
  ti.m_ok = o.est.ok;
  track_ctl_step(&c->ctl, in->rst, &ti);

  /* the record's state and estimate: the Gaussian MLE for a pre-localization record, none
   * for a search record, else the mLMS */
  c->rec_st = in->rst ? 0 : rec_end ? o.ctl.state
            : (o.q_valid && track_ctl_send(&o.ctl, o.cnt.nsum)) ? (uint8_t)(o.rec_st | MINFLUX_CTL_ST_LOC) : o.rec_st;
  const int rec_pre = o.rec_st == MINFLUX_CTL_ST_PRELOC, rec_srch = o.rec_st == MINFLUX_CTL_ST_SEARCH;
  const int e_valid = rec_pre ? o.g_valid : o.m_valid;
  c->est_valid = (uint8_t)(!in->rst && e_valid);
  if (e_valid) {
    c->est = rec_pre ? o.g_res : o.m_res;
    if (!rec_pre && rec_srch) c->est.ok = 0;
  }
}
