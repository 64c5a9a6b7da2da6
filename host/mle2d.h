/* mle2d: 2D maximum-likelihood position of a MINFLUX count set by successive grid search
 * (seed 003 S37 and section 6.3.3): maximize l(r) = sum_i n_i ln p_i(r) over a 5 nm grid
 * spanning a disc of 240 nm diameter around the pattern centre, then over 1 nm, 0.1 nm and
 * 0.01 nm grids, each spanning +-1 step of the previous grid around its best point.
 * p_i(r) is the p-vector of S28-S30 (doughnut S17, background from the SBR at the centre)
 * for any excitation pattern (mf_ebp_t), so the hexagon of imaging works too. */
#ifndef MINFLUX_MLE2D_H
#define MINFLUX_MLE2D_H
#include "est_float.h"

typedef struct {
  mf_ebp_t ebp;
  double sbr;              /* SBR at the centre; <= 0 or infinite: no background */
  double radius_nm;        /* first grid: |r| <= radius (120 nm) */
  double step_nm[4];       /* 5, 1, 0.1, 0.01 */
  int    nstage;
  int    n0;               /* points of the first grid */
  double *gx, *gy, *lnp;   /* first grid and ln p_i there ([point * K + i]) */
} mle2d_ctx;

/* 0, or -1 with a message (bad pattern, out of memory). */
int  mle2d_init(mle2d_ctx *m, const mf_ebp_t *ebp, double sbr, double diameter_nm, char *err, size_t errlen);
void mle2d_free(mle2d_ctx *m);
/* The MLE of counts n[0..K-1] relative to the pattern centre. Returns 1, 0 when the
 * maximum lies on the edge of the first grid (the emitter is probably outside it), -1
 * when all counts are 0 (x = y = 0). loglik (may be NULL) receives l at the maximum. */
int  mle2d_eval(const mle2d_ctx *m, const double *n, double *x, double *y, double *loglik);

#endif
