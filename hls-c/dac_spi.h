/* dac_spi: C model of hdl/dac_spi.v. */
#ifndef MINFLUX_DAC_SPI_H
#define MINFLUX_DAC_SPI_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int      req;
  int32_t  x, y;            /* signed 17-bit */
  uint16_t amp;
  int16_t  xmin, xmax, ymin, ymax;
  int      win_wr;          /* a window register is written in this cycle */
} dac_spi_in_t;

typedef struct {
  int32_t  x_raw, y_raw;
  uint8_t  x_lt, x_gt, y_lt, y_gt, pre;
  uint8_t  ph, fr;
  uint32_t sr;              /* 23 bits */
  int16_t  y_code_q;
  uint16_t amp;
  /* outputs */
  uint8_t  busy, moved, clamp_x, clamp_y;
  int16_t  x_code, y_code;
  uint8_t  sclk, mosi, sync_n;
} dac_spi_t;

void dac_spi_init(dac_spi_t *s);
void dac_spi_step(dac_spi_t *s, int rst, const dac_spi_in_t *in);
/* The 24-bit DAC8564 frame: A1 A0 LD1 LD0 x SEL1 SEL0 PD0, then 16 data bits. */
uint32_t dac_spi_frame(unsigned ld, unsigned sel, uint16_t data);
/* Clock cycles per beam move the DAC is busy for (all frames and SYNC gaps). */
unsigned dac_spi_move_cycles(void);

#ifdef __cplusplus
}
#endif
#endif
