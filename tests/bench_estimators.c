/* bench_estimators: the full fixed-point vs float sweeps of the live estimators (`make bench`).
 *   mLMS: every quartet with N = n0 + n1 + n2 + n3 <= NMAX (default 1000; ~4.2e10 quartets,
 *         of which the n1 <= n2 half is evaluated: y is exactly antisymmetric and x
 *         symmetric under n1 <-> n2, asserted by test_estimators), per parameter set;
 *   gauss1d: every pair (n0, n1) of 13-bit counts, per parameter set;
 * plus the speed of the C models. Fails (exit 1) if an unsaturated coordinate differs from
 * the float reference by more than 0.1 nm or a saturated one is not at full scale.
 * Usage: bench_estimators [NMAX] [SETS]   (SETS: a = all mLMS sets, l = live set only;
 * defaults: $EST_BENCH_NMAX or 1000, $EST_BENCH_SETS or l); runs on 2 threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "est_sweep.h"

#define THREADS 2

typedef struct {
  const est_case_t *c;
  unsigned nmax, tid;
  est_err_t e;
} job_t;

static void *sweep_thread(void *arg)
{
  job_t *j = arg;
  est_err_init(&j->e);
  /* interleaved N: the work per N grows as N^3, both threads get a similar share */
  for (unsigned N = j->tid; N <= j->nmax; N += THREADS) est_sweep_mlms_N(j->c, N, &j->e);
  return NULL;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int run_mlms(est_case_t *c, unsigned nmax)
{
  if (est_case_setup(c)) {
    printf("bench est_sweep: bad parameter set %s\n", c->name);
    return 1;
  }
  const double t0 = now_s();
  pthread_t th[THREADS];
  job_t jobs[THREADS];
  for (unsigned t = 0; t < THREADS; t++) {
    memset(&jobs[t], 0, sizeof jobs[t]);
    jobs[t].c = c;
    jobs[t].nmax = nmax;
    jobs[t].tid = t;
    pthread_create(&th[t], NULL, sweep_thread, &jobs[t]);
  }
  est_err_t e;
  est_err_init(&e);
  for (unsigned t = 0; t < THREADS; t++) {
    pthread_join(th[t], NULL);
    est_err_merge(&e, &jobs[t].e);
  }
  const double dt = now_s() - t0;
  printf("bench est_sweep mlms [%s]: every quartet with N <= %u (%llu evaluated, n1 <= n2): "
         "max %.4f nm, RMS %.4f nm, bias %+.5f nm, outward %+.5f nm, worst at %u,%u,%u,%u; %llu saturated "
         "coordinates, %llu wrong; %.0f s\n", c->name, nmax, (unsigned long long)e.quartets,
         e.max_abs, est_err_rms(&e), est_err_bias(&e), est_err_outward(&e), e.worst[0], e.worst[1], e.worst[2],
         e.worst[3], (unsigned long long)e.sat_checked, (unsigned long long)e.sat_bad, dt);
  fflush(stdout);
  return e.max_abs <= 0.1 && e.sat_bad == 0 ? 0 : 1;
}

static int run_gauss(est_case_t *c)
{
  if (est_case_setup(c)) return 1;
  const double t0 = now_s();
  est_err_t e;
  est_err_init(&e);
  for (unsigned a = 0; a < 8192; a++)
    for (unsigned b = 0; b < 8192; b++) est_check_gauss(c, a, b, &e);
  printf("bench est_sweep gauss1d [%s]: every (n0, n1) <= 8191 (%llu pairs): max %.4f nm, RMS "
         "%.4f nm, bias %+.5f nm, worst at %u,%u; %llu saturated, %llu wrong; %.0f s\n", c->name,
         (unsigned long long)e.quartets, e.max_abs, est_err_rms(&e), est_err_bias(&e),
         e.worst[0], e.worst[1], (unsigned long long)e.sat_checked,
         (unsigned long long)e.sat_bad, now_s() - t0);
  fflush(stdout);
  return e.max_abs <= 0.1 && e.sat_bad == 0 ? 0 : 1;
}

static void model_speed(void)
{
  est_case_t c = {"live", 100, 360, {1.27, 3.8, 0}, 1, {0}, {0}};
  est_case_t g = {"pre", 300, 360, {0}, 0, {0}, {0}};
  est_case_setup(&c);
  est_case_setup(&g);
  volatile int sink = 0;
  const unsigned reps = 20000000;
  double t0 = now_s();
  for (unsigned i = 0; i < reps; i++) {
    const uint16_t q[4] = {(uint16_t)(i & 63), (uint16_t)((i >> 6) & 255), (uint16_t)((i >> 3) & 511),
                           (uint16_t)((i >> 11) & 127)};
    est_out_t o;
    mlms_eval(&c.mr, q, &o);
    sink += o.x;
  }
  const double tm = (now_s() - t0) / reps;
  t0 = now_s();
  for (unsigned i = 0; i < reps; i++) {
    const uint16_t q[4] = {(uint16_t)(i & 8191), (uint16_t)((i >> 3) & 8191), (uint16_t)(i & 255),
                           (uint16_t)((i >> 9) & 255)};
    est_out_t o;
    gauss1d_eval(&g.gr, q, &o);
    sink += o.x;
  }
  const double tg = (now_s() - t0) / reps;
  printf("bench est_models: mlms_eval %.1f ns, gauss1d_eval %.1f ns per quartet (C models, 1 thread)\n",
         tm * 1e9, tg * 1e9);
  (void)sink;
}

int main(int argc, char **argv)
{
  const char *en = getenv("EST_BENCH_NMAX"), *es = getenv("EST_BENCH_SETS");
  unsigned nmax = argc > 1 ? (unsigned)atoi(argv[1]) : en ? (unsigned)atoi(en) : 1000;
  const char *sets = argc > 2 ? argv[2] : es ? es : "l";
  if (nmax > 2000 || (strcmp(sets, "a") && strcmp(sets, "l"))) {
    fprintf(stderr, "usage: bench_estimators [NMAX <= 2000] [a|l]\n");
    return 2;
  }
  model_speed();
  int bad = 0;
  est_case_t m[3] = {
    {"k=1 live L=100 fwhm=360 b=1.27,3.8", 100, 360, {1.27, 3.8, 0}, 1, {0}, {0}},
    {"k=2 L=100 fwhm=360 b=1,1.5,-1", 100, 360, {1.0, 1.5, -1.0}, 2, {0}, {0}},
    {"k=1 L=300 fwhm=360 b=1.27,3.8", 300, 360, {1.27, 3.8, 0}, 1, {0}, {0}},
  };
  for (int i = 0; i < (sets[0] == 'a' ? 3 : 1); i++) bad |= run_mlms(&m[i], nmax);
  est_case_t g[3] = {
    {"prelocalization L=300 fwhm=360", 300, 360, {0}, 0, {0}, {0}},
    {"L=100 fwhm=360", 100, 360, {0}, 0, {0}, {0}},
    {"L=50 fwhm=450", 50, 450, {0}, 0, {0}, {0}},
  };
  for (int i = 0; i < 3; i++) bad |= run_gauss(&g[i]);
  printf("bench est_sweep: %s\n", bad ? "FAILED (an error above 0.1 nm or a wrong saturation)" : "ok");
  return bad;
}
