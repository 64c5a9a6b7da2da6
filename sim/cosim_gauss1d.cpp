// cosim_gauss1d: co-simulation of hdl/gauss1d.v (Verilated) against the bit-exact C model
// hls-c/gauss1d.c. Every (n0, n1) pair with n0 + n1 <= 255 (the y axis gets the same pairs
// in another order, so both axes see all of them) plus random quartets up to the 13-bit
// maximum, for several register sets; every output bit is compared per transaction and
// the latency is measured on each one.
// Usage: cosim_gauss1d [--seed S] [--random N]   (N random quartets per register set)
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>
#include "Vgauss1d.h"
#include "verilated.h"
#include "gauss1d.h"
#include "est_bench.h"

namespace {

struct RegSet {
  const char *name;
  gauss1d_regs_t r;
};

gauss1d_regs_t regs_from(double L, double fwhm, unsigned thresh) {
  gauss1d_regs_t r;
  r.thresh = (uint16_t)thresh;
  r.G = (uint16_t)std::floor(fwhm * fwhm / (8.0 * std::log(2.0) * L) * (1 << MINFLUX_EST_G_FRAC) + 0.5);
  return r;
}

}  // namespace

void est_apply_regs(Vgauss1d &top, const gauss1d_regs_t &r) {
  top.i_thresh = r.thresh & 0x7FFFu;
  top.i_G = r.G;
}

void est_model(const gauss1d_regs_t &r, const uint16_t n[4], est_out_t *out) { gauss1d_eval(&r, n, out); }

void est_explain(const gauss1d_regs_t &r, const uint16_t n[4]) {
  printf("  regs thresh=%u G=0x%04X; model ln n = %u %u %u %u (UQ4.16)\n", r.thresh, r.G,
         n[0] ? gauss1d_ln(n[0]) : 0, n[1] ? gauss1d_ln(n[1]) : 0, n[2] ? gauss1d_ln(n[2]) : 0,
         n[3] ? gauss1d_ln(n[3]) : 0);
}


int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  uint64_t seed = (uint64_t)time(nullptr);
  uint64_t nrand = 1000000;
  if (!est_parse_args(argc, argv, "cosim_gauss1d", &seed, &nrand)) return 2;
  printf("cosim gauss1d: seed %" PRIu64 ", every (n0,n1) pair with n0 + n1 <= 255 on both axes "
         "and %" PRIu64 " random quartets per register set\n", seed, nrand);
  std::mt19937_64 g(seed);

  RegSet sets[5] = {
      {"prelocalization L300 fwhm360 th15", regs_from(300, 360, 15)},
      {"L100 fwhm360", regs_from(100, 360, 0)},
      {"L30 fwhm360 th1", regs_from(30, 360, 1)},
      {"L300 fwhm1000 th6", regs_from(300, 1000, 6)},
      {"raw random registers", {}},
  };
  sets[4].r.thresh = (uint16_t)(g() & 0x7FFF);
  sets[4].r.G = (uint16_t)g();

  // all pairs with a + b <= 255; y gets a shuffled copy
  std::vector<uint32_t> pairs;
  for (unsigned a = 0; a <= 255; a++)
    for (unsigned c = 0; a + c <= 255; c++) pairs.push_back(a << 16 | c);
  std::vector<uint32_t> ypairs = pairs;
  std::shuffle(ypairs.begin(), ypairs.end(), g);

  const uint16_t poke[4] = {1, 8191, 0, 4321};
  EstBench<Vgauss1d, gauss1d_regs_t> b("gauss1d", seed, poke);
  const clock_t t0 = clock();
  bool ok = true;
  for (int s = 0; s < 5 && ok; s++) {
    b.set_regs(sets[s].r);
    uint16_t n[4];
    for (size_t i = 0; i < pairs.size() && ok; i++) {
      n[0] = (uint16_t)(pairs[i] >> 16);
      n[1] = (uint16_t)(pairs[i] & 0xFFFF);
      n[2] = (uint16_t)(ypairs[i] >> 16);
      n[3] = (uint16_t)(ypairs[i] & 0xFFFF);
      ok = b.run(sets[s].name, n, 0);
    }
    for (uint64_t i = 0; i < nrand && ok; i++) {
      for (int j = 0; j < 4; j++) n[j] = est_rnd_count(g);
      const int poke = (g() % 16 == 0) ? 1 + (int)(g() % 12) : 0;
      ok = b.run(sets[s].name, n, poke);
    }
    if (ok) ok = b.reset_mid(1 + (int)(g() % 12));
  }
  const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  return b.report(5, ok, secs, MINFLUX_EST_GAUSS_LAT, "EST_GAUSS_LAT") ? 0 : 1;
}
