/* dp_volume_compute_stats: one pass over fixed chunks, combined in chunk
 * order, so the result does not depend on the thread count.  Integer types
 * are summed exactly (64-bit sums and 128-bit sums of squares), which gives
 * the mean and variance to double rounding; floating types use Chan et al.'s
 * pairwise update of the variance per chunk. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/volume.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define DP__CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DP__CLONES
#endif

__extension__ typedef __int128 i128;

enum { CHUNK = 1 << 16 };

typedef struct {
  double min, max;
  int64_t count, bad;
  /* integer types (128 bits: 2^36 voxels of 2^31 overflow 64) */
  i128 sum, sumsq;
  /* floating types */
  double mean, m2;
} partial;

/* 8- and 16-bit values: the sums of a chunk fit 64 bits (65536 * 2^30). */
#define DP__INT_SMALL(name, ctype)                                                    \
  DP__CLONES static void ints_##name(const ctype *restrict p, int64_t n, partial *r) { \
    int32_t mn = INT32_MAX, mx = INT32_MIN;                                           \
    int64_t sum = 0, sq = 0;                                                          \
    for (int64_t i = 0; i < n; i++) {                                                 \
      int32_t x = p[i];                                                               \
      mn = x < mn ? x : mn;                                                           \
      mx = x > mx ? x : mx;                                                           \
      sum += x;                                                                       \
      sq += (int64_t)(x * x);                                                         \
    }                                                                                 \
    r->min = mn;                                                                      \
    r->max = mx;                                                                      \
    r->sum = sum;                                                                     \
    r->sumsq = sq;                                                                    \
    r->count = n;                                                                     \
  }
DP__INT_SMALL(u8, uint8_t)
DP__INT_SMALL(i16, int16_t)
DP__INT_SMALL(u16, uint16_t)
#undef DP__INT_SMALL

static void ints_i32(const int32_t *p, int64_t n, partial *r) {
  int32_t mn = INT32_MAX, mx = INT32_MIN;
  int64_t sum = 0;
  i128 sq = 0;
  for (int64_t i = 0; i < n; i++) {
    int32_t x = p[i];
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
    sum += x;
    sq += (i128)((int64_t)x * x);
  }
  r->min = mn;
  r->max = mx;
  r->sum = sum;
  r->sumsq = sq;
  r->count = n;
}

#define DP__FLOATS(name, ctype)                                                     \
  static void floats_##name(const ctype *p, int64_t n, partial *r) {                \
    double mn = INFINITY, mx = -INFINITY, sum = 0;                                  \
    int64_t cnt = 0;                                                                \
    for (int64_t i = 0; i < n; i++) {                                               \
      double x = p[i];                                                              \
      if (!isfinite(x)) continue;                                                   \
      mn = x < mn ? x : mn;                                                         \
      mx = x > mx ? x : mx;                                                         \
      sum += x;                                                                     \
      cnt++;                                                                        \
    }                                                                               \
    r->min = mn;                                                                    \
    r->max = mx;                                                                    \
    r->count = cnt;                                                                 \
    r->bad = n - cnt;                                                               \
    if (!cnt) return;                                                               \
    double mean = sum / (double)cnt, m2 = 0;                                        \
    for (int64_t i = 0; i < n; i++) {                                               \
      double x = p[i];                                                              \
      if (isfinite(x)) m2 += (x - mean) * (x - mean);                               \
    }                                                                               \
    r->mean = mean;                                                                 \
    r->m2 = m2;                                                                     \
  }
DP__FLOATS(f32, float)
DP__FLOATS(f64, double)
#undef DP__FLOATS

typedef struct {
  const dp_volume *v;
  int64_t nvox;
  partial *parts;
} stats_ctx;

static dp_status stats_chunk(void *vctx, int64_t c) {
  stats_ctx *ctx = vctx;
  int64_t start = c * CHUNK, n = ctx->nvox - start < CHUNK ? ctx->nvox - start : CHUNK;
  partial *r = &ctx->parts[c];
  *r = (partial){INFINITY, -INFINITY, 0, 0, 0, 0, 0, 0};
  const void *d = ctx->v->data;
  switch (ctx->v->dtype) {
    case DP_U8: ints_u8((const uint8_t *)d + start, n, r); break;
    case DP_I16: ints_i16((const int16_t *)d + start, n, r); break;
    case DP_U16: ints_u16((const uint16_t *)d + start, n, r); break;
    case DP_I32: ints_i32((const int32_t *)d + start, n, r); break;
    case DP_F32: floats_f32((const float *)d + start, n, r); break;
    case DP_F64: floats_f64((const double *)d + start, n, r); break;
    default: break;
  }
  return DP_OK;
}

dp_status dp_volume_compute_stats(const dp_volume *v, dp_volume_stats *out) {
  if (!v || !out) return dp__error(DP_EINVAL, "stats: no volume");
  if (!dp_dtype_size(v->dtype)) return dp__error(DP_EINVAL, "stats: invalid data type %d", (int)v->dtype);
  int64_t nvox = dp_volume_nvox(v), nchunks = (nvox + CHUNK - 1) / CHUNK;
  partial *parts = malloc((size_t)nchunks * sizeof *parts);
  if (!parts) return dp__error(DP_ENOMEM, "stats: out of memory");
  stats_ctx ctx = {v, nvox, parts};
  dp__parallel_for(nchunks, 0, stats_chunk, &ctx);
  int integer = !dp_dtype_is_float(v->dtype);
  partial t = {INFINITY, -INFINITY, 0, 0, 0, 0, 0, 0};
  for (int64_t c = 0; c < nchunks; c++) {
    const partial *p = &parts[c];
    t.bad += p->bad;
    if (!p->count) continue;
    if (p->min < t.min) t.min = p->min;
    if (p->max > t.max) t.max = p->max;
    if (integer) {
      t.count += p->count;
      t.sum += p->sum;
      t.sumsq += p->sumsq;
    } else {
      dp__moments_merge(&t.count, &t.mean, &t.m2, p->count, p->mean, p->m2);
    }
  }
  free(parts);
  if (integer && t.count) {
    /* 8/16-bit: n sum(x^2) - sum(x)^2 = n^2 var exactly in 128 bits
     * (n <= 2^36, sum(x^2) <= 2^66, sum(x)^2 <= 2^102); 32-bit values
     * could overflow that product, so they take long double. */
    long double n = (long double)t.count;
    t.mean = (double)((long double)t.sum / n);
    long double var;
    if (v->dtype != DP_I32) {
      var = (long double)((i128)t.count * t.sumsq - t.sum * t.sum) / (n * n);
    } else {
      long double m = (long double)t.sum / n;
      var = (long double)t.sumsq / n - m * m;
      if (var < 0) var = 0;
    }
    t.m2 = (double)(var * n);
  }
  out->count = t.count;
  out->nan_count = t.bad;
  out->min = t.count ? t.min : NAN;
  out->max = t.count ? t.max : NAN;
  out->mean = t.count ? t.mean : NAN;
  out->std = t.count ? sqrt(t.m2 / (double)t.count) : NAN;
  return dp_volume_check(v); /* values of a mapped file that changed are not its statistics */
}
