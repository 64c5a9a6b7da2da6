/* dac_spi: C model of hdl/dac_spi.v. SCLK = clk/2: per bit one cycle SCLK high with
 * the new data, one cycle SCLK low (the DAC samples on the falling edge). */
#include <string.h>
#include "dac_spi.h"
#include "fixp.h"
#include "regmap.h"

#define PH_LAST (47 + MINFLUX_DAC_SYNC_GAP)

void dac_spi_init(dac_spi_t *s)
{
  memset(s, 0, sizeof *s);
}

uint32_t dac_spi_frame(unsigned ld, unsigned sel, uint16_t data)
{
  return ((ld & 3u) << 20) | ((sel & 3u) << 17) | data;
}

unsigned dac_spi_move_cycles(void) { return 2 + MINFLUX_DAC_FRAMES * (PH_LAST + 1); }

static uint16_t offset_binary(int16_t v) { return (uint16_t)((uint16_t)v ^ 0x8000u); }

void dac_spi_step(dac_spi_t *s, int rst, const dac_spi_in_t *in)
{
  const dac_spi_t o = *s;
  s->moved = 0;
  if (rst) {
    s->busy = 0;
    s->sync_n = 1;
    s->sclk = 0;
    s->mosi = 0;
    s->clamp_x = s->clamp_y = 0;
    s->pre = 0;
    return;
  }
  if (!o.busy) {
    if (in->req) {
      s->busy = 1;
      s->pre = 2;
      s->x_raw = in->x;
      s->y_raw = in->y;
      s->amp = in->amp;
    }
  } else if (o.pre == 2 || (o.pre == 1 && in->win_wr)) {
    s->pre = (uint8_t)(in->win_wr ? 2 : 1);
    s->x_lt = (uint8_t)(o.x_raw < in->xmin);
    s->x_gt = (uint8_t)(o.x_raw > in->xmax);
    s->y_lt = (uint8_t)(o.y_raw < in->ymin);
    s->y_gt = (uint8_t)(o.y_raw > in->ymax);
  } else if (o.pre == 1) {
    const int16_t xc = o.x_lt ? in->xmin : (o.x_gt ? in->xmax : (int16_t)o.x_raw);
    const int16_t yc = o.y_lt ? in->ymin : (o.y_gt ? in->ymax : (int16_t)o.y_raw);
    const uint32_t f = dac_spi_frame(0, 0, offset_binary(xc));
    s->pre = 0;
    s->moved = 1;
    s->clamp_x = (uint8_t)(o.x_lt | o.x_gt);
    s->clamp_y = (uint8_t)(o.y_lt | o.y_gt);
    s->x_code = xc;
    s->y_code = yc;
    s->y_code_q = yc;
    s->ph = 0;
    s->fr = 0;
    s->sr = f & 0x7FFFFFu;
    s->sync_n = 0;
    s->sclk = 1;
    s->mosi = (uint8_t)((f >> 23) & 1u);
  } else if (o.ph == PH_LAST) {
    if (o.fr == 2) {
      s->busy = 0;
    } else {
      const uint32_t f = (o.fr == 0) ? dac_spi_frame(0, 1, offset_binary(o.y_code_q))
                                     : dac_spi_frame(2, 2, o.amp);
      s->fr = (uint8_t)(o.fr + 1);
      s->ph = 0;
      s->sync_n = 0;
      s->sclk = 1;
      s->sr = f & 0x7FFFFFu;
      s->mosi = (uint8_t)((f >> 23) & 1u);
    }
  } else {
    const unsigned ph_next = o.ph + 1u;
    s->ph = (uint8_t)ph_next;
    if (ph_next < 48) {
      s->sclk = (uint8_t)(!(ph_next & 1u));
      if (!(ph_next & 1u)) {
        s->sr = (o.sr << 1) & 0x7FFFFFu;
        s->mosi = (uint8_t)((o.sr >> 22) & 1u);
      }
    } else {
      s->sync_n = 1;
      s->sclk = 0;
      s->mosi = 0;
    }
  }
}
