/* bayes_regs: physical parameters -> register values of the Bayesian MINFLUX block. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bayes_regs.h"

#define C_EL2 (M_E * M_LN2)   /* g' = g / (e ln 2) */

static int refuse(char *err, int len, const char *name, double v, const char *rule)
{
  snprintf(err, len, "%s = %g: %s", name, v, rule);
  return -1;
}

int bayes_regs_from_phys(const bayes_phys_t *p, const bf_dtable_t *dt, bayes_regs_t *r, char *err, int errlen)
{
  memset(r, 0, sizeof *r);
  r->xmin = r->ymin = INT16_MIN;   /* the whole DAC range; acquire sets the safe window */
  r->xmax = r->ymax = INT16_MAX;
  if (!(p->nm_per_lsb >= 0.001 && p->nm_per_lsb <= 100.0))
    return refuse(err, errlen, "nm_per_lsb", p->nm_per_lsb, "must be 0.001..100 nm per DAC LSB");
  const double sub = p->nm_per_lsb / (1 << MINFLUX_BY_POS_FRAC);     /* nm per sub-LSB */
  const double x0 = floor(p->x0_nm / p->nm_per_lsb + 0.5), y0 = floor(p->y0_nm / p->nm_per_lsb + 0.5);
  if (!(fabs(x0) <= 32767 && fabs(y0) <= 32767))
    return refuse(err, errlen, "prior centre x0/y0 (LSB)", fabs(x0) > fabs(y0) ? x0 : y0, "must be within the DAC range -32767..32767");
  r->x0 = (int16_t)x0;
  r->y0 = (int16_t)y0;
  if (!(p->sigma0_nm > 0.0)) return refuse(err, errlen, "sigma0_nm", p->sigma0_nm, "must be > 0");
  const double h0nm = p->h0_nm > 0.0 ? p->h0_nm : p->sigma0_nm / 4.0;
  const double h0 = floor(h0nm / sub + 0.5);
  if (!(h0 >= 16 && h0 <= 65535))
    return refuse(err, errlen, "h0 (sub-LSB = nm_per_lsb / 64)", h0, "must be 16..65535: pick a grid spacing of 16..65535 sub-LSB");
  r->h0 = (uint16_t)h0;
  const double hq = h0 * sub;   /* the spacing the block uses, nm */
  const double pa = floor(65536.0 * M_LOG2E * hq * hq / (2.0 * p->sigma0_nm * p->sigma0_nm) + 0.5);
  if (!(pa >= 64 && pa <= 65535))
    return refuse(err, errlen, "sigma0_nm / h0_nm", p->sigma0_nm / hq, "must be 0.85..27 (the prior curvature register PRIOR_A = 64..65535)");
  r->prior_a = (uint16_t)pa;
  if (!(p->s_nm > 0.0)) return refuse(err, errlen, "s_nm", p->s_nm, "must be > 0");
  const double is = floor(4294967296.0 * sqrt(M_LOG2E) / (p->s_nm / sub) + 0.5);
  if (!(is >= 16384 && is <= 65535))
    return refuse(err, errlen, "s / nm_per_lsb", p->s_nm / p->nm_per_lsb, "must be 1231..4924 DAC LSB (INV_S = 2^32 sqrt(log2 e) / s_sub in 16384..65535)");
  r->inv_s = (uint16_t)is;
  const double b32 = floor(p->b / C_EL2 * 4294967296.0 + 0.5);
  if (!(b32 >= 16384.0 && b32 <= 0.45 * 4294967296.0))
    return refuse(err, errlen, "b", p->b, "must be 7.2e-6..0.84 (BAYES_B = b/(e ln 2) 2^32 in 2^14..0.45 2^32)");
  r->b32 = (uint32_t)b32;
  if (!(p->mu > 0.0)) return refuse(err, errlen, "mu", p->mu, "must be > 0");
  if (!(p->eta_per_code > 0.0)) return refuse(err, errlen, "eta_per_code", p->eta_per_code, "must be > 0");
  const double km = floor(p->eta_per_code * M_E * 4194304.0 + 0.5);
  if (!(km >= 256 && km <= 65535))
    return refuse(err, errlen, "eta_per_code", p->eta_per_code, "must be 2.2e-5..5.7e-3 photons per laser code (KM = 2^22 e eta_per_code in 256..65535)");
  r->km = (uint16_t)km;
  const double epc = km / (M_E * 4194304.0);
  const double mu = floor(64.0 * p->mu / (C_EL2 * epc) + 0.5);
  if (!(mu >= 256 && mu <= 65535))
    return refuse(err, errlen, "mu / eta_per_code", p->mu / epc, "must be 7.5..1888 laser codes (MU = 64 mu / (e ln 2 eta_per_code) in 256..65535)");
  r->mu = (uint16_t)mu;
  /* eta'' = A KM / 2^8 must stay below 2^24; and the code at the background floor, A =
   * mu / (b eta_per_code), must be reachable or the expected count falls below mu there */
  double amax = floor((4294967296.0 - 129.0) / km);
  if (amax > 65535) amax = 65535;
  const double need = p->mu / (p->b * epc);
  if (need > amax)
    return refuse(err, errlen, "mu / (b eta_per_code)", need, "must be <= the largest laser code (65535, or 2^32 / KM): raise eta_per_code");
  r->amp_max = (uint16_t)amax;
  r->nmax = p->nmax;
  if (p->std_stop_nm > 0.0) {
    const double ls = floor(256.0 * log2(p->std_stop_nm / hq));
    r->lsig_stop = (int16_t)(ls < -32767 ? -32767 : ls > 32767 ? 32767 : ls);
  } else {
    r->lsig_stop = -32768;
  }
  r->seed = p->seed;
  for (int t = 0; t < MINFLUX_BY_D_N; t++) {
    const double sg = hq * pow(2.0, t / 8.0 - 12.0);
    const double d = floor(bf_dtable_eval(dt, sg) / p->nm_per_lsb * (1 << MINFLUX_BY_D_FRAC) + 0.5);
    if (!(d >= 0 && d <= 65535))
      return refuse(err, errlen, "D(sigma) / nm_per_lsb", d / 4.0, "must be <= 16383.75 DAC LSB");
    r->dtab[t] = (uint16_t)d;
  }
  return 0;
}

double bayes_eta_per_code_of(const bayes_regs_t *r)
{
  return r->km / (M_E * 4194304.0);
}

int bayes_regs_from_phys_exact(bayes_phys_t *p, const bf_dtable_t *dt, bayes_regs_t *r, char *err, int errlen)
{
  if (bayes_regs_from_phys(p, dt, r, err, errlen)) return -1;
  p->eta_per_code = bayes_eta_per_code_of(r);
  return bayes_regs_from_phys(p, dt, r, err, errlen);
}

void bayes_map_nm(const bayes_phys_t *p, const bayes_regs_t *r, const bayes_out_t *o, double *x, double *y)
{
  *x = (r->x0 + o->map_x / (double)(1 << MINFLUX_BY_POS_FRAC)) * p->nm_per_lsb;
  *y = (r->y0 + o->map_y / (double)(1 << MINFLUX_BY_POS_FRAC)) * p->nm_per_lsb;
}

double bayes_std_nm(const bayes_phys_t *p, const bayes_regs_t *r, const bayes_out_t *o)
{
  return r->h0 * p->nm_per_lsb / (1 << MINFLUX_BY_POS_FRAC) * pow(2.0, o->lsig / 256.0);
}
