/* Test helper: the tables the C generators write for the RTL, read back from build/gen/
 * (BUILD overrides build/). Shared by test_bayes.c and test_estimators.c. */
#ifndef MINFLUX_TESTS_VH_TABLE_H
#define MINFLUX_TESTS_VH_TABLE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *build_dir(void)
{
  const char *b = getenv("BUILD");
  return b && *b ? b : "build";
}

/* Reads `define NAME(m) ... m[i] = 16'h<hex digits>; ... from build/gen/FILE into vals[0..n);
 * returns the entries found, -1 without the file. */
static int read_vh_table(const char *file, const char *name, long *vals, int n)
{
  char path[512], line[256], key[128];
  snprintf(path, sizeof path, "%s/gen/%s", build_dir(), file);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  snprintf(key, sizeof key, "`define %s(m)", name);
  int in = 0, got = 0;
  while (fgets(line, sizeof line, f)) {
    if (!in) {
      in = strstr(line, key) != NULL;
      continue;
    }
    int i;
    unsigned v;
    if (sscanf(line, " m[%d] = 16'h%x;", &i, &v) == 2 && i >= 0 && i < n) {
      vals[i] = v;
      got++;
    }
    if (!strchr(line, '\\')) break;
  }
  fclose(f);
  return got;
}

#endif
