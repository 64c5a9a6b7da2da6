/* Check tests of `minflux flash` against the emulated iCEBreaker (tests/ftdi_emu*.c, linked in
 * place of libftdi1): the real bitstream into the flash and into the SRAM, every failure mode
 * with its message and exit status, refusal of bad files before any USB traffic, and checks
 * that the emulator itself tells good from bad (page program semantics, BUSY, power-down,
 * CDONE only after a valid image and enough clocks).
 * Usage: test_flash build/icebreaker.bin   (random preloads print their seed; FLASH_SEED=S) */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ftdi.h>

#include "flash_ice40.h"
#include "flash_image.h"
#include "flash_spi.h"
#include "ftdi_emu.h"
#include "mpsse.h"

int cmd_flash(int argc, char **argv);

static const char *img_path;
static uint8_t *img;
static size_t img_n;
static unsigned seed;

/* ------------------------------------------------------------------ helpers ------------- */

typedef struct { int rc; char out[2048]; char err[2048]; } cli;

static void slurp(FILE *f, char *dst, size_t cap)
{
  rewind(f);
  const size_t n = fread(dst, 1, cap - 1, f);
  dst[n] = '\0';
  fclose(f);
}

/* Runs `minflux flash ARGS...` in this process (on the emulated board), output captured. */
static cli run_flash(const char *first, ...)
{
  char *argv[16];
  int argc = 0;
  argv[argc++] = "flash";
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
  va_end(ap);
  argv[argc] = NULL;
  cli r;
  fflush(stdout);
  fflush(stderr);
  FILE *fo = tmpfile(), *fe = tmpfile();
  ck_assert(fo && fe);
  const int so = dup(1), se = dup(2);
  dup2(fileno(fo), 1);
  dup2(fileno(fe), 2);
  r.rc = cmd_flash(argc, argv);
  fflush(stdout);
  fflush(stderr);
  dup2(so, 1);
  dup2(se, 2);
  close(so);
  close(se);
  slurp(fo, r.out, sizeof r.out);
  slurp(fe, r.err, sizeof r.err);
  return r;
}

static void expect_no_violations(void)
{
  const emu_stats *s = emu_get_stats();
  ck_assert_msg(s->violations == 0, "emulator: %lu protocol violations, first: %s", s->violations,
                s->violation[0]);
}

/* One line on stderr, starting "minflux flash: ", containing `what`. */
static void expect_error_line(const cli *r, int rc, const char *what)
{
  ck_assert_msg(r->rc == rc, "exit %d, expected %d; stderr: %s", r->rc, rc, r->err);
  ck_assert_msg(!strncmp(r->err, "minflux flash: ", 15), "stderr does not start 'minflux flash: ': '%s'", r->err);
  const char *nl = strchr(r->err, '\n');
  ck_assert_msg(nl && nl[1] == '\0', "stderr is not exactly one line: '%s'", r->err);
  ck_assert_msg(strstr(r->err, what), "stderr '%s' lacks '%s'", r->err, what);
  printf("  exit %d: %s", r->rc, r->err);
}

static char *temp_file(const uint8_t *p, size_t n)
{
  static char path[64];
  snprintf(path, sizeof path, "/tmp/test_flash_XXXXXX");
  const int fd = mkstemp(path);
  ck_assert(fd >= 0);
  ck_assert(write(fd, p, n) == (ssize_t)n);
  close(fd);
  return path;
}

static uint8_t *preload;                     /* old flash contents for a test */
#define PRELOAD_BYTES (256u * 1024u)

static void random_preload(void)
{
  preload = malloc(PRELOAD_BYTES);
  srand(seed);
  for (size_t i = 0; i < PRELOAD_BYTES; i++) preload[i] = (uint8_t)rand();
  emu_knobs k;
  emu_defaults(&k);
  emu_power_on(&k, preload, PRELOAD_BYTES);
}

static void power_on_with(const emu_knobs *k)
{
  emu_power_on(k, NULL, 0);
}

static size_t pages_of(size_t n) { return (n + 255) / 256; }

/* ------------------------------------------------------------------ flashing ------------ */

START_TEST(flash_real_bitstream_reads_back_identical)
{
  random_preload();                          /* old contents: erase must precede programming */
  const cli r = run_flash(img_path, NULL);
  ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
  ck_assert_msg(r.err[0] == '\0', "stderr not quiet without a terminal: '%s'", r.err);
  ck_assert_msg(strstr(r.out, "verified") && strstr(r.out, "CDONE high"), "stdout: %s", r.out);
  const uint8_t *f = emu_flash();
  size_t i = 0;
  while (i < img_n && f[i] == img[i]) i++;          /* (no ck_assert per byte: each one is a write) */
  ck_assert_msg(i == img_n, "flash 0x%06zX = 0x%02X, image 0x%02X (seed %u)", i, f[i], img[i], seed);
  while (i < 2 * 65536 && f[i] == 0xFF) i++;
  ck_assert_msg(i == 2 * 65536, "erased block byte 0x%06zX = 0x%02X", i, f[i]);
  ck_assert_msg(!memcmp(f + 2 * 65536, preload + 2 * 65536, PRELOAD_BYTES - 2 * 65536),
                "bytes beyond the erased blocks changed");
  const emu_stats *s = emu_get_stats();
  ck_assert_uint_eq(s->erases, 2);
  ck_assert_uint_eq(s->programs, pages_of(img_n));
  ck_assert_uint_eq(s->host_read_bytes, img_n);
  ck_assert_msg(s->flash_boots_ok >= 1 && emu_cdone(), "the iCE40 did not boot from the flash: %s", s->ice40_why);
  /* Batched: about one USB write per page, never one per byte. */
  ck_assert_msg(s->usb_writes < pages_of(img_n) + 200, "%lu USB writes", s->usb_writes);
  ck_assert_msg(s->usb_write_bytes / s->usb_writes > 200, "%lu bytes per write on average",
                s->usb_write_bytes / s->usb_writes);
  expect_no_violations();
  free(preload);
}
END_TEST

START_TEST(flash_without_verify_reads_nothing_back)
{
  power_on_with(NULL);
  const cli r = run_flash("--no-verify", img_path, NULL);
  ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
  ck_assert_msg(strstr(r.out, "not verified"), "stdout: %s", r.out);
  ck_assert_uint_eq(emu_get_stats()->host_read_bytes, 0);
  ck_assert(!memcmp(emu_flash(), img, img_n));
  ck_assert(emu_cdone());
  expect_no_violations();
}
END_TEST

START_TEST(sram_load_ends_with_cdone_high_and_flash_untouched)
{
  random_preload();
  ck_assert_msg(!emu_cdone(), "random flash contents configured the FPGA");
  const cli r = run_flash("--sram", img_path, NULL);
  ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
  ck_assert_msg(strstr(r.out, "SRAM") && strstr(r.out, "CDONE high"), "stdout: %s", r.out);
  const emu_stats *s = emu_get_stats();
  ck_assert_msg(emu_cdone() && s->sram_configs == 1, "CDONE %d, %lu SRAM configurations: %s", emu_cdone(),
                s->sram_configs, s->ice40_why);
  ck_assert_uint_eq(s->erases + s->programs + s->status_writes, 0);
  ck_assert_msg(!memcmp(emu_flash(), preload, PRELOAD_BYTES), "the SRAM load changed the flash");
  ck_assert_msg(!emu_flash_powered_down(), "the flash was left in power-down");
  ck_assert_uint_eq(s->cmds[0xB9], 1);     /* asleep while the image went past it */
  ck_assert_msg(s->usb_writes < 30, "%lu USB writes for an SRAM load", s->usb_writes);
  expect_no_violations();
  free(preload);
}
END_TEST

START_TEST(sram_with_verify_flag_is_accepted)
{
  power_on_with(NULL);
  const cli r = run_flash("--sram", "--verify", img_path, NULL);
  ck_assert_msg(r.rc == 0 && emu_cdone(), "exit %d: %s", r.rc, r.err);
  expect_no_violations();
}
END_TEST

/* ------------------------------------------------------------------ failure modes ------- */

static void k_no_device(emu_knobs *k)  { k->open_rc = -3; }
static void k_permission(emu_knobs *k) { k->open_rc = -4; }
static void k_busy(emu_knobs *k)       { k->open_rc = -5; }
static void k_jedec(emu_knobs *k)      { k->jedec_id = 0xC22018; }
static void k_no_flash(emu_knobs *k)   { k->flash_absent = 1; }
static void k_protected(emu_knobs *k)  { k->sr1 = 0x1C; }
static void k_stuck_busy(emu_knobs *k) { k->stuck_busy = 1; }
static void k_cdone_low(emu_knobs *k)  { k->cdone_stuck_low = 1; }
static void k_unplugged(emu_knobs *k)  { k->usb_dies_after = 30000; }

/* A failure, the words its one line must carry, and what must (not) have happened. */
static const struct {
  const char *name;
  void (*knob)(emu_knobs *);
  int sram_too;          /* also a failure of --sram */
  const char *msg, *msg2;
  int nothing_written;   /* refused before the first erase */
  double min_model_s;    /* the host waited at least this long (model time) before giving up */
} failures[] = {
  { "no device", k_no_device, 1, "no FT2232H (USB 0403:6010) found", "plugged in", 1, 0 },
  { "permission", k_permission, 1, "permission denied", "docs/ftdi.md", 1, 0 },
  { "busy", k_busy, 1, "channel A is busy", "another program", 1, 0 },
  { "wrong JEDEC ID", k_jedec, 0, "unexpected SPI flash JEDEC ID 0xC22018", "W25Q128", 1, 0 },
  { "no flash", k_no_flash, 0, "no SPI flash answers", "0xFFFFFF", 1, 0 },
  { "write-protected", k_protected, 0, "write-protected", "0x1C", 1, 0 },
  { "stays busy", k_stuck_busy, 0, "stayed busy", "erasing the 64 KiB block at 0x000000", 0, 2.0 },
  { "CDONE low", k_cdone_low, 1, "CDONE stayed low", "iCE40", 0, 0 },
  { "unplugged", k_unplugged, 1, "FT2232H write failed", "unplugged", 0, 0 },
};
#define N_FAILURES (int)(sizeof failures / sizeof failures[0])

/* The (failure, mode) pairs that apply: every failure with the flash, some with --sram too. */
static int fail_case[2 * N_FAILURES], fail_sram[2 * N_FAILURES], n_fail_cases;

static void list_failure_cases(void)
{
  for (int f = 0; f < N_FAILURES; f++)
    for (int sram = 0; sram <= failures[f].sram_too; sram++) {
      fail_case[n_fail_cases] = f;
      fail_sram[n_fail_cases++] = sram;
    }
}

START_TEST(failure_gives_its_message_and_exit_3)
{
  const int sram = fail_sram[_i];
  const int f = fail_case[_i];
  emu_knobs k;
  emu_defaults(&k);
  failures[f].knob(&k);
  power_on_with(&k);
  printf("  [%s%s]", failures[f].name, sram ? " --sram" : "");
  const cli r = sram ? run_flash("--sram", img_path, NULL) : run_flash(img_path, NULL);
  expect_error_line(&r, 3, failures[f].msg);
  ck_assert_msg(strstr(r.err, failures[f].msg2), "%s: '%s' lacks '%s'", failures[f].name, r.err, failures[f].msg2);
  const emu_stats *s = emu_get_stats();
  if (failures[f].nothing_written)
    ck_assert_msg(s->cmds[0xD8] + s->cmds[0x02] == 0, "%s: erase/program sent", failures[f].name);
  ck_assert_msg(s->t_ns >= failures[f].min_model_s * 1e9, "%s: gave up after %.3f s", failures[f].name,
                s->t_ns * 1e-9);
}
END_TEST

START_TEST(verify_mismatch_names_first_bad_address)
{
  size_t bad = 0x1000;
  while (bad < img_n && (img[bad] & 1)) bad++;     /* a byte whose bit 0 must become 0 */
  ck_assert(bad < img_n);
  emu_knobs k;
  emu_defaults(&k);
  k.stuck_bit_addr = (long)bad;
  power_on_with(&k);
  const cli r = run_flash(img_path, NULL);
  char want[64];
  snprintf(want, sizeof want, "the first at 0x%06zX", bad);
  expect_error_line(&r, 3, "verify failed: 1 of");
  ck_assert_msg(strstr(r.err, want), "'%s' lacks '%s'", r.err, want);
}
END_TEST

/* ------------------------------------------------------------------ refused files ------- */

typedef struct { const char *name; uint8_t *p; size_t n; const char *msg; } bad_file;

/* A structurally valid bitstream for an iCE40 with 332-bit CRAM banks (LP/HX1K), CRC and all. */
static size_t make_foreign_image(uint8_t *p)
{
  size_t n = 0;
  const uint8_t head[] = { 0xFF, 0x00, 0x00, 0xFF, 0x7E, 0xAA, 0x99, 0x7E, 0x51, 0x00, 0x01, 0x05 };
  memcpy(p, head, sizeof head);
  n = sizeof head;
  const size_t crc_from = n;
  const uint8_t geom[] = { 0x62, 0x01, 0x4B, 0x72, 0x00, 0x10, 0x82, 0x00, 0x00, 0x11, 0x00, 0x01, 0x01 };
  memcpy(p + n, geom, sizeof geom);
  n += sizeof geom;
  memset(p + n, 0x5A, 332 * 16 / 8);
  n += 332 * 16 / 8;
  p[n++] = 0x22;
  uint16_t crc = 0xFFFF;
  for (size_t i = crc_from; i < n; i++) {
    crc ^= (uint16_t)(p[i] << 8);
    for (int b = 0; b < 8; b++) crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  p[n++] = (uint8_t)(crc >> 8);
  p[n++] = (uint8_t)crc;
  p[n++] = 0x01;
  p[n++] = 0x06;
  return n;
}

static bad_file bad_files[16];
static int n_bad;

static void add_bad(const char *name, const uint8_t *p, size_t n, const char *msg)
{
  bad_file *b = &bad_files[n_bad++];
  b->name = name;
  b->p = malloc(n ? n : 1);
  memcpy(b->p, p, n);
  b->n = n;
  b->msg = msg;
}

static void make_bad_files(void)
{
  uint8_t *t = malloc(2 * img_n + 4096);
  add_bad("empty", t, 0, "empty file");
  static const char asc[] = ".comment minflux\n.device 5k\n.io_tile 1 0\n000000000000000000\n";
  add_bad("text", (const uint8_t *)asc, strlen(asc), "text file");
  for (size_t i = 0; i < 40000; i++) t[i] = (uint8_t)(i * 2654435761u >> 13);
  add_bad("noise", t, 40000, "no sync word");
  add_bad("truncated in the header", img, 6, "not an iCE40 bitstream");
  add_bad("truncated in CRAM data", img, 50000, "truncated bitstream: the CRAM data");
  add_bad("truncated before wakeup", img, img_n - 3, "truncated bitstream");
  memcpy(t, img, img_n);
  t[30000] ^= 0x10;                                   /* inside the CRAM data of bank 1 */
  add_bad("one flipped bit", t, img_n, "CRC-16 mismatch");
  memcpy(t, img, img_n);
  t[0x1B] = 0x22;                                     /* a command byte corrupted */
  add_bad("corrupted command", t, img_n, "corrupt bitstream");
  memcpy(t, img, img_n);
  memcpy(t + img_n, img, img_n);
  add_bad("two images joined", t, 2 * img_n, "too large");
  memcpy(t, img, img_n);
  memcpy(t + img_n, "trailing junk", 13);
  add_bad("data after wakeup", t, img_n + 13, "after the wakeup");
  add_bad("foreign device", t, make_foreign_image(t), "another iCE40");
  free(t);
}

START_TEST(bad_file_is_refused_before_any_usb_traffic)
{
  const bad_file *b = &bad_files[_i / 2];
  const int sram = _i % 2;
  random_preload();
  const char *path = temp_file(b->p, b->n);
  const cli r = sram ? run_flash("--sram", path, NULL) : run_flash(path, NULL);
  unlink(path);
  ck_assert_msg(r.rc == 1, "%s: exit %d, expected 1 (refused); stderr: %s", b->name, r.rc, r.err);
  expect_error_line(&r, 1, b->msg);
  ck_assert_msg(strstr(r.err, path), "%s: the message does not name the file: %s", b->name, r.err);
  const emu_stats *s = emu_get_stats();
  ck_assert_msg(s->open_attempts == 0 && s->usb_writes == 0, "%s: the board was touched (%lu opens, "
                "%lu writes)", b->name, s->open_attempts, s->usb_writes);
  ck_assert(!memcmp(emu_flash(), preload, PRELOAD_BYTES));
  free(preload);
}
END_TEST

START_TEST(missing_file_and_directory_are_refused)
{
  power_on_with(NULL);
  cli r = run_flash("/nonexistent/x.bin", NULL);
  expect_error_line(&r, 1, "cannot open");
  r = run_flash("/tmp", NULL);
  expect_error_line(&r, 1, "is a directory");
  ck_assert_uint_eq(emu_get_stats()->open_attempts, 0);
}
END_TEST

START_TEST(usage_errors)
{
  power_on_with(NULL);
  cli r = run_flash(NULL);
  expect_error_line(&r, 2, "which bitstream");
  r = run_flash("--board", "sim", img_path, NULL);
  expect_error_line(&r, 2, "virtual board");
  r = run_flash("--board", "usb", img_path, NULL);
  expect_error_line(&r, 2, "unknown board 'usb'");
  r = run_flash(img_path, img_path, NULL);
  expect_error_line(&r, 2, "one bitstream at a time");
  r = run_flash("--verify", "--no-verify", img_path, NULL);
  expect_error_line(&r, 2, "contradict");
  r = run_flash("--fast", img_path, NULL);
  expect_error_line(&r, 2, "unknown or incomplete option '--fast'");
  r = run_flash("--help", NULL);
  ck_assert(r.rc == 0 && strstr(r.out, "usage: minflux flash"));
  ck_assert_uint_eq(emu_get_stats()->open_attempts, 0);
}
END_TEST

START_TEST(serial_selects_the_board)
{
  power_on_with(NULL);
  cli r = run_flash("--board", "ftdi:NOPE", "--sram", img_path, NULL);
  expect_error_line(&r, 3, "with serial NOPE");
  r = run_flash("--board", "ftdi:EMU0001", "--sram", img_path, NULL);
  ck_assert_msg(r.rc == 0 && emu_cdone(), "exit %d: %s", r.rc, r.err);
}
END_TEST

/* ------------------------------------------------------------------ the emulator -------- */

static mpsse *open_board(void)
{
  char err[256];
  mpsse *m = mpsse_open(NULL, ICE40_SCK_HZ, err, sizeof err);
  ck_assert_msg(m != NULL, "%s", err);
  mpsse_set_pins(m, MPSSE_CS, MPSSE_DIR_SPI);        /* iCE40 in reset, flash selectable */
  ck_assert(spiflash_wake(m) == 0);
  return m;
}

static void raw_program(mpsse *m, uint32_t addr, const uint8_t *p, size_t n)
{
  const uint8_t we = 0x06, hdr[4] = { 0x02, (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr };
  mpsse_cs(m, 0); mpsse_spi_write(m, &we, 1); mpsse_cs(m, 1);
  mpsse_cs(m, 0); mpsse_spi_write(m, hdr, 4); mpsse_spi_write(m, p, n); mpsse_cs(m, 1);
  mpsse_delay_us(m, 5000);
  ck_assert(mpsse_flush(m) == 0);
}

START_TEST(emu_page_program_ands_and_wraps)
{
  power_on_with(NULL);
  mpsse *m = open_board();
  uint8_t a[256], b[300];
  memset(a, 0xF0, sizeof a);
  raw_program(m, 0x100, a, 256);
  memset(a, 0x3C, sizeof a);
  raw_program(m, 0x100, a, 256);                     /* no erase between: bits only clear */
  ck_assert_uint_eq(emu_flash()[0x100], 0x30);
  ck_assert_uint_eq(emu_flash()[0x1FF], 0x30);
  ck_assert_uint_eq(emu_flash()[0x200], 0xFF);
  for (int i = 0; i < 16; i++) a[i] = (uint8_t)(0xA0 + i);
  raw_program(m, 0x2F8, a, 16);                      /* 8 bytes fit, 8 wrap to the page start */
  ck_assert_uint_eq(emu_flash()[0x2FF], 0xA7);
  ck_assert_uint_eq(emu_flash()[0x200], 0xA8);
  ck_assert_uint_eq(emu_flash()[0x207], 0xAF);
  ck_assert_uint_eq(emu_flash()[0x300], 0xFF);
  for (int i = 0; i < 300; i++) b[i] = i < 256 ? (uint8_t)i : (uint8_t)(0xC0 | (i - 256));
  raw_program(m, 0x400, b, 300);                     /* > 256 bytes: the last 256 stay */
  ck_assert_uint_eq(emu_flash()[0x400], 0xC0);
  ck_assert_uint_eq(emu_flash()[0x400 + 43], 0xC0 | 43);
  ck_assert_uint_eq(emu_flash()[0x400 + 44], 44);
  ck_assert_uint_eq(emu_flash()[0x4FF], 0xFF);
  uint8_t back[16];
  ck_assert(spiflash_read(m, 0x2F8, back, 16) == 0);
  ck_assert_uint_eq(back[0], 0xA0);
  ck_assert_uint_eq(back[8], 0xFF);                  /* 0x300 continues past the page */
  mpsse_close(m);
  expect_no_violations();
}
END_TEST

START_TEST(emu_erase_is_busy_for_its_typical_time)
{
  power_on_with(NULL);
  mpsse *m = open_board();
  uint8_t p[4] = { 0, 0, 0, 0 };
  raw_program(m, 0x10000, p, 4);
  ck_assert_uint_eq(emu_flash()[0x10000], 0);
  const uint8_t we = 0x06, er[4] = { 0xD8, 0x01, 0x00, 0x00 }, rd = 0x05;
  uint8_t sr_soon = 0, sr_later = 0;
  mpsse_cs(m, 0); mpsse_spi_write(m, &we, 1); mpsse_cs(m, 1);
  mpsse_cs(m, 0); mpsse_spi_write(m, er, 4); mpsse_cs(m, 1);
  mpsse_delay_us(m, 100000);                         /* 100 ms < 150 ms typical */
  mpsse_cs(m, 0); mpsse_spi_write(m, &rd, 1); mpsse_spi_read(m, &sr_soon, 1); mpsse_cs(m, 1);
  mpsse_delay_us(m, 60000);
  mpsse_cs(m, 0); mpsse_spi_write(m, &rd, 1); mpsse_spi_read(m, &sr_later, 1); mpsse_cs(m, 1);
  ck_assert(mpsse_flush(m) == 0);
  ck_assert_msg(sr_soon == 0x03, "status during the erase 0x%02X (BUSY|WEL expected)", sr_soon);
  ck_assert_msg(sr_later == 0x00, "status after the erase 0x%02X", sr_later);
  ck_assert_uint_eq(emu_flash()[0x10000], 0xFF);
  /* An erase with the wrong number of address bytes is not executed. */
  raw_program(m, 0x20000, p, 4);
  const uint8_t bad[5] = { 0xD8, 0x02, 0x00, 0x00, 0x00 };
  mpsse_cs(m, 0); mpsse_spi_write(m, &we, 1); mpsse_cs(m, 1);
  mpsse_cs(m, 0); mpsse_spi_write(m, bad, 5); mpsse_cs(m, 1);
  mpsse_delay_us(m, 200000);
  ck_assert(mpsse_flush(m) == 0);
  ck_assert_uint_eq(emu_flash()[0x20000], 0);
  mpsse_close(m);
}
END_TEST

START_TEST(emu_power_down_and_release)
{
  power_on_with(NULL);
  mpsse *m = open_board();
  uint32_t id = 0;
  uint8_t sr = 0;
  ck_assert(spiflash_power_down(m) == 0);
  ck_assert(spiflash_identify(m, &id, &sr) == 0);
  ck_assert_msg(id == 0xFFFFFF, "asleep, the flash answered JEDEC 0x%06X", id);
  ck_assert(spiflash_wake(m) == 0);
  ck_assert(spiflash_identify(m, &id, &sr) == 0);
  ck_assert_uint_eq(id, 0xEF4018);
  expect_no_violations();
  /* Without waiting tRES1 after the release the next instruction is lost. */
  const uint8_t pd = 0xB9, rel = 0xAB, jd = 0x9F;
  uint8_t got[3];
  mpsse_cs(m, 0); mpsse_spi_write(m, &pd, 1); mpsse_cs(m, 1);
  mpsse_cs(m, 0); mpsse_spi_write(m, &rel, 1); mpsse_cs(m, 1);
  mpsse_cs(m, 0); mpsse_spi_write(m, &jd, 1); mpsse_spi_read(m, got, 3); mpsse_cs(m, 1);
  ck_assert(mpsse_flush(m) == 0);
  ck_assert_uint_eq(got[0], 0xFF);
  ck_assert_msg(emu_get_stats()->violations == 1, "%lu violations", emu_get_stats()->violations);
  mpsse_close(m);
}
END_TEST

/* The SRAM sequence by hand, with the number of trailing clocks and the image as parameters. */
static int sram_by_hand(const uint8_t *p, size_t n, unsigned trailing, int housekeeping)
{
  mpsse *m = open_board();
  mpsse_set_pins(m, 0, MPSSE_DIR_SPI);
  mpsse_set_pins(m, MPSSE_CRESET, MPSSE_DIR_SPI);
  if (housekeeping) mpsse_delay_us(m, 1250);
  mpsse_cs(m, 1);
  mpsse_clocks(m, 8);
  mpsse_cs(m, 0);
  mpsse_spi_write(m, p, n);
  mpsse_cs(m, 1);
  mpsse_clocks(m, trailing);
  uint8_t pins = 0;
  mpsse_read_pins(m, &pins);
  ck_assert(mpsse_flush(m) == 0);
  mpsse_close(m);
  return (pins & MPSSE_CDONE) != 0;
}

START_TEST(emu_cdone_needs_valid_image_and_49_clocks)
{
  ice40_image_info info;
  char err[200];
  ck_assert(ice40_image_check(img, img_n, &info, err, sizeof err) == 0);
  const size_t n = info.wakeup_end;                  /* without the padding byte after wakeup */
  power_on_with(NULL);
  ck_assert_msg(!sram_by_hand(img, n, 48, 1), "CDONE after 48 trailing clocks");
  power_on_with(NULL);
  ck_assert_msg(sram_by_hand(img, n, 49, 1), "no CDONE after 49 clocks: %s", emu_get_stats()->ice40_why);
  power_on_with(NULL);
  ck_assert_msg(!sram_by_hand(img, n, 200, 0), "CDONE without the 1200 us housekeeping wait");
  uint8_t *t = malloc(img_n);
  memcpy(t, img, img_n);
  t[60000] ^= 0x01;
  power_on_with(NULL);
  ck_assert_msg(!sram_by_hand(t, n, 200, 1), "CDONE with a corrupted image");
  ck_assert_str_eq(emu_get_stats()->ice40_why, "CRC error");
  free(t);
}
END_TEST

START_TEST(emu_boots_from_flash_only_with_a_valid_image)
{
  emu_knobs k;
  emu_defaults(&k);
  emu_power_on(&k, img, img_n);
  emu_idle_ns(200e6);
  ck_assert_msg(emu_cdone(), "no boot from a flash holding the image: %s", emu_get_stats()->ice40_why);
  uint8_t *t = malloc(img_n);
  memcpy(t, img, img_n);
  t[img_n / 2] ^= 0x80;
  emu_power_on(&k, t, img_n);
  emu_idle_ns(200e6);
  ck_assert(!emu_cdone());
  free(t);
}
END_TEST

START_TEST(emu_flags_wrong_spi_mode)
{
  power_on_with(NULL);
  mpsse *m = open_board();
  mpsse_close(m);
  struct ftdi_context *c = ftdi_new();
  ck_assert(ftdi_set_interface(c, INTERFACE_A) == 0 && ftdi_usb_open_desc(c, 0x0403, 0x6010, NULL, NULL) == 0);
  ck_assert(ftdi_set_bitmode(c, 0, BITMODE_MPSSE) == 0);
  const uint8_t cmds[] = { 0x8A, 0x86, 0x04, 0x00, 0x80, 0x10, 0x93, 0x80, 0x00, 0x93,
                           0x10, 0x00, 0x00, 0x9F, 0x80, 0x10, 0x93 };   /* 0x10: +ve edge write */
  ck_assert(ftdi_write_data(c, cmds, sizeof cmds) == (int)sizeof cmds);
  ck_assert_msg(emu_get_stats()->violations >= 1, "a rising-edge write went unnoticed");
  ftdi_usb_close(c);
  ftdi_free(c);
}
END_TEST

START_TEST(image_check_accepts_the_real_bitstream)
{
  ice40_image_info info;
  char err[200];
  ck_assert_msg(ice40_image_check(img, img_n, &info, err, sizeof err) == 0, "%s", err);
  ck_assert_uint_eq(info.cram_blocks, 4);
  ck_assert_uint_eq(info.bram_blocks, 8);
  ck_assert_uint_le(info.wakeup_end, img_n);
  /* Its own trailing padding may go; the wakeup may not. */
  ck_assert(ice40_image_check(img, info.wakeup_end, NULL, err, sizeof err) == 0);
  ck_assert(ice40_image_check(img, info.wakeup_end - 1, NULL, err, sizeof err) != 0);
}
END_TEST

static Suite *flash_suite(void)
{
  Suite *s = suite_create("flash");
  TCase *tc = tcase_create("flash");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, image_check_accepts_the_real_bitstream);
  tcase_add_test(tc, flash_real_bitstream_reads_back_identical);
  tcase_add_test(tc, flash_without_verify_reads_nothing_back);
  tcase_add_test(tc, sram_load_ends_with_cdone_high_and_flash_untouched);
  tcase_add_test(tc, sram_with_verify_flag_is_accepted);
  list_failure_cases();
  tcase_add_loop_test(tc, failure_gives_its_message_and_exit_3, 0, n_fail_cases);
  tcase_add_test(tc, verify_mismatch_names_first_bad_address);
  tcase_add_loop_test(tc, bad_file_is_refused_before_any_usb_traffic, 0, 2 * n_bad);
  tcase_add_test(tc, missing_file_and_directory_are_refused);
  tcase_add_test(tc, usage_errors);
  tcase_add_test(tc, serial_selects_the_board);
  tcase_add_test(tc, emu_page_program_ands_and_wraps);
  tcase_add_test(tc, emu_erase_is_busy_for_its_typical_time);
  tcase_add_test(tc, emu_power_down_and_release);
  tcase_add_test(tc, emu_cdone_needs_valid_image_and_49_clocks);
  tcase_add_test(tc, emu_boots_from_flash_only_with_a_valid_image);
  tcase_add_test(tc, emu_flags_wrong_spi_mode);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: test_flash build/icebreaker.bin\n");
    return 2;
  }
  img_path = argv[1];
  char err[300];
  ice40_image_info info;
  if (ice40_image_load(img_path, &img, &img_n, &info, err, sizeof err)) {
    fprintf(stderr, "test_flash: the real bitstream is refused: %s\n", err);
    return 1;
  }
  const char *s = getenv("FLASH_SEED");
  seed = s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)time(NULL);
  printf("test_flash: %s, %zu bytes; random flash preloads with seed %u (rerun: FLASH_SEED=%u)\n",
         img_path, img_n, seed, seed);
  make_bad_files();
  SRunner *sr = srunner_create(flash_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
