/* Accessors for callers that cannot see the volume struct (language
 * bindings), and copying a caller's strided buffer into a new volume. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dcmprep/volume.h"
#include "internal.h"

const void *dp_volume_data(const dp_volume *v) { return v ? v->data : NULL; }

void dp_volume_dims(const dp_volume *v, int64_t dim[4]) {
  for (int d = 0; d < 4; d++) dim[d] = v ? v->dim[d] : 0;
}

dp_dtype dp_volume_dtype(const dp_volume *v) { return v ? v->dtype : DP_DTYPE_NONE; }

void dp_volume_affine(const dp_volume *v, double m[16]) {
  dp_mat4 a = v ? v->ijk_to_ras : dp_mat4_identity();
  memcpy(m, a.m, sizeof a.m);
}

void dp_free(void *p) { free(p); }

/* One row of dim[0] voxels from a strided source. */
static void copy_row(char *dst, const char *src, int64_t n, int64_t stride, size_t esz) {
  if (stride == (int64_t)esz) {
    memcpy(dst, src, (size_t)n * esz);
    return;
  }
  for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * esz, src + i * stride, esz);
}

dp_status dp_volume_from_data(const int64_t dim[4], dp_dtype dtype, const double affine[16],
                              const void *data, const int64_t strides[4], dp_volume **out) {
  if (!out) return dp__error(DP_EINVAL, "volume: no output pointer");
  *out = NULL;
  if (!dim || !data) return dp__error(DP_EINVAL, "volume: no dimensions or no data");
  dp_mat4 a = dp_mat4_identity();
  if (affine) memcpy(a.m, affine, sizeof a.m);
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++)
      if (!isfinite(a.m[r][c]))
        return dp__error(DP_EINVAL, "volume: the affine holds a non-finite value at [%d][%d]", r, c);
  if (a.m[3][0] != 0 || a.m[3][1] != 0 || a.m[3][2] != 0 || a.m[3][3] != 1)
    return dp__error(DP_EINVAL, "volume: the affine's last row is not (0, 0, 0, 1)");
  dp_mat4 inv;
  if (dp_mat4_inverse(a, &inv) != DP_OK)
    return dp__error(DP_EGEOMETRY, "volume: the affine is singular");
  dp_volume *v = NULL;
  dp_status s = dp_volume_new(dim, dtype, &a, &v);
  if (s != DP_OK) return s;
  size_t esz = dp_dtype_size(dtype);
  int64_t st[4] = {(int64_t)esz, (int64_t)esz * dim[0], (int64_t)esz * dim[0] * dim[1],
                   (int64_t)esz * dim[0] * dim[1] * dim[2]};
  if (strides) memcpy(st, strides, sizeof st);
  char *dst = v->data;
  const char *src = data;
  size_t row = (size_t)dim[0] * esz;
  for (int64_t t = 0; t < dim[3]; t++)
    for (int64_t k = 0; k < dim[2]; k++)
      for (int64_t j = 0; j < dim[1]; j++, dst += row)
        copy_row(dst, src + t * st[3] + k * st[2] + j * st[1], dim[0], st[0], esz);
  *out = v;
  return DP_OK;
}
