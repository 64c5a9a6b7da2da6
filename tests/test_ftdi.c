/* Check unit tests of the FT2232H transport's open path. CI machines have no iCEBreaker,
 * so these pin down the messages a user sees when the board is missing; a board that
 * happens to be attached is opened, closed and reported instead of failing the suite. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "transport.h"

/* Set by the first test: whether open(NULL) found no device at all. Only then can the
 * serial test insist on the "not found" wording (a present but inaccessible board would
 * legitimately give a permission or busy message). */
static int no_board_seen = -1;

static void expect_one_line_naming_the_chip(const char *err)
{
  ck_assert_msg(err[0] != '\0', "empty error message");
  ck_assert_msg(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL,
                "message is not one line: '%s'", err);
  ck_assert_msg(strstr(err, "FT2232H") != NULL, "message '%s' does not name the FT2232H", err);
}

/* NULL means the open failed with the message in err; otherwise the board was there. */
static mfx_transport *try_open(const char *serial, char *err, size_t errlen)
{
  memset(err, 'x', errlen);                      /* catch a missing terminator */
  err[errlen - 1] = '\0';
  mfx_transport *t = mfx_ftdi_open(serial, 3000000, err, errlen);
  if (t) {
    printf("test_ftdi: an FT2232H%s%s is attached (kind %s, %u baud); opened and closed it\n",
           serial ? " with serial " : "", serial ? serial : "", t->kind, t->baud);
    ck_assert_str_eq(t->kind, "ftdi");
    ck_assert_ptr_nonnull(t->read);
    ck_assert_ptr_nonnull(t->write);
    t->close(t);
  }
  return t;
}

START_TEST(first_device_missing_is_one_line_naming_the_chip)
{
  char err[256];
  if (try_open(NULL, err, sizeof err)) { no_board_seen = 0; return; }
  printf("test_ftdi: open(NULL): %s\n", err);
  expect_one_line_naming_the_chip(err);
  no_board_seen = strncmp(err, "no FT2232H", 10) == 0;
  if (no_board_seen) {
    ck_assert_msg(strstr(err, "0403:6010") != NULL, "'%s' lacks the USB id", err);
    ck_assert_msg(strstr(err, "serial") == NULL, "'%s' mentions a serial nobody gave", err);
  }
}
END_TEST

START_TEST(empty_serial_means_first_device)
{
  char a[256], b[256];
  if (try_open(NULL, a, sizeof a) || try_open("", b, sizeof b)) return;
  ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(missing_serial_is_named_in_the_message)
{
  char err[256];
  if (try_open("NOPE123", err, sizeof err)) return;
  printf("test_ftdi: open(\"NOPE123\"): %s\n", err);
  expect_one_line_naming_the_chip(err);
  if (no_board_seen != 0 || strncmp(err, "no FT2232H", 10) == 0) {
    static const char want[] = "no FT2232H (USB 0403:6010) found with serial NOPE123: ";
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s' does not start '%s'", err, want);
    ck_assert_msg(strstr(err, "plugged in") != NULL, "'%s' gives no hint", err);
  }
}
END_TEST

START_TEST(serial_with_control_characters_stays_one_line)
{
  char err[256];
  if (try_open("AB\nCD\r", err, sizeof err)) return;
  expect_one_line_naming_the_chip(err);
}
END_TEST

START_TEST(small_buffer_is_truncated_and_terminated)
{
  char err[16];
  if (try_open(NULL, err, sizeof err)) return;
  ck_assert_uint_eq(strlen(err), sizeof err - 1);
  ck_assert_ptr_null(strchr(err, '\n'));
  /* Callers may pass no buffer at all; that must not crash. */
  mfx_transport *t = mfx_ftdi_open(NULL, 3000000, NULL, 0);
  if (t) t->close(t);
}
END_TEST

static Suite *ftdi_suite(void)
{
  Suite *s = suite_create("ftdi");
  TCase *tc = tcase_create("open");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, first_device_missing_is_one_line_naming_the_chip);
  tcase_add_test(tc, empty_serial_means_first_device);
  tcase_add_test(tc, missing_serial_is_named_in_the_message);
  tcase_add_test(tc, serial_with_control_characters_stays_one_line);
  tcase_add_test(tc, small_buffer_is_truncated_and_terminated);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(ftdi_suite());
  /* One process: the serial test reads what the first test learned about the bus, and
   * the USB device must not be claimed by two forked children at once. */
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
