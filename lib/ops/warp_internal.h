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

/* Per-axis sampling table of an aligned mapping (warp_aligned.c): output
 * position o samples the input at p = snap(scale o + shift). */
typedef struct {
  int64_t *i0, *i1;  /* linear taps (mirrored); nearest: i0 */
  int64_t *c;        /* cubic: 4 taps per position (mirrored) */
  double *w;         /* linear: weight of i1; cubic: 4 weights per position */
  uint8_t *in;       /* 1 when the position is inside [-0.5, n - 0.5] (edge fill: always) */
} dp__axis_tab;

dp_status dp__axis_tab_make(dp__axis_tab *t, int64_t nout, int64_t nin, double scale, double shift,
                            dp_interp interp, dp_fill fill);
void dp__axis_tab_free(dp__axis_tab *t);

/* Fills out (already allocated on its grid) for an aligned mapping with
 * nearest, linear or cubic interpolation; fill_value is the resolved fill. */
dp_status dp__warp_aligned(const dp_volume *in, const dp_mat4 *m, dp_interp interp, dp_fill fill,
                           double fill_value, int threads, dp_volume *out);

/* Anti-aliased linear resampling onto an aligned grid (warp_smooth.c): the
 * result of dp_gaussian(in, sigma) then dp__warp_aligned with linear
 * interpolation, byte for byte, with the smoothing done slice by slice as
 * the output needs it instead of into a float32 copy of the volume.
 * fill (constant or edge) and fill_value as dp__warp_aligned takes them.
 * Applies to a diagonal mapping, input other than f64 (whose smoothing is
 * in double) and a smoothing along k of at most 64 taps each side:
 * dp__warp_smooth_applies. */
int dp__warp_smooth_applies(const dp_volume *in, const dp_mat4 *m, const double sigma[3]);
dp_status dp__warp_smooth(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                          const dp_mat4 *m, const double sigma[3], dp_fill fill, double fill_value,
                          dp_dtype dtype, int threads, dp_volume **out);

/* Trilinear interpolation along output row segments i = i0 .. i0 + len - 1
 * (len <= 64) of nrows output rows, from src (one volume of n[0] x n[1] x
 * n[2] voxels).  In row r the position of voxel i is a * i + b[3 r + d] on
 * axis d (the product, then the sum), plus, when dsp is not NULL,
 * dsp[r][q + d * plane] (q = i - i0), snapped to voxel centres
 * (dp__warp_snap) when snap is set. */
typedef struct dp__lerp_rows {
  const void *src;
  int64_t n[3];
  double a[3];
  const double *b;        /* 3 per row */
  const float *const *dsp; /* NULL, or per row: the x plane's first voxel */
  int64_t plane;          /* floats from one displacement plane to the next */
  int64_t i0;
  int len, nrows, snap;
  const double *fill;     /* NULL (edge fill), or the value outside the input */
} dp__lerp_rows;

/* Writes out[r * len + q] for every voxel whose eight taps lie inside the
 * input (0 <= p < n - 1 on every axis), and *fill for every voxel outside the
 * input's extent when fill is not NULL; rest[r] gets the mask of the others
 * (bit q), which the caller samples itself (lib/ops/warp_linear.c). */
typedef void (*dp__lerp_rows_fn)(const dp__lerp_rows *job, double *out, uint64_t *rest);

/* The row kernel for input type t (the fastest this processor runs), or
 * NULL when the type has none (f64, i32: per-voxel path). */
dp__lerp_rows_fn dp__lerp_kernel(dp_dtype t);

/* Displacements made one output row at a time instead of read from a whole
 * field (dp_warp_opts.displacement): fn fills rows[d * n0 + i], d = 0..2,
 * i < n0 = the output's dim[0], with the displacement of output voxel
 * (i, j, k), in input voxel units.  It is called from worker threads, once
 * per output row and volume, and must give the same values whatever the
 * order. */
typedef void (*dp__field_row_fn)(void *ctx, int64_t j, int64_t k, float *rows);
typedef struct {
  dp__field_row_fn fn;
  void *ctx;
} dp__field_rows;

/* Every row of a field of dim (3 planes of float32, the layout of
 * dp_warp_opts.displacement) from rows, in parallel. */
dp_status dp__field_rows_fill(const dp__field_rows *rows, const int64_t dim[3], int threads, float *field);

/* dp_warp with displacements from rows (NULL: none, or opts->displacement). */
dp_status dp__warp_rows(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                        const dp_mat4 *out_to_in, const dp_warp_opts *opts, const dp__field_rows *rows,
                        dp_volume **out);

#endif
