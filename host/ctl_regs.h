/* ctl_regs: the tracking controller's acquisition keys (nm, us, gains, ratios) ->
 * register values of hls-c/regmap_ctl.h (0x50..0x59), the pre-localization offset table
 * entries 4..7 and EST_G; refusals name the key, its value and the allowed range.
 * docs/controller.md describes the controller and the key table. */
#ifndef MINFLUX_CTL_REGS_H
#define MINFLUX_CTL_REGS_H
#include <stddef.h>
#include <stdint.h>
#include "core_config.h"
#include "regmap.h"

typedef struct {
  int16_t  origin_x, origin_y;     /* CTL_ORIGIN: first pixel, DAC LSB */
  uint16_t step;                   /* CTL_RASTER[15:0]: pixel step, DAC LSB (1..32767) */
  uint8_t  n;                      /* CTL_RASTER[23:16]: rows (1..255) */
  uint16_t dwell_cycles;           /* CTL_SEARCH[15:0] */
  uint16_t search_thresh;          /* CTL_SEARCH[30:16] */
  uint16_t act_cycles;             /* CTL_ACT[15:0] */
  uint8_t  act_every;              /* CTL_ACT[23:16] */
  uint16_t pre_gate_cycles;        /* CTL_PRE[15:0] */
  uint16_t pre_thresh;             /* CTL_PRE[30:16] */
  uint16_t pre_gain, pre_clamp;    /* CTL_PRE_GAIN [14:0] (LSB/nm * 2^11), [30:16] (LSB) */
  uint16_t gain, clamp;            /* CTL_GAIN, same layout */
  uint8_t  ratio, window;          /* CTL_LOSS [7:0] (UQ0.8), [15:8] (records) */
  uint16_t dark;                   /* CTL_LOSS [31:16] (records) */
  int16_t  pre_off_x[4], pre_off_y[4];   /* offset table entries 4..7, DAC LSB */
  uint16_t est_G;                  /* EST_G: gauss_fwhm^2/(8 ln2 pre_L), nm UQ10.6 */
} ctl_regs_t;

struct acq_config;   /* host/acq_config.h, which includes this header */

/* round(v * scale) as a register field of lo..hi into out; else -1 and the refusal in err names
 * the key, its value, what it converts to (formula) and the key's range that fits. */
int ctl_field(const char *key, double v, double scale, const char *formula, long lo, long hi,
              long *out, char *err, size_t errlen);

/* The controller's registers for configuration c whose core registers (centre, safe
 * window, K, AGG) are core. 0, or -1 with one line in err. */
int ctl_to_regs(const struct acq_config *c, const core_config_t *core, ctl_regs_t *o, char *err, size_t errlen);

/* The register writes of a controller run, CTL_MODE excluded (it goes last), in write
 * order: CTL_ORIGIN..CTL_LOSS, offset entries 4..7 (OFFSET4..7), EST_G. */
#define CTL_NWRITES 13
typedef struct { uint8_t addr; uint32_t value; const char *name; } ctl_write_t;
void ctl_reg_writes(const ctl_regs_t *r, ctl_write_t w[CTL_NWRITES]);

#endif
