/* ctl_regs: see ctl_regs.h; docs/controller.md "Registers". */
#include "ctl_regs.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "acq_config.h"
#include "est_regs.h"

/* round(v * scale) as a register field of lo..hi; else the refusal names the key, its
 * value, what it converts to and the key's range that fits (at this scale). */
int ctl_field(const char *key, double v, double scale, const char *formula, long lo, long hi,
              long *out, char *err, size_t n)
{
  const double f = floor(v * scale + 0.5);
  if (!isfinite(f) || f < lo || f > hi) {
    snprintf(err, n, "%s = %g: %s = %.0f must be %ld..%ld (%s %.6g..%.6g)", key, v, formula, f, lo, hi,
             key, lo / scale, hi / scale);
    return -1;
  }
  *out = (long)f;
  return 0;
}

int ctl_to_regs(const struct acq_config *c, const core_config_t *core, ctl_regs_t *o, char *err, size_t n)
{
  const double eod = c->eod_nm_per_lsb, us = MINFLUX_CLK_HZ * 1e-6;
  char e[600];
  long v;
  if (c->k > 4) {
    snprintf(err, n, "k = %d with controller = on: the controller tracks with offset entries 0..k-1 and "
             "pre-localizes with 4..7 (allowed: k = 1..4)", c->k);
    return -1;
  }
  if (c->agg != 1) {
    snprintf(err, n, "agg = %d with controller = on: the controller decides after every record "
             "(allowed: agg = 1)", c->agg);
    return -1;
  }
  /* the raster: n x n pixels (rows scanned in groups of 4: ceil(n/4)*4 per row) */
  const double q = c->search_field_nm / c->search_pixel_nm;
  const double rows = ceil(q - 1e-9 * q);   /* 2.7/0.3 = 9.000000000000002 is 9 pixels, not 10 */
  if (!(rows >= 1 && rows <= 255)) {
    snprintf(err, n, "search_field_nm = %g with search_pixel_nm = %g: ceil(field/pixel) = %.0f pixels must be 1..255",
             c->search_field_nm, c->search_pixel_nm, rows);
    return -1;
  }
  o->n = (uint8_t)rows;
  if (ctl_field("search_pixel_nm", c->search_pixel_nm, 1 / eod, "round(search_pixel_nm/eod_nm_per_lsb) LSB", 1, 32767, &v, err, n))
    return -1;
  o->step = (uint16_t)v;
  const int64_t half = ((int64_t)o->n - 1) * o->step / 2;
  const int64_t ox = core->centre_x - half, oy = core->centre_y - half;
  const int64_t x1 = ox + ((int64_t)(o->n + 3) / 4 * 4 - 1) * o->step, y1 = oy + ((int64_t)o->n - 1) * o->step;
  const int64_t lo_x = core->xmin > -32768 ? core->xmin : -32768, hi_x = core->xmax < 32767 ? core->xmax : 32767;
  const int64_t lo_y = core->ymin > -32768 ? core->ymin : -32768, hi_y = core->ymax < 32767 ? core->ymax : 32767;
  if (ox < lo_x || x1 > hi_x || oy < lo_y || y1 > hi_y) {
    snprintf(err, n, "the search raster (search_field_nm = %g, search_pixel_nm = %g: %u rows of %u pixels, x %.1f..%.1f nm, "
             "y %.1f..%.1f nm) leaves the safe window x %.1f..%.1f nm, y %.1f..%.1f nm (a smaller field or another centre)",
             c->search_field_nm, c->search_pixel_nm, o->n, (o->n + 3) / 4 * 4, ox * eod, x1 * eod, oy * eod, y1 * eod,
             lo_x * eod, hi_x * eod, lo_y * eod, hi_y * eod);
    return -1;
  }
  o->origin_x = (int16_t)ox;
  o->origin_y = (int16_t)oy;
  if (ctl_field("search_dwell_us", c->search_dwell_us, us, "round(search_dwell_us x clock) cycles", 1, 65535, &v, err, n)) return -1;
  o->dwell_cycles = (uint16_t)v;
  o->search_thresh = (uint16_t)c->search_thresh;   /* 1..32767 by the key's range */
  o->act_cycles = (uint16_t)c->act_cycles;
  o->act_every = (uint8_t)c->act_every;
  if (ctl_field("pre_gate_us", c->pre_gate_us, us, "round(pre_gate_us x clock) cycles", 1, 65535, &v, err, n)) return -1;
  o->pre_gate_cycles = (uint16_t)v;
  o->pre_thresh = (uint16_t)c->pre_thresh;
  /* step = estimate (Q11.5 nm) * gain / 2^16: gain = g * 2^(16-5) / eod LSB per nm */
  const double gs = (1 << (MINFLUX_CTL_GAIN_SHIFT - MINFLUX_EST_POS_FRAC)) / eod;
  if (ctl_field("pre_gain", c->pre_gain, gs, "round(pre_gain*2048/eod_nm_per_lsb)", 1, 32767, &v, err, n)) return -1;
  o->pre_gain = (uint16_t)v;
  if (ctl_field("pre_clamp_nm", c->pre_clamp_nm, 1 / eod, "round(pre_clamp_nm/eod_nm_per_lsb) LSB", 1, 32767, &v, err, n))
    return -1;
  o->pre_clamp = (uint16_t)v;
  if (ctl_field("gain", c->gain, gs, "round(gain*2048/eod_nm_per_lsb)", 1, 32767, &v, err, n)) return -1;
  o->gain = (uint16_t)v;
  if (ctl_field("clamp_nm", c->clamp_nm, 1 / eod, "round(clamp_nm/eod_nm_per_lsb) LSB", 1, 32767, &v, err, n)) return -1;
  o->clamp = (uint16_t)v;
  /* imaging: the ratio is the stage-end cfr abort, 0 = off */
  if (ctl_field("loss_ratio", c->loss_ratio, 1 << MINFLUX_CTL_RATIO_FRAC, "round(loss_ratio*256)", acq_is_image(c) ? 0 : 1, 255,
            &v, err, n))
    return -1;
  o->ratio = (uint8_t)v;
  o->window = (uint8_t)c->loss_records;
  o->dark = (uint16_t)c->dark_records;
  /* pre-localization: Gaussian beam at (+h, 0), (-h, 0), (0, +h), (0, -h), h = L/2 */
  if (ctl_field("pre_L_nm", c->pre_L_nm, 0.5 / eod, "round(pre_L_nm/2/eod_nm_per_lsb) LSB", 1, 32767, &v, err, n)) return -1;
  const int16_t h = (int16_t)v;
  const int16_t px[4] = { h, (int16_t)-h, 0, 0 }, py[4] = { 0, 0, h, (int16_t)-h };
  for (int i = 0; i < 4; i++) { o->pre_off_x[i] = px[i]; o->pre_off_y[i] = py[i]; }
  gauss1d_regs_t g;
  if (est_gauss1d_regs(c->pre_L_nm, c->gauss_fwhm_nm, (unsigned)c->pre_thresh, &g, e, sizeof e)) {
    snprintf(err, n, "pre-localization (pre_L_nm = %g, gauss_fwhm_nm = %g): %s", c->pre_L_nm, c->gauss_fwhm_nm, e);
    return -1;
  }
  o->est_G = g.G;
  return 0;
}

static uint32_t pair16(uint32_t lo, uint32_t hi) { return (hi & 0xFFFFu) << 16 | (lo & 0xFFFFu); }

void ctl_reg_writes(const ctl_regs_t *r, ctl_write_t w[CTL_NWRITES])
{
  const ctl_write_t v[CTL_NWRITES] = {
    { MINFLUX_REG_CTL_ORIGIN, pair16((uint16_t)r->origin_x, (uint16_t)r->origin_y), "CTL_ORIGIN" },
    { MINFLUX_REG_CTL_RASTER, (uint32_t)r->n << 16 | r->step, "CTL_RASTER" },
    { MINFLUX_REG_CTL_SEARCH, (uint32_t)r->search_thresh << 16 | r->dwell_cycles, "CTL_SEARCH" },
    { MINFLUX_REG_CTL_ACT, (uint32_t)r->act_every << 16 | r->act_cycles, "CTL_ACT" },
    { MINFLUX_REG_CTL_PRE, (uint32_t)r->pre_thresh << 16 | r->pre_gate_cycles, "CTL_PRE" },
    { MINFLUX_REG_CTL_PRE_GAIN, (uint32_t)r->pre_clamp << 16 | r->pre_gain, "CTL_PRE_GAIN" },
    { MINFLUX_REG_CTL_GAIN, (uint32_t)r->clamp << 16 | r->gain, "CTL_GAIN" },
    { MINFLUX_REG_CTL_LOSS, (uint32_t)r->dark << 16 | (uint32_t)r->window << 8 | r->ratio, "CTL_LOSS" },
    { MINFLUX_OFFSET_ADDR(MINFLUX_CTL_PRE_BASE + 0), pair16((uint16_t)r->pre_off_x[0], (uint16_t)r->pre_off_y[0]), "OFFSET4" },
    { MINFLUX_OFFSET_ADDR(MINFLUX_CTL_PRE_BASE + 1), pair16((uint16_t)r->pre_off_x[1], (uint16_t)r->pre_off_y[1]), "OFFSET5" },
    { MINFLUX_OFFSET_ADDR(MINFLUX_CTL_PRE_BASE + 2), pair16((uint16_t)r->pre_off_x[2], (uint16_t)r->pre_off_y[2]), "OFFSET6" },
    { MINFLUX_OFFSET_ADDR(MINFLUX_CTL_PRE_BASE + 3), pair16((uint16_t)r->pre_off_x[3], (uint16_t)r->pre_off_y[3]), "OFFSET7" },
    { MINFLUX_REG_EST_G, r->est_G, "EST_G" },
  };
  memcpy(w, v, sizeof v);
}
