/* Physics of the virtual board's sample (first model, issue #4): a static emitter under
 * a doughnut beam (seed 003 S17), laser-induced background and dark counts, Poisson
 * photon arrivals split over two APDs. Scenario files: sim/scenarios/NAME.ini (keys below). */
#ifndef MINFLUX_PHYSICS_H
#define MINFLUX_PHYSICS_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double x_nm, y_nm;          /* [emitter] position relative to the DAC origin */
  double brightness_hz;       /* [emitter] detected count rate at the doughnut crest (A0 of S17) */
  double background_hz;       /* [background] detected rate while the laser is on, position independent */
  double dark_hz;             /* [background] detector dark counts, always (both APDs together) */
  double fwhm_nm;             /* [beam] doughnut fwhm */
  double eod_nm_per_lsb;      /* [beam] deflection per DAC LSB */
  double apd1_fraction;       /* [detection] share of photons on APD1 (rest on APD2) */
  double tx_error_rate;       /* [link] probability that a byte to the host arrives corrupted */
  uint64_t seed;              /* [sim] random seed (0 = from the clock) */
} phys_scenario;

void phys_defaults(phys_scenario *s);
/* Loads an INI scenario over the defaults. Unknown sections/keys and malformed or
 * out-of-range values are refused: returns -1 with one line in err. */
int phys_load(const char *path, phys_scenario *s, char *err, size_t errlen);
/* Expected detected count rate (Hz, both APDs) with the beam zero at (bx, by) nm. */
double phys_rate_hz(const phys_scenario *s, double bx_nm, double by_nm, int laser_on);

#ifdef __cplusplus
}
#endif
#endif
