/* Scenario files of the virtual board (sim/scenarios/NAME.ini): the sample, the beam and
 * the detectors, documented key by key in docs/physics.md. Every key has a type and an
 * allowed range; unknown sections/keys and bad values are refused with the key's name
 * and what is allowed (one line). The model that runs a scenario is sim/physics.h. */
#ifndef MINFLUX_SCENARIO_H
#define MINFLUX_SCENARIO_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

enum phys_traj { PHYS_STATIC, PHYS_BROWNIAN, PHYS_LISSAJOUS, PHYS_STEPS, PHYS_CSV };
enum phys_shape { PHYS_SHAPE_PIN, PHYS_SHAPE_DOUGHNUT, PHYS_SHAPE_GAUSSIAN };

#define PHYS_PATH_MAX 1024
#define PHYS_SITES_MAX 256    /* dye sites of a multi-emitter [sample] */

typedef struct {
  /* [emitter] */
  double x_nm, y_nm;          /* first molecule's start (static, Brownian, steps) or Lissajous centre; csv is absolute */
  double brightness_hz;       /* detected signal rate at the doughnut crest (A0 of S17) at amp_ref_code */
  double size_nm;             /* diameter of the emitter (a bead: uniform sphere); 0 = point */
  /* [trajectory] */
  int    model;               /* enum phys_traj */
  double D_um2_s;             /* Brownian diffusion coefficient */
  double box_w_nm, box_h_nm;  /* reflecting box centred on (x_nm, y_nm); 0 = unconfined */
  double pp_x_nm, pp_y_nm;    /* Lissajous peak-to-peak amplitudes */
  double f_x_hz, f_y_hz;      /* Lissajous frequencies */
  double phase_x_deg, phase_y_deg;
  double step_nm;             /* stepper: step length */
  double angle_deg;           /* stepper: direction of forward steps (0 = +x) */
  double dwell_ms;            /* stepper: mean dwell between steps */
  int    dwell_shape;         /* stepper: dwell ~ Gamma(shape, dwell_ms / shape); 1 = exponential */
  double back_fraction;       /* stepper: probability that a step goes backwards */
  char   csv[PHYS_PATH_MAX];  /* csv: t_s,x_nm,y_nm file (resolved against the scenario's directory) */
  int    loop;                /* csv: repeat the script after its last row */
  /* [photophysics] */
  double t_on_ms, t_off_ms;   /* two-state blinking, exponential times; t_off_ms 0 = no blinking */
  double bleach_photons;      /* mean detected signal photons before bleaching (exponential); 0 = never */
  int    molecules;           /* molecules in sequence: the next waits for activation after a bleach */
  int    first_active;        /* the first molecule is active at t = 0 (else it waits for activation) */
  double activation_hz;       /* activation rate of a waiting molecule while the 405 nm line is on */
  double spontaneous_hz;      /* activation rate without 405 nm light */
  double spawn_w_nm, spawn_h_nm; /* a new molecule starts uniformly in this box around (x_nm, y_nm) */
  /* [beam] */
  double fwhm_nm;             /* doughnut fwhm (S17) */
  double gauss_fwhm_nm;       /* Gaussian beam fwhm (S19, search and pre-localization) */
  double gauss_peak_ratio;    /* Gaussian peak / doughnut crest at the same laser amplitude */
  int    shape;               /* enum phys_shape: pin = follow o_beam_gauss of the firmware */
  double eod_nm_per_lsb;      /* deflection per DAC LSB */
  double settle_us;           /* first-order settling time constant of the beam (EOD + amplifier) */
  double amp_ref_code;        /* laser amplitude code (DAC C) at which brightness/background are given */
  /* [background] */
  double background_hz;       /* detected while the laser is on, independent of position and power */
  double background_power_hz; /* detected while the laser is on, proportional to the laser amplitude (given at amp_ref_code) */
  double dark_hz;             /* detector dark counts, always (both APDs together) */
  /* [detection] */
  double efficiency;          /* detection efficiency applied to signal and laser background */
  double apd1_fraction;       /* share of photons on APD1 (rest on APD2) */
  double dead_time_ns;        /* APD dead time (non-paralysable, per APD) */
  double pulse_ns;            /* APD output pulse width; a photon inside a pulse merges with it */
  /* [link] */
  double tx_error_rate;       /* probability that a byte to the host arrives corrupted */
  double latency_us;          /* firmware time a byte to the host takes to arrive (the USB chip's latency timer) */
  /* [sim] */
  uint64_t seed;              /* random seed (0 = from the clock) */
  double step_us;             /* physics step: trajectory and rates are updated at least this often */
  /* [sample]: a multi-emitter sample (DNA-origami-like cluster of dye sites, issue #10);
   * n_sites = 0 is the single-molecule model above. Every site carries one switching dye
   * (DARK -> ON -> DARK or BLEACHED) with the [photophysics] rates; see docs/physics.md. */
  int    n_sites;             /* sites from sites_nm or the grid (0 = single-molecule scenario) */
  double site_x_nm[PHYS_SITES_MAX], site_y_nm[PHYS_SITES_MAX]; /* relative to [emitter] (x_nm, y_nm), at t = 0 */
  int    grid_nx, grid_ny;    /* a generated grid_nx x grid_ny grid centred on (x_nm, y_nm) */
  double grid_nm;             /* grid spacing */
  double drift_x_nm_s, drift_y_nm_s; /* drift of the whole sample */
  /* [photophysics], sites only */
  double bleach_prob;         /* probability that an ON event ends in BLEACHED instead of DARK */
} phys_scenario;

void phys_defaults(phys_scenario *s);
/* Loads an INI scenario over the defaults. Unknown sections/keys, malformed or
 * out-of-range values, inconsistent combinations and unreadable csv scripts are refused:
 * returns -1 with one line in err naming the key and what is allowed. */
int phys_load(const char *path, phys_scenario *s, char *err, size_t errlen);

/* The key table, for documentation checks: name i as "section.key" (NULL past the end). */
const char *phys_key_name(size_t i, char *buf, size_t n);

/* Reads a t_s,x_nm,y_nm script (header line optional, '#' comments, times strictly
 * increasing, at least 2 rows). Returns the row count and malloc'd arrays, or -1 with
 * a message naming the file and line. */
long phys_read_csv(const char *path, double **t, double **x, double **y, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
