/* minflux localize: position estimates from count quartets (CSV on stdin, CSV on stdout)
 * with the live estimators of the firmware: mLMS k=1 / k=2 (seed 003 S51) and the 1D
 * Gaussian MLE (S40), either bit-exact with the firmware (--arith fixed: the hls-c models
 * of hdl/mlms.v and hdl/gauss1d.v) or in double precision (--arith float). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "est_float.h"
#include "est_regs.h"
#include "mle2d.h"
#include "numlms.h"

#define COUNT_MAX ((1u << MINFLUX_EST_N_W) - 1u)   /* 13-bit estimator input */

enum est_kind { EST_MLMS, EST_MLMS2, EST_GAUSS1D, EST_NUMLMS, EST_MLE };

static void loc_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux localize --estimator mlms|mlms2|gauss1d|numlms|mle --L NM --fwhm NM\n"
    "                        [--arith fixed|float] [--beta0 B --beta1 B --beta2 B]\n"
    "                        [--threshold N] [--sbr S]\n"
    "Reads CSV on stdin with the header n0,n1,n2,n3 (gauss1d: n0,n1 or n0,n1,n2,n3) and one\n"
    "quartet of counts per line; writes CSV x_nm,y_nm,valid on stdout, one row per quartet.\n"
    "  --estimator mlms     mLMS k=1 (seed 003 S51), the live tracking estimator;\n"
    "                       betas default to beta0 = 1.27, beta1 = 3.8\n"
    "  --estimator mlms2    mLMS k=2 with beta0..beta2 (beta2 defaults to 0)\n"
    "  --estimator gauss1d  1D Gaussian MLE (S40): x = fwhm^2/(8 ln2 L) ln(n0/n1) (Gaussian beam\n"
    "                       of n0 at +L/2), y from n2,n3 likewise; 0 when a count is 0\n"
    "  --estimator numlms   numerically unbiased mLMS (S52-S58): k=2 mLMS with beta_opt for the\n"
    "                       quartet's N and --sbr, mapped through the interpolant F (docs/analysis.md)\n"
    "  --estimator mle      2D MLE (S37) by grid search (5/1/0.1/0.01 nm over 240 nm), background\n"
    "                       from --sbr; numlms and mle add a column region (1 = inside the\n"
    "                       calibrated region / not on the search edge) and run in double precision\n"
    "  --arith fixed        (default) the firmware's bit-exact fixed-point model (Q11.5 nm)\n"
    "  --arith float        the double-precision reference\n"
    "  --threshold N        reaction threshold: valid = 1 when N = sum of the counts is > 0\n"
    "                       and >= N (default 0)\n"
    "  --sbr S              SBR at the pattern centre for numlms and mle (default: no background);\n"
    "                       mlms, mlms2 and gauss1d have no background term and ignore it\n"
    "  --board B            accepted like every minflux command; localize uses no board\n"
    "Counts: integers 0..%u (n_i = ch0 + ch1 of 12-bit channels). Ranges: 1 <= L <= 1000 nm,\n"
    "1 <= fwhm <= 10000 nm; mLMS: L < fwhm/sqrt(ln 2) and the register limits of\n"
    "hls-c/regmap_est.h (-8 < beta < 8, 0 <= B(p0) < 8, 1/(1 - L^2 ln2/fwhm^2) < 8).\n"
    , COUNT_MAX);
}

static int parse_num(const char *opt, const char *s, double *v)
{
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite(*v)) {
    fprintf(stderr, "minflux localize: %s '%s': not a finite number\n", opt, s);
    return -1;
  }
  return 0;
}

/* Strips a trailing newline / CR and surrounding blanks in place. */
static char *trim(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* Splits a CSV line at commas (no quoting in this format). Returns the field count. */
static int split(char *s, char **fields, int max)
{
  int n = 0;
  for (;;) {
    if (n < max) fields[n] = s;
    n++;
    char *c = strchr(s, ',');
    if (!c) break;
    *c = '\0';
    s = c + 1;
  }
  return n;
}

static const char *kNames[4] = {"n0", "n1", "n2", "n3"};

/* Parses one count field: an unsigned decimal integer 0..COUNT_MAX. */
static int parse_count(const char *field, long lineno, int col, unsigned *out)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%s", field);
  const char *s = trim(buf);
  if (*s == '\0') {
    fprintf(stderr, "minflux localize: line %ld: %s is empty: counts must be integers 0..%u\n",
            lineno, kNames[col], COUNT_MAX);
    return -1;
  }
  const char *p = s;
  while (*p >= '0' && *p <= '9') p++;
  if (*p != '\0' || s[0] == '\0') {
    const char *why = s[0] == '-' ? "negative count" :
                      (strchr(s, '.') || strchr(s, 'e') || strchr(s, 'E')) ? "not an integer" :
                      "not a number";
    fprintf(stderr, "minflux localize: line %ld: %s = '%s': %s; counts must be integers 0..%u\n",
            lineno, kNames[col], s, why, COUNT_MAX);
    return -1;
  }
  if (p - s > 9 || strtoul(s, NULL, 10) > COUNT_MAX) {
    fprintf(stderr, "minflux localize: line %ld: %s = %s: above %u, the largest count of the "
            "13-bit estimator input\n", lineno, kNames[col], s, COUNT_MAX);
    return -1;
  }
  *out = (unsigned)strtoul(s, NULL, 10);
  return 0;
}

int cmd_localize(int argc, char **argv)
{
  const char *est_name = NULL, *arith = "fixed";
  int arith_set = 0;
  double L = NAN, fwhm = NAN, sbr = NAN, thr = 0.0;
  double beta[3] = {1.27, 3.8, 0.0};
  int beta_set[3] = {0, 0, 0};
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      loc_usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "minflux localize: %s needs a value (minflux localize --help)\n", o);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(o, "--estimator")) est_name = v;
    else if (!strcmp(o, "--arith")) { arith = v; arith_set = 1; }
    else if (!strcmp(o, "--L")) { if (parse_num(o, v, &L)) return 2; }
    else if (!strcmp(o, "--fwhm")) { if (parse_num(o, v, &fwhm)) return 2; }
    else if (!strcmp(o, "--sbr")) { if (parse_num(o, v, &sbr)) return 2; }
    else if (!strcmp(o, "--threshold")) { if (parse_num(o, v, &thr)) return 2; }
    else if (!strcmp(o, "--board")) { /* accepted for uniformity: no board is used */ }
    else if (!strncmp(o, "--beta", 6) && o[6] >= '0' && o[6] <= '2' && o[7] == '\0') {
      const int j = o[6] - '0';
      if (parse_num(o, v, &beta[j])) return 2;
      beta_set[j] = 1;
    } else {
      fprintf(stderr, "minflux localize: unknown option '%s' (minflux localize --help)\n", o);
      return 2;
    }
  }
  enum est_kind kind;
  if (!est_name) {
    fprintf(stderr, "minflux localize: --estimator is required: mlms, mlms2, gauss1d, numlms or mle\n");
    return 2;
  } else if (!strcmp(est_name, "mlms")) kind = EST_MLMS;
  else if (!strcmp(est_name, "mlms2")) kind = EST_MLMS2;
  else if (!strcmp(est_name, "gauss1d")) kind = EST_GAUSS1D;
  else if (!strcmp(est_name, "numlms")) kind = EST_NUMLMS;
  else if (!strcmp(est_name, "mle")) kind = EST_MLE;
  else {
    fprintf(stderr, "minflux localize: unknown estimator '%s'; available: mlms, mlms2, gauss1d, "
            "numlms, mle\n", est_name);
    return 2;
  }
  int fixed;
  if (!strcmp(arith, "fixed")) fixed = 1;
  else if (!strcmp(arith, "float")) fixed = 0;
  else {
    fprintf(stderr, "minflux localize: --arith '%s': must be fixed or float\n", arith);
    return 2;
  }
  if (isnan(L) || isnan(fwhm)) {
    fprintf(stderr, "minflux localize: --L and --fwhm are required (minflux localize --help)\n");
    return 2;
  }
  if (!isnan(sbr) && !(sbr > 0.0)) {
    fprintf(stderr, "minflux localize: sbr = %g: must be > 0\n", sbr);
    return 2;
  }
  if (!(thr >= 0.0) || thr > (double)((1u << MINFLUX_EST_NSUM_W) - 1u) || thr != floor(thr)) {
    fprintf(stderr, "minflux localize: threshold = %g: must be an integer 0..%u counts\n", thr,
            (1u << MINFLUX_EST_NSUM_W) - 1u);
    return 2;
  }
  if (kind == EST_MLMS && beta_set[2] && beta[2] != 0.0) {
    fprintf(stderr, "minflux localize: beta2 = %g: mlms is the k=1 estimator (beta0 + beta1 p0); "
            "use --estimator mlms2 for beta2\n", beta[2]);
    return 2;
  }
  if ((kind == EST_GAUSS1D || kind == EST_NUMLMS || kind == EST_MLE) && (beta_set[0] || beta_set[1] || beta_set[2])) {
    fprintf(stderr, "minflux localize: %s takes no --betaN parameters%s\n", est_name,
            kind == EST_NUMLMS ? " (beta_opt is computed per N and SBR)" : "");
    return 2;
  }
  const int host_est = kind == EST_NUMLMS || kind == EST_MLE;
  if (host_est && arith_set && fixed) {
    fprintf(stderr, "minflux localize: %s runs on the host in double precision: --arith fixed does not apply\n", est_name);
    return 2;
  }
  if (host_est) fixed = 0;
  char err[256];
  mlms_regs_t mr;
  gauss1d_regs_t gr;
  const unsigned thresh = (unsigned)thr;
  if (kind == EST_GAUSS1D) {
    if (est_gauss1d_regs(L, fwhm, thresh, &gr, err, sizeof err)) {
      fprintf(stderr, "minflux localize: %s\n", err);
      return 2;
    }
  } else if (host_est) {
    if (est_check_geometry(L, fwhm, err, sizeof err)) {
      fprintf(stderr, "minflux localize: %s\n", err);
      return 2;
    }
  } else {
    const int k = kind == EST_MLMS ? 1 : 2;
    /* float: the physics limits only; fixed: also the register ranges */
    const int bad = fixed ? est_mlms_regs(L, fwhm, k, beta, thresh, &mr, err, sizeof err)
                          : est_check_geometry(L, fwhm, err, sizeof err);
    if (bad) {
      fprintf(stderr, "minflux localize: %s\n", err);
      return 2;
    }
  }
  if (!isnan(sbr) && !host_est)
    fprintf(stderr, "minflux localize: note: --sbr is not used by %s (no background term)\n",
            est_name);
  const double sbr_h = isnan(sbr) ? INFINITY : sbr;
  numlms_table *nt = NULL;
  mle2d_ctx mle;
  int have_mle = 0;
  if (kind == EST_NUMLMS && !(nt = numlms_table_new(L, fwhm, NULL, 0, &sbr_h, 1, NULL))) {
    fprintf(stderr, "minflux localize: out of memory\n");
    return 1;
  }
  if (kind == EST_MLE) {
    mf_ebp_t e;
    mf_ebp4(L, fwhm, &e);
    if (mle2d_init(&mle, &e, sbr_h, 240, err, sizeof err)) {
      fprintf(stderr, "minflux localize: %s\n", err);
      return 1;
    }
    have_mle = 1;
  }

  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  int ncols = 0, rc = 0;
  while (getline(&line, &cap, stdin) != -1) {
    lineno++;
    char *s = trim(line);
    if (*s == '\0') continue;                      /* blank lines are skipped */
    char *f[8];
    if (ncols == 0) {                              /* header */
      const int n = split(s, f, 8);
      int okh = n == 4 || (n == 2 && kind == EST_GAUSS1D);
      for (int i = 0; okh && i < n; i++) okh = !strcmp(trim(f[i]), kNames[i]);
      if (!okh) {
        fprintf(stderr, "minflux localize: line %ld: expected the header %s, got '%s'\n", lineno,
                kind == EST_GAUSS1D ? "n0,n1 or n0,n1,n2,n3" : "n0,n1,n2,n3", s);
        rc = 1;
        break;
      }
      ncols = n;
      printf(host_est ? "x_nm,y_nm,valid,region\n" : "x_nm,y_nm,valid\n");
      continue;
    }
    const int n = split(s, f, 8);
    if (n != ncols) {
      fprintf(stderr, "minflux localize: line %ld: %d field%s, expected %d (%s)\n", lineno, n,
              n == 1 ? "" : "s", ncols, ncols == 4 ? "n0,n1,n2,n3" : "n0,n1");
      rc = 1;
      break;
    }
    unsigned c[4] = {0, 0, 0, 0};
    for (int i = 0; i < n && rc == 0; i++)
      if (parse_count(f[i], lineno, i, &c[i])) rc = 1;
    if (rc) break;
    const unsigned N = c[0] + c[1] + c[2] + c[3];
    double x, y;
    int valid, region = 0;
    if (host_est) {
      const double nd[4] = {c[0], c[1], c[2], c[3]};
      const int v = kind == EST_NUMLMS ? numlms_table_eval(nt, nd, sbr_h, &x, &y)
                                       : mle2d_eval(&mle, nd, &x, &y, NULL);
      if (v == -2) {
        fprintf(stderr, "minflux localize: %s\n", numlms_table_error(nt));
        rc = 1;
        break;
      }
      region = v == 1;
      valid = N > 0 && N >= thresh;
      printf("%.5f,%.5f,%d,%d\n", x, y, valid, region);
      continue;
    }
    if (fixed) {
      const uint16_t q[4] = {(uint16_t)c[0], (uint16_t)c[1], (uint16_t)c[2], (uint16_t)c[3]};
      est_out_t o;
      if (kind == EST_GAUSS1D) gauss1d_eval(&gr, q, &o);
      else mlms_eval(&mr, q, &o);
      x = est_pos_nm(o.x);
      y = est_pos_nm(o.y);
      valid = o.ok;
    } else {
      if (kind == EST_GAUSS1D) {
        x = mf_gauss1d(c[0], c[1], L, fwhm);
        y = mf_gauss1d(c[2], c[3], L, fwhm);
      } else {
        const double nd[4] = {c[0], c[1], c[2], c[3]};
        mf_mlms(nd, L, fwhm, kind == EST_MLMS ? 1 : 2, beta, &x, &y);
      }
      valid = N > 0 && N >= thresh;
    }
    printf("%.5f,%.5f,%d\n", x, y, valid);
  }
  free(line);
  numlms_table_free(nt);
  if (have_mle) mle2d_free(&mle);
  if (rc == 0 && ncols == 0) {
    fprintf(stderr, "minflux localize: no input: expected the header line %s on stdin\n",
            kind == EST_GAUSS1D ? "n0,n1" : "n0,n1,n2,n3");
    rc = 1;
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "minflux localize: write error on stdout\n");
    rc = 1;
  }
  return rc;
}
