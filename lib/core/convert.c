#include "core/convert.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
/* an AVX2 copy chosen at run time where the processor has it (same results:
 * the C is the same, floating-point contraction is off in ISO C mode) */
#define DP__CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DP__CLONES
#endif

/* X(name, c type): every source element type */
#define DP__SRC_MAP(X) \
  X(U8, uint8_t)       \
  X(I8, int8_t)        \
  X(I16, int16_t)      \
  X(U16, uint16_t)     \
  X(I32, int32_t)      \
  X(U32, uint32_t)     \
  X(I64, int64_t)      \
  X(U64, uint64_t)     \
  X(F32, float)        \
  X(F64, double)

/* the sources of the integer path: at most 16 bits */
#define DP__SMALL_SRC_MAP(X) \
  X(U8, uint8_t)             \
  X(I8, int8_t)              \
  X(I16, int16_t)            \
  X(U16, uint16_t)

size_t dp__elem_size(dp__elem e) {
  switch (e) {
#define DP__SZ(name, ctype) \
  case DP__E_##name:        \
    return sizeof(ctype);
    DP__SRC_MAP(DP__SZ)
#undef DP__SZ
  }
  return 0;
}

void dp__convert_stats_init(dp__convert_stats *s) {
  s->min = INFINITY;
  s->max = -INFINITY;
  s->clamped = s->nonfinite = s->inexact = 0;
}

static void stats_merge(dp__convert_stats *t, const dp__convert_stats *p) {
  if (p->min < t->min) t->min = p->min;
  if (p->max > t->max) t->max = p->max;
  t->clamped += p->clamped;
  t->nonfinite += p->nonfinite;
  t->inexact += p->inexact;
}

/* ---- stores: the rule of convert.h, one per output type ------------------ */

/* Integer outputs: clamped first (the bounds are integers, so clamping then
 * rounding equals rounding then clamping), NaN -> 0, then rounded half away
 * from zero by truncation of y +- 0.5 (as floor(y + 0.5) / -floor(0.5 - y);
 * copysign rather than a comparison: the compiler makes better vectors). */
#define DP__STORE_INT(name, ctype, lo, hi)                                 \
  static inline ctype store_##name(double y) {                             \
    double c = y < (lo) ? (lo) : y;                                        \
    c = c > (hi) ? (hi) : c;                                               \
    c = c == c ? c : 0.0;                                                  \
    return (ctype)(int32_t)(c + copysign(0.5, c));                         \
  }                                                                        \
  static inline int64_t out_##name(double y) {                             \
    return ((y <= (lo) - 0.5) & (y > -INFINITY)) | ((y >= (hi) + 0.5) & (y < INFINITY)); \
  }
DP__STORE_INT(U8, uint8_t, 0.0, 255.0)
DP__STORE_INT(I16, int16_t, -32768.0, 32767.0)
DP__STORE_INT(U16, uint16_t, 0.0, 65535.0)
DP__STORE_INT(I32, int32_t, -2147483648.0, 2147483647.0)
#undef DP__STORE_INT

static inline float store_F32(double y) {
  /* finite values beyond float's range are clamped; NaN and inf kept */
  double c = y < -FLT_MAX ? -FLT_MAX : y > FLT_MAX ? FLT_MAX : y;
  return (float)((y - y) == 0 ? c : y);
}
static inline int64_t out_F32(double y) { return ((y > FLT_MAX) & (y < INFINITY)) | ((y < -FLT_MAX) & (y > -INFINITY)); }
static inline double store_F64(double y) { return y; }
static inline int64_t out_F64(double y) {
  (void)y;
  return 0;
}

/* Y(name, c type, integer lo, integer hi, integer output) */
#define DP__DST_MAP(Y)                                  \
  Y(U8, uint8_t, 0, 255, 1)                             \
  Y(I16, int16_t, -32768, 32767, 1)                     \
  Y(U16, uint16_t, 0, 65535, 1)                         \
  Y(I32, int32_t, INT32_MIN, INT32_MAX, 1)              \
  Y(F32, float, INT32_MIN, INT32_MAX, 0)                \
  Y(F64, double, INT32_MIN, INT32_MAX, 0)

/* ---- the double path: any source, any output ----------------------------- */

typedef void (*dbl_fn)(const void *src, void *dst, size_t n, double slope, double inter,
                       dp__convert_stats *st);

#define DP__DBL(S, SC, D, DC)                                                           \
  DP__CLONES static void dbl_##S##_##D(const void *src, void *dst, size_t n, double slope, \
                                       double inter, dp__convert_stats *st) {           \
    const SC *restrict s = src;                                                         \
    DC *restrict d = dst;                                                               \
    if (!st) { /* no statistics: a loop the compiler vectorises */                      \
      for (size_t i = 0; i < n; i++) d[i] = store_##D((double)s[i] * slope + inter);    \
      return;                                                                           \
    }                                                                                   \
    double mn = st->min, mx = st->max;                                                  \
    int64_t nf = 0, cl = 0;                                                             \
    for (size_t i = 0; i < n; i++) {                                                    \
      double y = (double)s[i] * slope + inter;                                          \
      mn = y < mn ? y : mn; /* NaN never compares: skipped */                           \
      mx = y > mx ? y : mx;                                                             \
      nf += !((y - y) == 0);                                                            \
      cl += out_##D(y);                                                                 \
      d[i] = store_##D(y);                                                              \
    }                                                                                   \
    st->min = mn;                                                                       \
    st->max = mx;                                                                       \
    st->nonfinite += nf;                                                                \
    st->clamped += cl;                                                                  \
  }
#define DP__DBL_ROW(S, SC)                                      \
  DP__DBL(S, SC, U8, uint8_t)                                   \
  DP__DBL(S, SC, I16, int16_t)                                  \
  DP__DBL(S, SC, U16, uint16_t)                                 \
  DP__DBL(S, SC, I32, int32_t)                                  \
  DP__DBL(S, SC, F32, float)                                    \
  DP__DBL(S, SC, F64, double)
DP__SRC_MAP(DP__DBL_ROW)
#undef DP__DBL_ROW
#undef DP__DBL

static dbl_fn dbl_kernel(dp__elem s, dp_dtype d) {
  switch (s) {
#define DP__ROW(S, SC)                        \
  case DP__E_##S:                             \
    switch (d) {                              \
      case DP_U8: return dbl_##S##_U8;        \
      case DP_I16: return dbl_##S##_I16;      \
      case DP_U16: return dbl_##S##_U16;      \
      case DP_I32: return dbl_##S##_I32;      \
      case DP_F32: return dbl_##S##_F32;      \
      case DP_F64: return dbl_##S##_F64;      \
      default: return NULL;                   \
    }
    DP__SRC_MAP(DP__ROW)
#undef DP__ROW
  }
  return NULL;
}

/* ---- the integer path: <= 16-bit sources, exact int32 arithmetic --------- */

/* The element's bits r = (x >> shift) & mask, sign-extended through sign
 * (the sign bit, 0 when unsigned): ((r ^ sign) - sign).  A whole signed
 * element has mask 2^bits - 1 and its sign bit, a whole unsigned one its
 * mask and 0, which gives back the element's value. */
typedef struct {
  int32_t slope, inter;
  int shift;
  uint32_t mask, sign;
} int_args;

typedef void (*int_fn)(const void *src, void *dst, size_t n, const int_args *a,
                       dp__convert_stats *st);

#define DP__INT(S, SC, D, DC, LO, HI, ISINT)                                            \
  DP__CLONES static void int_##S##_##D(const void *src, void *dst, size_t n,            \
                                       const int_args *a, dp__convert_stats *st) {      \
    const SC *restrict s = src;                                                         \
    DC *restrict d = dst;                                                               \
    const int32_t slope = a->slope, inter = a->inter;                                   \
    const int shift = a->shift;                                                         \
    const uint32_t mask = a->mask, sign = a->sign;                                      \
    int32_t mn = INT32_MAX, mx = INT32_MIN, cl = 0;                                     \
    for (size_t i = 0; i < n; i++) {                                                    \
      uint32_t r = ((uint32_t)s[i] >> shift) & mask;                                    \
      int32_t v = ((int32_t)(r ^ sign) - (int32_t)sign) * slope + inter;                \
      mn = v < mn ? v : mn;                                                             \
      mx = v > mx ? v : mx;                                                             \
      if (ISINT) {                                                                      \
        cl += (v < (LO)) | (v > (HI));                                                  \
        v = v < (LO) ? (LO) : v > (HI) ? (HI) : v;                                      \
      }                                                                                 \
      d[i] = (DC)v;                                                                     \
    }                                                                                   \
    if (n) {                                                                            \
      if ((double)mn < st->min) st->min = mn;                                           \
      if ((double)mx > st->max) st->max = mx;                                           \
    }                                                                                   \
    st->clamped += cl;                                                                  \
  }
#define DP__INT_ROW(S, SC)                                          \
  DP__INT(S, SC, U8, uint8_t, 0, 255, 1)                            \
  DP__INT(S, SC, I16, int16_t, -32768, 32767, 1)                    \
  DP__INT(S, SC, U16, uint16_t, 0, 65535, 1)                        \
  DP__INT(S, SC, I32, int32_t, INT32_MIN, INT32_MAX, 0)             \
  DP__INT(S, SC, F32, float, 0, 0, 0)                               \
  DP__INT(S, SC, F64, double, 0, 0, 0)
DP__SMALL_SRC_MAP(DP__INT_ROW)
#undef DP__INT_ROW
#undef DP__INT

static int_fn int_kernel(dp__elem s, dp_dtype d) {
  switch (s) {
#define DP__ROW(S, SC)                        \
  case DP__E_##S:                             \
    switch (d) {                              \
      case DP_U8: return int_##S##_U8;        \
      case DP_I16: return int_##S##_I16;      \
      case DP_U16: return int_##S##_U16;      \
      case DP_I32: return int_##S##_I32;      \
      case DP_F32: return int_##S##_F32;      \
      case DP_F64: return int_##S##_F64;      \
      default: return NULL;                   \
    }
    DP__SMALL_SRC_MAP(DP__ROW)
#undef DP__ROW
    default: return NULL;
  }
}

/* slope and intercept for which the integer path is exact */
static int int_path(const dp__convert *c) {
  return int_kernel(c->src, c->dst) && c->slope == floor(c->slope) && fabs(c->slope) <= 16384.0 &&
         c->inter == floor(c->inter) && fabs(c->inter) <= 1073741824.0;
}

static int_args make_int_args(const dp__convert *c) {
  int_args a;
  a.slope = (int32_t)c->slope;
  a.inter = (int32_t)c->inter;
  int width = (int)dp__elem_size(c->src) * 8;
  int sgn = c->src == DP__E_I8 || c->src == DP__E_I16;
  int bits = width, shift = 0;
  if (c->stored_bits > 0 && c->stored_bits <= width) {
    bits = c->stored_bits;
    shift = c->high_bit + 1 - c->stored_bits; /* as DICOM readers do */
    if (shift < 0 || shift > 31) shift = 0;
    sgn = c->is_signed;
  }
  a.shift = shift;
  a.mask = bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
  a.sign = sgn ? 1u << (bits - 1) : 0;
  return a;
}

/* ---- min/max of a plain copy ---------------------------------------------- */

#define DP__RANGE(S, SC)                                                             \
  DP__CLONES static void range_##S(const void *src, size_t n, dp__convert_stats *st) { \
    const SC *restrict s = src;                                                      \
    double mn = st->min, mx = st->max;                                               \
    int64_t nf = 0;                                                                  \
    for (size_t i = 0; i < n; i++) {                                                 \
      double y = (double)s[i];                                                       \
      mn = y < mn ? y : mn;                                                          \
      mx = y > mx ? y : mx;                                                          \
      nf += !((y - y) == 0);                                                         \
    }                                                                                \
    st->min = mn;                                                                    \
    st->max = mx;                                                                    \
    st->nonfinite += nf;                                                             \
  }
DP__RANGE(U8, uint8_t)
DP__RANGE(I16, int16_t)
DP__RANGE(U16, uint16_t)
DP__RANGE(I32, int32_t)
DP__RANGE(F32, float)
DP__RANGE(F64, double)
#undef DP__RANGE

static void copy_range(dp_dtype t, const void *src, size_t n, dp__convert_stats *st) {
  switch (t) {
    case DP_U8: range_U8(src, n, st); break;
    case DP_I16: range_I16(src, n, st); break;
    case DP_U16: range_U16(src, n, st); break;
    case DP_I32: range_I32(src, n, st); break;
    case DP_F32: range_F32(src, n, st); break;
    case DP_F64: range_F64(src, n, st); break;
    default: break;
  }
}

/* ---- byte order ------------------------------------------------------------ */

static void swap_into(void *dst, const void *src, size_t n, size_t size) {
  const unsigned char *s = src;
  unsigned char *d = dst;
  if (size == 2) {
    for (size_t i = 0; i < n; i++) {
      uint16_t v;
      memcpy(&v, s + 2 * i, 2);
      v = __builtin_bswap16(v);
      memcpy(d + 2 * i, &v, 2);
    }
  } else if (size == 4) {
    for (size_t i = 0; i < n; i++) {
      uint32_t v;
      memcpy(&v, s + 4 * i, 4);
      v = __builtin_bswap32(v);
      memcpy(d + 4 * i, &v, 4);
    }
  } else if (size == 8) {
    for (size_t i = 0; i < n; i++) {
      uint64_t v;
      memcpy(&v, s + 8 * i, 8);
      v = __builtin_bswap64(v);
      memcpy(d + 8 * i, &v, 8);
    }
  } else {
    memcpy(d, s, n * size);
  }
}

/* ---- one chunk --------------------------------------------------------------- */

static void inexact_count(dp__elem e, const void *src, size_t n, dp__convert_stats *st) {
  const int64_t lim = (int64_t)1 << 53;
  if (e == DP__E_I64) {
    const int64_t *s = src;
    for (size_t i = 0; i < n; i++) st->inexact += s[i] > lim || s[i] < -lim;
  } else if (e == DP__E_U64) {
    const uint64_t *s = src;
    for (size_t i = 0; i < n; i++) st->inexact += s[i] > (uint64_t)1 << 53;
  }
}

/* st NULL: the caller does not want the statistics (a plain copy then
 * skips its range pass) */
static void chunk_native(const dp__convert *c, const void *src, void *dst, size_t n,
                         dp__convert_stats *st) {
  if (n == 0) return;
  int plain = c->slope == 1 && c->inter == 0;
  if (plain && (int)c->src == (int)c->dst && c->stored_bits == 0) {
    if (src != dst) memcpy(dst, src, n * dp_dtype_size(c->dst));
    if (st) copy_range(c->dst, src, n, st);
    return;
  }
  if (c->dst == DP_DTYPE_NONE) { /* statistics only: through a scratch row */
    if (!st) return;
    double row[2048];
    dbl_fn f = dbl_kernel(c->src, DP_F64);
    size_t esz = dp__elem_size(c->src);
    inexact_count(c->src, src, n, st);
    for (size_t at = 0; at < n; at += 2048)
      f((const unsigned char *)src + at * esz, row, n - at < 2048 ? n - at : 2048, c->slope, c->inter, st);
    return;
  }
  if (st) inexact_count(c->src, src, n, st);
  if (int_path(c)) {
    dp__convert_stats dummy;
    if (!st) {
      dp__convert_stats_init(&dummy);
      st = &dummy;
    }
    int_args a = make_int_args(c);
    int_kernel(c->src, c->dst)(src, dst, n, &a, st);
    return;
  }
  dbl_fn f = dbl_kernel(c->src, c->dst);
  if (f) f(src, dst, n, c->slope, c->inter, st);
}

enum { SWAP_CHUNK = 4096 };

void dp__convert_chunk(const dp__convert *c, const void *src, void *dst, size_t n,
                       dp__convert_stats *stats) {
  dp__convert_stats *st = stats;
  size_t esz = dp__elem_size(c->src), osz = dp_dtype_size(c->dst);
  if (!c->swap || esz == 1) {
    chunk_native(c, src, dst, n, st);
    return;
  }
  /* the other byte order: swapped a few thousand at a time into a buffer */
  uint64_t buf[SWAP_CHUNK];
  for (size_t at = 0; at < n; at += SWAP_CHUNK) {
    size_t m = n - at < SWAP_CHUNK ? n - at : SWAP_CHUNK;
    swap_into(buf, (const unsigned char *)src + at * esz, m, esz);
    chunk_native(c, buf, (unsigned char *)dst + at * osz, m, st);
  }
}

/* ---- in parallel -------------------------------------------------------------- */

#define DP__CONVERT_CHUNK ((size_t)1 << 16)

typedef struct {
  const dp__convert *c;
  const unsigned char *src;
  unsigned char *dst;
  size_t n;
  dp__convert_stats *parts;
  int want; /* statistics asked for */
} run_ctx;

static dp_status run_task(void *vctx, int64_t k) {
  run_ctx *r = vctx;
  size_t at = (size_t)k * DP__CONVERT_CHUNK;
  size_t m = r->n - at < DP__CONVERT_CHUNK ? r->n - at : DP__CONVERT_CHUNK;
  dp__convert_stats_init(&r->parts[k]);
  dp__convert_chunk(r->c, r->src + at * dp__elem_size(r->c->src),
                    r->dst + at * dp_dtype_size(r->c->dst), m, r->want ? &r->parts[k] : NULL);
  return DP_OK;
}

void dp__convert_run(const dp__convert *c, const void *src, void *dst, size_t n, int threads,
                     dp__convert_stats *stats) {
  dp__convert_stats total;
  dp__convert_stats_init(&total);
  size_t chunks = (n + DP__CONVERT_CHUNK - 1) / DP__CONVERT_CHUNK;
  dp__convert_stats *parts = chunks > 1 ? malloc(chunks * sizeof *parts) : NULL;
  if (!parts) {
    /* one chunk, or no memory for more */
    dp__convert_chunk(c, src, dst, n, stats ? &total : NULL);
  } else {
    run_ctx r = {c, src, dst, n, parts, stats != NULL};
    dp__parallel_for((int64_t)chunks, threads, run_task, &r);
    for (size_t k = 0; k < chunks; k++) stats_merge(&total, &parts[k]);
    free(parts);
  }
  if (stats) *stats = total;
}

/* ---- rows and single voxels --------------------------------------------------- */

void dp__store_row(const double *row, int64_t n, dp_dtype t, void *dst) {
  dp__convert c = {.src = DP__E_F64, .swap = 0, .slope = 1.0, .inter = 0.0, .dst = t};
  if (n > 0) chunk_native(&c, row, dst, (size_t)n, NULL);
}

#define DP__LOAD(name, ctype, str) \
  static double load_##name(const void *d, int64_t i) { return (double)((const ctype *)d)[i]; }
DP_DTYPE_MAP(DP__LOAD)
#undef DP__LOAD

dp__load_fn dp__loader(dp_dtype t) {
  switch (t) {
#define DP__CASE(name, ctype, str) \
  case DP_##name: return load_##name;
    DP_DTYPE_MAP(DP__CASE)
#undef DP__CASE
    default: return NULL;
  }
}
