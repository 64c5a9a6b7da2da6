/* Helpers shared by the libFuzzer targets in tests/fuzz/ (mk/fuzz.mk): a property that
 * fails aborts with a message (libFuzzer records the input as a crash), and inputs that
 * the code under test reads from a path are handed over as a memfd. */
#ifndef MINFLUX_FUZZ_UTIL_H
#define MINFLUX_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FZ_CHECK(cond, ...)                                                  \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz property failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
      abort();                                                               \
    }                                                                        \
  } while (0)

/* Writes data into a new memfd and its /proc path into path; returns the fd (close it). */
static inline int fz_memfd(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
  int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
  FZ_CHECK(fd >= 0, "memfd_create failed");
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    FZ_CHECK(w > 0, "write to memfd failed");
    off += (size_t)w;
  }
  snprintf(path, pathlen, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
