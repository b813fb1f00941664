#include <math.h>
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "ops/warp_internal.h"

dp_status dp_resample_grid(const dp_volume *in, const dp_resample_opts *opts, int64_t dim[3],
                           dp_mat4 *affine, dp_mat4 *out_to_in, double sigma[3]) {
  dp_resample_opts o = DP_RESAMPLE_OPTS_INIT;
  if (opts) o = *opts;
  dp_mat4 inv;
  dp_status s = dp_mat4_inverse(in->ijk_to_ras, &inv);
  if (s != DP_OK) return s;
  double sp[3];
  dp_volume_spacing(in, sp);
  if (o.like) {
    for (int d = 0; d < 3; d++) dim[d] = o.like->dim[d];
    *affine = o.like->ijk_to_ras;
    /* anti-aliasing on a reference grid: per input axis, the spacing the
     * reference has along that axis's direction */
    dp_mat4 m = dp_mat4_mul(inv, *affine);
    for (int d = 0; d < 3; d++) {
      double f = 0;
      for (int e = 0; e < 3; e++) f = fmax(f, fabs(m.m[d][e]));
      if (sigma) sigma[d] = f > 1 + 1e-6 ? (f - 1) / 2 : 0;
    }
    *out_to_in = m;
    return DP_OK;
  }
  double nsp[3];
  double total = 1;
  for (int d = 0; d < 3; d++) {
    double extent = (double)in->dim[d] * sp[d], n;
    if (o.shape[d] > 0) {
      n = (double)o.shape[d];
      nsp[d] = extent / n;
    } else if (o.spacing[d] > 0) {
      if (!isfinite(o.spacing[d])) return dp__error(DP_EINVAL, "spacing %g is not finite", o.spacing[d]);
      /* NIfTI stores spacing in float32: 0.45 asked of a 0.45000001 grid is
       * that grid (and an identity resample stays exact) */
      nsp[d] = fabs(o.spacing[d] - sp[d]) <= 1e-6 * sp[d] ? sp[d] : o.spacing[d];
      n = floor(extent / nsp[d] + 0.5);
      if (n < 1) n = 1;
    } else {
      n = (double)in->dim[d];
      nsp[d] = sp[d];
    }
    if (n > 2147483647.0)
      return dp__error(DP_ELIMIT, "resampling to %g mm would give %.3g voxels along axis %d", nsp[d], n, d);
    dim[d] = (int64_t)n;
    total *= n;
  }
  if (total * (double)in->dim[3] > (double)DP_MAX_VOXELS)
    return dp__error(DP_ELIMIT, "resampling would give %.3g voxels (limit %.3g)",
                     total * (double)in->dim[3], (double)DP_MAX_VOXELS);
  /* same directions, new spacing; centre of the field of view kept */
  *affine = in->ijk_to_ras;
  double cin[3], cout[3], win[3], wout[3];
  for (int d = 0; d < 3; d++) {
    for (int r = 0; r < 3; r++) affine->m[r][d] = in->ijk_to_ras.m[r][d] / sp[d] * nsp[d];
    cin[d] = (double)(in->dim[d] - 1) / 2;
    cout[d] = (double)(dim[d] - 1) / 2;
  }
  dp_mat4_apply(&in->ijk_to_ras, cin, win);
  for (int r = 0; r < 3; r++) affine->m[r][3] = 0;
  dp_mat4_apply(affine, cout, wout);
  for (int r = 0; r < 3; r++) affine->m[r][3] = win[r] - wout[r];
  *out_to_in = dp_mat4_mul(inv, *affine);
  for (int d = 0; d < 3; d++)
    if (sigma) sigma[d] = nsp[d] > sp[d] * (1 + 1e-6) ? (nsp[d] / sp[d] - 1) / 2 : 0;
  return DP_OK;
}

dp_status dp_resample(const dp_volume *in, const dp_resample_opts *opts, dp_volume **out) {
  *out = NULL;
  dp_resample_opts o = DP_RESAMPLE_OPTS_INIT;
  if (opts) o = *opts;
  int64_t dim[3];
  dp_mat4 aff, m;
  double sigma[3];
  dp_status s = dp_resample_grid(in, &o, dim, &aff, &m, sigma);
  if (s != DP_OK) return s;
  const dp_volume *src = in;
  dp_volume *smooth = NULL;
  int aa = o.antialias && o.interp != DP_INTERP_NEAREST && o.interp != DP_INTERP_ONEHOT &&
           (sigma[0] > 0 || sigma[1] > 0 || sigma[2] > 0);
  /* linear onto an aligned grid: the smoothing slice by slice, no copy */
  int fused = aa && o.interp == DP_INTERP_LINEAR && dp__warp_smooth_applies(in, &m, sigma);
  if (aa && !fused) {
    s = dp_gaussian(in, sigma, o.threads, &smooth);
    if (s != DP_OK) return s;
    src = smooth;
  }
  dp_warp_opts w = DP_WARP_OPTS_INIT;
  w.interp = o.interp;
  w.fill = o.fill;
  w.fill_value = o.fill_value;
  w.dtype = o.dtype == DP_DTYPE_NONE ? in->dtype : o.dtype;
  w.threads = o.threads;
  if (o.fill == DP_FILL_MIN && aa) { /* the minimum of the input, not of its smoothing */
    w.fill = DP_FILL_CONSTANT;
    w.fill_value = dp__warp_needs_fill(in, dim, &m, 0) ? dp__volume_min(in, o.threads) : 0;
  }
  if (s == DP_OK && fused)
    return dp__warp_smooth(in, dim, &aff, &m, sigma, w.fill, w.fill_value, w.dtype, o.threads, out);
  if (s == DP_OK) s = dp_warp(src, dim, &aff, &m, &w, out);
  dp_volume_free(smooth);
  return s;
}
