/* apd_capture: C model of hdl/apd_capture.v. The Gray code is modelled by its binary
 * value: the conversion is a bijection and the RTL differences binary values. */
#include <string.h>
#include "apd_capture.h"
#include "fixp.h"
#include "regmap.h"

void apd_capture_init(apd_capture_t *s) { memset(s, 0, sizeof *s); }

void apd_capture_step(apd_capture_t *s, int rst, unsigned edges)
{
  const apd_capture_t o = *s;
  s->cum  = (uint8_t)fx_mask(o.cum + edges, MINFLUX_APD_GRAY_W);
  s->s1   = s->cum;
  s->s2   = o.s1;
  s->prev = o.s2;
  s->cnt  = rst ? 0 : (uint8_t)fx_mask((uint32_t)o.s2 - o.prev, MINFLUX_APD_GRAY_W);
}
