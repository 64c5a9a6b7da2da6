/* bayes_regs: physical parameters of Bayesian MINFLUX -> register values of the block
 * (hls-c/regmap_bayes.h), with a refusal naming the parameter and its allowed range; and
 * the block's outputs back in nm. */
#ifndef MINFLUX_BAYES_REGS_H
#define MINFLUX_BAYES_REGS_H
#include <stdint.h>
#include "bayes.h"
#include "bayes_float.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double nm_per_lsb;     /* beam deflection per DAC LSB (EOD gain) */
  double s_nm;           /* radius of the doughnut maximum (seed 002 eq 1) */
  double b;              /* background relative to the doughnut maximum */
  double mu;             /* expected photons per exposure */
  double x0_nm, y0_nm;   /* prior centre */
  double sigma0_nm;      /* prior std */
  double h0_nm;          /* initial grid spacing (<= 0: sigma0 / 4, 32 points over +-4 sigma0) */
  double eta_per_code;   /* laser calibration: an emitter at g = 1 gives eta_per_code photons per
                          * exposure per laser code */
  double std_stop_nm;    /* stop at this std (<= 0: never) */
  uint32_t nmax;         /* photon budget (0: none) */
  uint32_t seed;         /* placement LFSR seed */
} bayes_phys_t;

/* Fills r (including the D table, interpolated from dt at sigma_t = h0 2^(t/8 - 12)).
 * Returns 0, or -1 with "NAME = value: must be ..." in err. */
int bayes_regs_from_phys(const bayes_phys_t *p, const bf_dtable_t *dt, bayes_regs_t *r, char *err, int errlen);

/* The laser calibration the KM register represents (KM / (e 2^22)); physics that wants
 * the model's likelihood to be exact uses it. */
double bayes_eta_per_code_of(const bayes_regs_t *r);
/* For simulations: bayes_regs_from_phys, then p->eta_per_code := the calibration KM
 * represents and the registers again, so that physics drawing counts with p->eta_per_code
 * has exactly the block's likelihood. Returns as bayes_regs_from_phys. */
int bayes_regs_from_phys_exact(bayes_phys_t *p, const bf_dtable_t *dt, bayes_regs_t *r, char *err, int errlen);

/* Block outputs in nm. */
void   bayes_map_nm(const bayes_phys_t *p, const bayes_regs_t *r, const bayes_out_t *o, double *x, double *y);
double bayes_std_nm(const bayes_phys_t *p, const bayes_regs_t *r, const bayes_out_t *o);

#ifdef __cplusplus
}
#endif
#endif
