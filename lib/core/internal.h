/* Internals shared across the library (dp__ prefix, never exported). */
#ifndef DCMPREP_CORE_INTERNAL_H
#define DCMPREP_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"
#include "dcmprep/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DP__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DP__PRINTF(a, b)
#endif

#define DP__PI 3.14159265358979323846

/* Records a formatted message for dp_last_error() and returns s, so that
 * `return dp__error(DP_EIO, "%s: %s", path, strerror(errno));` reads well. */
dp_status dp__error(dp_status s, const char *fmt, ...) DP__PRINTF(2, 3);

/* Prefixes the current thread's message with "prefix: " (for adding context
 * such as a file name to an error raised deeper down).  Returns s. */
dp_status dp__error_prefix(dp_status s, const char *prefix);

/* Resource limits (limits.c): accounts nbytes for a new volume of `voxels`
 * voxels, or refuses it (DP_ELIMIT, message set) without accounting;
 * release gives the bytes back when the volume is freed. */
dp_status dp__limits_acquire(const int64_t dim[4], int64_t voxels, size_t nbytes);
void dp__limits_release(size_t nbytes);

/* A voxel-sized buffer (volume.c), released with free(): zeroed (calloc)
 * or not; one of 4 MiB or more is asked for as transparent huge pages, and
 * when not zeroed it is 2 MiB aligned so that every page of it can be huge. */
void *dp__alloc_data(size_t nbytes, int zeroed);

/* Like dp_volume_new, but the data is NOT initialised (see below). */
dp_status dp__volume_new_uninit(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras,
                                dp_volume **out);

/* Like dp_volume_new_like, but the data is NOT initialised: only for callers
 * that write every voxel before anything reads it.  Large buffers are 2 MiB
 * aligned and asked for as transparent huge pages before their first touch. */
dp_status dp__volume_new_like_uninit(const dp_volume *like, dp_dtype dtype, dp_volume **out);

/* A volume whose data lives in a file mapping (file_map.h), which it then
 * owns (closed by dp_volume_free).  Counted against the limits like any
 * volume.  On failure *out is NULL and the caller still owns map. */
struct dp__file_map;
dp_status dp__volume_new_mapped(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras,
                                struct dp__file_map *map, void *data, dp_volume **out);

/* Sends a message to the log callback, if one is installed. */
void dp__log(dp_log_level level, const char *fmt, ...) DP__PRINTF(2, 3);

/* Chan et al.'s pairwise update: merges a part of pn values with mean pmean
 * and sum of squared deviations pm2 into the running (*n, *mean, *m2).  The
 * same merge order gives the same result, whatever the thread count. */
static inline void dp__moments_merge(int64_t *n, double *mean, double *m2, int64_t pn, double pmean,
                                     double pm2) {
  if (pn <= 0) return;
  int64_t t = *n + pn;
  double d = pmean - *mean;
  *mean += d * (double)pn / (double)t;
  *m2 += pm2 + d * d * (double)*n * (double)pn / (double)t;
  *n = t;
}

/* Overflow-checked a*b for sizes; returns 0 and sets *out on success. */
int dp__mul_overflow(size_t a, size_t b, size_t *out);

/* Runs fn(ctx, i) for i in [0, n) on up to `threads` workers (0 = default).
 * Items are handed out in contiguous chunks; fn must not depend on which
 * thread runs an item.  Returns the first non-OK status any call returned
 * (the others still run to completion), or DP_ENOMEM if threads could not be
 * started (then everything runs on the calling thread instead). */
typedef dp_status (*dp__task_fn)(void *ctx, int64_t i);
dp_status dp__parallel_for(int64_t n, int threads, dp__task_fn fn, void *ctx);

/* Resolved worker count: threads > 0 ? threads : dp_default_threads(). */
int dp__threads(int threads);

#ifdef __cplusplus
}
#endif
#endif
