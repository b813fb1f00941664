/* Data augmentation: random spatial transforms composed into one mapping and
 * applied with one interpolation, and random intensity changes.
 *
 * Spatial steps build a dp_aug_chain: an output grid (dims and affine) and
 * the mapping from its voxels to the input's voxels, composed step by step
 * (each step maps its own output grid to the previous step's grid).  Nothing
 * is resampled until dp_aug_apply, which calls dp_warp once; apply the same
 * chain to an image (its interpolator) and to a label (nearest or onehot) to
 * keep them aligned.  Only output voxels are computed.
 *
 * Conventions (docs/augmentation.md):
 *  - flip, zoom, shift and crop act along the voxel axes of the current grid;
 *    rotations are about the world (RAS+) x, y and z axes through the centre
 *    of the current grid; zooms are about that centre too;
 *  - every step moves the content and keeps the grid (a crop makes a smaller
 *    grid whose voxels keep their world positions);
 *  - angles in degrees, shifts in voxels, zoom factors > 1 magnify.
 *
 * The random draws themselves are made by the pipeline (pipeline.h) with the
 * counter-based generator of rng.h; these functions are deterministic.  They
 * never modify their inputs; volumes returned through `out` are the caller's
 * to free with dp_volume_free(), NULL on failure.  Thread-safe, and the same
 * bytes for any thread count.
 */
#ifndef DCMPREP_AUGMENT_H
#define DCMPREP_AUGMENT_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"
#include "warp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- spatial chain ---------------------------------------------------------- */

typedef struct dp_aug_chain {
  int64_t in_dim[3];   /* the input grid */
  dp_mat4 in_affine;
  int64_t dim[3];      /* the output grid so far */
  dp_mat4 affine;      /* its ijk_to_ras */
  dp_mat4 out_to_in;   /* output voxel -> input voxel (the affine part) */
  /* elastic deformation (at most one per chain): the displacement drawn on
   * the output grid is expressed in input voxels through elastic_to_in, the
   * linear part of the mapping of the steps before it */
  int has_elastic;
  double elastic_alpha[3]; /* displacement scale per axis, voxels */
  double elastic_sigma[3]; /* smoothing per axis, voxels */
  uint64_t elastic_seed;
  double elastic_to_in[3][3];
} dp_aug_chain;

/* Starts an identity chain on in's grid. */
DP_API void dp_aug_chain_init(dp_aug_chain *c, const dp_volume *in);

/* Mirrors the content along each voxel axis d with flip[d] != 0:
 * i -> n - 1 - i.  Exact. */
DP_API void dp_aug_flip(dp_aug_chain *c, const int flip[3]);

/* Rotates the content by deg[0], deg[1], deg[2] degrees about the world x, y
 * and z axes (in that order: R = Rz Ry Rx, right-handed, a positive angle
 * about z turns +x toward +y) through the world centre of the grid.  Any
 * rotation axis is reachable.  DP_EINVAL for non-finite angles. */
DP_API dp_status dp_aug_rotate(dp_aug_chain *c, const double deg[3]);

/* Scales the content by zoom[d] along voxel axis d about the grid centre
 * ((n - 1) / 2).  DP_EINVAL unless every factor is finite and > 0. */
DP_API dp_status dp_aug_zoom(dp_aug_chain *c, const double zoom[3]);

/* Moves the content by vox[d] voxels along voxel axis d. */
DP_API dp_status dp_aug_shift(dp_aug_chain *c, const double vox[3]);

/* Crops (or pads, for lo < 0 or lo + dim > n) to the box [lo, lo + dim) of
 * the current grid; the output grid becomes that box.  DP_EINVAL for
 * dim < 1, DP_ELIMIT for more than DP_MAX_VOXELS. */
DP_API dp_status dp_aug_crop(dp_aug_chain *c, const int64_t lo[3], const int64_t dim[3]);

/* Elastic deformation (Simard et al. 2003; the U-Net augmentation): a
 * displacement per axis of alpha[d] x (Gaussian-smoothed uniform noise in
 * [-1, 1], sigma[d] voxels), drawn from `seed` on the chain's final output
 * grid and added to the mapping in the voxels of this step's grid.  At most
 * one per chain (DP_EINVAL for a second one, or negative alpha, or sigma <=
 * 0).  Steps after it should not rescale (crops and flips are exact; after a
 * zoom the field's sigma is in output voxels). */
DP_API dp_status dp_aug_elastic(dp_aug_chain *c, const double alpha[3], const double sigma[3],
                                uint64_t seed);

/* The chain's displacement field for dp_warp_opts.displacement: 3 planes of
 * nvox(output grid) float32, in input voxel units; *field is NULL (and the
 * status DP_OK) when the chain has no elastic step.  The caller frees
 * *field with free().  Needs the elastic field generator (elastic.h). */
DP_API dp_status dp_aug_field(const dp_aug_chain *c, int threads, float **field);

/* Resamples in through the chain: one dp_warp call with the chain's grid,
 * mapping and field (NULL when none; from dp_aug_field), and opts'
 * interpolator and fill (opts->displacement is ignored).  in must be on the
 * chain's input grid (same dims): DP_EINVAL otherwise. */
DP_API dp_status dp_aug_apply(const dp_aug_chain *c, const dp_volume *in, const float *field,
                              const dp_warp_opts *opts, dp_volume **out);

/* The composed mapping in world space: output RAS mm -> input RAS mm
 * (in_affine * out_to_in * inverse(affine)), affine part only. */
DP_API dp_mat4 dp_aug_world_matrix(const dp_aug_chain *c);

/* ---- label foreground (for crops centred on a label) ----------------------------- */

/* Number of voxels > 0 in the first 3-D volume of label. */
DP_API int64_t dp_aug_foreground_count(const dp_volume *label);

/* The voxel index of the r-th (0-based, i fastest) voxel > 0 of the first
 * volume of label.  DP_ERANGE when there are not that many. */
DP_API dp_status dp_aug_foreground_voxel(const dp_volume *label, int64_t r, int64_t ijk[3]);

/* ---- intensity ----------------------------------------------------------------- */

/* Adds Gaussian noise of standard deviation std: voxel v gets
 * std * dp_rng_normal(key, v) (v the flat index), so the noise does not
 * depend on the thread count.  Output float32 (float64 for float64 input).
 * DP_EINVAL for std < 0 or non-finite. */
DP_API dp_status dp_aug_noise(const dp_volume *in, double std, uint64_t key, int threads,
                              dp_volume **out);

/* Gamma contrast: min + (max - min) ((x - min) / (max - min))^gamma, with min
 * and max over the finite voxels (a constant image is copied).  Output
 * float32 (float64 for float64 input).  DP_EINVAL unless gamma > 0. */
DP_API dp_status dp_aug_gamma(const dp_volume *in, double gamma, int threads, dp_volume **out);

/* x * scale + offset.  Output float32 (float64 for float64 input). */
DP_API dp_status dp_aug_scale_offset(const dp_volume *in, double scale, double offset, int threads,
                                     dp_volume **out);

#ifdef __cplusplus
}
#endif
#endif
