/* Fuzz target: the virtual board's scenario parser (sim/physics.c phys_load) on arbitrary
 * INI files. Properties beyond "no crash, no sanitizer report": a refusal always comes with
 * a one-line message; an accepted scenario loaded twice gives the same result (no state
 * kept between loads). */
#include <string.h>
#include "fuzz_util.h"
#include "physics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16) return 0;
  char path[64], err[1024];
  int fd = fz_memfd(data, size, path, sizeof path);
  static phys_scenario a, b;
  phys_defaults(&a);
  memset(err, 0, sizeof err);
  const int bad = phys_load(path, &a, err, sizeof err);
  if (bad) {
    FZ_CHECK(err[0] && !strchr(err, '\n'), "refusal without a one-line message: '%s'", err);
  } else {
    phys_defaults(&b);
    FZ_CHECK(phys_load(path, &b, err, sizeof err) == 0, "second load refused: %s", err);
    FZ_CHECK(!memcmp(&a, &b, sizeof a), "two loads of the same file differ");
  }
  close(fd);
  return 0;
}
