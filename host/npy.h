/* npy: a writer for NumPy .npy files (format version 1.0: magic "\x93NUMPY", version 1.0,
 * a little-endian uint16 header length, an ASCII dict header padded with spaces to a
 * multiple of 64 bytes and ended by '\n', then the raw rows) holding a 1-D array of a
 * packed structured dtype. Values are stored little-endian whatever the host. */
#ifndef MINFLUX_NPY_H
#define MINFLUX_NPY_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One field of the structured dtype: descr is a NumPy type string ("|b1" bool, "|u1",
 * "<u4", "<i4", "<f2", "<f4", "<f8"); count > 1 makes it a subarray of shape (count,). */
typedef struct {
  const char *name;
  const char *descr;
  int count;
} npy_field;

/* Bytes per element of a type string (the digits after the byte-order character);
 * 0 for a string this writer does not know. */
size_t npy_type_size(const char *descr);
/* Packed row size and the byte offset of each field (offsets may be NULL). */
size_t npy_row_size(const npy_field *f, int nf, size_t *offsets);
/* The header (magic, version, length, dict) for nrows rows: 0, or -1 with a message. */
int npy_write_header(FILE *fp, const npy_field *f, int nf, uint64_t nrows, char *err, size_t errlen);

/* Little-endian stores into a row buffer. */
void npy_put_u8(uint8_t *p, unsigned v);
void npy_put_u32(uint8_t *p, uint32_t v);
void npy_put_i32(uint8_t *p, int32_t v);
void npy_put_f32(uint8_t *p, float v);
void npy_put_f64(uint8_t *p, double v);
void npy_put_f16(uint8_t *p, float v);
/* IEEE 754 binary16 of v, rounded to nearest even (overflow gives infinity, NaN stays NaN). */
uint16_t npy_half(float v);

#endif
