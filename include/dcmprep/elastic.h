/* Elastic deformation and the recursive Gaussian it is smoothed with.
 *
 * The elastic displacement field is the classic one of Simard, Steinkraus
 * and Platt (2003), used for the U-Net (Ronneberger et al. 2015): along each
 * voxel axis d, independent uniform noise in [-1, 1] per voxel, smoothed with
 * a Gaussian of sigma[d] voxels, times alpha[d] voxels.  The noise outside
 * the volume counts as 0, as in the reference code
 * (scipy.ndimage.gaussian_filter(noise, sigma, mode="constant", cval=0)), so
 * the displacement fades toward the borders.
 *
 * The smoothing is Deriche's fourth-order recursive Gaussian (R. Deriche,
 * "Recursively implementing the Gaussian and its derivatives", INRIA RR-1893,
 * 1993; the coefficients as tabulated by P. Getreuer, "A Survey of Gaussian
 * Convolution Algorithms", IPOL 2013): a causal and an anticausal
 * fourth-order recursion per line, so the cost per voxel does not depend on
 * sigma (about 16 multiply-adds per voxel and axis).  Its impulse response is
 * normalised to sum 1.  Boundary: zeros outside the line, which a recursion
 * started from a zero state implements exactly - no truncation, no
 * initialisation error.  Measured against gaussian_filter(mode="constant",
 * cval=0, truncate=4) (tests/ops/elastic.py; docs/elastic.md): for sigma
 * 0.5..50 voxels the largest difference is below 2e-4 of the input's value
 * range (5e-5 for sigma >= 5), means equal within 1e-5 of it (scipy
 * truncates its kernel at 4 sigma; the recursion does not).
 *
 * Randomness is counter-based: the noise of voxel v (flat index, i fastest)
 * on axis d is a hash of (seed, d, v) (dp_elastic_noise), so the field is the
 * same bytes for any thread count and any part of it can be recomputed
 * alone.
 *
 * Units: voxels (alpha, sigma and the displacement).  Functions never modify
 * their inputs (dp_gaussian_recursive works in place on the caller's
 * buffer), never print, and are thread-safe.
 */
#ifndef DCMPREP_ELASTIC_H
#define DCMPREP_ELASTIC_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"
#include "warp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smooths data in place with Deriche's recursive Gaussian (above): data
 * holds dim[3] volumes of dim[0] x dim[1] x dim[2] float32 voxels (i
 * fastest; the layout of dp_volume.data, so a float32 volume passes as
 * (v->data, v->dim)), and each volume is smoothed along every axis a with
 * sigma[a] > 0 (sigma in voxels; 0 leaves that axis alone).  Zeros are
 * assumed outside the volume.  Lines are computed in double precision, a
 * few at a time (memory: a few kB per thread, nothing the size of the
 * volume).  threads: 0 = dp_default_threads().  The result is the same bytes
 * for any thread count.
 *
 * Accuracy (max difference from scipy's gaussian_filter, mode "constant",
 * relative to the input's range): below 2e-4 for sigma 0.5..50, about 5e-5
 * from sigma 5 on.  For mirror boundaries use dp_gaussian (geometry.h).
 *
 * Errors: DP_EINVAL (NULL pointers, dim < 1, sigma negative or not finite),
 * DP_ENOMEM.  On error the contents of data are unspecified. */
DP_API dp_status dp_gaussian_recursive(float *data, const int64_t dim[4], const double sigma[3],
                                       int threads);

/* The uniform noise of voxel `index` (flat, i fastest) on axis `axis`
 * (0, 1, 2) for `seed`, in [-1, 1): the input of dp_elastic_field before
 * scaling and smoothing.  A SplitMix64 (Steele, Lea and Flood 2014) stream
 * per (seed, axis), read at position index; 53 random bits.  Pure. */
DP_API double dp_elastic_noise(uint64_t seed, int axis, int64_t index);

/* The elastic displacement field on a grid of dim[0] x dim[1] x dim[2]
 * voxels: for axis d,
 *     field_d = alpha[d] * G_sigma * noise_d,
 * noise_d(v) = dp_elastic_noise(seed, d, v), G_sigma the recursive Gaussian
 * with sigma[0], sigma[1], sigma[2] voxels along i, j, k (zeros outside the
 * grid).  alpha in voxels (any finite value; 0 gives a zero field), sigma in
 * voxels (>= 0; 0 leaves an axis unsmoothed).  Note the scale of this
 * definition: smoothing divides the noise's RMS (1/sqrt(3)) by about
 * (2 sqrt(pi))^(3/2) sigma^(3/2), so alpha 4 with sigma 35 moves voxels by
 * about 0.002 voxel RMS; visible deformations need alpha of order
 * 10 sigma^(3/2) (e.g. alpha 2000 for sigma 35).
 *
 * When sigma[0] >= 8 the smoothing along j and k runs on every h-th column
 * (h = floor(sigma[0] / 4)) of the noise smoothed along i at full
 * resolution; likewise, when sigma[1] (sigma[2]) >= 8 only every hj-th row
 * (hk-th slice) of the result smoothed along j (k) is kept, hj and hk of
 * sigma[1] and sigma[2] as h of sigma[0].  The field is interpolated back
 * along k, j and i (Catmull-Rom): the cost then hardly depends on sigma
 * along j and k, and the field still matches its definition within 2.5e-3
 * of its largest value, where every voxel kept gives 2e-3 (measured).
 *
 * *field receives 3 planes of nvox = dim[0]*dim[1]*dim[2] float32 values
 * (the i, then j, then k displacement, each plane in voxel order): exactly
 * the layout dp_warp_opts.displacement expects for an output grid of these
 * dims.  Memory: 12 bytes per voxel (the field itself), nothing else of the
 * volume's size.  The caller frees *field with free().  Same bytes for any
 * thread count (threads: 0 = dp_default_threads()).
 *
 * Errors: DP_EINVAL (NULL pointers, dim < 1, alpha not finite, sigma
 * negative or not finite), DP_ELIMIT (3 * nvox above DP_MAX_VOXELS),
 * DP_ENOMEM.  On failure *field is NULL. */
DP_API dp_status dp_elastic_field(const int64_t dim[3], const double alpha[3],
                                  const double sigma[3], uint64_t seed, int threads,
                                  float **field);

/* Elastically deforms in on its own grid: output voxel (i, j, k) samples the
 * input at (i, j, k) + field(i, j, k), the field of dp_elastic_field on in's
 * grid (dims i, j, k), through dp_warp with the identity mapping and opts'
 * interpolator, fill, output type and threads (opts NULL = DP_WARP_OPTS_INIT;
 * opts->displacement is ignored).  Every volume along t gets the same field.
 * The output keeps in's grid, t_step and metadata.  alpha 0 reproduces the
 * input bit for bit with every interpolator but cubic.  Memory: the output
 * plus the field's coarse grid (12 / (h hj hk) bytes per voxel, h, hj and
 * hk as above; 12 / (h hj) while it is made, before the output is): the
 * warp interpolates each output row's displacements from it as it goes,
 * the same values as dp_elastic_field's, so the whole field never exists.  Errors: those of dp_elastic_field
 * and dp_warp.  On failure *out is NULL; the caller frees *out. */
DP_API dp_status dp_elastic(const dp_volume *in, const double alpha[3], const double sigma[3],
                            uint64_t seed, const dp_warp_opts *opts, dp_volume **out);

#ifdef __cplusplus
}
#endif
#endif
