// cosim_bayes: co-simulation of hdl/bayes.v (Verilated, SPRAM behavioural model) against the
// bit-exact C model hls-c/bayes.c, per exposure: after the start and after every count the
// MAP, log2 std, spacing level, photons and status; with every placement the beam position
// and the laser code. Localizations are driven by a Poisson physics model (an emitter drawn
// from the prior, counts from the block's own beam and laser code), with random handshake
// delays, plus directed cases: big counts, zero streaks, the photon budget and the std
// target, an abort in mid-pass and a restart, random raw register values, D table rewrites.
// Measures the cycles per exposure (count accepted -> next placement valid).
// Usage: cosim_bayes [--seed S] [--runs N] [--exposures E]
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include "Vbayes.h"
#include "verilated.h"
#include "bayes.h"

namespace {

struct Bench {
  Vbayes top;
  uint64_t cycles = 0;
  void tick() {
    top.clk = 1;
    top.eval();
    top.clk = 0;
    top.eval();
    cycles++;
  }
  void apply(const bayes_regs_t &r) {
    top.i_x0 = (uint16_t)r.x0;
    top.i_y0 = (uint16_t)r.y0;
    top.i_h0 = r.h0;
    top.i_prior_a = r.prior_a;
    top.i_inv_s = r.inv_s;
    top.i_b32 = r.b32;
    top.i_mu = r.mu;
    top.i_km = r.km;
    top.i_amp_max = r.amp_max;
    top.i_nmax = r.nmax;
    top.i_lsig_stop = (uint16_t)r.lsig_stop;
    top.i_seed = r.seed;
    top.i_xmin = (uint16_t)r.xmin;
    top.i_xmax = (uint16_t)r.xmax;
    top.i_ymin = (uint16_t)r.ymin;
    top.i_ymax = (uint16_t)r.ymax;
  }
  void load_dtab(const bayes_regs_t &r) {
    for (int t = 0; t < MINFLUX_BY_D_N; t++) {
      top.i_dt_we = 1;
      top.i_dt_addr = (uint8_t)t;
      top.i_dt_data = r.dtab[t];
      tick();
    }
    top.i_dt_we = 0;
  }
};

struct Stats {
  uint64_t exposures = 0, events = 0, runs = 0, cyc_sum = 0, cyc_max = 0, cyc_min = ~0ull, cyc_n = 0;
  uint64_t redo = 0, regrid = 0, stops = 0, aborts = 0;
  uint64_t edge = 0;                 // placements on the safe window's edge (clamped)
  bool timed = false;                // this run's cycles count for the rate (physics runs)
  uint64_t pcyc = 0, pexp = 0, pregrid = 0, predo = 0;   // physics runs only
};

const char *g_set = "";
uint64_t g_seed = 0;

bool mismatch(const char *what, long long rtl, long long model, uint64_t exposure) {
  printf("MISMATCH bayes (set %s, seed %" PRIu64 ", exposure %" PRIu64 "): %s rtl %lld model %lld\n", g_set, g_seed,
         exposure, what, rtl, model);
  return false;
}

// Waits for o_upd (the stats of the start or of the last count) and compares them.
bool check_upd(Bench &b, const bayes_out_t &o, uint64_t ex, int limit) {
  for (int c = 0; c < limit; c++) {
    if (b.top.o_upd) {
      const int32_t mx = ((int32_t)(b.top.o_map_x << 8)) >> 8, my = ((int32_t)(b.top.o_map_y << 8)) >> 8;
      if (mx != o.map_x) return mismatch("map_x", mx, o.map_x, ex);
      if (my != o.map_y) return mismatch("map_y", my, o.map_y, ex);
      if ((int16_t)b.top.o_lsig != o.lsig) return mismatch("lsig", (int16_t)b.top.o_lsig, o.lsig, ex);
      if (b.top.o_lev != o.lev) return mismatch("lev", b.top.o_lev, o.lev, ex);
      if (b.top.o_photons != o.photons) return mismatch("photons", b.top.o_photons, o.photons, ex);
      if (b.top.o_exposures != o.exposures) return mismatch("exposures", b.top.o_exposures, o.exposures, ex);
      b.tick();
      return true;
    }
    b.tick();
  }
  printf("MISMATCH bayes (set %s, seed %" PRIu64 ", exposure %" PRIu64 "): no o_upd within %d cycles\n", g_set,
         g_seed, ex, limit);
  return false;
}

// After o_upd: either done (busy falls, status) or a placement (o_exp_valid with beam, amp).
// Returns 1 placement, 0 done, -1 mismatch. Counts the cycles from `since`.
int check_next(Bench &b, const bayes_out_t &o, uint64_t ex, uint64_t since, Stats &s, std::mt19937_64 &g) {
  for (int c = 0; c < 20000; c++) {
    if (o.done) {
      if (!b.top.o_busy) {
        if (b.top.o_status != o.status) return mismatch("status", b.top.o_status, o.status, ex) ? 0 : -1;
        return 0;
      }
      if (b.top.o_exp_valid) return mismatch("o_exp_valid after done", 1, 0, ex) ? 0 : -1;
    } else if (b.top.o_exp_valid) {
      const uint64_t cy = b.cycles - since;
      if (ex > 0) {
        s.cyc_sum += cy;
        s.cyc_n++;
        if (cy > s.cyc_max) s.cyc_max = cy;
        if (cy < s.cyc_min) s.cyc_min = cy;
        if (s.timed) {
          s.pcyc += cy;
          s.pexp++;
        }
      }
      if ((int16_t)b.top.o_beam_x != o.beam_x) return mismatch("beam_x", (int16_t)b.top.o_beam_x, o.beam_x, ex) ? 0 : -1;
      if ((int16_t)b.top.o_beam_y != o.beam_y) return mismatch("beam_y", (int16_t)b.top.o_beam_y, o.beam_y, ex) ? 0 : -1;
      if (b.top.o_amp != o.amp) return mismatch("amp", b.top.o_amp, o.amp, ex) ? 0 : -1;
      // take it after a random delay
      const int d = (g() % 4 == 0) ? (int)(g() % 40) : 0;
      for (int k = 0; k < d; k++) {
        b.tick();
        if (!b.top.o_exp_valid) return mismatch("o_exp_valid dropped before ready", 0, 1, ex) ? 0 : -1;
      }
      b.top.i_exp_ready = 1;
      b.tick();
      b.top.i_exp_ready = 0;
      return 1;
    }
    b.tick();
  }
  printf("MISMATCH bayes (set %s, seed %" PRIu64 ", exposure %" PRIu64 "): no placement within 20000 cycles\n",
         g_set, g_seed, ex);
  return -1;
}

// The count: presented after a random delay; returns the cycle it was accepted.
bool give_count(Bench &b, unsigned n, uint64_t ex, std::mt19937_64 &g, uint64_t *accepted) {
  const int d = (g() % 4 == 0) ? (int)(g() % 60) : 0;
  for (int k = 0; k < d; k++) b.tick();
  b.top.i_cnt = n & 0x1FFF;
  b.top.i_cnt_valid = 1;
  for (int c = 0; c < 100; c++) {
    if (b.top.o_cnt_ready) {
      *accepted = b.cycles;
      b.tick();
      b.top.i_cnt_valid = 0;
      return true;
    }
    b.tick();
  }
  b.top.i_cnt_valid = 0;
  return mismatch("o_cnt_ready never came", 0, 1, ex);
}

// Physics of a run: emitter at (ex, ey) nm, beam code -> nm, laser code -> photons.
struct Phys {
  double nm_per_lsb, s, b, eta_per_code, ex, ey;
};

// How counts are made in a run.
enum Mode { M_PHYS, M_WILD, M_ABORT };

bool run_one(Bench &b, const bayes_regs_t &r, const Phys &ph, Mode mode, int max_exp, std::mt19937_64 &g,
             Stats &s) {
  static bayes_state_t st;
  bayes_out_t o;
  b.apply(r);
  b.load_dtab(r);
  b.top.i_start = 1;
  b.tick();
  b.top.i_start = 0;
  bayes_start(&st, &r, &o);
  uint64_t ex = 0;
  if (!check_upd(b, o, ex, 20000)) return false;
  uint64_t since = 0;
  std::poisson_distribution<unsigned> pois;
  const int abort_at = mode == M_ABORT ? (int)(g() % (unsigned)max_exp) : -1;
  for (;;) {
    const int k = check_next(b, o, ex, since, s, g);
    if (k < 0) return false;
    s.events++;
    if (k == 0) {
      s.stops++;
      return true;
    }
    if (o.beam_x == r.xmin || o.beam_x == r.xmax || o.beam_y == r.ymin || o.beam_y == r.ymax) s.edge++;
    if ((int)ex == max_exp) break;
    unsigned n;
    if (mode == M_WILD && g() % 5 == 0) {
      const unsigned t = (unsigned)(g() % 4);
      n = t == 0 ? 8191u : t == 1 ? (unsigned)(g() % 300) : t == 2 ? 0u : (unsigned)(g() % 20);
    } else {
      const double rx = o.beam_x * ph.nm_per_lsb, ry = o.beam_y * ph.nm_per_lsb;
      const double q = ((ph.ex - rx) * (ph.ex - rx) + (ph.ey - ry) * (ph.ey - ry)) / (ph.s * ph.s);
      const double lam = o.amp * ph.eta_per_code * (M_E * q * exp(-q) + ph.b);
      pois = std::poisson_distribution<unsigned>(lam > 0 ? lam : 1e-12);
      n = pois(g);
      if (n > 8191) n = 8191;
    }
    if (!give_count(b, n, ex + 1, g, &since)) return false;
    if ((int)ex == abort_at) {
      // abort in the middle of pass A, then a fresh start must behave like a fresh model
      const int d = (int)(g() % 1500);
      for (int c = 0; c < d; c++) b.tick();
      b.top.i_abort = 1;
      b.tick();
      b.top.i_abort = 0;
      for (int c = 0; c < 5; c++) {
        b.tick();
        if (b.top.o_busy || b.top.o_exp_valid) return mismatch("busy after abort", 1, 0, ex);
      }
      s.aborts++;
      return run_one(b, r, ph, M_PHYS, max_exp / 4 + 1, g, s);
    }
    ex++;
    s.exposures++;
    bayes_count(&st, &r, n, &o);
    if (st.tr.redo) {
      s.redo++;
      if (s.timed) s.predo++;
    }
    if (st.tr.regrid) {
      s.regrid++;
      if (s.timed) s.pregrid++;
    }
    if (!check_upd(b, o, ex, 40000)) return false;
  }
  // leave it mid-run: abort so the next run starts from idle
  b.top.i_abort = 1;
  b.tick();
  b.top.i_abort = 0;
  b.tick();
  return true;
}

// A D table of the shape of seed 002 D(sigma) (about 12 nm for small sigma, about 500 nm
// beyond 50 nm), or random entries.
void dtab_fill(bayes_regs_t &r, double nm_per_lsb, double h0_nm, bool random, std::mt19937_64 &g) {
  for (int t = 0; t < MINFLUX_BY_D_N; t++) {
    const double sg = h0_nm * pow(2.0, t / 8.0 - 12.0);
    double d = sg < 45 ? 12.0 + 0.08 * sg : 480.0 + sg * 0.3;
    if (random) d = (double)(g() % 4000);
    const double v = floor(d / nm_per_lsb * 4 + 0.5);
    r.dtab[t] = (uint16_t)(v > 65535 ? 65535 : v);
  }
}

// Register values as host/bayes_regs.c makes them (not linked here: hls-c only).
bayes_regs_t regs_phys(double nm_per_lsb, double s_nm, double b, double mu, double sigma0, double epc,
                       uint32_t seed, std::mt19937_64 &g, bool random_d) {
  bayes_regs_t r;
  memset(&r, 0, sizeof r);
  const double sub = nm_per_lsb / 64.0, h0 = floor(sigma0 / 4 / sub + 0.5), hq = h0 * sub;
  r.h0 = (uint16_t)h0;
  r.prior_a = (uint16_t)floor(65536.0 * M_LOG2E * hq * hq / (2 * sigma0 * sigma0) + 0.5);
  r.inv_s = (uint16_t)floor(4294967296.0 * sqrt(M_LOG2E) / (s_nm / sub) + 0.5);
  r.b32 = (uint32_t)floor(b / (M_E * M_LN2) * 4294967296.0 + 0.5);
  r.km = (uint16_t)floor(epc * M_E * 4194304.0 + 0.5);
  const double epq = r.km / (M_E * 4194304.0);
  r.mu = (uint16_t)floor(64.0 * mu / (M_E * M_LN2 * epq) + 0.5);
  r.amp_max = 65535;
  r.lsig_stop = -32768;
  r.seed = seed;
  r.xmin = r.ymin = INT16_MIN;
  r.xmax = r.ymax = INT16_MAX;
  dtab_fill(r, nm_per_lsb, hq, random_d, g);
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  uint64_t seed = (uint64_t)time(nullptr);
  int runs = 8, exps = 400;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--exposures") && i + 1 < argc) exps = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: cosim_bayes [--seed S] [--runs N] [--exposures E]\n");
      return 2;
    }
  }
  g_seed = seed;
  printf("cosim bayes: seed %" PRIu64 ", %d random runs of up to %d exposures + directed cases\n", seed, runs, exps);
  fflush(stdout);
  std::mt19937_64 g(seed);
  Bench b;
  b.top.clk = 0;
  b.top.rst = 1;
  b.tick();
  b.tick();
  b.top.rst = 0;
  b.tick();
  Stats s;
  const clock_t t0 = clock();
  bool ok = true;

  struct Set {
    const char *name;
    double mu, b;
    Mode mode;
  };
  const Set sets[] = {
      {"mu0.1 b0.01 physics", 0.1, 0.01, M_PHYS}, {"mu2 b0.05 physics", 2.0, 0.05, M_PHYS},
      {"mu0.5 b0.01 wild counts", 0.5, 0.01, M_WILD}, {"mu0.5 b0.05 abort", 0.5, 0.05, M_ABORT},
  };
  for (int k = 0; k < runs && ok; k++) {
    const Set &st = sets[k % 4];
    g_set = st.name;
    const double epc = st.mu / (st.b * 60000.0);
    bayes_regs_t r = regs_phys(0.1, 200.0, st.b, st.mu, 150.0, epc, (uint32_t)g(), g, k % 8 == 7);
    if (k % 3 == 1) {   // a safe window of 10..600 nm around a point within 150 nm of the prior centre
      const int cxw = (int)(g() % 3001) - 1500, cyw = (int)(g() % 3001) - 1500;
      const int hx = 50 + (int)(g() % 2951), hy = 50 + (int)(g() % 2951);
      r.xmin = (int16_t)(cxw - hx);
      r.xmax = (int16_t)(cxw + hx);
      r.ymin = (int16_t)(cyw - hy);
      r.ymax = (int16_t)(cyw + hy);
    }
    const double epq = r.km / (M_E * 4194304.0);
    std::normal_distribution<double> nd(0.0, 150.0);
    Phys ph{0.1, 200.0, st.b, epq, nd(g), nd(g)};
    s.timed = st.mode == M_PHYS && k % 8 != 7;
    ok = run_one(b, r, ph, st.mode, exps, g, s);
    s.timed = false;
    s.runs++;
  }
  // directed: the photon budget, the std target
  if (ok) {
    g_set = "budget 60 photons, mu 2";
    bayes_regs_t r = regs_phys(0.1, 200.0, 0.01, 2.0, 150.0, 2.0 / 600.0, 7u, g, false);
    r.nmax = 60;
    ok = run_one(b, r, Phys{0.1, 200.0, 0.01, r.km / (M_E * 4194304.0), 30.0, -80.0}, M_PHYS, 100000, g, s);
    s.runs++;
  }
  if (ok) {
    g_set = "std target 5 nm, mu 2";
    bayes_regs_t r = regs_phys(0.1, 200.0, 0.01, 2.0, 150.0, 2.0 / 600.0, 9u, g, false);
    r.lsig_stop = (int16_t)floor(256.0 * log2(5.0 / (r.h0 * 0.1 / 64.0)));
    ok = run_one(b, r, Phys{0.1, 200.0, 0.01, r.km / (M_E * 4194304.0), -120.0, 40.0}, M_PHYS, 100000, g, s);
    s.runs++;
  }
  // directed: random raw registers (within the block's documented ranges where it needs them)
  for (int k = 0; k < 3 && ok; k++) {
    g_set = "raw random registers";
    bayes_regs_t r;
    memset(&r, 0, sizeof r);
    r.x0 = (int16_t)(g() % 65536);
    r.y0 = (int16_t)(g() % 65536);
    r.h0 = (uint16_t)(16 + g() % 60000);
    r.prior_a = (uint16_t)g();
    r.inv_s = (uint16_t)g();
    r.b32 = (uint32_t)(16384 + g() % 1900000000u);
    r.mu = (uint16_t)g();
    r.km = (uint16_t)g();
    r.amp_max = (uint16_t)g();
    r.nmax = 0;
    r.lsig_stop = -32768;
    r.seed = (uint32_t)g();
    r.xmin = (int16_t)g();   // any window, also an empty one (min > max: min or max, as dac_spi)
    r.xmax = (int16_t)g();
    r.ymin = (int16_t)g();
    r.ymax = (int16_t)g();
    dtab_fill(r, 0.1, 10.0, true, g);
    ok = run_one(b, r, Phys{0.1, 200.0, 0.02, 1e-4, 0.0, 0.0}, M_WILD, exps / 2, g, s);
    s.runs++;
  }
  const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  const double all = s.cyc_n ? (double)s.cyc_sum / (double)s.cyc_n : 0.0;
  const double avg = s.pexp ? (double)s.pcyc / (double)s.pexp : 0.0;
  printf("cosim bayes: cycles per exposure (count accepted -> next placement valid), physics runs: mean %.0f "
         "over %" PRIu64 " exposures (%" PRIu64 " re-grids, %" PRIu64 " moment repeats) -> %.0f exposures/s at 48 MHz\n",
         avg, s.pexp, s.pregrid, s.predo, avg > 0 ? 48e6 / avg : 0.0);
  printf("cosim bayes: all runs: mean %.0f, min %" PRIu64 ", max %" PRIu64 " cycles (%" PRIu64 " re-grids, %" PRIu64
         " moment repeats)\n", all, s.cyc_min == ~0ull ? 0 : s.cyc_min, s.cyc_max, s.regrid, s.redo);
  printf("cosim bayes: %" PRIu64 " runs, %" PRIu64 " exposures, %" PRIu64 " events, %" PRIu64 " stops, %" PRIu64
         " aborts, %" PRIu64 " cycles, %d mismatches (seed %" PRIu64 ") in %.1f s\n",
         s.runs, s.exposures, s.events, s.stops, s.aborts, b.cycles, ok ? 0 : 1, seed, secs);
  printf("cosim bayes: %" PRIu64 " placements on the safe window's edge\n", s.edge);
  if (ok && runs >= 3 && s.edge == 0) {
    printf("FAIL cosim bayes: no placement reached the safe window (the clamp is untested)\n");
    ok = false;
  }
  if (ok && avg > 2400.0) {
    printf("FAIL cosim bayes: %.0f cycles per exposure, above the 2400 of 20000 exposures/s\n", avg);
    ok = false;
  }
  if (!ok) printf("cosim bayes: FAILED (rerun with --seed %" PRIu64 ")\n", seed);
  return ok ? 0 : 1;
}
