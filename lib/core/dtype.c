#include <float.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dcmprep/dtype.h"
#include "internal.h"

size_t dp_dtype_size(dp_dtype t) {
  switch (t) {
#define DP__SIZE(name, ctype, str) \
  case DP_##name:                  \
    return sizeof(ctype);
    DP_DTYPE_MAP(DP__SIZE)
#undef DP__SIZE
    default:
      return 0;
  }
}

const char *dp_dtype_name(dp_dtype t) {
  switch (t) {
#define DP__NAME(name, ctype, str) \
  case DP_##name:                  \
    return str;
    DP_DTYPE_MAP(DP__NAME)
#undef DP__NAME
    default:
      return "none";
  }
}

dp_status dp_dtype_parse(const char *name, dp_dtype *out) {
  static const struct {
    const char *name;
    dp_dtype t;
  } names[] = {{"u8", DP_U8},         {"uint8", DP_U8},     {"i16", DP_I16},
               {"int16", DP_I16},     {"u16", DP_U16},      {"uint16", DP_U16},
               {"i32", DP_I32},       {"int32", DP_I32},    {"f32", DP_F32},
               {"float32", DP_F32},   {"float", DP_F32},    {"f64", DP_F64},
               {"float64", DP_F64},   {"double", DP_F64}};
  if (!name || !out) return dp__error(DP_EINVAL, "dtype: no name given");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcasecmp(name, names[i].name) == 0) {
      *out = names[i].t;
      return DP_OK;
    }
  }
  return dp__error(DP_EINVAL, "unknown data type '%s' (expected u8, i16, u16, i32, f32 or f64)",
                   name);
}

void dp_dtype_range(dp_dtype t, double *lo, double *hi) {
  double l = 0, h = 0;
  switch (t) {
    case DP_U8: l = 0; h = UINT8_MAX; break;
    case DP_I16: l = INT16_MIN; h = INT16_MAX; break;
    case DP_U16: l = 0; h = UINT16_MAX; break;
    case DP_I32: l = INT32_MIN; h = INT32_MAX; break;
    case DP_F32: l = -FLT_MAX; h = FLT_MAX; break;
    case DP_F64: l = -DBL_MAX; h = DBL_MAX; break;
    default: break;
  }
  if (lo) *lo = l;
  if (hi) *hi = h;
}

int dp_dtype_is_float(dp_dtype t) { return t == DP_F32 || t == DP_F64; }
