/* Random intensity augmentation (the draws are the caller's): Gaussian noise
 * keyed per voxel, gamma contrast, scale and offset.  Images only. */
#include <math.h>
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/augment.h"
#include "dcmprep/rng.h"
#include "ops/ops_internal.h"

typedef enum { OP_NOISE, OP_GAMMA, OP_AFFINE } op_kind;

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  dp__load_fn load;
  op_kind op;
  double a, b;  /* noise: std; gamma: gamma; affine: scale, offset */
  double lo, range; /* gamma: min and max - min */
  uint64_t key;
  int64_t plane;
} aug_ctx;

/* One slice per task: every voxel's value depends on its index only. */
static dp_status slice_task(void *vctx, int64_t task) {
  aug_ctx *c = vctx;
  int64_t n = c->plane, start = task * n;
  double *row = malloc((size_t)n * sizeof *row);
  if (!row) return dp__error(DP_ENOMEM, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    double x = c->load(c->in->data, start + i);
    switch (c->op) {
      case OP_NOISE: x += c->a * dp_rng_normal(c->key, (uint64_t)(start + i)); break;
      case OP_GAMMA:
        if (isfinite(x)) {
          double u = (x - c->lo) / c->range;
          u = u < 0 ? 0 : u > 1 ? 1 : u;
          x = c->lo + c->range * pow(u, c->a);
        }
        break;
      case OP_AFFINE: x = x * c->a + c->b; break;
    }
    row[i] = x;
  }
  dp__store_row(row, n, c->out->dtype, (char *)c->out->data + (size_t)start * dp_dtype_size(c->out->dtype));
  free(row);
  return DP_OK;
}

static dp_status run(const dp_volume *in, aug_ctx *c, int threads, dp_volume **out) {
  *out = NULL;
  dp_volume *v = NULL;
  dp_status s = dp_volume_new_like(in, in->dtype == DP_F64 ? DP_F64 : DP_F32, &v);
  if (s != DP_OK) return s;
  c->in = in;
  c->out = v;
  c->load = dp__loader(in->dtype);
  c->plane = in->dim[0] * in->dim[1];
  s = dp__parallel_for(in->dim[2] * in->dim[3], threads, slice_task, c);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

dp_status dp_aug_noise(const dp_volume *in, double std, uint64_t key, int threads, dp_volume **out) {
  *out = NULL;
  if (!in) return dp__error(DP_EINVAL, "no volume");
  if (!(std >= 0) || !isfinite(std)) return dp__error(DP_EINVAL, "noise std %g is not >= 0", std);
  aug_ctx c = {0};
  c.op = OP_NOISE;
  c.a = std;
  c.key = key;
  return run(in, &c, threads, out);
}

dp_status dp_aug_gamma(const dp_volume *in, double gamma, int threads, dp_volume **out) {
  *out = NULL;
  if (!in) return dp__error(DP_EINVAL, "no volume");
  if (!(gamma > 0) || !isfinite(gamma)) return dp__error(DP_EINVAL, "gamma %g is not > 0", gamma);
  dp_volume_stats st;
  dp_status s = dp_volume_compute_stats(in, &st);
  if (s != DP_OK) return s;
  aug_ctx c = {0};
  c.op = OP_GAMMA;
  c.a = gamma;
  c.lo = st.min;
  c.range = st.max - st.min;
  if (!(c.range > 0)) { /* constant (or empty) image: nothing to stretch */
    c.op = OP_AFFINE;
    c.a = 1;
  }
  return run(in, &c, threads, out);
}

dp_status dp_aug_scale_offset(const dp_volume *in, double scale, double offset, int threads,
                              dp_volume **out) {
  *out = NULL;
  if (!in) return dp__error(DP_EINVAL, "no volume");
  if (!isfinite(scale) || !isfinite(offset))
    return dp__error(DP_EINVAL, "scale %g and offset %g must be finite", scale, offset);
  aug_ctx c = {0};
  c.op = OP_AFFINE;
  c.a = scale;
  c.b = offset;
  return run(in, &c, threads, out);
}
