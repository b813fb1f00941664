/* The warp engine: every geometric step (resample, reorient with
 * interpolation, rotate/zoom/shift, elastic) is "output grid + voxel mapping
 * (affine, optionally plus a displacement field) + interpolator + fill",
 * implemented once here.
 *
 * For output voxel (i, j, k) the input position is p = M (i, j, k, 1)
 * (+ d(i, j, k)), in input voxel units, where M maps output voxel indices to
 * input voxel indices (for a resample onto a new grid:
 * M = inverse(in->ijk_to_ras) * out_ijk_to_ras).  Only output voxels are
 * evaluated.  A position is inside the input when every coordinate lies in
 * [-0.5, n - 0.5] (the voxels' extent); kernel taps beyond the last voxel are
 * mirrored about it (scipy.ndimage mode "mirror").  Positions outside get the
 * fill.  When M's linear part is integer (permutations, flips, 90-degree
 * turns, integer steps) and there is no displacement field, positions within
 * 1e-7 voxel of a voxel centre are snapped to it, so such mappings move
 * values exactly.  Work is split over output blocks; the result is the same
 * bytes for any thread count.
 */
#ifndef DCMPREP_WARP_H
#define DCMPREP_WARP_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dp_interp {
  DP_INTERP_NEAREST = 0, /* the voxel whose centre is nearest (floor(p + 0.5)) */
  DP_INTERP_LINEAR = 1,  /* trilinear */
  DP_INTERP_CUBIC = 2,   /* cubic B-spline on prefiltered coefficients: scipy's order=3 */
  DP_INTERP_ONEHOT = 3   /* labels: trilinear weight per label value, then the largest */
} dp_interp;

/* "nearest", "linear", "cubic", "onehot". */
DP_API const char *dp_interp_name(dp_interp i);
/* Parses those names (also "bspline" for cubic); DP_EINVAL otherwise. */
DP_API dp_status dp_interp_parse(const char *name, dp_interp *out);

typedef enum dp_fill {
  DP_FILL_CONSTANT = 0, /* fill_value */
  DP_FILL_MIN = 1,      /* the input's minimum (air in CT is not 0) */
  DP_FILL_EDGE = 2      /* the nearest edge voxel's value (position clamped) */
} dp_fill;

typedef struct dp_warp_opts {
  dp_interp interp;
  dp_fill fill;
  double fill_value;  /* for DP_FILL_CONSTANT */
  dp_dtype dtype;     /* output type; DP_DTYPE_NONE: the input's (integer types
                         are rounded half away from zero and clamped) */
  /* NULL, or 3 planes of nvox(output grid) floats (x, y, z offsets, each in
   * output voxel order), in input voxel units, added to M (i, j, k, 1). */
  const float *displacement;
  int threads;        /* 0 = dp_default_threads() */
} dp_warp_opts;
#define DP_WARP_OPTS_INIT {DP_INTERP_LINEAR, DP_FILL_CONSTANT, 0.0, DP_DTYPE_NONE, NULL, 0}

/* Resamples every volume (t) of in onto a grid of dim[0] x dim[1] x dim[2]
 * voxels whose affine is out_affine, through the voxel mapping out_to_in (M
 * above).  The output keeps in's t, t_step and metadata.  Errors: DP_EINVAL
 * (bad arguments; onehot on a float volume), DP_ELIMIT (output too large,
 * refused before allocating; more than 65536 distinct labels for onehot),
 * DP_ENOMEM.  On failure *out is NULL.  The caller frees *out. */
DP_API dp_status dp_warp(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                         const dp_mat4 *out_to_in, const dp_warp_opts *opts, dp_volume **out);

/* Cubic B-spline interpolation coefficients of in (float32, same grid), with
 * mirror boundaries: scipy.ndimage.spline_filter(in, order=3, mode="mirror").
 * dp_warp calls it for DP_INTERP_CUBIC; exposed for tests.  The caller frees
 * *out. */
DP_API dp_status dp_spline_prefilter(const dp_volume *in, int threads, dp_volume **out);

#ifdef __cplusplus
}
#endif
#endif
