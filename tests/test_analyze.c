/* test_analyze: the analysis building blocks (Check). A seed is printed for every random
 * part; ANALYZE_SEED=S repeats a run.
 *  - npy writer: binary16 rounding, header layout (NPY 1.0, 64-byte aligned), packed rows;
 *  - raw reader: exact byte offsets of truncated, garbled and inserted damage, records kept;
 *  - HMM: on/off blinking traces (S78-S80) and imaging traces (S75) with known paths;
 *  - OLSF: motion blur R (S66), D and sigma of synthetic blinking Brownian tracks (S67-S71);
 *  - numLMS: S54 mean map and Jacobian, bias of the live mLMS before/after on a grid of
 *    positions with Poisson quartets (bias maps printed), >= 5x smaller within L/2;
 *  - 2D MLE (S37): exact on noiseless counts, precision near the CRB on Poisson counts. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "analyze.h"
#include "analyze_raw.h"
#include "est_float.h"
#include "est_regs.h"
#include "hmm.h"
#include "mle2d.h"
#include "npy.h"
#include "numlms.h"
#include "olsf.h"
#include "protocol.h"
#include "track_error.h"

static unsigned long g_seed;

static gsl_rng *rng(unsigned long salt)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, g_seed * 1000003ul + salt);
  return r;
}

/* ---- npy ---- */

START_TEST(npy_half_rounding)
{
  const struct { float f; uint16_t h; } c[] = {
    { 0.0f, 0x0000 }, { -0.0f, 0x8000 }, { 1.0f, 0x3C00 }, { -2.0f, 0xC000 }, { 0.5f, 0x3800 },
    { 65504.0f, 0x7BFF }, { 65520.0f, 0x7C00 }, { 1e9f, 0x7C00 }, { 6.1035156e-05f, 0x0400 },
    { 5.9604645e-08f, 0x0001 }, { 2.9802322e-08f, 0x0000 }, { 0.33325195f, 0x3555 },
    { 1.0009766f, 0x3C01 }, { 1.00048828125f, 0x3C00 } /* tie: to even */, { 1.00146484375f, 0x3C02 },
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    ck_assert_msg(npy_half(c[i].f) == c[i].h, "npy_half(%.9g) = 0x%04X, expected 0x%04X", c[i].f, npy_half(c[i].f), c[i].h);
  ck_assert((npy_half(NAN) & 0x7C00) == 0x7C00 && (npy_half(NAN) & 0x3FF));
  ck_assert(npy_half(INFINITY) == 0x7C00);
}
END_TEST

START_TEST(npy_header)
{
  static const npy_field f[] = { { "a", "|b1", 1 }, { "b", "<f8", 3 }, { "c", "<f2", 2 }, { "d", "<u4", 1 } };
  size_t off[4];
  ck_assert_uint_eq(npy_row_size(f, 4, off), 1 + 24 + 4 + 4);
  ck_assert_uint_eq(off[2], 25);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char err[128];
  ck_assert_int_eq(npy_write_header(m, f, 4, 12345, err, sizeof err), 0);
  fclose(m);
  ck_assert_uint_eq(len % 64, 0);
  ck_assert(!memcmp(buf, "\x93NUMPY\x01\x00", 8));
  const size_t hl = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
  ck_assert_uint_eq(hl + 10, len);
  ck_assert(buf[len - 1] == '\n');
  ck_assert_ptr_nonnull(memmem(buf, len, "{'descr': [('a', '|b1'), ('b', '<f8', (3,)), ('c', '<f2', (2,)), ('d', '<u4')], "
                                     "'fortran_order': False, 'shape': (12345,), }", 124));
  uint8_t row[8];
  npy_put_u32(row, 0x01020304u);
  ck_assert(row[0] == 4 && row[3] == 1);
  npy_put_f64(row, 1.0);
  ck_assert(row[7] == 0x3F && row[6] == 0xF0 && row[0] == 0);
  free(buf);
  static const npy_field bad[] = { { "x", "<c16", 1 } };
  m = open_memstream(&buf, &len);
  ck_assert_int_eq(npy_write_header(m, bad, 1, 1, err, sizeof err), -1);
  fclose(m);
  free(buf);
}
END_TEST

/* ---- raw reader ---- */

static size_t make_raw(const char *path, int n, int bad_frame, int garble_frame, size_t *hdr_len)
{
  FILE *f = fopen(path, "wb");
  const char *hdr = "{\"format\":1,\"firmware\":{\"clk_hz\":48000000},\"config\":{\"mode\":\"track\",\"k\":\"4\","
                    "\"L_nm\":\"100\",\"fwhm_nm\":\"360\",\"eod_nm_per_lsb\":\"0.1\"},"
                    "\"registers\":{\"k\":4,\"delay\":355,\"gate\":1120,\"win\":99},\"cycle_hz\":8000.0}";
  fprintf(f, "%s%s\n", MFX_RAW_MAGIC, hdr);
  *hdr_len = strlen(MFX_RAW_MAGIC) + strlen(hdr) + 1;
  uint8_t pl[64], fr[MFX_FRAME_MAX];
  size_t total = *hdr_len;
  for (int i = 0; i < n; i++) {
    mfx_cycle c;
    memset(&c, 0, sizeof c);
    c.k = 4;
    c.seq = (uint16_t)(i == bad_frame ? i + 30000 : i);   /* a frame whose CRC is fine but that cannot follow */
    c.ts = (uint32_t)(i * 6000u + 7u);
    c.cx = (int16_t)i;
    for (int k = 0; k < 4; k++) { c.counts[k][0] = (uint16_t)(i % 7 + k); c.counts[k][1] = (uint16_t)k; }
    const size_t l = mfx_frame_encode(fr, MINFLUX_PROTO_T_CYCLE, pl, (uint8_t)mfx_cycle_encode(&c, pl));
    if (i == garble_frame) fr[12] ^= 0x40;
    fwrite(fr, 1, l, f);
    total += l;
  }
  fclose(f);
  return total;
}

START_TEST(raw_damage)
{
  char dir[] = "/tmp/test_analyze_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256], err[256];
  snprintf(path, sizeof path, "%s/raw.mfx", dir);
  size_t hl;
  an_raw r;
  /* intact */
  size_t total = make_raw(path, 1000, -1, -1, &hl);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.n, 1000);
  ck_assert_uint_eq(r.ndmg, 0);
  ck_assert_uint_eq(r.data_offset, hl);
  ck_assert_uint_eq(r.file_bytes, total);
  ck_assert(fabs(r.rec[999].t_s - (999 * 6000.0 + 7) / 48e6) < 1e-12);
  ck_assert(r.rec[5].n[3] == 5 % 7 + 3 + 3 && r.rec[5].ch[1] == 0 + 1 + 2 + 3);
  an_raw_free(&r);
  /* truncated 10 bytes into frame 600 (32-byte frames) */
  ck_assert_int_eq(truncate(path, (off_t)(hl + 32 * 600 + 10)), 0);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.n, 600);
  ck_assert_uint_eq(r.ndmg, 1);
  ck_assert_uint_eq(r.dmg[0].offset, hl + 32 * 600);
  ck_assert_uint_eq(r.dmg[0].bytes, 10);
  ck_assert_str_eq(r.dmg[0].what, "truncated frame");
  an_raw_free(&r);
  /* one garbled byte in frame 300: that frame alone is lost */
  make_raw(path, 1000, -1, 300, &hl);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.n, 999);
  ck_assert_uint_eq(r.ndmg, 1);
  ck_assert_uint_eq(r.dmg[0].offset, hl + 32 * 300);
  ck_assert_uint_eq(r.dmg[0].bytes, 32);
  ck_assert_str_eq(r.dmg[0].what, "CRC error");
  ck_assert_uint_eq(r.gaps, 1);
  ck_assert_uint_eq(r.rec[300].seq, 301);
  an_raw_free(&r);
  /* a well-formed frame with an impossible sequence number */
  make_raw(path, 1000, 400, -1, &hl);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.n, 999);
  ck_assert_uint_eq(r.ndmg, 1);
  ck_assert_uint_eq(r.dmg[0].offset, hl + 32 * 400);
  ck_assert_str_eq(r.dmg[0].what, "implausible record");
  an_raw_free(&r);
  /* 5 garbage bytes inserted after frame 100 */
  make_raw(path, 200, -1, -1, &hl);
  FILE *f = fopen(path, "rb");
  uint8_t *all = malloc(1 << 16);
  const size_t n = fread(all, 1, 1 << 16, f);
  fclose(f);
  f = fopen(path, "wb");
  fwrite(all, 1, hl + 32 * 101, f);
  fwrite("\x01\x02\xA5\x07\x09", 1, 5, f);
  fwrite(all + hl + 32 * 101, 1, n - hl - 32 * 101, f);
  fclose(f);
  free(all);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), 0);
  ck_assert_uint_eq(r.n, 200);
  ck_assert_uint_eq(r.ndmg, 1);
  ck_assert_uint_eq(r.dmg[0].offset, hl + 32 * 101);
  ck_assert_uint_eq(r.dmg[0].bytes, 5);
  ck_assert_str_eq(r.dmg[0].what, "garbage");
  an_raw_free(&r);
  /* not a raw file; header cut */
  f = fopen(path, "wb");
  fputs("MINFLUX-RAW 1\n{\"format\":1,\"firm", f);
  fclose(f);
  ck_assert_int_eq(an_raw_read(path, &r, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "header"));
  an_raw_free(&r);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* ---- HMM ---- */

START_TEST(hmm_onoff)
{
  gsl_rng *r = rng(1);
  const double dt = 125e-6, ton = 2e-3, toff = 0.6e-3, lon = 15, loff = 3;
  const size_t T = 200000;
  uint32_t *obs = malloc(T * sizeof *obs);
  uint8_t *truth = malloc(T), *path = malloc(T);
  int s = 1;
  for (size_t t = 0; t < T; t++) {
    if (gsl_rng_uniform(r) < dt / (s ? ton : toff)) s = !s;
    truth[t] = (uint8_t)s;
    obs[t] = t % 997 == 5 ? HMM_MISSING : gsl_ran_poisson(r, s ? lon : loff);
  }
  hmm2_result h;
  ck_assert_int_eq(hmm2_segment(obs, T, dt, path, &h), 0);
  size_t agree = 0;
  for (size_t t = 0; t < T; t++) agree += path[t] == truth[t];
  printf("hmm2 (seed %lu): %.2f %% of %zu cycles right; t_on %.3g ms, t_off %.3g ms, SBR %.3g (truth 2, 0.6, %.3g)\n",
         g_seed, 100.0 * agree / T, T, h.t_on_s[2] * 1e3, h.t_off_s[2] * 1e3, h.sbr[2], lon / loff - 1);
  ck_assert_msg(agree > 0.93 * T, "hmm2: only %zu of %zu cycles in the right state (seed %lu)", agree, T, g_seed);
  ck_assert_msg(fabs(h.t_on_s[2] / ton - 1) < 0.2 && fabs(h.t_off_s[2] / toff - 1) < 0.3,
                "hmm2: t_on %g, t_off %g (seed %lu)", h.t_on_s[2], h.t_off_s[2], g_seed);
  ck_assert_msg(fabs(h.sbr[2] / (lon / loff - 1) - 1) < 0.15, "hmm2: SBR %g (seed %lu)", h.sbr[2], g_seed);
  /* no blinking at all: no contrast, SBR undetermined */
  for (size_t t = 0; t < 20000; t++) obs[t] = gsl_ran_poisson(r, 12);
  ck_assert_int_eq(hmm2_segment(obs, 20000, dt, path, &h), 0);
  ck_assert_msg(isnan(h.sbr[2]), "hmm2 without blinking: SBR %g, expected undetermined", h.sbr[2]);
  free(obs); free(truth); free(path);
  gsl_rng_free(r);
}
END_TEST

START_TEST(hmm_imaging)
{
  gsl_rng *r = rng(2);
  const double dt = 125e-6;
  const size_t T = 400000;
  const double lam[3] = { 0.6, 8, 16 };
  uint32_t *obs = malloc(T * sizeof *obs);
  uint8_t *truth = malloc(T), *path = malloc(T);
  int s = 0;
  for (size_t t = 0; t < T; t++) {
    const double u = gsl_rng_uniform(r);
    if (s == 0 && u < 1.0 / 2000) s = gsl_rng_uniform(r) < 0.9 ? 1 : 2;
    else if (s == 1 && u < 1.0 / 1500) s = 0;
    else if (s == 2 && u < 1.0 / 800) s = 1;
    truth[t] = (uint8_t)s;
    obs[t] = gsl_ran_poisson(r, lam[s]);
  }
  hmm3_result h;
  ck_assert_int_eq(hmm3_segment(obs, T, dt, path, &h), 0);
  size_t agree = 0;
  for (size_t t = 0; t < T; t++) agree += path[t] == truth[t];
  printf("hmm3 (seed %lu): %.2f %% right; mixture lambda %.3g %.3g %.3g per 1 ms bin; final %.3g %.3g %.3g per cycle (truth 0.6 8 16)\n",
         g_seed, 100.0 * agree / T, h.lambda_mix[0], h.lambda_mix[1], h.lambda_mix[2], h.lambda[0], h.lambda[1], h.lambda[2]);
  ck_assert_msg(agree > 0.97 * T, "hmm3: %zu of %zu (seed %lu)", agree, T, g_seed);
  ck_assert_msg(fabs(h.lambda_bg - 0.6) < 0.05 && fabs(h.lambda[1] - 8) < 0.3, "hmm3 levels (seed %lu)", g_seed);
  free(obs); free(truth); free(path);
  gsl_rng_free(r);
}
END_TEST

/* ---- OLSF ---- */

START_TEST(olsf_blur)
{
  /* uniform exposure: R = 1/6 (S66); a start cycle and no gaps otherwise */
  ck_assert(fabs(olsf_blur_R(1, 0, 1e6, 0, 1) - 1.0 / 6) < 1e-5);
  /* the 8 kHz tracking cycle (K 4, delay 355, gate 1120, window 99): close to the paper's
   * 1/6.2 for its cycle (6.4.3) */
  const double R = olsf_blur_R(4, 355, 1120, 99, 1);
  /* records of many cycles tend to uniform exposure */
  ck_assert(fabs(olsf_blur_R(4, 355, 1120, 99, 64) - 1.0 / 6) < 2e-3);
  printf("blur R of the tracking cycle: %.5f = 1/%.3f\n", R, 1 / R);
  ck_assert(R > 1 / 6.4 && R < 1 / 6.0);
  ck_assert(fabs(olsf_s_opt(0) - 2) < 1e-12 && fabs(olsf_s_opt(10) - (2 + 4.6 * pow(10, 0.62))) < 1e-12);
}
END_TEST

/* Brownian track (D nm^2/s) sampled every dt with uniform exposure: the localization is the
 * mean of 64 sub-steps (blur R = 1/6) plus Gaussian noise sigma; blinking q (S69). */
static void brownian_track(gsl_rng *r, size_t S, double D, double sigma, double dt, double ton, double toff,
                           double *x, double *y, uint8_t *q)
{
  const int sub = 64;
  double px = 0, py = 0;
  int on = 1;
  const double sd = sqrt(2 * D * dt / sub);
  for (size_t i = 0; i < S; i++) {
    double sx = 0, sy = 0;
    for (int k = 0; k < sub; k++) {
      px += gsl_ran_gaussian(r, sd);
      py += gsl_ran_gaussian(r, sd);
      sx += px; sy += py;
    }
    if (gsl_rng_uniform(r) < dt / (on ? ton : toff)) on = !on;
    q[i] = (uint8_t)on;
    x[i] = sx / sub + gsl_ran_gaussian(r, sigma);
    y[i] = sy / sub + gsl_ran_gaussian(r, sigma);
  }
}

START_TEST(olsf_brownian)
{
  gsl_rng *r = rng(3);
  const double dt = 125e-6;
  const struct { double D_um2_s, sigma_nm; } c[] = { { 0.4, 30 }, { 0.1, 15 }, { 1.0, 40 } };
  const size_t S = 1200, ntr = 50;
  double *x = malloc(S * sizeof *x), *y = malloc(S * sizeof *y), Ds[64], Ss[64];
  uint8_t *q = malloc(S);
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    const double D = c[k].D_um2_s * 1e6;
    int conv = 0, sumS = 0;
    for (size_t t = 0; t < ntr; t++) {
      brownian_track(r, S, D, c[k].sigma_nm, dt, 2e-3, 0.6e-3, x, y, q);
      olsf_result o;
      ck_assert_int_eq(olsf_estimate(x, y, q, S, dt, 1.0 / 6, &o), 0);
      Ds[t] = o.D * 1e-6;
      Ss[t] = o.sigma;
      conv += o.converged;
      sumS += o.s;
    }
    const double mD = an_median(Ds, ntr), mS = an_median(Ss, ntr);
    printf("OLSF (seed %lu): D %.2f um^2/s, sigma %.0f nm, blinking 2/0.6 ms, %zu tracks of %zu: median D %.4f "
           "(%+.1f %%), sigma %.2f nm (%+.1f %%), mean s %.1f, %d converged\n", g_seed, c[k].D_um2_s, c[k].sigma_nm,
           ntr, S, mD, 100 * (mD / c[k].D_um2_s - 1), mS, 100 * (mS / c[k].sigma_nm - 1), (double)sumS / ntr, conv);
    ck_assert_msg(fabs(mD / c[k].D_um2_s - 1) < 0.15, "OLSF D %g vs %g (seed %lu)", mD, c[k].D_um2_s, g_seed);
    ck_assert_msg(fabs(mS / c[k].sigma_nm - 1) < 0.20, "OLSF sigma %g vs %g (seed %lu)", mS, c[k].sigma_nm, g_seed);
  }
  free(x); free(y); free(q);
  gsl_rng_free(r);
}
END_TEST

START_TEST(msd_gaps)
{
  /* S68 by hand on a short track with one dark sample */
  const double x[5] = { 0, 1, 3, 6, 10 }, y[5] = { 0, 0, 0, 0, 0 };
  const uint8_t q[5] = { 1, 1, 0, 1, 1 };
  double rho[4], pairs[4];
  msd_blink(x, y, q, 5, 3, rho, pairs);
  ck_assert(pairs[1] == 2 && fabs(rho[1] - (1 + 16) / 2.0) < 1e-12);      /* (0,1), (3,4) */
  ck_assert(pairs[2] == 1 && fabs(rho[2] - 25) < 1e-12);                  /* (1,3) */
  ck_assert(pairs[3] == 2 && fabs(rho[3] - (36 + 81) / 2.0) < 1e-12);     /* (0,3), (1,4) */
  const double tx[2] = { 3, 0 }, ty[2] = { 4, 0 }, zx[2] = { 0, 0 }, zy[2] = { 0, 0 };
  ck_assert(fabs(te_epsilon(tx, ty, zx, zy, 2, 2) - sqrt(25.0 / 4)) < 1e-12);   /* S81, d = 2 (host/track_error.c) */
}
END_TEST

/* ---- numLMS ---- */

START_TEST(numlms_mean_map)
{
  const double beta[3] = { 1.1, 0.7, 30 };
  mf_ebp_t e;
  mf_ebp4(100, 360, &e);
  for (int i = 0; i < 20; i++) {
    const double x = -40 + 4 * i, y = 25 - 3 * i, N = 5 + 7 * i, sbr = i % 2 ? 4 : INFINITY;
    double mx, my, J[2][2], ax, ay;
    ck_assert_int_eq(numlms_mean(100, 360, sbr, N, beta, x, y, &mx, &my, J), 0);
    mf_mlms_mean_s54(&e, x, y, sbr, N, 2, beta, &ax, &ay);
    ck_assert_msg(fabs(mx - ax) < 1e-9 && fabs(my - ay) < 1e-9, "S54 at (%g, %g)", x, y);
    const double h = 1e-5;
    double px, py, qx, qy;
    numlms_mean(100, 360, sbr, N, beta, x + h, y, &px, &py, NULL);
    numlms_mean(100, 360, sbr, N, beta, x - h, y, &qx, &qy, NULL);
    ck_assert(fabs((px - qx) / (2 * h) - J[0][0]) < 1e-5 && fabs((py - qy) / (2 * h) - J[1][0]) < 1e-5);
    numlms_mean(100, 360, sbr, N, beta, x, y + h, &px, &py, NULL);
    numlms_mean(100, 360, sbr, N, beta, x, y - h, &qx, &qy, NULL);
    ck_assert(fabs((px - qx) / (2 * h) - J[0][1]) < 1e-5 && fabs((py - qy) / (2 * h) - J[1][1]) < 1e-5);
  }
}
END_TEST

START_TEST(numlms_inverse)
{
  /* F inverts the mean map: F(R(r, beta_opt)) = r within the calibrated region (S55) */
  numlms_entry en;
  char err[256];
  ck_assert_int_eq(numlms_build(&en, 100, 360, 50, 5, NULL, err, sizeof err), 0);
  printf("numLMS entry N 50, SBR 5: beta_opt %.4f %.4f %.4f, R_opt %.1f nm, loss %.3f nm, mean |bias| of the k=2 mLMS %.3f nm\n",
         en.beta[0], en.beta[1], en.beta[2], en.R1, en.loss, en.bias_mean_nm);
  double worst = 0;
  for (double x = -en.R1 * 0.95; x <= en.R1 * 0.95; x += en.R1 / 10)
    for (double y = -en.R1 * 0.95; y <= en.R1 * 0.95; y += en.R1 / 10) {
      if (hypot(x, y) > 0.95 * en.R1) continue;
      double mx, my, fx, fy;
      numlms_mean(100, 360, 5, 50, en.beta, x, y, &mx, &my, NULL);
      ck_assert_int_eq(numlms_apply_F(&en, mx, my, &fx, &fy), 1);
      worst = fmax(worst, hypot(fx - x, fy - y));
    }
  printf("numLMS F(R(r)) - r: max %.4f nm over |r| <= 0.95 R_opt\n", worst);
  ck_assert_msg(worst < 0.02, "F does not invert the mean map: %g nm", worst);
  numlms_free(&en);
}
END_TEST

/* Bias maps of the live mLMS (fixed point, k = 1, beta 1.27/3.8) and of numLMS at the
 * positions of a 10 nm grid with |r| <= L/2, M Poisson quartets each; N photons expected
 * with the emitter at the centre. Returns the RMS of |bias| over the grid. */
static int bias_maps(double L, double fwhm, double Nc, double sbr, int M, unsigned long salt,
                     double *rms_live, double *rms_num, double *max_live, double *max_num)
{
  mf_ebp_t e;
  mf_ebp4(L, fwhm, &e);
  double s = 0;
  for (int i = 0; i < 4; i++) s += mf_doughnut(-e.bx[i], -e.by[i], fwhm);
  const double A0 = isinf(sbr) ? Nc / s : Nc / s * sbr / (1 + sbr), b = isinf(sbr) ? 0 : Nc / (1 + sbr) / 4;
  mlms_regs_t mr;
  char err[256];
  const double beta[3] = { 1.27, 3.8, 0 };
  if (est_mlms_regs(L, fwhm, 1, beta, 0, &mr, err, sizeof err)) { printf("bias maps: %s\n", err); return -1; }
  const double sb[1] = { sbr };
  numlms_table *t = numlms_table_new(L, fwhm, NULL, 0, sb, 1, NULL);
  gsl_rng *r = rng(salt);
  double s0 = 0, s1 = 0;
  int np = 0;
  *max_live = *max_num = 0;
  const int h = (int)floor(L / 2 / 10 + 1e-9);
  printf("bias |<estimate> - r| in nm, live mLMS / numLMS (L %g, fwhm %g, %g photons at the centre, SBR %g, %d quartets per position, seed %lu):\n",
         L, fwhm, Nc, sbr, M, g_seed);
  printf("  y\\x ");
  for (int ix = -h; ix <= h; ix++) printf("  %7d    ", ix * 10);
  printf("\n");
  for (int iy = h; iy >= -h; iy--) {
    printf("%5d ", iy * 10);
    for (int ix = -h; ix <= h; ix++) {
      const double x = ix * 10, y = iy * 10;
      if (hypot(x, y) > L / 2 + 1e-9) { printf("      .      "); continue; }
      double lam[4];
      for (int i = 0; i < 4; i++) lam[i] = A0 * mf_doughnut(x - e.bx[i], y - e.by[i], fwhm) + b;
      double ax = 0, ay = 0, nx = 0, ny = 0;
      int m = 0;
      for (int k = 0; k < M; k++) {
        unsigned n[4], N = 0;
        for (int i = 0; i < 4; i++) N += n[i] = gsl_ran_poisson(r, lam[i]);
        if (N < 3) continue;   /* as in the analysis (6.4.4.2) */
        const uint16_t q[4] = { (uint16_t)n[0], (uint16_t)n[1], (uint16_t)n[2], (uint16_t)n[3] };
        est_out_t o;
        mlms_eval(&mr, q, &o);
        const double nd[4] = { n[0], n[1], n[2], n[3] };
        double ux, uy;
        if (numlms_table_eval(t, nd, sbr, &ux, &uy) < -1) { printf("bias maps: %s\n", numlms_table_error(t)); return -1; }
        ax += est_pos_nm(o.x); ay += est_pos_nm(o.y); nx += ux; ny += uy;
        m++;
      }
      const double b0 = hypot(ax / m - x, ay / m - y), b1 = hypot(nx / m - x, ny / m - y);
      printf(" %5.2f/%5.2f ", b0, b1);
      s0 += b0 * b0; s1 += b1 * b1; np++;
      *max_live = fmax(*max_live, b0);
      *max_num = fmax(*max_num, b1);
    }
    printf("\n");
  }
  *rms_live = sqrt(s0 / np);
  *rms_num = sqrt(s1 / np);
  printf("  RMS over %d positions: live %.3f nm, numLMS %.3f nm (%.1fx smaller); max %.2f / %.2f nm\n", np, *rms_live,
         *rms_num, *rms_live / *rms_num, *max_live, *max_num);
  numlms_table_free(t);
  gsl_rng_free(r);
  return 0;
}

START_TEST(numlms_bias)
{
  double a, b, ma, mb;
  /* 100 photons, no background, and with SBR 5 */
  ck_assert_int_eq(bias_maps(100, 360, 100, INFINITY, 3000, 11, &a, &b, &ma, &mb), 0);
  ck_assert_msg(a / b >= 5, "numLMS reduces the RMS bias only %.2fx (%.3f -> %.3f nm; seed %lu)", a / b, a, b, g_seed);
  ck_assert_int_eq(bias_maps(100, 360, 100, 5, 3000, 12, &a, &b, &ma, &mb), 0);
  ck_assert_msg(a / b >= 5, "numLMS with SBR 5 reduces the RMS bias only %.2fx (%.3f -> %.3f nm; seed %lu)", a / b, a, b, g_seed);
}
END_TEST

/* ---- MLE ---- */

START_TEST(mle_exact_and_precision)
{
  mf_ebp_t e;
  mf_ebp4(100, 360, &e);
  mle2d_ctx m;
  char err[128];
  ck_assert_int_eq(mle2d_init(&m, &e, 5, 240, err, sizeof err), 0);
  /* noiseless counts proportional to p(r): the maximum is r itself, to the last grid step */
  const double pos[4][2] = { { 0, 0 }, { 23.37, -11.21 }, { -41.04, 30.5 }, { 7.77, 48.12 } };
  for (int k = 0; k < 4; k++) {
    double p[MF_KMAX], n[4], x, y;
    mf_pvec(&e, pos[k][0], pos[k][1], 5, p, NULL, NULL);
    for (int i = 0; i < 4; i++) n[i] = 1e4 * p[i];
    ck_assert_int_eq(mle2d_eval(&m, n, &x, &y, NULL), 1);
    ck_assert_msg(fabs(x - pos[k][0]) <= 0.0051 && fabs(y - pos[k][1]) <= 0.0051, "MLE (%g, %g) for (%g, %g)", x, y, pos[k][0], pos[k][1]);
  }
  /* Poisson counts, 500 photons: unbiased and close to the CRB (S26) */
  gsl_rng *r = rng(5);
  for (int k = 1; k < 3; k++) {
    double p[MF_KMAX], sx = 0, sy = 0, sxx = 0, syy = 0;
    mf_pvec(&e, pos[k][0], pos[k][1], 5, p, NULL, NULL);
    const int M = 2000;
    for (int j = 0; j < M; j++) {
      unsigned c[4];
      gsl_ran_multinomial(r, 4, 500, p, c);
      const double n[4] = { c[0], c[1], c[2], c[3] };
      double x, y;
      mle2d_eval(&m, n, &x, &y, NULL);
      sx += x; sy += y; sxx += x * x; syy += y * y;
    }
    const double mx = sx / M, my = sy / M, sd = sqrt(0.5 * (sxx / M - mx * mx + syy / M - my * my));
    const double crb = mf_crb(&e, pos[k][0], pos[k][1], 500, 5, NULL);
    printf("MLE (seed %lu) at (%g, %g), 500 photons, SBR 5: bias %.3f, %.3f nm, std %.3f nm, CRB %.3f nm\n", g_seed,
           pos[k][0], pos[k][1], mx - pos[k][0], my - pos[k][1], sd, crb);
    /* the MLE is only asymptotically unbiased: small against its spread here */
    ck_assert(hypot(mx - pos[k][0], my - pos[k][1]) < 0.25 * sd);
    ck_assert(sd < 1.25 * crb && sd > 0.9 * crb);
  }
  gsl_rng_free(r);
  double z[4] = { 0, 0, 0, 0 }, x, y;
  ck_assert_int_eq(mle2d_eval(&m, z, &x, &y, NULL), -1);
  mle2d_free(&m);
}
END_TEST

int main(int argc, char **argv)
{
  const char *s = getenv("ANALYZE_SEED");
  g_seed = s ? strtoul(s, NULL, 0) : (unsigned long)time(NULL);
  printf("test_analyze: seed %lu (repeat with ANALYZE_SEED=%lu)\n", g_seed, g_seed);
  if (argc == 6 && !strcmp(argv[1], "--bias-map")) {
    /* test_analyze --bias-map L FWHM PHOTONS SBR: the bias maps alone (SBR 0 = none) */
    double a, b, ma, mb;
    const double sbr = atof(argv[5]);
    return bias_maps(atof(argv[2]), atof(argv[3]), atof(argv[4]), sbr > 0 ? sbr : INFINITY, 3000, 11, &a, &b, &ma, &mb) ? 1 : 0;
  }
  Suite *su = suite_create("analyze");
  TCase *tc = tcase_create("all");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, npy_half_rounding);
  tcase_add_test(tc, npy_header);
  tcase_add_test(tc, raw_damage);
  tcase_add_test(tc, hmm_onoff);
  tcase_add_test(tc, hmm_imaging);
  tcase_add_test(tc, olsf_blur);
  tcase_add_test(tc, msd_gaps);
  tcase_add_test(tc, olsf_brownian);
  tcase_add_test(tc, numlms_mean_map);
  tcase_add_test(tc, numlms_inverse);
  tcase_add_test(tc, numlms_bias);
  tcase_add_test(tc, mle_exact_and_precision);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
