/* Estimator registers and constants (issue #3); included by regmap.h.
 * Same X-macro shapes as MINFLUX_CONSTS / MINFLUX_REGS; addresses 0x40..0x5F. */
#ifndef MINFLUX_REGMAP_EST_H
#define MINFLUX_REGMAP_EST_H
#define MINFLUX_EST_CONSTS(X)
#define MINFLUX_EST_REGS(X)
#endif
