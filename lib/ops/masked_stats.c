/* Masked count, min, max, mean and standard deviation.
 *
 * u8, i16 and u16 are summed exactly (value and square in 128-bit integers),
 * so the result does not depend on how the work is split.  Other types are
 * summed per fixed chunk of voxels (mean, then squared deviations from it)
 * and the chunks combined in order with Chan et al.'s pairwise update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/intensity_internal.h"

__extension__ typedef __int128 i128;

enum { STATS_CHUNK = 65536 }; /* fixed: the float result depends on it, never on threads */

typedef struct {
  int64_t count;
  double min, max;
  double mean, m2; /* float types */
  int64_t sum, sumsq; /* integer types: exact per chunk (|x| < 2^16, 2^16 voxels) */
} part;

typedef struct {
  const dp_volume *v;
  const dp_mask *mask;
  int64_t nvox;
  part *parts;
} ctx_t;

#define DP__INT_PART(ctype)                                                          \
  {                                                                                  \
    const ctype *p = (const ctype *)ctx->v->data + start;                            \
    int64_t s = 0, s2 = 0, c = 0;                                                    \
    int mn = INT32_MAX, mx = INT32_MIN;                                              \
    for (int64_t i = 0; i < n; i++) {                                                \
      int x = p[i];                                                                  \
      int in = m ? m[i] : 1;                                                         \
      c += in;                                                                       \
      s += in ? x : 0;                                                               \
      s2 += in ? (int64_t)x * x : 0;                                                 \
      if (in && x < mn) mn = x;                                                      \
      if (in && x > mx) mx = x;                                                      \
    }                                                                                \
    r.count += c, r.sum += s, r.sumsq += s2;                                         \
    if (c && mn < r.min) r.min = mn;                                                 \
    if (c && mx > r.max) r.max = mx;                                                 \
  }

#define DP__FLOAT_PASS1(ctype)                                                       \
  {                                                                                  \
    const ctype *p = (const ctype *)ctx->v->data + start;                            \
    for (int64_t i = 0; i < n; i++) {                                                \
      if (m && !m[i]) continue;                                                      \
      double x = (double)p[i];                                                       \
      r.count++;                                                                     \
      sum += x;                                                                      \
      if (x < r.min) r.min = x;                                                      \
      if (x > r.max) r.max = x;                                                      \
    }                                                                                \
  }

#define DP__FLOAT_PASS2(ctype)                                                       \
  {                                                                                  \
    const ctype *p = (const ctype *)ctx->v->data + start;                            \
    for (int64_t i = 0; i < n; i++) {                                                \
      if (m && !m[i]) continue;                                                      \
      double d = (double)p[i] - r.mean;                                              \
      r.m2 += d * d;                                                                 \
    }                                                                                \
  }

static dp_status stats_chunk(void *vctx, int64_t c) {
  ctx_t *ctx = vctx;
  int64_t c0 = c * STATS_CHUNK, cn = ctx->nvox - c0 < STATS_CHUNK ? ctx->nvox - c0 : STATS_CHUNK;
  part r = {0, INFINITY, -INFINITY, 0, 0, 0, 0};
  uint8_t mb[DP__MASK_CHUNK];
  dp_dtype t = ctx->v->dtype;
  if (t == DP_U8 || t == DP_I16 || t == DP_U16) {
    for (int64_t start = c0; start < c0 + cn; start += DP__MASK_CHUNK) {
      int64_t n = c0 + cn - start < DP__MASK_CHUNK ? c0 + cn - start : DP__MASK_CHUNK;
      const uint8_t *m = dp__mask_chunk(ctx->v, ctx->mask, start, n, mb);
      if (t == DP_U8) DP__INT_PART(uint8_t)
      else if (t == DP_I16) DP__INT_PART(int16_t)
      else DP__INT_PART(uint16_t)
    }
    ctx->parts[c] = r;
    return DP_OK;
  }
  /* two passes over the chunk: its mean first, then squared deviations */
  double sum = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t start = c0; start < c0 + cn; start += DP__MASK_CHUNK) {
      int64_t n = c0 + cn - start < DP__MASK_CHUNK ? c0 + cn - start : DP__MASK_CHUNK;
      const uint8_t *m = dp__mask_chunk(ctx->v, ctx->mask, start, n, mb);
      switch (t) {
        case DP_I32: if (pass) DP__FLOAT_PASS2(int32_t) else DP__FLOAT_PASS1(int32_t) break;
        case DP_F32: if (pass) DP__FLOAT_PASS2(float) else DP__FLOAT_PASS1(float) break;
        case DP_F64: if (pass) DP__FLOAT_PASS2(double) else DP__FLOAT_PASS1(double) break;
        default: break;
      }
    }
    if (!pass) {
      if (!r.count) break;
      r.mean = sum / (double)r.count;
    }
  }
  ctx->parts[c] = r;
  return DP_OK;
}

dp_masked_stats dp_masked_stats_merge(dp_masked_stats a, dp_masked_stats b) {
  if (!b.count) return a;
  if (!a.count) return b;
  dp_masked_stats r;
  r.count = a.count + b.count;
  r.min = a.min < b.min ? a.min : b.min;
  r.max = a.max > b.max ? a.max : b.max;
  double na = (double)a.count, nb = (double)b.count, n = (double)r.count;
  double d = b.mean - a.mean;
  r.mean = a.mean + d * nb / n;
  double m2 = a.std * a.std * na + b.std * b.std * nb + d * d * na * nb / n;
  r.std = sqrt(m2 / n);
  return r;
}

dp_status dp_masked_stats_compute(const dp_volume *v, const dp_mask *mask, int threads,
                                  dp_masked_stats *out) {
  dp_status s = dp__mask_check(v, mask);
  if (s != DP_OK) return s;
  int64_t nvox = dp_volume_nvox(v), nch = (nvox + STATS_CHUNK - 1) / STATS_CHUNK;
  part *parts = malloc((size_t)nch * sizeof *parts);
  if (!parts) return dp__error(DP_ENOMEM, "statistics: out of memory");
  ctx_t ctx = {v, mask, nvox, parts};
  s = dp__parallel_for(nch, threads, stats_chunk, &ctx);
  if (s != DP_OK) {
    free(parts);
    return s;
  }
  dp_masked_stats r = {0, NAN, NAN, NAN, NAN};
  int isint = v->dtype == DP_U8 || v->dtype == DP_I16 || v->dtype == DP_U16;
  if (isint) {
    i128 sum = 0, sumsq = 0;
    int64_t n = 0;
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t c = 0; c < nch; c++) {
      n += parts[c].count;
      sum += parts[c].sum;
      sumsq += parts[c].sumsq;
      if (parts[c].count && parts[c].min < mn) mn = parts[c].min;
      if (parts[c].count && parts[c].max > mx) mx = parts[c].max;
    }
    if (n) {
      /* n * sum(x^2) - sum(x)^2 is exact in 128 bits (n < 2^37, |x| < 2^16) */
      i128 num = (i128)n * sumsq - sum * sum;
      r = (dp_masked_stats){n, mn, mx, (double)sum / (double)n,
                            sqrt((double)num / ((double)n * (double)n))};
    }
  } else {
    part t = {0, INFINITY, -INFINITY, 0, 0, 0, 0};
    for (int64_t c = 0; c < nch; c++) {
      part p = parts[c];
      if (!p.count) continue;
      if (p.min < t.min) t.min = p.min;
      if (p.max > t.max) t.max = p.max;
      dp__moments_merge(&t.count, &t.mean, &t.m2, p.count, p.mean, p.m2);
    }
    if (t.count) r = (dp_masked_stats){t.count, t.min, t.max, t.mean, sqrt(t.m2 / (double)t.count)};
  }
  free(parts);
  *out = r;
  return DP_OK;
}
