/* Programming time of an iCE40UP5K image on the emulated iCEBreaker (`make bench`): the host's
 * flashing code (host/flash_ice40.c, the same objects `minflux flash` links) against
 * tests/ftdi_emu*.c, in model time:
 *   - every USB write, and every read that returns data, costs one 125 us microframe
 *     (a read of data not pushed by send-immediate also waits for the latency timer);
 *   - every SCK cycle the MPSSE engine runs costs 1/f_SCK (6 MHz here), data or idle;
 *   - the flash is busy for the W25Q128JV's typical times (64 KiB erase 150 ms, page 0.4 ms);
 *   - booting from the flash: 1.2 ms housekeeping, then the image read at an assumed 12 MHz.
 * Usage: test_flash_bench build/icebreaker.bin */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flash_ice40.h"
#include "flash_image.h"
#include "ftdi_emu.h"
#include "mpsse.h"

typedef struct {
  const char *phase;
  double start_ns[4];
  const char *names[4];
  int n;
} phases;

static void on_progress(void *arg, const char *phase, size_t done, size_t total)
{
  (void)done;
  (void)total;
  phases *p = arg;
  if (p->phase == phase || p->n == 4) return;
  p->phase = phase;
  p->names[p->n] = phase;
  p->start_ns[p->n++] = emu_get_stats()->t_ns;
}

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(const char *label, int sram, int verify, const uint8_t *img, size_t n)
{
  emu_knobs k;
  emu_defaults(&k);
  emu_power_on(&k, NULL, 0);
  phases ph = { NULL, { 0 }, { 0 }, 0 };
  char err[256];
  const double c0 = cpu_s();
  mpsse *m = mpsse_open(NULL, ICE40_SCK_HZ, err, sizeof err);
  if (!m) {
    fprintf(stderr, "bench_flash: %s\n", err);
    return 1;
  }
  const double t_open = emu_get_stats()->t_ns;
  ice40_report rep;
  const int rc = sram ? ice40_load_sram(m, img, n, on_progress, &ph, &rep)
                      : ice40_program_flash(m, img, n, verify, on_progress, &ph, &rep);
  if (rc) fprintf(stderr, "bench_flash: %s: %s\n", label, mpsse_err(m));
  mpsse_close(m);
  const double cpu = cpu_s() - c0;
  const emu_stats *s = emu_get_stats();
  if (rc || s->violations || !emu_cdone()) {
    fprintf(stderr, "bench_flash: %s failed (%lu emulator violations%s%s)\n", label, s->violations,
            s->violations ? ": " : "", s->violation[0]);
    return 1;
  }
  const double t = s->t_ns;
  printf("| %-18s | %7.3f | %6.3f | %6.3f | %6.3f | %7.3f | %6lu | %9lu | %8lu | %5.2f |\n", label, t * 1e-9,
         s->sck_ns * 1e-9, (s->usb_ns + s->latency_ns) * 1e-9, rep.busy_s, rep.cdone_s, s->usb_writes,
         s->usb_write_bytes, s->usb_read_bytes, cpu);
  printf("|   phases           | open %.3f", t_open * 1e-9);
  for (int i = 0; i < ph.n; i++) {
    const double end = i + 1 < ph.n ? ph.start_ns[i + 1] : t;
    printf(", %s %.3f", ph.names[i], (end - ph.start_ns[i]) * 1e-9);
  }
  printf(" (the last one includes the wait for CDONE)\n");
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: test_flash_bench build/icebreaker.bin\n");
    return 2;
  }
  uint8_t *img;
  size_t n;
  ice40_image_info info;
  char err[300];
  if (ice40_image_load(argv[1], &img, &n, &info, err, sizeof err)) {
    fprintf(stderr, "bench_flash: %s\n", err);
    return 1;
  }
  printf("bench_flash: %s, %zu bytes, SCK %.3f MHz; model: 125 us per USB write and per read with data,\n"
         "1/f_SCK per clock, W25Q128JV typical busy times, iCE40 boot read at an assumed 12 MHz\n",
         argv[1], n, ICE40_SCK_HZ / 1e6);
  printf("| mode               | model s |  SCK s |  USB s | busy s | CDONE s | writes | bytes out | bytes in | CPU s |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|\n");
  int rc = run("flash + verify", 0, 1, img, n);
  rc |= run("flash, no verify", 0, 0, img, n);
  rc |= run("sram", 1, 0, img, n);
  free(img);
  return rc;
}
