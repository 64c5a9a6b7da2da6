/* bayes: bit-exact fixed-point model of hdl/bayes.v, Bayesian MINFLUX with the semi-heuristic
 * placement of seed 002 (eq 1-4, 9): a 32 x 32 log-posterior window that re-centres and halves
 * or doubles its spacing, the beam placed at MAP + v D(std) with v from an LFSR, the laser code
 * set for an expected count mu, Poisson updates with each exposure's count. Integer only.
 * The arithmetic is specified in bayes.c; formats in regmap_bayes.h; docs/bayes.md. */
#ifndef MINFLUX_BAYES_H
#define MINFLUX_BAYES_H
#include <stdint.h>
#include "regmap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BY_NPTS (MINFLUX_BY_N * MINFLUX_BY_N)

/* Register values (host/bayes_regs.c converts physical parameters into them). */
typedef struct {
  int16_t  x0, y0;       /* BAYES_ORIGIN: prior centre, DAC LSB */
  uint16_t h0;           /* BAYES_H0: initial spacing, sub-LSB */
  uint16_t prior_a;      /* BAYES_PRIOR_A */
  uint16_t inv_s;        /* BAYES_INV_S */
  uint32_t b32;          /* BAYES_B */
  uint16_t mu;           /* BAYES_MU */
  uint16_t km;           /* BAYES_KM */
  uint16_t amp_max;      /* BAYES_AMP_MAX */
  uint32_t nmax;         /* BAYES_NMAX */
  int16_t  lsig_stop;    /* BAYES_LSIG_STOP */
  uint32_t seed;         /* BAYES_SEED */
  int16_t  xmin, xmax;   /* SAFE_XMIN, SAFE_XMAX at the start (DAC LSB): the beam is placed */
  int16_t  ymin, ymax;   /* inside the safe window, so the update models the beam that was used */
  uint16_t dtab[MINFLUX_BY_D_N];  /* BAYES_DTAB entries */
} bayes_regs_t;

/* What the block reports after every exposure (and after the start). */
typedef struct {
  int16_t  beam_x, beam_y;   /* next beam position, DAC LSB (valid unless done) */
  uint16_t amp;              /* next laser code A (valid unless done) */
  int32_t  map_x, map_y;     /* MAP, sub-LSB from the origin */
  int16_t  lsig;             /* log2(std / h0), Q8.8 */
  uint8_t  lev;              /* spacing halvings of the grid the std was computed on */
  uint8_t  done;             /* 1: stopped (no further beam) */
  uint8_t  status;           /* BAYES_STATUS bits 1..3 */
  uint32_t photons;          /* sum of the counts so far */
  uint32_t exposures;        /* counts received so far */
} bayes_out_t;

/* Internals of the last exposure, named as in the RTL (debugging and accuracy studies). */
typedef struct {
  uint32_t W, SX, SY, S2;    /* moments: sum w, w i, w j, w ((i-16)^2 + (j-16)^2) */
  int32_t  mx, my;           /* mean offsets from the centre, Q5.10 grid units */
  int64_t  mean_x, mean_y;   /* the mean in sub-LSB (cx + mx h / 2^10; not used by the block) */
  uint32_t e2, var;          /* E[r2] and var_x + var_y, 2^-8 grid units^2 */
  int32_t  lvar;             /* log2(var), Q.8 */
  uint32_t dv;               /* D(std), UQ14.2 LSB */
  uint8_t  angle;            /* placement angle index */
  uint32_t wb, wgb;          /* pass B: sum w, sum (w G) >> 10 */
  uint32_t eta;              /* eta'', UQ10.14 */
  uint32_t rcost;            /* cost of the previous MAP (pass A reference), 2^-11 log2 */
  uint8_t  redo;             /* pass A saturated a weight: the moments were repeated */
  uint8_t  regrid;           /* 0 none, 1 re-centre, 2 refine, 3 coarsen */
  int32_t  cx, cy;           /* window centre after this exposure, sub-LSB */
  uint32_t h;                /* spacing */
  int32_t  rx, ry;           /* beam in sub-LSB (code << 6) */
  int16_t  La[BY_NPTS];      /* L after the update (before re-gridding) */
} bayes_trace_t;

/* The whole state: the posterior window, the per-point g' and -log2 g' of the current beam
 * position, the column/row factors, the scalars. */
typedef struct {
  int16_t  L[BY_NPTS];       /* log posterior, Q6.10 log2 */
  uint16_t G[BY_NPTS];       /* g' of the pending exposure, UQ0.16 */
  uint16_t NLG[BY_NPTS];     /* -log2 g', UQ5.11 */
  uint16_t cy_[MINFLUX_BY_N], ce[MINFLUX_BY_N];   /* column Y, E (UQ0.16) */
  uint16_t ry_[MINFLUX_BY_N], re[MINFLUX_BY_N];   /* row Y, E */
  uint16_t wv[BY_NPTS];      /* the weights of the last moments */
  int32_t  cx, cy;           /* window centre, sub-LSB */
  uint16_t rdh0;             /* H0 at the start */
  uint8_t  lev;
  uint32_t h;                /* H0 >> lev */
  int16_t  M;                /* max of L */
  uint8_t  mi, mj;           /* MAP index (first maximum in scan order) */
  uint32_t lfsr;
  uint32_t eta;              /* eta'' of the pending exposure */
  int16_t  bx, by;           /* pending beam, DAC LSB */
  uint16_t amp;
  int32_t  rx, ry;           /* pending beam, sub-LSB */
  uint32_t photons, exposures;
  int16_t  lsig;
  uint8_t  lev_st;           /* lev when lsig was computed */
  uint8_t  done, status;
  bayes_trace_t tr;
} bayes_state_t;

/* i_start: the prior grid, its moments, the first placement. */
void bayes_start(bayes_state_t *s, const bayes_regs_t *r, bayes_out_t *out);
/* The count n (13 bits; more saturates to 8191) of the pending exposure: the
 * update, MAP and std, the stop test, re-gridding, the next placement. Returns out->done. */
int  bayes_count(bayes_state_t *s, const bayes_regs_t *r, unsigned n, bayes_out_t *out);

/* Helpers the RTL mirrors stage by stage (exported for tests). */
uint16_t bayes_wt(int32_t e);                  /* weight of a point e (Q6.10) below the reference */
uint16_t bayes_exp2neg(uint32_t y, uint16_t *Y);  /* E = 2^-y and Y = y E for y UQ8.24 */
uint16_t bayes_nlg(uint32_t g18);              /* -log2(g18 / 2^18), UQ5.11, g18 >= 1 */
int32_t  bayes_log2q8(uint32_t v);             /* log2(v / 2^8) (v in 2^-8 units), Q.8; v >= 1 */
int      bayes_grid_n(void);                    /* points per side of the window (MINFLUX_BY_N, or a study build's) */

#ifdef __cplusplus
}
#endif
#endif
