/* Exact percentiles (numpy's default "linear" method) without sorting.
 *
 * Pass 1 builds a histogram of 65536 buckets over an order-preserving key of
 * each masked value: the value itself for u8/i16/u16 (then every bucket holds
 * one value and the answer is read off the histogram), else the top 16 bits
 * of a monotone integer key of the value (i32, f32: 32-bit; f64 or volumes of
 * mixed types: the 64-bit key of the value as double).  The ranks wanted fall
 * in a few buckets; pass 2 gathers only those buckets' values and a three-way
 * quickselect finds each rank.  Histograms are per block of voxels and merged
 * exactly; the gathered values do not depend on the order in which blocks
 * run, so neither does the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/intensity_internal.h"

enum { NBUCKET = 65536, MIN_BLOCK = 1 << 18 };
enum { KEY_EXACT = 0, KEY_32, KEY_64 };

typedef struct {
  double *p;
  int64_t n, cap;
} dbuf;

typedef struct {
  const dp_volume *v;
  const dp_mask *mask;
  int mode;
  int64_t nvox, nb;
  uint32_t *hist;        /* nb * NBUCKET (pass 1) */
  const uint16_t *slot;  /* bucket -> slot + 1, 0 = not wanted (pass 2) */
  int nslots;
  dbuf *bufs;            /* nb * nslots (pass 2) */
  int failed;
} pctx;

static inline uint32_t key_f32(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline uint32_t bucket_f64(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  u = (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
  return (uint32_t)(u >> 48);
}

static int push(dbuf *b, double x) {
  if (b->n == b->cap) {
    int64_t cap = b->cap ? 2 * b->cap : 4096;
    double *p = realloc(b->p, (size_t)cap * sizeof *p);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  b->p[b->n++] = x;
  return 0;
}

/* One loop per (type, key) pair; BODY sees x (the value) and b (its bucket). */
#define DP__LOOP(ctype, BEXPR, BODY)                                      \
  {                                                                       \
    const ctype *p = (const ctype *)c->v->data + start;                   \
    if (m) {                                                              \
      for (int64_t i = 0; i < n; i++)                                     \
        if (m[i]) {                                                       \
          ctype x = p[i];                                                 \
          uint32_t b = (BEXPR);                                           \
          BODY;                                                           \
        }                                                                 \
    } else {                                                              \
      for (int64_t i = 0; i < n; i++) {                                   \
        ctype x = p[i];                                                   \
        uint32_t b = (BEXPR);                                             \
        BODY;                                                             \
      }                                                                   \
    }                                                                     \
  }

#define DP__DISPATCH(BODY)                                                         \
  switch (c->mode == KEY_64 ? DP_F64 + 100 + c->v->dtype : c->v->dtype) {          \
    case DP_U8: DP__LOOP(uint8_t, x, BODY) break;                                  \
    case DP_I16: DP__LOOP(int16_t, (uint32_t)(x + 32768), BODY) break;             \
    case DP_U16: DP__LOOP(uint16_t, x, BODY) break;                                \
    case DP_I32: DP__LOOP(int32_t, ((uint32_t)x ^ 0x80000000u) >> 16, BODY) break; \
    case DP_F32: DP__LOOP(float, key_f32(x) >> 16, BODY) break;                    \
    case DP_F64 + 100 + DP_U8: DP__LOOP(uint8_t, bucket_f64(x), BODY) break;       \
    case DP_F64 + 100 + DP_I16: DP__LOOP(int16_t, bucket_f64(x), BODY) break;      \
    case DP_F64 + 100 + DP_U16: DP__LOOP(uint16_t, bucket_f64(x), BODY) break;     \
    case DP_F64 + 100 + DP_I32: DP__LOOP(int32_t, bucket_f64(x), BODY) break;      \
    case DP_F64 + 100 + DP_F32: DP__LOOP(float, bucket_f64(x), BODY) break;        \
    case DP_F64 + 100 + DP_F64: DP__LOOP(double, bucket_f64(x), BODY) break;       \
    default: break;                                                                \
  }

static dp_status hist_block(void *vctx, int64_t blk) {
  pctx *c = vctx;
  uint32_t *h = c->hist + blk * NBUCKET;
  memset(h, 0, NBUCKET * sizeof *h);
  int64_t lo = c->nvox * blk / c->nb, hi = c->nvox * (blk + 1) / c->nb;
  uint8_t mb[DP__MASK_CHUNK];
  for (int64_t start = lo; start < hi; start += DP__MASK_CHUNK) {
    int64_t n = hi - start < DP__MASK_CHUNK ? hi - start : DP__MASK_CHUNK;
    const uint8_t *m = dp__mask_chunk(c->v, c->mask, start, n, mb);
    DP__DISPATCH(h[b]++)
  }
  return DP_OK;
}

static dp_status gather_block(void *vctx, int64_t blk) {
  pctx *c = vctx;
  dbuf *bufs = c->bufs + blk * c->nslots;
  const uint16_t *slot = c->slot;
  int64_t lo = c->nvox * blk / c->nb, hi = c->nvox * (blk + 1) / c->nb;
  uint8_t mb[DP__MASK_CHUNK];
  int bad = 0;
  for (int64_t start = lo; start < hi && !bad; start += DP__MASK_CHUNK) {
    int64_t n = hi - start < DP__MASK_CHUNK ? hi - start : DP__MASK_CHUNK;
    const uint8_t *m = dp__mask_chunk(c->v, c->mask, start, n, mb);
    DP__DISPATCH(if (slot[b]) bad |= push(&bufs[slot[b] - 1], (double)x))
  }
  if (bad) return dp__error(DP_ENOMEM, "percentiles: out of memory");
  return DP_OK;
}

static inline void swapd(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

/* k-th smallest (0-based) of a[0..n): quickselect with three-way partitions
 * (ties cost one pass) and median-of-three pivots at pseudo-random places.
 * Reorders a. */
static double select_k(double *a, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n;
  uint64_t r = 0x9E3779B97F4A7C15ull;
  while (hi - lo > 1) {
    int64_t len = hi - lo;
    double s[3];
    for (int t = 0; t < 3; t++) {
      r ^= r << 13, r ^= r >> 7, r ^= r << 17;
      s[t] = a[lo + (int64_t)(r % (uint64_t)len)];
    }
    double p = s[0] < s[1] ? (s[1] < s[2] ? s[1] : s[0] < s[2] ? s[2] : s[0])
                           : (s[0] < s[2] ? s[0] : s[1] < s[2] ? s[2] : s[1]);
    int64_t lt = lo, i = lo, gt = hi;
    while (i < gt) {
      if (a[i] < p) swapd(&a[lt++], &a[i++]);
      else if (a[i] > p) swapd(&a[i], &a[--gt]);
      else i++;
    }
    if (k < lt) hi = lt;
    else if (k >= gt) lo = gt;
    else return p;
  }
  return a[lo];
}

/* numpy's _lerp: exact at both ends */
static double lerp(double a, double b, double t, int f32) {
  double d = f32 ? (double)((float)b - (float)a) : b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

typedef struct {
  int64_t rank, local; /* global rank; rank within its bucket */
  uint32_t bucket;
  double value;
} want_t;

static dp_status run_pass(pctx *c, const dp_volume *const *vols, const dp_mask *masks, int nvols,
                          int threads, int gather, dbuf *slots, uint64_t *total) {
  for (int vi = 0; vi < nvols; vi++) {
    c->v = vols[vi];
    c->mask = masks ? &masks[vi] : NULL;
    c->nvox = dp_volume_nvox(vols[vi]);
    c->nb = dp__nblocks(c->nvox, threads, MIN_BLOCK);
    dp_status s;
    if (!gather) {
      c->hist = malloc((size_t)c->nb * NBUCKET * sizeof *c->hist);
      if (!c->hist) return dp__error(DP_ENOMEM, "percentiles: out of memory");
      s = dp__parallel_for(c->nb, threads, hist_block, c);
      for (int64_t b = 0; b < c->nb && s == DP_OK; b++)
        for (int k = 0; k < NBUCKET; k++) total[k] += c->hist[b * NBUCKET + k];
      free(c->hist);
      c->hist = NULL;
    } else {
      c->bufs = calloc((size_t)(c->nb * c->nslots), sizeof *c->bufs);
      if (!c->bufs) return dp__error(DP_ENOMEM, "percentiles: out of memory");
      s = dp__parallel_for(c->nb, threads, gather_block, c);
      for (int64_t b = 0; b < c->nb; b++)
        for (int k = 0; k < c->nslots; k++) {
          dbuf *src = &c->bufs[b * c->nslots + k];
          for (int64_t i = 0; i < src->n && s == DP_OK; i++)
            if (push(&slots[k], src->p[i])) s = dp__error(DP_ENOMEM, "percentiles: out of memory");
          free(src->p);
        }
      free(c->bufs);
      c->bufs = NULL;
    }
    if (s != DP_OK) return s;
  }
  return DP_OK;
}

dp_status dp_percentiles(const dp_volume *const *vols, const dp_mask *masks, int nvols,
                         const double *q, int nq, int threads, double *out, int64_t *count) {
  if (count) *count = 0;
  if (!vols || nvols < 1 || !q || nq < 1 || !out) return dp__error(DP_EINVAL, "percentiles: nothing to do");
  for (int i = 0; i < nq; i++)
    if (!(q[i] >= 0 && q[i] <= 100)) return dp__error(DP_EINVAL, "percentile %g is not in [0, 100]", q[i]);
  int same = 1;
  for (int i = 0; i < nvols; i++) {
    dp_status s = dp__mask_check(vols[i], masks ? &masks[i] : NULL);
    if (s != DP_OK) return s;
    if (vols[i]->dtype != vols[0]->dtype) same = 0;
  }
  dp_dtype t = vols[0]->dtype;
  pctx c;
  memset(&c, 0, sizeof c);
  c.mode = !same || t == DP_F64 ? KEY_64 : (t == DP_I32 || t == DP_F32) ? KEY_32 : KEY_EXACT;
  uint64_t *total = calloc(NBUCKET, sizeof *total);
  want_t *w = malloc((size_t)nq * 2 * sizeof *w);
  uint16_t *slot = calloc(NBUCKET, sizeof *slot);
  dbuf *slots = calloc((size_t)nq * 2, sizeof *slots);
  dp_status s = total && w && slot && slots ? DP_OK : dp__error(DP_ENOMEM, "percentiles: out of memory");
  if (s == DP_OK) s = run_pass(&c, vols, masks, nvols, threads, 0, NULL, total);
  uint64_t n = 0;
  if (s == DP_OK) {
    for (int k = 0; k < NBUCKET; k++) n += total[k];
    if (n == 0) s = dp__error(DP_EINVAL, "percentiles: the mask holds no (finite) voxel");
  }
  double *h = malloc((size_t)nq * sizeof *h);
  if (s == DP_OK && !h) s = dp__error(DP_ENOMEM, "percentiles: out of memory");
  if (s == DP_OK) {
    /* numpy: virtual index (n - 1) * q / 100; floor and floor + 1, clamped */
    for (int i = 0; i < nq; i++) {
      h[i] = (double)(n - 1) * (q[i] / 100.0);
      double f = floor(h[i]);
      int64_t r0 = h[i] >= (double)(n - 1) ? (int64_t)n - 1 : (int64_t)f;
      int64_t r1 = r0 + 1 < (int64_t)n ? r0 + 1 : (int64_t)n - 1;
      w[2 * i].rank = r0;
      w[2 * i + 1].rank = r1;
    }
    /* bucket of each wanted rank */
    uint64_t cum = 0;
    int k = 0;
    for (int j = 0; j < 2 * nq; j++) w[j].bucket = NBUCKET;
    for (k = 0; k < NBUCKET; k++) {
      for (int j = 0; j < 2 * nq; j++)
        if (w[j].bucket == NBUCKET && (uint64_t)w[j].rank < cum + total[k]) {
          w[j].bucket = (uint32_t)k;
          w[j].local = w[j].rank - (int64_t)cum;
        }
      cum += total[k];
    }
    if (c.mode == KEY_EXACT) {
      for (int j = 0; j < 2 * nq; j++) w[j].value = t == DP_I16 ? (double)w[j].bucket - 32768.0 : (double)w[j].bucket;
    } else {
      for (int j = 0; j < 2 * nq; j++)
        if (!slot[w[j].bucket]) slot[w[j].bucket] = (uint16_t)++c.nslots;
      c.slot = slot;
      s = run_pass(&c, vols, masks, nvols, threads, 1, slots, NULL);
      for (int j = 0; j < 2 * nq && s == DP_OK; j++) {
        dbuf *b = &slots[slot[w[j].bucket] - 1];
        w[j].value = select_k(b->p, b->n, w[j].local);
      }
    }
  }
  if (s == DP_OK) {
    int f32 = same && t == DP_F32;
    for (int i = 0; i < nq; i++) {
      double g = h[i] >= (double)(n - 1) ? 0.0 : h[i] - floor(h[i]);
      out[i] = lerp(w[2 * i].value, w[2 * i + 1].value, g, f32);
    }
    if (count) *count = (int64_t)n;
  }
  if (slots)
    for (int i = 0; i < 2 * nq; i++) free(slots[i].p);
  free(slots);
  free(slot);
  free(total);
  free(w);
  free(h);
  return s;
}
