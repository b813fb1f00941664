/* Voxel data types. */
#ifndef DCMPREP_DTYPE_H
#define DCMPREP_DTYPE_H

#include <stddef.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, c type, short name): the single table of voxel types. */
#define DP_DTYPE_MAP(X)                                                        \
  X(U8, uint8_t, "u8")                                                         \
  X(I16, int16_t, "i16")                                                       \
  X(U16, uint16_t, "u16")                                                      \
  X(I32, int32_t, "i32")                                                       \
  X(F32, float, "f32")                                                         \
  X(F64, double, "f64")

typedef enum dp_dtype {
  DP_DTYPE_NONE = 0,
#define DP__DTYPE_ENUM(name, ctype, str) DP_##name,
  DP_DTYPE_MAP(DP__DTYPE_ENUM)
#undef DP__DTYPE_ENUM
} dp_dtype;

/* Bytes per voxel; 0 for an invalid type. */
DP_API size_t dp_dtype_size(dp_dtype t);

/* Short name ("i16"); "none" for an invalid type.  Static storage. */
DP_API const char *dp_dtype_name(dp_dtype t);

/* Parses a short name ("u8", "i16", "u16", "i32", "f32", "f64"; also the
 * numpy spellings "uint8", "int16", "uint16", "int32", "float32", "float64").
 * Returns DP_EINVAL for anything else. */
DP_API dp_status dp_dtype_parse(const char *name, dp_dtype *out);

/* Smallest and largest value the type can hold (+-DBL_MAX for floats). */
DP_API void dp_dtype_range(dp_dtype t, double *lo, double *hi);

/* Non-zero for f32 and f64. */
DP_API int dp_dtype_is_float(dp_dtype t);

#ifdef __cplusplus
}
#endif
#endif
