/* npy: see npy.h. Format reference: the NumPy ".npy" format description (version 1.0). */
#include <stdlib.h>
#include <string.h>
#include "npy.h"

size_t npy_type_size(const char *d)
{
  if (!d || (d[0] != '<' && d[0] != '|') || !strchr("buif", d[1])) return 0;
  const long n = strtol(d + 2, NULL, 10);
  return n == 1 || n == 2 || n == 4 || n == 8 ? (size_t)n : 0;
}

size_t npy_row_size(const npy_field *f, int nf, size_t *offsets)
{
  size_t s = 0;
  for (int i = 0; i < nf; i++) {
    if (offsets) offsets[i] = s;
    s += npy_type_size(f[i].descr) * (size_t)(f[i].count > 1 ? f[i].count : 1);
  }
  return s;
}

int npy_write_header(FILE *fp, const npy_field *f, int nf, uint64_t nrows, char *err, size_t errlen)
{
  char dict[4096];
  size_t n = (size_t)snprintf(dict, sizeof dict, "{'descr': [");
  for (int i = 0; i < nf; i++) {
    if (!npy_type_size(f[i].descr)) {
      snprintf(err, errlen, "npy: field %s has an unknown type '%s'", f[i].name, f[i].descr);
      return -1;
    }
    if (f[i].count > 1)
      n += (size_t)snprintf(dict + n, sizeof dict - n, "%s('%s', '%s', (%d,))", i ? ", " : "", f[i].name, f[i].descr, f[i].count);
    else
      n += (size_t)snprintf(dict + n, sizeof dict - n, "%s('%s', '%s')", i ? ", " : "", f[i].name, f[i].descr);
    if (n >= sizeof dict - 128) { snprintf(err, errlen, "npy: too many fields"); return -1; }
  }
  n += (size_t)snprintf(dict + n, sizeof dict - n, "], 'fortran_order': False, 'shape': (%llu,), }",
                        (unsigned long long)nrows);
  /* magic (6) + version (2) + length (2) + dict + padding + '\n' = a multiple of 64 */
  size_t total = 10 + n + 1;
  const size_t pad = (64 - total % 64) % 64;
  total += pad;
  const size_t hlen = total - 10;
  if (hlen > 65535) { snprintf(err, errlen, "npy: header of %zu bytes does not fit format 1.0", hlen); return -1; }
  static const unsigned char magic[8] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0 };
  const unsigned char len[2] = { (unsigned char)(hlen & 0xFF), (unsigned char)(hlen >> 8) };
  fwrite(magic, 1, 8, fp);
  fwrite(len, 1, 2, fp);
  fwrite(dict, 1, n, fp);
  for (size_t i = 0; i < pad; i++) fputc(' ', fp);
  fputc('\n', fp);
  if (ferror(fp)) { snprintf(err, errlen, "npy: writing the header failed"); return -1; }
  return 0;
}

void npy_put_u8(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; }

void npy_put_u32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void npy_put_i32(uint8_t *p, int32_t v) { npy_put_u32(p, (uint32_t)v); }

void npy_put_f32(uint8_t *p, float v)
{
  uint32_t u;
  memcpy(&u, &v, 4);
  npy_put_u32(p, u);
}

void npy_put_f64(uint8_t *p, double v)
{
  uint64_t u;
  memcpy(&u, &v, 8);
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(u >> (8 * i));
}

uint16_t npy_half(float v)
{
  uint32_t u;
  memcpy(&u, &v, 4);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const int exp = (int)((u >> 23) & 0xFF);
  uint32_t man = u & 0x7FFFFFu;
  if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0));   /* inf, NaN */
  int e = exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7C00u);                            /* overflow */
  if (e <= 0) {                                                              /* subnormal or 0 */
    if (e < -10) return sign;
    man |= 0x800000u;                    /* implicit one */
    const int shift = 14 - e;            /* 24-bit mantissa down to the subnormal LSB */
    uint32_t h = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = (uint32_t)e << 10 | man >> 13;
  const uint32_t rem = man & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;   /* may carry into the exponent: fine */
  return (uint16_t)(sign | h);
}

void npy_put_f16(uint8_t *p, float v)
{
  const uint16_t h = npy_half(v);
  p[0] = (uint8_t)(h & 0xFF);
  p[1] = (uint8_t)(h >> 8);
}
