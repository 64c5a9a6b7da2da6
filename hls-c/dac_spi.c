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

int32_t dac_spi_clamp(int32_t v, int16_t lo, int16_t hi) { return fx_clamp(v, lo, hi); }

unsigned dac_spi_move_cycles(void) { return MINFLUX_DAC_FRAMES * (PH_LAST + 1); }

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
    return;
  }
  if (!o.busy) {
    if (in->req) {
      const int32_t xc = dac_spi_clamp(in->x, in->xmin, in->xmax);
      const int32_t yc = dac_spi_clamp(in->y, in->ymin, in->ymax);
      const uint32_t f = dac_spi_frame(0, 0, offset_binary((int16_t)xc));
      s->busy = 1;
      s->moved = 1;
      s->clamp_x = (uint8_t)(xc != in->x);
      s->clamp_y = (uint8_t)(yc != in->y);
      s->x_code = (int16_t)xc;
      s->y_code = (int16_t)yc;
      s->y_code_q = (int16_t)yc;
      s->amp = in->amp;
      s->ph = 0;
      s->fr = 0;
      s->sr = f & 0x7FFFFFu;
      s->sync_n = 0;
      s->sclk = 1;
      s->mosi = (uint8_t)((f >> 23) & 1u);
    }
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
