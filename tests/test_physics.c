/* test_physics: the virtual board's sample model (sim/physics.c) and scenario parser
 * (sim/scenario.c), issue #5.
 * - statistics against their expectations, with a new seed every run (printed;
 *   PHYS_SEED=S repeats): Poisson mean and variance of the counts in a gate at known beam
 *   positions (doughnut S17 and Gaussian S19, signal + both backgrounds + dark, computed
 *   here from the seed formulas, not from the model's functions); APD dead time (the
 *   non-paralysable rate law and the minimum pulse spacing); blinking duty cycle and mean
 *   on time; bleaching after an exponential photon budget; activation by 405 nm light;
 *   Brownian MSD = 4 D t; Lissajous amplitude and frequency; kinesin-like steps;
 *   the beam's first-order lag; the S82 cycle average; the emitter-size blur against a
 *   Monte Carlo average over a uniform sphere; a scripted csv trajectory;
 *   multi-site samples (issue #10): DARK -> ON rates with and without 405 nm light, the
 *   mean ON time, the 405/spontaneous attribution, independence of the sites (binomial
 *   ON count), bleach_prob, the per-site photon budget, the signal as the sum over ON
 *   sites (rates by hand and gate counts), drift, and the n_on statistics against a
 *   direct count from the event log.
 *   Tolerances are 5 standard errors of the estimate (a false alarm about once in 10^6).
 * - the scenario parser: every shipped scenario loads, docs/physics.md documents every
 *   key, and bad files are refused with the key and the allowed values. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glob.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "physics.h"

static unsigned long g_seed;

static phys_scenario base(void)
{
  phys_scenario s;
  phys_defaults(&s);
  s.x_nm = 0;
  s.y_nm = 0;
  s.dark_hz = 0;
  s.dead_time_ns = 0;
  s.pulse_ns = 0.1;
  return s;
}

static phys_model *model(const phys_scenario *s, unsigned long salt)
{
  char err[512];
  phys_model *m = phys_new(s, g_seed * 1000003ul + salt, err, sizeof err);
  ck_assert_msg(m != NULL, "phys_new: %s", err);
  return m;
}

static phys_inputs beam_at(double x, double y, int laser, int gauss)
{
  phys_inputs in = { x, y, laser, 49152, gauss, 0 };
  return in;
}

/* Pulses in [t0, t0 + T) with the inputs held; the laser goes off at the end. */
static long gate(phys_model *m, double t0, double T, phys_inputs in)
{
  phys_pulse p[64];
  long n = 0;
  size_t k;
  phys_set_inputs(m, t0, &in);
  do { k = phys_advance(m, t0 + T, p, 64); n += (long)k; } while (k == 64);
  in.laser_on = 0;
  phys_set_inputs(m, t0 + T, &in);
  return n;
}

static double s17(double r, double fwhm) { const double q = 4 * log(2) * r * r / (fwhm * fwhm); return 4 * M_E * log(2) * r * r / (fwhm * fwhm) * exp(-q); }
static double s19(double r, double fwhm) { return exp(-4 * log(2) * r * r / (fwhm * fwhm)); }

/* ------------------------------------------------------------ counts ---- */

START_TEST(test_poisson_counts)
{
  phys_scenario s = base();
  s.x_nm = 30; s.y_nm = -20;
  s.brightness_hz = 2e6;
  s.background_hz = 20e3;
  s.background_power_hz = 10e3;
  s.dark_hz = 500;
  s.efficiency = 0.8;
  s.fwhm_nm = 360;
  s.gauss_fwhm_nm = 300;
  s.gauss_peak_ratio = 0.5;
  const struct { double bx, by; int gauss; double amp; } pos[] = {
    { 0, 0, 0, 49152 }, { 50, 0, 0, 49152 }, { -25, 43.3, 0, 49152 }, { -25, -43.3, 0, 24576 },
    { 30, -20, 0, 49152 }, { 0, 0, 1, 49152 }, { 200, 100, 1, 49152 },
  };
  const double T = 23.3e-6, gap = 10e-6;
  const int M = 20000;
  phys_model *m = model(&s, 1);
  double t = 0;
  for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
    const double r = hypot(s.x_nm - pos[i].bx, s.y_nm - pos[i].by), amp = pos[i].amp / 49152.0;
    const double I = pos[i].gauss ? s.gauss_peak_ratio * s19(r, s.gauss_fwhm_nm) : s17(r, s.fwhm_nm);
    /* signal and power-dependent background scale with the amplitude; detection efficiency on both */
    const double mu = (s.brightness_hz * amp * I + s.background_hz + s.background_power_hz * amp) * s.efficiency * T +
                      s.dark_hz * T;
    double sum = 0, sum2 = 0;
    for (int k = 0; k < M; k++) {
      phys_inputs in = beam_at(pos[i].bx, pos[i].by, 1, pos[i].gauss);
      in.amp_code = pos[i].amp;
      const long n = gate(m, t, T, in);
      sum += n; sum2 += (double)n * n;
      t += T + gap;
    }
    const double mean = sum / M, var = (sum2 - sum * sum / M) / (M - 1);
    const double se_mean = sqrt(mu / M), se_var = sqrt((mu + 2 * mu * mu) / M);
    printf("  counts at beam (%.1f, %.1f) %s amp %.2f: mean %.4f (expected %.4f, se %.4f), variance %.4f (se %.4f)\n",
           pos[i].bx, pos[i].by, pos[i].gauss ? "gaussian" : "doughnut", amp, mean, mu, se_mean, var, se_var);
    ck_assert_msg(fabs(mean - mu) < 5 * se_mean, "position %zu: mean %.4f, expected %.4f (seed %lu)", i, mean, mu, g_seed);
    ck_assert_msg(fabs(var - mu) < 5 * se_var, "position %zu: variance %.4f, Poisson %.4f (seed %lu)", i, var, mu, g_seed);
  }
  /* laser off: dark counts only */
  long dark = 0;
  for (int k = 0; k < 2000; k++) { dark += gate(m, t, 100e-6, beam_at(0, 0, 0, 0)); t += 110e-6; }
  const double mu_dark = s.dark_hz * 2000 * 100e-6;
  ck_assert_msg(fabs(dark - mu_dark) < 5 * sqrt(mu_dark), "laser off: %ld counts, dark %.1f (seed %lu)", dark, mu_dark, g_seed);
  phys_free(m);
}
END_TEST

START_TEST(test_dead_time)
{
  phys_scenario s = base();
  s.shape = PHYS_SHAPE_GAUSSIAN;
  s.brightness_hz = 20e6;
  s.apd1_fraction = 1.0;
  s.dead_time_ns = 22;
  s.pulse_ns = 10;
  phys_model *m = model(&s, 2);
  phys_inputs in = beam_at(0, 0, 1, 1);
  phys_set_inputs(m, 0, &in);
  const double T = 0.01;
  phys_pulse p[64];
  long n = 0, n2 = 0;
  double prev = -1, min_gap = 1;
  size_t k;
  do {
    k = phys_advance(m, T, p, 64);
    for (size_t i = 0; i < k; i++) {
      if (p[i].apd) n2++;
      if (prev >= 0 && p[i].t_s - prev < min_gap) min_gap = p[i].t_s - prev;
      prev = p[i].t_s;
    }
    n += (long)k;
  } while (k == 64);
  const phys_stats *st = phys_get_stats(m);
  const double lam = 20e6, tau = 22e-9, expect = lam / (1 + lam * tau) * T;
  /* counts of a dead-time-limited process: variance ~ mean / (1 + lam tau)^2 */
  const double se = sqrt(expect) / (1 + lam * tau);
  printf("  dead time 22 ns at 20 MHz: %ld pulses in 10 ms (non-paralysable %.0f, se %.0f), min spacing %.2f ns, %llu lost\n",
         n, expect, se, min_gap * 1e9, (unsigned long long)st->lost_dead);
  ck_assert_msg(n2 == 0, "apd1_fraction = 1 but %ld pulses on APD2", n2);
  ck_assert_msg(min_gap >= 22e-9 * (1 - 1e-9), "pulses %.3f ns apart, dead time 22 ns", min_gap * 1e9);
  ck_assert_msg(fabs(n - expect) < 5 * se, "%ld pulses, expected %.0f (seed %lu)", n, expect, g_seed);
  ck_assert_msg((uint64_t)n + st->lost_dead == st->signal + st->background + st->dark, "pulses + lost != arrivals");
  phys_free(m);

  /* a pulse longer than the dead time: the pulse width limits */
  s.dead_time_ns = 5;
  s.pulse_ns = 40;
  m = model(&s, 3);
  phys_set_inputs(m, 0, &in);
  n = 0;
  do { k = phys_advance(m, T, p, 64); n += (long)k; } while (k == 64);
  const double e2 = lam / (1 + lam * 40e-9) * T;
  ck_assert_msg(fabs(n - e2) < 5 * sqrt(e2) / (1 + lam * 40e-9), "40 ns pulses: %ld, expected %.0f (seed %lu)", n, e2, g_seed);
  phys_free(m);
}
END_TEST

START_TEST(test_two_apds)
{
  phys_scenario s = base();
  s.shape = PHYS_SHAPE_GAUSSIAN;
  s.brightness_hz = 1e6;
  s.apd1_fraction = 0.3;
  phys_model *m = model(&s, 4);
  phys_inputs in = beam_at(0, 0, 1, 1);
  phys_set_inputs(m, 0, &in);
  phys_pulse p[64];
  long n[2] = { 0, 0 };
  size_t k;
  do { k = phys_advance(m, 0.05, p, 64); for (size_t i = 0; i < k; i++) n[p[i].apd]++; } while (k == 64);
  const double f = (double)n[0] / (n[0] + n[1]), se = sqrt(0.3 * 0.7 / (n[0] + n[1]));
  printf("  APD1 share %.4f of %ld (expected 0.3, se %.4f)\n", f, n[0] + n[1], se);
  ck_assert_msg(fabs(f - 0.3) < 5 * se, "APD1 share %.4f (seed %lu)", f, g_seed);
  phys_free(m);
}
END_TEST

/* ------------------------------------------------------- photophysics ---- */

START_TEST(test_blinking)
{
  phys_scenario s = base();
  s.t_on_ms = 2.0;
  s.t_off_ms = 0.6;
  s.step_us = 100;
  phys_model *m = model(&s, 5);
  const double T = 20.0;
  phys_sync(m, T);
  const phys_stats *st = phys_get_stats(m);
  const double duty = st->on_time_s / T, expect = 2.0 / 2.6;
  const double se = sqrt(2 * pow(2e-3 * 0.6e-3, 2) / pow(2.6e-3, 3) / T);
  const double mean_on = st->on_time_s / (double)st->blinks_off;
  const double se_on = 2e-3 / sqrt((double)st->blinks_off);
  printf("  blinking t_on 2 ms, t_off 0.6 ms over 20 s: duty %.4f (expected %.4f, se %.4f), mean on %.4f ms (se %.4f), %llu off-switches\n",
         duty, expect, se, mean_on * 1e3, se_on * 1e3, (unsigned long long)st->blinks_off);
  ck_assert_msg(fabs(duty - expect) < 5 * se, "duty %.4f (seed %lu)", duty, g_seed);
  ck_assert_msg(fabs(mean_on - 2e-3) < 5 * se_on, "mean on time %.4f ms (seed %lu)", mean_on * 1e3, g_seed);
  phys_free(m);
}
END_TEST

struct bleach_log { int n; double photons[4000]; uint64_t last; const phys_model *m; };
static void on_bleach(void *ctx, double t, const char *what, int mol, double x, double y)
{
  struct bleach_log *b = ctx;
  (void)t; (void)mol; (void)x; (void)y;
  if (strcmp(what, "bleach") || b->n >= 4000) return;
  const uint64_t sig = phys_get_stats(b->m)->signal;
  b->photons[b->n++] = (double)(sig - b->last);
  b->last = sig;
}

START_TEST(test_bleaching)
{
  phys_scenario s = base();
  s.shape = PHYS_SHAPE_GAUSSIAN;
  s.brightness_hz = 10e6;
  s.bleach_photons = 500;
  s.molecules = 2001;
  s.spontaneous_hz = 1e6;   /* the next molecule comes right away */
  phys_model *m = model(&s, 6);
  static struct bleach_log b;
  memset(&b, 0, sizeof b);
  b.m = m;
  phys_on_event(m, on_bleach, &b);
  phys_inputs in = beam_at(0, 0, 1, 1);
  phys_set_inputs(m, 0, &in);
  phys_pulse p[64];
  double t = 0;
  while (b.n < 2000 && t < 2.0) { t += 1e-3; while (phys_advance(m, t, p, 64) == 64) {} }
  ck_assert_msg(b.n >= 2000, "%d bleaches in %.3f s", b.n, t);
  b.n = 2000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < b.n; i++) { sum += b.photons[i]; sum2 += b.photons[i] * b.photons[i]; }
  const double mean = sum / b.n, sd = sqrt(sum2 / b.n - mean * mean);
  printf("  bleaching after a mean budget of 500 photons: %d molecules, mean %.1f (se %.1f), sd %.1f (exponential: = mean)\n",
         b.n, mean, 500 / sqrt(b.n), sd);
  ck_assert_msg(fabs(mean - 500) < 5 * 500 / sqrt(b.n), "mean photons before bleaching %.1f (seed %lu)", mean, g_seed);
  ck_assert_msg(fabs(sd / mean - 1) < 0.15, "sd/mean %.3f, exponential 1 (seed %lu)", sd / mean, g_seed);
  phys_free(m);
}
END_TEST

START_TEST(test_activation)
{
  phys_scenario s = base();
  s.first_active = 0;
  s.activation_hz = 1000;   /* 1 ms mean while the 405 nm light is on */
  s.step_us = 10;
  double sum = 0;
  const int M = 400;
  for (int i = 0; i < M; i++) {
    phys_model *m = model(&s, 100 + (unsigned long)i);
    phys_inputs in = beam_at(0, 0, 0, 0);
    phys_sync(m, 0.5);   /* no 405 nm light: nothing happens */
    ck_assert_msg(phys_get_stats(m)->activations == 0, "activated without 405 nm light");
    in.act405 = 1;
    phys_set_inputs(m, 0.5, &in);
    double t = 0.5;
    while (!phys_get_stats(m)->activations && t < 1.5) { t += 10e-6; phys_sync(m, t); }
    int st;
    double x, y;
    phys_emitter(m, &x, &y, &st);
    ck_assert_int_eq(st, PHYS_ON);
    sum += t - 0.5;
    phys_free(m);
  }
  const double mean = sum / M, se = 1e-3 / sqrt(M);
  printf("  activation at 1000/s under 405 nm light: mean delay %.4f ms over %d molecules (expected 1 ms, se %.4f)\n",
         mean * 1e3, M, se * 1e3);
  ck_assert_msg(fabs(mean - 1e-3 - 5e-6) < 5 * se, "mean activation delay %.4f ms (seed %lu)", mean * 1e3, g_seed);
}
END_TEST

/* --------------------------------------------------------- trajectories ---- */

START_TEST(test_brownian_msd)
{
  phys_scenario s = base();
  s.model = PHYS_BROWNIAN;
  s.D_um2_s = 0.4;
  s.step_us = 25;
  phys_model *m = model(&s, 7);
  const int N = 100000;
  const double dt = 125e-6;
  static double xs[100001], ys[100001];
  for (int i = 0; i <= N; i++) {
    phys_sync(m, i * dt);
    phys_emitter(m, &xs[i], &ys[i], NULL);
  }
  for (int lag = 1; lag <= 16; lag *= 4) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i + lag <= N; i += lag, n++) sum += pow(xs[i + lag] - xs[i], 2) + pow(ys[i + lag] - ys[i], 2);
    const double msd = sum / n, expect = 4 * 0.4e6 * lag * dt, se = expect / sqrt(n);
    printf("  Brownian D = 0.4 um^2/s: MSD(%d x 125 us) = %.2f nm^2 (4Dt = %.2f, se %.2f)\n", lag, msd, expect, se);
    ck_assert_msg(fabs(msd - expect) < 5 * se, "MSD at lag %d: %.2f, 4Dt %.2f (seed %lu)", lag, msd, expect, g_seed);
  }
  phys_free(m);

  /* a reflecting box keeps it inside */
  s.box_w_nm = 200;
  s.box_h_nm = 100;
  s.D_um2_s = 10;
  m = model(&s, 8);
  for (int i = 0; i <= 20000; i++) {
    double x, y;
    phys_sync(m, i * dt);
    phys_emitter(m, &x, &y, NULL);
    ck_assert_msg(fabs(x) <= 100 && fabs(y) <= 50, "(%g, %g) outside the 200 x 100 nm box", x, y);
  }
  phys_free(m);
}
END_TEST

START_TEST(test_lissajous)
{
  phys_scenario s = base();
  s.model = PHYS_LISSAJOUS;
  s.x_nm = 10; s.y_nm = -5;
  s.pp_x_nm = 500; s.pp_y_nm = 500;
  s.f_x_hz = 1.5; s.f_y_hz = 1.0;
  s.phase_x_deg = 0; s.phase_y_deg = 90;
  s.step_us = 50;
  phys_model *m = model(&s, 9);
  double xmin = 1e9, xmax = -1e9, ymin = 1e9, ymax = -1e9, px = 0, py = 0;
  int ncx = 0, ncy = 0;
  double fcx = -1, lcx = 0, fcy = -1, lcy = 0;
  const double dt = 10e-6;
  for (int i = 0; i <= 405000; i++) {   /* 4.05 s */
    double x, y, t = i * dt;
    phys_sync(m, t);
    phys_emitter(m, &x, &y, NULL);
    xmin = fmin(xmin, x); xmax = fmax(xmax, x); ymin = fmin(ymin, y); ymax = fmax(ymax, y);
    if (i && (px - 10) * (x - 10) < 0) { ncx++; if (fcx < 0) fcx = t; lcx = t; }
    if (i && (py + 5) * (y + 5) < 0) { ncy++; if (fcy < 0) fcy = t; lcy = t; }
    px = x; py = y;
  }
  const double fx = (ncx - 1) / (2 * (lcx - fcx)), fy = (ncy - 1) / (2 * (lcy - fcy));
  printf("  Lissajous: x %.3f..%.3f (p-p %.3f), y %.3f..%.3f (p-p %.3f); %d/%d centre crossings, f %.4f / %.4f Hz\n",
         xmin, xmax, xmax - xmin, ymin, ymax, ymax - ymin, ncx, ncy, fx, fy);
  ck_assert_msg(fabs(xmax - xmin - 500) < 0.01 && fabs(ymax - ymin - 500) < 0.01, "peak-to-peak %.3f / %.3f", xmax - xmin, ymax - ymin);
  ck_assert_msg(fabs(xmax + xmin - 20) < 0.01 && fabs(ymax + ymin + 10) < 0.01, "centre (%g, %g)", (xmax + xmin) / 2, (ymax + ymin) / 2);
  ck_assert_int_eq(ncx, 12);   /* 6 periods */
  ck_assert_int_eq(ncy, 8);    /* 4 periods */
  ck_assert_msg(fabs(fx - 1.5) < 1e-4 && fabs(fy - 1.0) < 1e-4, "frequencies %.5f / %.5f", fx, fy);

  /* S82: the average over an interval against the integral of the sine */
  const double t0 = 4.1, t1 = 4.1 + 125e-6 * 40, w = 2 * M_PI * 1.5;
  double mx, my, on;
  phys_sync(m, t0 - 1e-3);
  ck_assert_int_eq(phys_mean(m, t0, t1, &mx, &my, &on), 0);
  const double ex = 10 + 250 * (cos(w * t0) - cos(w * t1)) / (w * (t1 - t0));
  printf("  S82 mean over [%.4f, %.4f] s: x %.4f nm (analytic %.4f), on %.3f\n", t0, t1, mx, ex, on);
  ck_assert_msg(fabs(mx - ex) < 0.01, "cycle mean x %.4f, analytic %.4f", mx, ex);
  ck_assert_msg(on == 1.0, "on fraction %g of an emitter that does not blink", on);
  ck_assert_int_eq(phys_mean(m, 0.001, t1, &mx, &my, &on), -1);   /* older than the history */
  phys_free(m);
}
END_TEST

START_TEST(test_steps)
{
  phys_scenario s = base();
  s.model = PHYS_STEPS;
  s.step_nm = 8;
  s.angle_deg = 30;
  s.dwell_ms = 10;
  s.dwell_shape = 2;
  s.back_fraction = 0.1;
  s.step_us = 100;
  phys_model *m = model(&s, 10);
  const double c = cos(M_PI / 6), sn = sin(M_PI / 6);
  double px = 0, py = 0;
  long fwd = 0, back = 0;
  for (int i = 1; i <= 200000; i++) {   /* 20 s at 100 us */
    double x, y;
    phys_sync(m, i * 100e-6);
    phys_emitter(m, &x, &y, NULL);
    const double along = (x - px) * c + (y - py) * sn, across = -(x - px) * sn + (y - py) * c;
    ck_assert_msg(fabs(across) < 1e-9, "a step %.3g nm across the track", across);
    const double k = along / 8;
    ck_assert_msg(fabs(k - lround(k)) < 1e-9, "a move of %.4f nm is not a multiple of 8 nm", along);
    if (k > 0) fwd += lround(k); else back -= lround(k);
    px = x; py = y;
  }
  const double n = fwd + back, expect = 20.0 / 10e-3;
  /* gamma(2) dwells: the count over T has variance ~ (CV^2 = 1/2) x mean */
  printf("  steps: %ld forward, %ld back in 20 s (expected %.0f steps, 10%% back)\n", fwd, back, expect);
  ck_assert_msg(fabs(n - expect) < 5 * sqrt(expect / 2), "%.0f steps, expected %.0f (seed %lu)", n, expect, g_seed);
  ck_assert_msg(fabs(back / n - 0.1) < 5 * sqrt(0.09 / n), "back fraction %.4f (seed %lu)", back / n, g_seed);
  phys_free(m);
}
END_TEST

START_TEST(test_csv_script)
{
  char path[] = "/tmp/test_physics_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "t_s,x_nm,y_nm\n# a square path\n0,0,0\n0.001,100,0\n0.002,100,50\n");
  fclose(f);
  phys_scenario s = base();
  s.model = PHYS_CSV;
  snprintf(s.csv, sizeof s.csv, "%s", path);
  s.step_us = 10;
  phys_model *m = model(&s, 11);
  double x, y;
  phys_sync(m, 0.00025); phys_emitter(m, &x, &y, NULL);
  ck_assert_msg(fabs(x - 25) < 1e-9 && fabs(y) < 1e-9, "(%g, %g) at 0.25 ms", x, y);
  phys_sync(m, 0.0015); phys_emitter(m, &x, &y, NULL);
  ck_assert_msg(fabs(x - 100) < 1e-9 && fabs(y - 25) < 1e-9, "(%g, %g) at 1.5 ms", x, y);
  phys_sync(m, 0.01); phys_emitter(m, &x, &y, NULL);
  ck_assert_msg(fabs(x - 100) < 1e-9 && fabs(y - 50) < 1e-9, "(%g, %g) after the end (held)", x, y);
  phys_free(m);
  s.loop = 1;
  m = model(&s, 12);
  phys_sync(m, 0.00425); phys_emitter(m, &x, &y, NULL);   /* 4.25 ms = 2 x 2 ms + 0.25 ms */
  ck_assert_msg(fabs(x - 25) < 1e-6 && fabs(y) < 1e-6, "(%g, %g) at 4.25 ms looped", x, y);
  phys_free(m);
  unlink(path);
}
END_TEST

/* ----------------------------------------------------------------- beam ---- */

START_TEST(test_settling_lag)
{
  phys_scenario s = base();
  s.settle_us = 2.0;
  phys_model *m = model(&s, 13);
  phys_inputs in = beam_at(100, -50, 0, 0);
  phys_set_inputs(m, 1e-3, &in);
  for (int k = 1; k <= 3; k++) {
    double bx, by;
    phys_sync(m, 1e-3 + k * 2e-6);
    phys_beam(m, &bx, &by);
    const double f = 1 - exp(-k);
    ck_assert_msg(fabs(bx - 100 * f) < 1e-6 && fabs(by + 50 * f) < 1e-6, "beam (%g, %g) %d time constants after the step", bx, by, k);
  }
  phys_free(m);
  s.settle_us = 0;
  m = model(&s, 14);
  phys_set_inputs(m, 1e-3, &in);
  double bx, by;
  phys_beam(m, &bx, &by);
  ck_assert(bx == 100 && by == -50);
  phys_free(m);
}
END_TEST

START_TEST(test_emitter_size)
{
  /* the Gaussian blur of the model against a Monte Carlo average over a 20 nm / 60 nm sphere */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, g_seed);
  const double sizes[] = { 20, 60 }, offs[] = { 0, 20, 50, 150 };
  for (int si = 0; si < 2; si++)
    for (int oi = 0; oi < 4; oi++) {
      const double R = sizes[si] / 2;
      double sd = 0, sg = 0;
      const int M = 200000;
      for (int k = 0; k < M; k++) {
        double p[3];
        do { for (int j = 0; j < 3; j++) p[j] = (2 * gsl_rng_uniform(r) - 1) * R; } while (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] > R * R);
        sd += s17(hypot(offs[oi] + p[0], p[1]), 360);
        sg += s19(hypot(offs[oi] + p[0], p[1]), 320);
      }
      sd /= M; sg /= M;
      const double md = phys_doughnut(offs[oi], 0, 360, sizes[si]), mg = phys_gauss(offs[oi], 0, 320, sizes[si]);
      printf("  size %g nm at %g nm: doughnut %.6f (Monte Carlo %.6f), gaussian %.6f (%.6f)\n", sizes[si], offs[oi], md, sd, mg, sg);
      ck_assert_msg(fabs(md - sd) < 0.01 * sd + 2e-5, "doughnut, size %g at %g: %.6f vs %.6f", sizes[si], offs[oi], md, sd);
      ck_assert_msg(fabs(mg - sg) < 0.01 * sg, "gaussian, size %g at %g: %.6f vs %.6f", sizes[si], offs[oi], mg, sg);
    }
  gsl_rng_free(r);
  /* a point emitter: exactly S17 / S19 */
  ck_assert(fabs(phys_doughnut(0, 0, 360, 0)) < 1e-15);
  ck_assert(fabs(phys_doughnut(30, 40, 360, 0) - s17(50, 360)) < 1e-12);
  ck_assert(fabs(phys_gauss(30, 40, 320, 0) - s19(50, 320)) < 1e-12);
}
END_TEST

START_TEST(test_beam_shape_pin)
{
  phys_scenario s = base();
  s.brightness_hz = 1e6;
  s.gauss_peak_ratio = 0.25;
  phys_model *m = model(&s, 15);
  double sig, bg, dk;
  phys_inputs in = beam_at(0, 0, 1, 1);
  phys_set_inputs(m, 0, &in);
  phys_rates(m, &sig, &bg, &dk);
  ck_assert_msg(fabs(sig - 0.25e6) < 1e-6, "gaussian pin: %g Hz at the peak", sig);
  in.gauss = 0;
  phys_set_inputs(m, 1e-6, &in);
  phys_rates(m, &sig, &bg, &dk);
  ck_assert_msg(sig < 1e-9, "doughnut: %g Hz at its zero", sig);
  in.laser_on = 0;
  in.gauss = 1;
  phys_set_inputs(m, 2e-6, &in);
  phys_rates(m, &sig, &bg, &dk);
  ck_assert_msg(sig == 0 && bg == 0, "laser off: %g signal, %g background", sig, bg);
  phys_free(m);
  s.shape = PHYS_SHAPE_DOUGHNUT;   /* forced: the pin is ignored */
  m = model(&s, 16);
  in.laser_on = 1;
  phys_set_inputs(m, 0, &in);
  phys_rates(m, &sig, &bg, &dk);
  ck_assert_msg(sig < 1e-9, "shape = doughnut but %g Hz at the zero with the gauss pin high", sig);
  phys_free(m);
}
END_TEST

/* ----------------------------------------------- multi-site [sample] ---- */

/* the event log of a multi-site model: time, 'a'ctivate / 'd'ark / 'b'leach, site */
#define EV_MAX 200000
struct site_ev { double t; char what; int site; };
static struct { int n; struct site_ev e[EV_MAX]; } g_ev;
static void on_site_event(void *ctx, double t, const char *what, int site, double x, double y)
{
  (void)ctx; (void)x; (void)y;
  ck_assert_msg(g_ev.n < EV_MAX, "event log full");
  g_ev.e[g_ev.n++] = (struct site_ev){ t, what[0], site };
}

static phys_scenario sites_base(int n, double spacing)
{
  phys_scenario s = base();
  s.n_sites = n;
  for (int i = 0; i < n; i++) { s.site_x_nm[i] = i * spacing; s.site_y_nm[i] = 0; }
  s.first_active = 0;
  return s;
}

/* Integrals of the ON count over [t0, t1] from the event log (the model's own statistics
 * are not used): time with >= 1 and >= 2 ON, integral of n_on, and of the ON sites' mean x
 * over the time >= 1 is on (sites at x = i * spacing). */
struct direct { double ge1, ge2, n, x; };
static struct direct direct_count(int ns, double spacing, double t0, double t1)
{
  struct direct d = { 0, 0, 0, 0 };
  int on[PHYS_SITES_MAX] = { 0 }, n_on = 0;
  double t = 0;
  for (int k = 0; k <= g_ev.n; k++) {
    const double te = k < g_ev.n ? g_ev.e[k].t : INFINITY;
    const double a = t > t0 ? t : t0, b = te < t1 ? te : t1;
    if (b > a) {
      const double dt = b - a;
      double sx = 0;
      for (int i = 0; i < ns; i++) if (on[i]) sx += i * spacing;
      if (n_on >= 1) { d.ge1 += dt; d.x += sx / n_on * dt; }
      if (n_on >= 2) d.ge2 += dt;
      d.n += n_on * dt;
    }
    if (k == g_ev.n || te >= t1) break;
    const int i = g_ev.e[k].site;
    if (g_ev.e[k].what == 'a') { ck_assert_msg(!on[i], "site %d activated while on", i); on[i] = 1; n_on++; }
    else { ck_assert_msg(on[i], "site %d went off while not on", i); on[i] = 0; n_on--; }
    t = te;
  }
  return d;
}

START_TEST(test_sites_switching)
{
  /* 6 independent dyes, laser off (the switching does not depend on it): DARK -> ON at
   * 100/s without and 100 + 900/s with the 405 nm line, ON for 2 ms */
  const int N = 6;
  phys_scenario s = sites_base(N, 30);
  s.t_on_ms = 2;
  s.spontaneous_hz = 100;
  s.activation_hz = 900;
  s.step_us = 50;
  phys_model *m = model(&s, 40);
  g_ev.n = 0;
  phys_on_event(m, on_site_event, NULL);
  ck_assert_int_eq(phys_n_sites(m), N);
  const double TA = 20, TB = 5;
  /* phase A, 405 off: n_on sampled every 25 ms (~15 correlation times apart) */
  const int M = (int)(TA / 0.025) - 1;
  double sn = 0, sn2 = 0, s01 = 0, s0 = 0, s1 = 0;
  for (int k = 1; k <= M; k++) {
    phys_sync(m, k * 0.025);
    int cnt = 0, st0, st1, st;
    double x, y;
    for (int i = 0; i < N; i++) { phys_site(m, i, &x, &y, &st); cnt += st == PHYS_SITE_ON; }
    ck_assert_int_eq(cnt, phys_n_on(m));
    phys_site(m, 0, &x, &y, &st0);
    phys_site(m, 1, &x, &y, &st1);
    sn += cnt; sn2 += cnt * cnt;
    s0 += st0 == PHYS_SITE_ON; s1 += st1 == PHYS_SITE_ON; s01 += (st0 == PHYS_SITE_ON) * (st1 == PHYS_SITE_ON);
  }
  phys_sync(m, TA);
  const phys_stats *st = phys_get_stats(m);
  ck_assert_msg(st->act_405 == 0, "%llu activations by 405 nm with the 405 nm line off", (unsigned long long)st->act_405);
  const uint64_t spontA = st->act_spont;
  phys_inputs in = beam_at(0, 0, 0, 0);
  in.act405 = 1;
  phys_set_inputs(m, TA, &in);
  phys_sync(m, TA + TB);
  /* rates from the event log: activations / time spent DARK, per phase */
  long nA = 0, nB = 0, n_on_ev = 0;
  double on_sum = 0, start[PHYS_SITES_MAX];
  for (int k = 0; k < g_ev.n; k++) {
    const struct site_ev *e = &g_ev.e[k];
    ck_assert_msg(e->what != 'b', "a bleach with bleach_prob 0 and no photon budget");
    if (e->what == 'a') { if (e->t < TA) nA++; else nB++; start[e->site] = e->t; }
    else { on_sum += e->t - start[e->site]; n_on_ev++; }
  }
  const struct direct dA = direct_count(N, 30, 0, TA), dB = direct_count(N, 30, TA, TA + TB);
  const double EA = N * TA - dA.n, EB = N * TB - dB.n;   /* site-seconds DARK */
  const double kA = nA / EA, kB = nB / EB, seA = sqrt(100 / EA), seB = sqrt(1000 / EB);
  const double ton = on_sum / n_on_ev, se_on = 2e-3 / sqrt((double)n_on_ev);
  printf("  sites: DARK -> ON %.2f/s without 405 nm (expected 100, se %.2f, %ld events), %.1f/s with (1000, se %.1f, %ld);"
         " mean ON %.4f ms (2, se %.4f, %ld events)\n", kA, seA, nA, kB, seB, nB, ton * 1e3, se_on * 1e3, n_on_ev);
  ck_assert_msg(fabs(kA - 100) < 5 * seA, "DARK -> ON rate without 405 nm %.2f/s (seed %lu)", kA, g_seed);
  ck_assert_msg(fabs(kB - 1000) < 5 * seB, "DARK -> ON rate with 405 nm %.1f/s (seed %lu)", kB, g_seed);
  ck_assert_msg(fabs(ton - 2e-3) < 5 * se_on, "mean ON time %.4f ms (seed %lu)", ton * 1e3, g_seed);
  /* attribution: spontaneous with probability 100/1000 while the 405 nm line is on */
  const double fsp = (double)(st->act_spont - spontA) / nB, se_f = sqrt(0.1 * 0.9 / nB);
  printf("  sites: with 405 nm %.4f of the activations spontaneous (0.1, se %.4f); counts %llu by 405 nm, %llu spontaneous\n",
         fsp, se_f, (unsigned long long)st->act_405, (unsigned long long)st->act_spont);
  ck_assert_msg(fabs(fsp - 0.1) < 5 * se_f, "spontaneous share %.4f with 405 nm (seed %lu)", fsp, g_seed);
  ck_assert_msg(st->act_405 + st->act_spont == st->activations && st->activations == (uint64_t)(nA + nB), "activation counts");
  /* independence: the ON count of independent sites is Binomial(6, p), p = 0.2 / 1.2 */
  const double p = 0.2 / 1.2, mu = N * p, var = N * p * (1 - p);
  const double mu4 = var * (1 + 3 * (N - 2) * p * (1 - p));
  const double mean = sn / M, v = sn2 / M - mean * mean, se_v = sqrt((mu4 - var * var) / M);
  const double cov = s01 / M - (s0 / M) * (s1 / M), se_c = p * (1 - p) / sqrt(M);
  printf("  sites: n_on at %d instants: mean %.4f (%.4f, se %.4f), variance %.4f (independent %.4f, se %.4f; all together %.2f),"
         " cov(site 0, site 1) %.4f (0, se %.4f)\n", M, mean, mu, sqrt(var / M), v, var, se_v, N * N * p * (1 - p), cov, se_c);
  ck_assert_msg(fabs(mean - mu) < 5 * sqrt(var / M), "mean n_on %.4f (seed %lu)", mean, g_seed);
  ck_assert_msg(fabs(v - var) < 5 * se_v, "variance of n_on %.4f, independent sites %.4f (seed %lu)", v, var, g_seed);
  ck_assert_msg(fabs(cov) < 5 * se_c, "covariance of two sites %.4f (seed %lu)", cov, g_seed);
  /* the model's time-weighted statistics against the direct count from the events */
  const struct direct d = direct_count(N, 30, 0, TA + TB);
  printf("  sites: time >= 1 on %.6f s (direct %.6f), >= 2 on %.6f s (%.6f), integral of n_on %.6f (%.6f)\n",
         st->on_time_s, d.ge1, st->on2_time_s, d.ge2, st->n_on_time_s, d.n);
  ck_assert_msg(fabs(st->on_time_s - d.ge1) < 1e-9 && fabs(st->on2_time_s - d.ge2) < 1e-9 && fabs(st->n_on_time_s - d.n) < 1e-9,
                "time-weighted statistics differ from the direct count");
  ck_assert_msg(d.ge2 > 0.1 * (TA + TB), "too few double-ON periods to test (%.3f s)", d.ge2);
  /* phys_mean / phys_mean_n_on over windows [t0, t1] that end at the model's present */
  for (int w = 0; w < 20; w++) {
    const double t0 = TA + TB + w * 0.04, t1 = t0 + 0.013;
    double x, y, onf, nm;
    ck_assert_int_eq(phys_mean(m, t0, t1, &x, &y, &onf), 0);
    ck_assert_int_eq(phys_mean_n_on(m, t0, t1, &nm), 0);
    const struct direct dw = direct_count(N, 30, t0, t1);
    ck_assert_msg(fabs(onf - dw.ge1 / (t1 - t0)) < 1e-6 && fabs(nm - dw.n / (t1 - t0)) < 1e-6,
                  "window %d: on_frac %.6f (direct %.6f), n_on_mean %.6f (direct %.6f)", w, onf, dw.ge1 / (t1 - t0), nm, dw.n / (t1 - t0));
    if (dw.ge1 > 0) ck_assert_msg(fabs(x - dw.x / dw.ge1) < 1e-6 && fabs(y) < 1e-9, "window %d: mean ON x %.6f, direct %.6f", w, x, dw.x / dw.ge1);
  }
  phys_free(m);
}
END_TEST

START_TEST(test_sites_bleaching)
{
  /* ON events end BLEACHED with probability 0.3: offs per dye are geometric */
  const int N = 200;
  phys_scenario s = sites_base(N, 1);
  s.t_on_ms = 1;
  s.spontaneous_hz = 2000;
  s.bleach_prob = 0.3;
  s.step_us = 100;
  phys_model *m = model(&s, 41);
  phys_sync(m, 1.0);
  const phys_stats *st = phys_get_stats(m);
  int x;
  double a, b;
  phys_emitter(m, &a, &b, &x);
  const double mu = N * 0.7 / 0.3, se = sqrt(N * 0.7 / 0.09);
  printf("  sites: bleach_prob 0.3, %d dyes: %llu bleaches, %llu ON -> DARK (expected %.1f, se %.1f)\n", N,
         (unsigned long long)st->bleaches, (unsigned long long)st->offs, mu, se);
  ck_assert_msg(st->bleaches == (uint64_t)N && x == PHYS_DONE && phys_n_on(m) == 0, "not all %d dyes bleached in 1 s", N);
  ck_assert_msg(st->activations == st->offs + st->bleaches, "every ON event ends once");
  ck_assert_msg(fabs(st->offs - mu) < 5 * se, "%llu ON -> DARK switches (seed %lu)", (unsigned long long)st->offs, g_seed);
  phys_free(m);
  /* photon budget: the signal photon is charged to the site that emitted it. Two ON dyes,
   * the Gaussian beam on site 0 and 226 nm from site 1 (I = 1/4): with exponential budgets
   * of equal mean, site 1 bleaches first with probability 0.25 / 1.25 */
  s = sites_base(2, 0);
  s.site_x_nm[1] = 320 * sqrt(0.5);   /* exp(-4 ln2 r^2 / fwhm^2) = 1/4 */
  s.shape = PHYS_SHAPE_GAUSSIAN;
  s.gauss_fwhm_nm = 320;
  s.brightness_hz = 10e6;
  s.bleach_photons = 200;
  s.t_on_ms = 1e6;
  s.activation_hz = 1e9;   /* both on right away */
  const int R = 400;
  int first1 = 0;
  for (int r = 0; r < R; r++) {
    m = model(&s, 1000 + (unsigned long)r);
    g_ev.n = 0;
    phys_on_event(m, on_site_event, NULL);
    phys_inputs in = beam_at(0, 0, 0, 1);
    in.act405 = 1;
    phys_set_inputs(m, 0, &in);
    phys_sync(m, 1e-6);
    ck_assert_int_eq(phys_n_on(m), 2);
    in.act405 = 0;
    in.laser_on = 1;
    phys_set_inputs(m, 1e-6, &in);
    double t = 1e-6;
    while (phys_n_on(m) == 2 && t < 0.1) { t += 10e-6; phys_sync(m, t); }
    int site = -1;
    for (int k = 0; k < g_ev.n; k++) if (g_ev.e[k].what == 'b') { site = g_ev.e[k].site; break; }
    ck_assert_msg(site >= 0, "no bleach within 0.1 s");
    first1 += site == 1;
    phys_free(m);
  }
  const double f = (double)first1 / R, sef = sqrt(0.2 * 0.8 / R);
  printf("  sites: photon budgets, the dye at I = 1/4 bleached first in %.4f of %d runs (expected 0.2, se %.4f)\n", f, R, sef);
  ck_assert_msg(fabs(f - 0.2) < 5 * sef, "share of runs where the weakly excited dye bleached first %.4f (seed %lu)", f, g_seed);
}
END_TEST

START_TEST(test_sites_signal_sum)
{
  /* two dyes relative to the origin (5, -3), a drift of (100, -50) nm/s: site 0 on at
   * t = 0, site 1 after a 405 nm pulse; the signal rate is the sum over ON sites */
  phys_scenario s = sites_base(2, 0);
  s.x_nm = 5; s.y_nm = -3;
  s.site_x_nm[0] = 10; s.site_y_nm[0] = 20;
  s.site_x_nm[1] = -30; s.site_y_nm[1] = 15;
  s.drift_x_nm_s = 100; s.drift_y_nm_s = -50;
  s.first_active = 1;
  s.activation_hz = 1e9;
  s.t_on_ms = 1e6;
  s.brightness_hz = 1e6;
  s.efficiency = 0.8;
  s.background_hz = 1000;
  s.fwhm_nm = 360;
  s.gauss_fwhm_nm = 320;
  s.gauss_peak_ratio = 0.3;
  phys_model *m = model(&s, 42);
  const double amp = 40000.0 / 49152;
  for (int phase = 0; phase < 2; phase++) {
    const double t = phase ? 0.02 : 0.01;
    if (phase) {   /* a 405 nm pulse switches site 1 on */
      phys_inputs a = beam_at(0, 0, 0, 0);
      a.act405 = 1;
      phys_set_inputs(m, 0.015, &a);
      a.act405 = 0;
      phys_set_inputs(m, 0.015 + 1e-6, &a);
    }
    for (int g = 0; g < 2; g++) {
      phys_inputs in = beam_at(-20, 35, 1, g);
      in.amp_code = 40000;
      phys_set_inputs(m, t + g * 1e-3, &in);
      const double tt = t + g * 1e-3;
      double sig, bg, dk, want = 0, x = 0, y = 0;
      phys_rates(m, &sig, &bg, &dk);
      ck_assert_int_eq(phys_n_on(m), phase + 1);
      for (int i = 0; i <= phase; i++) {
        const double ex = 5 + s.site_x_nm[i] + 100 * tt, ey = -3 + s.site_y_nm[i] - 50 * tt;
        const double r = hypot(ex + 20, ey - 35);
        want += 1e6 * amp * 0.8 * (g ? 0.3 * s19(r, 320) : s17(r, 360));
        x += ex / (phase + 1); y += ey / (phase + 1);
        double sx, sy, sr;
        int st;
        phys_site(m, i, &sx, &sy, &st);
        phys_site_rate(m, i, &sr);
        ck_assert_msg(st == PHYS_SITE_ON && fabs(sx - ex) < 1e-9 && fabs(sy - ey) < 1e-9, "site %d at (%g, %g), expected (%g, %g)", i, sx, sy, ex, ey);
      }
      printf("  sites: %d ON, %s beam: signal %.6f Hz, sum over ON sites by hand %.6f Hz\n", phase + 1, g ? "Gaussian" : "doughnut", sig, want);
      ck_assert_msg(fabs(sig - want) < 1e-9 * want, "signal %.9g Hz, hand %.9g Hz (%d ON)", sig, want, phase + 1);
      ck_assert_msg(fabs(bg - 1000 * 0.8) < 1e-9, "background %g", bg);   /* background_hz: not scaled by power */
      double ex, ey;
      int est;
      phys_emitter(m, &ex, &ey, &est);
      ck_assert_msg(est == PHYS_ON && fabs(ex - x) < 1e-9 && fabs(ey - y) < 1e-9, "emitter (%g, %g), mean of ON sites (%g, %g)", ex, ey, x, y);
    }
  }
  phys_free(m);
  /* and the photons follow: counts in 20 us doughnut gates with both sites on, no drift */
  s.drift_x_nm_s = s.drift_y_nm_s = 0;
  s.background_hz = 0;
  s.dark_hz = 0;
  s.first_active = 0;
  m = model(&s, 43);
  phys_inputs a = beam_at(0, 0, 0, 0);
  a.act405 = 1;
  phys_set_inputs(m, 0, &a);
  a.act405 = 0;
  phys_set_inputs(m, 1e-6, &a);
  ck_assert_int_eq(phys_n_on(m), 2);
  const int G = 4000;
  double sum = 0, mu = 0;
  for (int i = 0; i < 2; i++) mu += 1e6 * 0.8 * s17(hypot(5 + s.site_x_nm[i] + 20, -3 + s.site_y_nm[i] - 35), 360) * 20e-6;
  for (int k = 0; k < G; k++) sum += gate(m, 1e-5 + k * 25e-6, 20e-6, beam_at(-20, 35, 1, 0));
  const double mean = sum / G, se = sqrt(mu / G);
  printf("  sites: 2 ON, doughnut gates: mean %.4f counts (sum of the two sites %.4f, se %.4f)\n", mean, mu, se);
  ck_assert_msg(fabs(mean - mu) < 5 * se, "mean gate count %.4f, expected %.4f (seed %lu)", mean, mu, g_seed);
  phys_free(m);
}
END_TEST

/* -------------------------------------------------------------- parser ---- */

static char g_tmpdir[] = "/tmp/test_scenario_XXXXXX";

static int load_text(const char *text, char *err, size_t n)
{
  char path[256];
  snprintf(path, sizeof path, "%s/s.ini", g_tmpdir);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  phys_scenario s;
  phys_defaults(&s);
  return phys_load(path, &s, err, n);
}

static void refused(const char *text, const char *must1, const char *must2)
{
  char err[1024];
  ck_assert_msg(load_text(text, err, sizeof err) == -1, "accepted:\n%s", text);
  ck_assert_msg(strstr(err, must1) && (!must2 || strstr(err, must2)), "message '%s' lacks '%s' / '%s'", err, must1, must2 ? must2 : "");
  ck_assert_msg(!strchr(err, '\n'), "message has several lines: %s", err);
}

START_TEST(test_parser_refusals)
{
  refused("[beam]\nfwhm = 300\n", "unknown key [beam] fwhm", "allowed in [beam]: fwhm_nm");
  refused("[optics]\nfwhm_nm = 300\n", "unknown section [optics]", "[photophysics]");
  refused("[beam]\nfwhm_nm = 5\n", "[beam] fwhm_nm = '5' is not a number in [10, 100000]", NULL);
  refused("[beam]\nfwhm_nm = wide\n", "fwhm_nm = 'wide' is not a number", NULL);
  refused("[beam]\nfwhm_nm = nan\n", "fwhm_nm = 'nan'", NULL);
  refused("[photophysics]\nmolecules = 1.5\n", "molecules = '1.5' is not an integer in [1, 1e+06]", NULL);
  refused("[trajectory]\nmodel = spiral\n", "model = 'spiral' is not one of: static, brownian, lissajous, steps, csv", NULL);
  refused("[beam]\nshape = square\n", "shape = 'square' is not one of: pin, doughnut, gaussian", NULL);
  refused("[beam]\nfwhm_nm = 300\nfwhm_nm = 310\n", "[beam] fwhm_nm is given twice", NULL);
  refused("[sim]\nseed = -3\n", "[sim] seed = '-3' is not an integer", NULL);
  refused("[detection]\napd1_fraction = 1.2\n", "apd1_fraction = '1.2' is not a number in [0, 1]", NULL);
  refused("[trajectory]\nmodel = csv\n", "model = csv needs csv = FILE", NULL);
  refused("[trajectory]\nmodel = csv\ncsv = missing.csv\n", "cannot open trajectory script", "missing.csv");
  refused("[trajectory]\ncsv = x.csv\n", "csv is used only with model = csv", NULL);
  refused("[photophysics]\nfirst_active = 0\n", "activation_hz and spontaneous_hz are both 0", NULL);
  refused("[photophysics]\nmolecules = 3\nspontaneous_hz = 1\n", "bleach_photons = 0", NULL);
  refused("[emitter]\nsize_nm = 400\n", "size_nm = 400 must be smaller than [beam] fwhm_nm", NULL);
  refused("just words\n", "not an INI line", NULL);
  refused("fwhm_nm = 300\n[beam]\n", "unknown key fwhm_nm outside a section", "[beam]");
  char csv[300];
  snprintf(csv, sizeof csv, "%s/bad.csv", g_tmpdir);
  FILE *f = fopen(csv, "w");
  fprintf(f, "t_s,x_nm,y_nm\n0,1,2\n0.5,1\n");
  fclose(f);
  refused("[trajectory]\nmodel = csv\ncsv = bad.csv\n", "bad.csv:3: expected t_s,x_nm,y_nm", NULL);
  f = fopen(csv, "w");
  fprintf(f, "0,1,2\n0.5,1,1\n0.4,0,0\n");
  fclose(f);
  refused("[trajectory]\nmodel = csv\ncsv = bad.csv\n", "bad.csv:3: t_s = 0.4 is not after", NULL);
  /* relative to the scenario's directory, and accepted when good */
  f = fopen(csv, "w");
  fprintf(f, "0,1,2\n0.5,1,1\n");
  fclose(f);
  char err[1024];
  ck_assert_msg(load_text("[trajectory]\nmodel = csv\ncsv = bad.csv\n", err, sizeof err) == 0, "%s", err);
  ck_assert_msg(load_text("[beam]\nfwhm_nm = 400 ; inline comment\n[sim]\nseed = 0x10\n", err, sizeof err) == 0, "%s", err);
}
END_TEST

static int load_scn(const char *text, phys_scenario *s, char *err, size_t n)
{
  char path[256];
  snprintf(path, sizeof path, "%s/s.ini", g_tmpdir);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  phys_defaults(s);
  return phys_load(path, s, err, n);
}

START_TEST(test_parser_sites)
{
#define PH "[photophysics]\nspontaneous_hz = 1\n"
  refused("[sample]\nsites_nm = 0,0 12\n" PH, "[sample] sites_nm: site 2 '12' has no ',y'", "x,y pairs");
  refused("[sample]\nsites_nm = 0,0 a,b\n" PH, "[sample] sites_nm: site 2 'a,b' is not x,y", NULL);
  refused("[sample]\nsites_nm = 0,0 12,x\n" PH, "site 2 '12,x' is not x,y", NULL);
  refused("[sample]\nsites_nm = 0,0,5\n" PH, "after site 1 (0, 0) comes ',5'", NULL);
  refused("[sample]\nsites_nm = 0,0 12,0 0,0\n" PH, "site 3 (0, 0) repeats site 1", NULL);
  refused("[sample]\nsites_nm = 0,0 2e4,0\n" PH, "site 2 (20000, 0): coordinates must lie in [-10000, 10000]", NULL);
  refused("[sample]\nsites_nm =\n" PH, "[sample] sites_nm is empty", NULL);
  refused("[sample]\nsites_nm = 0,0 12,0\n", "[sample] sites switch DARK -> ON", "set one of them > 0");
  refused("[sample]\nsites_nm = 0,0\ngrid_nx = 2\n" PH, "either sites_nm or grid_nx/grid_ny/grid_nm", NULL);
  refused("[sample]\ngrid_nx = 2\ngrid_nm = 6\n" PH, "a grid needs grid_nx, grid_ny and grid_nm (missing: grid_ny", NULL);
  refused("[sample]\ngrid_nx = 17\n" PH, "grid_nx = '17' is not an integer in [1, 16]", NULL);
  refused("[sample]\ndrift_x_nm_s = 1\n", "[sample] drift_x_nm_s needs sites", NULL);
  refused("[photophysics]\nbleach_prob = 0.1\n", "bleach_prob is used only with [sample] sites", NULL);
  refused("[photophysics]\nbleach_prob = 1.5\n", "bleach_prob = '1.5' is not a number in [0, 1]", NULL);
  refused("[sample]\nsites_nm = 0,0 6,0\n[trajectory]\nmodel = brownian\n" PH, "model = brownian with [sample] sites", NULL);
  refused("[sample]\nsites_nm = 0,0 6,0\n" PH "molecules = 3\nbleach_photons = 10\n", "[photophysics] molecules is for a single molecule", NULL);
  refused("[sample]\nsites_nm = 0,0 6,0\n" PH "t_off_ms = 1\n", "[photophysics] t_off_ms is for a single molecule", NULL);
  refused("[sample]\nsites = 0,0\n", "unknown key [sample] sites", "allowed in [sample]: sites_nm, grid_nx");
  /* accepted: spaces, ';' after a number, blanks around the comma, continuation lines */
  phys_scenario s;
  char err[1024];
  ck_assert_msg(load_scn("[sample]\nsites_nm = -12,-6; 0, -6  12 ,-6\n  -3,12 3,12\n" PH, &s, err, sizeof err) == 0, "%s", err);
  const double want[5][2] = { { -12, -6 }, { 0, -6 }, { 12, -6 }, { -3, 12 }, { 3, 12 } };
  ck_assert_int_eq(s.n_sites, 5);
  for (int i = 0; i < 5; i++) ck_assert(s.site_x_nm[i] == want[i][0] && s.site_y_nm[i] == want[i][1]);
  /* a grid is centred on (x_nm, y_nm), rows along x */
  ck_assert_msg(load_scn("[sample]\ngrid_nx = 3\ngrid_ny = 2\ngrid_nm = 6\n" PH, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(s.n_sites, 6);
  ck_assert(s.site_x_nm[0] == -6 && s.site_y_nm[0] == -3 && s.site_x_nm[5] == 6 && s.site_y_nm[5] == 3 && s.site_x_nm[1] == 0);
  ck_assert_msg(load_scn("[sample]\ngrid_nx = 16\ngrid_ny = 16\ngrid_nm = 1\n" PH, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(s.n_sites, 256);
  /* single-molecule scenarios have no sites */
  ck_assert_msg(load_scn("[emitter]\nx_nm = 3\n", &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(s.n_sites, 0);
#undef PH
}
END_TEST

START_TEST(test_shipped_scenarios_and_docs)
{
  const char *dir = getenv("SCENARIO_DIR") ? getenv("SCENARIO_DIR") : "sim/scenarios";
  char pat[512];
  snprintf(pat, sizeof pat, "%s/*.ini", dir);
  glob_t g;
  ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
  const char *want[] = { "static.ini", "noisy-link.ini", "lissajous.ini", "lissajous-bright.ini", "lissajous-L50.ini",
                         "ribosome.ini", "kinesin-steps.ini", "origami.ini" };
  for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
    int found = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) found |= strstr(g.gl_pathv[i], want[w]) && strlen(strstr(g.gl_pathv[i], want[w])) == strlen(want[w]);
    ck_assert_msg(found, "scenario %s/%s missing", dir, want[w]);
  }
  for (size_t i = 0; i < g.gl_pathc; i++) {
    phys_scenario s;
    char err[1024];
    phys_defaults(&s);
    ck_assert_msg(phys_load(g.gl_pathv[i], &s, err, sizeof err) == 0, "%s", err);
    phys_model *m = phys_new(&s, 1, err, sizeof err);
    ck_assert_msg(m != NULL, "%s: %s", g.gl_pathv[i], err);
    phys_free(m);
  }
  globfree(&g);
  /* every key is documented in docs/physics.md as `key` in its section's table */
  const char *doc = getenv("PHYSICS_DOC") ? getenv("PHYSICS_DOC") : "docs/physics.md";
  FILE *f = fopen(doc, "r");
  ck_assert_msg(f != NULL, "cannot open %s", doc);
  static char text[200000];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = 0;
  fclose(f);
  char name[128];
  for (size_t i = 0; phys_key_name(i, name, sizeof name); i++) {
    char *dot = strchr(name, '.'), sec[160], key[160];
    *dot = 0;
    snprintf(sec, sizeof sec, "### [%s]", name);
    snprintf(key, sizeof key, "| `%s` |", dot + 1);
    const char *at = strstr(text, sec);
    ck_assert_msg(at != NULL, "%s has no heading '%s'", doc, sec);
    const char *next = strstr(at + 1, "\n### ");
    const char *k = strstr(at, key);
    ck_assert_msg(k && (!next || k < next), "%s: key %s of [%s] is not documented (a row '%s' under '%s')", doc, dot + 1, name, key, sec);
  }
}
END_TEST

static Suite *physics_suite(void)
{
  Suite *s = suite_create("physics");
  TCase *t = tcase_create("statistics");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_poisson_counts);
  tcase_add_test(t, test_dead_time);
  tcase_add_test(t, test_two_apds);
  tcase_add_test(t, test_blinking);
  tcase_add_test(t, test_bleaching);
  tcase_add_test(t, test_activation);
  tcase_add_test(t, test_brownian_msd);
  tcase_add_test(t, test_lissajous);
  tcase_add_test(t, test_steps);
  tcase_add_test(t, test_csv_script);
  tcase_add_test(t, test_settling_lag);
  tcase_add_test(t, test_emitter_size);
  tcase_add_test(t, test_beam_shape_pin);
  tcase_add_test(t, test_sites_switching);
  tcase_add_test(t, test_sites_bleaching);
  tcase_add_test(t, test_sites_signal_sum);
  suite_add_tcase(s, t);
  t = tcase_create("scenarios");
  tcase_add_test(t, test_parser_refusals);
  tcase_add_test(t, test_parser_sites);
  tcase_add_test(t, test_shipped_scenarios_and_docs);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  const char *env = getenv("PHYS_SEED");
  g_seed = env && *env ? strtoul(env, NULL, 0) : (unsigned long)time(NULL);
  printf("test_physics: seed %lu (PHYS_SEED=%lu to repeat)\n", g_seed, g_seed);
  fflush(stdout);
  if (!mkdtemp(g_tmpdir)) { perror("mkdtemp"); return 1; }
  SRunner *sr = srunner_create(physics_suite());
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
  if (system(cmd)) {}
  return failed ? 1 : 0;
}
