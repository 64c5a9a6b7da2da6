/* Virtual board physics: see physics.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ini.h>
#include "physics.h"

void phys_defaults(phys_scenario *s)
{
  memset(s, 0, sizeof *s);
  s->x_nm = 12.0;
  s->y_nm = -8.0;
  s->brightness_hz = 1e6;
  s->background_hz = 0.0;
  s->dark_hz = 100.0;
  s->fwhm_nm = 360.0;
  s->eod_nm_per_lsb = 0.1;
  s->apd1_fraction = 0.5;
  s->seed = 0;
}

struct key { const char *section, *name; double lo, hi; size_t off; };
#define K(sec, nm, lo, hi, field) { sec, nm, lo, hi, offsetof(phys_scenario, field) }
static const struct key keys[] = {
  K("emitter", "x_nm", -1e5, 1e5, x_nm),
  K("emitter", "y_nm", -1e5, 1e5, y_nm),
  K("emitter", "brightness_hz", 0, 1e9, brightness_hz),
  K("background", "background_hz", 0, 1e9, background_hz),
  K("background", "dark_hz", 0, 1e9, dark_hz),
  K("beam", "fwhm_nm", 10, 1e5, fwhm_nm),
  K("beam", "eod_nm_per_lsb", 1e-4, 1e3, eod_nm_per_lsb),
  K("detection", "apd1_fraction", 0, 1, apd1_fraction),
  K("link", "tx_error_rate", 0, 1, tx_error_rate),
};

struct load_ctx { phys_scenario *s; char *err; size_t errlen; const char *path; };

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
  struct load_ctx *c = user;
  if (!strcmp(section, "sim") && !strcmp(name, "seed")) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 0);
    if (errno || end == value || *end || value[0] == '-') {
      snprintf(c->err, c->errlen, "%s: [sim] seed = '%s' is not a non-negative integer", c->path, value);
      return 0;
    }
    c->s->seed = v;
    return 1;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (strcmp(section, keys[i].section) || strcmp(name, keys[i].name)) continue;
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < keys[i].lo || v > keys[i].hi) {
      snprintf(c->err, c->errlen, "%s: [%s] %s = '%s' is not a number in [%g, %g]",
               c->path, section, name, value, keys[i].lo, keys[i].hi);
      return 0;
    }
    *(double *)((char *)c->s + keys[i].off) = v;
    return 1;
  }
  char allowed[512] = "";
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    size_t n = strlen(allowed);
    snprintf(allowed + n, sizeof allowed - n, "%s[%s] %s", i ? ", " : "", keys[i].section, keys[i].name);
  }
  snprintf(c->err, c->errlen, "%s: unknown key [%s] %s (allowed: %s, [sim] seed)",
           c->path, section, name, allowed);
  return 0;
}

int phys_load(const char *path, phys_scenario *s, char *err, size_t errlen)
{
  struct load_ctx c = { s, err, errlen, path };
  err[0] = 0;
  int r = ini_parse(path, on_kv, &c);
  if (r == -1) { snprintf(err, errlen, "cannot open scenario %s: %s", path, strerror(errno)); return -1; }
  if (r == -2) { snprintf(err, errlen, "out of memory reading %s", path); return -1; }
  if (r > 0) {
    if (!err[0]) snprintf(err, errlen, "%s:%d: not an INI line (expected [section] or key = value)", path, r);
    return -1;
  }
  return 0;
}

double phys_rate_hz(const phys_scenario *s, double bx_nm, double by_nm, int laser_on)
{
  double rate = s->dark_hz;
  if (laser_on) {
    const double dx = s->x_nm - bx_nm, dy = s->y_nm - by_nm;
    const double q = 4.0 * log(2.0) * (dx * dx + dy * dy) / (s->fwhm_nm * s->fwhm_nm);
    rate += s->brightness_hz * exp(1.0) * q * exp(-q) + s->background_hz;   /* S17 */
  }
  return rate;
}
