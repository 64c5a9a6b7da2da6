/* Check unit tests of the foundation C models: the configuration validator and the
 * cycle-exact core model (timing, counts, safety), independent of the RTL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core_config.h"
#include "minflux_core.h"

/* ---- validator ---- */

static void expect_refused(const core_config_t *c, const char *needle)
{
  char err[256] = "";
  ck_assert_int_eq(core_config_validate(c, err, sizeof err), -1);
  ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

START_TEST(presets_are_legal_and_have_the_seed_timing)
{
  core_config_t c;
  char err[256] = "";
  core_config_tracking_preset(&c);
  ck_assert_msg(core_config_validate(&c, err, sizeof err) == 0, "%s", err);
  /* 4 x (7.40 + 23.21 us) + 2.00 us window at 48 MHz */
  ck_assert_uint_eq(core_config_period_cycles(&c), 4 * (355 + 1114) + 96);
  core_config_imaging_preset(&c);
  ck_assert_msg(core_config_validate(&c, err, sizeof err) == 0, "%s", err);
  ck_assert_uint_eq(core_config_period_cycles(&c), 6000);   /* 125 us */
}
END_TEST

START_TEST(illegal_fields_are_named_with_their_range)
{
  core_config_t c;
  core_config_tracking_preset(&c);
  c.k = 0; expect_refused(&c, "K = 0");
  c.k = 9; expect_refused(&c, "1..8");
  core_config_tracking_preset(&c);
  c.delay_cycles = core_config_min_delay() - 1; expect_refused(&c, "DELAY");
  c.delay_cycles = core_config_min_delay();
  char err[256];
  ck_assert_int_eq(core_config_validate(&c, err, sizeof err), 0);
  c.gate_cycles = 0; expect_refused(&c, "GATE = 0");
  core_config_tracking_preset(&c);
  c.win_cycles = 70000; expect_refused(&c, "WIN = 70000");
  core_config_tracking_preset(&c);
  c.xmin = 100; c.xmax = -100; c.centre_x = 0; expect_refused(&c, "minimum must not exceed maximum");
  core_config_tracking_preset(&c);
  c.xmin = -1000; c.xmax = 1000; c.off_x[2] = 1200; expect_refused(&c, "offset 2");
  core_config_tracking_preset(&c);
  c.ymin = -10; c.ymax = 10; c.centre_y = 50; expect_refused(&c, "centre");
  core_config_tracking_preset(&c);
  c.xmin = -40000; expect_refused(&c, "DAC range");
  core_config_tracking_preset(&c);
  c.agg = 0; expect_refused(&c, "AGG = 0");
  c.agg = 256; expect_refused(&c, "1..255");
  c.agg = 3; c.ncycles = 10; expect_refused(&c, "not a multiple of AGG = 3");
  c.ncycles = 9;
  ck_assert_msg(core_config_validate(&c, err, sizeof err) == 0, "%s", err);
  c.photon_stop = 1u << MINFLUX_RUN_PH_W; expect_refused(&c, "PHOTON_STOP = 16777216: a run's photon budget must be 0..16777215");
  c.photon_stop = (1u << MINFLUX_RUN_PH_W) - 1u;
  ck_assert_msg(core_config_validate(&c, err, sizeof err) == 0, "%s", err);
}
END_TEST

/* ---- core model ---- */

typedef struct {
  minflux_core_t m;
  uint64_t cycle;
} run_t;

static void step(run_t *r, const minflux_core_in_t *in)
{
  minflux_core_step(&r->m, in);
  r->cycle++;
}

static void write_reg(run_t *r, uint8_t addr, uint32_t data)
{
  minflux_core_in_t in;
  memset(&in, 0, sizeof in);
  in.wr_en = 1;
  in.wr_addr = addr;
  in.wr_data = data;
  step(r, &in);
}

static void load_config(run_t *r, const core_config_t *c)
{
  minflux_core_in_t in;
  memset(&in, 0, sizeof in);
  in.rst = 1;
  minflux_core_init(&r->m);
  r->cycle = 0;
  for (int i = 0; i < 3; i++) step(r, &in);
  write_reg(r, MINFLUX_REG_K, c->k);
  write_reg(r, MINFLUX_REG_DELAY, c->delay_cycles);
  write_reg(r, MINFLUX_REG_GATE, c->gate_cycles);
  write_reg(r, MINFLUX_REG_WIN, c->win_cycles);
  write_reg(r, MINFLUX_REG_NCYCLES, c->ncycles);
  write_reg(r, MINFLUX_REG_SAFE_XMIN, (uint16_t)c->xmin);
  write_reg(r, MINFLUX_REG_SAFE_XMAX, (uint16_t)c->xmax);
  write_reg(r, MINFLUX_REG_SAFE_YMIN, (uint16_t)c->ymin);
  write_reg(r, MINFLUX_REG_SAFE_YMAX, (uint16_t)c->ymax);
  for (unsigned e = 0; e < MINFLUX_K_MAX; e++)
    write_reg(r, (uint8_t)(MINFLUX_REG_OFFSET0 + e), ((uint32_t)(uint16_t)c->off_y[e] << 16) | (uint16_t)c->off_x[e]);
}

/* Three tracking cycles with one APD pulse every 7 clock cycles on channel 0 and every
 * 3rd cycle on channel 1: each record holds exactly the pulses that arrived while the
 * gate was open, the period is exact, and the laser is never on during a DAC frame. */
START_TEST(tracking_cycles_count_exactly_the_pulses_in_the_gate)
{
  core_config_t c;
  core_config_tracking_preset(&c);
  c.ncycles = 3;
  c.off_x[1] = 100; c.off_y[2] = -100; c.off_x[3] = -50;
  run_t r;
  load_config(&r, &c);
  write_reg(&r, MINFLUX_REG_CTRL, 1);
  unsigned truth[MINFLUX_K_MAX][2] = {{0}};
  unsigned expo = 0, records = 0;
  uint64_t first_req = 0, last_first_req = 0;
  int prev_gate = 0;
  for (uint64_t n = 0; n < 30000 && records < 3; n++) {
    minflux_core_in_t in;
    memset(&in, 0, sizeof in);
    in.apd_edges[0] = (uint8_t)(r.cycle % 7 == 0);
    in.apd_edges[1] = (uint8_t)(r.cycle % 3 == 0);
    const int gate_now = r.m.seq.gate;    /* pin level while these pulses arrive */
    for (int ch = 0; ch < 2; ch++)
      if (gate_now) truth[expo][ch] += in.apd_edges[ch];
    step(&r, &in);
    ck_assert_msg(!(r.m.seq.gate && (r.m.dac.busy || !r.m.dac.sync_n)), "laser on during a move at cycle %llu",
                  (unsigned long long)r.cycle);
    if (r.m.seq.dac_req && r.m.seq.exp == 0) {
      if (!first_req) first_req = r.cycle;
      last_first_req = r.cycle;
    }
    if (prev_gate && !r.m.seq.gate) expo++;
    prev_gate = r.m.seq.gate;
    if (r.m.cnt.rec_valid) {
      for (unsigned e = 0; e < 4; e++)
        for (int ch = 0; ch < 2; ch++)
          ck_assert_msg(r.m.cnt.bank[e][ch] == truth[e][ch], "cycle %u exposure %u ch %d: %u counted, %u true",
                        records, e, ch, r.m.cnt.bank[e][ch], truth[e][ch]);
      for (unsigned e = 0; e < 4; e++)   /* the estimator's channel sums */
        ck_assert_uint_eq(r.m.cnt.nsum[e], truth[e][0] + truth[e][1]);
      records++;
      expo = 0;
      memset(truth, 0, sizeof truth);
    }
  }
  ck_assert_uint_eq(records, 3);
  ck_assert_uint_eq(last_first_req - first_req, 2 * core_config_period_cycles(&c));
  ck_assert_uint_eq(r.m.seq.cycles_done, 3);
}
END_TEST

/* A DELAY below the legal minimum is defined: the gate opens when the move is done,
 * exactly core_config_min_delay() cycles after the move request. */
START_TEST(delay_shorter_than_the_move_waits_for_the_dac)
{
  const unsigned delays[2] = {core_config_min_delay(), 5};
  for (int i = 0; i < 2; i++) {
    core_config_t c;
    core_config_tracking_preset(&c);
    c.delay_cycles = delays[i];
    c.ncycles = 1;
    run_t r;
    load_config(&r, &c);
    write_reg(&r, MINFLUX_REG_CTRL, 1);
    uint64_t req = 0, gate = 0;
    for (int n = 0; n < 2000 && !gate; n++) {
      minflux_core_in_t in;
      memset(&in, 0, sizeof in);
      step(&r, &in);
      if (r.m.seq.dac_req && !req) req = r.cycle;
      if (r.m.seq.gate && !gate) gate = r.cycle;
    }
    ck_assert_uint_eq(gate - req, core_config_min_delay());
  }
}
END_TEST

/* The emergency stop turns the laser off within 3 cycles and holds the sequencer idle. */
START_TEST(emergency_stop_blanks_the_laser)
{
  core_config_t c;
  core_config_tracking_preset(&c);
  run_t r;
  load_config(&r, &c);
  write_reg(&r, MINFLUX_REG_CTRL, 1);
  minflux_core_in_t in;
  memset(&in, 0, sizeof in);
  while (!r.m.seq.gate) step(&r, &in);
  in.estop = 1;
  for (int i = 0; i < 3; i++) step(&r, &in);
  ck_assert_int_eq(r.m.seq.gate, 0);
  ck_assert_int_eq(mux_sequencer_running(&r.m.seq), 0);
  write_reg(&r, MINFLUX_REG_CTRL, 1);           /* start is refused while the stop is active */
  for (int i = 0; i < 500; i++) step(&r, &in);
  ck_assert_int_eq(mux_sequencer_running(&r.m.seq), 0);
}
END_TEST

static Suite *core_suite(void)
{
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, presets_are_legal_and_have_the_seed_timing);
  tcase_add_test(tc, illegal_fields_are_named_with_their_range);
  tcase_add_test(tc, tracking_cycles_count_exactly_the_pulses_in_the_gate);
  tcase_add_test(tc, delay_shorter_than_the_move_waits_for_the_dac);
  tcase_add_test(tc, emergency_stop_blanks_the_laser);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(core_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
