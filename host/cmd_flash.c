/* `minflux flash`: check an iCE40UP5K bitstream, then load it into the iCEBreaker's SPI flash
 * (default) or straight into the FPGA's configuration SRAM (--sram) over FT2232H channel A. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "flash_ice40.h"
#include "flash_image.h"
#include "mpsse.h"

enum { FLASH_OK = 0, FLASH_REFUSED = 1, FLASH_USAGE = 2, FLASH_BOARD = 3 };

static void flash_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux flash [--sram] [--verify | --no-verify] [--board ftdi[:SERIAL]] FILE.bin\n"
    "Checks FILE.bin first (an iCE40UP5K bitstream: sync word, every command and data block inside\n"
    "the file, CRC-16, wakeup, 102400..110592 bytes) and refuses it before touching the board.\n"
    "Then, over FT2232H channel A (MPSSE, 6 MHz SPI):\n"
    "  (default)    writes the W25Q128 SPI flash the FPGA boots from: JEDEC ID check, 64 KiB block\n"
    "               erases, 256-byte page programs, read-back verify, CRESET release, CDONE check\n"
    "  --sram       loads the FPGA's configuration SRAM instead (gone at power-off or reset); the\n"
    "               flash keeps its contents. The iCE40 checks the image's CRC itself: CDONE high\n"
    "               means it accepted the image (that is the verification; --verify adds nothing)\n"
    "  --verify     read the flash back and compare it with the file (the default)\n"
    "  --no-verify  skip the read-back (about 0.15 s faster)\n"
    "  --board ftdi[:SERIAL]  which FT2232H (default: the first one found)\n"
    "Exit status: 0 done; 1 the file was refused (nothing was sent to the board); 2 usage;\n"
    "3 the board or a device on it failed. See docs/flashing.md.\n");
}

typedef struct {
  int tty;
  const char *phase;
  int percent;
} progress_bar;

static void bar_update(void *arg, const char *phase, size_t done, size_t total)
{
  progress_bar *b = arg;
  if (!b->tty || total == 0) return;
  const int pct = (int)(100.0 * (double)done / (double)total);
  if (b->phase == phase && pct == b->percent) return;
  b->phase = phase;
  b->percent = pct;
  char bar[41];
  const int fill = pct * 40 / 100;
  for (int i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
  bar[40] = '\0';
  fprintf(stderr, "\r%-6s [%s] %3d%%", phase, bar, pct);
  fflush(stderr);
}

static void bar_end(progress_bar *b)
{
  if (b->tty && b->phase) fprintf(stderr, "\r%60s\r", "");
  b->phase = NULL;
}

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cmd_flash(int argc, char **argv)
{
  const char *board = "ftdi";
  int sram = 0, verify = 1, verify_set = 0;
  enum { OPT_BOARD = 1, OPT_SRAM, OPT_VERIFY, OPT_NO_VERIFY, OPT_HELP };
  static const struct option lo[] = {
    { "board", required_argument, 0, OPT_BOARD }, { "sram", no_argument, 0, OPT_SRAM },
    { "verify", no_argument, 0, OPT_VERIFY }, { "no-verify", no_argument, 0, OPT_NO_VERIFY },
    { "help", no_argument, 0, OPT_HELP }, { 0, 0, 0, 0 } };
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case OPT_BOARD: board = optarg; break;
    case OPT_SRAM: sram = 1; break;
    case OPT_VERIFY:
    case OPT_NO_VERIFY:
      if (verify_set && verify != (c == OPT_VERIFY)) {
        fprintf(stderr, "minflux flash: --verify and --no-verify contradict each other\n");
        return FLASH_USAGE;
      }
      verify = c == OPT_VERIFY;
      verify_set = 1;
      break;
    case OPT_HELP: case 'h': flash_usage(stdout); return FLASH_OK;
    default:
      fprintf(stderr, "minflux flash: unknown or incomplete option '%s' (try --help)\n", argv[optind - 1]);
      return FLASH_USAGE;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "minflux flash: which bitstream? usage: minflux flash [--sram] [--verify] FILE.bin\n");
    return FLASH_USAGE;
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "minflux flash: one bitstream at a time; unexpected argument '%s'\n", argv[optind + 1]);
    return FLASH_USAGE;
  }
  const char *path = argv[optind];
  const char *serial = NULL;
  if (!strncmp(board, "sim", 3) && (board[3] == '\0' || board[3] == ':')) {
    fprintf(stderr, "minflux flash: the virtual board (--board %s) has no flash or configuration port; "
            "flash a real iCEBreaker with --board ftdi[:SERIAL]\n", board);
    return FLASH_USAGE;
  }
  if (!strcmp(board, "ftdi")) serial = NULL;
  else if (!strncmp(board, "ftdi:", 5)) serial = board + 5;
  else {
    fprintf(stderr, "minflux flash: unknown board '%s' (allowed: ftdi, ftdi:SERIAL)\n", board);
    return FLASH_USAGE;
  }

  char err[320];
  uint8_t *img = NULL;
  size_t n = 0;
  ice40_image_info info;
  if (ice40_image_load(path, &img, &n, &info, err, sizeof err)) {
    fprintf(stderr, "minflux flash: %s\n", err);
    return FLASH_REFUSED;
  }

  const double t0 = wall_s();
  mpsse *m = mpsse_open(serial, ICE40_SCK_HZ, err, sizeof err);
  if (!m) {
    fprintf(stderr, "minflux flash: %s\n", err);
    free(img);
    return FLASH_BOARD;
  }
  progress_bar bar = { isatty(STDERR_FILENO), NULL, -1 };
  ice40_report rep;
  const int rc = sram ? ice40_load_sram(m, img, n, bar_update, &bar, &rep)
                      : ice40_program_flash(m, img, n, verify, bar_update, &bar, &rep);
  bar_end(&bar);
  if (rc) snprintf(err, sizeof err, "%s", mpsse_err(m));
  mpsse_close(m);
  free(img);
  if (rc) {
    fprintf(stderr, "minflux flash: %s\n", err);
    return FLASH_BOARD;
  }
  const double secs = wall_s() - t0;
  if (sram)
    printf("loaded %s: %zu bytes into the iCE40 configuration SRAM, CDONE high: the design runs "
           "until power-off or reset; the SPI flash is unchanged (%.2f s)\n", path, n, secs);
  else
    printf("flashed %s: %zu bytes into the %s (JEDEC 0x%06X): %u blocks erased, %u pages written, %s; "
           "CDONE high after CRESET release (%.2f s)\n", path, n, rep.part, rep.jedec,
           rep.blocks_erased, rep.pages_written, rep.verified ? "verified" : "not verified (--no-verify)",
           secs);
  return FLASH_OK;
}
