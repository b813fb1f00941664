/* A program outside the project, built against the installed package: it
 * creates a volume, writes it as .nii.gz and reads it back. */
#include <dcmprep/dcmprep.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int64_t dim[4] = {4, 3, 2, 1};
  dp_mat4 a = dp_mat4_identity();
  a.m[0][0] = -0.5;
  dp_volume *v = NULL, *back = NULL;
  if (dp_volume_new(dim, DP_I16, &a, &v) != DP_OK) return 1;
  for (int i = 0; i < 24; i++) ((int16_t *)v->data)[i] = (int16_t)(i * 100 - 1000);
  if (dp_nifti_write(v, argv[1], NULL) != DP_OK || dp_nifti_read(argv[1], NULL, &back, NULL) != DP_OK) {
    fprintf(stderr, "consumer: %s\n", dp_last_error());
    return 1;
  }
  char code[4];
  dp_volume_axcodes(back, code);
  int same = back->dtype == DP_I16 && memcmp(back->data, v->data, 48) == 0;
  printf("dcmprep %s: %s %s\n", dp_version(), code, same ? "round trip ok" : "MISMATCH");
  dp_volume_free(v);
  dp_volume_free(back);
  return same && strcmp(code, "LAS") == 0 ? 0 : 1;
}
