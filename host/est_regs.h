/* est_regs: converts user estimator parameters (L and fwhm in nm, betas, threshold)
 * into the register values of hls-c/regmap_est.h, refusing values the physics or the
 * register formats cannot represent (messages name the value and the allowed range). */
#ifndef MINFLUX_EST_REGS_H
#define MINFLUX_EST_REGS_H
#include <stddef.h>
#include "mlms.h"
#include "gauss1d.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Physical checks shared by the float and fixed paths: L > 0, fwhm > 0, both finite,
 * L < fwhm / sqrt(ln 2) (where 1/(1 - L^2 ln2/fwhm^2) is singular). Returns 0 or -1
 * with a message in err. */
int est_check_geometry(double L_nm, double fwhm_nm, char *err, size_t errlen);

/* mLMS registers for order k (1 or 2), beta[0..2] (beta[2] ignored for k = 1) and the
 * reaction threshold (counts per quartet). Returns 0 or -1 with a message in err. */
int est_mlms_regs(double L_nm, double fwhm_nm, int k, const double beta[3],
                  unsigned thresh, mlms_regs_t *out, char *err, size_t errlen);

/* Gaussian 1D MLE registers (G = fwhm^2/(8 ln2 L)). Returns 0 or -1 with a message. */
int est_gauss1d_regs(double L_nm, double fwhm_nm, unsigned thresh, gauss1d_regs_t *out,
                     char *err, size_t errlen);

/* Register values back to physical units (what the firmware actually uses). */
double est_reg_L_nm(uint16_t L);
double est_reg_F(uint16_t F);
double est_reg_beta(int16_t b);
double est_reg_G_nm(uint16_t G);
/* Q11.5 output to nm. */
double est_pos_nm(int16_t v);

#ifdef __cplusplus
}
#endif
#endif
