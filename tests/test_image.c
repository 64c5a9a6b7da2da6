/* test_image: imaging-mode localizations and sites (host/image.c, docs/imaging.md):
 *  - the raw header's imaging registers -> stage patterns (arithmetic shift of the offsets);
 *  - stage localizations from a hand-made record stream: sums over a stage's records, the
 *    position centre + estimate, the abort verdicts (cfr, bright, next record SEARCH), dark
 *    aborts, events (no SEARCH between final localizations);
 *  - events of a synthetic origami (sites 12 nm and 6 nm apart, random seed printed)
 *    clustered by k-means and by the agglomerative radius: every site recovered, every
 *    pairwise distance within 1 nm of the truth. Rerun a seed with TEST_IMAGE_SEED=S. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "image.h"
#include "regmap.h"

static unsigned long g_seed;

static const char *HDR =
  "{\"format\":1,\"firmware\":{\"id\":1,\"version\":1,\"clk_hz\":48000000},"
  "\"config\":{\"mode\":\"image\",\"k\":\"4\",\"L_nm\":\"100\",\"fwhm_nm\":\"360\",\"eod_nm_per_lsb\":\"0.1\"},"
  "\"registers\":{\"k\":4,\"delay\":653,\"gate\":653,\"win\":775,\"ncycles\":100,\"agg\":1,"
  "\"ctl\":{\"CTL_LOSS\":26222630,\"CTL_IACT\":196695,\"CTL_IACT_T\":24248505,\"CTL_IABORT\":262544,"
  "\"CTL_ISTG0\":567214130,\"CTL_ISTG1\":544161892,\"CTL_ISTG2\":538673352,\"CTL_MODE\":11},"
  "\"offsets\":[0,28442374,4266655494,500]}}";

START_TEST(test_header)
{
  img_params p;
  char err[256];
  ck_assert_int_eq(img_params_from_header(HDR, &p, err, sizeof err), 1);
  ck_assert_int_eq(p.last, 2);
  ck_assert_int_eq(p.k, 4);
  ck_assert_int_eq(p.ratio, 38);          /* CTL_LOSS 0x01902026 */
  ck_assert_int_eq(p.dark, 400);          /* CTL_IABORT 0x00040190: bright 4, dark 400 */
  ck_assert_int_eq(p.bright, 4);
  ck_assert_int_eq(p.limit[0], 50);
  ck_assert_int_eq(p.limit[1], 100);
  ck_assert_int_eq(p.limit[2], 200);
  ck_assert_int_eq(p.shift[2], 2);
  ck_assert_double_eq(p.L_nm[1], 50);
  /* offset 1: 28442374 = 0x01B1FF06: x -250, y 433 (L 100 nm at 120 deg);
   * stage 2 (>> 2): x -63 (arithmetic: -250 >> 2 = -62.5 rounded down), y 108 -> -6.3, 10.8 nm */
  ck_assert_double_eq_tol(p.ebp[2].bx[1], -6.3, 1e-9);
  ck_assert_double_eq_tol(p.ebp[2].by[1], 10.8, 1e-9);
  ck_assert_double_eq_tol(p.ebp[0].by[1], 43.3, 1e-9);
  ck_assert_double_eq_tol(p.ebp[1].bx[3], 25.0, 1e-9);
  ck_assert_double_eq_tol(p.rec_s, 6000 / 48e6, 1e-15);
  /* not an imaging run: CTL_MODE 1, or no ctl at all */
  ck_assert_int_eq(img_params_from_header("{\"registers\":{\"ctl\":{\"CTL_MODE\":1}}}", &p, err, sizeof err), 0);
  ck_assert_int_eq(img_params_from_header("{\"registers\":{}}", &p, err, sizeof err), 0);
  ck_assert_int_eq(img_params_from_header("{\"registers\":{\"ctl\":{\"CTL_MODE\":3}}}", &p, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "without registers.ctl CTL_LOSS"), "%s", err);
}
END_TEST

/* a record stream: state, counts n0..n3, centre (LSB) and estimate (nm) */
static an_rec R[64];
static size_t NR;
static void rec(unsigned st, int n0, int n1, int n2, int n3, double cx, double cy, double ex, double ey)
{
  an_rec *a = &R[NR];
  memset(a, 0, sizeof *a);
  a->seq = NR ? R[NR - 1].seq + 1 : 100;
  a->t_s = a->seq * 125e-6;
  a->k = 4;
  a->flags = (uint8_t)(st << MFX_FLAG_STATE_SHIFT | 1u);
  a->n[0] = (uint16_t)n0; a->n[1] = (uint16_t)n1; a->n[2] = (uint16_t)n2; a->n[3] = (uint16_t)n3;
  a->ch[0] = (uint16_t)(n0 + n1); a->ch[1] = (uint16_t)(n2 + n3);
  a->cx_nm = (float)cx; a->cy_nm = (float)cy; a->ex_nm = (float)ex; a->ey_nm = (float)ey;
  NR++;
}

START_TEST(test_extract)
{
  img_params p;
  char err[256];
  ck_assert_int_eq(img_params_from_header(HDR, &p, err, sizeof err), 1);
  p.bright = 2;   /* a stage that reaches its limit in 1 record is too bright */
  NR = 0;
  rec(1, 0, 0, 1, 0, -90, -90, 0, 0);        /* 0 search */
  rec(2, 9, 8, 7, 6, 10, 5, 0, 0);           /* 1 pre-localization */
  rec(4, 2, 10, 10, 10, 11, 6, 1, 1);        /* 2 stage 0 */
  rec(12, 2, 10, 10, 10, 11, 6, 1.5, -0.5);  /* 3 stage 0 end: N 64, n0 4 */
  rec(5, 1, 20, 20, 20, 12.5, 5.5, 0, 0);    /* 4 stage 1 */
  rec(13, 1, 20, 20, 20, 12.5, 5.5, -0.25, 0.25);   /* 5 stage 1 end: N 122, cfr 2/122 */
  rec(6, 2, 30, 30, 30, 12.25, 5.75, 0, 0);  /* 6 stage 2 */
  rec(14, 2, 40, 40, 40, 12.25, 5.75, 0.5, 0.25);   /* 7 stage 2 end: N 214 -> final 1, event 1 */
  rec(6, 1, 35, 35, 35, 12.75, 6.0, 0, 0);   /* 8 */
  rec(14, 1, 35, 35, 35, 12.75, 6.0, -0.5, 0);      /* 9 final 2, event 1 */
  rec(14, 50, 60, 60, 60, 12.25, 6.0, 0, 0);        /* 10 final 3: one record (bright) and cfr 50/230 */
  rec(1, 0, 0, 0, 0, -90, -90, 0, 0);        /* 11 search: the controller aborted at 10 */
  rec(2, 9, 8, 7, 6, 10, 5, 0, 0);           /* 12 */
  rec(4, 1, 1, 1, 1, 11, 6, 0, 0);           /* 13 stage 0 */
  rec(1, 0, 0, 0, 0, -90, -90, 0, 0);        /* 14 search: stage 0 left dark */
  rec(2, 9, 8, 7, 6, 10, 5, 0, 0);           /* 15 */
  rec(12, 5, 20, 20, 20, 20, 20, 0, 0);      /* 16 stage 0 end: 1 record = bright by the rule, but the next is stage 1 */
  rec(5, 2, 30, 30, 30, 20, 20, 0, 0);       /* 17 */
  rec(13, 2, 30, 30, 30, 20, 20, 0, 0);      /* 18 stage 1 end */
  rec(6, 1, 50, 50, 50, 20, 20, 0, 0);       /* 19 */
  rec(14, 1, 50, 50, 50, 20, 20, 1, 2);      /* 20 final 4: event 2 (a search since event 1) */
  an_raw raw;
  memset(&raw, 0, sizeof raw);
  raw.rec = R;
  raw.n = NR;
  img_result r;
  ck_assert_int_eq(img_extract(&raw, &p, 1, 10, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.nloc, 8);
  ck_assert_uint_eq(r.nfinal, 4);
  ck_assert_uint_eq(r.nfinal_ok, 3);
  const img_loc *l = r.loc;
  ck_assert_int_eq(l[0].stage, 0);
  ck_assert_uint_eq(l[0].N, 64);
  ck_assert_uint_eq(l[0].n[0], 4);
  ck_assert_uint_eq(l[0].nrec, 2);
  ck_assert_uint_eq(l[0].first, 2);
  ck_assert_double_eq_tol(l[0].x_nm, 12.5, 1e-6);
  ck_assert_double_eq_tol(l[0].y_nm, 5.5, 1e-6);
  ck_assert_int_eq(l[0].abort, IMG_AB_NONE);
  ck_assert_int_eq(l[0].final, 0);
  ck_assert_uint_eq(l[1].N, 122);
  ck_assert_double_eq_tol(l[1].cfr, 2.0 / 122, 1e-12);
  ck_assert_int_eq(l[2].final, 1);
  ck_assert_uint_eq(l[2].N, 214);
  ck_assert_uint_eq(l[2].event, 1);
  ck_assert_double_eq_tol(l[2].x_nm, 12.75, 1e-6);
  ck_assert_uint_eq(l[3].event, 1);
  ck_assert_uint_eq(l[3].N, 212);
  /* 10: 256 x 50 = 12800 >= 38 x 230 = 8740: cfr (before bright), next record SEARCH */
  ck_assert_int_eq(l[4].abort, IMG_AB_CFR);
  ck_assert_int_eq(l[4].next_state, 1);
  ck_assert_uint_eq(l[4].event, 0);
  /* 16: the bright rule says abort, the firmware went on: kept, counted as a mismatch */
  ck_assert_int_eq(l[5].abort, IMG_AB_NONE);
  ck_assert_uint_eq(r.rule_mismatch, 1);
  ck_assert_uint_eq(l[7].event, 2);
  ck_assert_int_eq(l[7].next_state, -1);   /* the end of the run */
  ck_assert_uint_eq(r.nevents, 2);
  ck_assert_uint_eq(r.dark_aborts[0], 1);
  ck_assert_uint_eq(r.aborted_final[IMG_AB_CFR], 1);
  ck_assert_uint_eq(r.by_state[14], 4);
  ck_assert_uint_eq(r.by_state[1], 3);
  /* the host MLE of a final localization lies near the centre (counts nearly balanced) */
  ck_assert_int_ge(l[2].mle, 0);
  ck_assert_msg(hypot(l[2].mx_nm - l[2].cx_nm, l[2].my_nm - l[2].cy_nm) < 10, "MLE (%g, %g)", l[2].mx_nm, l[2].my_nm);
  img_event *ev;
  size_t nev;
  ck_assert_int_eq(img_events(&r, 0, &ev, &nev), 0);
  ck_assert_uint_eq(nev, 2);
  ck_assert_uint_eq(ev[0].nloc, 2);
  ck_assert_double_eq_tol(ev[0].x_nm, (12.75 + 12.25) / 2, 1e-6);
  ck_assert_double_eq_tol(ev[0].ss_nm2, 2 * 0.25 * 0.25, 1e-6);   /* x 12.75/12.25, y 6.0/6.0 */
  free(ev);
  img_result_free(&r);
  /* a gap inside the last stage (record 8 lost): incomplete, the firmware's estimate kept */
  for (size_t i = 8; i < NR; i++) R[i].seq += 1;
  ck_assert_int_eq(img_extract(&raw, &p, 0, 10, &r, err, sizeof err), 0);
  ck_assert_int_eq(r.loc[3].incomplete, 1);
  ck_assert_int_eq(r.loc[2].incomplete, 0);
  ck_assert_int_eq(r.loc[2].next_state, -1);   /* the record after 7 is missing */
  img_result_free(&r);
}
END_TEST

/* origami: sites 12 nm apart in a row and a pair 6 nm apart */
static const double TX[5] = { -12, 0, 12, -3, 3 }, TY[5] = { -6, -6, -6, 12, 12 };

static void synth(gsl_rng *g, img_result *r, double sigma, int nev_per_site, const double *tx, const double *ty, int ns,
                  double ox, double oy)
{
  memset(r, 0, sizeof *r);
  r->cap = (size_t)ns * nev_per_site * 20;
  r->loc = calloc(r->cap, sizeof *r->loc);
  uint32_t ev = 0;
  for (int k = 0; k < nev_per_site * ns; k++) {
    const int s = (int)gsl_rng_uniform_int(g, (unsigned long)ns);
    const int n = 1 + (int)gsl_ran_poisson(g, 5);
    ev++;
    for (int i = 0; i < n && r->nloc < r->cap; i++) {
      img_loc *l = &r->loc[r->nloc++];
      l->final = 1;
      l->stage = 2;
      l->event = ev;
      l->N = 200;
      l->x_nm = tx[s] + ox + gsl_ran_gaussian(g, sigma);
      l->y_nm = ty[s] + oy + gsl_ran_gaussian(g, sigma);
      l->mx_nm = l->x_nm; l->my_nm = l->y_nm;
      l->t_s = r->nloc * 1e-3;
    }
  }
  r->nevents = ev;
  r->nfinal = r->nfinal_ok = r->nloc;
}

static void check_sites(const img_site *S, size_t ns, const char *how)
{
  for (size_t a = 0; a < ns; a++) {
    ck_assert_msg(S[a].truth >= 0, "%s: site %zu unmatched (seed %lu)", how, a, g_seed);
    for (size_t b = a + 1; b < ns; b++) {
      const double d = hypot(S[a].x_nm - S[b].x_nm, S[a].y_nm - S[b].y_nm);
      const double t = hypot(TX[S[a].truth] - TX[S[b].truth], TY[S[a].truth] - TY[S[b].truth]);
      ck_assert_msg(fabs(d - t) < 1.0, "%s: distance %zu-%zu %.3f nm, truth %.3f nm (seed %lu)", how, a, b, d, t, g_seed);
    }
  }
}

START_TEST(test_sites)
{
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, g_seed);
  img_result r;
  /* 1.5 nm per localization, ~6 per event: event means ~0.6 nm; offset (200, -30) nm */
  synth(g, &r, 1.5, 30, TX, TY, 5, 200, -30);
  img_event *ev;
  size_t nev;
  ck_assert_int_eq(img_events(&r, 0, &ev, &nev), 0);
  ck_assert_uint_eq(nev, r.nevents);
  double *x = malloc(nev * sizeof *x), *y = malloc(nev * sizeof *y), *w = malloc(nev * sizeof *w);
  int *lab = malloc(nev * sizeof *lab);
  img_site *S = malloc(nev * sizeof *S);
  size_t m = 0;
  for (size_t i = 0; i < nev; i++) if (ev[i].nloc >= 2) { x[m] = ev[i].x_nm; y[m] = ev[i].y_nm; w[m++] = (double)ev[i].nloc; }
  /* k-means with the 5 truth sites */
  const size_t nk = img_kmeans(x, y, w, m, 5, 7, 50, lab, S);
  ck_assert_uint_eq(nk, 5);
  double ox, oy;
  const double rms = img_match_truth(S, nk, TX, TY, 5, 1, &ox, &oy);
  ck_assert_msg(rms < 0.5, "k-means site RMS %.3f nm (seed %lu)", rms, g_seed);
  ck_assert_msg(fabs(ox - 200) < 0.5 && fabs(oy + 30) < 0.5, "offset (%.2f, %.2f) (seed %lu)", ox, oy, g_seed);
  check_sites(S, nk, "k-means");
  /* without the number: the agglomerative clusters at 3 nm find the five */
  const size_t na0 = img_cluster_radius(x, y, w, m, 3.0, lab, S);
  size_t na = 0;   /* clusters of fewer than 3 events are outliers (an event mean far in a tail) */
  for (size_t q = 0; q < na0; q++) if (S[q].events >= 3) S[na++] = S[q];
  ck_assert_msg(na == 5, "agglomerative: %zu clusters of >= 3 events, %zu in all (seed %lu)", na, na0, g_seed);
  img_match_truth(S, na, TX, TY, 5, 1, &ox, &oy);
  check_sites(S, na, "agglomerative");
  /* single-emitter events at the known 1.5 nm are not mixed (the rule's alpha 1e-3 per
   * event: at most a few of ~150), an event switching between the 6 nm pair is */
  size_t nmixed = 0;
  for (size_t i = 0; i < nev; i++) nmixed += (size_t)img_event_mixed(&ev[i], 1.5, 1e-3);
  ck_assert_msg(nmixed <= 3, "%zu of %zu single-emitter events called mixed (seed %lu)", nmixed, nev, g_seed);
  {
    img_event two = { 0 };
    const double px[6] = { -3, 3, -3, 3, -3, 3 };
    double mxx = 0, ss = 0;
    for (int i = 0; i < 6; i++) mxx += px[i] / 6;
    for (int i = 0; i < 6; i++) ss += (px[i] - mxx) * (px[i] - mxx) + 2 * 1.5 * 1.5 * 5.0 / 6.0;   /* + the expected noise */
    two.nloc = 6; two.ss_nm2 = ss;
    ck_assert(img_event_mixed(&two, 1.5, 1e-3));
    two.ss_nm2 = 2 * 1.5 * 1.5 * 5;   /* exactly the expectation of one emitter: not mixed */
    ck_assert(!img_event_mixed(&two, 1.5, 1e-3));
    two.nloc = 1;
    ck_assert(!img_event_mixed(&two, 1.5, 1e-3));
  }
  /* too large a radius merges the 6 nm pair (the test can fail): 4 or fewer */
  ck_assert_uint_le(img_cluster_radius(x, y, w, m, 7.0, lab, S), 4);
  /* k from the data (the known 1.5 nm per localization): the five, at the truth. The test
   * of a true site fails with probability alpha / k by construction (seed 1796238393 split a
   * site at alpha = 1e-3: p 1.5e-4), so alpha is 1e-6 here */
  double pmin;
  const double AL = 1e-6;
  const size_t ka = img_kmeans_auto(x, y, w, m, 8, 1.5, AL, 3.0, 7, 50, lab, S, &pmin);
  ck_assert_msg(ka == 5, "k-means auto: k %zu, p_min %.3g (seed %lu)", ka, pmin, g_seed);
  ck_assert_msg(pmin >= AL / 5, "k-means auto: p_min %.3g (seed %lu)", pmin, g_seed);
  img_match_truth(S, ka, TX, TY, 5, 1, &ox, &oy);
  check_sites(S, ka, "k-means auto");
  /* a resolution coarser than the 6 nm pair: it stays one site */
  ck_assert_uint_eq(img_kmeans_auto(x, y, w, m, 8, 1.5, AL, 7.0, 7, 50, lab, S, &pmin), 4);
  /* the events of one site alone: one */
  size_t m1 = 0;
  for (size_t i = 0; i < m; i++)
    if (hypot(x[i] - 200 - TX[0], y[i] + 30 - TY[0]) < 2.9) { x[m1] = x[i]; y[m1] = y[i]; w[m1++] = w[i]; }
  ck_assert_uint_ge(m1, 5);
  ck_assert_uint_eq(img_kmeans_auto(x, y, w, m1, 8, 1.5, AL, 3.0, 7, 50, lab, S, &pmin), 1);
  /* a yardstick far too small: no k passes, kmax's clustering comes back with p_min below */
  ck_assert_uint_eq(img_kmeans_auto(x, y, w, m1, 8, 0.05, AL, 0.0, 7, 50, lab, S, &pmin), m1 < 8 ? m1 : 8);
  if (m1 > 8) ck_assert_msg(pmin < AL / 8, "p_min %.3g with %zu events (seed %lu)", pmin, m1, g_seed);
  printf("test_image: seed %lu, %zu events (%zu with >= 2 localizations), k-means site RMS %.3f nm\n", g_seed, nev, m, rms);
  free(x); free(y); free(w); free(lab); free(S); free(ev);
  img_result_free(&r);
  gsl_rng_free(g);
}
END_TEST

START_TEST(test_match_sizes)
{
  /* more sites than truth and fewer: the smaller set is matched */
  img_site S[6];
  memset(S, 0, sizeof S);
  const double sx[6] = { -12, 0, 12, -3, 3, 40 }, sy[6] = { -6, -6, -6, 12, 12, 40 };
  for (int i = 0; i < 6; i++) { S[i].x_nm = sx[i]; S[i].y_nm = sy[i]; }
  ck_assert_double_eq_tol(img_match_truth(S, 6, TX, TY, 5, 0, NULL, NULL), 0, 1e-12);
  ck_assert_int_eq(S[5].truth, -1);
  ck_assert_int_eq(S[3].truth, 3);
  ck_assert_double_eq_tol(img_match_truth(S, 3, TX, TY, 5, 0, NULL, NULL), 0, 1e-12);
  ck_assert_int_eq(S[2].truth, 2);
}
END_TEST

int main(void)
{
  const char *e = getenv("TEST_IMAGE_SEED");
  g_seed = e ? strtoul(e, NULL, 10) : (unsigned long)time(NULL);
  printf("test_image: seed %lu (rerun with TEST_IMAGE_SEED=%lu)\n", g_seed, g_seed);
  Suite *s = suite_create("image");
  TCase *t = tcase_create("image");
  tcase_add_test(t, test_header);
  tcase_add_test(t, test_extract);
  tcase_add_test(t, test_sites);
  tcase_add_test(t, test_match_sizes);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
