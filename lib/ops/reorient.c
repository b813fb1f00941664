#include <string.h>

#include "core/internal.h"
#include "core/meta.h"
#include "dcmprep/geometry.h"

dp_status dp_reorient_mapping(const dp_volume *in, const char *code, int64_t dim[3],
                              dp_mat4 *out_to_in) {
  int axis[3], flip[3], taxis[3], tflip[3];
  dp_status s = dp_axcodes_parse(code, taxis, tflip);
  if (s != DP_OK) return s;
  s = dp_affine_orientation(&in->ijk_to_ras, axis, flip);
  if (s != DP_OK) return s;
  *out_to_in = dp_mat4_identity();
  for (int d = 0; d < 3; d++) out_to_in->m[d][d] = 0;
  for (int e = 0; e < 3; e++) {
    int d = 0;
    while (axis[d] != taxis[e]) d++; /* each world axis appears once in both */
    int rev = flip[d] != tflip[e];
    dim[e] = in->dim[d];
    out_to_in->m[d][e] = rev ? -1 : 1;
    out_to_in->m[d][3] = rev ? (double)(in->dim[d] - 1) : 0;
  }
  return DP_OK;
}

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  int64_t step[3];  /* input element offset per output step along each axis */
  int64_t start;    /* input offset of output voxel 0 */
  size_t esize;
} ro_ctx;

static dp_status reorient_task(void *vctx, int64_t task) {
  ro_ctx *c = vctx;
  const int64_t *od = c->out->dim;
  int64_t t = task / od[2], k = task % od[2];
  int64_t vin = c->in->dim[0] * c->in->dim[1] * c->in->dim[2];
  const char *src = (const char *)c->in->data + (size_t)(t * vin) * c->esize;
  char *dst = (char *)c->out->data + (size_t)((t * od[2] + k) * od[1] * od[0]) * c->esize;
  for (int64_t j = 0; j < od[1]; j++) {
    int64_t o = c->start + k * c->step[2] + j * c->step[1];
    for (int64_t i = 0; i < od[0]; i++, o += c->step[0], dst += c->esize)
      memcpy(dst, src + (size_t)o * c->esize, c->esize);
  }
  return DP_OK;
}

dp_status dp_reorient(const dp_volume *in, const char *code, dp_volume **out, int perm[3],
                      int flip[3]) {
  *out = NULL;
  int64_t dim[4];
  dp_mat4 m;
  dp_status s = dp_reorient_mapping(in, code, dim, &m);
  if (s != DP_OK) return s;
  dim[3] = in->dim[3];
  dp_mat4 aff = dp_mat4_mul(in->ijk_to_ras, m);
  dp_volume *v = NULL;
  s = dp_volume_new(dim, in->dtype, &aff, &v);
  if (s != DP_OK) return s;
  v->t_step = in->t_step;
  ro_ctx c = {in, v, {0, 0, 0}, 0, dp_dtype_size(in->dtype)};
  const int64_t stride[3] = {1, in->dim[0], in->dim[0] * in->dim[1]};
  for (int e = 0; e < 3; e++)
    for (int d = 0; d < 3; d++)
      if (m.m[d][e] != 0) {
        c.step[e] = (int64_t)m.m[d][e] * stride[d];
        if (m.m[d][e] < 0) c.start += (in->dim[d] - 1) * stride[d];
        if (perm) perm[e] = d;
        if (flip) flip[e] = m.m[d][e] < 0;
      }
  s = dp__parallel_for(dim[2] * dim[3], 0, reorient_task, &c);
  if (s == DP_OK) s = dp__meta_copy(in, v);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}
