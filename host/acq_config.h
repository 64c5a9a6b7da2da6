/* Acquisition configuration: keys with physical units (documented in README
 * "Acquisition keys"), read from an INI file and key=value arguments, validated, and
 * turned into firmware register values. */
#ifndef MINFLUX_ACQ_CONFIG_H
#define MINFLUX_ACQ_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "core_config.h"
#include "mlms.h"

typedef struct {
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
  int    baud;                     /* link rate */
} acq_config;

/* What the configuration means for the firmware. */
typedef struct {
  core_config_t core;
  mlms_regs_t   est;
  double        cycle_hz_actual;   /* CLK_HZ / period */
} acq_regs;

void acq_defaults(acq_config *c);
/* One key=value (section-less name); -1 with a message naming the key and allowed values. */
int  acq_set(acq_config *c, const char *key, const char *value, char *err, size_t errlen);
/* An INI file: keys at the top or in [acquire]. */
int  acq_load_ini(acq_config *c, const char *path, char *err, size_t errlen);
/* Validates and converts; ncycles = round(duration_s * actual rate). */
int  acq_to_regs(const acq_config *c, double duration_s, acq_regs *r, char *err, size_t errlen);
/* Calls fn for every key with its value as text (for the raw header). */
void acq_each(const acq_config *c, void (*fn)(void *ctx, const char *key, const char *val), void *ctx);

#endif
