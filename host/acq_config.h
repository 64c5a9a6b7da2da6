/* Acquisition configuration: keys with physical units (documented in README
 * "Acquisition keys"), read from an INI file and key=value arguments, validated, and
 * turned into firmware register values. */
#ifndef MINFLUX_ACQ_CONFIG_H
#define MINFLUX_ACQ_CONFIG_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "core_config.h"
#include "mlms.h"
#include "ctl_regs.h"
#include "img_regs.h"
#include "bayes_regs.h"

typedef struct acq_config {
  char   mode[16];
  double cycle_hz, delay_us, window_us;
  int    k;
  double L_nm, fwhm_nm, eod_nm_per_lsb;
  double centre_x_nm, centre_y_nm;
  double safe_x_min_nm, safe_x_max_nm, safe_y_min_nm, safe_y_max_nm;
  double laser_amp;
  int    est_k;
  double beta0, beta1, beta2;
  double thresh;
  int    agg;                      /* cycles summed into one record */
  int    photon_budget;            /* PHOTON_STOP: the run ends at the record reaching it (0 = off) */
  int    baud;                     /* link rate */
  double watchdog_ms;              /* host watchdog (WDOG), 0 = off */
  /* tracking controller (docs/controller.md; converted by host/ctl_regs.c) */
  int    controller;               /* 0 off, 1 on */
  double search_field_nm, search_pixel_nm, search_dwell_us;
  int    search_thresh;
  int    act_cycles, act_every;
  double pre_L_nm, pre_gate_us;
  int    pre_thresh;
  double gauss_fwhm_nm, pre_gain, pre_clamp_nm, gain, clamp_nm, loss_ratio;
  int    loss_records, dark_records;
  /* imaging mode (mode = image, issue #10; docs/imaging.md; converted by host/img_regs.c) */
  int    stages;                   /* 1..3 */
  double stage_L_nm[3];            /* 0: L_nm / 2^s */
  int    stage_photons[3];         /* photon limit per stage */
  double act_rate_khz;             /* 405 nm while the low-passed search count rate is below */
  int    act_lp_shift;
  double act_on_ms, act_off_ms;
  int    bright_records;
  /* Bayesian mode (mode = bayes, issue #6; host/acq_bayes.c; converted by host/bayes_regs.c) */
  double bayes_mu;                 /* expected photons per exposure */
  double bayes_b;                  /* background relative to the doughnut maximum */
  double bayes_s_nm;               /* radius of the doughnut maximum */
  double bayes_sigma0_nm;          /* prior std (prior centre = centre_x/y_nm) */
  double bayes_std_stop_nm;        /* stop at this std (0 = never) */
  int    bayes_photons;            /* photon budget per localization (0 = none) */
  double bayes_eta_per_code;       /* laser calibration (required) */
  int    bayes_amp_max;            /* largest laser code */
  int    bayes_seed;               /* placement seed of localization 0 (localization i: seed + i) */
  int    bayes_host;               /* 1: the host runs the model, the firmware one exposure per start (no block needed) */
  char   bayes_dtable[256];        /* D(sigma) table from `minflux bayes dtable` ("": computed) */
  double bayes_gate_us;            /* detection gate (exposure) */
  /* iterative hexagon mode (mode = hex, issue #6 item 3; host/acq_hex.c): the same physical
   * model keys as mode = bayes (bayes_mu, _b, _s_nm, _sigma0_nm, _eta_per_code, _gate_us) */
  double hex_L_nm[3];              /* stage pattern diameters */
  int    hex_photons[3];           /* photons that end each stage */
  /* which keys were given (by a file or an argument): mode = image changes the defaults of
   * the others (gain, loss_ratio, dark_records, delay_us, window_us) */
  unsigned char given[112];
} acq_config;

/* What the configuration means for the firmware. */
typedef struct {
  core_config_t core;
  mlms_regs_t   est;
  ctl_regs_t    ctl;               /* with controller = on (host/ctl_regs.c) */
  img_regs_t    img;               /* with mode = image (host/img_regs.c) */
  bayes_phys_t  bayes_phys;        /* with mode = bayes: the physical parameters ... */
  bayes_regs_t  bayes;             /* ... and the block's registers; acq_to_regs fills the D table
                                    * with zeros (acq_bayes_dtable puts the real one in) */
  double        cycle_hz_actual;   /* CLK_HZ / period */
} acq_regs;

void acq_defaults(acq_config *c);
/* One key=value (section-less name); -1 with a message naming the key and allowed values. */
int  acq_set(acq_config *c, const char *key, const char *value, char *err, size_t errlen);
/* An INI file: keys at the top or in [acquire]. */
int  acq_load_ini(acq_config *c, const char *path, char *err, size_t errlen);
/* A scenario file of the virtual board: only its [acquire] section (the other sections
 * are the physics' and are read by sim/scenario.c). */
int  acq_load_scenario(acq_config *c, const char *path, char *err, size_t errlen);
/* Whether the configuration is an imaging run (mode = image: the controller drives it in
 * imaging mode, CTL_MODE bit1). */
int  acq_is_image(const acq_config *c);
/* Whether it is a Bayesian run (mode = bayes: one Bayesian localization per CTRL start). */
int  acq_is_bayes(const acq_config *c);
/* Whether it is an iterative hexagon run (mode = hex: the host runs the stages, host/acq_hex.c). */
int  acq_is_hex(const acq_config *c);
/* BAYES_SEED of localization i: bayes_seed + i through a 32-bit mixer (the block's placement
 * LFSR takes the seed as its state: seeds that differ in a few low bits would start with the
 * same placement angles). */
uint32_t acq_bayes_loc_seed(const acq_config *c, unsigned i);
/* r->bayes's safe window := r->core's (the block places inside the window set at CTRL start);
 * after every bayes_regs_from_phys, which sets the whole DAC range. */
void acq_bayes_window(acq_regs *r);
/* Validates and converts; ncycles = round(duration_s * actual rate); the controller's
 * registers too when c->controller is on. mode = bayes: one exposure per cycle (K = 1,
 * NCYCLES = 0, GATE from bayes_gate_us) and the Bayesian registers (D table zero).
 * mode = hex: K = 7 (centre + hexagon of hex_L_nm[0]), DELAY and GATE from delay_us and
 * bayes_gate_us, WIN from window_us, LASER_AMP for bayes_mu photons per exposure at the
 * centre of stage 0, NCYCLES = the whole duration (each stage is stopped by the host). */
int  acq_to_regs(const acq_config *c, double duration_s, acq_regs *r, char *err, size_t errlen);
/* Prints every key as "key=default  unit/meaning", one a line (minflux acquire --help). */
void acq_help_keys(FILE *f);
/* Calls fn for every key with its value as text (for the raw header). */
void acq_each(const acq_config *c, void (*fn)(void *ctx, const char *key, const char *val), void *ctx);

#endif
