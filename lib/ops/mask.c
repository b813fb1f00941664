/* Masks: parsing, and the per-chunk membership test the intensity operations
 * share. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/intensity_internal.h"

dp_status dp_mask_parse(const char *text, dp_mask *out) {
  dp_mask m = DP_MASK_INIT;
  if (!text) return dp__error(DP_EINVAL, "--mask needs a value: all, nonzero, label or above:T");
  if (!strcmp(text, "all")) m.kind = DP_MASK_ALL;
  else if (!strcmp(text, "nonzero")) m.kind = DP_MASK_NONZERO;
  else if (!strcmp(text, "label")) m.kind = DP_MASK_LABEL;
  else if (!strncmp(text, "above:", 6)) {
    char *end = NULL;
    errno = 0;
    m.threshold = strtod(text + 6, &end);
    if (end == text + 6 || *end || errno || !isfinite(m.threshold))
      return dp__error(DP_EINVAL, "--mask %s: above:T needs a finite number T", text);
    m.kind = DP_MASK_ABOVE;
  } else {
    return dp__error(DP_EINVAL, "--mask %s: use all, nonzero, label or above:T", text);
  }
  *out = m;
  return DP_OK;
}

void dp_mask_format(const dp_mask *mask, char *buf, size_t size) {
  if (!mask || mask->kind == DP_MASK_ALL) snprintf(buf, size, "all");
  else if (mask->kind == DP_MASK_NONZERO) snprintf(buf, size, "nonzero");
  else if (mask->kind == DP_MASK_LABEL) snprintf(buf, size, "label");
  else snprintf(buf, size, "above:%.17g", mask->threshold);
}

dp_status dp__mask_check(const dp_volume *v, const dp_mask *mask) {
  if (!v || !v->data) return dp__error(DP_EINVAL, "no volume");
  if (!mask || mask->kind != DP_MASK_LABEL) return DP_OK;
  const dp_volume *l = mask->label;
  if (!l) return dp__error(DP_EINVAL, "--mask label needs a label volume (--label)");
  int64_t nl = dp_volume_nvox(l), nv = dp_volume_nvox(v);
  if (nl == nv || (l->dim[3] == 1 && nl * v->dim[3] == nv)) return DP_OK;
  return dp__error(DP_EINVAL, "label of %lldx%lldx%lldx%lld voxels cannot mask an image of %lldx%lldx%lldx%lld",
                   (long long)l->dim[0], (long long)l->dim[1], (long long)l->dim[2], (long long)l->dim[3],
                   (long long)v->dim[0], (long long)v->dim[1], (long long)v->dim[2], (long long)v->dim[3]);
}

int64_t dp__nblocks(int64_t n, int threads, int64_t min_block) {
  if (n <= 0) return 0;
  int64_t nb = dp__threads(threads);
  int64_t most = (n + min_block - 1) / min_block;
  return nb < most ? nb : most;
}

/* label > 0 for voxels start..start+n of the image (the label repeats along t) */
static void label_chunk(const dp_volume *l, int64_t start, int64_t n, uint8_t *m) {
  int64_t nl = dp_volume_nvox(l);
  int64_t s = start % nl;
  int64_t i = 0;
  while (i < n) {
    int64_t run = nl - s < n - i ? nl - s : n - i;
    switch (l->dtype) {
#define DP__LAB(name, ctype, str)                                         \
  case DP_##name: {                                                       \
    const ctype *p = (const ctype *)l->data + s;                          \
    for (int64_t k = 0; k < run; k++) m[i + k] = p[k] > 0;                \
    break;                                                                \
  }
      DP_DTYPE_MAP(DP__LAB)
#undef DP__LAB
      default:
        memset(m + i, 0, (size_t)run);
        break;
    }
    i += run;
    s = 0;
  }
}

#define DP__FINITE(x) ((x) - (x) == 0) /* false for NaN and +-inf; vectorises */

const uint8_t *dp__mask_chunk(const dp_volume *v, const dp_mask *mask, int64_t start, int64_t n,
                              uint8_t *m) {
  dp_mask_kind kind = mask ? mask->kind : DP_MASK_ALL;
  int isf = dp_dtype_is_float(v->dtype);
  if (kind == DP_MASK_ALL && !isf) return NULL;
  if (kind == DP_MASK_LABEL) label_chunk(mask->label, start, n, m);
  double t = kind == DP_MASK_ABOVE ? mask->threshold : 0;
  switch (v->dtype) {
#define DP__MASK(name, ctype, str)                                                        \
  case DP_##name: {                                                                       \
    const ctype *p = (const ctype *)v->data + start;                                      \
    if (kind == DP_MASK_NONZERO)                                                          \
      for (int64_t i = 0; i < n; i++) m[i] = p[i] != 0 && DP__FINITE(p[i]);               \
    else if (kind == DP_MASK_ABOVE)                                                       \
      for (int64_t i = 0; i < n; i++) m[i] = (double)p[i] > t && DP__FINITE(p[i]);        \
    else if (kind == DP_MASK_LABEL && isf)                                                \
      for (int64_t i = 0; i < n; i++) m[i] = m[i] && DP__FINITE(p[i]);                    \
    else if (kind == DP_MASK_ALL)                                                         \
      for (int64_t i = 0; i < n; i++) m[i] = DP__FINITE(p[i]);                            \
    break;                                                                                \
  }
    DP_DTYPE_MAP(DP__MASK)
#undef DP__MASK
    default:
      memset(m, 0, (size_t)n);
      break;
  }
  return m;
}
