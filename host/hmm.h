/* hmm: hidden Markov segmentation of count traces (seed 003): a Viterbi decoder with
 * Poisson emissions, the three-state model of imaging traces (section 6.3.2: background,
 * one emitter, more than one; S75 transitions; Poisson-mixture start on 1 ms bins, then
 * two Viterbi passes with refined emissions) and the two-state on/off model of tracks
 * (section 6.4.4.2, S78-S80). Counts are the total photons of one multiplex cycle. */
#ifndef MINFLUX_HMM_H
#define MINFLUX_HMM_H
#include <stddef.h>
#include <stdint.h>

#define HMM_MISSING UINT32_MAX   /* an observation that was not recorded (a sequence gap) */

/* Most probable state path (Viterbi, log domain) of a chain with S <= 8 states,
 * transition matrix trans[i*S + j] (i -> j), initial probabilities init (NULL: uniform)
 * and Poisson emissions of mean lambda[s] per step. obs[t] == HMM_MISSING contributes no
 * emission term. Writes path[0..T-1]; returns 0, or -1 (bad arguments, out of memory). */
int hmm_viterbi_poisson(const uint32_t *obs, size_t T, int S, const double *trans,
                        const double *init, const double *lambda, uint8_t *path);

/* Three-state imaging segmentation (states 0 = background, 1 = one emitter, 2 = more). */
typedef struct {
  double lambda_mix[3];     /* Poisson mixture on 1 ms bins (counts per bin), lambda3 = 2 lambda2 */
  double weight_mix[3];
  int    bin_cycles;        /* cycles per 1 ms bin */
  double lambda[3];         /* per-cycle emission means of the final pass */
  double lambda_bg;         /* mean background counts per cycle (state 0 of the final path) */
  size_t occupancy[3];      /* cycles per state in the final path */
} hmm3_result;

/* obs: counts per cycle; period_s: cycle period. Fills path (0/1/2) and res. */
int hmm3_segment(const uint32_t *obs, size_t T, double period_s, uint8_t *path, hmm3_result *res);

/* The S75 transition matrix (per multiplex cycle), row-major 3 x 3. */
extern const double hmm3_trans_s75[9];

/* Two-state on/off segmentation of a track (state 1 = on, 0 = off). */
typedef struct {
  double t_on_s[3], t_off_s[3];     /* stage 0 (S78 start values), 1 and 2 (S80) */
  double sbr[3];                    /* stage 0 (assumed 4), 1 and 2; NAN when a state holds
                                       under 1 % (and under 20) of the cycles: no contrast */
  double lambda_on[2], lambda_off[2];   /* emission means of passes 1 and 2 (S79, then refined) */
  size_t cycles_on, cycles_off;     /* final path */
  size_t runs_on, runs_off;
} hmm2_result;

int hmm2_segment(const uint32_t *obs, size_t T, double period_s, uint8_t *path, hmm2_result *res);

#endif
