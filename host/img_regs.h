/* img_regs: the imaging-mode acquisition keys (stages, stage L and photon limits, 405 nm
 * activation from the low-passed search rate, abort rules) -> register values of
 * hls-c/regmap_ctl.h (CTL_MODE imaging bits, CTL_IACT, CTL_IACT_T, CTL_IABORT,
 * CTL_ISTG0..2); refusals name the key, its value, the register field and the allowed
 * range, as host/ctl_regs.c does. docs/imaging.md describes the keys and conversions. */
#ifndef MINFLUX_IMG_REGS_H
#define MINFLUX_IMG_REGS_H
#include <stddef.h>
#include <stdint.h>
#include "core_config.h"
#include "mlms.h"
#include "ctl_regs.h"

typedef struct {
  uint8_t  last;                   /* CTL_MODE[3:2]: last stage (stages - 1) */
  uint32_t mode;                   /* the CTL_MODE word: 1 | 2 | last << 2 */
  uint16_t act_thr;                /* CTL_IACT[15:0]: UQ12.4 counts per search record */
  uint8_t  act_shift;              /* CTL_IACT[19:16] */
  uint16_t act_on, act_off;        /* CTL_IACT_T [15:0], [31:16]: search records */
  uint16_t dark;                   /* CTL_IABORT[15:0] */
  uint8_t  bright;                 /* CTL_IABORT[23:16] */
  uint16_t limit[3];               /* CTL_ISTGs[13:0] photon limit */
  uint8_t  shift[3];               /* CTL_ISTGs[15:14] L shift */
  uint16_t F[3];                   /* CTL_ISTGs[31:16] EST_F of L_s (UQ3.13) */
  double   L_nm[3];                /* the stage diameters L_nm / 2^shift */
  uint32_t search_record_cycles;   /* 4 (DELAY + dwell) + WIN + 1: the rate conversion's record */
} img_regs_t;

struct acq_config;

/* The imaging registers of configuration c (mode = image) with core registers core, the
 * estimator registers est (its L is stage 0's before the shift) and the controller's ctl
 * (search dwell). 0, or -1 with one line in err. */
int img_to_regs(const struct acq_config *c, const core_config_t *core, const mlms_regs_t *est,
                const ctl_regs_t *ctl, img_regs_t *o, char *err, size_t errlen);

/* CTL_IACT, CTL_IACT_T, CTL_IABORT, CTL_ISTG0..2 in write order (CTL_MODE = o->mode goes
 * last, after the controller's writes). */
#define IMG_NWRITES 6
void img_reg_writes(const img_regs_t *r, ctl_write_t w[IMG_NWRITES]);

#endif
