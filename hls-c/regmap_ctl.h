/* Tracking controller (issue #5): registers and states; included by regmap.h.
 * Same X-macro shapes as MINFLUX_CONSTS / MINFLUX_REGS; addresses 0x50..0x5F.
 * hdl/track_ctl.v and hls-c/track_ctl.c implement it bit- and cycle-exactly;
 * host/ctl_regs.c converts the acquisition keys (nm, us, ratios) into these values.
 * docs/controller.md describes the behaviour.
 *
 * With CTL_MODE bit0 set, a run is driven by the controller: it owns the pattern
 * centre (CENTRE_X/Y are not used), the exposures per cycle, the gate length and
 * the pattern, and it holds the sequencer in the localization window of every
 * record until it has decided the next centre. States (record flags bits 7:4):
 *   SEARCH  raster of a Gaussian beam: 4 pixels per cycle along x (offsets 0, s, 2s,
 *           3s), gate CTL_SEARCH.dwell; found when one pixel has >= threshold counts
 *   PRELOC  Gaussian beam at offset table entries 4..7 (+L/2 x, -L/2 x, +L/2 y,
 *           -L/2 y), gate CTL_PRE.gate, Gaussian 1D MLE (EST_G, threshold CTL_PRE)
 *   TRACK   doughnut at offset table entries 0..K-1 (K <= 4), GATE, live mLMS;
 *           centre += clamp(gain * estimate); loss -> SEARCH
 *
 * Imaging mode (issue #10; CTL_MODE bit1, with bit0): SEARCH and PRELOC as above, but the
 * 405 nm light follows the low-passed count rate of the search records (CTL_IACT,
 * CTL_IACT_T) instead of CTL_ACT, and PRELOC leads to iterative localization:
 *   STAGE s (state 4 + s, s = 0..CTL_MODE[3:2], 3 acts as 2): doughnut at offset entries
 *           0..K-1 shifted right (arithmetic) by the stage's L shift, GATE; the records of a
 *           stage add up (per exposure, 13-bit saturating) until their N reaches the stage's
 *           photon limit. The live mLMS of every stage record sees the stage's sums so far
 *           (including the record) with L = EST_L >> shift and F = the stage's F. The record
 *           that reaches the limit ends the stage: its state field has bit 3 set (12 + s),
 *           the centre moves by clamp(gain * estimate) (CTL_GAIN), and the next stage is
 *           s + 1 (the last stage repeats: one localization per repetition).
 *   Aborts (-> SEARCH at the raster position, the run goes on): a stage has had CTL_IABORT
 *   dark records without reaching its limit; a stage reached its limit in fewer than
 *   CTL_IABORT bright records (too many photons: background or two emitters); at the end
 *   of a stage s >= 1, 2^8 sum(n0) >= ratio * sum(N) over the stage (ratio = CTL_LOSS[7:0],
 *   0 = off: the central-to-outer frequency ratio, the doughnut is not on one molecule). */
#ifndef MINFLUX_REGMAP_CTL_H
#define MINFLUX_REGMAP_CTL_H

#define MINFLUX_CTL_CONSTS(X) \
  X(CTL_ST_OPEN,    0,  "record state: open loop (controller off)") \
  X(CTL_ST_SEARCH,  1,  "record state: raster search with the Gaussian beam") \
  X(CTL_ST_PRELOC,  2,  "record state: Gaussian pre-localization") \
  X(CTL_ST_TRACK,   3,  "record state: MINFLUX tracking (live mLMS)") \
  X(CTL_ST_STAGE0,  4,  "record state: imaging, iterative localization stage 0 (stage s: 4 + s)") \
  X(CTL_ST_LOC,     8,  "record state bit: this record ended its imaging stage (a localization)") \
  X(CTL_STAGES,     3,  "imaging stages (CTL_ISTG0..2)") \
  X(CTL_LP_FRAC,    4,  "imaging 405 nm: fractional bits of the low-passed counts per search record") \
  X(CTL_PRE_BASE,   4,  "offset table entry of the first pre-localization exposure") \
  X(CTL_GAIN_SHIFT, 16, "centre step = round(estimate(Q11.5 nm) * gain / 2^16) DAC LSB") \
  X(CTL_RATIO_FRAC, 8,  "CTL_LOSS ratio: lost when 2^8 sum(n0) >= ratio * sum(N)") \
  X(CTL_WIN_NMAX,   32768, "a loss window also ends once its sum(N) reaches this")

#define MINFLUX_CTL_REGS(X) \
  X(CTL_MODE,     0x50,  4, "bit0: the tracking controller drives runs, bit1: imaging mode (with bit0), [3:2] last imaging stage 0..2 (3 acts as 2) (write while idle)") \
  X(CTL_ORIGIN,   0x51, 32, "raster origin (first pixel): x in [15:0], y in [31:16], signed DAC LSB") \
  X(CTL_RASTER,   0x52, 24, "pixel step s in [15:0] (DAC LSB, 1..32767), pixels per row and rows n in [23:16] (1..255; rows are scanned in groups of 4)") \
  X(CTL_SEARCH,   0x53, 31, "pixel dwell gate in [15:0] (cycles), found threshold in [30:16] (counts in one pixel, >= 1)") \
  X(CTL_ACT,      0x54, 24, "405 nm: on for the first [15:0] search cycles of every [23:16]-th raster frame (0 = never)") \
  X(CTL_PRE,      0x55, 31, "pre-localization gate in [15:0] (cycles), threshold in [30:16] (N of the 4 exposures, >= 1)") \
  X(CTL_PRE_GAIN, 0x56, 31, "pre-localization step: gain in [14:0] (DAC LSB per nm * 2^11), clamp in [30:16] (DAC LSB)") \
  X(CTL_GAIN,     0x57, 31, "tracking step: gain in [14:0] (DAC LSB per nm * 2^11), clamp in [30:16] (DAC LSB)") \
  X(CTL_LOSS,     0x58, 32, "loss: ratio in [7:0] (UQ0.8 of n0/N), window in [15:8] records (0 = ratio test off), dark records in [31:16] (consecutive records below EST_THRESH; 0 = off)") \
  X(CTL_STATE,    0x59,  4, "RO controller state now (CTL_ST_*)") \
  X(CTL_IACT,     0x5A, 20, "imaging 405 nm: on while lp < threshold, threshold in [15:0] (UQ12.4 counts per search record), low-pass shift a in [19:16]: lp += ((N << 4) - lp) >> a per search record") \
  X(CTL_IACT_T,   0x5B, 32, "imaging 405 nm: while below the threshold, on for [15:0] search records, then off for [31:16] search records, repeating") \
  X(CTL_IABORT,   0x5C, 24, "imaging aborts: dark records in [15:0] (a stage not at its limit after this many records; 0 = off), bright records in [23:16] (a stage at its limit in fewer records; 0 = off)") \
  X(CTL_ISTG0,    0x5D, 32, "imaging stage 0: photon limit in [13:0] (>= 1), L shift in [15:14] (offsets and EST_L >> shift), EST_F of the stage in [31:16] (UQ3.13)") \
  X(CTL_ISTG1,    0x5E, 32, "imaging stage 1 (as CTL_ISTG0)") \
  X(CTL_ISTG2,    0x5F, 32, "imaging stage 2 (as CTL_ISTG0)")

#endif
