#define _POSIX_C_SOURCE 200809L
/* Times the fused spatial augmentation alone (no file I/O), for
 * bench_augment.sh: augment_bench IN.nii THREADS RUNS
 * composes rotate (10, -7, 15 degrees about x, y, z) + zoom 1.1 + shift
 * (5, -3, 2) voxels into one chain, applies it with linear interpolation
 * (one dp_warp), and prints "seconds <median>" and the chain's voxel
 * mapping as "matrix m00 m01 ... m23" (3 x 4, row-major) for the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"
#include "dcmprep/dcmprep.h"

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: augment_bench IN.nii THREADS RUNS\n");
    return 2;
  }
  dp_volume *in = NULL;
  if (dp_nifti_read(argv[1], NULL, &in, NULL) != DP_OK) {
    fprintf(stderr, "augment_bench: %s\n", dp_last_error());
    return 1;
  }
  int threads = atoi(argv[2]), runs = atoi(argv[3]);
  double *t = calloc((size_t)runs, sizeof *t);
  dp_aug_chain c;
  dp_volume *out = NULL;
  for (int r = 0; r < runs; r++) {
    dp_volume_free(out);
    out = NULL;
    double t0 = bench_now();
    const double deg[3] = {10, -7, 15}, zoom[3] = {1.1, 1.1, 1.1}, shift[3] = {5, -3, 2};
    dp_aug_chain_init(&c, in);
    dp_warp_opts w = DP_WARP_OPTS_INIT;
    w.threads = threads;
    w.fill = DP_FILL_CONSTANT;
    if (dp_aug_rotate(&c, deg) != DP_OK || dp_aug_zoom(&c, zoom) != DP_OK ||
        dp_aug_shift(&c, shift) != DP_OK || dp_aug_apply(&c, in, NULL, &w, &out) != DP_OK) {
      fprintf(stderr, "augment_bench: %s\n", dp_last_error());
      return 1;
    }
    t[r] = bench_now() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, bench_cmp);
  printf("seconds %.6f matrix", t[runs / 2]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) printf(" %.17g", c.out_to_in.m[i][j]);
  printf("\n");
  dp_volume_free(out);
  dp_volume_free(in);
  free(t);
  return 0;
}
