/* Trilinear sampling of output rows for the generic warp path (warp.c).
 * Along an output row the input position is p(i) = a i + b (+ the
 * displacement of voxel i).  Samples whose eight taps lie inside the input
 * are interpolated straight from the input's type, samples outside the
 * input's extent get the fill, and the rest (near an edge: mirrored taps;
 * edge fill) are left to the caller's per-voxel path.  The arithmetic is
 * fixed, operation for operation, in double precision and never contracted
 * into fused multiply-adds: position a * i + b, floor, fractions, then the
 * x-, y- and z-lerps (tests/ops/warp_vs_scipy.py checks it bit for bit), so
 * the portable and the AVX2 kernels give the same bytes.  The AVX2 kernel
 * takes four samples per step: positions, tests and offsets in vectors, the
 * taps by plain loads of each adjacent pair (on AMD Zen 3 these beat
 * gathers by about a quarter). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/warp_internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define DP__LERP_AVX2 1
#include <immintrin.h>
#endif

/* ---- portable kernel ------------------------------------------------------- */

/* One sample at a time. */
#define DP__LERP_ROW_PORTABLE(T)                                                                     \
  static uint64_t lerp_row_##T(const void *src, const int64_t n[3], const double a[3], const double b[3], \
                               int64_t i0, int len, const float *const dsp[3], int snap,              \
                               const double *fill, double *row) {                                    \
    const int64_t sy = n[0], sz = n[0] * n[1];                                                       \
    const T *sv = (const T *)src;                                                                    \
    uint64_t rest = 0;                                                                               \
    for (int q = 0; q < len; q++) {                                                                  \
      const double i = (double)(i0 + q);                                                             \
      double px = a[0] * i + b[0], py = a[1] * i + b[1], pz = a[2] * i + b[2];                       \
      if (dsp) {                                                                                     \
        px += dsp[0][q];                                                                             \
        py += dsp[1][q];                                                                             \
        pz += dsp[2][q];                                                                             \
      }                                                                                              \
      if (snap) {                                                                                    \
        px = dp__warp_snap(px);                                                                      \
        py = dp__warp_snap(py);                                                                      \
        pz = dp__warp_snap(pz);                                                                      \
      }                                                                                              \
      if (!(px >= 0 && py >= 0 && pz >= 0 && px < (double)(n[0] - 1) && py < (double)(n[1] - 1) &&   \
            pz < (double)(n[2] - 1))) {                                                              \
        if (fill && !(px >= -0.5 && py >= -0.5 && pz >= -0.5 && px <= (double)n[0] - 0.5 &&          \
                      py <= (double)n[1] - 0.5 && pz <= (double)n[2] - 0.5))                         \
          row[q] = *fill;                                                                            \
        else                                                                                         \
          rest |= (uint64_t)1 << q;                                                                  \
        continue;                                                                                    \
      }                                                                                              \
      const int64_t x0 = (int64_t)px, y0 = (int64_t)py, z0 = (int64_t)pz;                            \
      const double fx = px - (double)x0, fy = py - (double)y0, fz = pz - (double)z0;                 \
      const T *s = sv + z0 * sz + y0 * sy + x0;                                                      \
      double c00 = (double)s[0] + fx * ((double)s[1] - (double)s[0]);                                \
      double c10 = (double)s[sy] + fx * ((double)s[sy + 1] - (double)s[sy]);                         \
      double c01 = (double)s[sz] + fx * ((double)s[sz + 1] - (double)s[sz]);                         \
      double c11 = (double)s[sz + sy] + fx * ((double)s[sz + sy + 1] - (double)s[sz + sy]);          \
      double c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);                               \
      row[q] = c0 + fz * (c1 - c0);                                                                  \
    }                                                                                                \
    return rest;                                                                                     \
  }                                                                                                  \
  static void lerp_rows_##T(const dp__lerp_rows *j, double *out, uint64_t *rest) {                   \
    for (int r = 0; r < j->nrows; r++) {                                                             \
      const float *const d3[3] = {j->dsp ? j->dsp[r] : NULL, j->dsp ? j->dsp[r] + j->plane : NULL,   \
                                  j->dsp ? j->dsp[r] + 2 * j->plane : NULL};                         \
      rest[r] = lerp_row_##T(j->src, j->n, j->a, j->b + 3 * r, j->i0, j->len, j->dsp ? d3 : NULL,    \
                             j->snap, j->fill, out + (size_t)r * (size_t)j->len);                   \
    }                                                                                                \
  }
DP__LERP_ROW_PORTABLE(float)
DP__LERP_ROW_PORTABLE(int16_t)
DP__LERP_ROW_PORTABLE(uint8_t)
DP__LERP_ROW_PORTABLE(uint16_t)
#undef DP__LERP_ROW_PORTABLE

/* ---- AVX2 kernel ------------------------------------------------------------- */

#ifdef DP__LERP_AVX2
/* target("avx2") does not enable FMA: no multiply-add below is ever fused. */
#define DP__AVX2 __attribute__((target("avx2")))

DP__AVX2 static inline __m256d lerp4(__m256d s0, __m256d s1, __m256d f) {
  return _mm256_add_pd(s0, _mm256_mul_pd(f, _mm256_sub_pd(s1, s0)));
}

/* s[o] + fx (s[o + 1] - s[o]) for the four samples at offsets o[0..3]
 * (voxels) from s + d. */
DP__AVX2 static inline __m128i load64(const void *p) { return _mm_loadl_epi64((const __m128i *)p); }

DP__AVX2 static inline __m256d xlerp_float(const void *s, const int64_t o[4], int64_t d, __m256d fx) {
  const float *f = (const float *)s + d;
  /* (0, 2) and (1, 3): the unpacks below then give the samples in order */
  const __m128i a = _mm_unpacklo_epi64(load64(f + o[0]), load64(f + o[2]));
  const __m128i b = _mm_unpacklo_epi64(load64(f + o[1]), load64(f + o[3]));
  const __m256d da = _mm256_cvtps_pd(_mm_castsi128_ps(a)), db = _mm256_cvtps_pd(_mm_castsi128_ps(b));
  return lerp4(_mm256_unpacklo_pd(da, db), _mm256_unpackhi_pd(da, db), fx);
}

/* the pair at p as one 32-bit integer (s[0] low) */
static inline int32_t pair16(const void *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline int32_t pair8(const uint8_t *p) { return (int32_t)p[0] | (int32_t)p[1] << 8; }

DP__AVX2 static inline __m256d xlerp_int16_t(const void *s, const int64_t o[4], int64_t d, __m256d fx) {
  const int16_t *p = (const int16_t *)s + d;
  const __m128i g = _mm_setr_epi32(pair16(p + o[0]), pair16(p + o[1]), pair16(p + o[2]), pair16(p + o[3]));
  return lerp4(_mm256_cvtepi32_pd(_mm_srai_epi32(_mm_slli_epi32(g, 16), 16)),
               _mm256_cvtepi32_pd(_mm_srai_epi32(g, 16)), fx);
}

DP__AVX2 static inline __m256d xlerp_uint16_t(const void *s, const int64_t o[4], int64_t d, __m256d fx) {
  const uint16_t *p = (const uint16_t *)s + d;
  const __m128i g = _mm_setr_epi32(pair16(p + o[0]), pair16(p + o[1]), pair16(p + o[2]), pair16(p + o[3]));
  return lerp4(_mm256_cvtepi32_pd(_mm_and_si128(g, _mm_set1_epi32(0xffff))),
               _mm256_cvtepi32_pd(_mm_srli_epi32(g, 16)), fx);
}

DP__AVX2 static inline __m256d xlerp_uint8_t(const void *s, const int64_t o[4], int64_t d, __m256d fx) {
  const uint8_t *p = (const uint8_t *)s + d;
  const __m128i g = _mm_setr_epi32(pair8(p + o[0]), pair8(p + o[1]), pair8(p + o[2]), pair8(p + o[3]));
  return lerp4(_mm256_cvtepi32_pd(_mm_and_si128(g, _mm_set1_epi32(0xff))),
               _mm256_cvtepi32_pd(_mm_srli_epi32(g, 8)), fx);
}

DP__AVX2 static inline __m256d snap4(__m256d x) {
  const __m256d r = _mm256_floor_pd(_mm256_add_pd(x, _mm256_set1_pd(0.5)));
  const __m256d d = _mm256_andnot_pd(_mm256_set1_pd(-0.0), _mm256_sub_pd(x, r));
  return _mm256_blendv_pd(x, r, _mm256_cmp_pd(d, _mm256_set1_pd(1e-7), _CMP_LT_OQ));
}

/* lo <= p < hi (interior) and lo <= p <= hi (extent): the scalar tests,
 * NaN failing both. */
DP__AVX2 static inline __m256d interior4(__m256d p, __m256d lo, __m256d hi) {
  return _mm256_and_pd(_mm256_cmp_pd(p, lo, _CMP_GE_OQ), _mm256_cmp_pd(p, hi, _CMP_LT_OQ));
}

DP__AVX2 static inline __m256d extent4(__m256d p, __m256d lo, __m256d hi) {
  return _mm256_and_pd(_mm256_cmp_pd(p, lo, _CMP_GE_OQ), _mm256_cmp_pd(p, hi, _CMP_LE_OQ));
}

/* Four samples per step.  Interior lanes are interpolated; when some lane is
 * not interior, the others read voxel 0 instead (always a valid tap) and get
 * the fill (outside the input's extent, when fill is given) or are left to
 * the caller.  Offsets are computed exactly in double (integers below 2^53)
 * and read out of the mantissa (x + 2^52). */
#define DP__LERP_ROW_AVX2(T)                                                                    \
  DP__AVX2 static inline __attribute__((always_inline)) uint64_t lerp_row_avx2_##T(const void *src, const int64_t n[3], const double a[3],  \
                                             const double b[3], int64_t i0, int len,                  \
                                             const float *const dsp[3], int snap, const double *fill, \
                                             double *row) {                                           \
    const __m256d ax = _mm256_set1_pd(a[0]), ay = _mm256_set1_pd(a[1]), az = _mm256_set1_pd(a[2]);    \
    const __m256d bx = _mm256_set1_pd(b[0]), by = _mm256_set1_pd(b[1]), bz = _mm256_set1_pd(b[2]);    \
    const __m256d zero = _mm256_setzero_pd(), mhalf = _mm256_set1_pd(-0.5);                         \
    const __m256d lx = _mm256_set1_pd((double)(n[0] - 1)), ly = _mm256_set1_pd((double)(n[1] - 1));   \
    const __m256d lz = _mm256_set1_pd((double)(n[2] - 1));                                          \
    const __m256d ex = _mm256_set1_pd((double)n[0] - 0.5), ey = _mm256_set1_pd((double)n[1] - 0.5);   \
    const __m256d ez = _mm256_set1_pd((double)n[2] - 0.5);                                          \
    const __m256d dsy = _mm256_set1_pd((double)n[0]), dsz = _mm256_set1_pd((double)(n[0] * n[1]));    \
    const __m256d magic = _mm256_set1_pd(0x1p52);                                                   \
    const int64_t sy = n[0], sz = n[0] * n[1];                                                      \
    const __m256d fv = _mm256_set1_pd(fill ? *fill : 0);                                            \
    __m256d ii = _mm256_add_pd(_mm256_set1_pd((double)i0), _mm256_setr_pd(0, 1, 2, 3));             \
    uint64_t rest = 0;                                                                              \
    int q = 0;                                                                                      \
    for (; q + 4 <= len; q += 4, ii = _mm256_add_pd(ii, _mm256_set1_pd(4))) {                       \
      __m256d px = _mm256_add_pd(_mm256_mul_pd(ax, ii), bx);                                        \
      __m256d py = _mm256_add_pd(_mm256_mul_pd(ay, ii), by);                                        \
      __m256d pz = _mm256_add_pd(_mm256_mul_pd(az, ii), bz);                                        \
      if (dsp) {                                                                                    \
        px = _mm256_add_pd(px, _mm256_cvtps_pd(_mm_loadu_ps(dsp[0] + q)));                          \
        py = _mm256_add_pd(py, _mm256_cvtps_pd(_mm_loadu_ps(dsp[1] + q)));                          \
        pz = _mm256_add_pd(pz, _mm256_cvtps_pd(_mm_loadu_ps(dsp[2] + q)));                          \
      }                                                                                             \
      if (snap) {                                                                                   \
        px = snap4(px);                                                                             \
        py = snap4(py);                                                                             \
        pz = snap4(pz);                                                                             \
      }                                                                                             \
      __m256d in = _mm256_and_pd(_mm256_and_pd(interior4(px, zero, lx), interior4(py, zero, ly)),  \
                                 interior4(pz, zero, lz));                                         \
      /* interior positions are >= 0: floor is the scalar path's truncation */                     \
      const __m256d flx = _mm256_floor_pd(px), fly = _mm256_floor_pd(py), flz = _mm256_floor_pd(pz); \
      const __m256d off = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(flz, dsz), _mm256_mul_pd(fly, dsy)), flx); \
      const int m = _mm256_movemask_pd(in);                                                         \
      __m256d v = fv;                                                                               \
      if (m) {                                                                                      \
        __m256i o00 = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(off, magic)),              \
                                       _mm256_castpd_si256(magic));                                 \
        if (m != 0xf) o00 = _mm256_and_si256(o00, _mm256_castpd_si256(in));                         \
        int64_t o[4];                                                                               \
        _mm256_storeu_si256((__m256i *)(void *)o, o00);                                             \
        const __m256d fx = _mm256_sub_pd(px, flx), fy = _mm256_sub_pd(py, fly);                     \
        const __m256d fz = _mm256_sub_pd(pz, flz);                                                  \
        const __m256d c00 = xlerp_##T(src, o, 0, fx), c10 = xlerp_##T(src, o, sy, fx);              \
        const __m256d c01 = xlerp_##T(src, o, sz, fx), c11 = xlerp_##T(src, o, sz + sy, fx);        \
        v = lerp4(lerp4(c00, c10, fy), lerp4(c01, c11, fy), fz);                                    \
      }                                                                                             \
      if (m != 0xf) {                                                                               \
        __m256d left = _mm256_andnot_pd(in, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));            \
        if (fill)                                                                                   \
          left = _mm256_and_pd(left, _mm256_and_pd(_mm256_and_pd(extent4(px, mhalf, ex),         \
                                                                  extent4(py, mhalf, ey)),       \
                                                    extent4(pz, mhalf, ez)));                    \
        v = _mm256_blendv_pd(fv, v, in);                                                            \
        rest |= (uint64_t)_mm256_movemask_pd(left) << q;                                            \
      }                                                                                             \
      _mm256_storeu_pd(row + q, v);                                                                 \
    }                                                                                               \
    if (q < len) {                                                                                  \
      const float *const d3[3] = {dsp ? dsp[0] + q : NULL, dsp ? dsp[1] + q : NULL,                 \
                                  dsp ? dsp[2] + q : NULL};                                         \
      rest |= lerp_row_##T(src, n, a, b, i0 + q, len - q, dsp ? d3 : NULL, snap, fill, row + q) << q; \
    }                                                                                               \
    return rest;                                                                                    \
  }                                                                                                 \
  DP__AVX2 static void lerp_rows_avx2_##T(const dp__lerp_rows *j, double *out, uint64_t *rest) {    \
    for (int r = 0; r < j->nrows; r++) {                                                            \
      const float *const d3[3] = {j->dsp ? j->dsp[r] : NULL, j->dsp ? j->dsp[r] + j->plane : NULL,  \
                                  j->dsp ? j->dsp[r] + 2 * j->plane : NULL};                        \
      rest[r] = lerp_row_avx2_##T(j->src, j->n, j->a, j->b + 3 * r, j->i0, j->len, j->dsp ? d3 : NULL, \
                                  j->snap, j->fill, out + (size_t)r * (size_t)j->len);             \
    }                                                                                               \
  }
DP__LERP_ROW_AVX2(float)
DP__LERP_ROW_AVX2(int16_t)
DP__LERP_ROW_AVX2(uint16_t)
DP__LERP_ROW_AVX2(uint8_t)
#undef DP__LERP_ROW_AVX2
#endif

dp__lerp_rows_fn dp__lerp_kernel(dp_dtype t) {
#ifdef DP__LERP_AVX2
  if (__builtin_cpu_supports("avx2")) switch (t) {
      case DP_F32: return lerp_rows_avx2_float;
      case DP_I16: return lerp_rows_avx2_int16_t;
      case DP_U16: return lerp_rows_avx2_uint16_t;
      case DP_U8: return lerp_rows_avx2_uint8_t;
      default: break;
    }
#endif
  switch (t) {
    case DP_F32: return lerp_rows_float;
    case DP_I16: return lerp_rows_int16_t;
    case DP_U16: return lerp_rows_uint16_t;
    case DP_U8: return lerp_rows_uint8_t;
    default: return NULL;
  }
}
