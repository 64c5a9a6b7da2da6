/* Fuzz target: the acquisition configuration (host/acq_config.c): an INI file through
 * acq_load_ini, then acq_to_regs. Properties beyond "no crash, no sanitizer report":
 *  - a refusal always comes with a message;
 *  - an accepted configuration gives register values the firmware validator accepts, with
 *    every beam position of the pattern inside the safe window (nothing is clamped) and a
 *    multiplex period that matches the reported rate;
 *  - the configuration as the raw header stores it (acq_each: key, value text) reads back
 *    through acq_set into the identical configuration (so `minflux decode` sees what
 *    `minflux acquire` used). */
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
#undef SAME

  const double duration = size ? 0.001 * (1 + data[size - 1]) : 0.5;
  acq_regs g;
  err[0] = 0;
  if (acq_to_regs(&c, duration, &g, err, sizeof err)) { FZ_CHECK(err[0], "acq_to_regs refused without a message"); return 0; }
  const core_config_t *cc = &g.core;
  char e2[512];
  FZ_CHECK(core_config_validate(cc, e2, sizeof e2) == 0, "accepted registers fail validation: %s", e2);
  FZ_CHECK(cc->k == (unsigned)c.k && cc->ncycles >= 1, "k %u ncycles %u", cc->k, cc->ncycles);
  for (unsigned i = 0; i < cc->k; i++) {
    const int32_t x = cc->centre_x + cc->off_x[i], y = cc->centre_y + cc->off_y[i];
    FZ_CHECK(x >= cc->xmin && x <= cc->xmax && y >= cc->ymin && y <= cc->ymax && x >= INT16_MIN && x <= INT16_MAX &&
             y >= INT16_MIN && y <= INT16_MAX, "exposure %u at (%d, %d) outside the window", i, x, y);
  }
  const uint64_t period = core_config_period_cycles(cc);
  FZ_CHECK(fabs(g.cycle_hz_actual * (double)period - MINFLUX_CLK_HZ) < 1e-3, "rate %.9g Hz, period %llu",
           g.cycle_hz_actual, (unsigned long long)period);
  FZ_CHECK(fabs((double)period - MINFLUX_CLK_HZ / c.cycle_hz) <= 0.5 + 1e-9,
           "period %llu cycles for cycle_hz %.17g", (unsigned long long)period, c.cycle_hz);
  return 0;
}
