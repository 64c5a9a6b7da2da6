/* Fuzz target: the CSV reader of `minflux localize` (host/cmd_localize.c) on arbitrary
 * stdin, with the estimator, arithmetic and threshold chosen by the first input byte.
 * Properties beyond "no crash, no sanitizer report":
 *  - exit 0 writes the header x_nm,y_nm,valid and exactly one row per non-blank input line
 *    after the header, each row three fields: two finite numbers and 0 or 1;
 *  - any other exit is 1 (bad input), never 2 (the options are valid) nor a crash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"

int cmd_localize(int argc, char **argv);

static FILE *g_null;

/* Non-blank lines of the input, as cmd_localize sees them (blanks: spaces, tabs, CR). */
static size_t count_lines(const uint8_t *p, size_t n)
{
  size_t lines = 0;
  int content = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\n') { lines += content; content = 0; }
    else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') content = 1;
  }
  return lines + content;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 1 << 16) return 0;
  if (memchr(data + 1, 0, size - 1)) return 0;   /* a NUL ends a line early for getline+strlen */
  if (!g_null) g_null = fopen("/dev/null", "w");
  static const char *est[] = { "mlms", "mlms2", "gauss1d" };
  static const char *thr[] = { "0", "6", "100", "8191" };
  const unsigned sel = data[0];
  char *argv[] = { "localize", "--estimator", (char *)est[sel % 3], "--arith", (sel & 4) ? "float" : "fixed",
                   "--L", (sel & 8) ? "300" : "100", "--fwhm", "360", "--threshold", (char *)thr[(sel >> 4) & 3], NULL };
  const int argc = (int)(sizeof argv / sizeof argv[0]) - 1;

  FILE *in = fmemopen((void *)(data + 1), size - 1, "r");
  char *out = NULL;
  size_t outlen = 0;
  FILE *o = open_memstream(&out, &outlen);
  FZ_CHECK(in && o, "fmemopen/open_memstream failed");
  FILE *si = stdin, *so = stdout, *se = stderr;
  stdin = in;
  stdout = o;
  stderr = g_null;   /* refusals are expected; sanitizer reports still go to fd 2 */
  const int rc = cmd_localize(argc, argv);
  stdin = si;
  stdout = so;
  stderr = se;
  fclose(in);
  fclose(o);
  FZ_CHECK(rc == 0 || rc == 1, "exit %d", rc);
  if (rc == 0) {
    const size_t want = count_lines(data + 1, size - 1);   /* header + quartets */
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    FZ_CHECK(line && !strcmp(line, "x_nm,y_nm,valid"), "output does not start with the header");
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
      char *e1, *e2;
      const double x = strtod(line, &e1);
      FZ_CHECK(*e1 == ',', "row %zu '%s'", rows, line);
      const double y = strtod(e1 + 1, &e2);
      FZ_CHECK(isfinite(x) && isfinite(y) && (!strcmp(e2, ",0") || !strcmp(e2, ",1")), "row %zu '%s'", rows, line);
      rows++;
    }
    FZ_CHECK(rows + 1 == want, "%zu rows for %zu non-blank input lines", rows, want);
  }
  free(out);
  return 0;
}
