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

#endif
