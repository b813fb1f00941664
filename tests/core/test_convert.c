/* The conversion kernel (lib/core/convert.h): every source x output type
 * against the rule computed independently here, the integer path against
 * the double path, byte order, statistics and thread counts. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "core/convert.h"
#include "dcmprep/dcmprep.h"
#include "testutil.h"

static const dp__elem srcs[] = {DP__E_U8,  DP__E_I8,  DP__E_I16, DP__E_U16, DP__E_I32,
                                DP__E_U32, DP__E_I64, DP__E_U64, DP__E_F32, DP__E_F64};
static const dp_dtype dsts[] = {DP_U8, DP_I16, DP_U16, DP_I32, DP_F32, DP_F64};
enum { N = 5000 };

/* element i of a test sequence for source type e, as double and stored */
static double value(dp__elem e, int i, void *buf) {
  uint32_t h = (uint32_t)i * 2654435761u;
  double u = (double)(h >> 8) / 16777216.0; /* [0, 1) */
  switch (e) {
    case DP__E_U8: ((uint8_t *)buf)[i] = (uint8_t)(u * 256); return ((uint8_t *)buf)[i];
    case DP__E_I8: ((int8_t *)buf)[i] = (int8_t)(u * 256 - 128); return ((int8_t *)buf)[i];
    case DP__E_I16: ((int16_t *)buf)[i] = (int16_t)(u * 65536 - 32768); return ((int16_t *)buf)[i];
    case DP__E_U16: ((uint16_t *)buf)[i] = (uint16_t)(u * 65536); return ((uint16_t *)buf)[i];
    case DP__E_I32: ((int32_t *)buf)[i] = (int32_t)(u * 4294967296.0 - 2147483648.0); return ((int32_t *)buf)[i];
    case DP__E_U32: ((uint32_t *)buf)[i] = (uint32_t)(u * 4294967295.0); return ((uint32_t *)buf)[i];
    case DP__E_I64: ((int64_t *)buf)[i] = (int64_t)((u - 0.5) * 1e12); return (double)((int64_t *)buf)[i];
    case DP__E_U64: ((uint64_t *)buf)[i] = (uint64_t)(u * 1e12); return (double)((uint64_t *)buf)[i];
    case DP__E_F32: {
      float f = (float)((u - 0.5) * 7e4);
      if (i % 97 == 0) f += 0.5f; /* halves */
      if (i == 3) f = NAN;
      if (i == 4) f = INFINITY;
      if (i == 5) f = -FLT_MAX;
      ((float *)buf)[i] = f;
      return f;
    }
    default: {
      double d = (u - 0.5) * 1e5 + (i % 2 ? 0.5 : 0.25);
      if (i == 3) d = NAN;
      if (i == 6) d = 1e300; /* beyond float */
      if (i == 7) d = -1e300;
      ((double *)buf)[i] = d;
      return d;
    }
  }
}

/* the rule of convert.h, written out independently */
static double expect(double y, dp_dtype t) {
  if (t == DP_F64) return y;
  if (t == DP_F32) {
    if (isnan(y) || isinf(y)) return (float)y;
    return (float)(y > FLT_MAX ? FLT_MAX : y < -FLT_MAX ? -FLT_MAX : y);
  }
  if (isnan(y)) return 0;
  double r = y < 0 ? -floor(0.5 - y) : floor(y + 0.5), lo, hi;
  dp_dtype_range(t, &lo, &hi);
  return r < lo ? lo : r > hi ? hi : r;
}

static double get(dp_dtype t, const void *buf, int i) {
  switch (t) {
    case DP_U8: return ((const uint8_t *)buf)[i];
    case DP_I16: return ((const int16_t *)buf)[i];
    case DP_U16: return ((const uint16_t *)buf)[i];
    case DP_I32: return ((const int32_t *)buf)[i];
    case DP_F32: return ((const float *)buf)[i];
    default: return ((const double *)buf)[i];
  }
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_all(double slope, double inter, int threads) {
  static unsigned char src[N * 8], dst[N * 8];
  static double x[N];
  for (size_t a = 0; a < sizeof srcs / sizeof srcs[0]; a++) {
    for (int i = 0; i < N; i++) x[i] = value(srcs[a], i, src);
    for (size_t b = 0; b < sizeof dsts / sizeof dsts[0]; b++) {
      dp__convert c = {.src = srcs[a], .swap = 0, .slope = slope, .inter = inter, .dst = dsts[b]};
      dp__convert_stats st;
      dp__convert_run(&c, src, dst, N, threads, &st);
      double mn = INFINITY, mx = -INFINITY;
      int64_t clamped = 0, nonfinite = 0;
      for (int i = 0; i < N; i++) {
        double y = x[i] * slope + inter, e = expect(y, dsts[b]), got = get(dsts[b], dst, i);
        if (!same(got, e))
          ck_abort_msg("src %d -> %s, slope %g inter %g: element %d (%.17g -> %.17g) gave %.17g, expected %.17g",
                       (int)srcs[a], dp_dtype_name(dsts[b]), slope, inter, i, x[i], y, got, e);
        if (!isnan(y)) {
          mn = y < mn ? y : mn;
          mx = y > mx ? y : mx;
        }
        nonfinite += !isfinite(y);
        if (isfinite(y) && !dp_dtype_is_float(dsts[b])) {
          double lo, hi;
          dp_dtype_range(dsts[b], &lo, &hi);
          clamped += y <= lo - 0.5 || y >= hi + 0.5;
        }
      }
      ck_assert_msg(st.min == mn && st.max == mx, "src %d -> %s: range [%g, %g], expected [%g, %g]",
                    (int)srcs[a], dp_dtype_name(dsts[b]), st.min, st.max, mn, mx);
      if (!dp_dtype_is_float(dsts[b]))
        ck_assert_msg(st.clamped == clamped, "src %d -> %s: %lld clamped, expected %lld", (int)srcs[a],
                      dp_dtype_name(dsts[b]), (long long)st.clamped, (long long)clamped);
      ck_assert_int_eq(st.nonfinite, nonfinite);
    }
  }
}

START_TEST(every_pair_plain) { check_all(1, 0, 1); }
END_TEST

START_TEST(every_pair_ct_intercept) { check_all(1, -1024, 2); } /* the integer path */
END_TEST

START_TEST(every_pair_integer_slope) { check_all(3, 7, 2); }
END_TEST

START_TEST(every_pair_fractional) { check_all(0.37, -12.5, 2); } /* the double path */
END_TEST

START_TEST(huge_slope_takes_double_path) { check_all(70000, 0, 1); }
END_TEST

/* Other byte order: the same values as the native conversion. */
START_TEST(swapped_sources) {
  static unsigned char src[N * 8], swapped[N * 8], a[N * 8], b[N * 8];
  for (size_t k = 0; k < sizeof srcs / sizeof srcs[0]; k++) {
    size_t esz = dp__elem_size(srcs[k]);
    for (int i = 0; i < N; i++) value(srcs[k], i, src);
    for (int i = 0; i < N; i++)
      for (size_t j = 0; j < esz; j++) swapped[i * esz + j] = src[i * esz + esz - 1 - j];
    dp__convert c = {.src = srcs[k], .swap = 0, .slope = 2, .inter = -3, .dst = DP_F64};
    dp__convert_run(&c, src, a, N, 1, NULL);
    c.swap = 1;
    dp__convert_run(&c, swapped, b, N, 2, NULL);
    ck_assert_msg(memcmp(a, b, N * 8) == 0, "swapped source %d differs", (int)srcs[k]);
  }
}
END_TEST

/* In place (equal element sizes), and the same bytes for 1, 2 and 3
 * threads on a size that spans many chunks. */
START_TEST(in_place_and_threads) {
  size_t n = 3u << 17;
  int16_t *x = malloc(n * 2), *y = malloc(n * 2), *z = malloc(n * 2);
  ck_assert_ptr_nonnull(x);
  for (size_t i = 0; i < n; i++) x[i] = (int16_t)(i * 7919u);
  dp__convert c = {.src = DP__E_I16, .swap = 0, .slope = 1, .inter = -1024, .dst = DP_I16};
  dp__convert_stats s1, s2;
  dp__convert_run(&c, x, y, n, 1, &s1);
  for (int t = 2; t <= 3; t++) {
    memcpy(z, x, n * 2);
    dp__convert_run(&c, z, z, n, t, &s2);
    ck_assert(memcmp(y, z, n * 2) == 0);
    ck_assert(s1.min == s2.min && s1.max == s2.max && s1.clamped == s2.clamped);
  }
  ck_assert(s1.clamped > 0); /* -32768 - 1024 does not fit */
  ck_assert_double_eq(s1.min, -32768 - 1024);
  free(x);
  free(y);
  free(z);
}
END_TEST

/* Statistics only (no output), and 64-bit values beyond 2^53. */
START_TEST(stats_only_and_inexact) {
  int64_t v[4] = {5, -7, ((int64_t)1 << 53) + 1, 0};
  dp__convert c = {.src = DP__E_I64, .swap = 0, .slope = 1, .inter = 0, .dst = DP_DTYPE_NONE};
  dp__convert_stats st;
  dp__convert_run(&c, v, NULL, 4, 1, &st);
  ck_assert_double_eq(st.min, -7);
  ck_assert_int_eq(st.inexact, 1);
  uint16_t u[3] = {1, 65535, 9};
  dp__convert c2 = {.src = DP__E_U16, .swap = 0, .slope = 2, .inter = 0, .dst = DP_DTYPE_NONE};
  dp__convert_run(&c2, u, NULL, 3, 1, &st);
  ck_assert_double_eq(st.max, 131070);
  ck_assert_int_eq(st.inexact, 0);
}
END_TEST

/* DICOM stored bits: BitsStored/HighBit masking and sign extension, with
 * overlay bits above HighBit ignored, against a bit-by-bit reading. */
START_TEST(dicom_stored_bits) {
  enum { M = 4096 };
  static uint16_t raw[M];
  static int16_t out[M];
  static const int cases[][3] = {{12, 11, 1}, {12, 11, 0}, {12, 15, 1}, {16, 15, 1}, {10, 12, 0}, {1, 0, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int bits = cases[k][0], high = cases[k][1], sgn = cases[k][2];
    for (int i = 0; i < M; i++) raw[i] = (uint16_t)((uint32_t)i * 40503u + 7u);
    dp__convert c = {.src = DP__E_U16, .slope = 1, .inter = -10, .dst = DP_I16,
                     .stored_bits = bits, .high_bit = high, .is_signed = sgn};
    dp__convert_run(&c, raw, out, M, 1, NULL);
    for (int i = 0; i < M; i++) {
      long v = 0;
      for (int b = 0; b < bits; b++) v |= (long)((raw[i] >> (high - bits + 1 + b)) & 1u) << b;
      if (sgn && (v >> (bits - 1)) & 1) v -= 1L << bits;
      v -= 10;
      v = v < -32768 ? -32768 : v > 32767 ? 32767 : v; /* clamped, never wrapped */
      ck_assert_msg(out[i] == v, "bits %d high %d signed %d: raw 0x%04x gave %d, expected %ld", bits, high,
                    sgn, raw[i], out[i], v);
    }
  }
}
END_TEST

/* dp__store_row: the rule on rows of doubles (the warp engine's output). */
START_TEST(store_row_rule) {
  double row[8] = {-0.5, 0.5, 1.5, -1.5, 2.4999, NAN, 1e10, -1e10};
  int16_t i16[8];
  uint8_t u8[8];
  dp__store_row(row, 8, DP_I16, i16);
  dp__store_row(row, 8, DP_U8, u8);
  int16_t e16[8] = {-1, 1, 2, -2, 2, 0, 32767, -32768};
  uint8_t e8[8] = {0, 1, 2, 0, 2, 0, 255, 0};
  ck_assert(memcmp(i16, e16, sizeof e16) == 0);
  ck_assert(memcmp(u8, e8, sizeof e8) == 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("convert");
  TCase *t = tcase_create("core");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, every_pair_plain);
  tcase_add_test(t, every_pair_ct_intercept);
  tcase_add_test(t, every_pair_integer_slope);
  tcase_add_test(t, every_pair_fractional);
  tcase_add_test(t, huge_slope_takes_double_path);
  tcase_add_test(t, swapped_sources);
  tcase_add_test(t, in_place_and_threads);
  tcase_add_test(t, stats_only_and_inexact);
  tcase_add_test(t, store_row_rule);
  tcase_add_test(t, dicom_stored_bits);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
