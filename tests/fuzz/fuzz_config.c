/* Fuzz target: the acquisition configuration (host/acq_config.c): an INI file through
 * acq_load_ini, then acq_to_regs. Properties beyond "no crash, no sanitizer report":
 *  - a refusal always comes with a message;
 *  - an accepted configuration gives register values the firmware validator accepts, with
 *    every beam position of the pattern inside the safe window (nothing is clamped) and a
 *    multiplex period that matches the reported rate;
 *  - the configuration as the raw header stores it (acq_each: key, value text) reads back
 *    through acq_set into the identical configuration (so `minflux decode` sees what
 *    `minflux acquire` used);
 *  - with controller = on: k <= 4, agg = 1, the whole search raster inside the safe window and
 *    every controller field in its range;
 *  - with mode = bayes: one exposure per cycle (K 1, NCYCLES 0, AGG 1, LASER_AMP 0) and the
 *    Bayesian registers in their ranges. */
#include <math.h>
#include <string.h>
#include "fuzz_util.h"
#include "acq_config.h"
#include "regmap.h"

struct replay { acq_config *c; int failed; char err[1200]; };

static void replay_key(void *ctx, const char *key, const char *val)
{
  struct replay *r = ctx;
  if (!r->failed && acq_set(r->c, key, val, r->err, sizeof r->err)) r->failed = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16) return 0;
  char path[64], err[1200];
  int fd = fz_memfd(data, size, path, sizeof path);
  acq_config c;
  acq_defaults(&c);
  err[0] = 0;
  const int bad = acq_load_ini(&c, path, err, sizeof err);
  close(fd);
  if (bad) { FZ_CHECK(err[0], "acq_load_ini refused without a message"); return 0; }

  acq_config back;
  acq_defaults(&back);
  struct replay r = { &back, 0, "" };
  acq_each(&c, replay_key, &r);
  FZ_CHECK(!r.failed, "a stored key does not read back: %s", r.err);
  FZ_CHECK(!strcmp(back.mode, c.mode) && back.k == c.k && back.est_k == c.est_k, "mode/k/est_k differ after replay");
#define SAME(f) FZ_CHECK(back.f == c.f || (isnan(back.f) && isnan(c.f)), #f " %.17g reads back as %.17g", c.f, back.f)
  SAME(cycle_hz); SAME(delay_us); SAME(window_us); SAME(L_nm); SAME(fwhm_nm); SAME(eod_nm_per_lsb);
  SAME(centre_x_nm); SAME(centre_y_nm); SAME(safe_x_min_nm); SAME(safe_x_max_nm); SAME(safe_y_min_nm);
  SAME(safe_y_max_nm); SAME(laser_amp); SAME(beta0); SAME(beta1); SAME(beta2); SAME(thresh);
  SAME(search_field_nm); SAME(search_pixel_nm); SAME(search_dwell_us); SAME(pre_L_nm); SAME(pre_gate_us);
  SAME(gauss_fwhm_nm); SAME(pre_gain); SAME(pre_clamp_nm); SAME(gain); SAME(clamp_nm); SAME(loss_ratio);
  FZ_CHECK(back.controller == c.controller && back.search_thresh == c.search_thresh && back.act_cycles == c.act_cycles &&
           back.act_every == c.act_every && back.pre_thresh == c.pre_thresh && back.loss_records == c.loss_records &&
           back.dark_records == c.dark_records, "controller integer keys differ after replay");
  SAME(bayes_mu); SAME(bayes_b); SAME(bayes_s_nm); SAME(bayes_sigma0_nm); SAME(bayes_std_stop_nm); SAME(bayes_eta_per_code);
  SAME(bayes_gate_us);
  FZ_CHECK(back.bayes_photons == c.bayes_photons && back.bayes_amp_max == c.bayes_amp_max && back.bayes_seed == c.bayes_seed &&
           !strcmp(back.bayes_dtable, c.bayes_dtable), "bayes integer or path keys differ after replay");
#undef SAME

  const double duration = size ? 0.001 * (1 + data[size - 1]) : 0.5;
  acq_regs g;
  err[0] = 0;
  if (acq_to_regs(&c, duration, &g, err, sizeof err)) { FZ_CHECK(err[0], "acq_to_regs refused without a message"); return 0; }
  const core_config_t *cc = &g.core;
  char e2[512];
  FZ_CHECK(core_config_validate(cc, e2, sizeof e2) == 0, "accepted registers fail validation: %s", e2);
  if (acq_is_bayes(&c)) {   /* the block places the beam: one exposure per cycle, the block's own laser code */
    const bayes_regs_t *b = &g.bayes;
    FZ_CHECK(cc->k == 1 && cc->ncycles == 0 && cc->agg == 1 && cc->laser_amp == 0, "bayes: k %u ncycles %u agg %u amp %u",
             cc->k, cc->ncycles, cc->agg, cc->laser_amp);
    FZ_CHECK(b->h0 >= 16 && b->prior_a >= 64 && b->inv_s >= 16384 && b->km >= 256 && b->mu >= 256 && b->amp_max >= 1 &&
             b->b32 >= 16384 && b->amp_max <= c.bayes_amp_max, "a Bayesian register out of its range");
    FZ_CHECK(cc->centre_x >= cc->xmin && cc->centre_x <= cc->xmax && cc->centre_y >= cc->ymin && cc->centre_y <= cc->ymax,
             "bayes: the prior centre outside the window");
    return 0;
  }
  FZ_CHECK(cc->k == (unsigned)c.k && cc->ncycles >= 1, "k %u ncycles %u", cc->k, cc->ncycles);
  for (unsigned i = 0; i < cc->k; i++) {
    const int32_t x = cc->centre_x + cc->off_x[i], y = cc->centre_y + cc->off_y[i];
    FZ_CHECK(x >= cc->xmin && x <= cc->xmax && y >= cc->ymin && y <= cc->ymax && x >= INT16_MIN && x <= INT16_MAX &&
             y >= INT16_MIN && y <= INT16_MAX, "exposure %u at (%d, %d) outside the window", i, x, y);
  }
  if (c.controller) {   /* the whole raster (rows of ceil(n/4)*4 pixels, n rows) inside the safe window */
    const ctl_regs_t *t = &g.ctl;
    const int64_t x1 = t->origin_x + (int64_t)((t->n + 3) / 4 * 4 - 1) * t->step, y1 = t->origin_y + (int64_t)(t->n - 1) * t->step;
    FZ_CHECK(cc->k <= 4 && cc->agg == 1 && t->n >= 1 && t->step >= 1 && t->step <= 32767, "k %u agg %u n %u step %u", cc->k,
             cc->agg, t->n, t->step);
    FZ_CHECK(t->origin_x >= cc->xmin && x1 <= cc->xmax && t->origin_y >= cc->ymin && y1 <= cc->ymax,
             "raster x %d..%lld y %d..%lld outside the window", t->origin_x, (long long)x1, t->origin_y, (long long)y1);
    FZ_CHECK(t->gain >= 1 && t->gain <= 32767 && t->pre_gain >= 1 && t->pre_gain <= 32767 && (t->ratio >= 1 || acq_is_image(&c)) &&
             t->clamp >= 1 && t->clamp <= 32767 && t->pre_clamp >= 1 && t->pre_clamp <= 32767 && t->dwell_cycles >= 1 &&
             t->pre_gate_cycles >= 1, "a controller field out of its range");
  }
  const uint64_t period = core_config_period_cycles(cc);
  FZ_CHECK(fabs(g.cycle_hz_actual * (double)period - MINFLUX_CLK_HZ) < 1e-3, "rate %.9g Hz, period %llu",
           g.cycle_hz_actual, (unsigned long long)period);
  FZ_CHECK(fabs((double)period - MINFLUX_CLK_HZ / c.cycle_hz) <= 0.5 + 1e-9,
           "period %llu cycles for cycle_hz %.17g", (unsigned long long)period, c.cycle_hz);
  return 0;
}
