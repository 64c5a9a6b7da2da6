/* The Bayesian block in the virtual board's firmware (hdl/bayes_run.v in minflux_system,
 * photons from the physics model) against its C model, through the host link: every
 * exposure record's beam, laser code, MAP, std, lev, status and exposure count must equal
 * what hls-c/bayes.c computes from the recorded counts. Also: the block places the beam
 * inside the safe window (the DAC never clamps it), the photon budget and the std target stop a localization (done flag, sequencer
 * idle), CTRL stop ends one after the current exposure, writes during a run are ignored.
 *   test_bayes_vboard [--seed S] [--locs N]      (MINFLUX_VBOARD: the virtual board)
 * Prints "vboard bayes: R records, L localizations, M mismatches (seed S)". */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bayes.h"
#include "bayes_float.h"
#include "bayes_regs.h"
#include "link.h"
#include "acq_bayes.h"

#define MAXREC 20000

typedef struct {
  mfx_cycle r[MAXREC];
  int n;
  int gaps;
  int have;
  uint16_t last;
} recs_t;

static void on_cycle(void *ctx, const mfx_cycle *c)
{
  recs_t *s = ctx;
  if (s->have && (uint16_t)(s->last + 1) != c->seq) s->gaps++;
  s->have = 1;
  s->last = c->seq;
  if (s->n < MAXREC) s->r[s->n++] = *c;
}


static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static int wr(mfx_link *l, uint8_t a, uint32_t v)
{
  if (mfx_reg_write(l, a, v)) { fprintf(stderr, "test_bayes_vboard: write 0x%02x: %s\n", a, l->err); exit(1); }
  return 0;
}
static uint32_t rd(mfx_link *l, uint8_t a)
{
  uint32_t v;
  if (mfx_reg_read(l, a, &v)) { fprintf(stderr, "test_bayes_vboard: read 0x%02x: %s\n", a, l->err); exit(1); }
  return v;
}

static void write_regs(mfx_link *l, const bayes_regs_t *g)
{
  if (acq_bayes_write_regs(l, g)) { fprintf(stderr, "test_bayes_vboard: Bayesian registers: %s\n", l->err); exit(1); }
}

/* Runs one localization (start .. sequencer idle, or CTRL stop after stop_after records);
 * returns the records in s. */
static void run_loc(mfx_link *l, recs_t *s, int stop_after, double tmax_s, int poke)
{
  s->n = 0;
  wr(l, MINFLUX_REG_CTRL, 1);
  if (poke) {   /* parameter writes during a run must not take (the replay would differ) */
    wr(l, MINFLUX_REG_BAYES_MU, 1000);
    wr(l, MINFLUX_REG_BAYES_DTAB, 40u << 16 | 7);
    wr(l, MINFLUX_REG_BAYES_MODE, 0);
  }
  const clock_t t0 = clock();
  int stopped = 0, idle_polls = 0;
  for (;;) {
    if (mfx_link_poll(l, 20) < 0) { fprintf(stderr, "test_bayes_vboard: %s\n", l->err); exit(1); }
    if (stop_after > 0 && !stopped && s->n >= stop_after) { wr(l, MINFLUX_REG_CTRL, 2); stopped = 1; }
    if ((rd(l, MINFLUX_REG_BAYES_STATUS) & 1u) == 0) {
      if (++idle_polls >= 2) break;   /* then drain what is still on its way */
    }
    if ((double)(clock() - t0) / CLOCKS_PER_SEC > tmax_s) {
      fprintf(stderr, "test_bayes_vboard: localization still running after %.0f s CPU\n", tmax_s);
      failures++;
      wr(l, MINFLUX_REG_CTRL, 4);
      break;
    }
  }
  for (int i = 0; i < 10; i++) mfx_link_poll(l, 20);
}

/* The records of one localization against the C model (host/acq_bayes.c, the replay
 * `minflux acquire` uses); every record must also be a Bayesian K = 4 record. Returns the
 * records that differ. */
static int replay(const bayes_regs_t *g, const recs_t *s, bayes_out_t *last)
{
  static acq_bayes_rec r[MAXREC];
  static bayes_state_t st;
  int foreign = 0;
  for (int i = 0; i < s->n; i++) {
    acq_bayes_decode(&s->r[i], &r[i]);
    foreign += (s->r[i].flags & 0x0Fu) != (MFX_FLAG_EST_VALID | MFX_FLAG_BAYES) || s->r[i].k != 4;
  }
  char first[200];
  const int bad = (int)acq_bayes_replay(g, r, (size_t)s->n, &st, last, first, sizeof first);
  if (bad) fprintf(stderr, "  %d of %d records differ from the model, first: %s\n", bad, s->n, first);
  if (foreign) fprintf(stderr, "  %d records without the Bayesian flags or K = 4\n", foreign);
  return bad + foreign;
}

int main(int argc, char **argv)
{
  uint32_t seed = (uint32_t)time(NULL);
  int locs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--seed")) seed = (uint32_t)strtoul(argv[i + 1], NULL, 0);
    else if (!strcmp(argv[i], "--locs")) locs = atoi(argv[i + 1]);
  }
  printf("test_bayes_vboard: seed %u (rerun: test_bayes_vboard --seed %u)\n", seed, seed);
  char err[320];
  mfx_transport *t = mfx_board_open("sim", NULL, err, sizeof err);
  if (!t) { fprintf(stderr, "test_bayes_vboard: %s\n", err); return 1; }
  mfx_link l;
  mfx_link_init(&l, t);
  static recs_t s;
  l.on_cycle = on_cycle;
  l.cycle_ctx = &s;
  if (rd(&l, MINFLUX_REG_BAYES_MODE) != 0) { fprintf(stderr, "FAIL: BAYES_MODE is not 0 after reset\n"); failures++; }
  wr(&l, MINFLUX_REG_BAYES_MODE, 1);
  if (rd(&l, MINFLUX_REG_BAYES_MODE) != 1) {
    fprintf(stderr, "test_bayes_vboard: this firmware has no Bayesian block (BAYES_MODE reads 0)\n");
    return 1;
  }
  /* 12 Mbaud: a record takes 1280 clocks on the link, an exposure >= ~3300 (3 Mbaud would
   * drop records: 5120 clocks each) */
  if (mfx_link_set_rate(&l, 12000000)) { fprintf(stderr, "test_bayes_vboard: %s\n", l.err); return 1; }
  /* exposure timing: 10 us delay (move + settle), 10 us gate, 1 us window */
  wr(&l, MINFLUX_REG_DELAY, 480);
  wr(&l, MINFLUX_REG_GATE, 480);
  wr(&l, MINFLUX_REG_WIN, 48);
  wr(&l, MINFLUX_REG_NCYCLES, 0);

  /* the default scenario's molecule sits at the DAC origin; the prior is off by a random
   * offset of ~ its std */
  srand(seed);
  bf_dtable_t dt;
  if (bf_dtable_make(&dt, 0.5, 0.01, 200.0, 1.0 / 16.0, 8, 8 * 13 + 1, 2, err, sizeof err)) {
    fprintf(stderr, "test_bayes_vboard: %s\n", err);
    return 1;
  }
  int total = 0, bad = 0, nloc = 0;
  for (int k = 0; k < locs; k++) {
    bayes_phys_t ph = {0};
    ph.nm_per_lsb = 0.1;
    ph.s_nm = 200.0;
    ph.b = 0.01;
    ph.mu = 0.5;
    ph.x0_nm = (rand() % 201 - 100);
    ph.y0_nm = (rand() % 201 - 100);
    ph.sigma0_nm = 150.0;
    ph.eta_per_code = 1e-3 * (1 + rand() % 4);
    ph.nmax = (k % 2) ? 60 + rand() % 100 : 0;        /* photon budget or std target */
    ph.std_stop_nm = (k % 2) ? 0.0 : 2.0 + rand() % 4;
    ph.seed = (uint32_t)rand() | 1u;
    const int stop_after = (k == locs - 1 && locs > 2) ? 40 : 0;   /* the last one: CTRL stop */
    if (stop_after) { ph.nmax = 0; ph.std_stop_nm = 0.0; }           /* (it would not end by itself) */
    bayes_regs_t g;
    if (bayes_regs_from_phys(&ph, &dt, &g, err, sizeof err)) { fprintf(stderr, "test_bayes_vboard: %s\n", err); return 1; }
    write_regs(&l, &g);
    const int clamp = k == 1;   /* a safe window of +-25 nm around the DAC origin */
    if (clamp) {                /* the block takes the window at the start: the model too */
      g.xmin = g.ymin = -250;
      g.xmax = g.ymax = 250;
    }
    wr(&l, MINFLUX_REG_STATUS, 0x6E);   /* clear the sticky bits */
    wr(&l, MINFLUX_REG_SAFE_XMIN, clamp ? (uint16_t)-250 : 0x8000);
    wr(&l, MINFLUX_REG_SAFE_XMAX, clamp ? 250 : 0x7FFF);
    wr(&l, MINFLUX_REG_SAFE_YMIN, clamp ? (uint16_t)-250 : 0x8000);
    wr(&l, MINFLUX_REG_SAFE_YMAX, clamp ? 250 : 0x7FFF);
    run_loc(&l, &s, stop_after, 300.0, k == 0);
    if (clamp) {
      /* the block places inside the window (so the update models the beam used), the DAC
       * never has to clamp, and the window mattered: placements on its edge */
      int outside = 0, edge = 0;
      for (int i = 0; i < s.n; i++) {
        outside += abs(s.r[i].cx) > 250 || abs(s.r[i].cy) > 250;
        edge += abs(s.r[i].cx) == 250 || abs(s.r[i].cy) == 250;
      }
      const uint32_t stv = rd(&l, MINFLUX_REG_STATUS);
      CHECK(outside == 0, "%d beam positions outside the safe window", outside);
      CHECK((stv & 6u) == 0, "STATUS %x: the DAC clamped a beam the block placed", stv);
      CHECK(edge > 0, "no beam position on the +-25 nm window's edge: the window was not exercised");
      printf("  localization %d: %d of %d beam positions on the edge of the +-25 nm safe window, none outside, "
             "no DAC clamp (STATUS %x)\n", k, edge, s.n, stv);
    }
    CHECK(rd(&l, MINFLUX_REG_BAYES_MODE) == 1, "a BAYES_MODE write during the run took");
    bayes_out_t o;
    const int m = replay(&g, &s, &o);
    const int done = s.n > 0 && ((s.r[s.n - 1].flags >> 4) & 2u);
    CHECK(s.gaps == 0, "localization %d: %d sequence gaps", k, s.gaps);
    if (k == 0 && s.n > 10) {   /* the exposure period on the board: clocks between record timestamps */
      uint32_t dmin = UINT32_MAX, dmax = 0;
      for (int i = 1; i < s.n; i++) {
        const uint32_t d = s.r[i].ts - s.r[i - 1].ts;
        if (d < dmin) dmin = d;
        if (d > dmax) dmax = d;
      }
      printf("  exposure period %u..%u clocks (%.0f..%.0f exposures/s at 48 MHz; DELAY 480 + GATE 480 + WIN 48 of them)\n",
             dmin, dmax, 48e6 / dmax, 48e6 / dmin);
    }
    printf("  localization %d: %d records, %d mismatches, last std %.2f nm, photons %u, %s\n", k, s.n, m,
           bayes_std_nm(&ph, &g, &o), o.photons, done ? "done" : "stopped");
    CHECK(s.n > 0, "localization %d: no records", k);
    if (stop_after > 0) {
      CHECK(!done && s.n >= stop_after && s.n <= stop_after + 3, "CTRL stop after %d records: %d records, done %d",
            stop_after, s.n, done);
    } else {
      CHECK(done, "localization %d ended without the done flag", k);
      if (ph.nmax) CHECK(o.photons >= ph.nmax && (o.status & 4u), "budget %u: photons %u status %x", ph.nmax, o.photons, o.status);
      else CHECK((o.status & 8u) && bayes_std_nm(&ph, &g, &o) < ph.std_stop_nm, "std target %.1f nm: status %x",
                 ph.std_stop_nm, o.status);
    }
    CHECK(rd(&l, MINFLUX_REG_STATUS) % 2 == 0, "sequencer still running after the localization");
    total += s.n;
    bad += m;
    nloc++;
  }
  CHECK(s.gaps == 0, "%d sequence gaps", s.gaps);
  CHECK(l.malformed_records == 0, "%" PRIu64 " malformed records", l.malformed_records);
  CHECK(bad == 0, "%d records differ from the C model", bad);
  bf_dtable_free(&dt);
  t->close(t);
  printf("vboard bayes: %d records, %d localizations, %d mismatches (seed %u)\n", total, nloc, bad, seed);
  printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
  return failures ? 1 : 0;
}
