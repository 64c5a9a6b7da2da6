/* Legal ranges of the foundation configuration; see core_config.h. */
#include <stdio.h>
#include <string.h>
#include "core_config.h"
#include "dac_spi.h"

unsigned core_config_min_delay(void)
{
  /* request cycle + DAC busy + 2 cycles until the sequencer sees it idle */
  return dac_spi_move_cycles() + 3;
}

uint64_t core_config_period_cycles(const core_config_t *c)
{
  return (uint64_t)c->k * (c->delay_cycles + c->gate_cycles) + c->win_cycles + 1;
}

static void defaults(core_config_t *c)
{
  memset(c, 0, sizeof *c);
  c->xmin = c->ymin = INT16_MIN;
  c->xmax = c->ymax = INT16_MAX;
  c->agg = 1;
}

void core_config_tracking_preset(core_config_t *c)
{
  defaults(c);
  c->k = 4;
  c->delay_cycles = 355;   /* 7.40 us */
  c->gate_cycles = 1114;   /* 23.21 us */
  c->win_cycles = 95;      /* window 96 cycles = 2.00 us incl. the START cycle */
}

void core_config_imaging_preset(core_config_t *c)
{
  defaults(c);
  c->k = 4;
  c->delay_cycles = 653;   /* 13.60 us */
  c->gate_cycles = 653;    /* 13.60 us */
  c->win_cycles = 775;     /* period 6000 cycles = 125.0 us */
}

#define FAIL(...) do { snprintf(err, err_len, __VA_ARGS__); return -1; } while (0)

int core_config_validate(const core_config_t *c, char *err, size_t err_len)
{
  if (c->k < 1 || c->k > MINFLUX_K_MAX)
    FAIL("K = %u: exposures per cycle must be 1..%d", c->k, MINFLUX_K_MAX);
  if (c->delay_cycles < core_config_min_delay() || c->delay_cycles > 65535)
    FAIL("DELAY = %u cycles: gate delay must be %u..65535 cycles at 48 MHz: the beam move "
         "(%u cycles of DAC frames) must finish first", c->delay_cycles, core_config_min_delay(),
         dac_spi_move_cycles());
  if (c->gate_cycles < 1 || c->gate_cycles > 65535)
    FAIL("GATE = %u cycles: detection gate must be 1..65535 cycles", c->gate_cycles);
  if (c->win_cycles < 1 || c->win_cycles > 65535)
    FAIL("WIN = %u cycles: localization window must be 1..65535 cycles", c->win_cycles);
  const struct { const char *name; int32_t lo, hi; } win[2] = {
      {"x", c->xmin, c->xmax}, {"y", c->ymin, c->ymax}};
  for (int a = 0; a < 2; a++) {
    if (win[a].lo < INT16_MIN || win[a].hi > INT16_MAX)
      FAIL("safe window %s = [%d, %d]: must lie within the DAC range [-32768, 32767] LSB", win[a].name,
           win[a].lo, win[a].hi);
    if (win[a].lo > win[a].hi)
      FAIL("safe window %s = [%d, %d]: minimum must not exceed maximum", win[a].name, win[a].lo, win[a].hi);
  }
  if (c->centre_x < c->xmin || c->centre_x > c->xmax || c->centre_y < c->ymin || c->centre_y > c->ymax)
    FAIL("centre (%d, %d) LSB: must lie inside the safe window x [%d, %d], y [%d, %d]", c->centre_x,
         c->centre_y, c->xmin, c->xmax, c->ymin, c->ymax);
  for (unsigned e = 0; e < c->k; e++) {
    if (c->off_x[e] < INT16_MIN || c->off_x[e] > INT16_MAX || c->off_y[e] < INT16_MIN || c->off_y[e] > INT16_MAX)
      FAIL("offset %u = (%d, %d) LSB: offsets must be -32768..32767", e, c->off_x[e], c->off_y[e]);
    const int32_t x = c->centre_x + c->off_x[e], y = c->centre_y + c->off_y[e];
    if (x < c->xmin || x > c->xmax || y < c->ymin || y > c->ymax)
      FAIL("offset %u: beam at (%d, %d) LSB leaves the safe window x [%d, %d], y [%d, %d] (it would be clamped)",
           e, x, y, c->xmin, c->xmax, c->ymin, c->ymax);
  }
  if (c->laser_amp > 65535)
    FAIL("LASER_AMP = %u: must be 0..65535", c->laser_amp);
  if (c->agg < 1 || c->agg > 255)
    FAIL("AGG = %u: cycles per record must be 1..255", c->agg);
  if (c->photon_stop > (1u << MINFLUX_RUN_PH_W) - 1u)
    FAIL("PHOTON_STOP = %u: a run's photon budget must be 0..%u", c->photon_stop, (1u << MINFLUX_RUN_PH_W) - 1u);
  if (c->ncycles % c->agg)
    FAIL("NCYCLES = %u is not a multiple of AGG = %u: the last record would be incomplete", c->ncycles, c->agg);
  return 0;
}
