#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "ops/ops_internal.h"

/* One pass along `axis`: every line convolved with the kernel k[-r..r],
 * mirror boundaries; reads src (any type, via load) and writes dst (float or
 * double); src and dst may be the same float/double volume. */
typedef struct {
  const void *src;
  dp__load_fn load;
  void *dst;
  int dst_double;
  const int64_t *dim;
  int axis;
  const double *k;
  int64_t r;
  int64_t lines_per_t;
} g_ctx;

static dp_status gauss_task(void *vctx, int64_t line) {
  g_ctx *c = vctx;
  const int64_t *d = c->dim;
  int64_t n = d[c->axis], stride = c->axis == 0 ? 1 : c->axis == 1 ? d[0] : d[0] * d[1];
  int64_t t = line / c->lines_per_t, q = line % c->lines_per_t, start;
  if (c->axis == 0) start = q * d[0];
  else if (c->axis == 1) start = (q / d[0]) * d[0] * d[1] + q % d[0];
  else start = q;
  start += t * d[0] * d[1] * d[2];
  double *buf = malloc((size_t)(n + 2 * c->r) * sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  for (int64_t x = -c->r; x < n + c->r; x++)
    buf[x + c->r] = c->load(c->src, start + dp__mirror(x, n) * stride);
  for (int64_t x = 0; x < n; x++) {
    const double *b = buf + x + c->r;
    double v = c->k[0] * b[0];
    for (int64_t j = 1; j <= c->r; j++) v += c->k[j] * (b[j] + b[-j]);
    if (c->dst_double) ((double *)c->dst)[start + x * stride] = v;
    else ((float *)c->dst)[start + x * stride] = (float)v;
  }
  free(buf);
  return DP_OK;
}

dp_status dp_gaussian(const dp_volume *in, const double sigma[3], int threads, dp_volume **out) {
  *out = NULL;
  for (int a = 0; a < 3; a++)
    if (!(sigma[a] >= 0) || !isfinite(sigma[a]))
      return dp__error(DP_EINVAL, "Gaussian sigma %g is not a non-negative number", sigma[a]);
  dp_dtype t = in->dtype == DP_F64 ? DP_F64 : DP_F32;
  dp_volume *v = NULL;
  dp_status s = dp_volume_new_like(in, t, &v);
  if (s != DP_OK) return s;
  int first = 1;
  for (int a = 0; a < 3 && s == DP_OK; a++) {
    if (sigma[a] == 0) continue;
    /* as scipy: radius = int(truncate * sigma + 0.5), weights normalised */
    int64_t r = (int64_t)(4.0 * sigma[a] + 0.5);
    double *k = malloc((size_t)(r + 1) * sizeof *k), sum = 0;
    if (!k) {
      s = dp__error(DP_ENOMEM, "out of memory");
      break;
    }
    for (int64_t j = 0; j <= r; j++) {
      k[j] = exp(-0.5 * (double)(j * j) / (sigma[a] * sigma[a]));
      sum += j ? 2 * k[j] : k[j];
    }
    for (int64_t j = 0; j <= r; j++) k[j] /= sum;
    g_ctx c = {first ? in->data : v->data, dp__loader(first ? in->dtype : t), v->data, t == DP_F64,
               in->dim, a, k, r, in->dim[0] * in->dim[1] * in->dim[2] / in->dim[a]};
    s = dp__parallel_for(c.lines_per_t * in->dim[3], threads, gauss_task, &c);
    free(k);
    first = 0;
  }
  if (s == DP_OK && first) { /* no smoothing at all: a plain conversion */
    dp_volume_free(v);
    return dp_volume_convert(in, t, out);
  }
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}
