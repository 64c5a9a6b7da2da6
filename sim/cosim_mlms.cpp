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
#include "est_bench.h"

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

}  // namespace

void est_apply_regs(Vmlms &top, const mlms_regs_t &r) {
  top.i_k = r.k & 3u;
  top.i_thresh = r.thresh & 0x7FFFu;
  top.i_L = r.L;
  top.i_F = r.F;
  top.i_beta0 = (uint16_t)r.beta[0];
  top.i_beta1 = (uint16_t)r.beta[1];
  top.i_beta2 = (uint16_t)r.beta[2];
}

void est_model(const mlms_regs_t &r, const uint16_t n[4], est_out_t *out) { mlms_eval(&r, n, out); }

void est_explain(const mlms_regs_t &r, const uint16_t n[4]) {
  est_out_t m;
  mlms_trace_t t;
  mlms_eval_trace(&r, n, &m, &t);
  printf("  regs k=%u thresh=%u L=0x%04X F=0x%04X beta=0x%04X,0x%04X,0x%04X\n"
         "  model N=%u lz=%u r=%u kx=%u ky=%u p0=%u sx=%u sy=%u q=%u bsum=0x%08X B=%u cx=%u cy=%u\n",
         r.k, r.thresh, r.L, r.F, (uint16_t)r.beta[0], (uint16_t)r.beta[1], (uint16_t)r.beta[2], t.N, t.lz,
         t.r, t.kx, t.ky, t.p0, t.sx, t.sy, t.q, t.bsum, t.b, t.cx, t.cy);
}


int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  uint64_t seed = (uint64_t)time(nullptr);
  uint64_t nrand = 1000000;
  if (!est_parse_args(argc, argv, "cosim_mlms", &seed, &nrand)) return 2;
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

  const uint16_t poke[4] = {8191, 1, 4000, 77};
  EstBench<Vmlms, mlms_regs_t> b("mlms", seed, poke);
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
      for (int j = 0; j < 4; j++) n[j] = est_rnd_count(g);
      const int poke = (g() % 16 == 0) ? 1 + (int)(g() % 12) : 0;
      ok = b.run(sets[s].name, n, poke);
    }
    if (ok) ok = b.reset_mid(1 + (int)(g() % 11));
  }
  const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  return b.report(6, ok, secs, MINFLUX_EST_MLMS_LAT, "EST_MLMS_LAT") ? 0 : 1;
}
