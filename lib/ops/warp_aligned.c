/* Fast paths of the warp engine for axis-aligned mappings (each output axis
 * runs along the same input axis: scaling and shifting, no rotation or
 * shear, no displacement field) - the mapping of every resample to a new
 * spacing or shape, of crops and pads.  The interpolation is separable, so
 * per-axis tables of taps and weights replace per-voxel arithmetic, and
 * cubic B-splines run as three one-dimensional passes (prefilter along an
 * axis, then evaluate along it), which is exactly the tensor-product spline
 * because the per-axis operators commute.  Same results as the generic path
 * (warp.c) up to floating-point rounding; same bytes for any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/ops_internal.h"
#include "ops/warp_internal.h"

int dp__warp_is_aligned(const dp_mat4 *m) {
  for (int d = 0; d < 3; d++)
    for (int e = 0; e < 3; e++)
      if (d != e && m->m[d][e] != 0) return 0;
  return 1;
}

void dp__axis_tab_free(dp__axis_tab *t) {
  free(t->i0);
  free(t->i1);
  free(t->c);
  free(t->w);
  free(t->in);
}

dp_status dp__axis_tab_make(dp__axis_tab *t, int64_t nout, int64_t nin, double scale, double shift,
                            dp_interp interp, dp_fill fill) {
  memset(t, 0, sizeof *t);
  size_t n = (size_t)nout;
  int cubic = interp == DP_INTERP_CUBIC;
  t->i0 = malloc(n * sizeof *t->i0);
  t->i1 = malloc(n * sizeof *t->i1);
  t->w = malloc(n * (cubic ? 4 : 1) * sizeof *t->w);
  t->c = cubic ? malloc(n * 4 * sizeof *t->c) : NULL;
  t->in = malloc(n);
  if (!t->i0 || !t->i1 || !t->w || !t->in || (cubic && !t->c)) {
    dp__axis_tab_free(t);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  for (int64_t o = 0; o < nout; o++) {
    double p = dp__warp_snap(scale * (double)o + shift);
    t->in[o] = p >= -0.5 && p <= (double)nin - 0.5;
    if (!t->in[o] && fill == DP_FILL_EDGE) {
      p = p < 0 ? 0 : (double)(nin - 1);
      t->in[o] = 1;
    }
    if (interp == DP_INTERP_NEAREST) {
      int64_t q = (int64_t)floor(p + 0.5);
      t->i0[o] = q < 0 ? 0 : q >= nin ? nin - 1 : q;
      continue;
    }
    double fl = floor(p);
    double f = p - fl;
    if (cubic) {
      dp__bspline_weights(f, t->w + 4 * o);
      for (int q = 0; q < 4; q++) t->c[4 * o + q] = dp__mirror((int64_t)fl - 1 + q, nin);
    } else {
      t->i0[o] = dp__mirror((int64_t)fl, nin);
      t->i1[o] = f == 0 ? t->i0[o] : dp__mirror((int64_t)fl + 1, nin);
      t->w[o] = f;
    }
  }
  return DP_OK;
}

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  dp__axis_tab tab[3];
  dp_interp interp;
  double fill;
  int64_t t; /* current volume */
  float *tmp2; /* cubic intermediate: resampled along i and j */
} al_ctx;

/* Row kernels, one per input type: linear (4 rows, constant y/z weights) and
 * nearest (one row). */
#define DP__ROWS(name, ctype, str)                                                          \
  static void lin_##name(const void *base, const int64_t o00, const int64_t o01,           \
                         const int64_t o10, const int64_t o11, double wy, double wz,        \
                         const dp__axis_tab *tx, int64_t n, double fill, double *out) {         \
    const ctype *a = (const ctype *)base + o00, *b = (const ctype *)base + o01;             \
    const ctype *c = (const ctype *)base + o10, *d = (const ctype *)base + o11;             \
    for (int64_t i = 0; i < n; i++) {                                                       \
      if (!tx->in[i]) {                                                                     \
        out[i] = fill;                                                                      \
        continue;                                                                           \
      }                                                                                     \
      int64_t x0 = tx->i0[i], x1 = tx->i1[i];                                               \
      double wx = tx->w[i];                                                                 \
      double v00 = (double)a[x0] + wx * ((double)a[x1] - (double)a[x0]);                    \
      double v01 = (double)b[x0] + wx * ((double)b[x1] - (double)b[x0]);                    \
      double v10 = (double)c[x0] + wx * ((double)c[x1] - (double)c[x0]);                    \
      double v11 = (double)d[x0] + wx * ((double)d[x1] - (double)d[x0]);                    \
      double v0 = v00 + wy * (v01 - v00), v1 = v10 + wy * (v11 - v10);                      \
      out[i] = v0 + wz * (v1 - v0);                                                         \
    }                                                                                       \
  }                                                                                         \
  static void near_##name(const void *base, int64_t off, const dp__axis_tab *tx, int64_t n,     \
                          double fill, double *out) {                                       \
    const ctype *a = (const ctype *)base + off;                                             \
    for (int64_t i = 0; i < n; i++) out[i] = tx->in[i] ? (double)a[tx->i0[i]] : fill;       \
  }
DP_DTYPE_MAP(DP__ROWS)
#undef DP__ROWS

typedef void (*lin_fn)(const void *, int64_t, int64_t, int64_t, int64_t, double, double,
                       const dp__axis_tab *, int64_t, double, double *);
typedef void (*near_fn)(const void *, int64_t, const dp__axis_tab *, int64_t, double, double *);

static lin_fn lin_for(dp_dtype t) {
  switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: return lin_##name;
    DP_DTYPE_MAP(DP__C)
#undef DP__C
    default: return NULL;
  }
}

static near_fn near_for(dp_dtype t) {
  switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: return near_##name;
    DP_DTYPE_MAP(DP__C)
#undef DP__C
    default: return NULL;
  }
}

/* Nearest neighbour into the same type: a typed gather, no conversion. */
static void copy_nearest(const void *base, int64_t off, const dp__axis_tab *tx, int64_t n, double fill,
                         dp_dtype t, void *dst) {
  switch (t) {
#define DP__N(name, ctype, str)                                                      \
  case DP_##name: {                                                                  \
    const ctype *a = (const ctype *)base + off;                                      \
    ctype *o = dst, f;                                                               \
    dp__store_row(&fill, 1, t, &f);                                                  \
    for (int64_t i = 0; i < n; i++) o[i] = tx->in[i] ? a[tx->i0[i]] : f;             \
    break;                                                                           \
  }
    DP_DTYPE_MAP(DP__N)
#undef DP__N
    default: break;
  }
}

static dp_status slice_task(void *vctx, int64_t k) {
  al_ctx *c = vctx;
  const int64_t *od = c->out->dim, *id = c->in->dim;
  size_t esize = dp_dtype_size(c->out->dtype);
  double *row = malloc((size_t)od[0] * sizeof *row);
  if (!row) return dp__error(DP_ENOMEM, "out of memory");
  const char *base = (const char *)c->in->data +
                     (size_t)(c->t * id[0] * id[1] * id[2]) * dp_dtype_size(c->in->dtype);
  char *dst = (char *)c->out->data + (size_t)((c->t * od[2] + k) * od[1] * od[0]) * esize;
  const dp__axis_tab *ty = &c->tab[1], *tz = &c->tab[2];
  lin_fn lin = lin_for(c->in->dtype);
  near_fn near = near_for(c->in->dtype);
  for (int64_t j = 0; j < od[1]; j++, dst += (size_t)od[0] * esize) {
    if (!ty->in[j] || !tz->in[k]) {
      for (int64_t i = 0; i < od[0]; i++) row[i] = c->fill;
    } else if (c->interp == DP_INTERP_NEAREST && c->out->dtype == c->in->dtype) {
      copy_nearest(base, (tz->i0[k] * id[1] + ty->i0[j]) * id[0], &c->tab[0], od[0], c->fill, c->in->dtype, dst);
      continue;
    } else if (c->interp == DP_INTERP_NEAREST) {
      near(base, (tz->i0[k] * id[1] + ty->i0[j]) * id[0], &c->tab[0], od[0], c->fill, row);
    } else {
      int64_t z0 = tz->i0[k] * id[1], z1 = tz->i1[k] * id[1];
      lin(base, (z0 + ty->i0[j]) * id[0], (z0 + ty->i1[j]) * id[0], (z1 + ty->i0[j]) * id[0],
          (z1 + ty->i1[j]) * id[0], ty->w[j], tz->w[k], &c->tab[0], od[0], c->fill, row);
    }
    dp__store_row(row, od[0], c->out->dtype, dst);
  }
  free(row);
  return DP_OK;
}

/* ---- cubic: three passes ------------------------------------------------- */

/* Lines are processed LB at a time, interleaved (element k of line l at
 * [k * LB + l]), so that the recursive prefilter, which is serial along a
 * line, runs across LB lines at once (and vectorises). */
#define LB 8

static void prefilter_block(double *c, int64_t n) {
  if (n < 2) return;
  const double z = -0.26794919243112270647, lambda = (1 - z) * (1 - 1 / z);
  for (int64_t k = 0; k < n * LB; k++) c[k] *= lambda;
  double sum[LB];
  int64_t horizon = (int64_t)ceil(log(1e-15) / log(fabs(z)));
  if (horizon < n) {
    double zn = z;
    for (int l = 0; l < LB; l++) sum[l] = c[l];
    for (int64_t k = 1; k < horizon; k++) {
      for (int l = 0; l < LB; l++) sum[l] += zn * c[k * LB + l];
      zn *= z;
    }
  } else { /* exact mirror sum, as dp__prefilter_line */
    double zn = z, iz = 1 / z, z2n = pow(z, (double)(n - 1));
    for (int l = 0; l < LB; l++) sum[l] = c[l] + z2n * c[(n - 1) * LB + l];
    z2n *= z2n * iz;
    for (int64_t k = 1; k <= n - 2; k++) {
      for (int l = 0; l < LB; l++) sum[l] += (zn + z2n) * c[k * LB + l];
      zn *= z;
      z2n *= iz;
    }
    for (int l = 0; l < LB; l++) sum[l] /= 1 - zn * zn;
  }
  for (int l = 0; l < LB; l++) c[l] = sum[l];
  for (int64_t k = 1; k < n; k++)
    for (int l = 0; l < LB; l++) c[k * LB + l] += z * c[(k - 1) * LB + l];
  for (int l = 0; l < LB; l++)
    c[(n - 1) * LB + l] = (z / (z * z - 1)) * (z * c[(n - 2) * LB + l] + c[(n - 1) * LB + l]);
  for (int64_t k = n - 2; k >= 0; k--)
    for (int l = 0; l < LB; l++) c[k * LB + l] = z * (c[(k + 1) * LB + l] - c[k * LB + l]);
}

/* Evaluates LB prefiltered lines at the table's positions. */
static void eval_block(const double *coef, const dp__axis_tab *t, int64_t nout, double *out) {
  for (int64_t o = 0; o < nout; o++) {
    const int64_t *q = t->c + 4 * o;
    const double *w = t->w + 4 * o;
    const double *c0 = coef + q[0] * LB, *c1 = coef + q[1] * LB, *c2 = coef + q[2] * LB,
                 *c3 = coef + q[3] * LB;
    for (int l = 0; l < LB; l++) out[o * LB + l] = w[0] * c0[l] + w[1] * c1[l] + w[2] * c2[l] + w[3] * c3[l];
  }
}

/* Pass along i of slice k: input (n0, n1) -> slice (o0, n1). */
static dp_status pass_i(al_ctx *c, int64_t k, float *slice) {
  const int64_t *id = c->in->dim, *od = c->out->dim;
  dp__load_fn load = dp__loader(c->in->dtype);
  double *buf = calloc((size_t)(id[0] + od[0]) * LB, sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  double *res = buf + id[0] * LB;
  int64_t vol = c->t * id[0] * id[1] * id[2];
  for (int64_t j0 = 0; j0 < id[1]; j0 += LB) {
    int nl = id[1] - j0 < LB ? (int)(id[1] - j0) : LB;
    for (int l = 0; l < nl; l++) {
      int64_t src = vol + (k * id[1] + j0 + l) * id[0];
      switch (c->in->dtype) { /* typed loops: this pass reads every input voxel */
#define DP__G(name, ctype, str)                                                        \
  case DP_##name: {                                                                    \
    const ctype *p = (const ctype *)c->in->data + src;                                 \
    for (int64_t i = 0; i < id[0]; i++) buf[i * LB + l] = (double)p[i];                \
    break;                                                                             \
  }
        DP_DTYPE_MAP(DP__G)
#undef DP__G
        default:
          for (int64_t i = 0; i < id[0]; i++) buf[i * LB + l] = load(c->in->data, src + i);
      }
    }
    prefilter_block(buf, id[0]);
    eval_block(buf, &c->tab[0], od[0], res);
    for (int l = 0; l < nl; l++) {
      float *dst = slice + (j0 + l) * od[0];
      for (int64_t i = 0; i < od[0]; i++) dst[i] = (float)res[i * LB + l];
    }
  }
  free(buf);
  return DP_OK;
}

/* Pass along j of slice k: slice (o0, n1) -> tmp2 (o0, o1, n2). */
static dp_status pass_j(al_ctx *c, int64_t k, const float *slice) {
  const int64_t *id = c->in->dim, *od = c->out->dim;
  double *buf = calloc((size_t)(id[1] + od[1]) * LB, sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  double *res = buf + id[1] * LB;
  for (int64_t i0 = 0; i0 < od[0]; i0 += LB) {
    int nl = od[0] - i0 < LB ? (int)(od[0] - i0) : LB;
    for (int64_t j = 0; j < id[1]; j++) {
      const float *src = slice + j * od[0] + i0;
      for (int l = 0; l < nl; l++) buf[j * LB + l] = src[l];
    }
    prefilter_block(buf, id[1]);
    eval_block(buf, &c->tab[1], od[1], res);
    for (int64_t j = 0; j < od[1]; j++) {
      float *dst = c->tmp2 + (k * od[1] + j) * od[0] + i0;
      for (int l = 0; l < nl; l++) dst[l] = (float)res[j * LB + l];
    }
  }
  free(buf);
  return DP_OK;
}

/* Passes along i then j of input slice k (one task per k): the slice's
 * intermediate stays in a small per-task buffer. */
static dp_status pass_ij(void *vctx, int64_t k) {
  al_ctx *c = vctx;
  float *slice = malloc((size_t)(c->out->dim[0] * c->in->dim[1]) * sizeof *slice);
  if (!slice) return dp__error(DP_ENOMEM, "out of memory");
  dp_status s = pass_i(c, k, slice);
  if (s == DP_OK) s = pass_j(c, k, slice);
  free(slice);
  return s;
}

/* Pass along k: tmp2 (o0, o1, n2) -> output; one task per output row j. */
static dp_status pass_k(void *vctx, int64_t j) {
  al_ctx *c = vctx;
  const int64_t *id = c->in->dim, *od = c->out->dim;
  size_t esize = dp_dtype_size(c->out->dtype);
  double *buf = calloc((size_t)(id[2] + od[2]) * LB, sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  double *res = buf + id[2] * LB;
  char *out = (char *)c->out->data + (size_t)(c->t * od[0] * od[1] * od[2]) * esize;
  for (int64_t i0 = 0; i0 < od[0]; i0 += LB) {
    int nl = od[0] - i0 < LB ? (int)(od[0] - i0) : LB;
    for (int64_t k = 0; k < id[2]; k++) {
      const float *src = c->tmp2 + (k * od[1] + j) * od[0] + i0;
      for (int l = 0; l < nl; l++) buf[k * LB + l] = src[l];
    }
    prefilter_block(buf, id[2]);
    eval_block(buf, &c->tab[2], od[2], res);
    for (int64_t k = 0; k < od[2]; k++) {
      double *v = res + k * LB;
      for (int l = 0; l < nl; l++)
        if (!(c->tab[0].in[i0 + l] && c->tab[1].in[j] && c->tab[2].in[k])) v[l] = c->fill;
      dp__store_row(v, nl, c->out->dtype, out + (size_t)((k * od[1] + j) * od[0] + i0) * esize);
    }
  }
  free(buf);
  return DP_OK;
}

dp_status dp__warp_aligned(const dp_volume *in, const dp_mat4 *m, dp_interp interp, dp_fill fill,
                           double fill_value, int threads, dp_volume *out) {
  al_ctx c;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.out = out;
  c.interp = interp;
  c.fill = fill_value;
  dp_status s = DP_OK;
  for (int d = 0; d < 3 && s == DP_OK; d++)
    s = dp__axis_tab_make(&c.tab[d], out->dim[d], in->dim[d], m->m[d][d], m->m[d][3], interp, fill);
  const int64_t *id = in->dim, *od = out->dim;
  /* A float32 output of one volume holds the intermediate itself: both use
   * the (i, j, k) layout, and the last pass reads a whole k-line before it
   * writes that line's output, so the buffer is reused in place (grown
   * while the input has more slices than the output, shrunk after). */
  int alias = 0;
  size_t out_bytes = (size_t)(od[0] * od[1] * od[2]) * sizeof(float);
  if (s == DP_OK && interp == DP_INTERP_CUBIC) {
    size_t n2 = (size_t)(od[0] * od[1] * id[2]);
    alias = out->dtype == DP_F32 && id[3] == 1;
    if (alias && n2 * sizeof(float) > out_bytes) {
      void *p = realloc(out->data, n2 * sizeof(float));
      if (!p) s = dp__error(DP_ENOMEM, "out of memory for the cubic passes");
      else out->data = p;
    }
    if (s == DP_OK) c.tmp2 = alias ? (float *)out->data : malloc(n2 * sizeof *c.tmp2);
    if (s == DP_OK && !c.tmp2) s = dp__error(DP_ENOMEM, "out of memory for the cubic passes");
  }
  for (c.t = 0; s == DP_OK && c.t < id[3]; c.t++) {
    if (interp == DP_INTERP_CUBIC) {
      s = dp__parallel_for(id[2], threads, pass_ij, &c);
      if (s == DP_OK) s = dp__parallel_for(od[1], threads, pass_k, &c);
    } else {
      s = dp__parallel_for(od[2], threads, slice_task, &c);
    }
  }
  if (alias) {
    void *p = realloc(out->data, out_bytes); /* a shrink: keep the old block if it fails */
    if (p) out->data = p;
  } else {
    free(c.tmp2);
  }
  for (int d = 0; d < 3; d++) dp__axis_tab_free(&c.tab[d]);
  return s;
}
