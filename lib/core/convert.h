/* The one conversion kernel of the library: element type x linear scaling x
 * rounding and clamping.  Every bulk change of voxel type goes through it:
 * dp_volume_convert, the NIfTI reader (raw file elements, scl_slope and
 * scl_inter, byte order), the warp engine's output rows and the statistics
 * passes.  Internal (dp__ prefix, not exported).
 *
 * The rule, for every source element x:
 *     y = x * slope + inter                      (exact in the integer path)
 *   integer output: NaN -> 0; otherwise rounded half away from zero and
 *                   clamped to the type's range (never wraps around);
 *   float output:   finite values beyond the type's range clamped to
 *                   +-FLT_MAX (f32); NaN and infinities kept.
 * Integer sources whose scaled values are exact in 32-bit integer
 * arithmetic (at most 16-bit sources, integer slope |s| <= 2^14 and
 * intercept |b| <= 2^30) take an integer path with the same results;
 * everything else is computed in double precision.  DICOM stored values
 * (BitsStored/HighBit masking and sign extension) take the integer path.  Loops are vectorised
 * (AVX2 copies chosen at run time where the processor has them, with the
 * same results). */
#ifndef DCMPREP_CORE_CONVERT_H
#define DCMPREP_CORE_CONVERT_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types a conversion reads: the volume types, and the integer types
 * that occur only in files (NIfTI int8, uint32, int64, uint64). */
typedef enum dp__elem {
  DP__E_U8 = DP_U8,
  DP__E_I16 = DP_I16,
  DP__E_U16 = DP_U16,
  DP__E_I32 = DP_I32,
  DP__E_F32 = DP_F32,
  DP__E_F64 = DP_F64,
  DP__E_I8 = 16,
  DP__E_U32,
  DP__E_I64,
  DP__E_U64
} dp__elem;

/* Bytes per element; 0 for an invalid one. */
size_t dp__elem_size(dp__elem e);

typedef struct dp__convert {
  dp__elem src;        /* source element type */
  int swap;            /* 1: source elements are in the other byte order */
  double slope, inter; /* y = x * slope + inter; (1, 0) for none */
  dp_dtype dst;        /* output type; DP_DTYPE_NONE: statistics only (dst unused) */
  /* DICOM stored bits (u8/u16 sources, integer path only): the value is the
   * stored_bits bits ending at bit high_bit of each element, sign-extended
   * when is_signed (BitsStored, HighBit, PixelRepresentation).  0 = the
   * whole element as its C type. */
  int stored_bits, high_bit, is_signed;
} dp__convert;

/* What a conversion saw (NULL where the caller does not need it). */
typedef struct dp__convert_stats {
  double min, max;   /* of y (NaN skipped, infinities count), before clamping;
                        +inf/-inf when none */
  int64_t clamped;   /* finite y outside the output type's range */
  int64_t nonfinite; /* NaN or infinite y */
  int64_t inexact;   /* 64-bit integer sources beyond +-2^53 (not exact in double) */
} dp__convert_stats;

/* Converts n elements of src into dst (which must not overlap src unless
 * they are the same buffer and the element sizes are equal).  Work is split
 * into fixed chunks over up to `threads` workers (0 = default); the output
 * and the statistics do not depend on the thread count.  stats may be NULL. */
void dp__convert_run(const dp__convert *c, const void *src, void *dst, size_t n, int threads,
                     dp__convert_stats *stats);

/* The same on the calling thread only (for callers inside parallel loops).
 * stats, when not NULL, is merged into (not reset): start it with
 * dp__convert_stats_init. */
void dp__convert_chunk(const dp__convert *c, const void *src, void *dst, size_t n,
                       dp__convert_stats *stats);

void dp__convert_stats_init(dp__convert_stats *s);

/* Stores n doubles as type t (the conversion rule above, no scaling). */
void dp__store_row(const double *row, int64_t n, dp_dtype t, void *dst);

/* Reads voxel idx of data of type t as double (random access). */
typedef double (*dp__load_fn)(const void *data, int64_t idx);
dp__load_fn dp__loader(dp_dtype t);

#ifdef __cplusplus
}
#endif
#endif
