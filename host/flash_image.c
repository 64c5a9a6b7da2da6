/* Validation of iCE40UP5K bitstreams: the whole command stream is walked, every data block
 * must lie inside the file, the CRC-16 must match and the wakeup command must come last, so a
 * truncated, corrupted or foreign file is refused before the board is opened. */
#include "flash_image.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYNC0 0x7E
#define SYNC1 0xAA
#define SYNC2 0x99
#define SYNC3 0x7E

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* CRC-16/CCITT (polynomial 0x1021, MSB first), the iCE40 configuration CRC. */
static uint16_t crc16_byte(uint16_t crc, uint8_t b)
{
  crc ^= (uint16_t)(b << 8);
  for (int i = 0; i < 8; i++)
    crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  return crc;
}

static uint16_t crc16_run(uint16_t crc, const uint8_t *p, size_t n)
{
  while (n--) crc = crc16_byte(crc, *p++);
  return crc;
}

static const char *other_device(unsigned cram_bits)
{
  switch (cram_bits) {
  case 332: return ": an iCE40 LP/HX1K image";
  case 872: return ": an iCE40 LP/HX4K/8K image";
  default:  return "";
  }
}

static long find_sync(const uint8_t *p, size_t n)
{
  const size_t lim = n < ICE40_SYNC_SEARCH ? n : ICE40_SYNC_SEARCH;
  for (size_t i = 0; i + 4 <= n && i < lim; i++)
    if (p[i] == SYNC0 && p[i + 1] == SYNC1 && p[i + 2] == SYNC2 && p[i + 3] == SYNC3) return (long)i;
  return -1;
}

static int looks_like_text(const uint8_t *p, size_t n)
{
  const size_t lim = n < 256 ? n : 256;
  for (size_t i = 0; i < lim; i++)
    if (p[i] < 0x80 && !isprint(p[i]) && !isspace(p[i])) return 0;   /* UTF-8 counts as text */
  return 1;
}

int ice40_image_check(const uint8_t *p, size_t n, ice40_image_info *info, char *err, size_t errlen)
{
  static const char range[] = "an iCE40UP5K bitstream has 102400..110592 bytes; icepack writes 104090";
  if (n == 0) return fail(err, errlen, "empty file: %s", range);

  const long s = find_sync(p, n);
  if (s < 0) {
    if (looks_like_text(p, n))
      return fail(err, errlen, "not an iCE40 bitstream: this is a text file (icepack's .asc?); "
                  "flash the binary .bin that icepack writes");
    return fail(err, errlen, "not an iCE40 bitstream: no sync word 7E AA 99 7E in the first %zu bytes "
                "(the file starts %02X %02X %02X %02X)", n < ICE40_SYNC_SEARCH ? n : (size_t)ICE40_SYNC_SEARCH,
                p[0], n > 1 ? p[1] : 0, n > 2 ? p[2] : 0, n > 3 ? p[3] : 0);
  }
  /* Before the sync word: nothing, 0xFF padding, or the FF 00 ... 00 FF comment header. */
  if (s > 0 && !(p[0] == 0xFF && (s == 1 || p[1] == 0x00 || p[1] == 0xFF)))
    return fail(err, errlen, "not an iCE40 bitstream: %ld bytes before the sync word at 0x%lX are "
                "neither padding nor an FF 00 comment header", s, s);

  size_t pos = (size_t)s + 4, last = pos;
  uint16_t crc = 0xFFFF;
  int crc_on = 0, checked = 0, data_unchecked = 0;
  unsigned width = 0, height = 0, bank = 0, cram_mask = 0, cram_blocks = 0, bram_blocks = 0;
  uint16_t crc_seen = 0;
  for (;;) {
    if (pos >= n)
      return fail(err, errlen, "truncated bitstream: the file ends after %zu bytes without the wakeup "
                  "command (last command at 0x%zX)", n, last);
    const size_t at = last = pos;
    const uint8_t c = p[pos++];
    const unsigned op = c >> 4, len = c & 15;
    if (len > 4)
      return fail(err, errlen, "corrupt bitstream: command byte 0x%02X at offset 0x%zX announces a "
                  "%u-byte argument (at most 4 exist)", c, at, len);
    if (pos + len > n)
      return fail(err, errlen, "truncated bitstream: the file ends inside the command at offset 0x%zX", at);
    uint32_t v = 0;
    for (unsigned k = 0; k < len; k++) v = v << 8 | p[pos + k];
    if (crc_on) crc = crc16_byte(crc, c);

    if (op == 2) {                                        /* CRC check */
      if (len != 2 || !crc_on)
        return fail(err, errlen, "corrupt bitstream: CRC check at offset 0x%zX %s", at,
                    len != 2 ? "without a 16-bit value" : "before any CRC reset");
      if (crc != v)
        return fail(err, errlen, "corrupt bitstream: CRC-16 mismatch at offset 0x%zX (the image says "
                    "0x%04X, its contents give 0x%04X)", at, v, crc);
      crc = crc16_run(crc, p + pos, len);
      crc_seen = (uint16_t)v;
      checked = 1;
      data_unchecked = 0;
      pos += len;
      continue;
    }
    if (crc_on) crc = crc16_run(crc, p + pos, len);
    pos += len;

    switch (op) {
    case 0:
      if (len == 0) break;                                /* 0x00: padding after data blocks */
      if (v == 1 || v == 3) {                             /* CRAM / BRAM data */
        const char *kind = v == 1 ? "CRAM" : "BRAM";
        if (!width || !height)
          return fail(err, errlen, "corrupt bitstream: %s data at offset 0x%zX before the bank width "
                      "and height are set", kind, at);
        if (v == 1 && width != ICE40_UP5K_CRAM_BITS)
          return fail(err, errlen, "bitstream for another iCE40: its CRAM banks are %u bits wide, the "
                      "UP5K's are %u%s", width, ICE40_UP5K_CRAM_BITS, other_device(width));
        if (v == 1 && bank >= ICE40_UP5K_CRAM_BANKS)
          return fail(err, errlen, "corrupt bitstream: CRAM data for bank %u at offset 0x%zX (the UP5K "
                      "has banks 0..3)", bank, at);
        const uint64_t bits = (uint64_t)width * height;
        if (bits % 8)
          return fail(err, errlen, "corrupt bitstream: %s block of %u x %u bits at offset 0x%zX is not "
                      "whole bytes", kind, width, height, at);
        const size_t bytes = (size_t)(bits / 8);
        if (bytes > n - pos)
          return fail(err, errlen, "truncated bitstream: the %s data of bank %u needs %zu bytes from "
                      "offset 0x%zX, the file ends %zu bytes short", kind, bank, bytes, pos,
                      bytes - (n - pos));
        if (crc_on) crc = crc16_run(crc, p + pos, bytes);
        pos += bytes;
        data_unchecked = 1;
        if (v == 1) cram_mask |= 1u << bank, cram_blocks++;
        else bram_blocks++;
      } else if (v == 5) {                                /* CRC reset */
        crc = 0xFFFF;
        crc_on = 1;
      } else if (v == 6) {                                /* wakeup */
        if (cram_mask != (1u << ICE40_UP5K_CRAM_BANKS) - 1)
          return fail(err, errlen, "incomplete bitstream: wakeup at offset 0x%zX, but only CRAM banks "
                      "mask 0x%X of 0xF were written", at, cram_mask);
        if (!checked || data_unchecked)
          return fail(err, errlen, "incomplete bitstream: no CRC check covers the data before the wakeup "
                      "at offset 0x%zX", at);
        goto woken;
      } else if (v == 8) {
        return fail(err, errlen, "multi-image (warm boot) bitstreams are not supported: reboot command "
                    "at offset 0x%zX; flash a single image", at);
      } else {
        return fail(err, errlen, "corrupt bitstream: unknown command 0x%02X with argument %u at offset "
                    "0x%zX", c, v, at);
      }
      break;
    case 1: bank = v; break;
    case 6: width = v + 1; break;
    case 7: height = v; break;
    case 4: case 5: case 8: case 9: break;                /* boot address, oscillator, offset, boot mode */
    default:
      return fail(err, errlen, "corrupt bitstream: unknown command 0x%02X at offset 0x%zX", c, at);
    }
  }

woken:
  for (size_t i = pos; i < n; i++)
    if (p[i] != 0x00 && p[i] != 0xFF)
      return fail(err, errlen, "unexpected data after the wakeup command: byte 0x%02X at offset 0x%zX "
                  "(two files joined?)", p[i], i);
  if (n < ICE40_UP5K_MIN_BYTES || n > ICE40_UP5K_MAX_BYTES)
    return fail(err, errlen, "%zu bytes: %s", n, range);
  if (info) {
    info->size = n;
    info->sync_at = (size_t)s;
    info->wakeup_end = pos;
    info->cram_blocks = cram_blocks;
    info->bram_blocks = bram_blocks;
    info->crc = crc_seen;
  }
  return 0;
}

int ice40_image_load(const char *path, uint8_t **buf, size_t *n, ice40_image_info *info,
                     char *err, size_t errlen)
{
  char why[200];
  *buf = NULL;
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    return fail(err, errlen, "%s: is a directory, not a bitstream file", path);
  }
  uint8_t *p = malloc(ICE40_UP5K_MAX_BYTES + 1);
  if (!p) {
    fclose(f);
    return fail(err, errlen, "%s: out of memory", path);
  }
  /* One byte more than the largest accepted size tells "too big" without reading it all. */
  const size_t got = fread(p, 1, ICE40_UP5K_MAX_BYTES + 1, f);
  const int rerr = ferror(f);
  fclose(f);
  if (rerr) {
    free(p);
    return fail(err, errlen, "%s: read error", path);
  }
  if (got > ICE40_UP5K_MAX_BYTES) {
    free(p);
    if (S_ISREG(st.st_mode))
      return fail(err, errlen, "%s: %lld bytes is too large: an iCE40UP5K bitstream has 102400..110592 "
                  "bytes", path, (long long)st.st_size);
    return fail(err, errlen, "%s: more than 110592 bytes: too large for an iCE40UP5K bitstream", path);
  }
  if (ice40_image_check(p, got, info, why, sizeof why)) {
    free(p);
    return fail(err, errlen, "%s: %s", path, why);
  }
  *buf = p;
  *n = got;
  return 0;
}
