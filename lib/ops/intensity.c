/* Window, clip and normalise: one pass over the voxels each, in fixed chunks
 * on the thread pool (every voxel's result depends on that voxel alone, so
 * the output never depends on the thread count). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "ops/intensity_internal.h"

enum { CHUNK = 1 << 16 };

/* BODY (using i) for every i in [0, n).  These loops are built with the
 * dynamic vectorisation cost model (lib/CMakeLists.txt). */
#define DP__EACH(BODY)                     \
  for (int64_t i = 0; i < n; i++) {        \
    BODY;                                  \
  }

/* ---- presets ---------------------------------------------------------------- */

#define RP "Radiopaedia, Windowing (CT)"
static const dp_window_preset presets[] = {
    {"brain", 40, 80, RP ": brain W:80 L:40"},
    {"subdural", 80, 200, RP ": subdural W:130-300 L:50-100 (W:200 L:80 chosen)"},
    {"stroke", 40, 40, "Turner & Holdsworth, Br J Radiol 2011;84:1061 (W:40 L:40); " RP " also lists W:8 L:32"},
    {"temporal-bone", 600, 2800, RP ": temporal bones W:2800 L:600"},
    {"soft-tissue", 50, 350, RP ": head and neck soft tissues W:350-400 L:20-60 (W:350 L:50 chosen)"},
    {"lung", -600, 1500, RP ": lungs W:1500 L:-600"},
    {"mediastinum", 50, 350, RP ": mediastinum W:350 L:50"},
    {"abdomen", 50, 400, RP ": abdomen soft tissues W:400 L:50"},
    {"liver", 30, 150, RP ": liver W:150 L:30"},
    {"bone", 400, 1800, RP ": spine bone W:1800 L:400"},
    {NULL, 0, 0, NULL}};
#undef RP

const dp_window_preset *dp_window_presets(void) { return presets; }

const dp_window_preset *dp_window_preset_find(const char *name) {
  for (const dp_window_preset *p = presets; name && p->name; p++)
    if (!strcasecmp(p->name, name)) return p;
  return NULL;
}

static dp_status meta_number(const dp_volume *v, const char *key, double *out) {
  const char *s = dp_volume_meta_get(v, key, NULL);
  if (!s) return dp__error(DP_ENOTFOUND, "the image has no %s (from the DICOM header)", key);
  while (*s == '[' || *s == ' ' || *s == '"') s++; /* a JSON array or string: its first value */
  char *end = NULL;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || errno || !isfinite(x)) return dp__error(DP_EINVAL, "%s '%s' is not a number", key, s);
  *out = x;
  return DP_OK;
}

dp_status dp_window_from_meta(const dp_volume *v, double *center, double *width) {
  double c, w;
  dp_status s = meta_number(v, "WindowCenter", &c);
  if (s == DP_OK) s = meta_number(v, "WindowWidth", &w);
  if (s != DP_OK) return s;
  if (!(w > 0)) return dp__error(DP_EINVAL, "WindowWidth %g is not positive", w);
  *center = c;
  *width = w;
  return DP_OK;
}

/* ---- the per-voxel kernels ------------------------------------------------------ */

typedef enum { K_UNIT, K_U8, K_CLAMP, K_AFFINE } kernel;

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  kernel k;
  double lo, hi;     /* K_UNIT/K_U8: window start, K_CLAMP/K_AFFINE: bounds */
  double scale, off; /* K_UNIT/K_U8: 1/W; K_AFFINE: y = x * scale + off */
  int64_t nvox;
  const uint8_t *lut; /* K_U8 on 8/16-bit input: result per stored value */
} kctx;

/* The u8 window of one value: DP__U8 and the lookup table use the same float
 * arithmetic, so both give the same bits. */
static inline uint8_t u8_of(float x, float lo, float s255) {
  float y = (x - lo) * s255;
  y = y == y ? y : 0.f;
  y = y < 0.f ? 0.f : y;
  y = y > 255.f ? 255.f : y;
  return (uint8_t)(int)(y + 0.5f);
}

/* u8 output of 8- and 16-bit inputs: one table entry per stored bit pattern
 * (indexed by the value's unsigned bits), computed once, then one load per
 * voxel; cheaper than DP__U8, which GCC does not vectorise. */
#define DP__LUT(ctype, utype)                                                    \
  {                                                                              \
    const ctype *restrict p = (const ctype *)c->in->data + start;                \
    uint8_t *restrict q = (uint8_t *)c->out->data + start;                       \
    const uint8_t *restrict t = c->lut;                                          \
    for (int64_t i = 0; i < n; i++) q[i] = t[(utype)p[i]];                       \
  }

/* [0,1] from the window, float arithmetic (the output is float32 anyway).
 * Computed, not looked up, for every input type: vectorised (AVX2: 8 voxels
 * per instruction) it is faster than a float table, whose loads do not
 * vectorise. */
#define DP__UNIT(ctype)                                                          \
  {                                                                              \
    const ctype *restrict p = (const ctype *)c->in->data + start;                \
    float *restrict q = (float *)c->out->data + start;                           \
    float lo = (float)c->lo, s = (float)c->scale;                                \
    DP__EACH({                                            \
      float y = ((float)p[i] - lo) * s;                                          \
      y = y < 0.f ? 0.f : y;                                                     \
      q[i] = y > 1.f ? 1.f : y;                                                  \
    })                                                                            \
  }

/* round(255 * unit), halves up; NaN -> 0 */
#define DP__U8(ctype)                                                            \
  {                                                                              \
    const ctype *restrict p = (const ctype *)c->in->data + start;                \
    uint8_t *restrict q = (uint8_t *)c->out->data + start;                       \
    float lo = (float)c->lo, s = (float)(255.0 * c->scale);                      \
    DP__EACH({                                            \
      float y = ((float)p[i] - lo) * s;                                          \
      y = y == y ? y : 0.f;                                                      \
      y = y < 0.f ? 0.f : y;                                                     \
      y = y > 255.f ? 255.f : y;                                                 \
      q[i] = (uint8_t)(int)(y + 0.5f);                                           \
    })                                                                            \
  }

#define DP__CLAMP(ctype)                                                         \
  {                                                                              \
    const ctype *restrict p = (const ctype *)c->in->data + start;                \
    ctype *restrict q = (ctype *)c->out->data + start;                           \
    ctype lo = (ctype)c->lo, hi = (ctype)c->hi;                                  \
    DP__EACH({                                            \
      ctype y = p[i];                                                            \
      y = y < lo ? lo : y;                                                       \
      q[i] = y > hi ? hi : y;                                                    \
    })                                                                            \
  }

/* y = clamp(x * scale + off, lo, hi) in double, stored as OTYPE */
#define DP__AFFINE(ctype, otype)                                                 \
  {                                                                              \
    const ctype *restrict p = (const ctype *)c->in->data + start;                \
    otype *restrict q = (otype *)c->out->data + start;                           \
    double s = c->scale, o = c->off, lo = c->lo, hi = c->hi;                     \
    DP__EACH({                                            \
      double y = (double)p[i] * s + o;                                           \
      y = y < lo ? lo : y;                                                       \
      q[i] = (otype)(y > hi ? hi : y);                                           \
    })                                                                            \
  }

/* An AVX2 copy of every loop below, chosen at run time where the processor
 * has it.  It does the same IEEE operations in the same order (AVX2 does not
 * include FMA, and C11 mode does not contract), so every path gives the same
 * bits. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static dp_status kernel_chunk(void *vctx, int64_t ch) {
  kctx *c = vctx;
  int64_t start = ch * CHUNK, n = c->nvox - start < CHUNK ? c->nvox - start : CHUNK;
  dp_dtype t = c->in->dtype;
  if (c->lut) {
    if (t == DP_I16) DP__LUT(int16_t, uint16_t)
    else if (t == DP_U16) DP__LUT(uint16_t, uint16_t)
    else DP__LUT(uint8_t, uint8_t)
    return DP_OK;
  }
  switch (c->k) {
    case K_UNIT:
      switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: DP__UNIT(ctype) break;
        DP_DTYPE_MAP(DP__C)
#undef DP__C
        default: break;
      }
      break;
    case K_U8:
      switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: DP__U8(ctype) break;
        DP_DTYPE_MAP(DP__C)
#undef DP__C
        default: break;
      }
      break;
    case K_CLAMP:
      switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: DP__CLAMP(ctype) break;
        DP_DTYPE_MAP(DP__C)
#undef DP__C
        default: break;
      }
      break;
    case K_AFFINE:
      if (c->out->dtype == DP_F64) {
        switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: DP__AFFINE(ctype, double) break;
          DP_DTYPE_MAP(DP__C)
#undef DP__C
          default: break;
        }
      } else {
        switch (t) {
#define DP__C(name, ctype, str) \
  case DP_##name: DP__AFFINE(ctype, float) break;
          DP_DTYPE_MAP(DP__C)
#undef DP__C
          default: break;
        }
      }
      break;
  }
  return DP_OK;
}

static dp_status run_kernel(const dp_volume *in, dp_dtype otype, kctx *c, int threads, dp_volume **out) {
  /* The kernels write every voxel of the output (for any valid input type),
   * so it need not be zeroed first: fresh pages are zeroed by the kernel
   * anyway, and an aligned buffer faults in as whole 2 MiB pages. */
  if (!dp_dtype_size(in->dtype)) return dp__error(DP_EINVAL, "invalid data type %d", (int)in->dtype);
  dp_volume *v = NULL;
  dp_status s = dp__volume_new_like_uninit(in, otype, &v);
  if (s != DP_OK) return s;
  c->in = in;
  c->out = v;
  c->nvox = dp_volume_nvox(in);
  s = dp__parallel_for((c->nvox + CHUNK - 1) / CHUNK, threads, kernel_chunk, c);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

/* Integer types clamp to [ceil(lo), floor(hi)] within the type's range. */
static dp_status clamp_bounds(dp_dtype t, double lo, double hi, double *blo, double *bhi) {
  if (!isfinite(lo) || !isfinite(hi) || lo > hi)
    return dp__error(DP_EINVAL, "clip range [%g, %g] is empty or not finite", lo, hi);
  if (dp_dtype_is_float(t)) {
    *blo = lo;
    *bhi = hi;
    return DP_OK;
  }
  double tlo, thi;
  dp_dtype_range(t, &tlo, &thi);
  lo = ceil(lo);
  hi = floor(hi);
  if (lo > hi) return dp__error(DP_EINVAL, "clip range holds no integer for type %s", dp_dtype_name(t));
  *blo = lo < tlo ? tlo : lo > thi ? thi : lo;
  *bhi = hi > thi ? thi : hi < tlo ? tlo : hi;
  return DP_OK;
}

/* ---- public steps ------------------------------------------------------------------ */

dp_status dp_window(const dp_volume *in, const dp_window_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  dp_window_opts o = DP_WINDOW_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "window: no volume");
  if (!isfinite(o.center) || !isfinite(o.width) || !(o.width > 0))
    return dp__error(DP_EINVAL, "window C=%g W=%g: W must be positive and both finite", o.center, o.width);
  kctx c;
  memset(&c, 0, sizeof c);
  double lo = o.center - o.width / 2, hi = o.center + o.width / 2;
  if (o.out == DP_WINDOW_HU) {
    c.k = K_CLAMP;
    dp_status s = clamp_bounds(in->dtype, lo, hi, &c.lo, &c.hi);
    if (s != DP_OK) return s;
    return run_kernel(in, in->dtype, &c, o.threads, out);
  }
  c.k = o.out == DP_WINDOW_U8 ? K_U8 : K_UNIT;
  c.lo = lo;
  c.scale = 1.0 / o.width;
  uint8_t *lut = NULL;
  if (c.k == K_U8 && (in->dtype == DP_I16 || in->dtype == DP_U16 || in->dtype == DP_U8)) {
    size_t n = in->dtype == DP_U8 ? 256 : 65536;
    if (!(lut = malloc(n))) return dp__error(DP_ENOMEM, "out of memory");
    float flo = (float)c.lo, fs255 = (float)(255.0 * c.scale);
    for (size_t b = 0; b < n; b++)
      lut[b] = u8_of(in->dtype == DP_I16 ? (float)(int16_t)(uint16_t)b : (float)b, flo, fs255);
    c.lut = lut;
  }
  dp_status s = run_kernel(in, o.out == DP_WINDOW_U8 ? DP_U8 : DP_F32, &c, o.threads, out);
  free(lut);
  return s;
}

dp_status dp__clip_in_place(dp_volume *v, const dp_clip_opts *opts) {
  dp_clip_opts o = DP_CLIP_OPTS_INIT;
  if (opts) o = *opts;
  if (!v || !v->data || !dp_dtype_size(v->dtype)) return dp__error(DP_EINVAL, "clip: no volume");
  kctx c;
  memset(&c, 0, sizeof c);
  c.k = K_CLAMP;
  dp_status s = clamp_bounds(v->dtype, o.lo, o.hi, &c.lo, &c.hi);
  if (s != DP_OK) return s;
  c.in = v; /* element by element: reading and writing the same voxel is safe */
  c.out = v;
  c.nvox = dp_volume_nvox(v);
  return dp__parallel_for((c.nvox + CHUNK - 1) / CHUNK, o.threads, kernel_chunk, &c);
}

dp_status dp_clip(const dp_volume *in, const dp_clip_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  dp_clip_opts o = DP_CLIP_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "clip: no volume");
  kctx c;
  memset(&c, 0, sizeof c);
  c.k = K_CLAMP;
  dp_status s = clamp_bounds(in->dtype, o.lo, o.hi, &c.lo, &c.hi);
  if (s != DP_OK) return s;
  return run_kernel(in, in->dtype, &c, o.threads, out);
}

dp_status dp_normalize(const dp_volume *in, const dp_normalize_opts *opts, dp_volume **out,
                       dp_masked_stats *used) {
  if (out) *out = NULL;
  dp_normalize_opts o = DP_NORMALIZE_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "normalize: no volume");
  dp_masked_stats st = {0, NAN, NAN, NAN, NAN};
  dp_status s = DP_OK;
  char mname[64];
  dp_mask_format(&o.mask, mname, sizeof mname);
  if (o.mode == DP_NORM_ZSCORE && o.fixed) {
    if (!isfinite(o.mean) || !isfinite(o.std) || !(o.std > 0))
      return dp__error(DP_EINVAL, "zscore: mean=%g std=%g: std must be positive", o.mean, o.std);
    st.mean = o.mean;
    st.std = o.std;
  } else {
    s = dp_masked_stats_compute(in, &o.mask, o.threads, &st);
    if (s != DP_OK) return s;
    if (!st.count) return dp__error(DP_EINVAL, "normalize: the mask (%s) holds no voxel", mname);
  }
  kctx c;
  memset(&c, 0, sizeof c);
  c.k = K_AFFINE;
  if (o.mode == DP_NORM_ZSCORE) {
    if (!(st.std > 0))
      return dp__error(DP_EINVAL, "zscore: the standard deviation over the mask (%s, %lld voxels) is 0",
                       mname, (long long)st.count);
    c.scale = 1.0 / st.std;
    c.off = -st.mean / st.std;
    c.lo = -INFINITY;
    c.hi = INFINITY;
  } else {
    double a = o.mode == DP_NORM_RANGE ? o.a : 0, b = o.mode == DP_NORM_RANGE ? o.b : 1;
    if (!isfinite(a) || !isfinite(b) || !(a < b))
      return dp__error(DP_EINVAL, "range:%g,%g: need A < B", a, b);
    if (!(st.max > st.min))
      return dp__error(DP_EINVAL, "minmax: max = min = %g over the mask (%s)", st.min, mname);
    c.scale = (b - a) / (st.max - st.min);
    c.off = a - st.min * c.scale;
    c.lo = a;
    c.hi = b;
  }
  s = run_kernel(in, in->dtype == DP_F64 ? DP_F64 : DP_F32, &c, o.threads, out);
  if (s == DP_OK && used) *used = st;
  return s;
}
