/* est_sweep.h: fixed-point vs float comparison helpers shared by tests/test_estimators.c
 * (CI subsets) and tests/bench_estimators.c (full sweeps). Header-only, static functions. */
#ifndef MINFLUX_EST_SWEEP_H
#define MINFLUX_EST_SWEEP_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "est_float.h"
#include "est_regs.h"

/* The output range of o_x/o_y: beyond it the fixed point saturates by design. */
#define EST_RANGE_NM (32767.0 / (1 << MINFLUX_EST_POS_FRAC))

typedef struct {
  double   max_abs;        /* max |fixed - float| over x and y, unsaturated outputs */
  double   sum2;           /* sum of squared errors (x and y) */
  double   sum;            /* sum of signed errors (bias) */
  double   sum_out;        /* sum of errors times sign(reference): > 0 away from zero */
  uint64_t n;              /* compared coordinates */
  uint64_t quartets;       /* quartets evaluated */
  uint64_t sat_checked;    /* saturated coordinates checked */
  uint64_t sat_bad;        /* fixed value not at full scale although float is beyond range */
  unsigned worst[4];       /* quartet with the largest error */
} est_err_t;

static inline void est_err_init(est_err_t *e) { memset(e, 0, sizeof *e); }

static inline void est_err_merge(est_err_t *a, const est_err_t *b)
{
  if (b->max_abs > a->max_abs) {
    a->max_abs = b->max_abs;
    memcpy(a->worst, b->worst, sizeof a->worst);
  }
  a->sum2 += b->sum2;
  a->sum += b->sum;
  a->sum_out += b->sum_out;
  a->n += b->n;
  a->quartets += b->quartets;
  a->sat_checked += b->sat_checked;
  a->sat_bad += b->sat_bad;
}

static inline double est_err_rms(const est_err_t *e) { return e->n ? sqrt(e->sum2 / e->n) : 0.0; }
static inline double est_err_bias(const est_err_t *e) { return e->n ? e->sum / e->n : 0.0; }
/* Mean error in the direction away from the centre (a truncating datapath shows here). */
static inline double est_err_outward(const est_err_t *e) { return e->n ? e->sum_out / e->n : 0.0; }

/* One coordinate: fixed value (Q11.5) against the float reference. */
static inline void est_err_coord(est_err_t *e, int16_t fx, double fl, const unsigned n[4])
{
  const double v = est_pos_nm(fx);
  if (fabs(fl) >= EST_RANGE_NM + 1.0 / (2 << MINFLUX_EST_POS_FRAC)) {
    e->sat_checked++;
    if (fx != (fl > 0 ? 32767 : -32767)) e->sat_bad++;
    return;
  }
  if (fabs(fl) > EST_RANGE_NM - 1.0) return;   /* within 1 nm of full scale: either may clip */
  const double d = v - fl;
  e->sum2 += d * d;
  e->sum += d;
  e->sum_out += fl > 0 ? d : fl < 0 ? -d : 0.0;
  e->n++;
  if (fabs(d) > e->max_abs) {
    e->max_abs = fabs(d);
    memcpy(e->worst, n, sizeof e->worst);
  }
}

/* Physical parameters of a comparison and their register values. */
typedef struct {
  const char *name;
  double L, fwhm, beta[3];
  int k;                    /* 1 or 2: mLMS; 0: gauss1d */
  mlms_regs_t mr;
  gauss1d_regs_t gr;
} est_case_t;

static inline int est_case_setup(est_case_t *c)
{
  char err[256];
  if (c->k == 0) return est_gauss1d_regs(c->L, c->fwhm, 0, &c->gr, err, sizeof err);
  return est_mlms_regs(c->L, c->fwhm, c->k, c->beta, 0, &c->mr, err, sizeof err);
}

static inline void est_check_mlms(const est_case_t *c, const unsigned n[4], est_err_t *e)
{
  const uint16_t q[4] = {(uint16_t)n[0], (uint16_t)n[1], (uint16_t)n[2], (uint16_t)n[3]};
  const double nd[4] = {n[0], n[1], n[2], n[3]};
  est_out_t o;
  double x, y;
  mlms_eval(&c->mr, q, &o);
  mf_mlms(nd, c->L, c->fwhm, c->k, c->beta, &x, &y);
  est_err_coord(e, o.x, x, n);
  est_err_coord(e, o.y, y, n);
  e->quartets++;
}

/* Every quartet with n0 + n1 + n2 + n3 = N and n1 <= n2 (x is symmetric and y exactly
 * antisymmetric under n1 <-> n2, asserted by test_estimators). */
static inline void est_sweep_mlms_N(const est_case_t *c, unsigned N, est_err_t *e)
{
  unsigned n[4];
  for (n[0] = 0; n[0] <= N; n[0]++)
    for (n[1] = 0; n[0] + 2 * n[1] <= N; n[1]++)
      for (n[2] = n[1]; n[0] + n[1] + n[2] <= N; n[2]++) {
        n[3] = N - n[0] - n[1] - n[2];
        est_check_mlms(c, n, e);
      }
}

/* One axis of the Gaussian MLE for the pair (a, b). */
static inline void est_check_gauss(const est_case_t *c, unsigned a, unsigned b, est_err_t *e)
{
  const unsigned n[4] = {a, b, 0, 0};
  est_err_coord(e, gauss1d_axis(c->gr.G, a, b), mf_gauss1d(a, b, c->L, c->fwhm), n);
  e->quartets++;
}

#endif
