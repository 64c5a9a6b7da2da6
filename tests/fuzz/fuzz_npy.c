/* Fuzz target: the .npy writer of `minflux analyze` (host/npy.c) round trip. The input
 * chooses a structured dtype (field names, types, subarray counts), a row count and the
 * values; the file written by npy_write_header + rows built with npy_put_* is read back by
 * an independent parser of the NumPy format 1.0 here. Properties beyond "no crash, no
 * sanitizer report":
 *  - magic, version, little-endian header length, header padded with spaces to a multiple
 *    of 64 bytes and ended by '\n', file size = header + rows x row size;
 *  - the header dict lists exactly the fields (name, type, count) in order, fortran_order
 *    False and the shape (rows,);
 *  - every value reads back: integers and f4/f8 bit for bit, f2 as the correctly rounded
 *    (nearest, ties to even) half-precision value of the float, NaN as NaN, overflow as inf;
 *  - a refusal (too many fields for the header) comes with a message. */
#include <math.h>
#include <string.h>
#include "fuzz_util.h"
#include "npy.h"

static const char *kTypes[] = { "|b1", "|u1", "<u4", "<i4", "<f2", "<f4", "<f8" };
#define NT (sizeof kTypes / sizeof kTypes[0])
#define MAXF 64

typedef struct { const uint8_t *p; size_t n; } src;
static unsigned take(src *s)
{
  if (!s->n) return 0;
  s->n--;
  return *s->p++;
}
static uint64_t take_n(src *s, int bytes)
{
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)take(s) << (8 * i);
  return v;
}

static double half_value(uint16_t h)
{
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
  return (h & 0x8000) ? -v : v;
}

static void check_half(float v, uint16_t h)
{
  if (isnan(v)) { FZ_CHECK(isnan(half_value(h)), "NaN %a gave half 0x%04X", (double)v, h); return; }
  FZ_CHECK(!isnan(half_value(h)), "%a gave a NaN half 0x%04X", (double)v, h);
  FZ_CHECK(!!(h & 0x8000) == !!signbit(v), "%a gave half 0x%04X of the other sign", (double)v, h);
  const double a = fabs((double)v);
  const uint16_t m = h & 0x7FFF;
  if (a >= 65520.0) { FZ_CHECK(m == 0x7C00, "%a gave 0x%04X, not inf", (double)v, h); return; }
  FZ_CHECK(m < 0x7C00, "%a gave inf/NaN 0x%04X", (double)v, h);
  const double d = fabs(a - half_value(m));
  if (m > 0) FZ_CHECK(d <= fabs(a - half_value((uint16_t)(m - 1))), "%a: 0x%04X is not the nearest half", (double)v, h);
  if (m < 0x7BFF) FZ_CHECK(d <= fabs(a - half_value((uint16_t)(m + 1))), "%a: 0x%04X is not the nearest half", (double)v, h);
  if ((m > 0 && d == fabs(a - half_value((uint16_t)(m - 1)))) || (m < 0x7BFF && d == fabs(a - half_value((uint16_t)(m + 1)))))
    FZ_CHECK(!(m & 1), "%a: tie not rounded to even (0x%04X)", (double)v, h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  src s = { data, size };
  const int nf = 1 + (int)(take(&s) % MAXF);
  static char names[MAXF][72];
  npy_field f[MAXF];
  for (int i = 0; i < nf; i++) {
    const unsigned t = take(&s), len = take(&s) % 64;
    int k = snprintf(names[i], sizeof names[i], "f%d", i);   /* unique, then letters */
    for (unsigned j = 0; j < len; j++) names[i][k++] = (char)('a' + take(&s) % 26);
    names[i][k] = 0;
    f[i].name = names[i];
    f[i].descr = kTypes[t % NT];
    f[i].count = 1 + (int)((t / NT) % 4);
  }
  const uint64_t nrows = take(&s) % 6;
  size_t off[MAXF];
  const size_t rs = npy_row_size(f, nf, off);

  char *buf = NULL;
  size_t blen = 0;
  FILE *m = open_memstream(&buf, &blen);
  FZ_CHECK(m, "open_memstream");
  char err[256] = "";
  const int bad = npy_write_header(m, f, nf, nrows, err, sizeof err);
  /* rows, remembering the values for the check */
  static uint8_t rows[6][MAXF * 4 * 8];
  static float fv[6][MAXF][4];
  static double dv[6][MAXF][4];
  static uint32_t uv[6][MAXF][4];
  if (!bad) {
    for (uint64_t r = 0; r < nrows; r++) {
      memset(rows[r], 0, rs);
      for (int i = 0; i < nf; i++)
        for (int c = 0; c < f[i].count; c++) {
          const size_t sz = npy_type_size(f[i].descr);
          uint8_t *p = rows[r] + off[i] + (size_t)c * sz;
          const char ty = f[i].descr[1];
          if (sz == 1) { uv[r][i][c] = take(&s) & (ty == 'b' ? 1u : 0xFFu); npy_put_u8(p, uv[r][i][c]); }
          else if (ty == 'u') { uv[r][i][c] = (uint32_t)take_n(&s, 4); npy_put_u32(p, uv[r][i][c]); }
          else if (ty == 'i') { uv[r][i][c] = (uint32_t)take_n(&s, 4); npy_put_i32(p, (int32_t)uv[r][i][c]); }
          else if (sz == 8) { uint64_t u = take_n(&s, 8); memcpy(&dv[r][i][c], &u, 8); npy_put_f64(p, dv[r][i][c]); }
          else { uint32_t u = (uint32_t)take_n(&s, 4); memcpy(&fv[r][i][c], &u, 4);
                 if (sz == 2) npy_put_f16(p, fv[r][i][c]); else npy_put_f32(p, fv[r][i][c]); }
        }
      fwrite(rows[r], 1, rs, m);
    }
  }
  fclose(m);
  if (bad) {
    FZ_CHECK(err[0], "npy_write_header refused without a message");
    free(buf);
    return 0;
  }

  /* read it back */
  FZ_CHECK(blen >= 10 && !memcmp(buf, "\x93NUMPY\x01\x00", 8), "bad magic/version");
  const size_t hlen = (uint8_t)buf[8] | (size_t)(uint8_t)buf[9] << 8;
  FZ_CHECK((10 + hlen) % 64 == 0, "header of %zu bytes: not a multiple of 64", 10 + hlen);
  FZ_CHECK(blen == 10 + hlen + nrows * rs, "file of %zu bytes, expected %zu", blen, 10 + hlen + (size_t)(nrows * rs));
  const char *h = buf + 10;
  FZ_CHECK(h[hlen - 1] == '\n', "header does not end with a newline");
  size_t e = hlen - 1;
  while (e > 0 && h[e - 1] == ' ') e--;
  FZ_CHECK(e > 0 && h[e - 1] == '}', "header dict not padded with spaces");
  char want[8192];
  size_t n = (size_t)snprintf(want, sizeof want, "{'descr': [");
  for (int i = 0; i < nf; i++) {
    if (f[i].count > 1) n += (size_t)snprintf(want + n, sizeof want - n, "%s('%s', '%s', (%d,))", i ? ", " : "", f[i].name, f[i].descr, f[i].count);
    else n += (size_t)snprintf(want + n, sizeof want - n, "%s('%s', '%s')", i ? ", " : "", f[i].name, f[i].descr);
  }
  n += (size_t)snprintf(want + n, sizeof want - n, "], 'fortran_order': False, 'shape': (%llu,), }", (unsigned long long)nrows);
  FZ_CHECK(e == n && !memcmp(h, want, n), "header dict '%.*s' is not '%s'", (int)e, h, want);
  const uint8_t *d = (const uint8_t *)buf + 10 + hlen;
  for (uint64_t r = 0; r < nrows; r++)
    for (int i = 0; i < nf; i++)
      for (int c = 0; c < f[i].count; c++) {
        const size_t sz = npy_type_size(f[i].descr);
        const uint8_t *p = d + r * rs + off[i] + (size_t)c * sz;
        uint64_t u = 0;
        for (size_t b = 0; b < sz; b++) u |= (uint64_t)p[b] << (8 * b);
        const char ty = f[i].descr[1];
        if (ty == 'b' || ty == 'u' || ty == 'i') FZ_CHECK(u == uv[r][i][c], "row %llu field %d: %llu read back, %u written", (unsigned long long)r, i, (unsigned long long)u, uv[r][i][c]);
        else if (sz == 8) { uint64_t w; memcpy(&w, &dv[r][i][c], 8); FZ_CHECK(u == w, "f8 not bit exact"); }
        else if (sz == 4) { uint32_t w; memcpy(&w, &fv[r][i][c], 4); FZ_CHECK(u == w, "f4 not bit exact"); }
        else check_half(fv[r][i][c], (uint16_t)u);
      }
  free(buf);
  return 0;
}
