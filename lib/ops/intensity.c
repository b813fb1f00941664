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

struct dp__ew_plan {
  const dp_volume *in;
  dp_dtype otype;    /* output type */
  kernel k;
  double lo, hi;     /* K_UNIT/K_U8: window start, K_CLAMP/K_AFFINE: bounds */
  double scale, off; /* K_UNIT/K_U8: 1/W; K_AFFINE: y = x * scale + off */
  int64_t nvox;
  uint8_t *lut;      /* K_U8 on 8/16-bit input: result per stored value (owned) */
};
typedef struct dp__ew_plan kctx;

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
    uint8_t *restrict q = (uint8_t *)dst;                       \
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
    float *restrict q = (float *)dst;                           \
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
    uint8_t *restrict q = (uint8_t *)dst;                       \
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
    ctype *restrict q = (ctype *)dst;                           \
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
    otype *restrict q = (otype *)dst;                           \
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
static void kernel_range(const kctx *c, int64_t start, int64_t n, void *dst) {
  dp_dtype t = c->in->dtype;
  if (c->lut) {
    if (t == DP_I16) DP__LUT(int16_t, uint16_t)
    else if (t == DP_U16) DP__LUT(uint16_t, uint16_t)
    else DP__LUT(uint8_t, uint8_t)
    return;
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
      if (c->otype == DP_F64) {
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
}

/* The plan's output for voxels [start, start + n) at dst. */
void dp__ew_plan_range(const dp__ew_plan *p, int64_t start, int64_t n, void *dst) {
  kernel_range(p, start, n, dst);
}

dp_dtype dp__ew_plan_dtype(const dp__ew_plan *p) { return p->otype; }

void dp__ew_plan_free(dp__ew_plan *p) {
  if (!p) return;
  free(p->lut);
  free(p);
}

typedef struct {
  const kctx *c;
  char *dst;
} apply_ctx;

static dp_status apply_chunk(void *vctx, int64_t ch) {
  const apply_ctx *a = vctx;
  int64_t start = ch * CHUNK, n = a->c->nvox - start < CHUNK ? a->c->nvox - start : CHUNK;
  kernel_range(a->c, start, n, a->dst + (size_t)start * dp_dtype_size(a->c->otype));
  return DP_OK;
}

/* Every voxel of the plan's input through the kernel into dst (which may
 * be the input's own buffer when the types are equal: element by element,
 * each voxel is read before it is written). */
static dp_status apply_into(const kctx *c, void *dst, int threads) {
  apply_ctx a = {c, dst};
  return dp__parallel_for((c->nvox + CHUNK - 1) / CHUNK, threads, apply_chunk, &a);
}

dp_status dp__ew_plan_apply(const dp__ew_plan *p, int threads, dp_volume **out) {
  /* The kernels write every voxel of the output (for any valid input type),
   * so it need not be zeroed first: fresh pages are zeroed by the kernel
   * anyway, and an aligned buffer faults in as whole 2 MiB pages. */
  *out = NULL;
  dp_volume *v = NULL;
  dp_status s = dp__volume_new_like_uninit(p->in, p->otype, &v);
  if (s == DP_OK) s = apply_into(p, v->data, threads);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

dp_status dp__ew_plan_apply_in_place(const dp__ew_plan *p, dp_volume *v, int threads) {
  if (v != p->in || p->otype != v->dtype)
    return dp__error(DP_EINVAL, "in place: the plan's own input of the same type only");
  return apply_into(p, v->data, threads);
}

/* A new plan for in with kernel k and output type otype. */
static dp_status plan_new(const dp_volume *in, kernel k, dp_dtype otype, kctx **out) {
  *out = NULL;
  if (!in || !in->data || !dp_dtype_size(in->dtype))
    return dp__error(DP_EINVAL, "invalid data type %d", in ? (int)in->dtype : 0);
  kctx *c = calloc(1, sizeof *c);
  if (!c) return dp__error(DP_ENOMEM, "out of memory");
  c->in = in;
  c->k = k;
  c->otype = otype;
  c->nvox = dp_volume_nvox(in);
  *out = c;
  return DP_OK;
}

/* Runs a plan made by one of the dp__*_plan functions into a new volume. */
static dp_status run_plan(dp_status s, kctx *c, int threads, dp_volume **out) {
  if (s == DP_OK) s = dp__ew_plan_apply(c, threads, out);
  dp__ew_plan_free(c);
  return s;
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

/* ---- plans and public steps ------------------------------------------------------- */

dp_status dp__window_plan(const dp_volume *in, const dp_window_opts *opts, dp__ew_plan **out) {
  *out = NULL;
  dp_window_opts o = DP_WINDOW_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data) return dp__error(DP_EINVAL, "window: no volume");
  if (!isfinite(o.center) || !isfinite(o.width) || !(o.width > 0))
    return dp__error(DP_EINVAL, "window C=%g W=%g: W must be positive and both finite", o.center, o.width);
  double lo = o.center - o.width / 2, hi = o.center + o.width / 2;
  kctx *c = NULL;
  dp_status s;
  if (o.out == DP_WINDOW_HU) {
    s = plan_new(in, K_CLAMP, in->dtype, &c);
    if (s == DP_OK) s = clamp_bounds(in->dtype, lo, hi, &c->lo, &c->hi);
  } else {
    s = plan_new(in, o.out == DP_WINDOW_U8 ? K_U8 : K_UNIT, o.out == DP_WINDOW_U8 ? DP_U8 : DP_F32, &c);
    if (s == DP_OK) {
      c->lo = lo;
      c->scale = 1.0 / o.width;
    }
    if (s == DP_OK && c->k == K_U8 && (in->dtype == DP_I16 || in->dtype == DP_U16 || in->dtype == DP_U8)) {
      size_t n = in->dtype == DP_U8 ? 256 : 65536;
      if (!(c->lut = malloc(n))) s = dp__error(DP_ENOMEM, "out of memory");
      float flo = (float)c->lo, fs255 = (float)(255.0 * c->scale);
      for (size_t b = 0; s == DP_OK && b < n; b++)
        c->lut[b] = u8_of(in->dtype == DP_I16 ? (float)(int16_t)(uint16_t)b : (float)b, flo, fs255);
    }
  }
  if (s != DP_OK) {
    dp__ew_plan_free(c);
    return s;
  }
  *out = c;
  return DP_OK;
}

dp_status dp_window(const dp_volume *in, const dp_window_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "window: no volume");
  kctx *c = NULL;
  dp_status s = dp__window_plan(in, opts, &c);
  return run_plan(s, c, opts ? opts->threads : 0, out);
}

dp_status dp__clip_plan(const dp_volume *in, const dp_clip_opts *opts, dp__ew_plan **out) {
  *out = NULL;
  dp_clip_opts o = DP_CLIP_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data) return dp__error(DP_EINVAL, "clip: no volume");
  kctx *c = NULL;
  dp_status s = plan_new(in, K_CLAMP, in->dtype, &c);
  if (s == DP_OK) s = clamp_bounds(in->dtype, o.lo, o.hi, &c->lo, &c->hi);
  if (s != DP_OK) {
    dp__ew_plan_free(c);
    return s;
  }
  *out = c;
  return DP_OK;
}

dp_status dp__clip_in_place(dp_volume *v, const dp_clip_opts *opts) {
  kctx *c = NULL;
  dp_status s = dp__clip_plan(v, opts, &c);
  if (s == DP_OK) s = dp__ew_plan_apply_in_place(c, v, opts ? opts->threads : 0);
  dp__ew_plan_free(c);
  return s;
}

dp_status dp_clip(const dp_volume *in, const dp_clip_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "clip: no volume");
  kctx *c = NULL;
  dp_status s = dp__clip_plan(in, opts, &c);
  return run_plan(s, c, opts ? opts->threads : 0, out);
}

dp_status dp__normalize_plan(const dp_volume *in, const dp_normalize_opts *opts, dp__ew_plan **out,
                             dp_masked_stats *used) {
  *out = NULL;
  dp_normalize_opts o = DP_NORMALIZE_OPTS_INIT;
  if (opts) o = *opts;
  if (!in || !in->data) return dp__error(DP_EINVAL, "normalize: no volume");
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
  double scale, off, lo, hi;
  if (o.mode == DP_NORM_ZSCORE) {
    if (!(st.std > 0))
      return dp__error(DP_EINVAL, "zscore: the standard deviation over the mask (%s, %lld voxels) is 0",
                       mname, (long long)st.count);
    scale = 1.0 / st.std;
    off = -st.mean / st.std;
    lo = -INFINITY;
    hi = INFINITY;
  } else {
    double a = o.mode == DP_NORM_RANGE ? o.a : 0, b = o.mode == DP_NORM_RANGE ? o.b : 1;
    if (!isfinite(a) || !isfinite(b) || !(a < b))
      return dp__error(DP_EINVAL, "range:%g,%g: need A < B", a, b);
    if (!(st.max > st.min))
      return dp__error(DP_EINVAL, "minmax: max = min = %g over the mask (%s)", st.min, mname);
    scale = (b - a) / (st.max - st.min);
    off = a - st.min * scale;
    lo = a;
    hi = b;
  }
  kctx *c = NULL;
  s = plan_new(in, K_AFFINE, in->dtype == DP_F64 ? DP_F64 : DP_F32, &c);
  if (s != DP_OK) return s;
  c->scale = scale;
  c->off = off;
  c->lo = lo;
  c->hi = hi;
  if (used) *used = st;
  *out = c;
  return DP_OK;
}

dp_status dp_normalize(const dp_volume *in, const dp_normalize_opts *opts, dp_volume **out,
                       dp_masked_stats *used) {
  if (out) *out = NULL;
  if (!in || !in->data || !out) return dp__error(DP_EINVAL, "normalize: no volume");
  kctx *c = NULL;
  dp_masked_stats st;
  dp_status s = dp__normalize_plan(in, opts, &c, &st);
  s = run_plan(s, c, opts ? opts->threads : 0, out);
  if (s == DP_OK && used) *used = st;
  return s;
}
