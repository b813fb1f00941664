/* Intensity steps: masks, masked statistics and exact percentiles, CT
 * windowing, clipping and normalisation.  Formulas, presets (with sources)
 * and masks are described in docs/intensity.md.
 *
 * None of these functions modifies its input; those with a `dp_volume **out`
 * return a new volume (same grid and metadata) that the caller frees with
 * dp_volume_free(); on failure *out is NULL.  They never touch a label
 * volume: a label only serves as a mask.
 *
 * Non-finite voxels (NaN, +-inf) are outside every mask: statistics and
 * percentiles skip them; steps pass NaN through in float outputs (NaN becomes
 * 0 when stored in an integer type).
 *
 * Threads: `threads` is the worker count (0 = dp_default_threads()).  Every
 * result is identical for any thread count: integer statistics are exact,
 * float sums are combined over fixed chunks in a fixed order, histograms are
 * merged exactly.  All functions are reentrant.
 */
#ifndef DCMPREP_INTENSITY_H
#define DCMPREP_INTENSITY_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- masks ---------------------------------------------------------------- */

typedef enum dp_mask_kind {
  DP_MASK_ALL = 0,  /* every finite voxel */
  DP_MASK_NONZERO,  /* value != 0 */
  DP_MASK_LABEL,    /* label > 0 (label: same voxel count as the image, or
                       one 3-D label for every volume of a 4-D image) */
  DP_MASK_ABOVE     /* value > threshold */
} dp_mask_kind;

typedef struct dp_mask {
  dp_mask_kind kind;
  double threshold;       /* DP_MASK_ABOVE */
  const dp_volume *label; /* DP_MASK_LABEL; not owned */
} dp_mask;
#define DP_MASK_INIT {DP_MASK_ALL, 0.0, NULL}

/* Parses "all", "nonzero", "label" or "above:T" (T a finite number) into
 * *out (label left NULL).  DP_EINVAL with a message otherwise. */
DP_API dp_status dp_mask_parse(const char *text, dp_mask *out);

/* Writes the mask's name as dp_mask_parse reads it ("above:-500"). */
DP_API void dp_mask_format(const dp_mask *mask, char *buf, size_t size);

/* ---- masked statistics ------------------------------------------------------ */

typedef struct dp_masked_stats {
  int64_t count;              /* voxels in the mask (finite) */
  double min, max, mean, std; /* std: population (ddof = 0); NaN when count = 0 */
} dp_masked_stats;

/* Count, min, max, mean and standard deviation of the voxels of v inside
 * mask (NULL = all).  u8/i16/u16 are summed exactly in integers; other types
 * per fixed chunk of voxels (two passes) combined in order (Chan et al.).
 * DP_EINVAL for a missing volume or a label of the wrong size. */
DP_API dp_status dp_masked_stats_compute(const dp_volume *v, const dp_mask *mask, int threads,
                                         dp_masked_stats *out);

/* Pools two results (as if computed over the union of their voxels). */
DP_API dp_masked_stats dp_masked_stats_merge(dp_masked_stats a, dp_masked_stats b);

/* Percentiles q[0..nq-1] (in [0, 100]) of the masked voxels of nvols volumes
 * taken together, exactly as numpy's default np.percentile (method "linear")
 * computes them on the concatenated values: with n values sorted as a[], the
 * virtual index h = n * q/100 + (1 - q/100) - 1 gives
 * a[floor h] + (a[floor h + 1] - a[floor h]) * (h - floor h)
 * (numpy's form of that interpolation, exact at the ends).
 *
 * Method, never a sort: one pass builds a 65536-bucket histogram of the
 * values' order-preserving keys (exact values for u8, i16, u16: then that is
 * all); for other types a second pass gathers the values of the few buckets
 * holding the wanted ranks and a three-way quickselect finds them.  O(n).
 * Volumes of different types are keyed by their values as double.
 *
 * masks: nvols masks (NULL = all voxels of every volume).  out receives nq
 * values; *count (when not NULL) the number of values.  DP_EINVAL for q out
 * of range or an empty mask (no values). */
DP_API dp_status dp_percentiles(const dp_volume *const *vols, const dp_mask *masks, int nvols,
                                const double *q, int nq, int threads, double *out, int64_t *count);

/* ---- window ------------------------------------------------------------------ */

typedef enum dp_window_out {
  DP_WINDOW_UNIT = 0, /* float32 in [0, 1] */
  DP_WINDOW_U8,       /* uint8 0..255: round(255 * unit), halves up */
  DP_WINDOW_HU        /* the input type, values clamped to [C - W/2, C + W/2] */
} dp_window_out;

typedef struct dp_window_opts {
  double center, width; /* C and W in the image's units (HU for CT); W > 0 */
  dp_window_out out;
  int threads;
} dp_window_opts;
#define DP_WINDOW_OPTS_INIT {40.0, 400.0, DP_WINDOW_UNIT, 0}

/* Linear window: unit = clamp((x - (C - W/2)) / W, 0, 1), i.e.
 * [C - W/2, C + W/2] maps linearly onto [0, 1], clamped outside.  This is
 * DICOM PS3.3 C.11.2.1.3.2 VOI LUT Function LINEAR_EXACT; the default LINEAR
 * function of C.11.2.1.2.1 uses c - 0.5 and w - 1 instead (for integer display
 * values), see docs/intensity.md.  For DP_WINDOW_HU with an integer type the
 * bounds are ceil(C - W/2) and floor(C + W/2).  DP_EINVAL unless W > 0 and
 * both are finite. */
DP_API dp_status dp_window(const dp_volume *in, const dp_window_opts *opts, dp_volume **out);

typedef struct dp_window_preset {
  const char *name;     /* "brain", "lung", ... */
  double center, width; /* HU */
  const char *source;   /* where the values are published */
} dp_window_preset;

/* The named CT presets, terminated by an entry with name NULL.  Static. */
DP_API const dp_window_preset *dp_window_presets(void);

/* The preset called name (case-insensitive), or NULL. */
DP_API const dp_window_preset *dp_window_preset_find(const char *name);

/* The first value of the image's WindowCenter and WindowWidth metadata (as
 * the DICOM loader records them; a multi-valued text "40\\400" gives 40).
 * DP_ENOTFOUND when either is absent, DP_EINVAL when it is not a number or
 * W <= 0, each with a message. */
DP_API dp_status dp_window_from_meta(const dp_volume *v, double *center, double *width);

/* ---- clip ---------------------------------------------------------------------- */

typedef struct dp_clip_opts {
  double lo, hi; /* lo <= hi; for integer types ceil(lo) and floor(hi) */
  int threads;
} dp_clip_opts;
#define DP_CLIP_OPTS_INIT {-1024.0, 3071.0, 0}

/* Clamps every voxel to [lo, hi]; the type is kept.  DP_EINVAL for lo > hi,
 * a non-finite bound, or (integer types) no integer in [lo, hi]. */
DP_API dp_status dp_clip(const dp_volume *in, const dp_clip_opts *opts, dp_volume **out);

/* ---- normalise ------------------------------------------------------------------- */

typedef enum dp_norm_mode {
  DP_NORM_ZSCORE = 0, /* (x - mean) / std */
  DP_NORM_MINMAX,     /* (x - min) / (max - min), clamped to [0, 1] */
  DP_NORM_RANGE       /* A + (B - A) (x - min) / (max - min), clamped to [A, B] */
} dp_norm_mode;

typedef struct dp_normalize_opts {
  dp_norm_mode mode;
  dp_mask mask;       /* where the statistics come from; every voxel is mapped */
  double a, b;        /* DP_NORM_RANGE target */
  int fixed;          /* DP_NORM_ZSCORE: use mean/std below, not the image's */
  double mean, std;
  int threads;
} dp_normalize_opts;
#define DP_NORMALIZE_OPTS_INIT {DP_NORM_ZSCORE, {DP_MASK_NONZERO, 0.0, NULL}, 0.0, 1.0, 0, 0.0, 1.0, 0}

/* Normalises in: output float32 (float64 for a float64 input).  The
 * statistics used (computed over the mask, or the fixed ones) go to *used
 * when not NULL.  DP_EINVAL for an empty mask, std = 0 or max = min over the
 * mask, A >= B, or a fixed std <= 0. */
DP_API dp_status dp_normalize(const dp_volume *in, const dp_normalize_opts *opts,
                              dp_volume **out, dp_masked_stats *used);

#ifdef __cplusplus
}
#endif
#endif
