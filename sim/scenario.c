/* Scenario files: see scenario.h; keys documented in docs/physics.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ini.h>
#include "scenario.h"

void phys_defaults(phys_scenario *s)
{
  memset(s, 0, sizeof *s);
  s->x_nm = 12.0;             /* the first virtual board's emitter (issue #4) */
  s->y_nm = -8.0;
  s->brightness_hz = 1e6;
  s->model = PHYS_STATIC;
  s->dwell_ms = 10.0;
  s->dwell_shape = 1;
  s->step_nm = 8.0;
  s->t_on_ms = 2.0;           /* used only when t_off_ms > 0 */
  s->molecules = 1;
  s->first_active = 1;
  s->fwhm_nm = 360.0;
  s->gauss_fwhm_nm = 320.0;   /* seed 003 6.4.2: Gaussian 560 nm beam, fwhm ~320 nm */
  s->gauss_peak_ratio = 1.0;
  s->shape = PHYS_SHAPE_PIN;
  s->eod_nm_per_lsb = 0.1;
  s->amp_ref_code = 49152;    /* the host's default laser_amp */
  s->dark_hz = 100.0;
  s->efficiency = 1.0;
  s->apd1_fraction = 0.5;
  s->dead_time_ns = 22.0;     /* SPCM-AQRH class APDs (DESIGN.md 4) */
  s->pulse_ns = 10.0;
  s->step_us = 1.0;
}

enum kind { KD, KI, KE, KP, KU, KS };   /* KS: a site list x,y x,y ... */
struct key {
  const char *section, *name;
  enum kind kind;
  double lo, hi;
  size_t off;
  const char *const *names;   /* KE: allowed words, index = value */
};
static const char *const traj_names[] = { "static", "brownian", "lissajous", "steps", "csv", NULL };
static const char *const shape_names[] = { "pin", "doughnut", "gaussian", NULL };
#define F(sec, nm, lo, hi) { sec, #nm, KD, lo, hi, offsetof(phys_scenario, nm), NULL }
#define N(sec, nm, lo, hi) { sec, #nm, KI, lo, hi, offsetof(phys_scenario, nm), NULL }
#define E(sec, nm, words)  { sec, #nm, KE, 0, 0, offsetof(phys_scenario, nm), words }
static const struct key keys[] = {
  F("emitter", x_nm, -1e5, 1e5),
  F("emitter", y_nm, -1e5, 1e5),
  F("emitter", brightness_hz, 0, 1e9),
  F("emitter", size_nm, 0, 1000),
  E("trajectory", model, traj_names),
  F("trajectory", D_um2_s, 0, 100),
  F("trajectory", box_w_nm, 0, 1e5),
  F("trajectory", box_h_nm, 0, 1e5),
  F("trajectory", pp_x_nm, 0, 1e5),
  F("trajectory", pp_y_nm, 0, 1e5),
  F("trajectory", f_x_hz, 0, 1e4),
  F("trajectory", f_y_hz, 0, 1e4),
  F("trajectory", phase_x_deg, -360, 360),
  F("trajectory", phase_y_deg, -360, 360),
  F("trajectory", step_nm, 0, 1000),
  F("trajectory", angle_deg, -360, 360),
  F("trajectory", dwell_ms, 0.01, 1e5),
  N("trajectory", dwell_shape, 1, 20),
  F("trajectory", back_fraction, 0, 1),
  { "trajectory", "csv", KP, 0, 0, offsetof(phys_scenario, csv), NULL },
  N("trajectory", loop, 0, 1),
  F("photophysics", t_on_ms, 0.001, 1e6),
  F("photophysics", t_off_ms, 0, 1e6),
  F("photophysics", bleach_photons, 0, 1e12),
  N("photophysics", molecules, 1, 1000000),
  N("photophysics", first_active, 0, 1),
  F("photophysics", activation_hz, 0, 1e7),
  F("photophysics", spontaneous_hz, 0, 1e7),
  F("photophysics", spawn_w_nm, 0, 1e5),
  F("photophysics", spawn_h_nm, 0, 1e5),
  F("photophysics", bleach_prob, 0, 1),
  F("beam", fwhm_nm, 10, 1e5),
  F("beam", gauss_fwhm_nm, 10, 1e5),
  F("beam", gauss_peak_ratio, 0, 1e3),
  E("beam", shape, shape_names),
  F("beam", eod_nm_per_lsb, 1e-4, 1e3),
  F("beam", settle_us, 0, 1000),
  F("beam", amp_ref_code, 1, 65535),
  F("background", background_hz, 0, 1e9),
  F("background", background_power_hz, 0, 1e9),
  F("background", dark_hz, 0, 1e9),
  F("detection", efficiency, 0, 1),
  F("detection", apd1_fraction, 0, 1),
  F("detection", dead_time_ns, 0, 1e5),
  F("detection", pulse_ns, 0.1, 1e5),
  F("link", tx_error_rate, 0, 1),
  F("link", latency_us, 0, 1e5),
  { "sim", "seed", KU, 0, 0, offsetof(phys_scenario, seed), NULL },
  F("sim", step_us, 0.02, 100),
  { "sample", "sites_nm", KS, -1e4, 1e4, offsetof(phys_scenario, site_x_nm), NULL },
  N("sample", grid_nx, 1, 16),
  N("sample", grid_ny, 1, 16),
  F("sample", grid_nm, 0.1, 1e4),
  F("sample", drift_x_nm_s, -1e3, 1e3),
  F("sample", drift_y_nm_s, -1e3, 1e3),
};
#define NKEYS (sizeof keys / sizeof keys[0])

const char *phys_key_name(size_t i, char *buf, size_t n)
{
  if (i >= NKEYS) return NULL;
  snprintf(buf, n, "%s.%s", keys[i].section, keys[i].name);
  return buf;
}

struct load_ctx {
  phys_scenario *s;
  char *err;
  size_t errlen;
  const char *path;
  unsigned char seen[NKEYS];
};

static void list_words(char *out, size_t n, const char *const *w)
{
  out[0] = 0;
  for (size_t i = 0; w[i]; i++) {
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%s%s", i ? ", " : "", w[i]);
  }
}

/* A relative csv path is taken relative to the scenario file's directory. */
static void resolve(char *out, size_t n, const char *scenario, const char *value)
{
  const char *slash = strrchr(scenario, '/');
  if (value[0] == '/' || !slash) snprintf(out, n, "%s", value);
  else snprintf(out, n, "%.*s/%s", (int)(slash - scenario), scenario, value);
}

/* [sample] sites_nm = x,y x,y ...: pairs separated by white space (or ';' right after a
 * number: in INI a ';' after a space starts a comment), appended to the list (inih hands
 * continuation lines over one by one). Returns 0 or -1 with the message in c->err. */
static int parse_sites(struct load_ctx *c, const struct key *k, const char *value)
{
  phys_scenario *s = c->s;
  const char *p = value;
  const char *fmt = "sites are x,y pairs in nm separated by spaces, e.g. 'sites_nm = 0,0 12,0 24,0'";
  int added = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ';') p++;
    if (!*p) break;
    const char *start = p;
    double v[2];
    for (int i = 0; i < 2; i++) {
      char *end;
      errno = 0;
      v[i] = strtod(p, &end);
      if (errno || end == p || !isfinite(v[i])) {
        int l = 0;
        while (start[l] && start[l] != ' ' && start[l] != '\t' && start[l] != ';') l++;
        snprintf(c->err, c->errlen, "%s: [sample] sites_nm: site %d '%.*s' is not x,y (%s)", c->path,
                 s->n_sites + 1, l, start, fmt);
        return -1;
      }
      p = end;
      while (*p == ' ' || *p == '\t') p++;
      if (i == 0) {
        if (*p != ',') {
          snprintf(c->err, c->errlen, "%s: [sample] sites_nm: site %d '%.*s' has no ',y' (%s)", c->path,
                   s->n_sites + 1, (int)(p - start), start, fmt);
          return -1;
        }
        p++;
        while (*p == ' ' || *p == '\t') p++;
      }
    }
    if (*p && *p != ' ' && *p != '\t' && *p != ';' && p[-1] != ' ') {
      snprintf(c->err, c->errlen, "%s: [sample] sites_nm: after site %d (%g, %g) comes '%s' (%s)", c->path,
               s->n_sites + 1, v[0], v[1], p, fmt);
      return -1;
    }
    for (int i = 0; i < 2; i++)
      if (v[i] < k->lo || v[i] > k->hi) {
        snprintf(c->err, c->errlen, "%s: [sample] sites_nm: site %d (%g, %g): coordinates must lie in [%g, %g] nm of [emitter] (x_nm, y_nm)",
                 c->path, s->n_sites + 1, v[0], v[1], k->lo, k->hi);
        return -1;
      }
    for (int j = 0; j < s->n_sites; j++)
      if (s->site_x_nm[j] == v[0] && s->site_y_nm[j] == v[1]) {
        snprintf(c->err, c->errlen, "%s: [sample] sites_nm: site %d (%g, %g) repeats site %d (one dye per site)",
                 c->path, s->n_sites + 1, v[0], v[1], j + 1);
        return -1;
      }
    if (s->n_sites >= PHYS_SITES_MAX) {
      snprintf(c->err, c->errlen, "%s: [sample] sites_nm: more than %d sites", c->path, PHYS_SITES_MAX);
      return -1;
    }
    s->site_x_nm[s->n_sites] = v[0];
    s->site_y_nm[s->n_sites] = v[1];
    s->n_sites++;
    added++;
  }
  if (!added) {
    snprintf(c->err, c->errlen, "%s: [sample] sites_nm is empty (%s)", c->path, fmt);
    return -1;
  }
  return 0;
}

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
  struct load_ctx *c = user;
  int sec_known = 0;
  /* [acquire]: acquisition keys for the host (minflux acquire reads them, host/acq_config.c) */
  if (!strcmp(section, "acquire")) return 1;
  for (size_t i = 0; i < NKEYS; i++) {
    const struct key *k = &keys[i];
    if (strcmp(section, k->section)) continue;
    sec_known = 1;
    if (strcmp(name, k->name)) continue;
    if (c->seen[i] && k->kind != KS) {   /* a site list may continue on further lines */
      snprintf(c->err, c->errlen, "%s: [%s] %s is given twice", c->path, section, name);
      return 0;
    }
    c->seen[i] = 1;
    void *p = (char *)c->s + k->off;
    char *end;
    errno = 0;
    switch (k->kind) {
    case KE: {
      for (int w = 0; k->names[w]; w++)
        if (!strcmp(value, k->names[w])) { *(int *)p = w; return 1; }
      char words[128];
      list_words(words, sizeof words, k->names);
      snprintf(c->err, c->errlen, "%s: [%s] %s = '%s' is not one of: %s", c->path, section, name, value, words);
      return 0;
    }
    case KS:
      return parse_sites(c, k, value) ? 0 : 1;
    case KP:
      if (!*value || strlen(value) >= PHYS_PATH_MAX / 2) {
        snprintf(c->err, c->errlen, "%s: [%s] %s = '%s' is not a file name (1 to %d characters)",
                 c->path, section, name, value, PHYS_PATH_MAX / 2 - 1);
        return 0;
      }
      resolve((char *)p, PHYS_PATH_MAX, c->path, value);
      return 1;
    case KU: {
      unsigned long long v = strtoull(value, &end, 0);
      if (errno || end == value || *end || value[0] == '-') {
        snprintf(c->err, c->errlen, "%s: [%s] %s = '%s' is not an integer in [0, 2^64-1] (0 = from the clock)",
                 c->path, section, name, value);
        return 0;
      }
      *(uint64_t *)p = v;
      return 1;
    }
    case KD: case KI: {
      double v = strtod(value, &end);
      if (errno || end == value || *end || !isfinite(v) || v < k->lo || v > k->hi ||
          (k->kind == KI && v != floor(v))) {
        snprintf(c->err, c->errlen, "%s: [%s] %s = '%s' is not %s in [%g, %g]", c->path, section, name,
                 value, k->kind == KI ? "an integer" : "a number", k->lo, k->hi);
        return 0;
      }
      if (k->kind == KI) *(int *)p = (int)v;
      else *(double *)p = v;
      return 1;
    }
    }
  }
  /* unknown: name the keys of this section, or the sections */
  char allowed[900] = "";
  const char *prev = "";
  for (size_t i = 0; i < NKEYS; i++) {
    size_t l = strlen(allowed);
    if (sec_known) {
      if (!strcmp(section, keys[i].section))
        snprintf(allowed + l, sizeof allowed - l, "%s%s", l ? ", " : "", keys[i].name);
    } else if (strcmp(prev, keys[i].section)) {
      snprintf(allowed + l, sizeof allowed - l, "%s[%s]", l ? ", " : "", keys[i].section);
      prev = keys[i].section;
    }
  }
  if (!*section)
    snprintf(c->err, c->errlen, "%s: unknown key %s outside a section (keys go in %s; see docs/physics.md)", c->path, name, allowed);
  else if (sec_known)
    snprintf(c->err, c->errlen, "%s: unknown key [%s] %s (allowed in [%s]: %s)", c->path, section, name, section, allowed);
  else
    snprintf(c->err, c->errlen, "%s: unknown section [%s] (allowed: %s, [acquire] for the host; see docs/physics.md)",
             c->path, section, allowed);
  return 0;
}

long phys_read_csv(const char *path, double **tp, double **xp, double **yp, char *err, size_t errlen)
{
  FILE *f = fopen(path, "r");
  if (!f) { snprintf(err, errlen, "cannot open trajectory script %s: %s", path, strerror(errno)); return -1; }
  size_t cap = 0, n = 0;
  double *t = NULL, *x = NULL, *y = NULL;
  char line[512];
  long lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '#' || *s == '\n' || *s == '\r' || !*s) continue;
    if (n == 0 && lineno == 1 && !strncmp(s, "t_s", 3)) continue;   /* header */
    double v[3];
    char *p = s, *end;
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
      errno = 0;
      v[i] = strtod(p, &end);
      if (errno || end == p || !isfinite(v[i])) ok = 0;
      p = end;
      while (*p == ' ' || *p == '\t') p++;
      if (i < 2) { if (*p == ',') p++; else ok = 0; }
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (!ok || *p) {
      snprintf(err, errlen, "%s:%ld: expected t_s,x_nm,y_nm (three numbers)", path, lineno);
      goto fail;
    }
    if (n && v[0] <= t[n - 1]) {
      snprintf(err, errlen, "%s:%ld: t_s = %g is not after the previous row's %g (times must increase)", path, lineno, v[0], t[n - 1]);
      goto fail;
    }
    if (n == 0 && v[0] < 0) {
      snprintf(err, errlen, "%s:%ld: t_s = %g is negative", path, lineno, v[0]);
      goto fail;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      double *nt = realloc(t, cap * sizeof *t), *nx = nt ? realloc(x, cap * sizeof *x) : NULL,
             *ny = nx ? realloc(y, cap * sizeof *y) : NULL;
      if (nt) t = nt;
      if (nx) x = nx;
      if (!ny) { snprintf(err, errlen, "%s: out of memory", path); goto fail; }
      y = ny;
    }
    t[n] = v[0]; x[n] = v[1]; y[n] = v[2];
    n++;
  }
  fclose(f);
  if (n < 2) {
    snprintf(err, errlen, "%s: a trajectory script needs at least 2 rows t_s,x_nm,y_nm (has %zu)", path, n);
    free(t); free(x); free(y);
    return -1;
  }
  *tp = t; *xp = x; *yp = y;
  return (long)n;
fail:
  fclose(f);
  free(t); free(x); free(y);
  return -1;
}

/* Combinations a single key's range cannot express. */
static int check_consistency(const char *path, const phys_scenario *s, char *err, size_t errlen)
{
  if (s->csv[0] && s->model != PHYS_CSV) {
    snprintf(err, errlen, "%s: [trajectory] csv is used only with model = csv (model is %s)", path, traj_names[s->model]);
    return -1;
  }
  if (s->model == PHYS_CSV) {
    if (!s->csv[0]) {
      snprintf(err, errlen, "%s: [trajectory] model = csv needs csv = FILE (rows t_s,x_nm,y_nm)", path);
      return -1;
    }
    double *t, *x, *y;
    char e[600];
    if (phys_read_csv(s->csv, &t, &x, &y, e, sizeof e) < 0) {
      snprintf(err, errlen, "%s: [trajectory] csv: %s", path, e);
      return -1;
    }
    free(t); free(x); free(y);
  }
  const int waiting = !s->first_active || s->molecules > 1;
  if (waiting && s->activation_hz == 0 && s->spontaneous_hz == 0) {
    snprintf(err, errlen, "%s: [photophysics] %s but activation_hz and spontaneous_hz are both 0: set one of them > 0",
             path, !s->first_active ? "first_active = 0 (the emitter waits for activation)" : "molecules > 1 (the next ones wait for activation)");
    return -1;
  }
  if (s->molecules > 1 && s->bleach_photons == 0) {
    snprintf(err, errlen, "%s: [photophysics] molecules = %d but bleach_photons = 0: the first never bleaches, so the others never come",
             path, s->molecules);
    return -1;
  }
  if (s->size_nm >= s->fwhm_nm) {
    snprintf(err, errlen, "%s: [emitter] size_nm = %g must be smaller than [beam] fwhm_nm = %g", path, s->size_nm, s->fwhm_nm);
    return -1;
  }
  return 0;
}

static int given(const struct load_ctx *c, const char *section, const char *name)
{
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name)) return c->seen[i];
  return 0;
}

/* [sample]: the grid becomes a site list; the keys that only a multi-site sample uses and
 * the single-molecule keys it cannot use are refused. */
static int sample_sites(struct load_ctx *c)
{
  phys_scenario *s = c->s;
  const int gx = given(c, "sample", "grid_nx"), gy = given(c, "sample", "grid_ny"), gn = given(c, "sample", "grid_nm");
  if (gx || gy || gn) {
    if (given(c, "sample", "sites_nm")) {
      snprintf(c->err, c->errlen, "%s: [sample] give either sites_nm or grid_nx/grid_ny/grid_nm, not both", c->path);
      return -1;
    }
    if (!gx || !gy || !gn) {
      snprintf(c->err, c->errlen, "%s: [sample] a grid needs grid_nx, grid_ny and grid_nm (missing: %s%s%s)", c->path,
               gx ? "" : "grid_nx ", gy ? "" : "grid_ny ", gn ? "" : "grid_nm");
      return -1;
    }
    if (s->grid_nx * s->grid_ny > PHYS_SITES_MAX) {
      snprintf(c->err, c->errlen, "%s: [sample] grid_nx x grid_ny = %d sites, at most %d", c->path,
               s->grid_nx * s->grid_ny, PHYS_SITES_MAX);
      return -1;
    }
    s->n_sites = 0;
    for (int j = 0; j < s->grid_ny; j++)
      for (int i = 0; i < s->grid_nx; i++) {
        s->site_x_nm[s->n_sites] = (i - 0.5 * (s->grid_nx - 1)) * s->grid_nm;
        s->site_y_nm[s->n_sites] = (j - 0.5 * (s->grid_ny - 1)) * s->grid_nm;
        s->n_sites++;
      }
  }
  if (!s->n_sites) {
    const char *only[] = { "drift_x_nm_s", "drift_y_nm_s" };
    for (int i = 0; i < 2; i++)
      if (given(c, "sample", only[i])) {
        snprintf(c->err, c->errlen, "%s: [sample] %s needs sites (sites_nm or a grid)", c->path, only[i]);
        return -1;
      }
    if (given(c, "photophysics", "bleach_prob")) {
      snprintf(c->err, c->errlen, "%s: [photophysics] bleach_prob is used only with [sample] sites (a single molecule bleaches after bleach_photons)", c->path);
      return -1;
    }
    return 0;
  }
  if (s->model != PHYS_STATIC) {
    snprintf(c->err, c->errlen, "%s: [trajectory] model = %s with [sample] sites: the sites are static (use [sample] drift_x_nm_s/drift_y_nm_s to move them)",
             c->path, traj_names[s->model]);
    return -1;
  }
  const char *single[] = { "molecules", "t_off_ms", "spawn_w_nm", "spawn_h_nm" };
  for (int i = 0; i < 4; i++)
    if (given(c, "photophysics", single[i])) {
      snprintf(c->err, c->errlen, "%s: [photophysics] %s is for a single molecule: a [sample] with sites has one dye per site (DARK -> ON -> DARK or BLEACHED, no blinking inside ON)",
               c->path, single[i]);
      return -1;
    }
  if (s->activation_hz == 0 && s->spontaneous_hz == 0) {
    snprintf(c->err, c->errlen, "%s: [photophysics] [sample] sites switch DARK -> ON at spontaneous_hz + activation_hz (405 nm on), both are 0: set one of them > 0",
             c->path);
    return -1;
  }
  return 0;
}

int phys_load(const char *path, phys_scenario *s, char *err, size_t errlen)
{
  struct load_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s; c.err = err; c.errlen = errlen; c.path = path;
  err[0] = 0;
  int r = ini_parse(path, on_kv, &c);
  if (r == -1) { snprintf(err, errlen, "cannot open scenario %s: %s", path, strerror(errno)); return -1; }
  if (r == -2) { snprintf(err, errlen, "out of memory reading %s", path); return -1; }
  if (r > 0) {
    if (!err[0]) snprintf(err, errlen, "%s:%d: not an INI line (expected [section] or key = value)", path, r);
    return -1;
  }
  if (sample_sites(&c)) return -1;
  return check_consistency(path, s, err, errlen);
}
