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

static void crb_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux crb --L NM --fwhm NM --N PHOTONS [--sbr S [--sbr-L0 NM]] [--at X,Y] [--verbose]\n"
    "Prints sigma_CRB in nm (seed 003 S13: sqrt of the mean eigenvalue of the CRB covariance)\n"
    "for the 4-doughnut pattern of diameter L (centre + 3 at 120 deg, S24), doughnut fwhm (S17)\n"
    "and N detected photons:\n"
    "  without --sbr and --at   S27 at the pattern centre (no background)\n"
    "  --sbr S                  S31: S is the signal-to-background ratio at the centre (S29)\n"
    "  --sbr-L0 NM              S was measured with a pattern of diameter NM; converted to L by S32\n"
    "  --at X,Y                 S25/S26 evaluated numerically at (X, Y) nm from the centre, with\n"
    "                           the background per exposure fixed by --sbr (none without it)\n"
    "  --verbose                also print the covariance, the SBR used and the formula\n"
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

int cmd_crb(int argc, char **argv)
{
  double L = NAN, fwhm = NAN, N = NAN, sbr = NAN, sbr_L0 = NAN, ax = 0.0, ay = 0.0;
  int have_at = 0, verbose = 0;
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
