/* test_track_error: host/track_error.c (S81/S82, the CRB expectation, the CSV tables and
 * the localization-to-truth matching) on synthetic data with known answers. The one
 * statistical case (Gaussian errors of known sigma) prints its seed (TE_SEED=S repeats). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "est_float.h"
#include "track_error.h"

static unsigned long g_seed;

#define NEAR(a, b, tol) ck_assert_msg(fabs((a) - (b)) <= (tol), "%s = %.12g, expected %.12g", #a, (double)(a), (double)(b))

START_TEST(test_mean_over_s82)
{
  const double t[] = { 0, 1, 2, 3 }, v[] = { 1, 4, 7, 10 };   /* v = 3 t + 1 */
  NEAR(te_mean_over(t, v, 4, 0.5, 2.5), 5.5, 1e-12);
  NEAR(te_mean_over(t, v, 4, 0, 3), 5.5, 1e-12);
  NEAR(te_mean_over(t, v, 4, 1.2, 1.7), 3 * 1.45 + 1, 1e-12);     /* inside one segment */
  NEAR(te_mean_over(t, v, 4, -1, 0.5), 1.875 / 1.5, 1e-12);         /* held before the first sample */
  NEAR(te_mean_over(t, v, 4, 2, 5), 28.5 / 3, 1e-12);               /* held after the last */
  NEAR(te_mean_over(t, v, 4, 1.5, 1.5), 5.5, 1e-12);                /* an empty interval: the value */
  NEAR(te_mean_over(t, v, 1, 0, 1), 1, 0);
  /* a sine sampled at 1 us over whole periods averages to its offset; over a quarter
   * period to offset + A 2/pi */
  static double ts[10001], vs[10001];
  for (int i = 0; i <= 10000; i++) { ts[i] = i * 1e-6; vs[i] = 7 + 250 * sin(2 * M_PI * 1000 * ts[i]); }
  NEAR(te_mean_over(ts, vs, 10001, 0, 0.01), 7, 1e-6);
  NEAR(te_mean_over(ts, vs, 10001, 0, 0.00025), 7 + 250 * 2 / M_PI, 1e-3);
}
END_TEST

START_TEST(test_epsilon_s81)
{
  double ex[50], ey[50], tx[50], ty[50];
  for (int i = 0; i < 50; i++) { tx[i] = i * 1.5; ty[i] = -i; ex[i] = tx[i] + 3; ey[i] = ty[i] - 4; }
  NEAR(te_epsilon(ex, ey, tx, ty, 50, 2), sqrt(25.0 / 2), 1e-12);   /* |3,4| = 5 in 2 dimensions */
  NEAR(te_epsilon(ex, NULL, tx, NULL, 50, 1), 3, 1e-12);
  /* alternating +-d along x only: e = d / sqrt(2) in 2D */
  for (int i = 0; i < 50; i++) { ex[i] = tx[i] + (i % 2 ? 2 : -2); ey[i] = ty[i]; }
  NEAR(te_epsilon(ex, ey, tx, ty, 50, 2), 2 / sqrt(2), 1e-12);
  ck_assert(isnan(te_epsilon(ex, ey, tx, ty, 0, 2)));
  ck_assert(isnan(te_epsilon(ex, ey, tx, ty, 5, 3)));
  /* spread: +-1 in x and y about any mean */
  double sx[4] = { 9, 11, 9, 11 }, sy[4] = { -1, 1, 1, -1 };
  NEAR(te_spread(sx, sy, 4), sqrt(4.0 * 2 / (2.0 * 3)), 1e-12);
}
END_TEST

START_TEST(test_epsilon_statistical)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, g_seed);
  const size_t M = 100000;
  double *ex = malloc(M * sizeof *ex), *ey = malloc(M * sizeof *ey), *tx = malloc(M * sizeof *tx), *ty = malloc(M * sizeof *ty);
  for (size_t i = 0; i < M; i++) {
    tx[i] = 250 * sin(i * 1e-3);
    ty[i] = 250 * cos(i * 1.5e-3);
    ex[i] = tx[i] + gsl_ran_gaussian(r, 5.0);
    ey[i] = ty[i] + gsl_ran_gaussian(r, 5.0);
  }
  const double e = te_epsilon(ex, ey, tx, ty, M, 2);
  /* e^2 is a mean of 2M squared N(0, 25): relative se of e = 1 / sqrt(4 M) */
  printf("  Gaussian errors sigma 5 nm per axis, M = %zu: e = %.4f nm (se %.4f, seed %lu)\n", M, e, 5 / sqrt(4.0 * M), g_seed);
  ck_assert_msg(fabs(e - 5) < 5 * 5 / sqrt(4.0 * M), "e = %.4f for sigma 5 (seed %lu)", e, g_seed);
  free(ex); free(ey); free(tx); free(ty);
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_crb_expect)
{
  const double N1[] = { 100, 100, 100 };
  NEAR(te_crb_expect(N1, NULL, NULL, 3, 100, 360, 0), mf_crb_s27(100, 360, 100), 1e-12);
  /* S27 by hand: L / (2 sqrt(2N)) / (1 - L^2 ln2 / fwhm^2) = 3.7353 nm (README: `minflux crb` 3.74) */
  NEAR(te_crb_expect(N1, NULL, NULL, 3, 100, 360, 0), 100 / (2 * sqrt(200.0)) / (1 - 1e4 * log(2) / (360.0 * 360)), 1e-9);
  /* N = 25 and 100: the CRB goes as 1/sqrt(N): sqrt((4 c^2 + c^2) / 2) */
  const double N2[] = { 25, 100, 0 };
  const double c = mf_crb_s27(100, 360, 100);
  NEAR(te_crb_expect(N2, NULL, NULL, 3, 100, 360, 0), c * sqrt(2.5), 1e-12);   /* N = 0 skipped */
  NEAR(te_crb_expect(N1, NULL, NULL, 3, 100, 360, 5), mf_crb_s31(100, 360, 100, 5), 1e-12);
  /* at the emitter positions: the origin gives S27 back, an offset emitter a larger bound */
  const double z[] = { 0, 0, 0 }, off[] = { 20, 20, 20 };
  NEAR(te_crb_expect(N1, z, z, 3, 100, 360, 0), c, 1e-6 * c);
  ck_assert(te_crb_expect(N1, off, z, 3, 100, 360, 0) > c);
  mf_ebp_t ebp;
  mf_ebp4(100, 360, &ebp);
  NEAR(te_crb_expect(N1, off, z, 3, 100, 360, 0), mf_crb(&ebp, 20, 0, 100, 0, NULL), 1e-12);
  const double N0[] = { 0, 0 };
  ck_assert(isnan(te_crb_expect(N0, NULL, NULL, 2, 100, 360, 0)));
}
END_TEST

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert(f != NULL);
  fputs(text, f);
  fclose(f);
}

START_TEST(test_csv_and_match)
{
  char dir[] = "/tmp/test_track_error_XXXXXX";
  ck_assert(mkdtemp(dir) != NULL);
  char path[300], err[512];
  snprintf(path, sizeof path, "%s/truth.csv", dir);
  /* 6 cycles of 125 us; the emitter is dark in cycle 3 */
  write_file(path, "t_s,x_nm,y_nm,on\n"
                   "0.001000000,10.000,-2.000,1\n0.001125000,12.000,-2.000,1\n0.001250000,14.000,-4.000,1\n"
                   "0.001375000,16.000,-4.000,0\n0.001500000,18.000,-6.000,1\n0.001625000,20.000,-6.000,1\n");
  te_table tr;
  ck_assert_msg(te_read_csv(path, &tr, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(tr.rows, 6);
  ck_assert_int_eq(tr.cols, 4);
  ck_assert_int_eq(te_col(&tr, "on"), 3);
  ck_assert_int_eq(te_col(&tr, "state"), -1);
  NEAR(te_at(&tr, 4, te_col(&tr, "x_nm")), 18, 0);
  /* one cycle per localization: the row itself; one before the first row: unmatched */
  const double tl[] = { 0.000875, 0.001125, 0.001375, 0.0015 };
  double mx[4], my[4];
  int on[4];
  ck_assert_int_eq(te_match_truth(&tr, tl, 4, 125e-6, mx, my, on), 1);
  ck_assert(isnan(mx[0]) && on[0] == 0);
  NEAR(mx[1], 12, 1e-12); NEAR(my[1], -2, 1e-12); ck_assert_int_eq(on[1], 1);
  NEAR(mx[2], 16, 1e-12); ck_assert_int_eq(on[2], 0);
  NEAR(mx[3], 18, 1e-12); ck_assert_int_eq(on[3], 1);
  /* two cycles per localization (aggregated records): the mean of both, on only if both */
  const double ta[] = { 0.001, 0.00125, 0.0015 };
  ck_assert_int_eq(te_match_truth(&tr, ta, 3, 250e-6, mx, my, on), 0);
  NEAR(mx[0], 11, 1e-12); NEAR(my[0], -2, 1e-12); ck_assert_int_eq(on[0], 1);
  NEAR(mx[1], 15, 1e-12); NEAR(my[1], -4, 1e-12); ck_assert_int_eq(on[1], 0);
  NEAR(mx[2], 19, 1e-12); ck_assert_int_eq(on[2], 1);
  te_free(&tr);

  /* refusals name the file, line and column */
  write_file(path, "t_s,x_nm,y_nm,on\n0.1,2,3,1\n0.2,2,abc,1\n");
  ck_assert_int_eq(te_read_csv(path, &tr, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "truth.csv:3: column 3 y_nm: 'abc' is not a number"), "%s", err);
  write_file(path, "t_s,x_nm,y_nm,on\n0.1,2,3\n");
  ck_assert_int_eq(te_read_csv(path, &tr, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "truth.csv:2: 3 columns, the header has 4"), "%s", err);
  write_file(path, "");
  ck_assert_int_eq(te_read_csv(path, &tr, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "empty"), "%s", err);
  snprintf(path, sizeof path, "%s/none.csv", dir);
  ck_assert_int_eq(te_read_csv(path, &tr, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cannot open") && strstr(err, "none.csv"), "%s", err);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *te_suite(void)
{
  Suite *s = suite_create("track_error");
  TCase *t = tcase_create("core");
  tcase_add_test(t, test_mean_over_s82);
  tcase_add_test(t, test_epsilon_s81);
  tcase_add_test(t, test_epsilon_statistical);
  tcase_add_test(t, test_crb_expect);
  tcase_add_test(t, test_csv_and_match);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  const char *env = getenv("TE_SEED");
  g_seed = env && *env ? strtoul(env, NULL, 0) : (unsigned long)time(NULL);
  printf("test_track_error: seed %lu (TE_SEED=%lu to repeat)\n", g_seed, g_seed);
  fflush(stdout);
  SRunner *sr = srunner_create(te_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
