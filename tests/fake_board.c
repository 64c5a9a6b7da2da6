/* fake_board: a stand-in for the virtual board that is only a register file behind the
 * framed protocol (host/protocol.c) on stdin/stdout: PING, READ and WRITE are answered as
 * the firmware answers them, ID, VERSION and CLK_HZ read as the minflux firmware's, other
 * registers read back what was written -- except BAYES_MODE, which reads 0 as in a firmware
 * without the Bayesian block (the board image, built with MINFLUX_NO_BAYES). It streams no
 * records. tests/test_acquire_bayes.sh points MINFLUX_VBOARD at it to check that
 * `minflux acquire --mode bayes` refuses such a firmware. Arguments are ignored (the sim
 * transport passes --scenario and --truth). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "protocol.h"

static uint32_t g_reg[256];

static void answer(const uint8_t *p, uint8_t type, uint8_t len)
{
  uint8_t out[MFX_FRAME_MAX];
  const size_t n = mfx_frame_encode(out, type, p, len);
  for (size_t o = 0; o < n;) {
    const ssize_t w = write(1, out + o, n - o);
    if (w <= 0) _exit(0);
    o += (size_t)w;
  }
}

static void on_frame(void *ctx, const mfx_frame *f)
{
  (void)ctx;
  uint8_t pl[5];
  switch (f->type) {
  case MINFLUX_PROTO_T_PING:
    answer(NULL, MINFLUX_PROTO_T_PONG, 0);
    break;
  case MINFLUX_PROTO_T_READ:
    pl[0] = f->payload[0];
    mfx_put32(pl + 1, g_reg[f->payload[0]]);
    answer(pl, MINFLUX_PROTO_T_READ_R, 5);
    break;
  case MINFLUX_PROTO_T_WRITE: {
    const uint8_t a = f->payload[0];
    const uint32_t v = mfx_be32(f->payload + 1);
    if (a != MINFLUX_REG_BAYES_MODE && a != MINFLUX_REG_ID && a != MINFLUX_REG_VERSION && a != MINFLUX_REG_CLK_HZ &&
        a != MINFLUX_REG_STATUS && a != MINFLUX_REG_CTRL)
      g_reg[a] = v;
    pl[0] = a;
    answer(pl, MINFLUX_PROTO_T_WRITE_R, 1);
    break;
  }
  default:
    break;
  }
}

int main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  g_reg[MINFLUX_REG_ID] = MINFLUX_DESIGN_ID;
  g_reg[MINFLUX_REG_VERSION] = MINFLUX_DESIGN_VERSION;
  g_reg[MINFLUX_REG_CLK_HZ] = MINFLUX_CLK_HZ;
  mfx_decoder d;
  mfx_dec_init(&d);
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) return 0;
    mfx_dec_feed(&d, buf, (size_t)n, on_frame, NULL);
  }
}
