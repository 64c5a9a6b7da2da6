/* bayes: bit-exact fixed-point model of hdl/bayes.v (see bayes.h). This file is the
 * specification of the block's arithmetic; docs/bayes.md explains the method.
 *
 * Per exposure (seed 002 eq 1-4, 9), with g = e q exp(-q) + b, q = |x - r|^2 / s^2:
 *  - g' = g / (e ln 2) = b' + u^2 2^-(u^2) with u = |x - r| sqrt(log2 e) / s, separable:
 *    u^2 = ux^2 + uy^2, so g' = b' + Yx Ey + Ex Yy with E = 2^-(u^2), Y = u^2 E per column
 *    and per row ("prep", 64 values);
 *  - pass B (beam known, count not yet): for every point g' (G), -log2 g' (NLG) are stored and
 *    W = sum w, WG = sum w G with w = 2^(L - max L) give the laser code for an expected count
 *    mu (eq 4): A = MU W / WG, and eta'' (the log2-unit factor of g'), from A;
 *  - pass A (count n): L += -(n NLG + eta'' G) (eq 2, 3 in log2 units, constants dropped),
 *    shifted so that the previous MAP keeps L = 0; the new maximum, MAP and the moments of
 *    w = 2^L (repeated with the exact maximum when a weight saturated);
 *  - scalar: mean, var, log2 std, the stop test, re-gridding, D(std) from the table, the
 *    angle from the LFSR, the beam r = MAP + v D rounded to DAC LSB (eq 9) and clamped into
 *    the safe window. */
#include "bayes.h"
#include "bayes_tables.h"
#include "fixp.h"

/* The window: N x N points, centre index C. The block's is MINFLUX_BY_N. A study build
 * (`make bench-bayes-grid`) sets BAYES_STUDY_N (an even 8..MINFLUX_BY_N) to measure what a
 * smaller window costs in photons; the re-gridding rules then scale with the window
 * (thresholds in grid units^2 by (N / 32)^2, the re-centre distance by N / 32), so that the
 * window spans the same number of posterior std as the block's. */
#ifdef BAYES_STUDY_N
enum { N = BAYES_STUDY_N, C = BAYES_STUDY_N / 2 };
#else
enum { N = MINFLUX_BY_N, C = MINFLUX_BY_C };
#endif
enum { NPTS = N * N };
#define REFINE_RAW  ((uint32_t)MINFLUX_BY_REFINE_V * 256u * N * N / (32u * 32u))   /* 2^-8 grid units^2 */
#define COARSEN_RAW ((uint32_t)MINFLUX_BY_COARSEN_V * 256u * N * N / (32u * 32u))
#define SHIFT_MAX   (MINFLUX_BY_SHIFT_MAX * N / 32)
_Static_assert(N % 2 == 0 && N >= 8 && (int)N <= (int)MINFLUX_BY_N && C == N / 2, "window size");
_Static_assert(N != 32 || (REFINE_RAW == (uint32_t)MINFLUX_BY_REFINE_V << 8 &&
               COARSEN_RAW == (uint32_t)MINFLUX_BY_COARSEN_V << 8 && (int)SHIFT_MAX == (int)MINFLUX_BY_SHIFT_MAX),
               "the scaled rules at N = 32 are the block's");

int bayes_grid_n(void) { return N; }

static unsigned floor_log2_u32(uint32_t v)
{
  unsigned e = 0;
  while (v >>= 1) e++;
  return e;
}

/* Arithmetic shift right (floor) of a signed 64-bit value. */
static int64_t asr(int64_t v, unsigned s) { return fx_shr_floor(v, s); }

uint16_t bayes_wt(int32_t e)
{
  if (e < -MINFLUX_BY_W_OVER) e = -MINFLUX_BY_W_OVER;
  const int32_t idx = (e + MINFLUX_BY_W_OVER + 16) >> 5;
  return idx >= MINFLUX_BY_W_N ? 0 : by_wt[idx];
}

uint16_t bayes_exp2neg(uint32_t y, uint16_t *Y)
{
  const unsigned in = y >> 24;
  if (in >= 17) {
    *Y = 0;
    return 0;
  }
  const unsigned f8 = (y >> 16) & 255, fl = (y >> 8) & 255;
  const uint32_t ef = by_exp2t[f8] - ((by_exp2d[f8] * fl + 128) >> 8);
  const uint32_t E = in ? (ef + (1u << (in - 1))) >> in : ef;
  if (y < (1u << 24)) *Y = (uint16_t)(((y >> 8) * E + (1u << 15)) >> 16);
  else if (y < (1u << 28)) *Y = (uint16_t)(((y >> 12) * E + (1u << 11)) >> 12);
  else *Y = (uint16_t)(((y >> 14) * E + (1u << 9)) >> 10);
  return (uint16_t)E;
}

uint16_t bayes_nlg(uint32_t g18)
{
  if (g18 == 0) return 0xFFFF;
  const unsigned p = floor_log2_u32(g18);          /* <= 17 for an 18-bit g18 */
  const uint32_t m = (g18 << (17 - p)) & 0x1FFFF;  /* the 17 bits below the leading one */
  const unsigned idx = m >> 9, fr = (m >> 1) & 255;
  const uint32_t l = by_log2t[idx] + ((by_log2d[idx] * fr + 128) >> 8);
  return (uint16_t)(((18 - p) << 11) - ((l + 16) >> 5));
}

int32_t bayes_log2q8(uint32_t v)
{
  if (v == 0) v = 1;
  const unsigned p = floor_log2_u32(v);
  const uint32_t mant = p >= 8 ? v >> (p - 8) : v << (8 - p);
  return (((int32_t)p - 8) * 256) + (int32_t)((by_log2t[mant & 255] + 128) >> 8);
}

/* ---- stages ---- */

/* The moments of the weights wv[k]: W, sum w i, sum w j, sum w ((i-C)^2 + (j-C)^2). */
static void moments(bayes_state_t *s, const uint16_t *wv)
{
  uint32_t W = 0, SX = 0, SY = 0, S2 = 0;
  for (int k = 0; k < NPTS; k++) {
    const int i = k % N, j = k / N;
    W += wv[k];
    SX += (uint32_t)wv[k] * (uint32_t)i;
    SY += (uint32_t)wv[k] * (uint32_t)j;
    S2 += (uint32_t)wv[k] * (uint32_t)((i - C) * (i - C) + (j - C) * (j - C));
  }
  s->tr.W = W;
  s->tr.SX = SX;
  s->tr.SY = SY;
  s->tr.S2 = S2;
}

/* Mean offsets, E[r2], var_x + var_y, log2 std (Q8.8 relative to h0). */
static void stats(bayes_state_t *s)
{
  bayes_trace_t *t = &s->tr;
  const uint64_t W = t->W ? t->W : 1;
  const int64_t X1 = (int64_t)t->SX - C * (int64_t)t->W, Y1 = (int64_t)t->SY - C * (int64_t)t->W;
  const int64_t ax = X1 < 0 ? -X1 : X1, ay = Y1 < 0 ? -Y1 : Y1;
  t->mx = (int32_t)(X1 < 0 ? -(int64_t)(((uint64_t)ax << 10) / W) : (int64_t)(((uint64_t)ax << 10) / W));
  t->my = (int32_t)(Y1 < 0 ? -(int64_t)(((uint64_t)ay << 10) / W) : (int64_t)(((uint64_t)ay << 10) / W));
  t->e2 = (uint32_t)(((uint64_t)t->S2 << 8) / W);
  t->mean_x = s->cx + asr((int64_t)t->mx * s->h, 10);
  t->mean_y = s->cy + asr((int64_t)t->my * s->h, 10);
  const uint32_t m2 = (uint32_t)(((int64_t)t->mx * t->mx + (int64_t)t->my * t->my + 2048) >> 12);
  t->var = t->e2 > m2 ? t->e2 - m2 : 1;
  if (t->var == 0) t->var = 1;
  t->lvar = bayes_log2q8(t->var);
  const int64_t ls = asr((int64_t)t->lvar - 256, 1) - 256 * (int64_t)s->lev;
  s->lsig = (int16_t)fx_sat_s(ls, 16);
  s->lev_st = s->lev;
}

/* Re-centres the window on the MAP and refines (kind 2) or coarsens (kind 3) its spacing;
 * kind 1 only re-centres. New values: refine averages the 1, 2 or 4 old neighbours
 * ((sum of 4 taps + 2) >> 2), the others copy old points; outside the old window: -32768. */
static void regrid(bayes_state_t *s, int kind)
{
  static const int16_t FLOOR = -32768;
  int16_t old[NPTS];
  for (int k = 0; k < NPTS; k++) old[k] = s->L[k];
  const int a = s->mi, b = s->mj;
  for (int jn = 0; jn < N; jn++)
    for (int in = 0; in < N; in++) {
      int16_t v = FLOOR;
      if (kind == 2) {
        const int u2 = 2 * a + in - C, v2 = 2 * b + jn - C;
        if (u2 >= 0 && v2 >= 0 && u2 <= 2 * (N - 1) && v2 <= 2 * (N - 1)) {
          const int i0 = u2 >> 1, fu = u2 & 1, j0 = v2 >> 1, fv = v2 & 1;
          const int32_t sum = old[j0 * N + i0] + old[j0 * N + i0 + fu] + old[(j0 + fv) * N + i0] +
                              old[(j0 + fv) * N + i0 + fu];
          v = (int16_t)asr(sum + 2, 2);
        }
      } else {
        const int st = kind == 3 ? 2 : 1;
        const int u = a + st * (in - C), w = b + st * (jn - C);
        if (u >= 0 && w >= 0 && u < N && w < N) v = old[w * N + u];
      }
      s->L[jn * N + in] = v;
    }
  s->cx = fx_sext((uint32_t)(s->cx + (a - C) * (int32_t)s->h), MINFLUX_BY_CX_W);
  s->cy = fx_sext((uint32_t)(s->cy + (b - C) * (int32_t)s->h), MINFLUX_BY_CX_W);
  if (kind == 2) s->lev++;
  if (kind == 3) s->lev--;
  s->h = (uint32_t)s->rdh0 >> s->lev;
  s->mi = s->mj = C;
}

/* The re-gridding rules on var = var_x + var_y (2^-8 grid units^2) and the MAP offset. */
static void regrid_rules(bayes_state_t *s)
{
  const uint32_t var = s->tr.var;
  int kind = 0;
  if (var < REFINE_RAW && s->lev < MINFLUX_BY_LEV_MAX && (s->rdh0 >> (s->lev + 1)) >= 1)
    kind = 2;
  else if (var >= COARSEN_RAW && s->lev > 0)
    kind = 3;
  else if (s->mi < C - SHIFT_MAX || s->mi > C + SHIFT_MAX ||
           s->mj < C - SHIFT_MAX || s->mj > C + SHIFT_MAX)
    kind = 1;
  s->tr.regrid = (uint8_t)kind;
  if (kind) regrid(s, kind);
}

/* D(std) from the table, the angle, the beam position. */
static void place(bayes_state_t *s, const bayes_regs_t *r)
{
  bayes_trace_t *t = &s->tr;
  int32_t q = (int32_t)s->lsig + 12 * 256;
  int ti, fr;
  if (q < 0) {
    ti = 0;
    fr = 0;
  } else {
    ti = q >> 5;
    fr = q & 31;
    if (ti >= MINFLUX_BY_D_N - 1) {
      ti = MINFLUX_BY_D_N - 1;
      fr = 0;
    }
  }
  t->dv = ((uint32_t)r->dtab[ti] * (uint32_t)(32 - fr) + (fr ? (uint32_t)r->dtab[ti + 1] * (uint32_t)fr : 0) + 16) >> 5;
  for (int k = 0; k < MINFLUX_BY_LFSR_STEPS; k++) {
    const uint32_t x = s->lfsr & BY_LFSR_TAPS;
    unsigned par = 0;
    for (int b = 0; b < 32; b++) par ^= (x >> b) & 1u;
    s->lfsr = (s->lfsr << 1) | par;
  }
  t->angle = (uint8_t)(s->lfsr & 255);
  const int32_t co = by_cos[t->angle], si = by_cos[(t->angle - 64) & 255];
  const int32_t px = (int32_t)asr((int64_t)t->dv * co + 8192, 14), py = (int32_t)asr((int64_t)t->dv * si + 8192, 14);
  const int64_t mpx = s->cx + (int64_t)(s->mi - C) * s->h, mpy = s->cy + (int64_t)(s->mj - C) * s->h;
  const int64_t cxr = asr(mpx + 16 * (int64_t)px + 32, MINFLUX_BY_POS_FRAC);
  const int64_t cyr = asr(mpy + 16 * (int64_t)py + 32, MINFLUX_BY_POS_FRAC);
  s->bx = (int16_t)fx_sat_s(r->x0 + cxr, 16);
  s->by = (int16_t)fx_sat_s(r->y0 + cyr, 16);
  /* into the safe window as the DAC would clamp it (below min: min, else above max: max) */
  s->bx = (int16_t)fx_clamp(s->bx, r->xmin, r->xmax);
  s->by = (int16_t)fx_clamp(s->by, r->ymin, r->ymax);
  s->rx = ((int32_t)s->bx - r->x0) * (1 << MINFLUX_BY_POS_FRAC);
  s->ry = ((int32_t)s->by - r->y0) * (1 << MINFLUX_BY_POS_FRAC);
  t->rx = s->rx;
  t->ry = s->ry;
}

/* E and Y of the columns and rows for the pending beam. */
static void prep(bayes_state_t *s, const bayes_regs_t *r)
{
  for (int ax = 0; ax < 2; ax++) {
    const int64_t d0 = (ax ? s->cy - s->ry : s->cx - s->rx) - (int64_t)C * s->h;
    const int64_t U0 = d0 * r->inv_s, HS = (int64_t)s->h * r->inv_s;
    for (int i = 0; i < N; i++) {
      const int64_t U = U0 + i * HS;
      const int32_t u = fx_clamp((int32_t)fx_sat_s(asr(U + (1 << 19), 20), 32), -32767, 32767);
      uint16_t Y;
      const uint16_t E = bayes_exp2neg((uint32_t)(u * u), &Y);
      if (ax) {
        s->ry_[i] = Y;
        s->re[i] = E;
      } else {
        s->cy_[i] = Y;
        s->ce[i] = E;
      }
    }
  }
}

/* Pass B: G and NLG of every point, the weights' sums, the laser code and eta''. */
static void pass_b(bayes_state_t *s, const bayes_regs_t *r)
{
  uint32_t W = 0, WG = 0;
  for (int k = 0; k < NPTS; k++) {
    const int i = k % N, j = k / N;
    const uint32_t g32 = (uint32_t)((uint64_t)r->b32 + 8192u + (uint64_t)s->cy_[i] * s->re[j] +
                                    (uint64_t)s->ce[i] * s->ry_[j]);
    s->G[k] = (uint16_t)(g32 >> 16);
    s->NLG[k] = bayes_nlg(g32 >> 14);
    const uint16_t w = bayes_wt((int32_t)s->M - s->L[k]);
    W += w;
    WG += ((uint32_t)w * s->G[k]) >> 10;
  }
  s->tr.wb = W;
  s->tr.wgb = WG;
  const uint32_t den = (WG >> 8) ? WG >> 8 : 1;
  uint64_t A = ((uint64_t)r->mu * (W >> 8)) / den;
  const uint32_t amax = r->amp_max ? r->amp_max : 1;
  if (A > amax) A = amax;
  if (A < 1) A = 1;
  s->amp = (uint16_t)A;
  s->eta = (uint32_t)((A * r->km + 128) >> 8);
  s->tr.eta = s->eta;
}

/* The cost n NLG + eta'' G of point k, 2^-11 log2 units. */
static uint32_t cost(const bayes_state_t *s, int k, unsigned n)
{
  const uint32_t eh = s->eta >> 12, el = s->eta & 4095u, G = s->G[k];
  return n * (uint32_t)s->NLG[k] + ((eh * G + ((el * G + (1u << 18)) >> 12)) >> 7);
}

/* After the moments: stats, the stop test (not at the start), re-gridding and the next
 * exposure's placement, prep and pass B. */
static void after_moments(bayes_state_t *s, const bayes_regs_t *r, int stop_test, bayes_out_t *out)
{
  stats(s);
  if (stop_test) {
    if (r->nmax && s->photons >= r->nmax) s->status |= 4;
    if (s->lsig < r->lsig_stop) s->status |= 8;
    if (s->status & 12) {
      s->done = 1;
      s->status |= 2;
    }
  }
  s->tr.regrid = 0;
  if (!s->done) {
    regrid_rules(s);
    place(s, r);
    prep(s, r);
    pass_b(s, r);
  }
  s->tr.cx = s->cx;
  s->tr.cy = s->cy;
  s->tr.h = s->h;
  out->beam_x = s->bx;
  out->beam_y = s->by;
  out->amp = s->amp;
  out->map_x = fx_sext((uint32_t)(s->cx + (s->mi - C) * (int32_t)s->h), MINFLUX_BY_POS_W);
  out->map_y = fx_sext((uint32_t)(s->cy + (s->mj - C) * (int32_t)s->h), MINFLUX_BY_POS_W);
  out->lsig = s->lsig;
  out->lev = s->lev_st;
  out->done = s->done;
  out->status = s->status;
  out->photons = s->photons;
  out->exposures = s->exposures;
}

void bayes_start(bayes_state_t *s, const bayes_regs_t *r, bayes_out_t *out)
{
  uint16_t *wv = s->wv;
  s->rdh0 = r->h0;
  s->lev = 0;
  s->h = r->h0;
  s->cx = s->cy = 0;
  s->M = 0;
  s->mi = s->mj = C;
  s->lfsr = r->seed ? r->seed : 1u;
  s->photons = s->exposures = 0;
  s->done = 0;
  s->status = 0;
  s->eta = 0;
  s->amp = 0;
  s->tr.redo = 0;
  s->tr.rcost = 0;
  for (int k = 0; k < NPTS; k++) {
    const int i = k % N, j = k / N;
    const uint32_t r2 = (uint32_t)((i - C) * (i - C) + (j - C) * (j - C));
    s->L[k] = (int16_t)fx_sat_s(-(int64_t)(((uint64_t)r->prior_a * r2 + 32) >> 6), 16);
    wv[k] = bayes_wt(-s->L[k]);
  }
  moments(s, wv);
  after_moments(s, r, 0, out);
}

int bayes_count(bayes_state_t *s, const bayes_regs_t *r, unsigned n, bayes_out_t *out)
{
  uint16_t *wv = s->wv;
  if (s->done) {
    after_moments(s, r, 1, out);
    return 1;
  }
  if (n > 8191) n = 8191;
  const uint32_t R = cost(s, s->mj * N + s->mi, n);
  s->tr.rcost = R;
  int16_t Mn = -32768;
  int kmax = 0, over = 0;
  for (int k = 0; k < NPTS; k++) {
    const int64_t d = (int64_t)R - cost(s, k, n);
    const int16_t Ln = (int16_t)fx_sat_s((int64_t)s->L[k] - s->M + asr(d + 1, 1), 16);
    s->L[k] = Ln;
    if (Ln > Mn) {
      Mn = Ln;
      kmax = k;
    }
    if (Ln > MINFLUX_BY_W_OVER) over = 1;
    wv[k] = bayes_wt(-(int32_t)Ln);
  }
  s->M = Mn;
  s->mi = (uint8_t)(kmax % N);
  s->mj = (uint8_t)(kmax / N);
  s->tr.redo = (uint8_t)over;
  if (over)
    for (int k = 0; k < NPTS; k++) wv[k] = bayes_wt((int32_t)Mn - s->L[k]);
  moments(s, wv);
  for (int k = 0; k < NPTS; k++) s->tr.La[k] = s->L[k];
  s->photons = s->photons + n < s->photons ? UINT32_MAX : s->photons + n;
  s->exposures++;
  after_moments(s, r, 1, out);
  return s->done;
}
