/* `minflux info`: what the firmware says about itself, read from its registers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "link.h"
#include "host_link.h"

static void info_usage(FILE *f)
{
  fprintf(f, "usage: minflux info [--board ftdi[:SERIAL]|sim[:SCENARIO.ini]]\n"
             "Reads design id, version, clock, link counters and status from the firmware registers.\n"
             "Default board: sim (the virtual board).\n");
}

int cmd_info(int argc, char **argv)
{
  const char *board = "sim";
  static const struct option lo[] = { { "board", required_argument, 0, 'b' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    if (c == 'b') board = optarg;
    else if (c == 'h') { info_usage(stdout); return 0; }
    else { fprintf(stderr, "minflux info: unknown or incomplete option '%s' (try --help)\n", argv[optind - 1]); return 2; }
  }
  if (optind < argc) { fprintf(stderr, "minflux info: unexpected argument '%s'\n", argv[optind]); return 2; }
  char err[320];
  mfx_transport *t = mfx_board_open(board, NULL, err, sizeof err);
  if (!t) { fprintf(stderr, "minflux info: %s\n", err); return 1; }
  mfx_link l;
  mfx_link_init(&l, t);
  uint32_t id = 0, ver = 0, clk = 0, st = 0, seq = 0, drop = 0, rxe = 0, ts = 0, baud = 0;
  int rc = 0;
  if (mfx_ping(&l) || mfx_reg_read(&l, MINFLUX_REG_ID, &id) || mfx_reg_read(&l, MINFLUX_REG_VERSION, &ver) ||
      mfx_reg_read(&l, MINFLUX_REG_CLK_HZ, &clk) || mfx_reg_read(&l, MINFLUX_REG_STATUS, &st) ||
      mfx_reg_read(&l, MINFLUX_REG_TIMESTAMP, &ts) || mfx_reg_read(&l, MINFLUX_REG_REC_SEQ, &seq) ||
      mfx_reg_read(&l, MINFLUX_REG_REC_DROPPED, &drop) || mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &rxe) ||
      mfx_reg_read(&l, MINFLUX_REG_LINK_BAUD, &baud)) {
    fprintf(stderr, "minflux info: %s\n", l.err);
    rc = 1;
  } else if (id != MINFLUX_DESIGN_ID) {
    fprintf(stderr, "minflux info: the FPGA answers but its design id is 0x%08X, not minflux 0x%08X: load the minflux bitstream\n",
            id, (unsigned)MINFLUX_DESIGN_ID);
    rc = 1;
  } else {
    printf("board:       %s\n", board);
    printf("design id:   0x%08X ('%c%c%c%c')\n", id, id >> 24, (id >> 16) & 0xFF, (id >> 8) & 0xFF, id & 0xFF);
    printf("version:     %u.%u.%u%s\n", (ver >> 16) & 0xFF, (ver >> 8) & 0xFF, ver & 0xFF,
           ver == MINFLUX_DESIGN_VERSION ? "" : "  (this host was built for another version)");
    printf("clock:       %.3f MHz\n", clk / 1e6);
    printf("link:        %u baud 8N1 (%s transport; firmware LINK_BAUD %u = %u baud, 6 and 12 Mbaud selectable), "
           "%u records sent, %u dropped, %u refused frames\n", t->baud, t->kind, baud,
           clk / host_link_div(baud), seq, drop, rxe);
    printf("status:      %s%s%s (STATUS 0x%02X), firmware time %.6f s\n", (st & 1) ? "running" : "idle",
           (st & 0x10) ? ", EMERGENCY STOP active" : "", (st & 0x08) ? ", a count saturated" : "", st, ts / (double)clk);
  }
  t->close(t);
  return rc;
}
