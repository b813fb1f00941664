/* A chain's elastic field made row by row for the warp engine (the rows of
 * dp_aug_field, bit for bit, without the whole field in memory).
 * Internal (dp__ prefix). */
#ifndef DCMPREP_OPS_AUGMENT_INTERNAL_H
#define DCMPREP_OPS_AUGMENT_INTERNAL_H

#include "dcmprep/augment.h"
#include "ops/elastic_internal.h"
#include "ops/warp_internal.h"

typedef struct {
  dp__elastic_coarse ec; /* on the chain's output grid */
  double m[3][3];        /* elastic grid voxels -> input voxels (linear part) */
  int identity;
} dp__aug_rows;

/* For a chain with an elastic step (c->has_elastic). */
dp_status dp__aug_rows_make(const dp_aug_chain *c, int threads, dp__aug_rows *r);
void dp__aug_rows_free(dp__aug_rows *r);

/* dp__field_row_fn over a dp__aug_rows. */
void dp__aug_rows_fn(void *ctx, int64_t j, int64_t k, float *rows);

/* dp_aug_apply with the field from r (NULL: none). */
dp_status dp__aug_apply_rows(const dp_aug_chain *c, const dp_volume *in, const dp__aug_rows *r,
                             const dp_warp_opts *opts, dp_volume **out);

#endif
