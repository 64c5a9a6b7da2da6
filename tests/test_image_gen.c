/* test_image_gen: writes a synthetic imaging-mode acquisition directory (raw.mfx with the
 * header `minflux acquire --mode image` writes, truth.csv with n_on, physics.json with the
 * sites), for the analysis tests before (and besides) the virtual board. The controller
 * here is a behavioural model of the firmware's imaging mode (hls-c/regmap_ctl.h), not the
 * bit-exact one: search records while no dye is on (405 nm on then), one pre-localization
 * record (the centre lands within ~pre_sigma_nm of the brightest on dye), then stages of
 * L_s = L/2^s summing records until the photon limit, the live estimate = the float mLMS
 * (S51) of the stage sums, re-centre by gain 1, the last stage repeated; aborts: dark
 * records, cfr at the end of stages >= 1 (the registers' values). Photons: Poisson with the
 * doughnut (S17) on every on dye plus background. Dyes: DARK -> ON at act_hz while 405 nm
 * is on (spontaneous_hz always), ON for an exponential t_on_ms, then bleached (bleach_prob)
 * or DARK. Usage: test_image_gen DIR [key=value ...] (see --help); acquisition keys
 * (stage2_photons=..., L_nm=...) go through host/acq_config.c like minflux acquire's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include "acq_config.h"
#include "est_float.h"
#include "mfx_files.h"
#include "protocol.h"

#define NS_MAX 8

static void add(void *x, const char *k, const char *v) { json_object_set_new(x, k, json_string(v)); }

int main(int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    printf("usage: test_image_gen DIR [seed=1] [duration_s=20] [brightness_hz=2e6] [background_hz=3600] [t_on_ms=20]\n"
           "       [act_hz=2] [spontaneous_hz=0.02] [bleach_prob=0.05] [pre_sigma_nm=8] [sites=origami|pair12]\n"
           "       [acquisition keys of minflux acquire, e.g. stage2_photons=400 L_nm=160]\n");
    return argc < 2 ? 2 : 0;
  }
  const char *dir = argv[1];
  unsigned long seed = 1;
  double dur = 20, A0 = 2e6, bgr = 3600, t_on = 20e-3, act = 2, spont = 0.02, pbleach = 0.05, pre_sig = 8;
  const char *sites = "origami";
  acq_config c;
  acq_defaults(&c);
  char err[1200];
  acq_set(&c, "mode", "image", err, sizeof err);
  acq_set(&c, "L_nm", "160", err, sizeof err);
  for (int i = 2; i < argc; i++) {
    char k[64], v[256];
    if (sscanf(argv[i], "%63[^=]=%255s", k, v) != 2) { fprintf(stderr, "test_image_gen: '%s' is not key=value\n", argv[i]); return 2; }
    if (!strcmp(k, "seed")) seed = strtoul(v, NULL, 10);
    else if (!strcmp(k, "duration_s")) dur = atof(v);
    else if (!strcmp(k, "brightness_hz")) A0 = atof(v);
    else if (!strcmp(k, "background_hz")) bgr = atof(v);
    else if (!strcmp(k, "t_on_ms")) t_on = atof(v) * 1e-3;
    else if (!strcmp(k, "act_hz")) act = atof(v);
    else if (!strcmp(k, "spontaneous_hz")) spont = atof(v);
    else if (!strcmp(k, "bleach_prob")) pbleach = atof(v);
    else if (!strcmp(k, "pre_sigma_nm")) pre_sig = atof(v);
    else if (!strcmp(k, "sites")) sites = argv[i] + 6;
    else if (acq_set(&c, k, v, err, sizeof err)) { fprintf(stderr, "test_image_gen: %s\n", err); return 2; }
  }
  acq_regs rg;
  if (acq_to_regs(&c, dur, &rg, err, sizeof err)) { fprintf(stderr, "test_image_gen: %s\n", err); return 2; }
  double sx[NS_MAX], sy[NS_MAX];
  int ns;
  if (!strcmp(sites, "pair12")) { ns = 2; sx[0] = -6; sy[0] = 0; sx[1] = 6; sy[1] = 0; }
  else { ns = 5; const double X[5] = { -12, 0, 12, -3, 3 }, Y[5] = { -6, -6, -6, 12, 12 }; memcpy(sx, X, sizeof X); memcpy(sy, Y, sizeof Y); }
  mkdir(dir, 0777);
  char path[4200];
  snprintf(path, sizeof path, "%s/raw.mfx", dir);
  /* the header as acquire writes it */
  json_t *hdr = json_object(), *fw = json_object(), *jc = json_object(), *jr = json_object(), *jw = json_object();
  json_object_set_new(hdr, "format", json_integer(1));
  json_object_set_new(hdr, "start_time", json_string("1970-01-01T00:00:00Z"));
  json_object_set_new(hdr, "board", json_string("synthetic:test_image_gen"));
  json_object_set_new(fw, "id", json_integer(MINFLUX_DESIGN_ID));
  json_object_set_new(fw, "version", json_integer(MINFLUX_DESIGN_VERSION));
  json_object_set_new(fw, "clk_hz", json_integer(MINFLUX_CLK_HZ));
  json_object_set_new(hdr, "firmware", fw);
  acq_each(&c, add, jc);
  json_object_set_new(hdr, "config", jc);
  json_object_set_new(jr, "k", json_integer(rg.core.k));
  json_object_set_new(jr, "delay", json_integer(rg.core.delay_cycles));
  json_object_set_new(jr, "gate", json_integer(rg.core.gate_cycles));
  json_object_set_new(jr, "win", json_integer(rg.core.win_cycles));
  json_object_set_new(jr, "ncycles", json_integer(rg.core.ncycles));
  json_object_set_new(jr, "agg", json_integer(1));
  ctl_write_t w[CTL_NWRITES], iw[IMG_NWRITES];
  ctl_reg_writes(&rg.ctl, w);
  img_reg_writes(&rg.img, iw);
  for (int i = 0; i < CTL_NWRITES; i++) json_object_set_new(jw, w[i].name, json_integer(w[i].value));
  for (int i = 0; i < IMG_NWRITES; i++) json_object_set_new(jw, iw[i].name, json_integer(iw[i].value));
  json_object_set_new(jw, "CTL_MODE", json_integer(rg.img.mode));
  json_t *jo = json_array();
  for (unsigned k = 0; k < rg.core.k; k++)
    json_array_append_new(jo, json_integer((uint32_t)(uint16_t)rg.core.off_y[k] << 16 | (uint16_t)rg.core.off_x[k]));
  json_object_set_new(jr, "offsets", jo);
  json_object_set_new(jr, "ctl", jw);
  json_object_set_new(hdr, "registers", jr);
  json_object_set_new(hdr, "cycle_hz", json_real(rg.cycle_hz_actual));
  char *hs = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(hdr);
  FILE *raw = mfx_raw_create(path, hs, err, sizeof err);
  free(hs);
  snprintf(path, sizeof path, "%s/truth.csv", dir);
  FILE *tru = fopen(path, "w");
  if (!raw || !tru) { fprintf(stderr, "test_image_gen: cannot write into %s\n", dir); return 1; }
  fprintf(tru, "t_s,x_nm,y_nm,on,n_on\n");
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, seed);
  const double clk = MINFLUX_CLK_HZ, eod = c.eod_nm_per_lsb;
  const double period = core_config_period_cycles(&rg.core) / clk, gate = rg.core.gate_cycles / clk;
  const uint64_t N = rg.core.ncycles;
  int state[NS_MAX] = { 0 };   /* 0 dark, 1 on, 2 bleached */
  double t_off_at[NS_MAX] = { 0 };
  int ctl = 1, stage = 0, srch_left = 0;   /* controller state: 1 search, 2 preloc, 4 stage */
  double cx = 0, cy = 0;
  uint32_t sums[4] = { 0 }, sN = 0, srec = 0;
  double on2 = 0, on1 = 0;
  const double beta[2] = { c.beta0, c.beta1 };
  for (uint64_t r = 0; r < N; r++) {
    const double t = r * period;
    /* photophysics over this record */
    int non = 0;
    const int act405 = ctl == 1;
    for (int s = 0; s < ns; s++) {
      if (state[s] == 0 && gsl_rng_uniform(g) < (spont + (act405 ? act : 0)) * period) {
        state[s] = 1;
        t_off_at[s] = t + gsl_ran_exponential(g, t_on);
      } else if (state[s] == 1 && t >= t_off_at[s]) {
        state[s] = gsl_rng_uniform(g) < pbleach ? 2 : 0;
      }
      non += state[s] == 1;
    }
    on1 += non >= 1;
    on2 += non >= 2;
    double tx = 0, ty = 0;
    for (int s = 0; s < ns; s++) if (state[s] == 1) { tx += sx[s] / non; ty += sy[s] / non; }
    fprintf(tru, "%.9f,%.3f,%.3f,%d,%d\n", t, tx, ty, non > 0, non);
    mfx_cycle rec;
    memset(&rec, 0, sizeof rec);
    rec.seq = (uint16_t)r;
    rec.ts = (uint32_t)llround(r * period * clk);
    rec.k = (uint8_t)rg.core.k;
    unsigned st = (unsigned)ctl;
    const int sh = ctl == 4 ? rg.img.shift[stage] : 0;
    const double Ls = rg.img.L_nm[stage > 2 ? 2 : stage];
    uint32_t n[4] = { 0, 0, 0, 0 }, rn = 0;
    for (int e = 0; e < 4; e++) {
      double bx = 0, by = 0;
      if (ctl == 4) { bx = (rg.core.off_x[e] >> sh) * eod; by = (rg.core.off_y[e] >> sh) * eod; }
      double mu = bgr * gate;
      for (int s = 0; s < ns; s++)
        if (state[s] == 1) mu += A0 * gate * (ctl == 4 ? mf_doughnut(sx[s] - cx - bx, sy[s] - cy - by, c.fwhm_nm) : 0.2);
      n[e] = gsl_ran_poisson(g, mu);
      rec.counts[e][0] = (uint16_t)(n[e] / 2);
      rec.counts[e][1] = (uint16_t)(n[e] - n[e] / 2);
      rn += n[e];
    }
    rec.cx = (int16_t)lround(cx / eod);
    rec.cy = (int16_t)lround(cy / eod);
    int next = ctl;
    if (ctl == 1) {
      if (non && srch_left <= 0) srch_left = 1 + (int)gsl_rng_uniform_int(g, 4);
      if (non && --srch_left == 0) next = 2;
    } else if (ctl == 2) {
      /* the brightest (first on) dye: the pre-localization lands near it */
      for (int s = 0; s < ns; s++) if (state[s] == 1) { cx = eod * lround((sx[s] + gsl_ran_gaussian(g, pre_sig)) / eod); cy = eod * lround((sy[s] + gsl_ran_gaussian(g, pre_sig)) / eod); break; }
      next = 4; stage = 0; sN = srec = 0; memset(sums, 0, sizeof sums);
      if (!non) next = 1;
    } else {
      srec++;
      for (int e = 0; e < 4; e++) sums[e] += n[e];
      sN += rn;
      const int s = stage > 2 ? 2 : stage;
      st = 4u + (unsigned)s;
      double q[4] = { sums[0], sums[1], sums[2], sums[3] }, ex = 0, ey = 0;
      mf_mlms(q, Ls, c.fwhm_nm, 1, beta, &ex, &ey);
      rec.ex = (int16_t)lround(ex * 32);
      rec.ey = (int16_t)lround(ey * 32);
      rec.flags = MFX_FLAG_EST_VALID;
      if (sN >= rg.img.limit[s]) {
        st |= 8u;
        cx = eod * lround((cx + ex) / eod);
        cy = eod * lround((cy + ey) / eod);
        const int cfr = s >= 1 && rg.ctl.ratio && ((uint64_t)sums[0] << 8) >= (uint64_t)rg.ctl.ratio * sN;
        const int bright = rg.img.bright && srec < rg.img.bright;
        if (cfr || bright) next = 1;
        else stage = s < rg.img.last ? s + 1 : rg.img.last;
        sN = srec = 0;
        memset(sums, 0, sizeof sums);
      } else if (rg.img.dark && srec >= rg.img.dark) next = 1;
      if (next == 1) { cx = cy = 0; }
    }
    rec.flags = (uint8_t)(rec.flags | st << MFX_FLAG_STATE_SHIFT);
    ctl = next;
    uint8_t payload[255], frame[MFX_FRAME_MAX];
    const size_t len = mfx_cycle_encode(&rec, payload);
    const size_t fl = mfx_frame_encode(frame, MINFLUX_PROTO_T_CYCLE, payload, (uint8_t)len);
    fwrite(frame, 1, fl, raw);
  }
  fclose(raw);
  fclose(tru);
  snprintf(path, sizeof path, "%s/physics.json", dir);
  FILE *pj = fopen(path, "w");
  fprintf(pj, "{\n  \"scenario\": \"test_image_gen %s\",\n  \"seed\": %lu,\n  \"sites\": [", sites, seed);
  for (int s = 0; s < ns; s++) fprintf(pj, "%s{\"x_nm\": %.3f, \"y_nm\": %.3f}", s ? ", " : "", sx[s], sy[s]);
  fprintf(pj, "],\n  \"frac_on_ge1\": %.6f, \"frac_on_ge2\": %.6f\n}\n", on1 / N, on2 / N);
  fclose(pj);
  printf("test_image_gen: seed %lu, %llu records, %d sites, >= 2 on %.3f %%\n", seed, (unsigned long long)N, ns, 100 * on2 / N);
  gsl_rng_free(g);
  return 0;
}
