#include <math.h>
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "ops/ops_internal.h"

dp_status dp_crop_box(const dp_volume *in, const int64_t lo[3], const int64_t dim[3], dp_fill fill,
                      double fill_value, int threads, dp_volume **out) {
  *out = NULL;
  for (int d = 0; d < 3; d++)
    if (dim[d] < 1) return dp__error(DP_EINVAL, "crop size %lld along axis %d", (long long)dim[d], d);
  /* an integer shift: the warp engine's nearest neighbour moves values exactly */
  dp_mat4 m = dp_mat4_identity();
  for (int d = 0; d < 3; d++) m.m[d][3] = (double)lo[d];
  dp_mat4 aff = dp_mat4_mul(in->ijk_to_ras, m);
  dp_warp_opts w = DP_WARP_OPTS_INIT;
  w.interp = DP_INTERP_NEAREST;
  w.fill = fill;
  w.fill_value = fill_value;
  w.threads = threads;
  return dp_warp(in, dim, &aff, &m, &w, out);
}

void dp_crop_or_pad_box(const dp_volume *in, const int64_t dim[3], int64_t lo[3]) {
  for (int d = 0; d < 3; d++) {
    int64_t n = in->dim[d];
    /* crop: (n - n') / 2 from the start; pad: (n' - n) / 2 before */
    lo[d] = dim[d] <= n ? (n - dim[d]) / 2 : -((dim[d] - n) / 2);
  }
}

dp_status dp_foreground_box(const dp_volume *in, double threshold, double margin_mm,
                            int64_t lo[3], int64_t dim[3]) {
  if (!(margin_mm >= 0) || !isfinite(margin_mm))
    return dp__error(DP_EINVAL, "margin %g mm is not a non-negative number", margin_mm);
  int64_t mn[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, mx[3] = {-1, -1, -1};
  const int64_t *d = in->dim;
  dp__load_fn load = dp__loader(in->dtype);
  int64_t i = 0;
  for (int64_t t = 0; t < d[3]; t++)
    for (int64_t z = 0; z < d[2]; z++)
      for (int64_t y = 0; y < d[1]; y++)
        for (int64_t x = 0; x < d[0]; x++, i++)
          if (load(in->data, i) > threshold) {
            int64_t p[3] = {x, y, z};
            for (int a = 0; a < 3; a++) {
              if (p[a] < mn[a]) mn[a] = p[a];
              if (p[a] > mx[a]) mx[a] = p[a];
            }
          }
  if (mx[0] < 0) return dp__error(DP_EINVAL, "no voxel above %g: nothing to crop to", threshold);
  double sp[3];
  dp_volume_spacing(in, sp);
  for (int a = 0; a < 3; a++) {
    int64_t m = (int64_t)ceil(margin_mm / sp[a] - 1e-9);
    int64_t a0 = mn[a] - m < 0 ? 0 : mn[a] - m, a1 = mx[a] + m >= d[a] ? d[a] - 1 : mx[a] + m;
    lo[a] = a0;
    dim[a] = a1 - a0 + 1;
  }
  return DP_OK;
}
