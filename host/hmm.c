/* hmm: see hmm.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hmm.h"

const double hmm3_trans_s75[9] = {   /* S75, per multiplex cycle */
  0.9995,  0.0005,  0.0,
  0.00025, 0.9995,  0.00025,
  0.0,     0.00025, 0.99975,
};

static double safe_log(double p) { return p > 0 ? log(p) : -INFINITY; }

int hmm_viterbi_poisson(const uint32_t *obs, size_t T, int S, const double *trans,
                        const double *init, const double *lambda, uint8_t *path)
{
  if (S < 1 || S > 8 || !T) return T ? -1 : 0;
  double lt[64], ll[8], lam[8], d[8], nd[8];
  for (int i = 0; i < S * S; i++) lt[i] = safe_log(trans[i]);
  for (int s = 0; s < S; s++) {
    lam[s] = lambda[s] > 1e-12 ? lambda[s] : 1e-12;
    ll[s] = log(lam[s]);
  }
  uint8_t *bp = malloc(T * (size_t)S);
  if (!bp) return -1;
  /* emission log-likelihood without the state-independent -ln n! */
#define EMIT(s, t) (obs[t] == HMM_MISSING ? 0.0 : obs[t] * ll[s] - lam[s])
  for (int s = 0; s < S; s++) d[s] = (init ? safe_log(init[s]) : -log((double)S)) + EMIT(s, 0);
  for (size_t t = 1; t < T; t++) {
    for (int j = 0; j < S; j++) {
      double best = -INFINITY;
      int arg = 0;
      for (int i = 0; i < S; i++) {
        const double v = d[i] + lt[i * S + j];
        if (v > best) { best = v; arg = i; }
      }
      bp[t * S + j] = (uint8_t)arg;
      nd[j] = best + EMIT(j, t);
    }
    /* renormalize so that long traces cannot underflow the log scale */
    double m = -INFINITY;
    for (int j = 0; j < S; j++) if (nd[j] > m) m = nd[j];
    for (int j = 0; j < S; j++) d[j] = isfinite(m) ? nd[j] - m : nd[j];
  }
#undef EMIT
  int s = 0;
  for (int j = 1; j < S; j++) if (d[j] > d[s]) s = j;
  path[T - 1] = (uint8_t)s;
  for (size_t t = T - 1; t > 0; t--) {
    s = bp[t * S + s];
    path[t - 1] = (uint8_t)s;
  }
  free(bp);
  return 0;
}

/* Mean observation per state along a path; states without observations keep mean[s]. */
static void state_means(const uint32_t *obs, size_t T, const uint8_t *path, int S, double *mean, size_t *occ)
{
  double sum[8] = { 0 };
  size_t cnt[8] = { 0 };
  for (size_t t = 0; t < T; t++) {
    if (obs[t] == HMM_MISSING) continue;
    sum[path[t]] += obs[t];
    cnt[path[t]]++;
  }
  for (int s = 0; s < S; s++) {
    if (cnt[s]) mean[s] = sum[s] / cnt[s];
    if (occ) occ[s] = cnt[s];
  }
}

/* ---- three states, imaging ---- */

static int cmp_u32(const void *a, const void *b)
{
  const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* EM for w1 Poi(l1) + w2 Poi(l2) + w3 Poi(2 l2) on the binned counts. */
static void poisson_mixture(const uint32_t *b, size_t nb, double lam[3], double w[3])
{
  uint32_t *s = malloc(nb * sizeof *s);
  double lo = 0, hi = 0;
  if (s) {
    memcpy(s, b, nb * sizeof *s);
    qsort(s, nb, sizeof *s, cmp_u32);
    size_t nlo = 0, nhi = 0;
    for (size_t i = 0; i < nb / 2; i++) { lo += s[i]; nlo++; }
    for (size_t i = nb - nb / 4; i < nb; i++) { hi += s[i]; nhi++; }
    lo = nlo ? lo / nlo : 0;
    hi = nhi ? hi / nhi : 0;
    free(s);
  }
  lam[0] = lo > 0.1 ? lo : 0.1;
  lam[1] = hi > 2 * lam[0] ? hi : 2 * lam[0] + 1;
  lam[2] = 2 * lam[1];
  w[0] = 0.5; w[1] = 0.45; w[2] = 0.05;
  for (int it = 0; it < 200; it++) {
    double r_sum[3] = { 0 }, rn[3] = { 0 };
    const double ll[3] = { log(lam[0]), log(lam[1]), log(lam[2]) };
    for (size_t i = 0; i < nb; i++) {
      double lp[3], m = -INFINITY;
      for (int k = 0; k < 3; k++) {
        lp[k] = log(w[k] > 1e-300 ? w[k] : 1e-300) + b[i] * ll[k] - lam[k];
        if (lp[k] > m) m = lp[k];
      }
      double z = 0;
      for (int k = 0; k < 3; k++) z += (lp[k] = exp(lp[k] - m));
      for (int k = 0; k < 3; k++) {
        r_sum[k] += lp[k] / z;
        rn[k] += lp[k] / z * b[i];
      }
    }
    const double old1 = lam[1];
    if (r_sum[0] > 0) lam[0] = fmax(rn[0] / r_sum[0], 1e-3);
    if (r_sum[1] + 2 * r_sum[2] > 0) lam[1] = fmax((rn[1] + rn[2]) / (r_sum[1] + 2 * r_sum[2]), 1e-3);
    lam[2] = 2 * lam[1];
    for (int k = 0; k < 3; k++) w[k] = r_sum[k] / nb;
    if (fabs(lam[1] - old1) < 1e-9 * (1 + old1)) break;
  }
  if (lam[1] < lam[0]) {   /* keep the labels: state 0 is the dimmer one */
    const double t = lam[0];
    lam[0] = lam[1]; lam[1] = t; lam[2] = 2 * t;
    const double tw = w[0]; w[0] = w[1]; w[1] = tw;
  }
}

int hmm3_segment(const uint32_t *obs, size_t T, double period_s, uint8_t *path, hmm3_result *res)
{
  memset(res, 0, sizeof *res);
  if (!T) return 0;
  int bc = (int)lround(1e-3 / period_s);
  if (bc < 1) bc = 1;
  res->bin_cycles = bc;
  const size_t nb = (T + (size_t)bc - 1) / (size_t)bc;
  uint32_t *bins = calloc(nb, sizeof *bins);
  if (!bins) return -1;
  size_t used = 0;
  for (size_t i = 0; i < nb; i++) {
    /* a bin's count is scaled to a full bin when cycles of it are missing */
    uint64_t sum = 0;
    int have = 0;
    for (size_t t = i * bc; t < T && t < (i + 1) * (size_t)bc; t++)
      if (obs[t] != HMM_MISSING) { sum += obs[t]; have++; }
    if (have) bins[used++] = (uint32_t)llround((double)sum * bc / have);
  }
  poisson_mixture(bins, used ? used : 1, res->lambda_mix, res->weight_mix);
  free(bins);
  double lam[3];
  for (int k = 0; k < 3; k++) lam[k] = res->lambda_mix[k] / bc;
  const double init[3] = { 1.0 / 3, 1.0 / 3, 1.0 / 3 };
  for (int pass = 0; pass < 2; pass++) {
    if (hmm_viterbi_poisson(obs, T, 3, hmm3_trans_s75, init, lam, path)) return -1;
    state_means(obs, T, path, 3, lam, res->occupancy);
    if (!res->occupancy[2]) lam[2] = 2 * lam[1];
  }
  memcpy(res->lambda, lam, sizeof lam);
  res->lambda_bg = lam[0];
  return 0;
}

/* ---- two states, tracks ---- */

/* Mean run lengths (in steps) of the on (1) and off (0) states along a path; runs that
 * touch the ends of the trace are cut by it and not counted (unless there is no other). */
static void run_lengths(const uint8_t *path, size_t T, double mean[2], size_t runs[2])
{
  double sum[2] = { 0 }, sum_all[2] = { 0 };
  size_t n[2] = { 0 }, n_all[2] = { 0 };
  size_t start = 0;
  for (size_t t = 1; t <= T; t++) {
    if (t == T || path[t] != path[start]) {
      const int s = path[start];
      const double len = (double)(t - start);
      sum_all[s] += len;
      n_all[s]++;
      if (start > 0 && t < T) { sum[s] += len; n[s]++; }
      start = t;
    }
  }
  for (int s = 0; s < 2; s++) {
    mean[s] = n[s] ? sum[s] / n[s] : n_all[s] ? sum_all[s] / n_all[s] : 0;
    runs[s] = n_all[s];
  }
}

static void trans2(double dt, double t_on, double t_off, double tr[4])
{
  const double a = fmin(dt / t_on, 0.5), b = fmin(dt / t_off, 0.5);
  tr[0] = 1 - b; tr[1] = b;    /* off -> off, off -> on */
  tr[2] = a;     tr[3] = 1 - a;    /* on -> off, on -> on */
}

int hmm2_segment(const uint32_t *obs, size_t T, double dt, uint8_t *path, hmm2_result *res)
{
  memset(res, 0, sizeof *res);
  if (!T) return 0;
  double mean = 0;
  size_t have = 0;
  for (size_t t = 0; t < T; t++) if (obs[t] != HMM_MISSING) { mean += obs[t]; have++; }
  mean = have ? mean / have : 0;
  /* stage 0: S78 with t_on = 3 ms, t_off = 1 ms; S79 with SBR = 4 */
  res->t_on_s[0] = 3e-3;
  res->t_off_s[0] = 1e-3;
  res->sbr[0] = 4;
  const double ton = res->t_on_s[0], toff = res->t_off_s[0];
  double lam[2];
  lam[1] = mean * (ton + toff) / (ton + toff / (res->sbr[0] + 1));
  lam[0] = lam[1] / (res->sbr[0] + 1);
  double tr[4];
  for (int pass = 0; pass < 2; pass++) {
    res->lambda_off[pass] = lam[0];
    res->lambda_on[pass] = lam[1];
    trans2(dt, res->t_on_s[pass], res->t_off_s[pass], tr);
    if (hmm_viterbi_poisson(obs, T, 2, tr, NULL, lam, path)) return -1;
    /* S80: truncated-exponential MLE of the dwell times, then the emissions and SBR */
    double ml[2];
    size_t runs[2];
    run_lengths(path, T, ml, runs);
    res->runs_off = runs[0];
    res->runs_on = runs[1];
    res->t_off_s[pass + 1] = fmax(ml[0] * dt - dt, dt);
    res->t_on_s[pass + 1] = fmax(ml[1] * dt - dt, dt);
    size_t occ[2];
    state_means(obs, T, path, 2, lam, occ);
    res->cycles_off = occ[0];
    res->cycles_on = occ[1];
    /* a state holding under 1 % of the cycles (or under 20) is a tail of the other one,
     * not a second level: no contrast to estimate the SBR from */
    const size_t few = (occ[0] + occ[1]) / 100 > 20 ? (occ[0] + occ[1]) / 100 : 20;
    if (occ[0] < few || occ[1] < few) {
      res->sbr[pass + 1] = NAN;
      if (occ[1] < few) lam[1] = fmax(lam[0] * 2, lam[0] + 1);
      if (occ[0] < few) lam[0] = lam[1] / (res->sbr[0] + 1);
    } else {
      res->sbr[pass + 1] = lam[0] > 0 ? lam[1] / lam[0] - 1 : INFINITY;
    }
    if (lam[1] <= lam[0]) lam[1] = lam[0] * 1.01 + 1e-6;
  }
  return 0;
}
