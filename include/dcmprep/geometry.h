/* Geometric steps: reorient, resample to a spacing, shape or reference grid,
 * crop or pad.  Every step that moves voxels goes through the warp engine
 * (warp.h) or, for reorientation, an exact permutation/flip.  None modifies
 * its input; each returns a new volume the caller frees with dp_volume_free().
 * Units: mm for spacing and margins, voxels for shapes.
 */
#ifndef DCMPREP_GEOMETRY_H
#define DCMPREP_GEOMETRY_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"
#include "warp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- reorient ------------------------------------------------------------- */

/* Reorders and flips the voxel axes so that the volume's orientation code (as
 * dp_volume_axcodes) becomes `code` (any of the 48: "RAS", "LPS", "PIR", ...,
 * case-insensitive).  Exact: voxel values are moved, never interpolated, and
 * the affine is updated so that every voxel keeps its world position.  The
 * permutation and flips applied are written to perm[3] and flip[3] when not
 * NULL (output axis e = input axis perm[e], reversed when flip[e]).
 * DP_EINVAL for a code that is not three distinct axis letters. */
DP_API dp_status dp_reorient(const dp_volume *in, const char *code, dp_volume **out, int perm[3],
                             int flip[3]);

/* The voxel mapping of a reorientation (output index -> input index) and the
 * output dims, without moving data: used to apply the same step to a label. */
DP_API dp_status dp_reorient_mapping(const dp_volume *in, const char *code, int64_t dim[3],
                                     dp_mat4 *out_to_in);

/* ---- resample ------------------------------------------------------------- */

typedef struct dp_resample_opts {
  double spacing[3];     /* target spacing (mm) per voxel axis; <= 0 keeps that axis */
  int64_t shape[3];      /* or target voxels per axis (used when > 0; spacing then
                            follows from the extent) */
  const dp_volume *like; /* or a reference grid: its dims and affine (oblique allowed) */
  dp_interp interp;      /* default linear */
  dp_fill fill;
  double fill_value;
  int antialias;         /* 1 (default): Gaussian prefilter on downsampled axes */
  dp_dtype dtype;        /* output type; DP_DTYPE_NONE = the input's */
  int threads;
} dp_resample_opts;
#define DP_RESAMPLE_OPTS_INIT \
  {{0, 0, 0}, {0, 0, 0}, NULL, DP_INTERP_LINEAR, DP_FILL_CONSTANT, 0.0, 1, DP_DTYPE_NONE, 0}

/* The output grid of a resample, without resampling.
 *
 * Rule (spacing or shape): per voxel axis d with n_d voxels of s_d mm, the
 * extent E_d = n_d * s_d is kept: n'_d = max(1, round(E_d / s'_d)) (halves up)
 * for a target spacing, s'_d = E_d / n'_d for a target shape.  Axis directions
 * are kept, and the centre of the field of view stays where it was: output
 * voxel (n' - 1) / 2 maps to the world point of input voxel (n - 1) / 2.
 * With `like`, the grid is the reference's.
 *
 * Anti-aliasing (images only): on an axis downsampled by f = s'_d / s_d > 1
 * a Gaussian of sigma_d = (f - 1) / 2 input voxels (scikit-image's rule for
 * resize(anti_aliasing=True)) is applied first, truncated at 4 sigma, mirror
 * boundaries; sigma[3] receives the values (0 = none).
 *
 * dim, affine and out_to_in receive the grid and the voxel mapping.
 * DP_EINVAL for a non-finite or non-positive request, DP_ELIMIT when the
 * output would exceed DP_MAX_VOXELS or 2^31 voxels along an axis. */
DP_API dp_status dp_resample_grid(const dp_volume *in, const dp_resample_opts *opts,
                                  int64_t dim[3], dp_mat4 *affine, dp_mat4 *out_to_in,
                                  double sigma[3]);

/* Resamples in as dp_resample_grid describes (with anti-aliasing when asked
 * and the interpolator is not nearest/onehot). */
DP_API dp_status dp_resample(const dp_volume *in, const dp_resample_opts *opts, dp_volume **out);

/* Separable Gaussian smoothing, sigma in voxels per axis (0 = not that
 * axis), truncated at 4 sigma, mirror boundaries: scipy.ndimage.
 * gaussian_filter(mode="mirror", truncate=4).  Output float32 (float64 for
 * float64 input). */
DP_API dp_status dp_gaussian(const dp_volume *in, const double sigma[3], int threads,
                             dp_volume **out);

/* ---- crop and pad --------------------------------------------------------- */

/* The voxel box [lo, lo + dim) of in, in input voxel indices; lo may be
 * negative and the box may extend past the volume: those voxels get the fill
 * (constant fill_value, the input minimum, or the nearest edge voxel).
 * Exact (no interpolation); the affine is shifted so that voxels keep their
 * world positions. */
DP_API dp_status dp_crop_box(const dp_volume *in, const int64_t lo[3], const int64_t dim[3],
                             dp_fill fill, double fill_value, int threads, dp_volume **out);

/* Centred crop or pad to dim: on each axis, crop (n - n') / 2 voxels (rounded
 * down) from the start, or pad (n' - n) / 2 (rounded down) before.  lo[3]
 * receives the box origin used (for applying the same box to a label). */
DP_API void dp_crop_or_pad_box(const dp_volume *in, const int64_t dim[3], int64_t lo[3]);

/* Bounding box of the voxels whose value is > threshold (over all volumes),
 * grown by margin_mm on each side (rounded up to whole voxels) and limited to
 * the volume.  DP_EINVAL when no voxel is above the threshold. */
DP_API dp_status dp_foreground_box(const dp_volume *in, double threshold, double margin_mm,
                                   int64_t lo[3], int64_t dim[3]);

#ifdef __cplusplus
}
#endif
#endif
