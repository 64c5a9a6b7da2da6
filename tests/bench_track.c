/* bench_track: issue #5's must-show table from an acquisition directory on the virtual
 * board (`minflux acquire --board sim:SCENARIO.ini --mode track --out DIR`):
 *   DIR/raw.mfx      header: L_nm, fwhm_nm, timing and aggregation of the run
 *   DIR/cycles.csv   every record: counts, centre, estimate, valid, controller state
 *   DIR/truth.csv    the emitter averaged over each multiplex cycle (S82) and on/off
 *   DIR/physics.json (optional) activations and bleaches of the sample
 * It prints: initiation (search + pre-localization) times, then for a window after the
 * first initiation the fraction of cycles tracked, the tracking error e (S81) of the live
 * localizations against the truth, the CRB expectation for the realized photon numbers
 * and L (at the pattern centre, S27/S31, and at the realized emitter positions, S25/S26)
 * and e / CRB; the spread of the estimates (static emitter); over the whole run the
 * tracks (runs of the tracking state), their durations and how they end (bleach / loss),
 * photons per localization and the SBR from the emitter's on and off cycles.
 *
 * usage: bench_track DIR [--window S] [--radius NM] [--sbr S] [--track-state N] [--grace S]
 * Definitions are in docs/physics.md "Tracking bench". */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "mfx_files.h"
#include "track_error.h"

static int die(const char *msg)
{
  fprintf(stderr, "bench_track: %s\n", msg);
  return 2;
}

static double cfg_num(json_t *cfg, const char *key, double dflt)
{
  json_t *v = json_object_get(cfg, key);
  if (json_is_string(v)) return strtod(json_string_value(v), NULL);
  if (json_is_number(v)) return json_number_value(v);
  return dflt;
}

static int cmp_d(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void stats_line(const char *what, double *v, size_t n, const char *unit, double scale)
{
  if (!n) { printf("| %s | none |\n", what); return; }
  qsort(v, n, sizeof *v, cmp_d);
  double s = 0;
  for (size_t i = 0; i < n; i++) s += v[i];
  printf("| %s | n %zu, mean %.2f %s, median %.2f, min %.2f, max %.2f, 90%% %.2f |\n", what, n, s / n * scale, unit,
         v[n / 2] * scale, v[0] * scale, v[n - 1] * scale, v[(size_t)(0.9 * (n - 1))] * scale);
}

int main(int argc, char **argv)
{
  double window = 2.0, radius = -1, sbr = 0, grace = 0.02;
  int track_state = 3;   /* hls-c/regmap.h CTL_TRACK (0 = open loop, for runs without the controller) */
  static const struct option opts[] = {
    { "window", required_argument, NULL, 'w' }, { "radius", required_argument, NULL, 'r' },
    { "sbr", required_argument, NULL, 's' }, { "track-state", required_argument, NULL, 't' },
    { "grace", required_argument, NULL, 'g' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char *end = NULL;
    double v = optarg ? strtod(optarg, &end) : 0;
    if (optarg && (end == optarg || *end || !isfinite(v))) { fprintf(stderr, "bench_track: option value '%s' is not a number\n", optarg); return 2; }
    switch (c) {
    case 'w': if (v <= 0) return die("--window must be > 0 s"); window = v; break;
    case 'r': if (v <= 0) return die("--radius must be > 0 nm"); radius = v; break;
    case 's': if (v < 0) return die("--sbr must be >= 0 (0 = no background)"); sbr = v; break;
    case 't': if (v < 0 || v > 15 || v != floor(v)) return die("--track-state must be an integer 0..15"); track_state = (int)v; break;
    case 'g': if (v < 0) return die("--grace must be >= 0 s"); grace = v; break;
    case 'h':
      printf("usage: bench_track DIR [--window S (2)] [--radius NM (L)] [--sbr S (0 = none)] [--track-state N (3)] [--grace S (0.02)]\n");
      return 0;
    default: return 2;
    }
  }
  if (optind + 1 != argc) return die("usage: bench_track DIR [options] (--help)");
  const char *dir = argv[optind];
  char path[4096], err[1024];

  /* ---- the run's configuration from the raw header ---- */
  snprintf(path, sizeof path, "%s/raw.mfx", dir);
  char *hdr = NULL;
  FILE *rf = mfx_raw_open(path, &hdr, err, sizeof err);
  if (!rf) return die(err);
  fclose(rf);
  json_error_t je;
  json_t *h = json_loads(hdr, 0, &je);
  free(hdr);
  if (!h) return die("raw.mfx header is not JSON");
  json_t *cfg = json_object_get(h, "config"), *regs = json_object_get(h, "registers");
  const double L = cfg_num(cfg, "L_nm", NAN), fwhm = cfg_num(cfg, "fwhm_nm", NAN);
  const double clk = cfg_num(json_object_get(h, "firmware"), "clk_hz", 48e6);
  const double K = cfg_num(regs, "k", 4), delay = cfg_num(regs, "delay", 0), gate = cfg_num(regs, "gate", 0),
               win = cfg_num(regs, "win", 0), agg = cfg_num(regs, "agg", 1);
  const double period = (K * (delay + gate) + win + 1) / clk, span = agg * period;
  const char *board = json_string_value(json_object_get(h, "board"));
  if (!isfinite(L) || !isfinite(fwhm) || !(period > 0)) { json_decref(h); return die("raw.mfx header lacks L_nm, fwhm_nm or the cycle timing"); }
  if (radius < 0) radius = L;

  te_table cy, tr;
  snprintf(path, sizeof path, "%s/cycles.csv", dir);
  if (te_read_csv(path, &cy, err, sizeof err)) return die(err);
  snprintf(path, sizeof path, "%s/truth.csv", dir);
  if (te_read_csv(path, &tr, err, sizeof err)) return die(err);
  const int ct = te_col(&cy, "t_s"), cn[4] = { te_col(&cy, "n0"), te_col(&cy, "n1"), te_col(&cy, "n2"), te_col(&cy, "n3") },
            ccx = te_col(&cy, "cx_nm"), ccy = te_col(&cy, "cy_nm"), cex = te_col(&cy, "ex_nm"), cey = te_col(&cy, "ey_nm"),
            cv = te_col(&cy, "valid"), cs = te_col(&cy, "state");
  if (ct < 0 || cn[0] < 0 || cn[3] < 0 || ccx < 0 || cex < 0 || cv < 0 || cs < 0)
    return die("cycles.csv lacks a column of seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state");
  const size_t R = cy.rows;
  if (!R) return die("cycles.csv has no records");

  /* bleaches of the sample (optional) */
  double *bleach = NULL;
  size_t nbleach = 0;
  snprintf(path, sizeof path, "%s/physics.json", dir);
  json_t *pj = json_load_file(path, 0, &je);
  if (pj) {
    json_t *ev = json_object_get(pj, "events");
    bleach = calloc(json_array_size(ev) + 1, sizeof *bleach);
    for (size_t i = 0; i < json_array_size(ev); i++) {
      json_t *e = json_array_get(ev, i);
      if (!strcmp(json_string_value(json_object_get(e, "what")) ? json_string_value(json_object_get(e, "what")) : "", "bleach"))
        bleach[nbleach++] = json_number_value(json_object_get(e, "t_s"));
    }
  }

  /* ---- every record next to the truth of the cycles it covers ---- */
  double *t = malloc(R * sizeof *t), *tx = malloc(R * sizeof *tx), *ty = malloc(R * sizeof *ty);
  double *lx = malloc(R * sizeof *lx), *ly = malloc(R * sizeof *ly), *N = malloc(R * sizeof *N);
  double *rx = malloc(R * sizeof *rx), *ry = malloc(R * sizeof *ry);
  int *on = malloc(R * sizeof *on);
  for (size_t i = 0; i < R; i++) t[i] = te_at(&cy, i, ct);
  const size_t unmatched = te_match_truth(&tr, t, R, span, tx, ty, on);

  printf("bench_track %s\n", dir);
  printf("board %s; L %.0f nm, fwhm %.0f nm, %.1f Hz multiplex, %.0f cycle(s) per record; %zu records, %zu truth rows%s\n",
         board ? board : "?", L, fwhm, 1 / period, agg, R, tr.rows, unmatched ? " (some records without truth)" : "");

  /* ---- tracks: runs of the tracking state ---- */
  size_t ntr = 0, nbl = 0, nloss = 0, nend = 0;
  double *dur = malloc(R * sizeof *dur), *init = malloc(R * sizeof *init), *lat = malloc(R * sizeof *lat);
  size_t nlat = 0;
  double prev_end = t[0], first_start = NAN;
  for (size_t i = 0; i < R;) {
    if ((int)te_at(&cy, i, cs) != track_state) { i++; continue; }
    size_t j = i;
    while (j + 1 < R && (int)te_at(&cy, j + 1, cs) == track_state) j++;
    const double ts = t[i], te = t[j] + span;
    if (ntr == 0) first_start = ts;
    init[ntr] = ts - prev_end;
    dur[ntr] = te - ts;
    ntr++;
    int bl = 0;
    for (size_t b = 0; b < nbleach; b++)
      if (bleach[b] >= ts && bleach[b] <= te + grace) { bl = 1; lat[nlat++] = te - bleach[b]; break; }
    if (j + 1 == R) nend++;
    else if (bl) nbl++;
    else nloss++;
    prev_end = te;
    i = j + 1;
  }

  printf("\n| quantity | value |\n|---|---|\n");
  printf("| tracks (runs of state %d) | %zu: %zu ended by a bleach, %zu by a loss (emitter not bleached), %zu by the end of the run |\n",
         track_state, ntr, nbl, nloss, nend);
  stats_line("initiation time (search + pre-localization) before each track", init, ntr, "ms", 1e3);
  stats_line("track duration", dur, ntr, "ms", 1e3);
  if (nlat) stats_line("tracking continued after the bleach (loss latency)", lat, nlat, "ms", 1e3);

  /* whole run: photons per localization and SBR from the emitter's on/off cycles */
  double non = 0, noff = 0;
  size_t kon = 0, koff = 0;
  /* a record counts as on (off) when it and both neighbours are on (off) in the truth:
   * records with a blink inside them (on = majority of the cycle) would mix the two */
  for (size_t i = 1; i + 1 < R; i++) {
    if ((int)te_at(&cy, i, cs) != track_state || isnan(tx[i]) || isnan(tx[i - 1]) || isnan(tx[i + 1])) continue;
    double n = 0;
    for (int k = 0; k < 4; k++) n += te_at(&cy, i, cn[k]);
    if (on[i - 1] && on[i] && on[i + 1]) { non += n; kon++; }
    else if (!on[i - 1] && !on[i] && !on[i + 1]) { noff += n; koff++; }
  }
  if (kon) printf("| photons per record, emitter on (tracking; neighbours on too) | %.2f (%zu records) |\n", non / kon, kon);
  if (koff) printf("| photons per record, emitter off (background; neighbours off too) | %.3f (%zu records) |\n", noff / koff, koff);
  if (kon && koff && noff > 0) printf("| SBR (on - off) / off | %.2f |\n", (non / kon - noff / koff) / (noff / koff));

  /* ---- the window after the first initiation ---- */
  if (!isfinite(first_start)) {
    printf("| window | no record in state %d: nothing tracked |\n", track_state);
    return 1;
  }
  const double w0 = first_start, w1 = first_start + window;
  size_t cyc = 0, tracked = 0, M = 0;
  double photons = 0;
  for (size_t i = 0; i < R; i++) {
    if (t[i] < w0 || t[i] >= w1) continue;
    cyc++;
    for (int k = 0; k < 4; k++) photons += te_at(&cy, i, cn[k]);
    const double cxv = te_at(&cy, i, ccx), cyv = te_at(&cy, i, ccy);
    const int st = (int)te_at(&cy, i, cs);
    if (st == track_state && !isnan(tx[i]) && hypot(cxv - tx[i], cyv - ty[i]) <= radius) tracked++;
    if (st != track_state || !te_at(&cy, i, cv) || !on[i]) continue;
    double n = 0;
    for (int k = 0; k < 4; k++) n += te_at(&cy, i, cn[k]);
    lx[M] = cxv + te_at(&cy, i, cex);
    ly[M] = cyv + te_at(&cy, i, cey);
    tx[M] = tx[i]; ty[M] = ty[i];   /* compacted in place: M <= i */
    rx[M] = tx[i] - cxv; ry[M] = ty[i] - cyv;
    N[M] = n;
    M++;
  }
  const double last = t[R - 1] + span, wlen = (w1 < last ? w1 : last) - w0;
  printf("| window | %.3f s from the first initiation at %.4f s%s |\n", wlen, w0, w1 > last ? " (the run ends earlier)" : "");
  printf("| cycles tracked | %zu / %zu records = %.2f %% (state %d, pattern centre within %.0f nm of the truth) |\n",
         tracked, cyc, cyc ? 100.0 * tracked / cyc : 0.0, track_state, radius);
  if (!M) { printf("| localizations | none valid with the emitter on |\n"); return 1; }
  double sN = 0, bx = 0, by = 0;
  for (size_t i = 0; i < M; i++) { sN += N[i]; bx += lx[i] - tx[i]; by += ly[i] - ty[i]; }
  const double e = te_epsilon(lx, ly, tx, ty, M, 2);
  const double crb0 = te_crb_expect(N, NULL, NULL, M, L, fwhm, sbr), crbr = te_crb_expect(N, rx, ry, M, L, fwhm, sbr);
  printf("| localizations (valid, emitter on) | %zu |\n", M);
  printf("| photons per localization N | %.2f (count rate over the window %.1f kHz) |\n", sN / M, photons / wlen / 1e3);
  printf("| tracking error e (S81) | %.2f nm (bias %.2f, %.2f nm) |\n", e, bx / M, by / M);
  printf("| CRB for the realized N at the pattern centre (S27%s) | %.2f nm |\n", sbr > 0 ? "/S31" : "", crb0);
  printf("| e / CRB | %.2f |\n", e / crb0);
  printf("| CRB at the realized emitter positions (S25/S26) | %.2f nm (e / it %.2f) |\n", crbr, e / crbr);
  if (te_spread(tx, ty, M) < 1.0)   /* a static emitter: the precision of the live estimates */
    printf("| spread (std) of the live localizations, static emitter | %.2f nm per axis |\n", te_spread(lx, ly, M));
  json_decref(h);
  if (pj) json_decref(pj);
  te_free(&cy);
  te_free(&tr);
  free(t); free(tx); free(ty); free(lx); free(ly); free(N); free(rx); free(ry); free(on);
  free(dur); free(init); free(lat); free(bleach);
  return 0;
}
