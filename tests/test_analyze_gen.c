/* test_analyze_gen: writes synthetic acquisition directories for the analysis tests and
 * the bench, in exactly the format `minflux acquire` writes (raw.mfx = magic, JSON header,
 * CYCLE frames from the protocol library's encoder; truth.csv), with the physics done here
 * independently of the analysis code:
 *   scenario=track  2D Brownian emitters (diffusion D) that blink (exponential on/off
 *                   times), bleach after an exponential lifetime and are followed by a dark
 *                   gap and a new emitter; a doughnut beam (S17) with the 4-exposure pattern
 *                   (S24), Poisson photons per gate (3 sub-steps per gate for motion blur),
 *                   background; the live mLMS of the firmware (hls-c/mlms.c, bit-exact) and a
 *                   proportional controller that re-centres the pattern after every valid
 *                   estimate; truth.csv = emitter position averaged over each cycle (S82).
 *   scenario=image  a few static emitters near the centre that switch on one at a time for
 *                   exponential emission events, fixed pattern, background (mode image).
 *   scenario=static one static emitter, no blinking (like sim/scenarios/static.ini).
 * Usage: test_analyze_gen DIR key=value ...   (keys and defaults: --help). Prints the seed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "est_float.h"
#include "est_regs.h"
#include "mfx_files.h"
#include "protocol.h"

typedef struct {
  char scenario[16];
  unsigned long seed;
  double duration_s, cycles;
  double D_um2_s, t_on_ms, t_off_ms, bleach_s, gap_s;
  double brightness_hz, background_hz;
  double L_nm, fwhm_nm, gain, thresh;
  double event_ms, dark_ms;
  double x_nm, y_nm;
  double agg;
} gen_par;

static void defaults(gen_par *p)
{
  memset(p, 0, sizeof *p);
  snprintf(p->scenario, sizeof p->scenario, "track");
  p->seed = 1;
  p->duration_s = 2;
  p->cycles = 0;
  p->D_um2_s = 0.4;
  p->t_on_ms = 2;
  p->t_off_ms = 0.6;
  p->bleach_s = 0.5;
  p->gap_s = 0.15;
  p->brightness_hz = 1.5e6;
  p->background_hz = 15e3;
  p->L_nm = 130;
  p->fwhm_nm = 450;
  p->gain = 0.5;
  p->thresh = 6;
  p->event_ms = 30;
  p->dark_ms = 60;
  p->x_nm = 12;
  p->y_nm = -8;
  p->agg = 1;
}

static int set(gen_par *p, const char *k, const char *v)
{
  if (!strcmp(k, "scenario")) {
    if (strcmp(v, "track") && strcmp(v, "image") && strcmp(v, "static")) return -1;
    snprintf(p->scenario, sizeof p->scenario, "%s", v);
    return 0;
  }
  char *end;
  const double d = strtod(v, &end);
  if (end == v || *end || !isfinite(d)) return -1;
  struct { const char *n; double *f; } keys[] = {
    { "duration_s", &p->duration_s }, { "cycles", &p->cycles }, { "D_um2_s", &p->D_um2_s },
    { "t_on_ms", &p->t_on_ms }, { "t_off_ms", &p->t_off_ms }, { "bleach_s", &p->bleach_s },
    { "gap_s", &p->gap_s }, { "brightness_hz", &p->brightness_hz }, { "background_hz", &p->background_hz },
    { "L_nm", &p->L_nm }, { "fwhm_nm", &p->fwhm_nm }, { "gain", &p->gain }, { "thresh", &p->thresh },
    { "event_ms", &p->event_ms }, { "dark_ms", &p->dark_ms }, { "x_nm", &p->x_nm }, { "y_nm", &p->y_nm }, { "agg", &p->agg } };
  if (!strcmp(k, "seed")) { p->seed = (unsigned long)d; return 0; }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (!strcmp(k, keys[i].n)) { *keys[i].f = d; return 0; }
  return -1;
}

/* firmware timing at 48 MHz for 8 kHz: K 4, delay 355, gate 1120, window 99 (+1 start) */
#define CLK 48000000.0
#define K 4
#define DELAY 355
#define GATE 1120
#define WIN 99
#define PERIOD (1 + K * (DELAY + GATE) + WIN)
#define EOD 0.1   /* nm per DAC LSB */

typedef struct {
  gsl_rng *r;
  FILE *raw, *truth;
  mlms_regs_t mr;
  mf_ebp_t ebp;
  gen_par p;
  uint64_t cycle;
  double ex, ey;          /* emitter */
  int on, alive;
  double next_event_s;    /* blink / bleach / gap schedule */
  double life_end_s;
  double cx, cy;          /* pattern centre, nm (a multiple of EOD) */
  double tl;              /* time of the emitter position */
  double n0_avg;          /* running <n0/N> of the controller's loss detection */
  int dark_cycles;        /* cycles since the last valid estimate */
  int scan_left;          /* cycles of re-initiation left (the pattern parked, state 2) */
} gen;

#define CELL_NM 1500   /* emitters diffuse in a box |x|, |y| <= 1.5 um (reflecting walls) */
#define SAFE_NM 3000   /* the firmware's safe window: the centre is clamped to it */

static double reflect(double v)
{
  while (v > CELL_NM || v < -CELL_NM) v = v > CELL_NM ? 2 * CELL_NM - v : -2 * CELL_NM - v;
  return v;
}

/* Brownian motion from g->tl to t */
static void brown(gen *g, double t, double D)
{
  const double sd = sqrt(2 * D * (t - g->tl));
  g->ex = reflect(g->ex + gsl_ran_gaussian(g->r, sd));
  g->ey = reflect(g->ey + gsl_ran_gaussian(g->r, sd));
}

static void write_header(gen *g)
{
  const gen_par *p = &g->p;
  const int img = !strcmp(p->scenario, "image");
  fprintf(g->raw, "%s", MFX_RAW_MAGIC);
  fprintf(g->raw, "{\"format\":1,\"start_time\":\"1970-01-01T00:00:00Z\",\"board\":\"synthetic:test_analyze_gen %s seed %lu\","
          "\"firmware\":{\"id\":%u,\"version\":%u,\"clk_hz\":%d},\"config\":{\"mode\":\"%s\",\"cycle_hz\":\"8000\",\"k\":\"4\","
          "\"delay_us\":\"7.4\",\"window_us\":\"2\",\"L_nm\":\"%.17g\",\"fwhm_nm\":\"%.17g\",\"eod_nm_per_lsb\":\"0.1\","
          "\"centre_x_nm\":\"0\",\"centre_y_nm\":\"0\",\"est_k\":\"1\",\"beta0\":\"1.27\",\"beta1\":\"3.8\",\"beta2\":\"0\","
          "\"thresh\":\"%g\",\"agg\":\"%g\"},\"registers\":{\"k\":%d,\"delay\":%d,\"gate\":%d,\"win\":%d,\"ncycles\":%.0f,\"agg\":%g},"
          "\"duration_s_requested\":%.9g,\"cycle_hz\":%.6f}\n",
          p->scenario, p->seed, (unsigned)MINFLUX_DESIGN_ID, (unsigned)MINFLUX_DESIGN_VERSION, (int)CLK,
          img ? "image" : "track", p->L_nm, p->fwhm_nm, p->thresh, p->agg, K, DELAY, GATE, WIN, p->cycles, p->agg,
          p->cycles / (CLK / PERIOD), CLK / PERIOD);
}

/* Advances the blinking/bleaching state machine to time t. */
static void schedule(gen *g, double t)
{
  const gen_par *p = &g->p;
  while (t >= g->next_event_s) {
    const double te = g->next_event_s;
    if (!strcmp(p->scenario, "image")) {
      g->on = !g->on;
      if (g->on) {   /* a new event of one of four static emitters */
        static const double pos[4][2] = { { 20, 15 }, { -25, 10 }, { 5, -30 }, { -10, -5 } };
        const int k = (int)gsl_rng_uniform_int(g->r, 4);
        g->ex = pos[k][0]; g->ey = pos[k][1];
      }
      g->next_event_s = te + gsl_ran_exponential(g->r, (g->on ? p->event_ms : p->dark_ms) * 1e-3);
      continue;
    }
    if (!g->alive) {             /* the gap is over: a new emitter, found by the initiation */
      g->alive = 1;
      g->on = 1;
      g->ex = (2 * gsl_rng_uniform(g->r) - 1) * 0.6 * CELL_NM;
      g->ey = (2 * gsl_rng_uniform(g->r) - 1) * 0.6 * CELL_NM;
      g->cx = EOD * lround((g->ex + gsl_ran_gaussian(g->r, 20)) / EOD);
      g->cy = EOD * lround((g->ey + gsl_ran_gaussian(g->r, 20)) / EOD);
      g->n0_avg = 0;
      g->dark_cycles = 0;
      g->life_end_s = te + gsl_ran_exponential(g->r, p->bleach_s);
      g->next_event_s = te + gsl_ran_exponential(g->r, p->t_on_ms * 1e-3);
      continue;
    }
    if (te >= g->life_end_s) {   /* bleached: background only for gap_s */
      g->alive = 0;
      g->on = 0;
      g->next_event_s = te + p->gap_s;
      continue;
    }
    g->on = !g->on;
    g->next_event_s = te + gsl_ran_exponential(g->r, (g->on ? p->t_on_ms : p->t_off_ms) * 1e-3);
    if (g->next_event_s > g->life_end_s) g->next_event_s = g->life_end_s;
  }
}

static int run(gen *g, uint64_t ncycles)
{
  const gen_par *p = &g->p;
  const int diffuse = !strcmp(p->scenario, "track");
  const double D = p->D_um2_s * 1e6;   /* nm^2/s */
  const double sub_s = GATE / CLK / 3;
  uint8_t payload[64], frame[MFX_FRAME_MAX];
  const unsigned agg = (unsigned)p->agg;
  for (uint64_t rc = 0; rc < ncycles / agg; rc++) {
    mfx_cycle rec;
    memset(&rec, 0, sizeof rec);
    rec.k = K;
    unsigned cnt[K][2] = { { 0 } };
    for (unsigned a = 0; a < agg; a++) {   /* agg cycles summed into one record */
    const uint64_t c = rc * agg + a;
    const double t0 = (double)(c * PERIOD) / CLK;
    double sx = 0, sy = 0;
    int ns = 0, on_sub = 0;
    /* the time line of the cycle: start, then K x (delay, gate), window */
    double t = t0 + (1 + DELAY) / CLK;
    for (int k = 0; k < K; k++) {
      double lam = 0;
      for (int s = 0; s < 3; s++) {
        const double ts = t + (s + 0.5) * sub_s;
        schedule(g, ts);
        if (diffuse && g->alive) brown(g, ts, D);
        g->tl = ts;
        sx += g->ex; sy += g->ey; ns++;
        on_sub += g->on;
        if (g->on) lam += p->brightness_hz * sub_s * mf_doughnut(g->ex - g->cx - g->ebp.bx[k], g->ey - g->cy - g->ebp.by[k], p->fwhm_nm);
      }
      lam += p->background_hz * GATE / CLK;
      const unsigned n = gsl_ran_poisson(g->r, lam);
      const unsigned b = gsl_ran_binomial(g->r, 0.5, n);
      cnt[k][0] += b;
      cnt[k][1] += n - b;
      t += (DELAY + GATE) / CLK;
    }
    fprintf(g->truth, "%.9f,%.3f,%.3f,%d\n", t0, sx / ns, sy / ns, 2 * on_sub > ns);
    }
    uint16_t q[4];
    for (int k = 0; k < K; k++) {
      rec.counts[k][0] = (uint16_t)(cnt[k][0] > 4095 ? 4095 : cnt[k][0]);
      rec.counts[k][1] = (uint16_t)(cnt[k][1] > 4095 ? 4095 : cnt[k][1]);
      q[k] = (uint16_t)(rec.counts[k][0] + rec.counts[k][1]);
    }
    const uint64_t c = rc * agg + agg - 1;   /* the record's timestamp: its last cycle */
    est_out_t o;
    mlms_eval(&g->mr, q, &o);
    rec.seq = (uint16_t)rc;
    rec.ts = (uint32_t)(c * PERIOD);
    rec.cx = (int16_t)lround(g->cx / EOD);
    rec.cy = (int16_t)lround(g->cy / EOD);
    rec.ex = o.x;
    rec.ey = o.y;
    /* controller states as in issue #5: 3 tracking, 1 search (the re-initiation) */
    rec.flags = (uint8_t)((o.ok ? MFX_FLAG_EST_VALID : 0) | (diffuse ? (g->scan_left ? 1 : 3) << MFX_FLAG_STATE_SHIFT : 0));
    const size_t len = mfx_cycle_encode(&rec, payload);
    const size_t fl = mfx_frame_encode(frame, MINFLUX_PROTO_T_CYCLE, payload, (uint8_t)len);
    if (fwrite(frame, 1, fl, g->raw) != fl) return -1;
    /* the controller (tracking only): move by a fraction of a valid estimate; declare the
     * emitter lost when <n0/N> (running, 16 cycles) reaches 0.25 or nothing valid came for
     * 100 cycles, then park for 40 records (state 1, search) and re-initiate near the emitter
     * (6.4.2) */
    if (diffuse) {
      if (g->scan_left) {
        if (--g->scan_left == 0 && g->alive) {
          g->cx = EOD * lround((g->ex + gsl_ran_gaussian(g->r, 20)) / EOD);
          g->cy = EOD * lround((g->ey + gsl_ran_gaussian(g->r, 20)) / EOD);
          g->n0_avg = 0;
          g->dark_cycles = 0;
        }
      } else if (o.ok) {
        const unsigned N = q[0] + q[1] + q[2] + q[3];
        g->n0_avg += (q[0] / (double)N - g->n0_avg) / 16;
        g->dark_cycles = 0;
        g->cx = fmin(fmax(EOD * lround((g->cx + p->gain * est_pos_nm(o.x)) / EOD), -SAFE_NM), SAFE_NM);
        g->cy = fmin(fmax(EOD * lround((g->cy + p->gain * est_pos_nm(o.y)) / EOD), -SAFE_NM), SAFE_NM);
      } else {
        g->dark_cycles++;
      }
      if (!g->scan_left && (g->n0_avg >= 0.25 || g->dark_cycles >= 100)) g->scan_left = 40;
    }
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    printf("usage: test_analyze_gen DIR [key=value ...]\n"
           "keys: scenario=track|image|static seed=1 duration_s=2 (or cycles=N) D_um2_s=0.4 t_on_ms=2 t_off_ms=0.6\n"
           "      bleach_s=0.5 gap_s=0.15 brightness_hz=1.5e6 background_hz=15e3 L_nm=130 fwhm_nm=450 gain=0.5\n"
           "      thresh=6 event_ms=30 dark_ms=60 (image) x_nm=12 y_nm=-8 (static) agg=1 (cycles per record)\n");
    return argc < 2 ? 2 : 0;
  }
  gen g;
  memset(&g, 0, sizeof g);
  defaults(&g.p);
  for (int i = 2; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) { fprintf(stderr, "test_analyze_gen: '%s' is not key=value\n", argv[i]); return 2; }
    *eq = 0;
    if (set(&g.p, argv[i], eq + 1)) { fprintf(stderr, "test_analyze_gen: bad key or value '%s=%s'\n", argv[i], eq + 1); return 2; }
  }
  gen_par *p = &g.p;
  if (p->agg < 1 || p->agg > 255 || p->agg != floor(p->agg)) { fprintf(stderr, "test_analyze_gen: agg = %g: must be an integer 1..255\n", p->agg); return 2; }
  if (p->cycles <= 0) p->cycles = round(p->duration_s * CLK / PERIOD);
  p->cycles = p->agg * floor(p->cycles / p->agg);
  if (mkdir(argv[1], 0777) && errno != EEXIST) { fprintf(stderr, "test_analyze_gen: cannot create %s: %s\n", argv[1], strerror(errno)); return 1; }
  char path[4200], err[256];
  const double beta[3] = { 1.27, 3.8, 0 };
  if (est_mlms_regs(p->L_nm, p->fwhm_nm, 1, beta, (unsigned)p->thresh, &g.mr, err, sizeof err)) { fprintf(stderr, "test_analyze_gen: %s\n", err); return 2; }
  mf_ebp4(p->L_nm, p->fwhm_nm, &g.ebp);
  snprintf(path, sizeof path, "%s/raw.mfx", argv[1]);
  g.raw = fopen(path, "wb");
  snprintf(path, sizeof path, "%s/truth.csv", argv[1]);
  g.truth = fopen(path, "w");
  if (!g.raw || !g.truth) { fprintf(stderr, "test_analyze_gen: cannot write into %s\n", argv[1]); return 1; }
  fprintf(g.truth, "t_s,x_nm,y_nm,on\n");
  g.r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g.r, p->seed);
  write_header(&g);
  if (!strcmp(p->scenario, "static")) {
    g.ex = p->x_nm; g.ey = p->y_nm; g.on = 1; g.alive = 1; g.next_event_s = INFINITY;
  } else if (!strcmp(p->scenario, "image")) {
    g.on = 0; g.next_event_s = 0;
  } else {
    g.alive = 0; g.on = 0; g.next_event_s = 0;   /* the first emitter appears at t = 0 */
  }
  const int rc = run(&g, (uint64_t)p->cycles);
  gsl_rng_free(g.r);
  if (rc || fclose(g.raw) || fclose(g.truth)) { fprintf(stderr, "test_analyze_gen: writing %s failed\n", argv[1]); return 1; }
  printf("test_analyze_gen: %s, %.0f cycles, seed %lu -> %s\n", p->scenario, p->cycles, p->seed, argv[1]);
  return 0;
}
