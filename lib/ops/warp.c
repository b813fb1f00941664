#include "dcmprep/warp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/meta.h"
#include "ops/ops_internal.h"
#include "ops/warp_internal.h"

const char *dp_interp_name(dp_interp i) {
  switch (i) {
    case DP_INTERP_NEAREST: return "nearest";
    case DP_INTERP_LINEAR: return "linear";
    case DP_INTERP_CUBIC: return "cubic";
    case DP_INTERP_ONEHOT: return "onehot";
  }
  return "?";
}

dp_status dp_interp_parse(const char *name, dp_interp *out) {
  static const struct {
    const char *name;
    dp_interp v;
  } t[] = {{"nearest", DP_INTERP_NEAREST}, {"linear", DP_INTERP_LINEAR},
           {"cubic", DP_INTERP_CUBIC},     {"bspline", DP_INTERP_CUBIC},
           {"onehot", DP_INTERP_ONEHOT}};
  for (size_t k = 0; name && k < sizeof t / sizeof t[0]; k++)
    if (strcmp(name, t[k].name) == 0) {
      *out = t[k].v;
      return DP_OK;
    }
  return dp__error(DP_EINVAL, "unknown interpolator '%s' (nearest, linear, cubic, onehot)",
                   name ? name : "");
}

/* ---- cubic B-spline prefilter ------------------------------------------- */

#define POLE (-0.26794919243112270647) /* sqrt(3) - 2 */

/* In-place cubic B-spline coefficients of one line with mirror boundaries
 * (Unser 1993; Thevenaz et al. 2000), as scipy's spline_filter1d. */
void dp__prefilter_line(double *c, int64_t n) {
  if (n < 2) return;
  const double z = POLE, lambda = (1 - z) * (1 - 1 / z);
  for (int64_t k = 0; k < n; k++) c[k] *= lambda;
  /* causal initialisation: exact mirror sum for short lines, else truncated
   * where z^k falls below 1e-15 */
  int64_t horizon = (int64_t)ceil(log(1e-15) / log(fabs(z)));
  double sum;
  if (horizon < n) {
    double zn = z;
    sum = c[0];
    for (int64_t k = 1; k < horizon; k++) {
      sum += zn * c[k];
      zn *= z;
    }
  } else {
    double zn = z, iz = 1 / z, z2n = pow(z, (double)(n - 1));
    sum = c[0] + z2n * c[n - 1];
    z2n *= z2n * iz;
    for (int64_t k = 1; k <= n - 2; k++) {
      sum += (zn + z2n) * c[k];
      zn *= z;
      z2n *= iz;
    }
    sum /= 1 - zn * zn;
  }
  c[0] = sum;
  for (int64_t k = 1; k < n; k++) c[k] += z * c[k - 1];
  c[n - 1] = (z / (z * z - 1)) * (z * c[n - 2] + c[n - 1]);
  for (int64_t k = n - 2; k >= 0; k--) c[k] = z * (c[k + 1] - c[k]);
}

typedef struct {
  float *data;
  const dp_volume *in;
  dp__load_fn load;
  int axis;
  int64_t lines_per_t; /* lines along axis in one volume */
} pf_ctx;

static dp_status prefilter_task(void *vctx, int64_t line) {
  pf_ctx *c = vctx;
  const int64_t *d = c->in->dim;
  int64_t n = d[c->axis];
  int64_t stride = c->axis == 0 ? 1 : c->axis == 1 ? d[0] : d[0] * d[1];
  int64_t t = line / c->lines_per_t, r = line % c->lines_per_t, start;
  /* r enumerates the other two axes */
  if (c->axis == 0) start = r * d[0];
  else if (c->axis == 1) start = (r / d[0]) * d[0] * d[1] + r % d[0];
  else start = r;
  start += t * d[0] * d[1] * d[2];
  double *buf = malloc((size_t)n * sizeof *buf);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  for (int64_t k = 0; k < n; k++)
    buf[k] = c->load ? c->load(c->in->data, start + k * stride) : c->data[start + k * stride];
  dp__prefilter_line(buf, n);
  for (int64_t k = 0; k < n; k++) c->data[start + k * stride] = (float)buf[k];
  free(buf);
  return DP_OK;
}

dp_status dp_spline_prefilter(const dp_volume *in, int threads, dp_volume **out) {
  *out = NULL;
  if (!in) return dp__error(DP_EINVAL, "no volume");
  dp_volume *v = NULL;
  dp_status s = dp_volume_new_like(in, DP_F32, &v);
  if (s != DP_OK) return s;
  const int64_t *d = in->dim;
  for (int axis = 0; axis < 3 && s == DP_OK; axis++) {
    pf_ctx c = {v->data, in, axis == 0 ? dp__loader(in->dtype) : NULL, axis,
                d[0] * d[1] * d[2] / d[axis]};
    s = dp__parallel_for(c.lines_per_t * d[3], threads, prefilter_task, &c);
  }
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

/* ---- sampling ------------------------------------------------------------- */

typedef struct {
  const dp_volume *in;
  const void *src;   /* input data, or the cubic coefficients (float) */
  dp__load_fn load;
  dp_volume *out;
  dp_mat4 m;
  dp_warp_opts o;
  double fill;
  int64_t n[3];
  size_t plane_in;   /* voxels in one input volume */
  int snap;          /* snap positions to voxel centres (see integer_mapping) */
  dp__lerp_rows_fn lerp; /* linear: the row kernel of the input type, or NULL */
  int direct_nearest;    /* nearest between integer volumes of one type: nearest_row */
  int64_t block[3];     /* output block size, see warp_block_task */
  const dp__field_rows *rows; /* displacements made row by row, or NULL */
} warp_ctx;

/* Snapping positions to voxel centres (warp_internal.h) matters only when the
 * mapping can land on them exactly up to rounding: an integer linear part
 * (permutations, flips, 90-degree turns, integer steps).  Other mappings (a
 * rotation by 10 degrees, a zoom by 1.1) and displacement fields skip it:
 * the difference is below 1e-7 of a voxel. */
static int integer_mapping(const dp_mat4 *m) {
  for (int d = 0; d < 3; d++)
    for (int e = 0; e < 3; e++)
      if (fabs(m->m[d][e] - nearbyint(m->m[d][e])) > 1e-9) return 0;
  return 1;
}

static double sample_cubic(const warp_ctx *c, const float *src, const double p[3]) {
  int64_t idx[3][4];
  double w[3][4];
  for (int d = 0; d < 3; d++) {
    double fl = dp__floor(p[d]);
    dp__bspline_weights(p[d] - fl, w[d]);
    for (int q = 0; q < 4; q++) idx[d][q] = dp__mirror((int64_t)fl - 1 + q, c->n[d]);
  }
  double sum = 0;
  for (int z = 0; z < 4; z++) {
    int64_t oz = idx[2][z] * c->n[0] * c->n[1];
    double sy = 0;
    for (int y = 0; y < 4; y++) {
      const float *r = src + oz + idx[1][y] * c->n[0];
      sy += w[1][y] * (w[0][0] * r[idx[0][0]] + w[0][1] * r[idx[0][1]] + w[0][2] * r[idx[0][2]] +
                       w[0][3] * r[idx[0][3]]);
    }
    sum += w[2][z] * sy;
  }
  return sum;
}

/* The 8 trilinear taps and weights of p (mirrored at the edges). */
static inline void linear_taps(const warp_ctx *c, const double p[3], int64_t off[8], double w[8]) {
  int64_t i0[3], i1[3];
  double f[3];
  for (int d = 0; d < 3; d++) {
    double fl = dp__floor(p[d]);
    f[d] = p[d] - fl;
    i0[d] = (int64_t)fl;
    i1[d] = i0[d] + 1;
    if (i0[d] < 0 || i1[d] >= c->n[d]) {
      i0[d] = dp__mirror(i0[d], c->n[d]);
      i1[d] = dp__mirror(i1[d], c->n[d]);
    }
  }
  const int64_t sy = c->n[0], sz = c->n[0] * c->n[1];
  for (int q = 0; q < 8; q++) {
    int64_t x = q & 1 ? i1[0] : i0[0], y = q & 2 ? i1[1] : i0[1], z = q & 4 ? i1[2] : i0[2];
    off[q] = z * sz + y * sy + x;
    w[q] = (q & 1 ? f[0] : 1 - f[0]) * (q & 2 ? f[1] : 1 - f[1]) * (q & 4 ? f[2] : 1 - f[2]);
  }
}

/* Labels: the label with the largest summed trilinear weight (ties: the
 * smaller label), i.e. linear interpolation of each label's indicator, then
 * argmax, without a pass per label. */
static double sample_onehot(const warp_ctx *c, const void *src, const double p[3]) {
  int64_t off[8];
  double w[8], lab[8], acc[8];
  int nl = 0;
  linear_taps(c, p, off, w);
  for (int q = 0; q < 8; q++) {
    double v = c->load(src, off[q]);
    int k = 0;
    while (k < nl && lab[k] != v) k++;
    if (k == nl) {
      lab[nl] = v;
      acc[nl++] = 0;
    }
    acc[k] += w[q];
  }
  int best = 0;
  for (int k = 1; k < nl; k++)
    if (acc[k] > acc[best] + 1e-12 || (fabs(acc[k] - acc[best]) <= 1e-12 && lab[k] < lab[best])) best = k;
  return lab[best];
}

/* Trilinear interpolation at p when all 8 taps are inside the volume (no
 * mirroring), reading the input type directly: the common case of rotations
 * and zooms, kept free of per-tap indirect calls.  Returns 0 when p is too
 * close to an edge or the type is not one of the direct ones. */
#define DP__LERP8(T)                                                                         \
  {                                                                                          \
    const T *s = (const T *)src + base;                                                      \
    double c00 = (double)s[0] + fx * ((double)s[1] - (double)s[0]);                          \
    double c10 = (double)s[sy] + fx * ((double)s[sy + 1] - (double)s[sy]);                   \
    double c01 = (double)s[sz] + fx * ((double)s[sz + 1] - (double)s[sz]);                   \
    double c11 = (double)s[sz + sy] + fx * ((double)s[sz + sy + 1] - (double)s[sz + sy]);    \
    double c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);                         \
    *v = c0 + fz * (c1 - c0);                                                                \
    return 1;                                                                                \
  }
static inline int linear_interior(const warp_ctx *c, const void *src, const double p[3], double *v) {
  double x0 = dp__floor(p[0]), y0 = dp__floor(p[1]), z0 = dp__floor(p[2]);
  if (!(x0 >= 0 && y0 >= 0 && z0 >= 0 && x0 < (double)(c->n[0] - 1) && y0 < (double)(c->n[1] - 1) &&
        z0 < (double)(c->n[2] - 1)))
    return 0;
  const double fx = p[0] - x0, fy = p[1] - y0, fz = p[2] - z0;
  const int64_t sy = c->n[0], sz = c->n[0] * c->n[1];
  const int64_t base = (int64_t)z0 * sz + (int64_t)y0 * sy + (int64_t)x0;
  switch (c->in->dtype) {
    case DP_F32: DP__LERP8(float)
    case DP_I16: DP__LERP8(int16_t)
    case DP_U8: DP__LERP8(uint8_t)
    case DP_U16: DP__LERP8(uint16_t)
    default: return 0;
  }
}
#undef DP__LERP8

/* The value of output voxel (i, j, k) of volume src; drow, when not NULL,
 * holds the displacements of row (j, k), planes dstride floats apart. */
static inline double sample_voxel(const warp_ctx *c, const char *src, int64_t i, int64_t j, int64_t k,
                                  const float *drow, int64_t dstride) {
  const double(*m)[4] = c->m.m;
  double p[3];
  for (int d = 0; d < 3; d++) p[d] = m[d][0] * (double)i + m[d][1] * (double)j + m[d][2] * (double)k + m[d][3];
  if (drow)
    for (int d = 0; d < 3; d++) p[d] += drow[d * dstride + i];
  int inside = 1;
  for (int d = 0; d < 3; d++) {
    if (c->snap) p[d] = dp__warp_snap(p[d]);
    if (!(p[d] >= -0.5 && p[d] <= (double)c->n[d] - 0.5)) inside = 0;
  }
  if (!inside) {
    if (c->o.fill != DP_FILL_EDGE) return c->fill;
    for (int d = 0; d < 3; d++) p[d] = p[d] < 0 ? 0 : p[d] > (double)(c->n[d] - 1) ? (double)(c->n[d] - 1) : p[d];
  }
  switch (c->o.interp) {
    case DP_INTERP_NEAREST: {
      int64_t q[3];
      for (int d = 0; d < 3; d++) {
        q[d] = (int64_t)dp__floor(p[d] + 0.5);
        q[d] = q[d] < 0 ? 0 : q[d] >= c->n[d] ? c->n[d] - 1 : q[d];
      }
      return c->load(src, (q[2] * c->n[1] + q[1]) * c->n[0] + q[0]);
    }
    case DP_INTERP_LINEAR: {
      double v = 0;
      if (inside && linear_interior(c, src, p, &v)) return v;
      int64_t off[8];
      double w[8];
      linear_taps(c, p, off, w);
      for (int q = 0; q < 8; q++)
        if (w[q] != 0) v += w[q] * c->load(src, off[q]);
      return v;
    }
    case DP_INTERP_CUBIC: return sample_cubic(c, (const float *)src, p);
    default: return sample_onehot(c, src, p);
  }
}

/* Nearest neighbour between integer volumes of one type (labels), voxels
 * s0 .. s1 - 1 of output row (j, k) (displacements drow, planes dstride
 * apart, or NULL) written straight into dst: the same
 * positions, tests and taps as sample_voxel, without its per-voxel loader
 * call and double round trip (the stored value of an integer is itself;
 * the fill is stored once, rounded and clamped as dp__store_row does). */
#define DP__NEAREST_ROW(T)                                                                        \
  {                                                                                               \
    const T *in = (const T *)src;                                                                 \
    T *o = (T *)dst, fill;                                                                        \
    dp__store_row(&c->fill, 1, c->out->dtype, &fill);                                             \
    for (int64_t i = s0; i < s1; i++) {                                                           \
      double p[3];                                                                                \
      int inside = 1;                                                                             \
      for (int d = 0; d < 3; d++) {                                                               \
        p[d] = m[d][0] * (double)i + m[d][1] * (double)j + m[d][2] * (double)k + m[d][3];         \
        if (drow) p[d] += drow[d * dstride + i];                                                  \
        if (c->snap) p[d] = dp__warp_snap(p[d]);                                                  \
        if (!(p[d] >= -0.5 && p[d] <= (double)c->n[d] - 0.5)) inside = 0;                         \
      }                                                                                           \
      if (!inside && !edge) {                                                                     \
        o[i - s0] = fill;                                                                         \
        continue;                                                                                 \
      }                                                                                           \
      int64_t q[3];                                                                               \
      for (int d = 0; d < 3; d++) {                                                               \
        if (!inside) p[d] = p[d] < 0 ? 0 : p[d] > (double)(c->n[d] - 1) ? (double)(c->n[d] - 1) : p[d]; \
        q[d] = (int64_t)dp__floor(p[d] + 0.5);                                                    \
        q[d] = q[d] < 0 ? 0 : q[d] >= c->n[d] ? c->n[d] - 1 : q[d];                               \
      }                                                                                           \
      o[i - s0] = in[(q[2] * c->n[1] + q[1]) * c->n[0] + q[0]];                                  \
    }                                                                                             \
    return;                                                                                       \
  }
static void nearest_row(const warp_ctx *c, const char *src, int64_t s0, int64_t s1, int64_t j, int64_t k,
                        const float *drow, int64_t dstride, void *dst) {
  const double(*m)[4] = c->m.m;
  const int edge = c->o.fill == DP_FILL_EDGE;
  switch (c->in->dtype) {
    case DP_U8: DP__NEAREST_ROW(uint8_t)
    case DP_I16: DP__NEAREST_ROW(int16_t)
    case DP_U16: DP__NEAREST_ROW(uint16_t)
    case DP_I32: DP__NEAREST_ROW(int32_t)
    default: return;
  }
}
#undef DP__NEAREST_ROW

/* Output blocks: under a rotation an output row runs obliquely through the
 * input, so rows and slices of output share input cache lines only when
 * they are computed close together in all three directions.  A 32 x 16 x 8
 * block's input footprint (about the same number of voxels) stays in the
 * core's cache. */
static const int64_t ROTATED_BLOCK[3] = {32, 16, 8};
/* A displacement field (elastic) moves positions by a few voxels around the
 * identity: whole rows read the input, the field and the output in order
 * (narrow blocks would read the field a short segment per row, too
 * scattered for the hardware prefetcher and the TLB). */
static const int64_t FIELD_BLOCK[3] = {INT64_MAX, 1, 1};
enum { SEG = 64 };  /* voxels per row segment (at most 64: dp__lerp_rows) */
enum { ROWS = 64 }; /* rows per call of the row kernel */

/* Voxels s0 .. s1 - 1 of the nr (<= ROWS) output rows (jk[r][0], jk[r][1])
 * through the row kernel (warp_linear.c), which takes the interior and
 * outside samples; the rest go through sample_voxel.  Row r goes to
 * vals + r (s1 - s0). */
static void lerp_rows(const warp_ctx *c, const char *src, int64_t s0, int64_t s1, const int64_t jk[][2], int nr,
                      const float *const *drow, int64_t dstride, double *vals) {
  const double(*m)[4] = c->m.m;
  double b[3 * ROWS];
  const float *dsp[ROWS];
  uint64_t rest[ROWS];
  for (int r = 0; r < nr; r++) {
    const double j = (double)jk[r][0], k = (double)jk[r][1];
    for (int d = 0; d < 3; d++) b[3 * r + d] = m[d][1] * j + m[d][2] * k + m[d][3];
    if (drow) dsp[r] = drow[r] + s0;
  }
  dp__lerp_rows job = {src,  {c->n[0], c->n[1], c->n[2]}, {m[0][0], m[1][0], m[2][0]}, b,
                       drow ? dsp : NULL, dstride, s0, (int)(s1 - s0), nr, c->snap,
                       c->o.fill == DP_FILL_EDGE ? NULL : &c->fill};
  c->lerp(&job, vals, rest);
  for (int r = 0; r < nr; r++)
    for (int64_t q = 0; rest[r]; q++, rest[r] >>= 1)
      if (rest[r] & 1)
        vals[r * (s1 - s0) + q] = sample_voxel(c, src, s0 + q, jk[r][0], jk[r][1], drow ? drow[r] : NULL, dstride);
}

static dp_status warp_block_task(void *vctx, int64_t task) {
  warp_ctx *c = vctx;
  const int64_t *od = c->out->dim, *bs = c->block;
  int64_t nbi = (od[0] + bs[0] - 1) / bs[0], nbj = (od[1] + bs[1] - 1) / bs[1], nbk = (od[2] + bs[2] - 1) / bs[2];
  int64_t bi = task % nbi, bj = (task / nbi) % nbj, bk = (task / nbi / nbj) % nbk, t = task / nbi / nbj / nbk;
  int64_t i0 = bi * bs[0], i1 = i0 + bs[0] < od[0] ? i0 + bs[0] : od[0];
  int64_t j0 = bj * bs[1], j1 = j0 + bs[1] < od[1] ? j0 + bs[1] : od[1];
  int64_t k0 = bk * bs[2], k1 = k0 + bs[2] < od[2] ? k0 + bs[2] : od[2];
  size_t osize = dp_dtype_size(c->out->dtype);
  double vals[ROWS * SEG];
  int64_t jk[ROWS][2];
  const char *src = (const char *)c->src +
                    (size_t)t * c->plane_in * (c->o.interp == DP_INTERP_CUBIC ? sizeof(float) : dp_dtype_size(c->in->dtype));
  const int64_t onvox = od[0] * od[1] * od[2], nj = j1 - j0, nrows = nj * (k1 - k0);
  char *out = (char *)c->out->data + (size_t)t * (size_t)onvox * osize;
  /* displacements: rows of the whole field, or one row made here (a
   * displaced warp's blocks are single rows, FIELD_BLOCK) */
  const float *drow[ROWS];
  int64_t dstride = onvox;
  float *made = NULL;
  if (c->rows) {
    if (nrows != 1 || !(made = malloc((size_t)od[0] * 3 * sizeof *made)))
      return dp__error(DP_ENOMEM, "out of memory for a displacement row");
    c->rows->fn(c->rows->ctx, j0, k0, made);
    dstride = od[0];
  }
  for (int64_t r0 = 0; r0 < nrows; r0 += ROWS) {
    const int nr = (int)(nrows - r0 < ROWS ? nrows - r0 : ROWS);
    for (int r = 0; r < nr; r++) {
      jk[r][0] = j0 + (r0 + r) % nj;
      jk[r][1] = k0 + (r0 + r) / nj;
      drow[r] = made ? made
                : c->o.displacement ? c->o.displacement + (jk[r][1] * od[1] + jk[r][0]) * od[0]
                                    : NULL;
    }
    const float *const *dr = c->rows || c->o.displacement ? drow : NULL;
    for (int64_t s0 = i0; s0 < i1; s0 += SEG) {
      const int64_t s1 = s0 + SEG < i1 ? s0 + SEG : i1, len = s1 - s0;
      if (c->direct_nearest) {
        for (int r = 0; r < nr; r++)
          nearest_row(c, src, s0, s1, jk[r][0], jk[r][1], dr ? dr[r] : NULL, dstride,
                      out + (((size_t)jk[r][1] * (size_t)od[1] + (size_t)jk[r][0]) * (size_t)od[0] + (size_t)s0) * osize);
        continue;
      }
      if (c->lerp)
        lerp_rows(c, src, s0, s1, (const int64_t(*)[2])jk, nr, dr, dstride, vals);
      else
        for (int r = 0; r < nr; r++)
          for (int64_t i = s0; i < s1; i++)
            vals[r * len + i - s0] = sample_voxel(c, src, i, jk[r][0], jk[r][1], dr ? dr[r] : NULL, dstride);
      for (int r = 0; r < nr; r++)
        dp__store_row(vals + r * len, len, c->out->dtype,
                      out + (((size_t)jk[r][1] * (size_t)od[1] + (size_t)jk[r][0]) * (size_t)od[0] + (size_t)s0) * osize);
    }
  }
  free(made);
  return DP_OK;
}

int dp__warp_needs_fill(const dp_volume *in, const int64_t dim[3], const dp_mat4 *m, int displaced) {
  if (displaced) return 1;
  /* the output grid's corners: if all map inside the input's extent, so
   * does every voxel between them (an affine map keeps the box convex) */
  for (int q = 0; q < 8; q++) {
    double ijk[3] = {q & 1 ? (double)(dim[0] - 1) : 0, q & 2 ? (double)(dim[1] - 1) : 0,
                     q & 4 ? (double)(dim[2] - 1) : 0}, p[3];
    dp_mat4_apply(m, ijk, p);
    for (int d = 0; d < 3; d++) {
      double x = dp__warp_snap(p[d]);
      if (!(x >= -0.5 && x <= (double)in->dim[d] - 0.5)) return 1;
    }
  }
  return 0;
}

typedef struct {
  const dp_volume *v;
  int64_t n;
  double *part;
} min_ctx;

enum { MIN_CHUNK = 1 << 18 };

static dp_status min_task(void *vctx, int64_t ch) {
  min_ctx *c = vctx;
  int64_t a = ch * MIN_CHUNK, b = a + MIN_CHUNK < c->n ? a + MIN_CHUNK : c->n;
  double m = INFINITY;
  switch (c->v->dtype) { /* typed loops; NaN never compares below */
#define DP__M(name, ctype, str)                                  \
  case DP_##name: {                                              \
    const ctype *p = (const ctype *)c->v->data;                  \
    ctype mm = p[a];                                             \
    for (int64_t i = a; i < b; i++) mm = p[i] < mm ? p[i] : mm;  \
    m = (double)mm;                                              \
    break;                                                       \
  }
    DP_DTYPE_MAP(DP__M)
#undef DP__M
    default: break;
  }
  c->part[ch] = m;
  return DP_OK;
}

double dp__volume_min(const dp_volume *v, int threads) {
  int64_t n = dp_volume_nvox(v), nch = (n + MIN_CHUNK - 1) / MIN_CHUNK;
  double *part = malloc((size_t)nch * sizeof *part), m = INFINITY;
  if (!part) { /* fall back to the slower statistics */
    dp_volume_stats st;
    return dp_volume_compute_stats(v, &st) == DP_OK && st.count ? st.min : 0;
  }
  min_ctx c = {v, n, part};
  dp__parallel_for(nch, threads, min_task, &c);
  for (int64_t k = 0; k < nch; k++) m = part[k] < m ? part[k] : m;
  free(part);
  return isfinite(m) ? m : 0;
}

dp_status dp_warp(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                  const dp_mat4 *out_to_in, const dp_warp_opts *opts, dp_volume **out) {
  return dp__warp_rows(in, dim, out_affine, out_to_in, opts, NULL, out);
}

dp_status dp__warp_rows(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                        const dp_mat4 *out_to_in, const dp_warp_opts *opts, const dp__field_rows *rows,
                        dp_volume **out) {
  if (out) *out = NULL;
  if (!in || !dim || !out_affine || !out_to_in || !out) return dp__error(DP_EINVAL, "dp_warp: missing argument");
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (opts) o = *opts;
  if (rows) o.displacement = NULL; /* one or the other */
  const int displaced = o.displacement || rows;
  if (o.interp < DP_INTERP_NEAREST || o.interp > DP_INTERP_ONEHOT)
    return dp__error(DP_EINVAL, "dp_warp: unknown interpolator %d", (int)o.interp);
  if (o.interp == DP_INTERP_ONEHOT && dp_dtype_is_float(in->dtype))
    return dp__error(DP_EINVAL, "onehot interpolation needs an integer label volume, not %s",
                     dp_dtype_name(in->dtype));
  for (int d = 0; d < 3; d++)
    for (int e = 0; e < 4; e++)
      if (!isfinite(out_to_in->m[d][e]) || !isfinite(out_affine->m[d][e]))
        return dp__error(DP_EINVAL, "dp_warp: the mapping is not finite");
  int64_t od[4] = {dim[0], dim[1], dim[2], in->dim[3]};
  dp_volume *v = NULL;
  dp_status s = dp_volume_new(od, o.dtype == DP_DTYPE_NONE ? in->dtype : o.dtype, out_affine, &v);
  if (s != DP_OK) return s;
  v->t_step = in->t_step;
  warp_ctx c;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.src = in->data;
  c.load = dp__loader(in->dtype);
  c.out = v;
  c.m = *out_to_in;
  c.snap = integer_mapping(out_to_in) && !displaced; /* a field moves positions anyway */
  c.rows = rows;
  c.o = o;
  c.fill = o.fill_value;
  for (int d = 0; d < 3; d++) c.n[d] = in->dim[d];
  c.plane_in = (size_t)(in->dim[0] * in->dim[1] * in->dim[2]);
  if (o.interp == DP_INTERP_LINEAR) c.lerp = dp__lerp_kernel(in->dtype);
  c.direct_nearest = o.interp == DP_INTERP_NEAREST && v->dtype == in->dtype &&
                     (in->dtype == DP_U8 || in->dtype == DP_I16 || in->dtype == DP_U16 || in->dtype == DP_I32);
  if (o.fill == DP_FILL_MIN && dp__warp_needs_fill(in, dim, out_to_in, displaced))
    c.fill = dp__volume_min(in, o.threads);
  dp_volume *coef = NULL;
  int aligned = !displaced && o.interp != DP_INTERP_ONEHOT && dp__warp_is_aligned(out_to_in);
  if (s == DP_OK && o.interp == DP_INTERP_CUBIC && !aligned) {
    s = dp_spline_prefilter(in, o.threads, &coef);
    if (s == DP_OK) c.src = coef->data;
  }
  if (s == DP_OK && aligned) {
    s = dp__warp_aligned(in, out_to_in, o.interp, o.fill, c.fill, o.threads, v);
  } else if (s == DP_OK) {
    const int64_t *bs = displaced ? FIELD_BLOCK : ROTATED_BLOCK;
    for (int d = 0; d < 3; d++) c.block[d] = bs[d] < od[d] ? bs[d] : od[d];
    int64_t nblocks = 1;
    for (int d = 0; d < 3; d++) nblocks *= (od[d] + c.block[d] - 1) / c.block[d];
    s = dp__parallel_for(nblocks * od[3], o.threads, warp_block_task, &c);
  }
  dp_volume_free(coef);
  if (s == DP_OK) {
    s = dp__meta_copy(in, v); /* metadata travels with the voxels */
  }
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}
