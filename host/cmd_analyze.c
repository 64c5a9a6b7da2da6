/* `minflux analyze DIR`: refinement, segmentation, diffusion, tracking error, plots and the
 * m2410 export of one acquisition directory (docs/analysis.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "analyze.h"
#include "analyze_out.h"
#include "plot.h"
#include "image.h"
#include "image_out.h"

static void an_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux analyze DIR [--estimator numlms|mle|mlms] [--pipeline auto|track|image]\n"
    "                           [--sbr S] [--split-off SECONDS] [--min-locs N] [--min-counts N]\n"
    "                           [--n0-max R] [--min-photons N] [--track-state S[,S...]]\n"
    "                           [--no-png] [--quiet]\n"
    "Analyses the acquisition in DIR (DIR/raw.mfx as `minflux acquire` wrote it, DIR/truth.csv\n"
    "when present) and writes into DIR:\n"
    "  tracks_refined.csv       (tracking) every localization: tid,t_s,x_nm,y_nm,live_x_nm,... \n"
    "  localizations_refined.csv (imaging) one row per emission event\n"
    "  track_stats.csv          per track: duration, <n0/N>, D, sigma (OLSF), tracking error\n"
    "  msd.csv, msd.png         MSD with blinking (S68) and the OLSF fits (S67, S70/S71)\n"
    "  tracks.png, render.png   tracks, rendered localizations with a scale bar\n"
    "  export.npy               Abberior m2410 flat layout, one row per localization\n"
    "  summary.json             the acquisition summary plus D_um2_s, sigma_nm, photons_per_loc,\n"
    "                           sbr, fraction_on, track_durations_s, tracking_error_nm, analysis\n"
    "Pipelines (auto: from the raw header's mode): track = two-state HMM (S78-S80), numLMS\n"
    "(S52-S58) of every on-cycle, OLSF per track; image = three-state HMM (S75), events, SBR\n"
    "(S76), 2D MLE (S37). --estimator overrides the refinement (mlms: the live estimate as\n"
    "recorded). --sbr fixes the SBR instead of the HMM's estimate. Tracks end after\n"
    "--split-off seconds dark (0.1) and are accepted with >= --min-locs localizations (100)\n"
    "and <n0/N> < --n0-max (0.23); cycles with < --min-counts photons (3) are discarded.\n"
    "--track-state: the controller states (record flags 7:4) of tracking records; default: state\n"
    "3 (tracking) when the run has any, else all (open loop = 0).\n"
    "Imaging-mode runs (`minflux acquire --mode image`: the raw header's CTL_MODE has bit 1; --image\n"
    "insists on one) are analysed as docs/imaging.md describes: stage localizations, emission events,\n"
    "sites, precision next to the CRB, image.png/sites.png, events.csv, sites.csv, precision.csv,\n"
    "export.npy (one row per stage localization), summary.json \"imaging_analysis\". Options there:\n"
    "  --positions mle|firmware (mle: host 2D MLE, default; firmware: centre + live mLMS), --sbr S,\n"
    "  --sites K (k-means with K sites; default: k from the data, the smallest k whose clusters\n"
    "  scatter as the measured precision predicts), --cluster-radius NM (3, the agglomerative\n"
    "  clusters reported next to it), --min-event-locs N (2), --seed S (1), --efo-min F (0.5: final\n"
    "  localizations whose photon rate is below F x the median, background-only time in the\n"
    "  stage, are left out of events, sites and image; 0 keeps all).\n"
    "Damaged raw files are analysed as far as they decode; every damaged stretch is reported\n"
    "with its byte offset (stderr and summary.json \"analysis.damage\").\n");
}

static int parse_pos(const char *opt, const char *v, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  const double d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d) || d < lo || d > hi) {
    fprintf(stderr, "minflux analyze: %s '%s': must be a number in [%g, %g]\n", opt, v, lo, hi);
    return -1;
  }
  *out = d;
  return 0;
}

static int parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
  char *end;
  errno = 0;
  const long d = strtol(v, &end, 10);
  if (end == v || *end || errno || d < lo || d > hi) {
    fprintf(stderr, "minflux analyze: %s '%s': must be an integer in [%d, %d]\n", opt, v, lo, hi);
    return -1;
  }
  *out = (int)d;
  return 0;
}

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_analyze(int argc, char **argv)
{
  an_opts o;
  an_default_opts(&o);
  img_opts io;
  img_default_opts(&io);
  const char *dir = NULL;
  int png = 1, quiet = 0, force_image = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { an_usage(stdout); return 0; }
    if (!strcmp(a, "--no-png")) { png = 0; continue; }
    if (!strcmp(a, "--quiet")) { quiet = 1; continue; }
    if (!strcmp(a, "--image")) { force_image = 1; continue; }
    if (!strncmp(a, "--", 2)) {
      if (i + 1 >= argc) { fprintf(stderr, "minflux analyze: %s needs a value (minflux analyze --help)\n", a); return 2; }
      const char *v = argv[++i];
      if (!strcmp(a, "--estimator")) {
        if (!strcmp(v, "numlms")) o.estimator = AN_EST_NUMLMS;
        else if (!strcmp(v, "mle")) o.estimator = AN_EST_MLE;
        else if (!strcmp(v, "mlms")) o.estimator = AN_EST_MLMS;
        else { fprintf(stderr, "minflux analyze: --estimator '%s': must be numlms, mle or mlms\n", v); return 2; }
      } else if (!strcmp(a, "--pipeline")) {
        if (!strcmp(v, "auto")) o.pipeline = AN_PIPE_AUTO;
        else if (!strcmp(v, "track")) o.pipeline = AN_PIPE_TRACK;
        else if (!strcmp(v, "image")) o.pipeline = AN_PIPE_IMAGE;
        else { fprintf(stderr, "minflux analyze: --pipeline '%s': must be auto, track or image\n", v); return 2; }
      } else if (!strcmp(a, "--sbr")) { if (parse_pos(a, v, 0.01, 1e6, &o.sbr)) return 2; }
      else if (!strcmp(a, "--split-off")) { if (parse_pos(a, v, 1e-6, 1e6, &o.split_off_s)) return 2; }
      else if (!strcmp(a, "--n0-max")) { if (parse_pos(a, v, 0, 1, &o.n0_ratio_max)) return 2; }
      else if (!strcmp(a, "--min-photons")) { if (parse_pos(a, v, 1, 1e9, &o.min_photons)) return 2; }
      else if (!strcmp(a, "--min-locs")) { if (parse_int(a, v, 4, 1000000000, &o.min_locs)) return 2; }
      else if (!strcmp(a, "--min-counts")) { if (parse_int(a, v, 1, 1000000, &o.min_counts)) return 2; }
      else if (!strcmp(a, "--track-state")) {
        /* comma-separated controller states 0..15 */
        unsigned m = 0;
        char buf[128], *save = NULL;
        snprintf(buf, sizeof buf, "%s", v);
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
          char *end;
          const long st = strtol(t, &end, 10);
          if (end == t || *end || st < 0 || st > 15) {
            fprintf(stderr, "minflux analyze: --track-state '%s': expected controller states 0..15, comma-separated\n", v);
            return 2;
          }
          m |= 1u << st;
        }
        if (!m) { fprintf(stderr, "minflux analyze: --track-state '%s': expected controller states 0..15, comma-separated\n", v); return 2; }
        o.track_states = m;
      }
      else if (!strcmp(a, "--positions")) {
        if (!strcmp(v, "firmware")) io.use_mle = 0;
        else if (!strcmp(v, "mle")) io.use_mle = 1;
        else { fprintf(stderr, "minflux analyze: --positions '%s': must be firmware or mle\n", v); return 2; }
      }
      else if (!strcmp(a, "--sites")) { if (parse_int(a, v, 1, 8, &io.sites)) return 2; }
      else if (!strcmp(a, "--cluster-radius")) { if (parse_pos(a, v, 0.01, 1e4, &io.radius_nm)) return 2; }
      else if (!strcmp(a, "--efo-min")) { if (parse_pos(a, v, 0, 1, &io.efo_min)) return 2; }
      else if (!strcmp(a, "--min-event-locs")) { if (parse_int(a, v, 1, 1000000, &io.min_event_locs)) return 2; }
      else if (!strcmp(a, "--seed")) { int sd; if (parse_int(a, v, 0, 2147483647, &sd)) return 2; io.seed = (unsigned)sd; }
      else if (!strcmp(a, "--board")) { /* accepted like every minflux command; no board is used */ }
      else { fprintf(stderr, "minflux analyze: unknown option '%s' (minflux analyze --help)\n", a); return 2; }
      continue;
    }
    if (dir) { fprintf(stderr, "minflux analyze: more than one directory ('%s', '%s'); expected one DIR\n", dir, a); return 2; }
    dir = a;
  }
  if (!dir) { fprintf(stderr, "minflux analyze: expected the acquisition directory DIR (minflux analyze --help)\n"); return 2; }
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "minflux analyze: %s is not a directory (expected an acquisition directory with raw.mfx)\n", dir);
    return 1;
  }
  const double t0 = mono_s();
  char raw_path[4200], truth_path[4200], err[512];
  snprintf(raw_path, sizeof raw_path, "%s/raw.mfx", dir);
  snprintf(truth_path, sizeof truth_path, "%s/truth.csv", dir);
  an_raw raw;
  if (an_raw_read(raw_path, &raw, err, sizeof err)) { fprintf(stderr, "minflux analyze: %s\n", err); an_raw_free(&raw); return 1; }
  an_truth_read(truth_path, &raw);
  uint64_t damaged = 0;
  for (size_t i = 0; i < raw.ndmg; i++) damaged += raw.dmg[i].bytes;
  if (!raw.n) {
    char where[160] = "";
    if (raw.ndmg)
      snprintf(where, sizeof where, " (damage from byte %llu: %s)", (unsigned long long)raw.dmg[0].offset, raw.dmg[0].what);
    fprintf(stderr, "minflux analyze: %s: no CYCLE record could be decoded from the %llu bytes after the header%s: "
            "nothing to analyse\n", raw_path, (unsigned long long)(raw.file_bytes - raw.data_offset), where);
    an_raw_free(&raw);
    return 1;
  }
  if (raw.ndmg) {
    const an_damage *d = &raw.dmg[0];
    fprintf(stderr, "minflux analyze: %s is damaged: %zu stretch%s (%llu bytes), the first at byte %llu (%s, %llu bytes); "
            "analysing the %zu records that decode\n", raw_path, raw.ndmg, raw.ndmg == 1 ? "" : "es",
            (unsigned long long)damaged, (unsigned long long)d->offset, d->what, (unsigned long long)d->bytes, raw.n);
  }
  if (raw.truth_note[0]) fprintf(stderr, "minflux analyze: %s\n", raw.truth_note);
  /* an imaging-mode run (docs/imaging.md) */
  img_params ip;
  const int is_img = img_params_from_header(raw.header_json, &ip, err, sizeof err);
  if (is_img < 0 || (force_image && !is_img)) {
    if (!is_img) snprintf(err, sizeof err, "the raw header has no imaging-mode registers (registers.ctl.CTL_MODE bit 1): not an "
                          "imaging run of `minflux acquire --mode image`");
    fprintf(stderr, "minflux analyze: %s: %s\n", raw_path, err);
    an_raw_free(&raw);
    return 1;
  }
  if (is_img) {
    io.png = png;
    io.quiet = quiet;
    if (o.sbr > 0) io.sbr = o.sbr;
    if (o.estimator == AN_EST_MLE) io.use_mle = 1;
    int irc = img_analyze(dir, &raw, &ip, &io, err, sizeof err);
    if (irc) fprintf(stderr, "minflux analyze: %s\n", err);
    an_raw_free(&raw);
    if (png) plot_shutdown();
    return irc ? 1 : 0;
  }
  an_result res;
  const double t1 = mono_s();
  if (an_run(&raw, &o, &res, err, sizeof err)) {
    fprintf(stderr, "minflux analyze: %s: %s\n", raw_path, err);
    an_result_free(&res);
    an_raw_free(&raw);
    return 1;
  }
  const double t2 = mono_s();
  int rc = 0;
  if (an_write_csv(dir, &raw, &res, err, sizeof err) || an_write_msd(dir, &raw, &res, png, err, sizeof err) ||
      an_write_npy(dir, &raw, &res, err, sizeof err) || (png && an_write_pngs(dir, &raw, &res, err, sizeof err)) ||
      an_write_summary(dir, raw_path, &raw, &res, mono_s() - t0, err, sizeof err)) {
    fprintf(stderr, "minflux analyze: %s\n", err);
    rc = 1;
  }
  const double t3 = mono_s();
  if (!quiet) {
    const int img = res.pipeline == AN_PIPE_IMAGE;
    printf("%zu records (%llu gaps, %zu damaged stretches) -> %s pipeline, %s refinement\n", raw.n,
           (unsigned long long)raw.gaps, raw.ndmg, img ? "image" : "track",
           res.estimator == AN_EST_MLE ? "MLE" : res.estimator == AN_EST_NUMLMS ? "numLMS" : "live mLMS");
    if (img) {
      printf("%zu events localized, %.1f photons per event, median SBR %.3g, emitting %.1f %% of the cycles\n",
             res.nloc, res.photons_per_loc, res.sbr, 100 * res.fraction_on);
    } else {
      printf("%zu tracks, %zu accepted; %zu localizations, %.2f photons each; SBR %.3g; emitter on %.1f %% of the cycles\n",
             res.ntrk, res.accepted, res.nloc, res.photons_per_loc, res.sbr, 100 * res.fraction_on);
      printf("median D = %.4g um^2/s, sigma = %.3g nm (OLSF)", res.D_um2_s, res.sigma_nm);
      if (isfinite(res.err_nm)) printf(", tracking error %.3g nm (S81, truth.csv)", res.err_nm);
      printf("\n");
    }
    printf("time: read %.2f s, analysis %.2f s (numLMS tables %.2f s, %d entries), outputs %.2f s\n", t1 - t0,
           t2 - t1, res.numlms_build_s, res.numlms_entries, t3 - t2);
    printf("files: %s/{%s,track_stats.csv,%sexport.npy,summary.json%s}\n", dir,
           img ? "localizations_refined.csv" : "tracks_refined.csv", img ? "" : "msd.csv,",
           png ? (img ? ",tracks.png,render.png" : ",tracks.png,render.png,msd.png") : "");
  }
  an_result_free(&res);
  an_raw_free(&raw);
  if (png) plot_shutdown();
  return rc;
}
