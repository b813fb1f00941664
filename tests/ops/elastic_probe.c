/* Test helper for elastic.py:
 *   elastic_probe gauss IN.nii OUT.nii SX SY SZ THREADS
 *       dp_gaussian_recursive of IN (converted to float32), written as float32;
 *   elastic_probe field OUT.nii NOISE.nii|- NI NJ NK AX AY AZ SX SY SZ SEED THREADS
 *       dp_elastic_field as a 4-D float32 volume (t = i, j, k displacement)
 *       and, unless "-", the noise dp_elastic_noise in the same layout;
 *   elastic_probe warp IN.nii OUT.nii AX AY AZ SX SY SZ SEED INTERP THREADS
 *       dp_elastic with fill constant 0, the input's type (float32 for float). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcmprep/dcmprep.h"

static int fail(void) {
  fprintf(stderr, "elastic_probe: %s\n", dp_last_error());
  return 1;
}

static void read3(char **argv, double v[3]) {
  for (int a = 0; a < 3; a++) v[a] = atof(argv[a]);
}

static int gauss(char **argv) {
  dp_volume *in = NULL, *v = NULL;
  double sigma[3];
  read3(argv + 2, sigma);
  if (dp_nifti_read(argv[0], NULL, &in, NULL) != DP_OK) return fail();
  dp_status s = dp_volume_convert(in, DP_F32, &v);
  if (s == DP_OK) s = dp_gaussian_recursive(v->data, v->dim, sigma, atoi(argv[5]));
  if (s == DP_OK) s = dp_nifti_write(v, argv[1], NULL);
  dp_volume_free(in);
  dp_volume_free(v);
  return s == DP_OK ? 0 : fail();
}

static int field(char **argv) {
  int64_t dim[4] = {atoll(argv[2]), atoll(argv[3]), atoll(argv[4]), 3};
  double alpha[3], sigma[3];
  read3(argv + 5, alpha);
  read3(argv + 8, sigma);
  uint64_t seed = strtoull(argv[11], NULL, 10);
  float *f = NULL;
  dp_volume *v = NULL;
  dp_status s = dp_elastic_field(dim, alpha, sigma, seed, atoi(argv[12]), &f);
  if (s == DP_OK) s = dp_volume_new(dim, DP_F32, NULL, &v);
  int64_t nvox = dim[0] * dim[1] * dim[2];
  if (s == DP_OK) {
    memcpy(v->data, f, (size_t)nvox * 3 * sizeof(float));
    s = dp_nifti_write(v, argv[0], NULL);
  }
  if (s == DP_OK && strcmp(argv[1], "-") != 0) {
    float *n = v->data;
    for (int a = 0; a < 3; a++)
      for (int64_t i = 0; i < nvox; i++) n[a * nvox + i] = (float)dp_elastic_noise(seed, a, i);
    s = dp_nifti_write(v, argv[1], NULL);
  }
  free(f);
  dp_volume_free(v);
  return s == DP_OK ? 0 : fail();
}

static int warp(char **argv) {
  dp_volume *in = NULL, *out = NULL;
  double alpha[3], sigma[3];
  read3(argv + 2, alpha);
  read3(argv + 5, sigma);
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (dp_interp_parse(argv[9], &o.interp) != DP_OK) return fail();
  o.threads = atoi(argv[10]);
  if (dp_nifti_read(argv[0], NULL, &in, NULL) != DP_OK) return fail();
  dp_status s = dp_elastic(in, alpha, sigma, strtoull(argv[8], NULL, 10), &o, &out);
  if (s == DP_OK) s = dp_nifti_write(out, argv[1], NULL);
  dp_volume_free(in);
  dp_volume_free(out);
  return s == DP_OK ? 0 : fail();
}

int main(int argc, char **argv) {
  if (argc == 8 && strcmp(argv[1], "gauss") == 0) return gauss(argv + 2);
  if (argc == 15 && strcmp(argv[1], "field") == 0) return field(argv + 2);
  if (argc == 13 && strcmp(argv[1], "warp") == 0) return warp(argv + 2);
  fprintf(stderr,
          "usage: elastic_probe gauss IN OUT SX SY SZ THREADS\n"
          "       elastic_probe field OUT NOISE|- NI NJ NK AX AY AZ SX SY SZ SEED THREADS\n"
          "       elastic_probe warp IN OUT AX AY AZ SX SY SZ SEED INTERP THREADS\n");
  return 2;
}
