/* bayes_float: double-precision reference of Bayesian MINFLUX (seed 002 eq 1-9) and of the
 * conventional iterative hexagon mode it is compared with. Float references, separate from
 * the fixed-point model hls-c/bayes.c; positions in nm, logarithms natural.
 *
 * Physics (eq 1): the beam with its zero at r and intensity factor eta excites an emitter at
 * x with I = eta g, g(x; r) = e q exp(-q) + b, q = |x - r|^2 / s^2 (s = radius of the doughnut
 * maximum, b = background relative to the maximum, which is 1 + b). A count is Poisson(I)
 * (eq 3). */
#ifndef MINFLUX_BAYES_FLOAT_H
#define MINFLUX_BAYES_FLOAT_H

#ifdef __cplusplus
extern "C" {
#endif

/* g(x; r) of eq 1 for the offset (dx, dy) = x - r in nm. */
double bf_g(double dx, double dy, double s, double b);

/* ---- Expected information gain for a Gaussian prior (eq 4-6) and D(sigma) (eq 8) ---- */

/* EIG in nats of one exposure with the beam zero at distance d from the mean of the
 * isotropic Gaussian prior N(0, sigma^2 I), eta chosen for an expected count mu (eq 4).
 * The prior is integrated on a Cartesian grid (spacing min(sigma/10, s/16), +-6.5 sigma),
 * the Poisson sums run to lambda + 12 sqrt(lambda) + 15 for every grid point. */
double bf_eig_gauss(double sigma, double d, double mu, double b, double s);

/* The sigma -> 0 limit: EIG / sigma^2 -> mu |grad g|^2 / (2 g^2) at the prior mean, whose
 * maximum over d gives D(0) (finite for b > 0). */
double bf_fisher_gauss0(double d, double mu, double b, double s);

/* D(sigma) = argmax_d EIG (eq 8): a scan of d over [0, 4 sigma + 3 s] in 96 steps, then GSL
 * Brent minimization of -EIG in the bracket around the best step (tolerance 1e-4 relative).
 * sigma <= 0 gives D(0) from bf_fisher_gauss0. Returns 0, or -1 when Brent fails (the scan
 * value is kept in *D). *eig may be NULL. */
int bf_dopt(double sigma, double mu, double b, double s, double *D, double *eig);

/* A table of D on log-spaced sigma: sigma_j = sigma_min 2^(j / per_octave), j = 0..n-1. */
typedef struct {
  int    n, per_octave;
  double sigma_min;
  double mu, b, s;
  double *D;        /* nm */
  double *eig;      /* the EIG at D (nats) */
  double D0;        /* the sigma -> 0 limit */
} bf_dtable_t;

/* Computes the table (threads > 1 splits the sigma values over that many threads).
 * Returns 0, or -1 with a message in err. */
int  bf_dtable_make(bf_dtable_t *t, double mu, double b, double s, double sigma_min,
                    int per_octave, int n, int threads, char *err, int errlen);
void bf_dtable_free(bf_dtable_t *t);
/* D(sigma) by linear interpolation in log2(sigma), clamped to the end values. */
double bf_dtable_eval(const bf_dtable_t *t, double sigma);
/* CSV: a header comment, then `sigma_nm,D_nm,eig_nats`; read back by bf_dtable_read. */
int  bf_dtable_write(const bf_dtable_t *t, const char *path, char *err, int errlen);
int  bf_dtable_read(bf_dtable_t *t, const char *path, char *err, int errlen);

/* ---- Posterior on a re-centring, refining grid (the float twin of hls-c/bayes.c) ---- */

#define BF_NMAX 128

typedef struct {
  int    N;              /* points per side (even) */
  double refine_std;     /* halve the spacing when std < refine_std h */
  double coarsen_std;    /* double it when std >= coarsen_std h */
  double recentre;       /* re-centre on the MAP when it is more than this many h from the centre */
  double floor_log;      /* log posterior floor below the maximum (natural log, > 0) */
} bf_grid_cfg_t;

/* The defaults the fixed-point model uses: N 32, refine below sqrt(2) h, coarsen at 4 sqrt(2) h,
 * re-centre beyond 4 h, floor 32 ln 2. */
void bf_grid_cfg_default(bf_grid_cfg_t *c);

typedef struct {
  bf_grid_cfg_t cfg;
  double s, b;
  double h, cx, cy;                 /* spacing and window centre, nm */
  double L[BF_NMAX * BF_NMAX];      /* log posterior, max 0 after every update; index j N + i */
  int    map_i, map_j;
  double map_x, map_y;              /* the grid point of the maximum (first in scan order) */
  double mean_x, mean_y, std;       /* std = sqrt((var_x + var_y) / 2) */
  int    regrids;                   /* how many times the window was re-centred or re-spaced */
  /* caches: exp(L) of the current grid; g for the beam position of the last bf_post_eta */
  double w[BF_NMAX * BF_NMAX], g[BF_NMAX * BF_NMAX];
  double grx, gry;
  int    gvalid;
} bf_post_t;

/* Starts from the Gaussian prior N((x0, y0), sigma0^2 I) on a grid of spacing h0 centred on
 * (x0, y0). Returns 0, or -1 for a bad configuration (message in err). */
int  bf_post_init(bf_post_t *p, const bf_grid_cfg_t *cfg, double s, double b, double x0,
                  double y0, double sigma0, double h0, char *err, int errlen);
/* eta for an expected count mu with the beam at (rx, ry) (eq 4). */
double bf_post_eta(bf_post_t *p, double rx, double ry, double mu);
/* Bayes' update with the count n of an exposure at (rx, ry) with factor eta (eq 2, 3), then
 * MAP, mean and std, then the re-centring / re-spacing rules. */
void bf_post_update(bf_post_t *p, double rx, double ry, double eta, unsigned n);
/* MAP, mean, std of the current grid (bf_post_init and bf_post_update call it). */
void bf_post_stats(bf_post_t *p);

/* Semi-heuristic placement (eq 9): r = MAP + (cos a, sin a) D(std). */
void bf_place(const bf_post_t *p, const bf_dtable_t *t, double angle, double *rx, double *ry);

/* ---- Conventional iterative hexagon MINFLUX (seed 002, ref [4] of it) ---- */

/* The minimum of f(x, par) over [xv[0], xv[n-1]] (xv ascending): the scan of f at every xv
 * (values into fv), then GSL Brent from the best interior point to an interval below tol
 * (absolute and relative); a best point at an end of the scan is kept as it is. x, fmin:
 * the minimum. 0, or -1 when Brent failed (x, fmin then from the scan). */
int bf_min_scan(double (*f)(double, void *), void *par, const double *xv, double *fv, int n, double tol, double *x,
                double *fmin);

/* The hexagon pattern: exposure k = 0 at the centre, k = 1..6 at (L/2)(cos, sin)(k 60 deg). */
void bf_hex_pos(int k, double L, double *dx, double *dy);

/* Poisson maximum-likelihood position from per-exposure sums: n[k] photons and m[k]
 * exposures (each with factor eta) at beam zero (bx[k], by[k]), k < K; with
 * prior_sigma > 0 the maximum a posteriori under the prior N((x0, y0), prior_sigma^2 I).
 * Starts from a grid search over +-half nm around (x0, y0) (41 x 41 points, skipped when
 * half <= 0) and from (x0, y0) itself, refines with GSL nmsimplex2. Returns the maximized
 * log-likelihood (+ log prior, without constants). */
double bf_mle(int K, const double *bx, const double *by, const unsigned *n, const unsigned *m,
              double eta, double s, double b, double x0, double y0, double half,
              double prior_sigma, double *x, double *y);

#ifdef __cplusplus
}
#endif
#endif
