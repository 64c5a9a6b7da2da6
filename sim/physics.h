/* Physics of the virtual board's sample (issue #5; docs/physics.md): emitter trajectories
 * (static, Brownian, Lissajous, stepping, scripted), photophysics (two-state blinking,
 * bleaching after a photon budget, activation by 405 nm light), excitation at the beam
 * position by a doughnut (seed 003 S17) or a Gaussian (S19) with a finite emitter size,
 * the beam's first-order settling lag, background (constant + proportional to laser
 * power), detection (efficiency, two APDs with dead time and pulse width, dark counts).
 *
 * The model is an event simulation in continuous time (seconds): photon arrivals are a
 * Poisson process whose rate is piecewise constant, updated at every physics step
 * ([sim] step_us), every input change (beam, laser, beam shape, 405 nm) and every
 * photophysical event; by the memorylessness of the exponential the next arrival is
 * redrawn whenever the rate changes. The caller (sim/vboard.cpp, the tests) sets the
 * inputs when they change and asks for the detected pulses up to a time. */
#ifndef MINFLUX_PHYSICS_H
#define MINFLUX_PHYSICS_H
#include <stddef.h>
#include <stdint.h>
#include "scenario.h"
#ifdef __cplusplus
extern "C" {
#endif

/* What the firmware drives (sampled by the caller, held until the next call). */
typedef struct {
  double beam_x_nm, beam_y_nm;  /* commanded beam position: DAC code x eod_nm_per_lsb */
  int    laser_on;              /* LASER_EN */
  double amp_code;              /* laser amplitude, DAC channel C code */
  int    gauss;                 /* o_beam_gauss: 1 = Gaussian beam (search, pre-localization) */
  int    act405;                /* o_act405: 405 nm activation light on */
} phys_inputs;

typedef struct { double t_s; int apd; } phys_pulse;   /* rising edge of an APD pulse */

typedef struct {
  uint64_t signal, background, dark;   /* detected arrivals by origin (before dead time) */
  uint64_t pulses[2];                  /* pulses out of APD1/APD2 */
  uint64_t lost_dead;                  /* arrivals inside an APD's dead time or pulse */
  uint64_t activations, bleaches, blinks_off;
  double   on_time_s;                  /* time spent fluorescent (on state; sites: >= 1 site ON) */
  /* multi-site [sample] only (0 otherwise): */
  uint64_t act_405, act_spont;         /* DARK -> ON switches attributed to 405 nm / spontaneous
                                          (activations also counts a site ON at t = 0) */
  uint64_t offs;                       /* ON -> DARK switches */
  double   on2_time_s;                 /* time with >= 2 sites ON */
  double   n_on_time_s;                /* integral of the number of ON sites over time */
} phys_stats;

/* Photophysical state of the current molecule. */
enum phys_mol { PHYS_WAIT, PHYS_ON, PHYS_OFF, PHYS_DONE };
/* State of one dye of a multi-site [sample]. */
enum phys_site_state { PHYS_SITE_DARK, PHYS_SITE_ON, PHYS_SITE_BLEACHED };

typedef struct phys_model phys_model;
/* Called on activations and bleaches: t in model seconds, molecule index from 0. */
/* A multi-site [sample] reports "activate", "dark" (ON -> DARK) and "bleach" with the site
 * index as molecule and the site's position at t_s. */
typedef void (*phys_event_fn)(void *ctx, double t_s, const char *what, int molecule, double x_nm, double y_nm);

/* A model of scenario s at t = 0 with the laser off; seed 0 is taken as is (callers
 * choose). NULL with a message on failure (e.g. an unreadable csv script). */
phys_model *phys_new(const phys_scenario *s, uint64_t seed, char *err, size_t errlen);
void phys_free(phys_model *m);
void phys_on_event(phys_model *m, phys_event_fn fn, void *ctx);

/* Advances the model to t_s (>= its time) and applies new inputs from then on. */
void phys_set_inputs(phys_model *m, double t_s, const phys_inputs *in);
/* Pulses with t < t_end in time order, at most max; call again while it returns max.
 * Time only moves forward. */
size_t phys_advance(phys_model *m, double t_end, phys_pulse *out, size_t max);
/* Time of the next internal event (arrival, step, switch): phys_advance with an earlier
 * t_end does nothing, so a caller may skip it until then. */
double phys_next_event(const phys_model *m);

/* Advances the state to t_s; pulses before t_s not yet collected are discarded. */
void phys_sync(phys_model *m, double t_s);

/* The emitter averaged over [t0, t1] (S82) from the model's recent history (t1 is
 * taken as the model's time if later; the history covers >= 16384 steps): mean x, y and
 * the fraction of the interval the emitter was fluorescent. -1 when t0 is older than
 * the history. */
int phys_mean(phys_model *m, double t0, double t1, double *x_nm, double *y_nm, double *on_frac);
/* Multi-site [sample]: phys_mean's x, y are the mean position of the ON sites averaged over
 * the part of [t0, t1] with >= 1 site ON (the present centroid of all sites when none was
 * on) and on_frac is the fraction of [t0, t1] with >= 1 ON. The time-weighted mean number
 * of ON sites over [t0, t1] (single molecule: = on_frac); -1 as phys_mean. */
int phys_mean_n_on(phys_model *m, double t0, double t1, double *n_on_mean);

/* Multi-site [sample]: number of sites (0 for a single-molecule scenario), sites ON now
 * (single molecule: 1 when on), a site's present position (drift included) and state
 * (enum phys_site_state), its present detected signal rate (Hz, sums to phys_rates'
 * signal). The scenario's site list is the position at t = 0. */
int phys_n_sites(const phys_model *m);
int phys_n_on(const phys_model *m);
void phys_site(const phys_model *m, int i, double *x_nm, double *y_nm, int *state);
void phys_site_rate(const phys_model *m, int i, double *signal_hz);

/* Present state: emitter position, molecule state, beam position (after the lag),
 * expected detected rates (Hz, before dead time). */
double phys_time(const phys_model *m);
void phys_emitter(const phys_model *m, double *x_nm, double *y_nm, int *state);
void phys_beam(const phys_model *m, double *x_nm, double *y_nm);
void phys_rates(const phys_model *m, double *signal_hz, double *background_hz, double *dark_hz);
const phys_stats *phys_get_stats(const phys_model *m);
/* The scenario the model runs (its site list: positions at t = 0 relative to x_nm, y_nm). */
const phys_scenario *phys_scenario_of(const phys_model *m);

/* Relative excitation (A0 = 1) at offset (dx, dy) from the beam centre for an emitter of
 * diameter size_nm: S17 doughnut or S19 Gaussian blurred by the emitter's projected
 * extent (a uniform sphere approximated by a Gaussian of the same second moment,
 * sigma^2 = (size/2)^2 / 5 per axis; exact convolution of both beam shapes). */
double phys_doughnut(double dx, double dy, double fwhm, double size_nm);
double phys_gauss(double dx, double dy, double fwhm, double size_nm);

#ifdef __cplusplus
}
#endif
#endif
