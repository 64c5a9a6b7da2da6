/* img_regs: see img_regs.h; docs/imaging.md "Keys". */
#include "img_regs.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "acq_config.h"
#include "est_regs.h"

int img_to_regs(const struct acq_config *c, const core_config_t *core, const mlms_regs_t *est,
                const ctl_regs_t *ctl, img_regs_t *o, char *err, size_t n)
{
  memset(o, 0, sizeof *o);
  const int last = c->stages - 1;   /* 0..2 by the key's range */
  o->last = (uint8_t)last;
  o->mode = 1u | 2u | (uint32_t)last << 2;
  char key[32], e[600];
  long v;
  for (int s = 0; s <= last; s++) {
    const double Ls = c->stage_L_nm[s] > 0 ? c->stage_L_nm[s] : c->L_nm / (1 << s);
    int shift = -1;
    for (int q = 0; q <= 3 && shift < 0; q++)
      if (fabs(Ls * (1 << q) - c->L_nm) <= 1e-9 * c->L_nm) shift = q;
    snprintf(key, sizeof key, "stage%d_L_nm", s);
    if (shift < 0) {
      snprintf(err, n, "%s = %g: CTL_ISTG%d[15:14] shifts the pattern and L by 0..3, so it must be L_nm/2^shift "
               "(allowed: %g, %g, %g, %g nm with L_nm = %g)", key, Ls, s, c->L_nm, c->L_nm / 2, c->L_nm / 4, c->L_nm / 8, c->L_nm);
      return -1;
    }
    o->shift[s] = (uint8_t)shift;
    o->L_nm[s] = Ls;
    /* EST_F of the stage: est_regs' conversion at L_s (the betas and threshold are common) */
    const double beta[3] = { c->beta0, c->beta1, c->beta2 };
    mlms_regs_t m;
    if (est_mlms_regs(Ls, c->fwhm_nm, c->est_k, beta, (unsigned)c->thresh, &m, e, sizeof e)) {
      snprintf(err, n, "%s = %g: EST_F of the stage (CTL_ISTG%d[31:16]): %s", key, Ls, s, e);
      return -1;
    }
    o->F[s] = m.F;
    if (c->stage_photons[s] < est->thresh) {
      snprintf(err, n, "stage%d_photons = %d: below thresh = %g, the stage-end estimate would not be valid "
               "(CTL_ISTG%d[13:0] must be %u..16383)", s, c->stage_photons[s], c->thresh, s, est->thresh ? est->thresh : 1u);
      return -1;
    }
    o->limit[s] = (uint16_t)c->stage_photons[s];
  }
  for (int s = last + 1; s < MINFLUX_CTL_STAGES; s++) {   /* not used: the last stage's word */
    o->limit[s] = o->limit[last]; o->shift[s] = o->shift[last]; o->F[s] = o->F[last]; o->L_nm[s] = o->L_nm[last];
  }
  /* 405 nm: the firmware low-passes N of every search record (4 pixels of DELAY + dwell,
   * the window and the start cycle); a rate becomes counts per such record, UQ12.4 */
  o->search_record_cycles = 4u * (core->delay_cycles + ctl->dwell_cycles) + core->win_cycles + 1u;
  const double rec_s = o->search_record_cycles / (double)MINFLUX_CLK_HZ;
  char f[160];
  snprintf(f, sizeof f, "round(act_rate_khz x %.2f us search record x 16) = CTL_IACT[15:0]", rec_s * 1e6);
  if (ctl_field("act_rate_khz", c->act_rate_khz, 1e3 * rec_s * (1 << MINFLUX_CTL_LP_FRAC), f, 0, 65535, &v, err, n)) return -1;
  o->act_thr = (uint16_t)v;
  o->act_shift = (uint8_t)c->act_lp_shift;   /* 0..15 by the key's range */
  snprintf(f, sizeof f, "round(act_on_ms / %.2f us search record) = CTL_IACT_T[15:0]", rec_s * 1e6);
  if (ctl_field("act_on_ms", c->act_on_ms, 1e-3 / rec_s, f, 0, 65535, &v, err, n)) return -1;
  o->act_on = (uint16_t)v;
  snprintf(f, sizeof f, "round(act_off_ms / %.2f us search record) = CTL_IACT_T[31:16]", rec_s * 1e6);
  if (ctl_field("act_off_ms", c->act_off_ms, 1e-3 / rec_s, f, 0, 65535, &v, err, n)) return -1;
  o->act_off = (uint16_t)v;
  o->dark = (uint16_t)c->dark_records;       /* 0..65535 by the key's range */
  o->bright = (uint8_t)c->bright_records;    /* 0..255 */
  return 0;
}

void img_reg_writes(const img_regs_t *r, ctl_write_t w[IMG_NWRITES])
{
  uint32_t stg[3];
  for (int s = 0; s < 3; s++) stg[s] = (uint32_t)r->F[s] << 16 | (uint32_t)(r->shift[s] & 3u) << 14 | (r->limit[s] & 0x3FFFu);
  const ctl_write_t v[IMG_NWRITES] = {
    { MINFLUX_REG_CTL_IACT, (uint32_t)(r->act_shift & 15u) << 16 | r->act_thr, "CTL_IACT" },
    { MINFLUX_REG_CTL_IACT_T, (uint32_t)r->act_off << 16 | r->act_on, "CTL_IACT_T" },
    { MINFLUX_REG_CTL_IABORT, (uint32_t)r->bright << 16 | r->dark, "CTL_IABORT" },
    { MINFLUX_REG_CTL_ISTG0, stg[0], "CTL_ISTG0" },
    { MINFLUX_REG_CTL_ISTG1, stg[1], "CTL_ISTG1" },
    { MINFLUX_REG_CTL_ISTG2, stg[2], "CTL_ISTG2" },
  };
  memcpy(w, v, sizeof v);
}
