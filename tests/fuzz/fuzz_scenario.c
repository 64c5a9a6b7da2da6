/* Fuzz target: the virtual board's scenario parser (sim/scenario.c phys_load) on arbitrary
 * INI files, and the physics model (sim/physics.c) of every accepted scenario for 20 us of
 * simulated time with the laser on at the origin. Properties beyond "no crash, no
 * sanitizer report": a refusal always comes with a one-line message; an accepted scenario
 * loaded twice gives the same result; the model's expected rates are finite and >= 0 and
 * its APD pulses come in time order inside the interval asked for, on APD 1 or 2. */
#include <math.h>
#include <string.h>
#include "fuzz_util.h"
#include "physics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16) return 0;
  char path[64], err[1024];
  int fd = fz_memfd(data, size, path, sizeof path);
  static phys_scenario a, b;
  phys_defaults(&a);
  memset(err, 0, sizeof err);
  const int bad = phys_load(path, &a, err, sizeof err);
  if (bad) {
    FZ_CHECK(err[0] && !strchr(err, '\n'), "refusal without a one-line message: '%s'", err);
  } else {
    phys_defaults(&b);
    FZ_CHECK(phys_load(path, &b, err, sizeof err) == 0, "second load refused: %s", err);
    FZ_CHECK(!memcmp(&a, &b, sizeof a), "two loads of the same file differ");
    phys_model *m = phys_new(&a, 1, err, sizeof err);
    if (!m) {
      FZ_CHECK(err[0], "phys_new failed without a message");
    } else {
      phys_inputs in = { 0, 0, 1, a.amp_ref_code, 0, 0 };
      phys_set_inputs(m, 0, &in);
      phys_pulse p[256];
      double last = 0, sig, bg, dk;
      for (int step = 1; step <= 4; step++) {
        const double t_end = step * 5e-6;
        size_t n;
        do {
          n = phys_advance(m, t_end, p, 256);
          for (size_t i = 0; i < n; i++) {
            FZ_CHECK(p[i].t_s >= last && p[i].t_s < t_end && (p[i].apd == 0 || p[i].apd == 1),
                     "pulse %zu at %.9g s on APD %d (previous %.9g, end %.9g)", i, p[i].t_s, p[i].apd + 1, last, t_end);
            last = p[i].t_s;
          }
        } while (n == 256);
        phys_rates(m, &sig, &bg, &dk);
        FZ_CHECK(isfinite(sig) && sig >= 0 && isfinite(bg) && bg >= 0 && isfinite(dk) && dk >= 0,
                 "rates %g %g %g Hz", sig, bg, dk);
      }
      phys_free(m);
    }
  }
  close(fd);
  return 0;
}
