/* The elastic field on its coarse grid (elastic.c), interpolated back to
 * full resolution one row at a time: what dp_elastic_field writes whole,
 * for callers that want the rows only as they need them (the warp engine,
 * dp__warp_rows), so that the 12 bytes per voxel of the whole field never
 * exist at once.  Internal (dp__ prefix). */
#ifndef DCMPREP_OPS_ELASTIC_INTERNAL_H
#define DCMPREP_OPS_ELASTIC_INTERNAL_H

#include <stdint.h>
#include "dcmprep/status.h"

/* The longest kept row for which the grid is also kept coarsely along j
 * and k. */
#define DP__ELASTIC_ROW_MAX 4096

typedef struct {
  int64_t n[3];   /* the field's grid */
  int64_t h, mc;  /* every h-th voxel along i is kept: mc per row (h 1: all) */
  int64_t hj, mj; /* every hj-th row along j is kept: mj per slice (hj 1: all) */
  int64_t hk, mk; /* every hk-th slice along k is kept: mk (hk 1: all) */
  float *grid;    /* 3 planes of mc x mj x mk, smoothed along every axis */
  float *w;       /* Catmull-Rom weights, 4 per phase i % h, then wj, wk */
  float *wj;      /* 4 per phase j % hj (inside w) */
  float *wk;      /* 4 per phase k % hk (inside w) */
  int zero;       /* alpha 0: the field is 0, grid NULL */
} dp__elastic_coarse;

/* The coarse field of dp_elastic_field's arguments (same checks and
 * errors).  Memory: 12 bytes per voxel divided by h hj hk (h = floor(sigma_i
 * / 4) when sigma_i >= 8, else 1; hj and hk the same of sigma_j and sigma_k,
 * when a kept row has at most DP__ELASTIC_ROW_MAX samples), and while it is
 * made 12 / (h hj) bytes per voxel.  Free with dp__elastic_coarse_free. */
dp_status dp__elastic_coarse_make(const int64_t dim[3], const double alpha[3], const double sigma[3],
                                  uint64_t seed, int threads, dp__elastic_coarse *ec);
void dp__elastic_coarse_free(dp__elastic_coarse *ec);

/* Row (j, k) of the field: rows[a * n[0] + i] for axes a = 0..2, the same
 * bits as dp_elastic_field's planes.  Thread-safe (reads ec only). */
void dp__elastic_coarse_row(const dp__elastic_coarse *ec, int64_t j, int64_t k, float *rows);

#endif
