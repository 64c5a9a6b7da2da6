/* est_float: double-precision reference of the MINFLUX physics and estimators (seed 003):
 * doughnut beam (S17), excitation beam patterns (S24), p-vector with background
 * (S28-S30), Cramer-Rao bound for any pattern (S11-S13, S25/S26) and the closed forms
 * of the 4-doughnut pattern (S27, S31, S32); LMS (S49/S50), mLMS (S51), 1D Gaussian MLE
 * (S40). These are float references, separate from the fixed-point models in hls-c/. */
#ifndef MINFLUX_EST_FLOAT_H
#define MINFLUX_EST_FLOAT_H

#ifdef __cplusplus
extern "C" {
#endif

#define MF_KMAX 16

/* An excitation beam pattern: K doughnut zeros at (bx[i], by[i]) nm, all with the
 * same fwhm (S15/S17). */
typedef struct {
  int    K;
  double bx[MF_KMAX], by[MF_KMAX];
  double fwhm;
} mf_ebp_t;

/* The 4-doughnut pattern of S24: centre + 3 on a circle of diameter L at i*120 deg. */
void mf_ebp4(double L, double fwhm, mf_ebp_t *ebp);

/* Doughnut intensity (S17) with A0 = 1 at offset (dx, dy) from its zero, and its gradient. */
double mf_doughnut(double dx, double dy, double fwhm);
void   mf_doughnut_grad(double dx, double dy, double fwhm, double *gx, double *gy);

/* p-vector (S28 with equal background per exposure, i.e. S30) at (x, y) and its
 * gradient. sbr0 is the SBR at the pattern centre (S29 with the emitter at the origin):
 * the background per exposure is lambda_b = sum_j I_j(0) / (K sbr0) in A0 units and
 * stays fixed when the emitter moves. sbr0 <= 0 or infinite means no background.
 * dpx/dpy may be NULL. Returns 0, or -1 when all p_i are 0 (no signal, no background). */
int mf_pvec(const mf_ebp_t *ebp, double x, double y, double sbr0,
            double *p, double *dpx, double *dpy);

/* CRB at (x, y) for N photons (S11-S13, d = 2; S25/S26): covariance matrix cov[2][2] in
 * nm^2 (may be NULL) and the returned sigma_CRB = sqrt(tr(Sigma)/2) in nm; +inf when the
 * Fisher matrix is singular. */
double mf_crb(const mf_ebp_t *ebp, double x, double y, double N, double sbr0,
              double cov[2][2]);

/* Closed forms for the 4-doughnut pattern at the origin. */
double mf_crb_s27(double L, double fwhm, double N);
double mf_crb_s31(double L, double fwhm, double N, double sbr0);
/* S32: SBR at the origin for diameter L from the SBR measured at diameter L0. */
double mf_sbr_s32(double sbr_L0, double L0, double L, double fwhm);

/* The factor 1/(1 - L^2 ln2 / fwhm^2) of S27/S49/S51. */
double mf_factor(double L, double fwhm);

/* Estimators on counts n[0..3] (n0 = centre exposure). N = 0 gives (0, 0) and
 * returns 0; otherwise they return 1. */
int mf_lms(const double n[4], double L, double fwhm, double *x, double *y);
/* mLMS of order k (0, 1 or 2; k = 0 with beta0 = 1 is the LMS) with beta[0..k]. */
int mf_mlms(const double n[4], double L, double fwhm, int k, const double *beta,
            double *x, double *y);
/* 1D Gaussian MLE (S40): fwhm^2/(8 ln2 L) ln(n0/n1); 0 when n0 = 0 or n1 = 0. */
double mf_gauss1d(double n0, double n1, double L, double fwhm);

/* Expected mLMS position for exactly N photons (multinomial, S54 with k <= 2). */
void mf_mlms_mean_s54(const mf_ebp_t *ebp, double x, double y, double sbr0, double N,
                      int k, const double *beta, double *mx, double *my);

#ifdef __cplusplus
}
#endif
#endif
