#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "ops/ops_internal.h"

/* Separable FIR Gaussian, in place on a float32 or float64 working copy.
 * Lines are processed LB at a time, interleaved ([x * LB + l]), so that
 * strided axes are read in contiguous runs of LB voxels and the convolution
 * vectorises across lines. */
#define LB 8

typedef struct {
  void *data;
  int dbl; /* 1: double data, 0: float */
  const int64_t *dim;
  int axis;
  const double *k; /* k[0..r] */
  int64_t r;
} g_ctx;

static inline double get(const g_ctx *c, int64_t i) {
  return c->dbl ? ((const double *)c->data)[i] : (double)((const float *)c->data)[i];
}
static inline void put(const g_ctx *c, int64_t i, double v) {
  if (c->dbl) ((double *)c->data)[i] = v;
  else ((float *)c->data)[i] = (float)v;
}

/* Convolves the nl lines starting at offsets start + l * lstride (l < nl),
 * elements `stride` apart, n long. */
static void block(const g_ctx *c, double *buf, double *res, int64_t start, int64_t lstride, int nl,
                  int64_t stride, int64_t n) {
  int64_t r = c->r;
  for (int64_t x = -r; x < n + r; x++) {
    int64_t src = start + dp__mirror(x, n) * stride;
    double *b = buf + (x + r) * LB;
    for (int l = 0; l < nl; l++) b[l] = get(c, src + l * lstride);
  }
  for (int64_t x = 0; x < n; x++) {
    const double *b = buf + (x + r) * LB;
    double *o = res + x * LB;
    for (int l = 0; l < LB; l++) o[l] = c->k[0] * b[l];
    for (int64_t j = 1; j <= r; j++) {
      const double *p = b + j * LB, *m = b - j * LB;
      for (int l = 0; l < LB; l++) o[l] += c->k[j] * (p[l] + m[l]);
    }
  }
  for (int64_t x = 0; x < n; x++)
    for (int l = 0; l < nl; l++) put(c, start + x * stride + l * lstride, res[x * LB + l]);
}

/* One task: axis 0 and 1 work within slice `task` (k); axis 2 within row j. */
static dp_status gauss_task(void *vctx, int64_t task) {
  g_ctx *c = vctx;
  const int64_t *d = c->dim;
  int64_t n = d[c->axis];
  double *buf = calloc((size_t)(2 * n + 2 * c->r) * LB, sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  double *res = buf + (n + 2 * c->r) * LB;
  int64_t plane = d[0] * d[1], vol = plane * d[2];
  if (c->axis == 0) { /* task = t * n2 + k: lines along i, one per row j */
    int64_t base = (task / d[2]) * vol + (task % d[2]) * plane;
    for (int64_t j0 = 0; j0 < d[1]; j0 += LB) {
      int nl = d[1] - j0 < LB ? (int)(d[1] - j0) : LB;
      block(c, buf, res, base + j0 * d[0], d[0], nl, 1, n);
    }
  } else if (c->axis == 1) { /* task = t * n2 + k: lines along j, LB columns at a time */
    int64_t base = (task / d[2]) * vol + (task % d[2]) * plane;
    for (int64_t i0 = 0; i0 < d[0]; i0 += LB) {
      int nl = d[0] - i0 < LB ? (int)(d[0] - i0) : LB;
      block(c, buf, res, base + i0, 1, nl, d[0], n);
    }
  } else { /* task = t * n1 + j: lines along k */
    int64_t base = (task / d[1]) * vol + (task % d[1]) * d[0];
    for (int64_t i0 = 0; i0 < d[0]; i0 += LB) {
      int nl = d[0] - i0 < LB ? (int)(d[0] - i0) : LB;
      block(c, buf, res, base + i0, 1, nl, plane, n);
    }
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
  dp_status s = dp_volume_convert(in, t, &v);
  if (s != DP_OK) return s;
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
    g_ctx c = {v->data, t == DP_F64, v->dim, a, k, r};
    int64_t ntasks = (a == 2 ? v->dim[1] : v->dim[2]) * v->dim[3];
    s = dp__parallel_for(ntasks, threads, gauss_task, &c);
    free(k);
  }
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}
