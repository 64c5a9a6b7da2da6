/* minflux crb: Cramer-Rao bound of the 4-doughnut excitation pattern (seed 003):
 * S27 at the origin, S31 with background, S32 for an SBR measured at another L,
 * S25/S26 evaluated numerically at any position (--at). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "est_float.h"
#include "est_regs.h"
#include "plot.h"

static void crb_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux crb --L NM --fwhm NM --N PHOTONS [--sbr S [--sbr-L0 NM]] [--at X,Y] [--verbose]\n"
    "       minflux crb --L NM --fwhm NM --N PHOTONS [--sbr S] --map R|X0:X1,Y0:Y1 [--step NM] --out MAP.csv\n"
    "Prints sigma_CRB in nm (seed 003 S13: sqrt of the mean eigenvalue of the CRB covariance)\n"
    "for the 4-doughnut pattern of diameter L (centre + 3 at 120 deg, S24), doughnut fwhm (S17)\n"
    "and N detected photons:\n"
    "  without --sbr and --at   S27 at the pattern centre (no background)\n"
    "  --sbr S                  S31: S is the signal-to-background ratio at the centre (S29)\n"
    "  --sbr-L0 NM              S was measured with a pattern of diameter NM; converted to L by S32\n"
    "  --at X,Y                 S25/S26 evaluated numerically at (X, Y) nm from the centre, with\n"
    "                           the background per exposure fixed by --sbr (none without it)\n"
    "  --verbose                also print the covariance, the SBR used and the formula\n"
    "  --map R | X0:X1,Y0:Y1    S25/S26 on a grid over the square |x|, |y| <= R nm (or the given\n"
    "                           ranges) with --step NM (default: the field / 50); writes MAP.csv\n"
    "                           (x_nm,y_nm,crb_nm) and a PNG next to it (MAP.png), prints the range\n"
    "  --board B                accepted like every minflux command; crb uses no board\n"
    "Output: the bound alone on the first line, 3 significant digits (e.g. 3.74).\n"
    "Ranges: 1 <= L <= 1000 nm, 1 <= fwhm <= 10000 nm, L < fwhm/sqrt(ln 2), N > 0, S > 0.\n");
}

/* Parses a finite number; returns 0 or -1 with a message. */
static int parse_num(const char *opt, const char *s, double *v)
{
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite(*v)) {
    fprintf(stderr, "minflux crb: %s '%s': not a finite number\n", opt, s);
    return -1;
  }
  return 0;
}

/* Three significant digits without exponent notation. */
static void print_sig3(double v)
{
  int dec = 2;
  if (v > 0.0) dec = 2 - (int)floor(log10(v));
  if (dec < 0) dec = 0;
  if (dec > 12) dec = 12;
  printf("%.*f\n", dec, v);
}

/* --map: the numerical bound (S25/S26) on a grid, as CSV and PNG. */
static int crb_map(double L, double fwhm, double N, double sbr0, const char *map, double step,
                   const char *out, int have_at)
{
  if (!map || !out || have_at) {
    fprintf(stderr, "minflux crb: a map needs --map R|X0:X1,Y0:Y1 and --out MAP.csv (and no --at)\n");
    return 2;
  }
  double x0, x1, y0, y1;
  char tail;
  if (sscanf(map, "%lf:%lf,%lf:%lf%c", &x0, &x1, &y0, &y1, &tail) == 4) {
  } else if (sscanf(map, "%lf%c", &x1, &tail) == 1 && x1 > 0) {
    x0 = y0 = -x1;
    y1 = x1;
  } else {
    fprintf(stderr, "minflux crb: --map '%s': expected R (nm) or X0:X1,Y0:Y1 (nm)\n", map);
    return 2;
  }
  if (!(x1 > x0) || !(y1 > y0) || fabs(x0) > 10 * fwhm || fabs(x1) > 10 * fwhm || fabs(y0) > 10 * fwhm ||
      fabs(y1) > 10 * fwhm) {
    fprintf(stderr, "minflux crb: --map '%s': needs X0 < X1, Y0 < Y1 within 10 fwhm = %g nm of the centre\n", map, 10 * fwhm);
    return 2;
  }
  if (isnan(step)) step = fmax(x1 - x0, y1 - y0) / 50;
  const double nxd = floor((x1 - x0) / step + 1e-9) + 1, nyd = floor((y1 - y0) / step + 1e-9) + 1;
  if (!(step > 0) || nxd * nyd > 4e6) {
    fprintf(stderr, "minflux crb: --step %g nm: must be > 0 and give at most 4e6 points\n", step);
    return 2;
  }
  const int nx = (int)nxd, ny = (int)nyd;
  const size_t len = strlen(out);
  if (len < 5 || strcmp(out + len - 4, ".csv")) {
    fprintf(stderr, "minflux crb: --out '%s': must name a .csv file (the PNG goes next to it)\n", out);
    return 2;
  }
  FILE *f = fopen(out, "w");
  if (!f) { fprintf(stderr, "minflux crb: cannot create %s: %s\n", out, strerror(errno)); return 1; }
  double *v = malloc((size_t)nx * ny * sizeof *v), lo = INFINITY, hi = 0;
  if (!v) { fclose(f); fprintf(stderr, "minflux crb: out of memory\n"); return 1; }
  mf_ebp_t e;
  mf_ebp4(L, fwhm, &e);
  fprintf(f, "x_nm,y_nm,crb_nm\n");
  for (int iy = 0; iy < ny; iy++)
    for (int ix = 0; ix < nx; ix++) {
      const double x = x0 + ix * step, y = y0 + iy * step, c = mf_crb(&e, x, y, N, sbr0, NULL);
      v[(size_t)iy * nx + ix] = isfinite(c) ? c : NAN;
      if (isfinite(c)) { lo = fmin(lo, c); hi = fmax(hi, c); }
      fprintf(f, "%.6g,%.6g,%.6f\n", x, y, c);
    }
  if (ferror(f) | fclose(f)) { free(v); fprintf(stderr, "minflux crb: writing %s failed\n", out); return 1; }
  char png[4200], title[200], err[256];
  snprintf(png, sizeof png, "%.*s.png", (int)(len - 4), out);
  if (isinf(sbr0)) snprintf(title, sizeof title, "CRB (S25/S26): L %g nm, fwhm %g nm, N %g, no background", L, fwhm, N);
  else snprintf(title, sizeof title, "CRB (S25/S26): L %g nm, fwhm %g nm, N %g, SBR %g", L, fwhm, N, sbr0);
  const int rc = plot_heatmap_png(png, v, nx, ny, x0 - step / 2, x0 + (nx - 0.5) * step, y0 - step / 2,
                                  y0 + (ny - 0.5) * step, title, "x (nm)", "y (nm)", "sigma_CRB (nm)", 0, 0, NULL,
                                  err, sizeof err);
  free(v);
  plot_shutdown();
  if (rc) { fprintf(stderr, "minflux crb: %s\n", err); return 1; }
  printf("%d x %d points, sigma_CRB %.3g .. %.3g nm -> %s, %s\n", nx, ny, lo, hi, out, png);
  return 0;
}

int cmd_crb(int argc, char **argv)
{
  double L = NAN, fwhm = NAN, N = NAN, sbr = NAN, sbr_L0 = NAN, ax = 0.0, ay = 0.0;
  int have_at = 0, verbose = 0;
  const char *map = NULL, *out = NULL;
  double step = NAN;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      crb_usage(stdout);
      return 0;
    }
    if (!strcmp(o, "--verbose")) {
      verbose = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "minflux crb: %s needs a value (minflux crb --help)\n", o);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(o, "--L")) { if (parse_num(o, v, &L)) return 2; }
    else if (!strcmp(o, "--fwhm")) { if (parse_num(o, v, &fwhm)) return 2; }
    else if (!strcmp(o, "--N")) { if (parse_num(o, v, &N)) return 2; }
    else if (!strcmp(o, "--sbr")) { if (parse_num(o, v, &sbr)) return 2; }
    else if (!strcmp(o, "--sbr-L0")) { if (parse_num(o, v, &sbr_L0)) return 2; }
    else if (!strcmp(o, "--board")) { /* accepted for uniformity: no board is used */ }
    else if (!strcmp(o, "--map")) map = v;
    else if (!strcmp(o, "--out")) out = v;
    else if (!strcmp(o, "--step")) { if (parse_num(o, v, &step)) return 2; }
    else if (!strcmp(o, "--at")) {
      char *end;
      errno = 0;
      ax = strtod(v, &end);
      if (end == v || *end != ',' || !isfinite(ax)) {
        fprintf(stderr, "minflux crb: --at '%s': expected X,Y in nm (e.g. --at 25,0)\n", v);
        return 2;
      }
      const char *s2 = end + 1;
      ay = strtod(s2, &end);
      if (end == s2 || *end != '\0' || !isfinite(ay) || errno == ERANGE) {
        fprintf(stderr, "minflux crb: --at '%s': expected X,Y in nm (e.g. --at 25,0)\n", v);
        return 2;
      }
      have_at = 1;
    } else {
      fprintf(stderr, "minflux crb: unknown option '%s' (minflux crb --help)\n", o);
      return 2;
    }
  }
  if (isnan(L) || isnan(fwhm) || isnan(N)) {
    fprintf(stderr, "minflux crb: --L, --fwhm and --N are required (minflux crb --help)\n");
    return 2;
  }
  char err[256];
  if (est_check_geometry(L, fwhm, err, sizeof err)) {
    fprintf(stderr, "minflux crb: %s\n", err);
    return 2;
  }
  if (!(N > 0.0)) {
    fprintf(stderr, "minflux crb: N = %g photons: must be > 0\n", N);
    return 2;
  }
  if (!isnan(sbr) && !(sbr > 0.0)) {
    fprintf(stderr, "minflux crb: sbr = %g: must be > 0\n", sbr);
    return 2;
  }
  if (!isnan(sbr_L0)) {
    if (isnan(sbr)) {
      fprintf(stderr, "minflux crb: --sbr-L0 needs --sbr (the SBR measured at that diameter)\n");
      return 2;
    }
    if (!(sbr_L0 > 0.0) || sbr_L0 > 1000.0) {
      fprintf(stderr, "minflux crb: sbr-L0 = %g nm: must be > 0 and <= 1000 nm\n", sbr_L0);
      return 2;
    }
  }
  if (have_at && (fabs(ax) > 10.0 * fwhm || fabs(ay) > 10.0 * fwhm)) {
    fprintf(stderr, "minflux crb: --at %g,%g nm: must lie within 10 fwhm = %g nm of the centre\n",
            ax, ay, 10.0 * fwhm);
    return 2;
  }
  const double sbr0 = isnan(sbr) ? INFINITY
                    : isnan(sbr_L0) ? sbr : mf_sbr_s32(sbr, sbr_L0, L, fwhm);
  if (map || out || !isnan(step)) return crb_map(L, fwhm, N, sbr0, map, step, out, have_at);
  double sigma, cov[2][2] = {{NAN, NAN}, {NAN, NAN}};
  const char *how;
  if (have_at) {
    mf_ebp_t e;
    mf_ebp4(L, fwhm, &e);
    sigma = mf_crb(&e, ax, ay, N, sbr0, cov);
    how = isinf(sbr0) ? "S25/S26 numerically, no background" : "S25/S26 numerically, S28 background";
  } else if (isinf(sbr0)) {
    sigma = mf_crb_s27(L, fwhm, N);
    how = "S27";
  } else {
    sigma = mf_crb_s31(L, fwhm, N, sbr0);
    how = isnan(sbr_L0) ? "S31" : "S31 with SBR from S32";
  }
  if (!isfinite(sigma)) {
    fprintf(stderr, "minflux crb: the Fisher information is singular at (%g, %g) nm: no finite bound\n",
            ax, ay);
    return 1;
  }
  print_sig3(sigma);
  if (verbose) {
    printf("# sigma_CRB = %.6f nm (%s); L = %g nm, fwhm = %g nm, N = %g", sigma, how, L, fwhm, N);
    if (!isinf(sbr0)) printf(", SBR at the centre = %.6g", sbr0);
    if (have_at)
      printf("; at (%g, %g) nm: cov = [[%.6g, %.6g], [%.6g, %.6g]] nm^2", ax, ay, cov[0][0], cov[0][1],
             cov[1][0], cov[1][1]);
    printf("\n");
  }
  return 0;
}
