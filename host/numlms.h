/* numlms: the numerically unbiased mLMS estimator of seed 003 section 3.2.3 (S52-S58)
 * for the 4-doughnut pattern (S24) with the doughnut of S17 and background (S30).
 *
 * One entry is built for a photon number N and an SBR at the pattern centre:
 *  - the mean k = 2 mLMS position for N photons, R(r, beta), in closed form (S54) on a
 *    square grid of emitter positions (spacing `grid_nm`, 1 nm as in the paper) within
 *    |r| <= R2 (L/2);
 *  - for each candidate radius R1 <= R2: beta_opt minimizes the mean |bias| (S52) over
 *    |r| <= R1 (GSL nmsimplex2; beta1 = 0 unless fit_beta1); the interpolant F (S55) maps
 *    R(r, beta_opt) back to r: F is known exactly (Newton on S54) on a regular grid of
 *    estimate space and interpolated bicubically (gsl_spline2d) in between; the estimator
 *    F(mLMS(n)) is tested on M multinomial count sets at query points on the x and y
 *    axes (|x|, |y| <= R2): loss = mean |sqrt(MSE) - CRB| (S56, S57);
 *  - R_opt = the R1 of the smallest loss; numLMS(n) = F_Ropt(mLMS_k2(n, beta_opt)) (S58).
 * A table holds entries on a grid of N and SBR values, built when first needed, and
 * interpolates the estimate bilinearly in (1/N, 1/SBR) between the four nearest entries. */
#ifndef MINFLUX_NUMLMS_H
#define MINFLUX_NUMLMS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  double R2_frac;      /* R2 = R2_frac * L / 2 (default 1) */
  int    nR1;          /* candidate radii R1 = R2 * (0.625 .. 1), equally spaced (default 4) */
  double grid_nm;      /* position grid spacing for beta_opt (default 1 nm) */
  int    M;            /* test count sets per query point (default 1000; the paper used 1e4) */
  int    nq;           /* query points per half axis (default 5: R2/5 .. R2) */
  int    fit_beta1;    /* also optimize beta1 (default 0: beta1 = 0 as in the paper) */
  uint64_t seed;       /* RNG seed of the test sets (default 1) */
} numlms_opts;

void numlms_default_opts(numlms_opts *o);

typedef struct numlms_entry numlms_entry;
struct numlms_entry {
  double L, fwhm, N, sbr;    /* sbr <= 0 or infinite: no background */
  double beta[3];            /* beta_opt */
  double R1;                 /* R_opt */
  double loss;               /* S57 at R_opt, nm */
  double bias_mean_nm;       /* mean |bias| of the beta_opt mLMS over |r| <= R_opt (S52) */
  double U;                  /* F is tabulated on [-U, U]^2 of estimate space */
  int    ng;
  double *fx, *fy;           /* F at the nodes, row-major [iy * ng + ix] */
  uint8_t *ok;               /* node is the image of a position with |r| <= R_opt */
  void *spx, *spy, *ax, *ay; /* gsl_spline2d and gsl_interp_accel */
};

/* Builds one entry; 0, or -1 with a message (geometry refused, no convergence). */
int  numlms_build(numlms_entry *e, double L, double fwhm, double N, double sbr,
                  const numlms_opts *o, char *err, size_t errlen);
void numlms_free(numlms_entry *e);

/* S58 on the counts n[0..3] (n0 = centre): writes the position relative to the pattern
 * centre; returns 1 inside the calibrated region (the estimate lies in the image of
 * |r| <= R_opt), 0 outside (the position is then F continued smoothly beyond the region,
 * i.e. pulled towards its edge), -1 when the counts are all 0. */
int  numlms_entry_eval(numlms_entry *e, const double n[4], double *x, double *y);
/* The interpolant F alone at an estimate (ux, uy); returns 1 inside, 0 outside. */
int  numlms_apply_F(numlms_entry *e, double ux, double uy, double *x, double *y);

/* The mean k = 2 mLMS position of S54 (R(r, beta) for N photons) and its Jacobian
 * (jac may be NULL): exported for the tests and the bias maps. */
int  numlms_mean(double L, double fwhm, double sbr, double N, const double beta[3],
                 double x, double y, double *mx, double *my, double jac[2][2]);

typedef struct numlms_table numlms_table;
/* A table for one geometry. Ns (ascending, >= 1) and sbrs (ascending, > 0; INFINITY
 * allowed as the last value) are the nodes; NULL/0 take the defaults (N: 3 .. 1000 in
 * about 20 % steps; SBR: 1, 2, 4, 8, 16, infinity). */
numlms_table *numlms_table_new(double L, double fwhm, const double *Ns, int nN,
                               const double *sbrs, int nS, const numlms_opts *o);
void numlms_table_free(numlms_table *t);
/* numLMS for the counts n with the SBR `sbr` (<= 0 or infinite: none); return as
 * numlms_entry_eval; -2 when building an entry failed (message via numlms_table_error). */
int  numlms_table_eval(numlms_table *t, const double n[4], double sbr, double *x, double *y);
const char *numlms_table_error(const numlms_table *t);
/* Entries built so far (for the report): calls fn for each. */
void numlms_table_each(const numlms_table *t, void (*fn)(void *ctx, const numlms_entry *e), void *ctx);

#endif
