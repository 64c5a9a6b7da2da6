/* Check tests of the protocol library (host/protocol.c): CRC, frames, CYCLE records and
 * the streaming decoder's resynchronization; also the raw-file header reader. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mfx_files.h"
#include "protocol.h"

typedef struct { mfx_frame f[64]; int n; } sink;
static void collect(void *ctx, const mfx_frame *f) { sink *s = ctx; if (s->n < 64) s->f[s->n] = *f; s->n++; }

static mfx_cycle sample_cycle(int k, unsigned salt)
{
  mfx_cycle c;
  memset(&c, 0, sizeof c);
  c.seq = (uint16_t)(0xFFFE + salt);
  c.ts = 0xDEADBEEFu + salt;
  c.cx = -1234; c.cy = 32767; c.ex = -32768; c.ey = 17;
  c.flags = 0x53;
  c.k = (uint8_t)k;
  for (int e = 0; e < k; e++) { c.counts[e][0] = (uint16_t)((e * 517 + salt) & 0xFFF); c.counts[e][1] = (uint16_t)(4095 - e); }
  return c;
}

START_TEST(crc_check_value)
{
  /* CRC-16/CCITT-FALSE check value of "123456789" */
  ck_assert_uint_eq(mfx_crc16(0xFFFF, (const uint8_t *)"123456789", 9), 0x29B1);
}
END_TEST

START_TEST(cycle_round_trip_every_k)
{
  for (int k = 1; k <= 8; k++) {
    mfx_cycle a = sample_cycle(k, (unsigned)k), b;
    uint8_t pl[64], fr[MFX_FRAME_MAX];
    size_t len = mfx_cycle_encode(&a, pl);
    ck_assert_uint_eq(len, 15 + 3 * k);
    size_t n = mfx_frame_encode(fr, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)len);
    ck_assert_uint_eq(n, len + 5);
    sink s = { .n = 0 };
    mfx_decoder d;
    mfx_dec_init(&d);
    mfx_dec_feed(&d, fr, n, collect, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(mfx_cycle_parse(&s.f[0], &b), 0);
    ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
  }
}
END_TEST

START_TEST(bad_lengths_are_not_records)
{
  mfx_frame f = { .type = MINFLUX_PROTO_T_CYCLE, .len = 16 };
  mfx_cycle c;
  ck_assert_int_eq(mfx_cycle_parse(&f, &c), -1);
  f.len = 15 + 3 * 9;
  ck_assert_int_eq(mfx_cycle_parse(&f, &c), -1);
  ck_assert(!mfx_frame_plausible(MINFLUX_PROTO_T_PING, 1));
  ck_assert(!mfx_frame_plausible(0x42, 0));
  ck_assert(mfx_frame_plausible(MINFLUX_PROTO_T_WRITE, 5));
}
END_TEST

/* A stream of known frames with garbage between them and split at every byte boundary
 * decodes to exactly those frames, in order. */
START_TEST(resync_on_garbage_and_any_split)
{
  uint8_t stream[4096];
  size_t n = 0;
  const uint8_t garbage[] = { 0xA5, 0xA5, 0x10, 0xFF, 0x00, 0xA5, 0x83, 0x01, 0x12, 0x34, 0x56, 0xA5 };
  int want = 0;
  for (int i = 0; i < 8; i++) {
    memcpy(stream + n, garbage, sizeof garbage - (size_t)i);
    n += sizeof garbage - (size_t)i;
    mfx_cycle c = sample_cycle(1 + i, (unsigned)i);
    uint8_t pl[64];
    size_t len = mfx_cycle_encode(&c, pl);
    n += mfx_frame_encode(stream + n, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)len);
    want++;
  }
  for (size_t split = 1; split < n; split += 7) {
    sink s = { .n = 0 };
    mfx_decoder d;
    mfx_dec_init(&d);
    mfx_dec_feed(&d, stream, split, collect, &s);
    mfx_dec_feed(&d, stream + split, n - split, collect, &s);
    ck_assert_int_eq(s.n, want);
    for (int i = 0; i < want; i++) {
      mfx_cycle c, e = sample_cycle(1 + i, (unsigned)i);
      ck_assert_int_eq(mfx_cycle_parse(&s.f[i], &c), 0);
      ck_assert_int_eq(memcmp(&c, &e, sizeof c), 0);
    }
    ck_assert_uint_gt(d.skipped_bytes, 0);
  }
}
END_TEST

/* Corrupting one byte of a frame loses that frame (counted as a CRC error or skipped
 * bytes) and nothing after it. */
START_TEST(corruption_loses_only_the_hit_frame)
{
  uint8_t stream[2048];
  size_t n = 0, starts[20];
  for (int i = 0; i < 20; i++) {
    mfx_cycle c = sample_cycle(4, (unsigned)i);
    uint8_t pl[64];
    size_t len = mfx_cycle_encode(&c, pl);
    starts[i] = n;
    n += mfx_frame_encode(stream + n, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)len);
  }
  for (size_t pos = starts[5]; pos < starts[6]; pos++) {
    uint8_t copy[2048];
    memcpy(copy, stream, n);
    copy[pos] ^= 0x5A;
    sink s = { .n = 0 };
    mfx_decoder d;
    mfx_dec_init(&d);
    mfx_dec_feed(&d, copy, n, collect, &s);
    ck_assert_int_eq(s.n, 19);
    ck_assert_uint_gt(d.crc_errors + d.skipped_bytes, 0);
  }
}
END_TEST

/* Random bytes: the decoder never emits a frame whose CRC is wrong and never faults
 * (run under ASan/UBSan to catch out-of-bounds access). */
START_TEST(random_bytes_are_harmless)
{
  srand(12345);
  mfx_decoder d;
  mfx_dec_init(&d);
  sink s = { .n = 0 };
  for (int round = 0; round < 2000; round++) {
    uint8_t buf[300];
    size_t n = (size_t)(rand() % (int)sizeof buf);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(rand() % 5 == 0 ? 0xA5 : rand());
    mfx_dec_feed(&d, buf, n, collect, &s);
    ck_assert_uint_le(d.n, sizeof d.buf);
  }
  for (int i = 0; i < s.n && i < 64; i++) ck_assert(mfx_frame_plausible(s.f[i].type, s.f[i].len));
}
END_TEST

START_TEST(raw_header_is_checked)
{
  char path[] = "/tmp/mfx_rawXXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  fputs("not a raw file\n", f);
  fclose(f);
  char err[512], *hdr = NULL;
  ck_assert_ptr_null(mfx_raw_open(path, &hdr, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "not a minflux raw file"));
  f = mfx_raw_create(path, "{\"firmware\":{\"clk_hz\":48000000},\"config\":{\"eod_nm_per_lsb\":\"0.25\"}}", err, sizeof err);
  ck_assert_ptr_nonnull(f);
  fclose(f);
  f = mfx_raw_open(path, &hdr, err, sizeof err);
  ck_assert_ptr_nonnull(f);
  mfx_decode_params p;
  ck_assert_int_eq(mfx_raw_params(hdr, &p, err, sizeof err), 0);
  ck_assert(p.clk_hz == 48e6 && p.eod_nm_per_lsb == 0.25);
  ck_assert_int_eq(mfx_raw_params("{\"firmware\":{}}", &p, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "clk_hz"));
  free(hdr);
  fclose(f);
  remove(path);
}
END_TEST

static Suite *protocol_suite(void)
{
  Suite *s = suite_create("protocol");
  TCase *tc = tcase_create("frames");
  tcase_add_test(tc, crc_check_value);
  tcase_add_test(tc, cycle_round_trip_every_k);
  tcase_add_test(tc, bad_lengths_are_not_records);
  tcase_add_test(tc, resync_on_garbage_and_any_split);
  tcase_add_test(tc, corruption_loses_only_the_hit_frame);
  tcase_add_test(tc, random_bytes_are_harmless);
  tcase_add_test(tc, raw_header_is_checked);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(protocol_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
