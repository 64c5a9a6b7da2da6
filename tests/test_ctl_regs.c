/* test_ctl_regs: the tracking controller's acquisition keys -> register values
 * (host/ctl_regs.c, hls-c/regmap_ctl.h), computed by hand for the defaults of
 * docs/controller.md, the refusals (one message naming the key, its value and the range),
 * the on/off key, and the [acquire] section of scenario files (host and virtual board). */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "acq_config.h"
#include "ctl_regs.h"
#include "regmap.h"
#include "scenario.h"

/* defaults + controller = on, converted; returns acq_to_regs' result */
static int convert(acq_config *c, acq_regs *r, char *err, size_t n)
{
  err[0] = 0;
  return acq_to_regs(c, 0.1, r, err, n);
}

static void on_defaults(acq_config *c)
{
  char err[256];
  acq_defaults(c);
  ck_assert_int_eq(acq_set(c, "controller", "on", err, sizeof err), 0);
}

START_TEST(test_defaults_by_hand)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  on_defaults(&c);
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  const ctl_regs_t *g = &r.ctl;
  /* eod_nm_per_lsb = 0.1 nm, clock 48 MHz:
   * n = ceil(1900 / 127) = ceil(14.96) = 15 rows of ceil(15/4)*4 = 16 pixels;
   * step = round(127 / 0.1) = 1270 LSB;
   * origin = 0 - (15 - 1) * 1270 / 2 = -8890 LSB (-889 nm) in x and y; the last pixel
   *   x = -8890 + 15 * 1270 = 10160 LSB (1016 nm), y = -8890 + 14 * 1270 = 8890 LSB,
   *   inside the safe window +-30000 LSB */
  ck_assert_int_eq(g->n, 15);
  ck_assert_int_eq(g->step, 1270);
  ck_assert_int_eq(g->origin_x, -8890);
  ck_assert_int_eq(g->origin_y, -8890);
  /* dwell = pre gate = round(50 us * 48 MHz) = 2400 cycles; thresholds 15 and 20 */
  ck_assert_int_eq(g->dwell_cycles, 2400);
  ck_assert_int_eq(g->search_thresh, 15);
  ck_assert_int_eq(g->pre_gate_cycles, 2400);
  ck_assert_int_eq(g->pre_thresh, 20);
  ck_assert_int_eq(g->act_cycles, 4);
  ck_assert_int_eq(g->act_every, 0);
  /* gains: round(g * 2048 / 0.1): pre_gain 1.0 -> 20480, gain 0.5 -> 10240;
   * clamps round(nm / 0.1): 300 nm -> 3000 LSB, 50 nm -> 500 LSB */
  ck_assert_int_eq(g->pre_gain, 20480);
  ck_assert_int_eq(g->pre_clamp, 3000);
  ck_assert_int_eq(g->gain, 10240);
  ck_assert_int_eq(g->clamp, 500);
  /* loss: ratio round(0.24 * 256) = round(61.44) = 61, window 32, dark 40 */
  ck_assert_int_eq(g->ratio, 61);
  ck_assert_int_eq(g->window, 32);
  ck_assert_int_eq(g->dark, 40);
  /* pre-localization: h = round(300 / 2 / 0.1) = 1500 LSB at (+h,0), (-h,0), (0,+h), (0,-h);
   * EST_G = 320^2 / (8 ln2 * 300) = 102400 / 1663.553 = 61.555 nm -> round(61.555 * 64)
   * = round(3939.52) = 3940 (UQ10.6) */
  const int16_t px[4] = { 1500, -1500, 0, 0 }, py[4] = { 0, 0, 1500, -1500 };
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(g->pre_off_x[i], px[i]);
    ck_assert_int_eq(g->pre_off_y[i], py[i]);
  }
  ck_assert_int_eq(g->est_G, 3940);

  /* the register words in write order (regmap_ctl.h field layout) */
  const uint32_t want[CTL_NWRITES][2] = {
    { 0x51, 0xDD46DD46u },   /* CTL_ORIGIN: y -8890 = 0xDD46 in [31:16], x in [15:0] */
    { 0x52, 0x000F04F6u },   /* CTL_RASTER: n 15 in [23:16], step 1270 = 0x4F6 */
    { 0x53, 0x000F0960u },   /* CTL_SEARCH: threshold 15 in [30:16], dwell 2400 = 0x960 */
    { 0x54, 0x00000004u },   /* CTL_ACT: every 0 in [23:16], 4 cycles */
    { 0x55, 0x00140960u },   /* CTL_PRE: threshold 20, gate 2400 */
    { 0x56, 0x0BB85000u },   /* CTL_PRE_GAIN: clamp 3000 = 0xBB8, gain 20480 = 0x5000 */
    { 0x57, 0x01F42800u },   /* CTL_GAIN: clamp 500 = 0x1F4, gain 10240 = 0x2800 */
    { 0x58, 0x0028203Du },   /* CTL_LOSS: dark 40 = 0x28, window 32 = 0x20, ratio 61 = 0x3D */
    { 0x24, 0x000005DCu },   /* offset entry 4: (+1500, 0) */
    { 0x25, 0x0000FA24u },   /* entry 5: (-1500, 0) */
    { 0x26, 0x05DC0000u },   /* entry 6: (0, +1500) */
    { 0x27, 0xFA240000u },   /* entry 7: (0, -1500) */
    { 0x47, 0x00000F64u },   /* EST_G 3940 */
  };
  ctl_write_t w[CTL_NWRITES];
  ctl_reg_writes(g, w);
  for (int i = 0; i < CTL_NWRITES; i++) {
    ck_assert_msg(w[i].addr == want[i][0] && w[i].value == want[i][1], "write %d (%s): 0x%02X = 0x%08X, want 0x%02X = 0x%08X",
                  i, w[i].name, w[i].addr, w[i].value, want[i][0], want[i][1]);
  }
  ck_assert_str_eq(w[0].name, "CTL_ORIGIN");
  ck_assert_str_eq(w[8].name, "OFFSET4");
  ck_assert_str_eq(w[12].name, "EST_G");
  ck_assert_int_eq(MINFLUX_REG_CTL_MODE, 0x50);
  ck_assert_int_eq(MINFLUX_OFFSET_ADDR(MINFLUX_CTL_PRE_BASE), 0x24);
}
END_TEST

START_TEST(test_raster_geometry)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  /* centre (100.3, -50) nm = (1003, -500) LSB: origin = centre - 8890 */
  on_defaults(&c);
  c.centre_x_nm = 100.3;
  c.centre_y_nm = -50;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.origin_x, 1003 - 8890);
  ck_assert_int_eq(r.ctl.origin_y, -500 - 8890);
  /* field 50.8 nm / pixel 12.7 nm is 4 pixels, step 127 LSB; (4-1) * 127 / 2 = 190.5 ->
   * the origin 190 LSB (rounded down) below the centre */
  on_defaults(&c);
  c.search_field_nm = 50.8;
  c.search_pixel_nm = 12.7;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.n, 4);
  ck_assert_int_eq(r.ctl.step, 127);
  ck_assert_int_eq(r.ctl.origin_x, -190);
  /* 2.7 nm / 0.3 nm is 9 pixels, though the quotient is 9.000000000000002 in double;
   * step 3 LSB, origin -(9-1) * 3 / 2 = -12 */
  on_defaults(&c);
  c.search_field_nm = 2.7;
  c.search_pixel_nm = 0.3;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.n, 9);
  ck_assert_int_eq(r.ctl.step, 3);
  ck_assert_int_eq(r.ctl.origin_x, -12);
  /* 1 pixel: the raster is the centre */
  on_defaults(&c);
  c.search_field_nm = 100;
  c.search_pixel_nm = 127;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.n, 1);
  ck_assert_int_eq(r.ctl.origin_x, 0);
  /* the largest raster that fits the +-3000 nm window with 127 nm pixels: rows of
   * ceil(n/4)*4 pixels from x0 = -(n-1)*1270/2: n = 48 -> x0 = -29845, last x = x0 + 47 * 1270
   * = 29845; n = 49 -> x0 = -30480: outside */
  on_defaults(&c);
  c.search_field_nm = 48 * 127;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.n, 48);
  ck_assert_int_eq(r.ctl.origin_x, -29845);
  c.search_field_nm = 49 * 127;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "leaves the safe window x -3000.0..3000.0 nm"), "%s", err);
  /* n = 45: rows of 48 pixels, x0 = -27940, last x = -27940 + 47 * 1270 = 31750: the row
   * end leaves the window even though y (x0 + 44 * 1270 = 27940) does not */
  c.search_field_nm = 45 * 127;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "x -2794.0..3175.0 nm"), "%s", err);
  /* a raster moved to the window's edge by the centre */
  on_defaults(&c);
  c.centre_y_nm = 2500;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "y 1611.0..3389.0 nm"), "%s", err);
}
END_TEST

/* convert the defaults with controller = on and key = value: refused with a message
 * containing want */
static void refused(const char *key, const char *value, const char *want)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  on_defaults(&c);
  ck_assert_msg(acq_set(&c, key, value, err, sizeof err) == 0, "%s = %s: %s", key, value, err);
  ck_assert_msg(convert(&c, &r, err, sizeof err) == -1, "%s = %s accepted", key, value);
  ck_assert_msg(strstr(err, want) && !strchr(err, '\n'), "%s = %s: '%s' lacks '%s'", key, value, err, want);
}

START_TEST(test_refusals)
{
  refused("k", "5", "k = 5 with controller = on");
  refused("k", "8", "(allowed: k = 1..4)");
  refused("agg", "2", "agg = 2 with controller = on");
  refused("agg", "2", "(allowed: agg = 1)");
  /* loss_ratio: round(x * 256) in 1..255 */
  refused("loss_ratio", "1", "loss_ratio = 1: round(loss_ratio*256) = 256 must be 1..255 (loss_ratio 0.00390625..0.996094)");
  refused("loss_ratio", "0.001", "loss_ratio = 0.001: round(loss_ratio*256) = 0 must be 1..255");
  /* gain: 2 * 2048 / 0.1 = 40960 > 32767; the range at 0.1 nm/LSB is 1/20480..32767/20480 */
  refused("gain", "2", "gain = 2: round(gain*2048/eod_nm_per_lsb) = 40960 must be 1..32767 (gain 4.88281e-05..1.59995)");
  refused("gain", "0", "gain = 0: round(gain*2048/eod_nm_per_lsb) = 0 must be 1..32767");
  refused("pre_gain", "1.7", "pre_gain = 1.7: round(pre_gain*2048/eod_nm_per_lsb) = 34816 must be 1..32767");
  refused("clamp_nm", "0.04", "clamp_nm = 0.04: round(clamp_nm/eod_nm_per_lsb) LSB = 0 must be 1..32767 (clamp_nm 0.1..3276.7)");
  refused("pre_clamp_nm", "4000", "pre_clamp_nm = 4000: round(pre_clamp_nm/eod_nm_per_lsb) LSB = 40000 must be 1..32767");
}
END_TEST

START_TEST(test_refusals_more)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  on_defaults(&c);
  c.search_pixel_nm = 0.04;   /* n = ceil(1900 / 0.04) = 47500 */
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "ceil(field/pixel) = 47500 pixels must be 1..255"), "%s", err);
  c.search_field_nm = 0.04;   /* 1 pixel of round(0.4) = 0 LSB */
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "search_pixel_nm = 0.04: round(search_pixel_nm/eod_nm_per_lsb) LSB = 0 must be 1..32767"), "%s", err);
  /* at 0.01 nm/LSB (safe window +-300 nm) the default gain 0.5 needs 102400 */
  on_defaults(&c);
  c.eod_nm_per_lsb = 0.01;
  c.safe_x_min_nm = c.safe_y_min_nm = -300;
  c.safe_x_max_nm = c.safe_y_max_nm = 300;
  c.search_field_nm = 500;
  c.pre_gain = 0.15;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "gain = 0.5: round(gain*2048/eod_nm_per_lsb) = 102400 must be 1..32767 (gain 4.88281e-06..0.159995)"),
                "%s", err);
  c.gain = 0.15;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.gain, 30720);   /* 0.15 * 2048 / 0.01 */
  ck_assert_int_eq(r.ctl.step, 12700);   /* 127 nm / 0.01 */
  ck_assert_int_eq(r.ctl.n, 4);          /* ceil(500 / 127) = ceil(3.94) */
  ck_assert_int_eq(r.ctl.origin_x, -19050);   /* 3 * 12700 / 2 */
  /* gates in 16 bits of 48 MHz cycles: 2000 us = 96000 cycles */
  on_defaults(&c);
  c.search_dwell_us = 2000;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "search_dwell_us = 2000: round(search_dwell_us x clock) cycles = 96000 must be 1..65535"), "%s", err);
  on_defaults(&c);
  c.pre_gate_us = 0.01;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "pre_gate_us = 0.01: round(pre_gate_us x clock) cycles = 0 must be 1..65535"), "%s", err);
  /* EST_G: 320^2 / (8 ln2 10) = 1846.6 nm does not fit UQ10.6 (< 1024 nm) */
  on_defaults(&c);
  c.pre_L_nm = 10;
  ck_assert_int_eq(convert(&c, &r, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "pre-localization (pre_L_nm = 10, gauss_fwhm_nm = 320): fwhm^2/(8 ln2 L) = 1846.6 nm"), "%s", err);
  /* the keys' own ranges */
  ck_assert_int_eq(acq_set(&c, "loss_records", "256", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "loss_records = '256' is not an integer in [0, 255]"), "%s", err);
  ck_assert_int_eq(acq_set(&c, "dark_records", "65536", err, sizeof err), -1);
  ck_assert_int_eq(acq_set(&c, "search_thresh", "0", err, sizeof err), -1);
  ck_assert_int_eq(acq_set(&c, "act_every", "256", err, sizeof err), -1);
  /* controller = off: the controller's keys are not converted (any eod_nm_per_lsb works
   * open loop) */
  acq_defaults(&c);
  c.eod_nm_per_lsb = 0.01;
  c.safe_x_min_nm = c.safe_y_min_nm = -300;
  c.safe_x_max_nm = c.safe_y_max_nm = 300;
  c.k = 8;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
}
END_TEST

static void count_key(void *ctx, const char *key, const char *val)
{
  if (!strcmp(key, "controller")) snprintf(ctx, 8, "%s", val);
}

START_TEST(test_on_off_key)
{
  acq_config c;
  char err[512], seen[8] = "";
  acq_defaults(&c);
  ck_assert_int_eq(c.controller, 0);
  ck_assert_int_eq(acq_set(&c, "controller", "on", err, sizeof err), 0);
  ck_assert_int_eq(c.controller, 1);
  acq_each(&c, count_key, seen);
  ck_assert_str_eq(seen, "on");
  ck_assert_int_eq(acq_set(&c, "controller", "off", err, sizeof err), 0);
  ck_assert_int_eq(c.controller, 0);
  ck_assert_int_eq(acq_set(&c, "controller", "1", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "controller = '1' is not 'on' or 'off'"), "%s", err);
  ck_assert_int_eq(acq_set(&c, "controller", "ON", err, sizeof err), -1);
}
END_TEST

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

START_TEST(test_scenario_acquire_section)
{
  char path[] = "/tmp/test_ctl_regs_XXXXXX", err[1200];
  const int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  write_file(path, "[emitter]\nx_nm = 3\n[acquire]\ncontroller = on\nL_nm = 130 ; comment\n[beam]\nfwhm_nm = 450\n");
  acq_config c;
  acq_defaults(&c);
  ck_assert_msg(acq_load_scenario(&c, path, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(c.controller, 1);
  ck_assert_double_eq(c.L_nm, 130);
  ck_assert_double_eq(c.fwhm_nm, 360);   /* [beam] fwhm_nm is the physics', not the host's */
  /* a --config file may not carry the physics' sections */
  acq_defaults(&c);
  ck_assert_int_eq(acq_load_ini(&c, path, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "section [emitter] is not known"), "%s", err);
  /* the virtual board's parser skips [acquire], and still refuses other unknown sections */
  phys_scenario s;
  phys_defaults(&s);
  ck_assert_msg(phys_load(path, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_double_eq(s.x_nm, 3);
  ck_assert_double_eq(s.fwhm_nm, 450);
  write_file(path, "[acquire]\nk = 9\n");
  acq_defaults(&c);
  ck_assert_int_eq(acq_load_scenario(&c, path, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "k = '9' is not an integer in [1, 8]"), "%s", err);
  write_file(path, "[acquire]\ncontroller = on\n[acquisition]\nL_nm = 3\n");
  phys_defaults(&s);
  ck_assert_int_eq(phys_load(path, &s, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "unknown section [acquisition]"), "%s", err);
  unlink(path);
}
END_TEST

/* every shipped scenario's [acquire] section converts (tracking scenarios with the
 * controller on, static open loop, bayes.ini in the Bayesian mode without the controller) */
START_TEST(test_shipped_scenarios)
{
  const char *dir = getenv("SCENARIO_DIR") ? getenv("SCENARIO_DIR") : "sim/scenarios";
  char pat[512], err[1200];
  snprintf(pat, sizeof pat, "%s/*.ini", dir);
  glob_t g;
  ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
  int on = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    acq_config c;
    acq_regs r;
    acq_defaults(&c);
    ck_assert_msg(acq_load_scenario(&c, g.gl_pathv[i], err, sizeof err) == 0, "%s", err);
    ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s: %s", g.gl_pathv[i], err);
    const int is_bayes = strstr(g.gl_pathv[i], "/bayes.ini") != NULL;
    const int want_on = !strstr(g.gl_pathv[i], "static.ini") && !strstr(g.gl_pathv[i], "noisy-link.ini") && !is_bayes;
    ck_assert_msg(acq_is_bayes(&c) == is_bayes, "%s: mode = %s", g.gl_pathv[i], c.mode);
    ck_assert_msg(c.controller == want_on, "%s: controller = %d", g.gl_pathv[i], c.controller);
    on += c.controller;
    if (strstr(g.gl_pathv[i], "ribosome.ini")) {
      ck_assert_int_eq(c.act_every, 1);
      ck_assert_double_eq(c.L_nm, 130);
      ck_assert_double_eq(c.fwhm_nm, 450);
    }
    if (strstr(g.gl_pathv[i], "lissajous-L50.ini")) ck_assert_double_eq(c.L_nm, 50);
  }
  ck_assert_int_eq(on, (int)g.gl_pathc - 3);   /* all but static.ini, noisy-link.ini and bayes.ini */
  globfree(&g);
}
END_TEST

/* ---- imaging mode (docs/imaging.md) ---- */

static void image_defaults(acq_config *c)
{
  char err[256];
  acq_defaults(c);
  ck_assert_int_eq(acq_set(c, "mode", "image", err, sizeof err), 0);
}

START_TEST(test_image_defaults_by_hand)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  image_defaults(&c);
  /* the mode's defaults: controller on, gain 1, loss_ratio 0.15, dark 400, 125 us cycle of
   * delay 653, gate 653, window 775 cycles */
  ck_assert_int_eq(c.controller, 1);
  ck_assert_double_eq(c.gain, 1.0);
  ck_assert_double_eq(c.loss_ratio, 0.15);
  ck_assert_int_eq(c.dark_records, 400);
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.core.delay_cycles, 653);
  ck_assert_int_eq(r.core.gate_cycles, 653);
  ck_assert_int_eq(r.core.win_cycles, 775);
  const img_regs_t *g = &r.img;
  /* CTL_MODE = 1 | 2 | (stages 3 - 1) << 2 = 11 */
  ck_assert_int_eq(g->mode, 11);
  ck_assert_int_eq(g->last, 2);
  /* search record: 4 x (DELAY 653 + dwell 2400) + WIN 775 + 1 = 12988 cycles = 270.583 us;
   * 20 kHz x 270.583 us = 5.4117 counts -> x 16 = 86.587 -> 87 (UQ12.4); shift 3;
   * on 50 ms / 270.583 us = 184.79 -> 185 records, off 100 ms -> 369.57 -> 370 */
  ck_assert_int_eq(g->search_record_cycles, 12988);
  ck_assert_int_eq(g->act_thr, 87);
  ck_assert_int_eq(g->act_shift, 3);
  ck_assert_int_eq(g->act_on, 185);
  ck_assert_int_eq(g->act_off, 370);
  ck_assert_int_eq(g->dark, 400);
  ck_assert_int_eq(g->bright, 0);
  /* stages L 100, 50, 25 nm: shifts 0, 1, 2; F = 1/(1 - L^2 ln2/360^2) x 2^13:
   * 1.056506 -> 8654.89 -> 8655, 1.013552 -> 8303.02 -> 8303, 1.003354 -> 8219.48 -> 8219;
   * photon limits 50, 100, 200 */
  const uint32_t want[IMG_NWRITES][2] = {
    { 0x5A, 0x00030057u },   /* CTL_IACT: shift 3 in [19:16], threshold 87 */
    { 0x5B, 0x017200B9u },   /* CTL_IACT_T: off 370 in [31:16], on 185 */
    { 0x5C, 0x00000190u },   /* CTL_IABORT: bright 0, dark 400 */
    { 0x5D, 0x21CF0032u },   /* CTL_ISTG0: F 8655, shift 0, limit 50 */
    { 0x5E, 0x206F4064u },   /* CTL_ISTG1: F 8303, shift 1 (0x4000), limit 100 */
    { 0x5F, 0x201B80C8u },   /* CTL_ISTG2: F 8219, shift 2 (0x8000), limit 200 */
  };
  ctl_write_t w[IMG_NWRITES];
  img_reg_writes(g, w);
  for (int i = 0; i < IMG_NWRITES; i++)
    ck_assert_msg(w[i].addr == want[i][0] && w[i].value == want[i][1], "write %d (%s): 0x%02X = 0x%08X, want 0x%02X = 0x%08X",
                  i, w[i].name, w[i].addr, w[i].value, want[i][0], want[i][1]);
  /* the controller's words in imaging: CTL_GAIN gain 1.0 -> 20480 = 0x5000, clamp 500;
   * CTL_LOSS ratio round(0.15 x 256) = 38 = 0x26, window 32, dark 400 = 0x190 */
  ctl_write_t cw[CTL_NWRITES];
  ctl_reg_writes(&r.ctl, cw);
  ck_assert_msg(cw[6].value == 0x01F45000u, "CTL_GAIN 0x%08X", cw[6].value);
  ck_assert_msg(cw[7].value == 0x01902026u, "CTL_LOSS 0x%08X", cw[7].value);
}
END_TEST

START_TEST(test_image_keys)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  /* stages 1: CTL_MODE 3, the unused stage words repeat stage 0 */
  image_defaults(&c);
  c.stages = 1;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.img.mode, 3);
  ck_assert_int_eq(r.img.limit[2], 50);
  /* stages 2 with L 160 and stage1_L_nm = 20 (= 160/8: shift 3), 1 kHz, shift 5, 405 nm
   * continuously below the threshold (off 0), bright 4 */
  image_defaults(&c);
  c.stages = 2;
  c.L_nm = 160;
  c.stage_L_nm[1] = 20;
  c.act_rate_khz = 1;
  c.act_lp_shift = 5;
  c.act_off_ms = 0;
  c.bright_records = 4;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.img.mode, 7);
  ck_assert_int_eq(r.img.shift[0], 0);
  ck_assert_int_eq(r.img.shift[1], 3);
  ck_assert_int_eq(r.img.act_thr, 4);   /* 1e3 x 270.583e-6 x 16 = 4.33 */
  ck_assert_int_eq(r.img.act_off, 0);
  ck_assert_int_eq(r.img.bright, 4);
  /* loss_ratio 0 is allowed in imaging (cfr abort off), refused in tracking */
  image_defaults(&c);
  c.loss_ratio = 0;
  ck_assert_msg(convert(&c, &r, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(r.ctl.ratio, 0);
  /* a given key keeps its value whatever the order: gain before and after mode = image */
  acq_defaults(&c);
  ck_assert_int_eq(acq_set(&c, "gain", "0.7", err, sizeof err), 0);
  ck_assert_int_eq(acq_set(&c, "mode", "image", err, sizeof err), 0);
  ck_assert_double_eq(c.gain, 0.7);
  ck_assert_double_eq(c.delay_us, 13.6);
  ck_assert_int_eq(acq_set(&c, "mode", "track", err, sizeof err), 0);
  ck_assert_double_eq(c.gain, 0.7);
  ck_assert_double_eq(c.delay_us, 7.4);
  ck_assert_int_eq(c.controller, 0);
  ck_assert_int_eq(acq_set(&c, "mode", "scan", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "only 'track', 'image', 'bayes' and 'hex'"), "%s", err);
}
END_TEST

/* mode = image and key = value: refused with a message containing want (one line) */
static void img_refused(const char *key, const char *value, const char *want)
{
  acq_config c;
  acq_regs r;
  char err[1200];
  image_defaults(&c);
  ck_assert_msg(acq_set(&c, key, value, err, sizeof err) == 0, "%s = %s: %s", key, value, err);
  ck_assert_msg(convert(&c, &r, err, sizeof err) == -1, "%s = %s accepted", key, value);
  ck_assert_msg(strstr(err, want) && !strchr(err, '\n'), "%s = %s: '%s' lacks '%s'", key, value, err, want);
}

START_TEST(test_image_refusals)
{
  img_refused("stage1_L_nm", "30", "stage1_L_nm = 30: CTL_ISTG1[15:14] shifts the pattern and L by 0..3, so it must be "
              "L_nm/2^shift (allowed: 100, 50, 25, 12.5 nm with L_nm = 100)");
  img_refused("stage2_L_nm", "6.25", "stage2_L_nm = 6.25: CTL_ISTG2[15:14]");
  img_refused("stage0_L_nm", "200", "stage0_L_nm = 200");
  img_refused("stage2_photons", "5", "stage2_photons = 5: below thresh = 6");
  img_refused("stage0_photons", "3", "(CTL_ISTG0[13:0] must be 6..16383)");
  /* 1e4 kHz x 270.583 us x 16 = 43293 fits, 2e4 kHz = 86587 does not */
  img_refused("act_rate_khz", "20000", "act_rate_khz = 20000: round(act_rate_khz x 270.58 us search record x 16) = "
              "CTL_IACT[15:0] = 86587 must be 0..65535 (act_rate_khz 0..15137.4)");
  img_refused("act_on_ms", "20000", "act_on_ms = 20000: round(act_on_ms / 270.58 us search record) = CTL_IACT_T[15:0] = 73914 "
              "must be 0..65535");
  img_refused("act_off_ms", "18000", "CTL_IACT_T[31:16] = 66523 must be 0..65535");
  img_refused("loss_ratio", "1", "loss_ratio = 1: round(loss_ratio*256) = 256 must be 0..255");
  img_refused("controller", "off", "mode = image with controller = off: imaging runs are driven by the controller");
  img_refused("k", "5", "k = 5 with controller = on");
  img_refused("agg", "2", "agg = 2 with controller = on");
  img_refused("gain", "2", "gain = 2: round(gain*2048/eod_nm_per_lsb) = 40960 must be 1..32767");
  /* the keys' own ranges */
  acq_config c;
  char err[1200];
  image_defaults(&c);
  ck_assert_int_eq(acq_set(&c, "stages", "4", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "stages = '4' is not an integer in [1, 3]"), "%s", err);
  ck_assert_int_eq(acq_set(&c, "stage1_photons", "16384", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "stage1_photons = '16384' is not an integer in [1, 16383]"), "%s", err);
  ck_assert_int_eq(acq_set(&c, "act_lp_shift", "16", err, sizeof err), -1);
  ck_assert_int_eq(acq_set(&c, "bright_records", "256", err, sizeof err), -1);
}
END_TEST

static Suite *ctl_suite(void)
{
  Suite *s = suite_create("ctl_regs");
  TCase *t = tcase_create("conversion");
  tcase_add_test(t, test_defaults_by_hand);
  tcase_add_test(t, test_raster_geometry);
  tcase_add_test(t, test_refusals);
  tcase_add_test(t, test_refusals_more);
  tcase_add_test(t, test_on_off_key);
  tcase_add_test(t, test_scenario_acquire_section);
  tcase_add_test(t, test_shipped_scenarios);
  tcase_add_test(t, test_image_defaults_by_hand);
  tcase_add_test(t, test_image_keys);
  tcase_add_test(t, test_image_refusals);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(ctl_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
