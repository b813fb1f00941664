/* Pieces of the warp engine shared by warp.c and warp_aligned.c. */
#ifndef DCMPREP_OPS_WARP_INTERNAL_H
#define DCMPREP_OPS_WARP_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include "dcmprep/warp.h"

/* floor() without a library call on x86-64's baseline instruction set (no
 * SSE4.1 rounding instruction): a truncating conversion corrected for
 * negative values; out-of-range and non-finite values take libm's path. */
static inline double dp__floor(double x) {
  if (!(x > -4.0e15 && x < 4.0e15)) return floor(x);
  double t = (double)(int64_t)x;
  return t > x ? t - 1.0 : t;
}

/* Positions within 1e-7 voxel of a voxel centre are snapped to it, so that
 * identity and integer mappings reproduce the input bit for bit. */
static inline double dp__warp_snap(double x) {
  double r = dp__floor(x + 0.5);
  return fabs(x - r) < 1e-7 ? r : x;
}

/* Cubic B-spline weights for fraction f in [0, 1), taps -1..2. */
static inline void dp__bspline_weights(double f, double w[4]) {
  double f2 = f * f, f3 = f2 * f;
  w[0] = (1 - f) * (1 - f) * (1 - f) / 6.0;
  w[1] = (4 - 6 * f2 + 3 * f3) / 6.0;
  w[2] = (1 + 3 * f + 3 * f2 - 3 * f3) / 6.0;
  w[3] = f3 / 6.0;
}

/* In-place cubic B-spline coefficients of one line, mirror boundaries. */
void dp__prefilter_line(double *c, int64_t n);

/* Non-zero when some output voxel may fall outside the input's extent. */
int dp__warp_needs_fill(const dp_volume *in, const int64_t dim[3], const dp_mat4 *m, int displaced);

/* Smallest voxel value (NaN skipped in float data; 0 for an all-NaN volume). */
double dp__volume_min(const dp_volume *v, int threads);

/* Non-zero when the mapping's linear part is diagonal. */
int dp__warp_is_aligned(const dp_mat4 *m);

/* Fills out (already allocated on its grid) for an aligned mapping with
 * nearest, linear or cubic interpolation; fill_value is the resolved fill. */
dp_status dp__warp_aligned(const dp_volume *in, const dp_mat4 *m, dp_interp interp, dp_fill fill,
                           double fill_value, int threads, dp_volume *out);

#endif
