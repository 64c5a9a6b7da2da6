/* track_error: tracking error against ground truth (seed 003 section 6.4.6) and the
 * Cramer-Rao expectation for the photons a track actually had.
 *   S82: <r> = (1/T) int_0^T r(t) dt, the emitter averaged over a multiplex cycle;
 *   S81: e = sqrt( 1/(d M) sum_i ||r^_i - <r_i>||^2 ), over M localizations, d dimensions.
 * Plus the CSV tables of an acquisition (tracks.csv, cycles.csv, truth.csv; README "Host
 * link and acquisition") read by column name, and the matching of localizations to the
 * truth rows of the cycles they cover. Used by tests/bench_track.c and `minflux analyze`. */
#ifndef MINFLUX_TRACK_ERROR_H
#define MINFLUX_TRACK_ERROR_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* S82 for a sampled trajectory v(t) (samples t[0..n-1] increasing, linear in between,
 * held constant outside): the mean of v over [t0, t1] (v at t0 when t1 <= t0). */
double te_mean_over(const double *t, const double *v, size_t n, double t0, double t1);

/* S81 with d = 1 (x only; ey/ty may be NULL) or d = 2. NaN when M = 0. */
double te_epsilon(const double *ex, const double *ey, const double *tx, const double *ty, size_t M, int d);

/* RMS spread of estimates about their own mean, per axis: sqrt((var x + var y) / 2). */
double te_spread(const double *x, const double *y, size_t M);

/* The CRB a tracker with these photon numbers can expect: sqrt(mean_i sigma_CRB(N_i)^2)
 * (the same mean square as e) for the 4-doughnut pattern of diameter L (S24) with a
 * background giving sbr0 at its centre (S28-S31; sbr0 <= 0 or inf: none). rx, ry: the
 * emitter relative to the pattern centre per localization (S25/S26 there), or NULL for
 * the centre (S27/S31). N_i = 0 is skipped. NaN when nothing is left. */
double te_crb_expect(const double *N, const double *rx, const double *ry, size_t M,
                     double L, double fwhm, double sbr0);

/* A numeric CSV table: header names and rows x columns of doubles. */
typedef struct {
  size_t rows, cols;
  char **names;
  double *v;            /* row-major */
} te_table;

/* Reads a CSV with a header line; every field must be a number. -1 with a message
 * naming the file, line and column. */
int te_read_csv(const char *path, te_table *t, char *err, size_t errlen);
/* The column index of name, -1 if absent. */
int te_col(const te_table *t, const char *name);
static inline double te_at(const te_table *t, size_t row, int col) { return t->v[row * t->cols + (size_t)col]; }
void te_free(te_table *t);

/* For localizations at times t_loc[i] (the start of the first cycle they cover), each
 * covering span_s seconds of cycles: the mean of the truth rows (t_s,x_nm,y_nm,on) whose
 * t_s lies in [t_loc, t_loc + span_s) and whether the emitter was on in all of them
 * (on[i] = 0 also when no row matches, which is counted in the return value). Truth
 * rows and t_loc are in increasing time. Returns the number of unmatched localizations. */
size_t te_match_truth(const te_table *truth, const double *t_loc, size_t M, double span_s,
                      double *mx, double *my, int *on);

/* Reads a truth.csv of the virtual board: the columns t_s, x_nm, y_nm (indices in col[0..2])
 * and at least one row; -1 with a message naming the file otherwise. */
int te_read_truth(const char *path, te_table *t, int col[3], char *err, size_t errlen);

/* The emitter during [t0, t1] from truth columns ct, cx, cy: the mean of the rows whose time
 * lies inside, or the row nearest in time when none does (a localization shorter than the
 * truth's sampling). Rows in any order; the table must have rows. */
void te_truth_between(const te_table *truth, int ct, int cx, int cy, double t0, double t1, double *x, double *y);

/* Truth for a run's localizations: 1 with truth_csv read into t (te_free it), or 0 without
 * (truth_csv NULL, or unreadable: a warning on stderr says why). */
int te_truth_open(const char *truth_csv, te_table *t, int col[3]);
/* A localization (x, y) of [t0, t1] against the truth: its position (te_truth_between) and the
 * distance to it. */
void te_truth_error(const te_table *t, const int col[3], double t0, double t1, double x, double y, double *tx, double *ty,
                    double *err);

#ifdef __cplusplus
}
#endif
#endif
