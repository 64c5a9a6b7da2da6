/* analyze_out: the files `minflux analyze DIR` writes (docs/analysis.md "Outputs"):
 * refined localizations (tracks_refined.csv or localizations_refined.csv), per-track
 * statistics (track_stats.csv), MSD curves with their fits (msd.csv), the analysis keys
 * merged into DIR/summary.json, the Abberior m2410 flat export (export.npy) and the PNGs
 * (tracks.png, render.png, msd.png). */
#ifndef MINFLUX_ANALYZE_OUT_H
#define MINFLUX_ANALYZE_OUT_H
#include <stddef.h>
#include "analyze.h"
#include "npy.h"

/* Each returns 0, or -1 with a message. */
int an_write_csv(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen);
int an_write_msd(const char *dir, const an_raw *raw, const an_result *res, int png, char *err, size_t errlen);
int an_write_npy(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen);
int an_write_pngs(const char *dir, const an_raw *raw, const an_result *res, char *err, size_t errlen);
/* Adds the analysis keys to DIR/summary.json (created when absent; acquisition keys kept). */
int an_write_summary(const char *dir, const char *raw_path, const an_raw *raw, const an_result *res,
                     double elapsed_s, char *err, size_t errlen);

/* The m2410 fields in file order (name, NumPy type, subarray length). */
#define AN_M2410_NFIELDS 20
extern const npy_field an_m2410_fields[AN_M2410_NFIELDS];

#endif
