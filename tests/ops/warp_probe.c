/* Test helper: warp_probe IN.nii OUT.nii NI NJ NK INTERP FILL FILLVALUE THREADS
 * M00 M01 ... M23 (12 numbers: the top rows of the output-to-input voxel
 * mapping).  The output affine is in's affine times the mapping. */
#include <stdio.h>
#include <stdlib.h>

#include "dcmprep/dcmprep.h"
#include "dcmprep/warp.h"

int main(int argc, char **argv) {
  if (argc != 10 + 12) {
    fprintf(stderr, "usage: warp_probe IN OUT NI NJ NK INTERP FILL FILLVALUE THREADS M(12)\n");
    return 2;
  }
  dp_volume *in = NULL, *out = NULL;
  if (dp_nifti_read(argv[1], NULL, &in, NULL) != DP_OK) {
    fprintf(stderr, "warp_probe: %s\n", dp_last_error());
    return 1;
  }
  int64_t dim[3] = {atoll(argv[3]), atoll(argv[4]), atoll(argv[5])};
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (dp_interp_parse(argv[6], &o.interp) != DP_OK) return 2;
  o.fill = (dp_fill)atoi(argv[7]);
  o.fill_value = atof(argv[8]);
  o.threads = atoi(argv[9]);
  o.dtype = DP_F64;
  if (o.interp == DP_INTERP_NEAREST || o.interp == DP_INTERP_ONEHOT) o.dtype = DP_DTYPE_NONE;
  dp_mat4 m = dp_mat4_identity();
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++) m.m[r][c] = atof(argv[10 + r * 4 + c]);
  dp_mat4 aff = dp_mat4_mul(in->ijk_to_ras, m);
  dp_status s = dp_warp(in, dim, &aff, &m, &o, &out);
  if (s == DP_OK) s = dp_nifti_write(out, argv[2], NULL);
  if (s != DP_OK) fprintf(stderr, "warp_probe: %s\n", dp_last_error());
  dp_volume_free(in);
  dp_volume_free(out);
  return s == DP_OK ? 0 : 1;
}
