/* Acquisition configuration: see acq_config.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ini.h>
#include "acq_config.h"
#include "bayes_float.h"
#include "est_regs.h"
#include "regmap.h"

enum kind { KD, KI, KS, KO, KP };   /* double, int, string (mode), off/on (int 0/1), path (char[256]) */
struct key { const char *name; enum kind kind; double lo, hi; size_t off; const char *unit; };
#define D(n, lo, hi, u) { #n, KD, lo, hi, offsetof(acq_config, n), u }
#define I(n, lo, hi, u) { #n, KI, lo, hi, offsetof(acq_config, n), u }
#define O(n, u)         { #n, KO, 0, 1, offsetof(acq_config, n), u }
static const struct key keys[] = {
  { "mode", KS, 0, 0, offsetof(acq_config, mode), "track, image, bayes or hex (imaging: the controller's iterative localization, docs/imaging.md; "
                                                   "bayes: Bayesian localizations, README \"Bayesian acquisition\"; hex: iterative "
                                                   "hexagon localizations, README \"Hexagon acquisition\")" },
  D(cycle_hz, 100, 100000, "Hz, multiplex cycle rate"),
  I(k, 1, 8, "exposures per cycle (4 = centre + 3 at 120 deg)"),
  D(delay_us, 3.5, 1000, "us, beam move + gate delay (laser blanked)"),
  D(window_us, 0.02, 1000, "us, localization window after the last gate"),
  D(L_nm, 1, 2000, "nm, pattern diameter"),
  D(fwhm_nm, 10, 5000, "nm, doughnut fwhm"),
  D(eod_nm_per_lsb, 1e-3, 100, "nm of beam deflection per DAC LSB"),
  D(centre_x_nm, -1e6, 1e6, "nm, pattern centre"),
  D(centre_y_nm, -1e6, 1e6, "nm"),
  D(safe_x_min_nm, -1e6, 1e6, "nm, safe window"),
  D(safe_x_max_nm, -1e6, 1e6, "nm"),
  D(safe_y_min_nm, -1e6, 1e6, "nm"),
  D(safe_y_max_nm, -1e6, 1e6, "nm"),
  D(laser_amp, 0, 65535, "laser amplitude DAC code"),
  I(est_k, 1, 2, "mLMS order"),
  D(beta0, -8, 7.999, "mLMS beta0"),
  D(beta1, -8, 7.999, "mLMS beta1"),
  D(beta2, -8, 7.999, "mLMS beta2 (est_k = 2)"),
  D(thresh, 0, 32767, "reaction threshold, counts per record"),
  I(agg, 1, 255, "multiplex cycles summed into one record (above the link's capacity)"),
  I(photon_budget, 0, 16777215, "photons (both APDs, every gate) at which the firmware ends the run, at the end of that record; 0 = off"),
  I(baud, 3000000, 12000000, "link rate: 3000000, 6000000 or 12000000 baud"),
  D(watchdog_ms, 0, 22000, "ms, host watchdog: the firmware stops the run (laser off, beam centred) after this much host silence; 0 = off"),
  /* tracking controller (docs/controller.md); the register fields are checked by
   * host/ctl_regs.c, which knows eod_nm_per_lsb and the clock */
  O(controller, "off or on: the firmware's tracking controller drives the run"),
  D(search_field_nm, 1, 1e5, "nm, side of the square search raster (centred on centre_x/y_nm)"),
  D(search_pixel_nm, 1e-3, 1e5, "nm, raster pixel step"),
  D(search_dwell_us, 0.02, 1365, "us, gate per search pixel"),
  I(search_thresh, 1, 32767, "counts in one pixel that end the search"),
  I(act_cycles, 0, 65535, "405 nm on for this many search cycles of an activation frame"),
  I(act_every, 0, 255, "405 nm in every act_every-th raster frame (0 = never)"),
  D(pre_L_nm, 1, 1000, "nm, pre-localization pattern diameter (4 Gaussian exposures at +-L/2)"),
  D(pre_gate_us, 0.02, 1365, "us, gate per pre-localization exposure"),
  I(pre_thresh, 1, 32767, "counts N of the 4 pre-localization exposures to accept"),
  D(gauss_fwhm_nm, 10, 5000, "nm, fwhm of the Gaussian search beam"),
  D(pre_gain, 0, 1000, "pre-localization feedback gain (1 = move onto the estimate)"),
  D(pre_clamp_nm, 0, 1e5, "nm, largest pre-localization step per axis"),
  D(gain, 0, 1000, "tracking feedback gain per record"),
  D(clamp_nm, 0, 1e5, "nm, largest tracking step per axis and record"),
  D(loss_ratio, 0, 1, "lost when sum(n0)/sum(N) over the window reaches this"),
  I(loss_records, 0, 255, "records of the n0/N loss window (0 = off)"),
  I(dark_records, 0, 65535, "consecutive records without a valid estimate = lost (0 = off); imaging: records of a stage "
                            "without reaching its photon limit = abort (default 400 there)"),
  /* imaging mode (docs/imaging.md); the register fields are checked by host/img_regs.c */
  I(stages, 1, 3, "imaging: localization stages (the last one repeats)"),
  { "stage0_L_nm", KD, 0, 2000, offsetof(acq_config, stage_L_nm[0]), "nm, imaging stage 0 pattern diameter (0: L_nm; must be L_nm/2^shift, shift 0..3)" },
  { "stage1_L_nm", KD, 0, 2000, offsetof(acq_config, stage_L_nm[1]), "nm, stage 1 (0: L_nm/2)" },
  { "stage2_L_nm", KD, 0, 2000, offsetof(acq_config, stage_L_nm[2]), "nm, stage 2 (0: L_nm/4)" },
  { "stage0_photons", KI, 1, 16383, offsetof(acq_config, stage_photons[0]), "imaging: photons that end stage 0" },
  { "stage1_photons", KI, 1, 16383, offsetof(acq_config, stage_photons[1]), "photons that end stage 1" },
  { "stage2_photons", KI, 1, 16383, offsetof(acq_config, stage_photons[2]), "photons that end stage 2 (one final localization each)" },
  D(act_rate_khz, 0, 1e5, "imaging: 405 nm while the low-passed search count rate is below this (kHz; 0 = never)"),
  I(act_lp_shift, 0, 15, "imaging: low-pass of the search counts, lp += (N - lp) / 2^shift per search record"),
  D(act_on_ms, 0, 1e5, "imaging: 405 nm pulse length while below the rate (ms, in search records)"),
  D(act_off_ms, 0, 1e5, "imaging: pause between 405 nm pulses (ms)"),
  I(bright_records, 0, 255, "imaging: a stage that reaches its limit in fewer records is aborted (0 = off)"),
  /* Bayesian mode (README "Bayesian acquisition"); the register fields are checked by
   * host/bayes_regs.c, which knows eod_nm_per_lsb */
  D(bayes_mu, 1e-6, 100, "bayes: expected photons per exposure (the laser code is set for it, seed 002 eq 4)"),
  D(bayes_b, 1e-5, 0.8, "bayes: background relative to the doughnut maximum"),
  D(bayes_s_nm, 10, 5000, "bayes: nm, radius of the doughnut maximum (s of seed 002 eq 1; S17 fwhm = 2 s sqrt(ln 2))"),
  D(bayes_sigma0_nm, 1, 1e5, "bayes: nm, prior std (the prior is centred on centre_x_nm, centre_y_nm)"),
  D(bayes_std_stop_nm, 0, 1e5, "bayes: nm, a localization ends once its posterior std is below this (0 = never)"),
  I(bayes_photons, 0, 2000000000, "bayes: photon budget of a localization (0 = none)"),
  D(bayes_eta_per_code, 0, 1, "bayes: laser calibration, photons per exposure per laser code at the doughnut maximum "
                              "(required; the virtual board's scenario gives it)"),
  I(bayes_amp_max, 1, 65535, "bayes: largest laser code"),
  I(bayes_seed, 0, 2147483647, "bayes: placement seed (localization i: BAYES_SEED = a 32-bit mix of seed + i)"),
  O(bayes_host, "bayes: off = the firmware's Bayesian block localizes; on = the host runs the same fixed-point model "
                "(hls-c/bayes.c) and the firmware one exposure per start, for a firmware without the block (the board image; "
                "one USB round trip per exposure)"),
  { "bayes_dtable", KP, 0, 0, offsetof(acq_config, bayes_dtable), "bayes: D(sigma) CSV of `minflux bayes dtable` for these "
                                                                  "bayes_mu, bayes_b, bayes_s_nm (empty: computed at the start, ~10 s, "
                                                                  "and saved as DIR/dtable.csv)" },
  D(bayes_gate_us, 0.02, 1365, "bayes: us, detection gate of one exposure (laser on); delay_us before it, window_us after"),
  /* iterative hexagon mode (README "Hexagon acquisition"; the bayes_* model keys apply) */
  { "hex_stage0_L_nm", KD, 1, 2000, offsetof(acq_config, hex_L_nm[0]), "hex: nm, stage 0 hexagon diameter (centre + 6 at 60 deg)" },
  { "hex_stage1_L_nm", KD, 1, 2000, offsetof(acq_config, hex_L_nm[1]), "hex: nm, stage 1 diameter" },
  { "hex_stage2_L_nm", KD, 1, 2000, offsetof(acq_config, hex_L_nm[2]), "hex: nm, stage 2 diameter (the final stage)" },
  { "hex_stage0_photons", KI, 1, 1000000, offsetof(acq_config, hex_photons[0]), "hex: photons that end stage 0" },
  { "hex_stage1_photons", KI, 1, 1000000, offsetof(acq_config, hex_photons[1]), "hex: photons that end stage 1" },
  { "hex_stage2_photons", KI, 1, 1000000, offsetof(acq_config, hex_photons[2]), "hex: photons that end stage 2 (N3; the localization)" },
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= sizeof ((acq_config *)0)->given, "acq_config.given has a flag per key");

static size_t controller_key(void)
{
  size_t i = 0;
  while (i < NKEYS && strcmp(keys[i].name, "controller")) i++;
  return i;
}

void acq_defaults(acq_config *c)
{
  memset(c, 0, sizeof *c);
  snprintf(c->mode, sizeof c->mode, "track");
  c->cycle_hz = 8000;          /* seed 003 6.4.3 tracking timing */
  c->delay_us = 7.4;
  c->window_us = 2.0;
  c->k = 4;
  c->L_nm = 100;
  c->fwhm_nm = 360;
  c->eod_nm_per_lsb = 0.1;
  c->safe_x_min_nm = c->safe_y_min_nm = -3000;
  c->safe_x_max_nm = c->safe_y_max_nm = 3000;
  c->laser_amp = 49152;
  c->est_k = 1;
  c->beta0 = 1.27;             /* live mLMS defaults (S51, section 6.4) */
  c->beta1 = 3.8;
  c->thresh = 6;
  c->agg = 1;
  c->baud = 3000000;
  c->watchdog_ms = 1000;
  c->controller = 0;           /* docs/controller.md; seed 003 6.4.2 */
  c->search_field_nm = 1900;
  c->search_pixel_nm = 127;
  c->search_dwell_us = 50;
  c->search_thresh = 15;
  c->act_cycles = 4;
  c->act_every = 0;
  c->pre_L_nm = 300;
  c->pre_gate_us = 50;
  c->pre_thresh = 20;
  c->gauss_fwhm_nm = 320;
  c->pre_gain = 1.0;
  c->pre_clamp_nm = 300;
  c->gain = 0.5;
  c->clamp_nm = 50;
  c->loss_ratio = 0.24;        /* seed 003 6.4.4: mean central ratio ~0.23-0.25 when lost */
  c->loss_records = 32;
  c->dark_records = 40;
  c->stages = 3;                 /* docs/imaging.md */
  c->stage_photons[0] = 50;
  c->stage_photons[1] = 100;
  c->stage_photons[2] = 200;
  c->act_rate_khz = 20;          /* seed 003 6.3: 405 nm when the rate stays < ~20 kHz for ~50 ms */
  c->act_lp_shift = 3;
  c->act_on_ms = 50;
  c->act_off_ms = 100;
  c->bright_records = 0;
  c->bayes_mu = 0.1;             /* seed 002: mu = 0.1, b = 0.01, s ~ 200 nm, prior sigma 150 nm */
  c->bayes_b = 0.01;
  c->bayes_s_nm = 200;
  c->bayes_sigma0_nm = 150;
  c->bayes_std_stop_nm = 1;      /* ~120 photons at mu = 0.1 (seed 002, max-EIG) */
  c->bayes_photons = 1000;
  c->bayes_eta_per_code = 0;     /* not known: required */
  c->bayes_amp_max = 65535;
  c->bayes_seed = 1;
  c->bayes_gate_us = 10;
  c->hex_L_nm[0] = 200;          /* seed 002's comparison (its ref [4]): L = 200/150/40 nm, */
  c->hex_L_nm[1] = 150;          /* 40/90/N3 photons */
  c->hex_L_nm[2] = 40;
  c->hex_photons[0] = 40;
  c->hex_photons[1] = 90;
  c->hex_photons[2] = 1000;
}

/* Keys whose default depends on the mode: tracking, imaging, Bayesian value (seed 003 6.3:
 * 125 us multiplex cycle with 13.6 us delay and gate; the stage re-centre moves onto the
 * estimate; a stage may take many records at the doughnut's minimum. Bayes: one 32-byte
 * record per exposure of ~65 us (3128 clocks with these delay and window and a 10 us gate,
 * measured on the virtual board): 15300 records/s, above the 3 Mbaud link's 9375). */
static const struct { const char *name; double v[4]; } mode_defaults[] = {   /* track, image, bayes, hex */
  { "gain", { 0.5, 1.0, 0.5, 0.5 } },
  { "loss_ratio", { 0.24, 0.15, 0.24, 0.24 } },
  { "dark_records", { 40, 400, 40, 40 } },
  { "delay_us", { 7.4, 13.6, 7.4, 7.4 } },
  { "window_us", { 2.0, 775.0 / 48, 2.0, 2.0 } },   /* 775 cycles: 4 x (653 + 653) + 775 + 1 = 6000 = 125 us */
  { "baud", { 3000000, 3000000, 12000000, 12000000 } },   /* hex: a 39-byte record per 124 us cycle is 315 kB/s */
};

int acq_is_image(const acq_config *c) { return !strcmp(c->mode, "image"); }
int acq_is_bayes(const acq_config *c) { return !strcmp(c->mode, "bayes"); }
int acq_is_hex(const acq_config *c) { return !strcmp(c->mode, "hex"); }

uint32_t acq_bayes_loc_seed(const acq_config *c, unsigned i)
{
  uint32_t h = (uint32_t)c->bayes_seed + i;   /* the murmur3 finalizer: every bit depends on every bit */
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h ? h : 1u;
}

int acq_set(acq_config *c, const char *key, const char *value, char *err, size_t errlen)
{
  for (size_t i = 0; i < NKEYS; i++) {
    const struct key *k = &keys[i];
    if (strcmp(key, k->name)) continue;
    void *p = (char *)c + k->off;
    if (k->kind == KP) {
      if (strlen(value) >= sizeof c->bayes_dtable) {
        snprintf(err, errlen, "%s = '%.40s...' is longer than %zu characters (%s)", key, value, sizeof c->bayes_dtable - 1, k->unit);
        return -1;
      }
      snprintf(p, sizeof c->bayes_dtable, "%s", value);
      c->given[i] = 1;
      return 0;
    }
    if (k->kind == KS) {
      if (strcmp(value, "track") && strcmp(value, "image") && strcmp(value, "bayes") && strcmp(value, "hex")) {
        snprintf(err, errlen, "mode = '%s': this firmware runs only 'track', 'image', 'bayes' and 'hex' so far (scan comes with its issue)", value);
        return -1;
      }
      snprintf(p, sizeof c->mode, "%s", value);
      c->given[i] = 1;
      /* the mode's defaults for the keys not given (whatever order they come in) */
      const int img = acq_is_image(c), mi = img ? 1 : acq_is_bayes(c) ? 2 : acq_is_hex(c) ? 3 : 0;
      for (size_t m = 0; m < sizeof mode_defaults / sizeof mode_defaults[0]; m++)
        for (size_t j = 0; j < NKEYS; j++) {
          if (strcmp(keys[j].name, mode_defaults[m].name) || c->given[j]) continue;
          const double v = mode_defaults[m].v[mi];
          if (keys[j].kind == KI) *(int *)((char *)c + keys[j].off) = (int)v;
          else *(double *)((char *)c + keys[j].off) = v;
        }
      /* imaging is the controller's: mode = image turns it on whatever came before (a
       * scenario's controller = off); controller = off after it is refused by acq_to_regs */
      if (img) c->controller = 1;
      if (!img && !c->given[controller_key()]) c->controller = 0;
      return 0;
    }
    if (k->kind == KO) {
      if (strcmp(value, "on") && strcmp(value, "off")) {
        snprintf(err, errlen, "%s = '%s' is not 'on' or 'off' (%s)", key, value, k->unit);
        return -1;
      }
      *(int *)p = !strcmp(value, "on");
      c->given[i] = 1;
      return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    while (end && (*end == ' ' || *end == '\t')) end++;
    if (!strcmp(k->name, "baud") && !(v == 3e6 || v == 6e6 || v == 12e6)) {
      snprintf(err, errlen, "%s = '%s' is not a link rate of the firmware (allowed: 3000000, 6000000, 12000000 baud)", key, value);
      return -1;
    }
    /* underflow (ERANGE with a tiny result) is a number like any other: "0x1p-1074" comes
     * without ERANGE, its %.17g text in the raw header with it (found by tests/fuzz/fuzz_config) */
    if ((errno && !(errno == ERANGE && fabs(v) < 1.0)) || end == value || *end || !isfinite(v) || v < k->lo || v > k->hi ||
        (k->kind == KI && v != floor(v))) {
      if (k->kind == KI)   /* the bounds as integers: 16777215, not 1.67772e+07 */
        snprintf(err, errlen, "%s = '%s' is not an integer in [%.0f, %.0f] (%s)", key, value, k->lo, k->hi, k->unit);
      else
        snprintf(err, errlen, "%s = '%s' is not a number in [%g, %g] (%s)", key, value, k->lo, k->hi, k->unit);
      return -1;
    }
    if (k->kind == KI) *(int *)p = (int)v;
    else *(double *)p = v;
    c->given[i] = 1;
    return 0;
  }
  char allowed[2048] = "";
  for (size_t i = 0; i < NKEYS; i++) {
    size_t n = strlen(allowed);
    snprintf(allowed + n, sizeof allowed - n, "%s%s", i ? ", " : "", keys[i].name);
  }
  snprintf(err, errlen, "unknown key '%s' (allowed: %s)", key, allowed);
  return -1;
}

struct ini_ctx { acq_config *c; char *err; size_t errlen; const char *path; int failed, scenario; };

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
  struct ini_ctx *x = user;
  char e[900];
  if (x->failed) return 0;   /* the first error is the one to report */
  if (x->scenario && strcmp(section, "acquire")) return 1;   /* the physics' sections */
  if (*section && strcmp(section, "acquire")) {
    snprintf(x->err, x->errlen, "%s: section [%s] is not known (keys go at the top or in [acquire])", x->path, section);
    x->failed = 1;
    return 0;
  }
  if (acq_set(x->c, name, value, e, sizeof e)) {
    snprintf(x->err, x->errlen, "%s: %s", x->path, e);
    x->failed = 1;
    return 0;
  }
  return 1;
}

static int load(acq_config *c, const char *path, int scenario, char *err, size_t errlen)
{
  struct ini_ctx x = { c, err, errlen, path, 0, scenario };
  int r = ini_parse(path, on_ini, &x);
  if (r == -1) { snprintf(err, errlen, "cannot open %s %s: %s", scenario ? "scenario" : "config", path, strerror(errno)); return -1; }
  if (r == -2) { snprintf(err, errlen, "out of memory reading %s", path); return -1; }
  if (r > 0 && !x.failed) snprintf(err, errlen, "%s:%d: not an INI line (expected key = value)", path, r);
  return r ? -1 : 0;
}

int acq_load_ini(acq_config *c, const char *path, char *err, size_t errlen) { return load(c, path, 0, err, errlen); }
int acq_load_scenario(acq_config *c, const char *path, char *err, size_t errlen) { return load(c, path, 1, err, errlen); }

static int32_t nm_to_lsb(double nm, double gain) { return (int32_t)lround(nm / gain); }

/* host/bayes_regs.c names its parameters as bayes_phys_t does; the user knows the keys. */
static void bayes_key_names(const char *in, char *out, size_t n)
{
  static const char *const map[][2] = {
    { "mu", "bayes_mu" }, { "b", "bayes_b" }, { "s", "bayes_s_nm" }, { "s_nm", "bayes_s_nm" },
    { "sigma0_nm", "bayes_sigma0_nm" }, { "eta_per_code", "bayes_eta_per_code" }, { "nm_per_lsb", "eod_nm_per_lsb" },
    { "h0_nm", "h0 (= bayes_sigma0_nm / 4)" },
  };
  size_t o = 0;
  for (const char *q = in; *q && o + 1 < n;) {
    if (isalpha((unsigned char)*q) || *q == '_') {
      const char *e = q;
      while (isalnum((unsigned char)*e) || *e == '_') e++;
      const char *w = NULL;
      for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i][0]) == (size_t)(e - q) && !strncmp(q, map[i][0], (size_t)(e - q))) w = map[i][1];
      o += (size_t)snprintf(out + o, n - o, "%.*s", w ? (int)strlen(w) : (int)(e - q), w ? w : q);
      if (o >= n) o = n - 1;
      q = e;
    } else {
      out[o++] = *q++;
    }
  }
  out[o < n ? o : n - 1] = 0;
}

/* The exposure of modes bayes and hex: delay_us (beam move, laser off), bayes_gate_us
 * (counting), window_us after the cycle's last exposure; the centre and the safe window. */
static void exposure_timing(const acq_config *c, core_config_t *cc)
{
  const double clk = MINFLUX_CLK_HZ, g = c->eod_nm_per_lsb;
  cc->delay_cycles = (unsigned)lround(c->delay_us * 1e-6 * clk);
  cc->gate_cycles = (unsigned)lround(c->bayes_gate_us * 1e-6 * clk);
  cc->win_cycles = (unsigned)lround(c->window_us * 1e-6 * clk);
  if (cc->gate_cycles < 1) cc->gate_cycles = 1;
  if (cc->win_cycles < 1) cc->win_cycles = 1;
  cc->centre_x = nm_to_lsb(c->centre_x_nm, g);
  cc->centre_y = nm_to_lsb(c->centre_y_nm, g);
  cc->xmin = nm_to_lsb(c->safe_x_min_nm, g);
  cc->xmax = nm_to_lsb(c->safe_x_max_nm, g);
  cc->ymin = nm_to_lsb(c->safe_y_min_nm, g);
  cc->ymax = nm_to_lsb(c->safe_y_max_nm, g);
}

/* mode = bayes: one exposure per cycle at the block's beam (K = 1, no offsets, NCYCLES = 0:
 * the block ends the run), and the Bayesian registers with a zero D table. */
static int bayes_to_regs(const acq_config *c, acq_regs *r, char *err, size_t errlen)
{
  const double clk = MINFLUX_CLK_HZ;
  core_config_t *cc = &r->core;
  if (c->controller) {
    snprintf(err, errlen, "mode = bayes with controller = on: the Bayesian block places the beam itself (allowed: controller = off)");
    return -1;
  }
  if (c->agg != 1) {
    snprintf(err, errlen, "agg = %d: a Bayesian exposure is one record (allowed with mode = bayes: agg = 1)", c->agg);
    return -1;
  }
  if (c->photon_budget) {
    snprintf(err, errlen, "photon_budget = %d with mode = bayes: a localization's budget is bayes_photons (allowed: photon_budget = 0)",
             c->photon_budget);
    return -1;
  }
  cc->k = 1;
  exposure_timing(c, cc);
  const double g = c->eod_nm_per_lsb;
  cc->laser_amp = 0;            /* the block (or, bayes_host = on, the host) sets the laser code of every exposure */
  cc->agg = 1;
  cc->ncycles = c->bayes_host ? 1 : 0;   /* bayes_host: one exposure per CTRL start */
  /* the period without the block's update (~2300 clocks, not known to the host) */
  r->cycle_hz_actual = clk / (double)core_config_period_cycles(cc);
  char e[512];
  if (core_config_validate(cc, e, sizeof e)) {
    snprintf(err, errlen, "configuration in firmware units refused: %s (eod_nm_per_lsb = %g)", e, g);
    return -1;
  }
  if (!(c->bayes_eta_per_code > 0)) {
    snprintf(err, errlen, "bayes_eta_per_code = %g: mode = bayes needs the laser calibration, photons per exposure per laser code "
             "at the doughnut maximum (allowed: 2.2e-5..5.7e-3; on the virtual board the scenario's [acquire] gives it)",
             c->bayes_eta_per_code);
    return -1;
  }
  bayes_phys_t *ph = &r->bayes_phys;
  memset(ph, 0, sizeof *ph);
  ph->nm_per_lsb = g;
  ph->s_nm = c->bayes_s_nm;
  ph->b = c->bayes_b;
  ph->mu = c->bayes_mu;
  ph->x0_nm = c->centre_x_nm;
  ph->y0_nm = c->centre_y_nm;
  ph->sigma0_nm = c->bayes_sigma0_nm;
  ph->h0_nm = 0;                /* sigma0 / 4: the 32-point window spans +-4 sigma0 */
  ph->eta_per_code = c->bayes_eta_per_code;
  ph->std_stop_nm = c->bayes_std_stop_nm;
  ph->nmax = (uint32_t)c->bayes_photons;
  ph->seed = acq_bayes_loc_seed(c, 0);
  double zero[2] = { 0, 0 };
  bf_dtable_t dt = { .n = 2, .per_octave = 8, .sigma_min = 1, .mu = c->bayes_mu, .b = c->bayes_b, .s = c->bayes_s_nm, .D = zero };
  if (bayes_regs_from_phys(ph, &dt, &r->bayes, e, sizeof e)) {
    char named[600];
    bayes_key_names(e, named, sizeof named);
    snprintf(err, errlen, "Bayesian registers: %s", named);
    return -1;
  }
  if (c->bayes_amp_max < r->bayes.amp_max) r->bayes.amp_max = (uint16_t)c->bayes_amp_max;
  acq_bayes_window(r);
  return 0;
}

/* mode = hex: K = 7 with the stage-0 hexagon, the Bayesian exposure timing, LASER_AMP for mu
 * (host/acq_hex.c sets centre, offsets and LASER_AMP again for every stage). */
static int hex_to_regs(const acq_config *c, double duration_s, acq_regs *r, char *err, size_t errlen)
{
  const double clk = MINFLUX_CLK_HZ;
  core_config_t *cc = &r->core;
  if (c->controller) {
    snprintf(err, errlen, "mode = hex with controller = on: the host runs the hexagon stages (allowed: controller = off)");
    return -1;
  }
  if (c->agg != 1) {
    snprintf(err, errlen, "agg = %d: a hexagon stage ends on the photons of single records (allowed with mode = hex: agg = 1)", c->agg);
    return -1;
  }
  if (c->photon_budget) {
    snprintf(err, errlen, "photon_budget = %d with mode = hex: the stages end at hex_stage0..2_photons (allowed: photon_budget = 0)",
             c->photon_budget);
    return -1;
  }
  if (!(c->bayes_eta_per_code > 0)) {
    snprintf(err, errlen, "bayes_eta_per_code = %g: mode = hex needs the laser calibration, photons per exposure per laser code "
             "at the doughnut maximum (on the virtual board the scenario's [acquire] gives it)", c->bayes_eta_per_code);
    return -1;
  }
  cc->k = 7;
  exposure_timing(c, cc);
  const double g = c->eod_nm_per_lsb;
  for (int i = 1; i < 7; i++) {
    cc->off_x[i] = nm_to_lsb(c->hex_L_nm[0] / 2 * cos(i * M_PI / 3), g);
    cc->off_y[i] = nm_to_lsb(c->hex_L_nm[0] / 2 * sin(i * M_PI / 3), g);
  }
  double gm = 0;   /* the mean of g over the pattern for an emitter at its centre */
  for (int i = 0; i < 7; i++) gm += bf_g(cc->off_x[i] * g, cc->off_y[i] * g, c->bayes_s_nm, c->bayes_b) / 7;
  const double amp = round(c->bayes_mu / (gm * c->bayes_eta_per_code));
  if (!(amp >= 1 && amp <= c->bayes_amp_max)) {
    snprintf(err, errlen, "mode = hex: bayes_mu = %g needs laser code %.0f at stage 0 (bayes_eta_per_code = %g; allowed: 1..bayes_amp_max = %d)",
             c->bayes_mu, amp, c->bayes_eta_per_code, c->bayes_amp_max);
    return -1;
  }
  cc->laser_amp = (uint32_t)amp;
  cc->agg = 1;
  r->cycle_hz_actual = clk / (double)core_config_period_cycles(cc);
  const double n = round(duration_s * r->cycle_hz_actual);
  if (!(duration_s > 0) || n > 4294967295.0 - 255) {
    snprintf(err, errlen, "--duration %g s gives %.0f cycles at %.3f Hz (allowed: 1 .. 2^32-256 cycles)", duration_s, n, r->cycle_hz_actual);
    return -1;
  }
  cc->ncycles = n < 1 ? 1 : (uint32_t)n;
  char e[512];
  if (core_config_validate(cc, e, sizeof e)) {
    snprintf(err, errlen, "configuration in firmware units refused: %s (eod_nm_per_lsb = %g)", e, g);
    return -1;
  }
  return 0;
}

void acq_bayes_window(acq_regs *r)
{
  /* core_config_validate has kept the window to 16-bit codes */
  r->bayes.xmin = (int16_t)r->core.xmin;
  r->bayes.xmax = (int16_t)r->core.xmax;
  r->bayes.ymin = (int16_t)r->core.ymin;
  r->bayes.ymax = (int16_t)r->core.ymax;
}

int acq_to_regs(const acq_config *c, double duration_s, acq_regs *r, char *err, size_t errlen)
{
  const double clk = MINFLUX_CLK_HZ;
  core_config_t *cc = &r->core;
  memset(r, 0, sizeof *r);
  if (acq_is_bayes(c) || acq_is_hex(c)) {
    if (acq_is_bayes(c) ? bayes_to_regs(c, r, err, errlen) : hex_to_regs(c, duration_s, r, err, errlen)) return -1;
    char e[512];
    const double beta[3] = { c->beta0, c->beta1, c->beta2 };
    if (est_mlms_regs(c->L_nm, c->fwhm_nm, c->est_k, beta, (unsigned)c->thresh, &r->est, e, sizeof e)) {
      snprintf(err, errlen, "estimator: %s", e);
      return -1;
    }
    return 0;
  }
  const double period = round(clk / c->cycle_hz);
  const unsigned delay = (unsigned)lround(c->delay_us * 1e-6 * clk);
  const unsigned win0 = (unsigned)lround(c->window_us * 1e-6 * clk);
  const double per_exp = floor((period - 1 - win0) / c->k);
  if (per_exp <= delay) {
    snprintf(err, errlen, "cycle_hz = %g leaves no detection gate: %d x (delay_us %g + gate) + window_us %g must fit in %.3f us",
             c->cycle_hz, c->k, c->delay_us, c->window_us, 1e6 / c->cycle_hz);
    return -1;
  }
  cc->k = (unsigned)c->k;
  cc->delay_cycles = delay;
  cc->gate_cycles = (unsigned)(per_exp - delay);
  cc->win_cycles = (unsigned)(period - 1 - c->k * per_exp);   /* absorbs the rounding */
  const double g = c->eod_nm_per_lsb;
  cc->centre_x = nm_to_lsb(c->centre_x_nm, g);
  cc->centre_y = nm_to_lsb(c->centre_y_nm, g);
  /* Pattern (S24 for k = 4): exposure 0 at the centre, the others on a circle of
   * diameter L at angles i 2pi/(k-1). */
  for (int i = 1; i < c->k; i++) {
    const double a = i * 2 * M_PI / (c->k - 1);
    cc->off_x[i] = nm_to_lsb(c->L_nm / 2 * cos(a), g);
    cc->off_y[i] = nm_to_lsb(c->L_nm / 2 * sin(a), g);
  }
  cc->xmin = nm_to_lsb(c->safe_x_min_nm, g);
  cc->xmax = nm_to_lsb(c->safe_x_max_nm, g);
  cc->ymin = nm_to_lsb(c->safe_y_min_nm, g);
  cc->ymax = nm_to_lsb(c->safe_y_max_nm, g);
  cc->laser_amp = (uint32_t)lround(c->laser_amp);
  cc->agg = (unsigned)c->agg;
  cc->photon_stop = (uint32_t)c->photon_budget;
  r->cycle_hz_actual = clk / (double)core_config_period_cycles(cc);
  /* whole records: the duration is rounded to a multiple of agg cycles (at least one) */
  double n = round(duration_s * r->cycle_hz_actual / c->agg) * c->agg;
  if (n < c->agg) n = c->agg;
  if (!(duration_s > 0) || n > 4294967295.0 - 255) {
    snprintf(err, errlen, "--duration %g s gives %.0f cycles at %.3f Hz (allowed: 1 .. 2^32-256 cycles)",
             duration_s, n, r->cycle_hz_actual);
    return -1;
  }
  cc->ncycles = (uint32_t)n;
  char e[512];
  if (core_config_validate(cc, e, sizeof e)) {
    snprintf(err, errlen, "configuration in firmware units refused: %s (eod_nm_per_lsb = %g)", e, g);
    return -1;
  }
  const double beta[3] = { c->beta0, c->beta1, c->beta2 };
  if (est_mlms_regs(c->L_nm, c->fwhm_nm, c->est_k, beta, (unsigned)c->thresh, &r->est, e, sizeof e)) {
    snprintf(err, errlen, "estimator: %s", e);
    return -1;
  }
  if (acq_is_image(c) && !c->controller) {
    snprintf(err, errlen, "mode = image with controller = off: imaging runs are driven by the controller (allowed: controller = on)");
    return -1;
  }
  if (c->controller && ctl_to_regs(c, cc, &r->ctl, err, errlen)) return -1;
  if (acq_is_image(c) && img_to_regs(c, cc, &r->est, &r->ctl, &r->img, err, errlen)) return -1;
  return 0;
}

/* A value as text; exact: one that acq_set reads back identically (%.17g), else %g. */
static void format_value(const struct key *k, const void *p, int exact, char *buf, size_t n)
{
  if (k->kind == KS || k->kind == KP) snprintf(buf, n, "%s", (const char *)p);
  else if (k->kind == KO) snprintf(buf, n, "%s", *(const int *)p ? "on" : "off");
  else if (k->kind == KI) snprintf(buf, n, "%d", *(const int *)p);
  else snprintf(buf, n, exact ? "%.17g" : "%g", *(const double *)p);
}

void acq_help_keys(FILE *f)
{
  acq_config d;
  acq_defaults(&d);
  char buf[64], kv[96];
  for (size_t i = 0; i < NKEYS; i++) {
    format_value(&keys[i], (const char *)&d + keys[i].off, 0, buf, sizeof buf);
    snprintf(kv, sizeof kv, "%s=%s", keys[i].name, buf);
    fprintf(f, "  %-22s %s\n", kv, keys[i].unit);
  }
}

void acq_each(const acq_config *c, void (*fn)(void *ctx, const char *key, const char *val), void *ctx)
{
  char buf[300];
  for (size_t i = 0; i < NKEYS; i++) {
    format_value(&keys[i], (const char *)c + keys[i].off, 1, buf, sizeof buf);
    fn(ctx, keys[i].name, buf);
  }
}
