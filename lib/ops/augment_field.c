/* The displacement field of a chain's elastic step, in input voxel units:
 * whole (dp_aug_field) or one output row at a time for the warp engine
 * (dp__aug_rows_*), the same values either way. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/augment.h"
#include "dcmprep/elastic.h"
#include "ops/augment_internal.h"

dp_status dp__aug_rows_make(const dp_aug_chain *c, int threads, dp__aug_rows *r) {
  memset(r, 0, sizeof *r);
  r->identity = 1;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      r->m[a][b] = c->elastic_to_in[a][b];
      r->identity &= c->elastic_to_in[a][b] == (a == b);
    }
  return dp__elastic_coarse_make(c->dim, c->elastic_alpha, c->elastic_sigma, c->elastic_seed, threads,
                                 &r->ec);
}

void dp__aug_rows_free(dp__aug_rows *r) {
  if (r) dp__elastic_coarse_free(&r->ec);
}

/* The field is drawn in the voxels of the elastic step's grid; the steps
 * before it map those to input voxels through their linear part. */
void dp__aug_rows_fn(void *ctx, int64_t j, int64_t k, float *rows) {
  const dp__aug_rows *r = ctx;
  int64_t n0 = r->ec.n[0];
  dp__elastic_coarse_row(&r->ec, j, k, rows);
  if (r->identity) return;
  for (int64_t i = 0; i < n0; i++) {
    double d[3];
    for (int a = 0; a < 3; a++) d[a] = rows[a * n0 + i];
    for (int a = 0; a < 3; a++)
      rows[a * n0 + i] = (float)(r->m[a][0] * d[0] + r->m[a][1] * d[1] + r->m[a][2] * d[2]);
  }
}

dp_status dp_aug_field(const dp_aug_chain *c, int threads, float **field) {
  *field = NULL;
  if (!c->has_elastic) return DP_OK;
  dp__aug_rows r;
  dp_status s = dp__aug_rows_make(c, threads, &r);
  if (s != DP_OK) return s;
  int64_t plane = c->dim[0] * c->dim[1] * c->dim[2];
  float *f = dp__alloc_data((size_t)plane * 3 * sizeof *f, 0);
  if (!f) s = dp__error(DP_ENOMEM, "out of memory");
  dp__field_rows rows = {dp__aug_rows_fn, &r};
  if (s == DP_OK) s = dp__field_rows_fill(&rows, c->dim, threads, f);
  dp__aug_rows_free(&r);
  if (s != DP_OK) {
    free(f);
    return s;
  }
  *field = f;
  return DP_OK;
}

/* One warp through the chain: with a whole field, rows made as needed, or
 * neither. */
static dp_status chain_warp(const dp_aug_chain *c, const dp_volume *in, const float *field,
                            const dp__aug_rows *r, const dp_warp_opts *opts, dp_volume **out) {
  if (out) *out = NULL;
  if (!c || !in || !out) return dp__error(DP_EINVAL, "dp_aug_apply: missing argument");
  for (int d = 0; d < 3; d++)
    if (in->dim[d] != c->in_dim[d])
      return dp__error(DP_EINVAL, "dp_aug_apply: the volume is not on the chain's input grid");
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (opts) o = *opts;
  o.displacement = field;
  dp__field_rows rows = {dp__aug_rows_fn, (void *)r};
  return dp__warp_rows(in, c->dim, &c->affine, &c->out_to_in, &o, r ? &rows : NULL, out);
}

dp_status dp_aug_apply(const dp_aug_chain *c, const dp_volume *in, const float *field,
                       const dp_warp_opts *opts, dp_volume **out) {
  return chain_warp(c, in, field, NULL, opts, out);
}

dp_status dp__aug_apply_rows(const dp_aug_chain *c, const dp_volume *in, const dp__aug_rows *r,
                             const dp_warp_opts *opts, dp_volume **out) {
  return chain_warp(c, in, NULL, r, opts, out);
}
