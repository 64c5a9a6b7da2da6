// cosim_mlms: co-simulation of hdl/mlms.v (Verilated) against the bit-exact C model
// hls-c/mlms.c. Every quartet with N <= 40 plus random quartets up to the 13-bit maximum,
// for several register sets (live k=1 defaults, k=2, other L/fwhm, random raw registers);
// every output bit is compared per transaction, the latency is measured on each one.
// Usage: cosim_mlms [--seed S] [--random N]   (N random quartets per register set)
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include "Vmlms.h"
#include "verilated.h"
#include "mlms.h"

namespace {

struct RegSet {
  const char *name;
  mlms_regs_t r;
};

// Register values from physical parameters, rounded as host/est_regs.c does.
mlms_regs_t regs_from(double L, double fwhm, int k, double b0, double b1, double b2,
                      unsigned thresh) {
  const double F = 1.0 / (1.0 - L * L * std::log(2.0) / (fwhm * fwhm));
  mlms_regs_t r;
  r.k = (uint8_t)k;
  r.thresh = (uint16_t)thresh;
  r.L = (uint16_t)std::floor(L * (1 << MINFLUX_EST_L_FRAC) + 0.5);
  r.F = (uint16_t)std::floor(F * (1 << MINFLUX_EST_F_FRAC) + 0.5);
  r.beta[0] = (int16_t)std::floor(b0 * (1 << MINFLUX_EST_BETA_FRAC) + 0.5);
  r.beta[1] = (int16_t)std::floor(b1 * (1 << MINFLUX_EST_BETA_FRAC) + 0.5);
  r.beta[2] = (int16_t)std::floor(b2 * (1 << MINFLUX_EST_BETA_FRAC) + 0.5);
  return r;
}

class Bench {
 public:
  explicit Bench(uint64_t seed) : seed_(seed) {
    top_.clk = 0;
    top_.rst = 1;
    top_.i_valid = 0;
    tick();
    tick();
    top_.rst = 0;
    tick();
  }

  void set_regs(const mlms_regs_t &r) {
    top_.i_k = r.k & 3u;
    top_.i_thresh = r.thresh & 0x7FFFu;
    top_.i_L = r.L;
    top_.i_F = r.F;
    top_.i_beta0 = (uint16_t)r.beta[0];
    top_.i_beta1 = (uint16_t)r.beta[1];
    top_.i_beta2 = (uint16_t)r.beta[2];
    regs_ = r;
  }

  // One transaction; `poke` > 0 presents a garbage quartet that many cycles after the
  // real one (it must be ignored while busy). Returns false on a mismatch.
  bool run(const char *set, const uint16_t n[4], int poke) {
    top_.i_n0 = n[0];
    top_.i_n1 = n[1];
    top_.i_n2 = n[2];
    top_.i_n3 = n[3];
    top_.i_valid = 1;
    tick();
    top_.i_valid = 0;
    unsigned lat = 1;
    while (!top_.o_valid) {
      if (poke > 0 && (int)lat == poke) {
        top_.i_valid = 1;
        top_.i_n0 = 8191;
        top_.i_n1 = 1;
        top_.i_n2 = 4000;
        top_.i_n3 = 77;
      }
      tick();
      top_.i_valid = 0;
      if (++lat > 64) {
        printf("MISMATCH mlms: no o_valid within 64 cycles (set %s, seed %" PRIu64 ")\n", set,
               seed_);
        return false;
      }
    }
    if (lat_min_ == 0 || lat < lat_min_) lat_min_ = lat;
    if (lat > lat_max_) lat_max_ = lat;
    est_out_t m;
    mlms_trace_t t;
    mlms_eval_trace(&regs_, n, &m, &t);
    const int16_t rx = (int16_t)top_.o_x, ry = (int16_t)top_.o_y;
    n_++;
    if (rx != m.x || ry != m.y || top_.o_ok != m.ok) {
      printf("MISMATCH mlms (set %s, seed %" PRIu64 ", transaction %" PRIu64 "): n = %u,%u,%u,%u "
             "regs k=%u thresh=%u L=0x%04X F=0x%04X beta=0x%04X,0x%04X,0x%04X\n"
             "  rtl   x=%d y=%d ok=%u\n  model x=%d y=%d ok=%u (N=%u lz=%u r=%u kx=%u ky=%u "
             "p0=%u sx=%u sy=%u q=%u bsum=0x%08X B=%u cx=%u cy=%u)\n",
             set, seed_, n_, n[0], n[1], n[2], n[3], regs_.k, regs_.thresh, regs_.L, regs_.F,
             (uint16_t)regs_.beta[0], (uint16_t)regs_.beta[1], (uint16_t)regs_.beta[2], rx, ry,
             top_.o_ok, m.x, m.y, m.ok, t.N, t.lz, t.r, t.kx, t.ky, t.p0, t.sx, t.sy, t.q,
             t.bsum, t.b, t.cx, t.cy);
      return false;
    }
    return true;
  }

  // Reset in the middle of an estimate: no o_valid may follow.
  bool reset_mid(int at) {
    top_.i_n0 = 5;
    top_.i_n1 = 6;
    top_.i_n2 = 7;
    top_.i_n3 = 8;
    top_.i_valid = 1;
    tick();
    top_.i_valid = 0;
    for (int i = 1; i < at; i++) tick();
    top_.rst = 1;
    tick();
    top_.rst = 0;
    for (int i = 0; i < 32; i++) {
      tick();
      if (top_.o_valid || top_.o_busy) {
        printf("MISMATCH mlms: o_valid/o_busy after a reset at step %d (seed %" PRIu64 ")\n", at,
               seed_);
        return false;
      }
    }
    return true;
  }

  uint64_t transactions() const { return n_; }
  unsigned lat_min() const { return lat_min_; }
  unsigned lat_max() const { return lat_max_; }

 private:
  void tick() {
    top_.clk = 1;
    top_.eval();
    top_.clk = 0;
    top_.eval();
  }
  Vmlms top_;
  mlms_regs_t regs_{};
  uint64_t seed_;
  uint64_t n_ = 0;
  unsigned lat_min_ = 0, lat_max_ = 0;
};

uint16_t rnd_count(std::mt19937_64 &g) {
  switch (g() % 6) {
    case 0: return (uint16_t)(g() & 0x1FFF);              // anywhere in 13 bits
    case 1: return (uint16_t)(g() % 16);                   // near zero
    case 2: return (uint16_t)(g() % 256);
    case 3: return (uint16_t)(8191 - g() % 8);             // near the maximum
    case 4: return (uint16_t)(g() % 2048);
    default: return 0;
  }
}

}  // namespace

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  uint64_t seed = (uint64_t)time(nullptr);
  uint64_t nrand = 1000000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--random") && i + 1 < argc) nrand = strtoull(argv[++i], nullptr, 0);
    else {
      fprintf(stderr, "usage: cosim_mlms [--seed S] [--random N]\n");
      return 2;
    }
  }
  printf("cosim mlms: seed %" PRIu64 ", every quartet with N <= 40 and %" PRIu64
         " random quartets per register set\n", seed, nrand);
  std::mt19937_64 g(seed);

  RegSet sets[6] = {
      {"k1-live L100 fwhm360 b1.27,3.8 th6", regs_from(100, 360, 1, 1.27, 3.8, 0, 6)},
      {"k2 L130 fwhm450 b1,1.5,-1", regs_from(130, 450, 2, 1.0, 1.5, -1.0, 0)},
      {"k1 L300 fwhm360 b1.27,3.8 th15", regs_from(300, 360, 1, 1.27, 3.8, 0, 15)},
      {"k2 L50 fwhm300 b0.8,-0.5,2.5 th1", regs_from(50, 300, 2, 0.8, -0.5, 2.5, 1)},
      {"raw random registers A", {}},
      {"raw random registers B", {}},
  };
  for (int s = 4; s < 6; s++) {
    mlms_regs_t &r = sets[s].r;
    r.k = (uint8_t)(g() & 3);
    r.thresh = (uint16_t)(g() & 0x7FFF);
    r.L = (uint16_t)g();
    r.F = (uint16_t)g();
    for (int j = 0; j < 3; j++) r.beta[j] = (int16_t)(uint16_t)g();
    if (s == 5) r.k = 2;
  }

  Bench b(seed);
  const clock_t t0 = clock();
  bool ok = true;
  for (int s = 0; s < 6 && ok; s++) {
    b.set_regs(sets[s].r);
    uint16_t n[4];
    for (unsigned N = 0; N <= 40 && ok; N++)
      for (unsigned a = 0; a <= N && ok; a++)
        for (unsigned c = 0; a + c <= N && ok; c++)
          for (unsigned d = 0; a + c + d <= N && ok; d++) {
            n[0] = (uint16_t)a;
            n[1] = (uint16_t)c;
            n[2] = (uint16_t)d;
            n[3] = (uint16_t)(N - a - c - d);
            ok = b.run(sets[s].name, n, 0);
          }
    for (uint64_t i = 0; i < nrand && ok; i++) {
      for (int j = 0; j < 4; j++) n[j] = rnd_count(g);
      const int poke = (g() % 16 == 0) ? 1 + (int)(g() % 12) : 0;
      ok = b.run(sets[s].name, n, poke);
    }
    if (ok) ok = b.reset_mid(1 + (int)(g() % 11));
  }
  const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  printf("cosim mlms: latency %u..%u cycles i_valid -> o_valid (%.3f us at 48 MHz; "
         "EST_MLMS_LAT = %d)\n", b.lat_min(), b.lat_max(), b.lat_max() / 48.0,
         MINFLUX_EST_MLMS_LAT);
  printf("cosim mlms: %" PRIu64 " inputs, 6 parameter sets, %d mismatches (seed %" PRIu64
         ") in %.1f s\n", b.transactions(), ok ? 0 : 1, seed, secs);
  if (ok && (b.lat_min() != (unsigned)MINFLUX_EST_MLMS_LAT ||
             b.lat_max() != (unsigned)MINFLUX_EST_MLMS_LAT)) {
    printf("FAIL cosim mlms: latency differs from EST_MLMS_LAT (seed %" PRIu64 ")\n", seed);
    ok = false;
  }
  if (ok && b.lat_max() > 16) {
    printf("FAIL cosim mlms: latency above the 16-cycle budget\n");
    ok = false;
  }
  if (!ok) printf("cosim mlms: FAILED (rerun with --seed %" PRIu64 ")\n", seed);
  return ok ? 0 : 1;
}
