/* The elastic displacement field (elastic.h): counter-based uniform noise,
 * scaled by alpha and smoothed with the recursive Gaussian, then applied
 * through the warp engine with the identity mapping. */
#include "dcmprep/elastic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/elastic_internal.h"
#include "ops/recursive_gaussian.h"
#include "ops/warp_internal.h"

#define LB DP__RG_LB
#define PAD DP__RG_PAD

#ifndef DP__ELASTIC_STEP
#define DP__ELASTIC_STEP 4
#endif
#define GOLDEN 0x9E3779B97F4A7C15ull

/* SplitMix64's output function (Steele, Lea and Flood 2014). */
static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The stream of (seed, axis): a hashed starting state, so that seeds that
 * differ by one do not give overlapping streams. */
static inline uint64_t stream_key(uint64_t seed, int axis) {
  return mix64(mix64(seed) + GOLDEN * (uint64_t)(axis + 1));
}

/* 32 random bits per voxel: one SplitMix64 element serves a pair of
 * voxels (2p: high half, 2p + 1: low half), which halves the hashing. */
static inline uint64_t noise_pair(uint64_t key, int64_t pair) {
  return mix64(key + GOLDEN * ((uint64_t)pair + 1));
}

/* 32 bits to [-1, 1): (b + 0.5) 2^-31 - 1, symmetric about 0. */
static inline double noise_value(uint32_t b) {
  return ((double)b + 0.5) * (1.0 / 2147483648.0) - 1.0;
}

double dp_elastic_noise(uint64_t seed, int axis, int64_t index) {
  uint64_t z = noise_pair(stream_key(seed, axis), index >> 1);
  return noise_value((uint32_t)(index & 1 ? z : z >> 32));
}

/* Writes alpha * noise of voxels [v0, v0 + n) of a stream to dst[q * stride]. */
static void noise_run(uint64_t key, double alpha, int64_t v0, int64_t n, double *dst,
                      int64_t stride) {
  int64_t q = 0;
  if (n > 0 && (v0 & 1)) {
    dst[0] = alpha * noise_value((uint32_t)noise_pair(key, v0 >> 1));
    q = 1;
  }
  for (; q + 1 < n; q += 2) {
    uint64_t z = noise_pair(key, (v0 + q) >> 1);
    dst[q * stride] = alpha * noise_value((uint32_t)(z >> 32));
    dst[(q + 1) * stride] = alpha * noise_value((uint32_t)z);
  }
  if (q < n) dst[q * stride] = alpha * noise_value((uint32_t)(noise_pair(key, (v0 + q) >> 1) >> 32));
}

/* The field is built in three passes.  Along i, the noise is generated into
 * the line buffer and smoothed at full resolution (the definition needs
 * every voxel's noise), and the result is kept only every h-th voxel
 * (h ~ sigma_i / 4) on a grid extending 2h past both ends: a function
 * smoothed with sigma_i is band-limited enough for cubic interpolation from
 * such samples.  Along j, in the same task, the slice's kept samples are
 * smoothed at every row and, when sigma_j is large, only every hj-th row is
 * kept the same way; along k likewise, on the whole coarse grid.  Rows are
 * then interpolated back along k, j and i to every voxel (Catmull-Rom; exact
 * at the kept samples).  With h = hj = hk = 1 the kept grid is the field
 * itself. */
typedef struct {
  float *coarse; /* 3 planes of mc x mj x n2 */
  int64_t n[3], h, e, mc, off;
  int64_t hj, mj; /* along j: step, kept rows */
  uint64_t key[3];
  double alpha[3];
  dp__rg_coef c, cj;
  int smooth, smooth_j; /* 0: sigma 0 along i (j), the values are kept as they are */
} field_ctx;

/* nl (<= LB) lines of n samples, line l's sample q at src[q * ss + l] and
 * zeros outside [0, n), smoothed with c (NULL: not smoothed) over -2h ..
 * n + 2h - 1; the sample at t h - h goes to dst[t * ds + l], t = 0 .. nt - 1.
 * x, yc, ya: (n + 4h + 2 PAD) LB doubles each. */
static void smooth_keep(const dp__rg_coef *c, const float *src, int64_t ss, int64_t n, int64_t h, int64_t nt,
                        int nl, double *x, double *yc, double *ya, float *dst, int64_t ds) {
  int64_t next = n + 4 * h;
  memset(x, 0, (size_t)(next + 2 * PAD) * LB * sizeof *x);
  for (int64_t q = 0; q < n; q++)
    for (int l = 0; l < nl; l++) x[(PAD + 2 * h + q) * LB + l] = src[q * ss + l];
  const double *y = x;
  if (c) {
    dp__rg_lines(c, x, yc, ya, next);
    y = yc;
  }
  for (int64_t t = 0; t < nt; t++)
    for (int l = 0; l < nl; l++) dst[t * ds + l] = (float)y[(PAD + (t + 1) * h) * LB + l];
}

/* One task per (axis, slice k): LB rows at a time along i, then (hj > 1)
 * the slice's kept samples along j. */
static dp_status field_i_task(void *vctx, int64_t task) {
  field_ctx *c = vctx;
  int a = (int)(task / c->n[2]);
  int64_t k = task % c->n[2], n0 = c->n[0], n1 = c->n[1], mc = c->mc;
  int64_t len = (n0 + 2 * c->e + 2 * PAD) * LB, lenj = c->hj > 1 ? (n1 + 4 * c->hj + 2 * PAD) * LB : 0;
  int64_t lmax = len > lenj ? len : lenj;
  double *x = calloc((size_t)lmax * 3, sizeof *x);
  float *dst = c->coarse + (a * c->n[2] + k) * c->mj * mc;
  /* the slice's kept samples along i: the output itself, or (hj > 1) a plane
   * smoothed along j before every hj-th row is kept */
  float *plane = c->hj > 1 ? malloc((size_t)(n1 * mc) * sizeof *plane) : dst;
  if (!x || !plane) {
    free(x);
    if (plane != dst) free(plane);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  double *yc = x + lmax, *ya = yc + lmax;
  for (int64_t j0 = 0; j0 < n1; j0 += LB) {
    int nl = n1 - j0 < LB ? (int)(n1 - j0) : LB;
    for (int l = 0; l < nl; l++)
      noise_run(c->key[a], c->alpha[a], (k * n1 + j0 + l) * n0, n0, x + (PAD + c->e) * LB + l, LB);
    const double *r = x;
    if (c->smooth) {
      dp__rg_lines(&c->c, x, yc, ya, n0 + 2 * c->e);
      r = yc;
    }
    for (int l = 0; l < nl; l++) {
      float *o = plane + (j0 + l) * mc;
      /* coarse sample m sits at i = m h - off, i.e. extended index i + e */
      for (int64_t m = 0; m < mc; m++) o[m] = (float)r[(PAD + m * c->h - c->off + c->e) * LB + l];
    }
  }
  if (c->hj > 1) {
    for (int64_t m0 = 0; m0 < mc; m0 += LB)
      smooth_keep(c->smooth_j ? &c->cj : NULL, plane + m0, mc, n1, c->hj, c->mj,
                  mc - m0 < LB ? (int)(mc - m0) : LB, x, yc, ya, dst + m0, mc);
    free(plane);
  }
  free(x);
  return DP_OK;
}

/* The pass along k when the grid is kept coarsely along k too: one task per
 * (axis, kept row r along j), the lines along k of src (mc x mj x n2 per
 * axis) to dst (mc x mj x mk per axis), LB at a time (smooth_keep). */
typedef struct {
  const float *src;
  float *dst;
  int64_t mc, mj, n2, hk, mk;
  dp__rg_coef c;
  int smooth;
} kpass_ctx;

static dp_status field_k_task(void *vctx, int64_t task) {
  const kpass_ctx *c = vctx;
  int64_t a = task / c->mj, r = task % c->mj, mc = c->mc, plane = c->mc * c->mj;
  int64_t len = (c->n2 + 4 * c->hk + 2 * PAD) * LB;
  double *x = calloc((size_t)len * 3, sizeof *x);
  if (!x) return dp__error(DP_ENOMEM, "out of memory");
  const float *src = c->src + a * plane * c->n2 + r * mc;
  float *dst = c->dst + a * plane * c->mk + r * mc;
  for (int64_t m0 = 0; m0 < mc; m0 += LB)
    smooth_keep(c->smooth ? &c->c : NULL, src + m0, plane, c->n2, c->hk, c->mk, mc - m0 < LB ? (int)(mc - m0) : LB,
                x, x + len, x + 2 * len, dst + m0, plane);
  free(x);
  return DP_OK;
}

/* Catmull-Rom weights of taps -1..2 at fraction f. */
static void catmull_rom(double f, float w[4]) {
  double f2 = f * f, f3 = f2 * f;
  w[0] = (float)(0.5 * (-f3 + 2 * f2 - f));
  w[1] = (float)(0.5 * (3 * f3 - 5 * f2 + 2));
  w[2] = (float)(0.5 * (-3 * f3 + 4 * f2 + f));
  w[3] = (float)(0.5 * (f3 - f2));
}

/* The step along an axis of sigma and n voxels: floor(sigma / 4) when that
 * is at least 2 and at most n, else 1 (every voxel kept). */
static int64_t coarse_step(double sigma, int64_t n) {
  int64_t h = (int64_t)(sigma / DP__ELASTIC_STEP);
  return h < 2 || h > n ? 1 : h;
}

void dp__elastic_coarse_free(dp__elastic_coarse *ec) {
  if (!ec) return;
  free(ec->grid);
  free(ec->w);
  memset(ec, 0, sizeof *ec);
}

dp_status dp__elastic_coarse_make(const int64_t dim[3], const double alpha[3], const double sigma[3],
                                  uint64_t seed, int threads, dp__elastic_coarse *ec) {
  memset(ec, 0, sizeof *ec);
  if (!dim || !alpha || !sigma) return dp__error(DP_EINVAL, "dp_elastic_field: missing argument");
  for (int a = 0; a < 3; a++) {
    if (dim[a] < 1) return dp__error(DP_EINVAL, "elastic field: dim[%d] = %lld", a, (long long)dim[a]);
    if (!isfinite(alpha[a])) return dp__error(DP_EINVAL, "elastic alpha %g is not a number", alpha[a]);
    if (!(sigma[a] >= 0) || !isfinite(sigma[a]))
      return dp__error(DP_EINVAL, "elastic sigma %g is not a non-negative number", sigma[a]);
  }
  int64_t nvox = dim[0];
  if (nvox > DP_MAX_VOXELS / dim[1] || (nvox *= dim[1]) > DP_MAX_VOXELS / dim[2] ||
      (nvox *= dim[2]) > DP_MAX_VOXELS / 3)
    return dp__error(DP_ELIMIT, "elastic field of %lld x %lld x %lld voxels is too large",
                     (long long)dim[0], (long long)dim[1], (long long)dim[2]);
  for (int a = 0; a < 3; a++) ec->n[a] = dim[a];
  ec->zero = alpha[0] == 0 && alpha[1] == 0 && alpha[2] == 0;
  ec->h = ec->hj = ec->hk = 1;
  ec->mc = dim[0];
  ec->mj = dim[1];
  ec->mk = dim[2];
  if (ec->zero) return DP_OK;
  field_ctx c;
  memset(&c, 0, sizeof c);
  for (int a = 0; a < 3; a++) {
    c.n[a] = dim[a];
    c.key[a] = stream_key(seed, a);
    c.alpha[a] = alpha[a]; /* applied to the noise: the smoothing is linear */
  }
  c.h = coarse_step(sigma[0], dim[0]);
  c.e = c.h == 1 ? 0 : 2 * c.h;
  c.off = c.h == 1 ? 0 : c.h;
  c.mc = c.h == 1 ? dim[0] : (dim[0] - 1) / c.h + 4;
  /* along j and k only while a kept row fits the row buffer of dp__elastic_coarse_row */
  c.hj = c.mc <= DP__ELASTIC_ROW_MAX ? coarse_step(sigma[1], dim[1]) : 1;
  c.mj = c.hj == 1 ? dim[1] : (dim[1] - 1) / c.hj + 4;
  c.smooth = sigma[0] > 0;
  c.smooth_j = sigma[1] > 0;
  if (c.smooth) dp__rg_coefs(sigma[0], &c.c);
  if (c.hj > 1 && c.smooth_j) dp__rg_coefs(sigma[1], &c.cj);
  ec->h = c.h;
  ec->mc = c.mc;
  ec->hj = c.hj;
  ec->mj = c.mj;
  ec->hk = c.mc <= DP__ELASTIC_ROW_MAX ? coarse_step(sigma[2], dim[2]) : 1;
  ec->mk = ec->hk == 1 ? dim[2] : (dim[2] - 1) / ec->hk + 4;
  /* every value is written below: no zeroing, and huge pages */
  ec->grid = dp__alloc_data((size_t)(c.mc * c.mj * dim[2]) * 3 * sizeof(float), 0);
  ec->w = malloc((size_t)(c.h + c.hj + ec->hk) * 4 * sizeof *ec->w);
  dp_status s = ec->grid && ec->w ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int64_t ph = 0; s == DP_OK && ph < c.h; ph++) catmull_rom((double)ph / (double)c.h, ec->w + 4 * ph);
  ec->wj = ec->w ? ec->w + 4 * c.h : NULL;
  for (int64_t ph = 0; s == DP_OK && ph < c.hj; ph++) catmull_rom((double)ph / (double)c.hj, ec->wj + 4 * ph);
  ec->wk = ec->w ? ec->wj + 4 * c.hj : NULL;
  for (int64_t ph = 0; s == DP_OK && ph < ec->hk; ph++) catmull_rom((double)ph / (double)ec->hk, ec->wk + 4 * ph);
  if (s == DP_OK) {
    c.coarse = ec->grid;
    s = dp__parallel_for(3 * dim[2], threads, field_i_task, &c);
  }
  int64_t cd[4] = {c.mc, c.mj, dim[2], 3};
  double sjk[3] = {0, c.hj == 1 ? sigma[1] : 0, ec->hk == 1 ? sigma[2] : 0};
  if (s == DP_OK && (sjk[1] > 0 || sjk[2] > 0)) s = dp_gaussian_recursive(ec->grid, cd, sjk, threads);
  if (s == DP_OK && ec->hk > 1) { /* along k, kept coarsely: a smaller grid */
    kpass_ctx kc;
    memset(&kc, 0, sizeof kc);
    kc.src = ec->grid;
    kc.mc = c.mc;
    kc.mj = c.mj;
    kc.n2 = dim[2];
    kc.hk = ec->hk;
    kc.mk = ec->mk;
    kc.smooth = sigma[2] > 0;
    if (kc.smooth) dp__rg_coefs(sigma[2], &kc.c);
    kc.dst = dp__alloc_data((size_t)(c.mc * c.mj * ec->mk) * 3 * sizeof(float), 0);
    s = kc.dst ? dp__parallel_for(3 * c.mj, threads, field_k_task, &kc) : dp__error(DP_ENOMEM, "out of memory");
    free(ec->grid);
    ec->grid = kc.dst;
  }
  if (s != DP_OK) dp__elastic_coarse_free(ec);
  return s;
}

void dp__elastic_coarse_row(const dp__elastic_coarse *ec, int64_t j, int64_t k, float *rows) {
  const int64_t n0 = ec->n[0], n1 = ec->n[1], n2 = ec->n[2];
  for (int a = 0; a < 3; a++) {
    float *dst = rows + a * n0;
    if (ec->zero) {
      memset(dst, 0, (size_t)n0 * sizeof *dst);
      continue;
    }
    const float *src;
    float tmp[DP__ELASTIC_ROW_MAX];
    if (ec->hj == 1 && ec->hk == 1) {
      src = ec->grid + ((a * n2 + k) * n1 + j) * ec->mc;
    } else { /* back along k, then j: the kept rows around (j, k) (Catmull-Rom; exact at the kept ones) */
      static const float one[4] = {1, 0, 0, 0};
      const int64_t mc = ec->mc, mj = ec->mj;
      const int nj = ec->hj == 1 ? 1 : 4, nk = ec->hk == 1 ? 1 : 4;
      const float *wj = ec->hj == 1 ? one : ec->wj + 4 * (j % ec->hj);
      const float *wk = ec->hk == 1 ? one : ec->wk + 4 * (k % ec->hk);
      const float *q = ec->grid + ((a * ec->mk + k / ec->hk) * mj + j / ec->hj) * mc;
      for (int64_t m = 0; m < mc; m++) tmp[m] = 0;
      for (int tj = 0; tj < nj; tj++)
        for (int64_t m = 0; m < mc; m++) {
          float v = 0;
          for (int tk = 0; tk < nk; tk++) v += wk[tk] * q[(tk * mj + tj) * mc + m];
          tmp[m] += wj[tj] * v;
        }
      src = tmp;
    }
    if (ec->h == 1) {
      memcpy(dst, src, (size_t)n0 * sizeof *dst);
      continue;
    }
    /* back along i to every voxel (Catmull-Rom; exact at the kept ones) */
    for (int64_t i = 0, m = 0; i < n0; m++) {
      const float *q = src + m;
      for (int64_t ph = 0; ph < ec->h && i < n0; ph++, i++) {
        const float *w = ec->w + 4 * ph;
        dst[i] = w[0] * q[0] + w[1] * q[1] + w[2] * q[2] + w[3] * q[3];
      }
    }
  }
}

typedef struct {
  const dp__field_rows *rows;
  float *field;
  int64_t n0, n1, plane;
} fill_ctx;

/* One task per row (j, k): the field's three planes at that row. */
static dp_status fill_task(void *vctx, int64_t task) {
  const fill_ctx *c = vctx;
  int64_t n0 = c->n0;
  float row[3 * 4096], *r = n0 <= 4096 ? row : malloc((size_t)n0 * 3 * sizeof *r);
  if (!r) return dp__error(DP_ENOMEM, "out of memory");
  c->rows->fn(c->rows->ctx, task % c->n1, task / c->n1, r);
  for (int a = 0; a < 3; a++)
    memcpy(c->field + a * c->plane + task * n0, r + a * n0, (size_t)n0 * sizeof *r);
  if (r != row) free(r);
  return DP_OK;
}

dp_status dp__field_rows_fill(const dp__field_rows *rows, const int64_t dim[3], int threads, float *field) {
  fill_ctx c = {rows, field, dim[0], dim[1], dim[0] * dim[1] * dim[2]};
  return dp__parallel_for(dim[1] * dim[2], threads, fill_task, &c);
}

static void elastic_rows(void *ctx, int64_t j, int64_t k, float *rows) {
  dp__elastic_coarse_row(ctx, j, k, rows);
}

dp_status dp_elastic_field(const int64_t dim[3], const double alpha[3], const double sigma[3],
                           uint64_t seed, int threads, float **field) {
  if (field) *field = NULL;
  if (!field) return dp__error(DP_EINVAL, "dp_elastic_field: missing argument");
  dp__elastic_coarse ec;
  dp_status s = dp__elastic_coarse_make(dim, alpha, sigma, seed, threads, &ec);
  if (s != DP_OK) return s;
  int64_t plane = dim[0] * dim[1] * dim[2];
  float *f = dp__alloc_data((size_t)plane * 3 * sizeof(float), ec.zero);
  if (!f) s = dp__error(DP_ENOMEM, "out of memory");
  dp__field_rows rows = {elastic_rows, &ec};
  if (s == DP_OK && !ec.zero) s = dp__field_rows_fill(&rows, dim, threads, f);
  dp__elastic_coarse_free(&ec);
  if (s != DP_OK) {
    free(f);
    return s;
  }
  *field = f;
  return DP_OK;
}

dp_status dp_elastic(const dp_volume *in, const double alpha[3], const double sigma[3],
                     uint64_t seed, const dp_warp_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  if (!in || !out) return dp__error(DP_EINVAL, "dp_elastic: missing argument");
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (opts) o = *opts;
  /* the field is interpolated from its coarse grid row by row as the warp
   * needs it: 12 bytes per voxel never exist at once */
  dp__elastic_coarse ec;
  dp_status s = dp__elastic_coarse_make(in->dim, alpha, sigma, seed, o.threads, &ec);
  if (s != DP_OK) return s;
  dp__field_rows rows = {elastic_rows, &ec};
  dp_mat4 id = dp_mat4_identity();
  s = dp__warp_rows(in, in->dim, &in->ijk_to_ras, &id, &o, &rows, out);
  dp__elastic_coarse_free(&ec);
  return s;
}
