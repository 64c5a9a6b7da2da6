// est_bench.h: the transaction bench shared by the estimator co-simulations
// (sim/cosim_mlms.cpp, sim/cosim_gauss1d.cpp). A harness provides, at global scope,
//   void est_apply_regs(Top &top, const Regs &r);            // drive the parameter ports
//   void est_model(const Regs &r, const uint16_t n[4], est_out_t *out);   // the C model
//   void est_explain(const Regs &r, const uint16_t n[4]);    // registers + model internals
// and gets: one quartet per transaction with every output bit compared, the latency
// measured on each, garbage quartets poked while busy, a reset in mid-estimate.
#ifndef MINFLUX_EST_BENCH_H
#define MINFLUX_EST_BENCH_H
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include "est_fixp.h"

template <class Top, class Regs>
class EstBench {
 public:
  // name: block name in messages; poke: the garbage quartet presented while busy
  EstBench(const char *name, uint64_t seed, const uint16_t poke[4]) : name_(name), seed_(seed) {
    memcpy(poke_, poke, sizeof poke_);
    top_.clk = 0;
    top_.rst = 1;
    top_.i_valid = 0;
    tick();
    tick();
    top_.rst = 0;
    tick();
  }

  void set_regs(const Regs &r) {
    est_apply_regs(top_, r);
    regs_ = r;
  }

  // One transaction; `poke` > 0 presents the garbage quartet that many cycles after the
  // real one (it must be ignored while busy). Returns false on a mismatch.
  bool run(const char *set, const uint16_t n[4], int poke) {
    drive(n);
    top_.i_valid = 1;
    tick();
    top_.i_valid = 0;
    unsigned lat = 1;
    while (!top_.o_valid) {
      if (poke > 0 && (int)lat == poke) {
        drive(poke_);
        top_.i_valid = 1;
      }
      tick();
      top_.i_valid = 0;
      if (++lat > 64) {
        printf("MISMATCH %s: no o_valid within 64 cycles (set %s, seed %" PRIu64 ")\n", name_, set, seed_);
        return false;
      }
    }
    if (lat_min_ == 0 || lat < lat_min_) lat_min_ = lat;
    if (lat > lat_max_) lat_max_ = lat;
    est_out_t m;
    est_model(regs_, n, &m);
    const int16_t rx = (int16_t)top_.o_x, ry = (int16_t)top_.o_y;
    n_++;
    if (rx != m.x || ry != m.y || top_.o_ok != m.ok) {
      printf("MISMATCH %s (set %s, seed %" PRIu64 ", transaction %" PRIu64 "): n = %u,%u,%u,%u\n"
             "  rtl   x=%d y=%d ok=%u\n  model x=%d y=%d ok=%u\n",
             name_, set, seed_, n_, n[0], n[1], n[2], n[3], rx, ry, top_.o_ok, m.x, m.y, m.ok);
      est_explain(regs_, n);
      return false;
    }
    return true;
  }

  // Reset in the middle of an estimate: no o_valid (nor o_busy) may follow.
  bool reset_mid(int at) {
    const uint16_t n[4] = {5, 6, 7, 8};
    drive(n);
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
        printf("MISMATCH %s: o_valid/o_busy after a reset at step %d (seed %" PRIu64 ")\n", name_, at, seed_);
        return false;
      }
    }
    return true;
  }

  // Closing lines; checks the measured latency against the published constant and the
  // 16-cycle budget. Returns the overall verdict.
  bool report(int nsets, bool ok, double secs, int lat_const, const char *lat_name) {
    printf("cosim %s: latency %u..%u cycles i_valid -> o_valid (%.3f us at 48 MHz; %s = %d)\n", name_,
           lat_min_, lat_max_, lat_max_ / 48.0, lat_name, lat_const);
    printf("cosim %s: %" PRIu64 " inputs, %d parameter sets, %d mismatches (seed %" PRIu64 ") in %.1f s\n",
           name_, n_, nsets, ok ? 0 : 1, seed_, secs);
    if (ok && (lat_min_ != (unsigned)lat_const || lat_max_ != (unsigned)lat_const)) {
      printf("FAIL cosim %s: latency differs from %s (seed %" PRIu64 ")\n", name_, lat_name, seed_);
      ok = false;
    }
    if (ok && lat_max_ > 16) {
      printf("FAIL cosim %s: latency above the 16-cycle budget\n", name_);
      ok = false;
    }
    if (!ok) printf("cosim %s: FAILED (rerun with --seed %" PRIu64 ")\n", name_, seed_);
    return ok;
  }

 private:
  void drive(const uint16_t n[4]) {
    top_.i_n0 = n[0];
    top_.i_n1 = n[1];
    top_.i_n2 = n[2];
    top_.i_n3 = n[3];
  }
  void tick() {
    top_.clk = 1;
    top_.eval();
    top_.clk = 0;
    top_.eval();
  }
  Top top_;
  Regs regs_{};
  const char *name_;
  uint64_t seed_;
  uint16_t poke_[4];
  uint64_t n_ = 0;
  unsigned lat_min_ = 0, lat_max_ = 0;
};

// Random 13-bit counts weighted towards the corners (zero, small, near the maximum).
inline uint16_t est_rnd_count(std::mt19937_64 &g) {
  switch (g() % 6) {
    case 0: return (uint16_t)(g() & 0x1FFF);
    case 1: return (uint16_t)(g() % 16);
    case 2: return (uint16_t)(g() % 256);
    case 3: return (uint16_t)(8191 - g() % 8);
    case 4: return (uint16_t)(g() % 2048);
    default: return 0;
  }
}

// --seed S and --random N; returns false (after printing the usage) on anything else.
inline bool est_parse_args(int argc, char **argv, const char *prog, uint64_t *seed, uint64_t *nrand) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) *seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--random") && i + 1 < argc) *nrand = strtoull(argv[++i], nullptr, 0);
    else {
      fprintf(stderr, "usage: %s [--seed S] [--random N]\n", prog);
      return false;
    }
  }
  return true;
}
#endif
