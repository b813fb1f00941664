/* The volume: up to 4-D voxel data on a grid placed in world space.
 *
 * Voxel data is contiguous with i (column) fastest, then j (row), k (slice),
 * then t.  The grid's only geometry is ijk_to_ras, which maps voxel index
 * (i, j, k) to world millimetres in RAS+; spacing, orientation code and inverse
 * are derived from it on demand and never stored.  Metadata is an ordered list
 * of key/value pairs that travel to the JSON sidecar.
 *
 * Ownership: dp_volume_new/_copy/_new_like/_convert return a volume the caller
 * frees with dp_volume_free().  Functions taking a const volume never modify it.
 * A volume may be read from several threads at once; writing needs exclusion.
 */
#ifndef DCMPREP_VOLUME_H
#define DCMPREP_VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "dtype.h"
#include "affine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard ceiling on voxels per volume (2^36, 64 Gi voxels): requests above it are
 * refused with DP_ELIMIT before anything is allocated. */
#define DP_MAX_VOXELS ((int64_t)1 << 36)

/* Process-wide resource limits, checked by dp_volume_new (and so by every
 * loader and step, since all voxel buffers are volumes) before it allocates:
 * a volume of more than max_voxels voxels is refused, and so is one whose
 * bytes would bring the volumes alive at once above max_bytes.  Refusals
 * are DP_ELIMIT with a message giving the sizes.  0 means no limit (the
 * default).  Codec and compression scratch buffers are not counted.  Set it
 * at start-up; it is read atomically. */
typedef struct dp_limits {
  int64_t max_voxels;
  int64_t max_bytes;
} dp_limits;
DP_API void dp_set_limits(const dp_limits *limits);
DP_API dp_limits dp_get_limits(void);
/* Bytes held by volumes alive now (accounted by dp_volume_new/_free). */
DP_API int64_t dp_volume_bytes_in_use(void);

typedef struct dp_meta dp_meta; /* opaque; use dp_volume_meta_*() */

typedef struct dp_volume {
  int64_t dim[4];      /* voxels along i, j, k, t; unused axes are 1 */
  dp_dtype dtype;      /* voxel type */
  void *data;          /* dim[0]*dim[1]*dim[2]*dim[3] voxels, owned */
  dp_mat4 ijk_to_ras;  /* voxel index -> RAS+ mm */
  double t_step;       /* seconds between volumes along t; 0 when unknown */
  dp_meta *meta;       /* owned; may be NULL when empty */
  struct dp__storage *storage; /* the library's own: what holds `data` when it
                                  is not a heap buffer (a file mapping, see
                                  dp_nifti_read); NULL otherwise.  Never set,
                                  read or free it. */
} dp_volume;

/* Creates a volume with zeroed data.  dim[d] < 1 is refused with DP_EINVAL;
 * a voxel count above DP_MAX_VOXELS (or past size_t) with DP_ELIMIT.
 * ijk_to_ras may be NULL for the identity.  On failure *out is NULL. */
DP_API dp_status dp_volume_new(const int64_t dim[4], dp_dtype dtype,
                               const dp_mat4 *ijk_to_ras, dp_volume **out);

/* Frees a volume and everything it owns.  Accepts NULL. */
DP_API void dp_volume_free(dp_volume *v);

/* Whether the volume's values are still those of the file they were mapped
 * from.  dp_nifti_read maps uncompressed files instead of copying them when
 * no conversion is needed (the mapping is private: writing into `data`
 * never changes the file).  If the file is truncated while mapped, reading
 * the missing part gives zeros instead of crashing the process (SIGBUS is
 * caught for the mapping's addresses), and if it is written to, the new
 * bytes may show through.  Returns DP_OK for volumes that are not mapped
 * and for mapped ones whose file is unchanged; DP_EIO with a message naming
 * the file otherwise.  Every library function that writes a volume's data
 * to a file, and dp_pipeline_run after each step, calls it, so such a
 * change becomes an error rather than a silently wrong output. */
DP_API dp_status dp_volume_check(const dp_volume *v);

/* 1 when the volume's data is a mapping of a file (see dp_volume_check). */
DP_API int dp_volume_is_mapped(const dp_volume *v);

/* Deep copy (data and metadata). */
DP_API dp_status dp_volume_copy(const dp_volume *in, dp_volume **out);

/* New zeroed volume on the same grid as `like` (dims, affine, t_step), with a
 * copy of its metadata and the given type. */
DP_API dp_status dp_volume_new_like(const dp_volume *like, dp_dtype dtype,
                                    dp_volume **out);

/* Copy converted to another type.  Values are rounded to nearest (halves away
 * from zero) and clamped to the target range when the target is an integer
 * type; NaN becomes 0.  Never wraps around. */
DP_API dp_status dp_volume_convert(const dp_volume *in, dp_dtype dtype,
                                   dp_volume **out);

/* Number of voxels (product of dim). */
DP_API int64_t dp_volume_nvox(const dp_volume *v);

/* Bytes of voxel data. */
DP_API size_t dp_volume_nbytes(const dp_volume *v);

/* Spacing in mm (column norms of ijk_to_ras). */
DP_API void dp_volume_spacing(const dp_volume *v, double spacing[3]);

/* Orientation code of ijk_to_ras (see dp_affine_axcodes). */
DP_API dp_status dp_volume_axcodes(const dp_volume *v, char code[4]);

/* Voxel value at flat index as double (no bounds check). */
DP_API double dp_volume_get(const dp_volume *v, int64_t index);

/* Summary statistics over all voxels; NaNs are counted and skipped. */
typedef struct dp_volume_stats {
  double min, max, mean, std; /* std: population (ddof = 0) */
  int64_t count;              /* finite voxels */
  int64_t nan_count;          /* NaN or infinite voxels */
} dp_volume_stats;

DP_API dp_status dp_volume_compute_stats(const dp_volume *v, dp_volume_stats *out);

/* ---- metadata ---------------------------------------------------------- */

typedef enum dp_meta_type {
  DP_META_STRING = 0, /* written to JSON as an escaped string */
  DP_META_NUMBER = 1, /* written as a JSON number (non-finite as null) */
  DP_META_JSON = 2    /* raw JSON text (array or object), written verbatim */
} dp_meta_type;

/* Sets key to a value, replacing an existing entry in place (order kept) or
 * appending.  The strings are copied.  DP_META_JSON text must be valid JSON;
 * it is checked for balanced brackets and quotes only. */
DP_API dp_status dp_volume_meta_set_str(dp_volume *v, const char *key, const char *value);
DP_API dp_status dp_volume_meta_set_num(dp_volume *v, const char *key, double value);
DP_API dp_status dp_volume_meta_set_json(dp_volume *v, const char *key, const char *json);

/* Removes key if present. */
DP_API void dp_volume_meta_remove(dp_volume *v, const char *key);

/* Value of key as text (numbers formatted with %.17g), or NULL when absent.
 * *type receives the type when non-NULL.  Valid until the entry changes. */
DP_API const char *dp_volume_meta_get(const dp_volume *v, const char *key,
                                      dp_meta_type *type);

/* Number of entries, and the entry at position i (0-based) in insertion order.
 * Returns DP_ERANGE when i is out of range. */
DP_API size_t dp_volume_meta_count(const dp_volume *v);
DP_API dp_status dp_volume_meta_at(const dp_volume *v, size_t i, const char **key,
                                   const char **value, dp_meta_type *type);

/* ---- accessors ----------------------------------------------------------
 * For callers that cannot or should not depend on the struct's layout
 * (language bindings: the struct may gain fields).  All accept NULL (giving
 * NULL, zeros, DP_DTYPE_NONE or the identity). */

/* The voxel buffer (dp_volume_nbytes(v) bytes, layout as above).  Owned by v
 * and valid until v is freed; treat it as read-only (it may be a read-only
 * mapping of a file). */
DP_API const void *dp_volume_data(const dp_volume *v);
/* dim[0..3]: voxels along i, j, k, t. */
DP_API void dp_volume_dims(const dp_volume *v, int64_t dim[4]);
DP_API dp_dtype dp_volume_dtype(const dp_volume *v);
/* ijk_to_ras as 16 doubles, row-major (m[4 * row + col]). */
DP_API void dp_volume_affine(const dp_volume *v, double m[16]);

/* A new volume holding a copy of the caller's voxels: dim[0..3] voxels of
 * dtype, where voxel (i, j, k, t) is at data + i*strides[0] + j*strides[1] +
 * k*strides[2] + t*strides[3] (strides in bytes, any sign, e.g. numpy's;
 * NULL = contiguous with i fastest).  affine: 16 doubles row-major, NULL for
 * the identity; it must be finite, non-singular, with last row (0, 0, 0, 1)
 * (DP_EINVAL / DP_EGEOMETRY otherwise).  Limits as dp_volume_new.  The data
 * is only read, during the call.  No metadata.  On failure *out is NULL. */
DP_API dp_status dp_volume_from_data(const int64_t dim[4], dp_dtype dtype, const double affine[16],
                                     const void *data, const int64_t strides[4], dp_volume **out);

#ifdef __cplusplus
}
#endif
#endif
