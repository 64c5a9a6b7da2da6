/* Check tests of the host link against the virtual board (the Verilated firmware):
 * register access, garbage towards the firmware never locks it up, refused frames are
 * counted, a frame cut off half-way times out, batched writes are answered in one round trip. Needs MINFLUX_VBOARD or the build layout. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "link.h"

static mfx_transport *t;
static mfx_link l;

static void open_board(void)
{
  char err[320];
  t = mfx_board_open("sim", NULL, err, sizeof err);
  ck_assert_msg(t != NULL, "%s", err);
  mfx_link_init(&l, t);
}
static void close_board(void) { t->close(t); }

START_TEST(identity_and_register_round_trip)
{
  uint32_t v;
  ck_assert_msg(mfx_ping(&l) == 0, "%s", l.err);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_ID, &v), 0);
  ck_assert_uint_eq(v, MINFLUX_DESIGN_ID);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_CLK_HZ, &v), 0);
  ck_assert_uint_eq(v, MINFLUX_CLK_HZ);
  /* every writable register of a few: what is written reads back */
  const uint8_t regs[] = { MINFLUX_REG_GATE, MINFLUX_REG_CENTRE_X, MINFLUX_REG_NCYCLES, MINFLUX_REG_EST_BETA1 };
  const uint32_t vals[] = { 1234, 0xFFFF, 0x89ABCDEF, 0x3CCD };
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(mfx_reg_write(&l, regs[i], vals[i]), 0);
    ck_assert_int_eq(mfx_reg_read(&l, regs[i], &v), 0);
    ck_assert_uint_eq(v, vals[i]);
  }
  ck_assert_uint_eq(l.retries, 0);
}
END_TEST

START_TEST(garbage_to_the_firmware_is_refused_and_counted)
{
  uint32_t e0, e1, v;
  ck_assert_int_eq(mfx_reg_write(&l, MINFLUX_REG_GATE, 1234), 0);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &e0), 0);
  srand(4242);
  uint8_t junk[3000];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i % 7 == 0 ? 0xA5 : rand());
  ck_assert_int_eq(t->write(t, junk, sizeof junk), 0);
  /* a frame with a wrong CRC and one cut off half-way */
  uint8_t fr[16];
  size_t n = mfx_frame_encode(fr, MINFLUX_PROTO_T_PING, NULL, 0);
  fr[n - 1] ^= 1;
  ck_assert_int_eq(t->write(t, fr, n), 0);
  const uint8_t half[] = { 0xA5, MINFLUX_PROTO_T_WRITE, 5, MINFLUX_REG_GATE, 0x00 };
  ck_assert_int_eq(t->write(t, half, sizeof half), 0);
  /* the firmware answers again (a retry may be needed while it discards the tail) */
  ck_assert_msg(mfx_ping(&l) == 0, "%s", l.err);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &e1), 0);
  ck_assert_uint_gt((uint16_t)(e1 - e0), 10);
  /* neither the junk nor the half WRITE reached GATE */
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_GATE, &v), 0);
  ck_assert_uint_eq(v, 1234);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_ID, &v), 0);
  ck_assert_uint_eq(v, MINFLUX_DESIGN_ID);
}
END_TEST

START_TEST(link_counters_clear)
{
  uint32_t v;
  ck_assert_int_eq(mfx_reg_write(&l, MINFLUX_REG_LINK_RESET, 1), 0);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &v), 0);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_REC_SEQ, &v), 0);
  ck_assert_uint_eq(v, 0);
}
END_TEST

/* mfx_reg_write_n: the frames back to back are all accepted and answered in one go (no
 * retry, no refused frame) at 3 and at 12 Mbaud, and the values are written. */
START_TEST(batched_writes_in_one_round_trip)
{
  uint32_t e0, e1, v;
  static const uint8_t a[5] = { MINFLUX_REG_CENTRE_X, MINFLUX_REG_CENTRE_Y, MINFLUX_REG_LASER_AMP, MINFLUX_REG_GATE,
                                MINFLUX_REG_NCYCLES };
  for (int rate = 0; rate < 2; rate++) {
    if (rate) ck_assert_msg(mfx_link_set_rate(&l, 4 * (MINFLUX_CLK_HZ / MINFLUX_LINK_DIV_3M)) == 0, "%s", l.err);
    ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &e0), 0);
    const uint64_t r0 = l.retries;
    for (uint32_t k = 1; k <= 20; k++) {
      const uint32_t val[5] = { (k * 37u) & 0xFFFF, (0x10000u - k * 11u) & 0xFFFF, k * 1000u, 100 + k, k };
      ck_assert_msg(mfx_reg_write_n(&l, 5, a, val) == 0, "%s", l.err);
      for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(mfx_reg_read(&l, a[i], &v), 0);
        ck_assert_msg(v == val[i], "batch %u register 0x%02X: %u, wrote %u", k, a[i], v, val[i]);
      }
    }
    ck_assert_msg(l.retries == r0, "%llu writes of the batches needed a retry", (unsigned long long)(l.retries - r0));
    ck_assert_int_eq(mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &e1), 0);
    ck_assert_uint_eq(e1, e0);
  }
}
END_TEST

static Suite *link_suite(void)
{
  Suite *s = suite_create("link");
  TCase *tc = tcase_create("vboard");
  tcase_add_checked_fixture(tc, open_board, close_board);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, identity_and_register_round_trip);
  tcase_add_test(tc, garbage_to_the_firmware_is_refused_and_counted);
  tcase_add_test(tc, link_counters_clear);
  tcase_add_test(tc, batched_writes_in_one_round_trip);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(link_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
