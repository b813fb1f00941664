/* Internals shared by the intensity operations (dp__ prefix, not exported). */
#ifndef DCMPREP_OPS_INTENSITY_INTERNAL_H
#define DCMPREP_OPS_INTENSITY_INTERNAL_H

#include <stdint.h>
#include "dcmprep/intensity.h"

/* Voxels per mask buffer (a small chunk kept in L1/L2 while it is used). */
enum { DP__MASK_CHUNK = 16384 };

/* Checks that a mask can be applied to v (label present and of a size that
 * matches v).  Returns DP_OK or DP_EINVAL with a message. */
dp_status dp__mask_check(const dp_volume *v, const dp_mask *mask);

/* Fills m[0..n) with 1 for the voxels [start, start + n) of v inside mask
 * (finite values only) and returns m, or returns NULL when every voxel of
 * that range is inside (mask all on an integer type): callers then skip the
 * test.  n <= DP__MASK_CHUNK. */
const uint8_t *dp__mask_chunk(const dp_volume *v, const dp_mask *mask, int64_t start, int64_t n,
                              uint8_t *m);

/* Splits n voxels into at most `threads` contiguous blocks of at least
 * `min_block` voxels; returns the block count (>= 1 when n > 0). */
int64_t dp__nblocks(int64_t n, int threads, int64_t min_block);

/* dp_clip on v's own buffer (same result as dp_clip; v's type is kept),
 * for a caller that owns v and would free it next: no second volume. */
dp_status dp__clip_in_place(dp_volume *v, const dp_clip_opts *opts);

/* A voxel-wise operation settled but not run yet (window, clip, normalize
 * with their parameters and, for normalize, the statistics already
 * computed): dp_window, dp_clip and dp_normalize are a plan run over the
 * whole volume.  Running a part at a time (dp__ew_plan_range) gives the
 * same values, for a caller that streams the output (dp_pipeline_write).
 * A plan reads its input volume, which must outlive it; free it with
 * dp__ew_plan_free (accepts NULL). */
typedef struct dp__ew_plan dp__ew_plan;
dp_status dp__window_plan(const dp_volume *in, const dp_window_opts *opts, dp__ew_plan **out);
dp_status dp__clip_plan(const dp_volume *in, const dp_clip_opts *opts, dp__ew_plan **out);
dp_status dp__normalize_plan(const dp_volume *in, const dp_normalize_opts *opts, dp__ew_plan **out,
                             dp_masked_stats *used);
dp_dtype dp__ew_plan_dtype(const dp__ew_plan *p);
/* The outputs of voxels [start, start + n) of the input, written at dst. */
void dp__ew_plan_range(const dp__ew_plan *p, int64_t start, int64_t n, void *dst);
/* All voxels into a new volume on the input's grid (metadata copied). */
dp_status dp__ew_plan_apply(const dp__ew_plan *p, int threads, dp_volume **out);
/* All voxels into v itself: v must be the plan's input and of the output type. */
dp_status dp__ew_plan_apply_in_place(const dp__ew_plan *p, dp_volume *v, int threads);
void dp__ew_plan_free(dp__ew_plan *p);

#endif
