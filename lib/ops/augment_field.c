/* The displacement field of a chain's elastic step, in input voxel units. */
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/augment.h"
#include "dcmprep/elastic.h"

typedef struct {
  float *f;
  int64_t nvox, chunk;
  double m[3][3];
} rot_ctx;

/* The field is drawn in the voxels of the elastic step's grid; the steps
 * before it map those to input voxels through their linear part. */
static dp_status rotate_chunk(void *vctx, int64_t task) {
  rot_ctx *c = vctx;
  int64_t end = (task + 1) * c->chunk < c->nvox ? (task + 1) * c->chunk : c->nvox;
  for (int64_t v = task * c->chunk; v < end; v++) {
    double d[3];
    for (int a = 0; a < 3; a++) d[a] = c->f[a * c->nvox + v];
    for (int a = 0; a < 3; a++)
      c->f[a * c->nvox + v] = (float)(c->m[a][0] * d[0] + c->m[a][1] * d[1] + c->m[a][2] * d[2]);
  }
  return DP_OK;
}

dp_status dp_aug_field(const dp_aug_chain *c, int threads, float **field) {
  *field = NULL;
  if (!c->has_elastic) return DP_OK;
  float *f = NULL;
  dp_status s = dp_elastic_field(c->dim, c->elastic_alpha, c->elastic_sigma, c->elastic_seed, threads, &f);
  if (s != DP_OK) return s;
  int identity = 1;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) identity &= c->elastic_to_in[a][b] == (a == b);
  if (!identity) {
    rot_ctx r;
    r.f = f;
    r.nvox = c->dim[0] * c->dim[1] * c->dim[2];
    r.chunk = 1 << 16;
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) r.m[a][b] = c->elastic_to_in[a][b];
    s = dp__parallel_for((r.nvox + r.chunk - 1) / r.chunk, threads, rotate_chunk, &r);
  }
  if (s != DP_OK) {
    free(f);
    return s;
  }
  *field = f;
  return DP_OK;
}
