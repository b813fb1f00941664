#define _POSIX_C_SOURCE 200809L
/* Times the library's elastic deformation alone (no file I/O), for
 * bench_elastic.sh: elastic_bench IN.nii ALPHA SIGMA INTERP THREADS RUNS
 * The input is converted to float32 first (as the reference does).  Prints
 * "field <median s> smooth <median s> elastic <median s> maxrss_kib <n>":
 * the displacement field alone, its smoothing alone (dp_gaussian_recursive
 * of the 3 planes) and the whole deformation (field + dp_warp, fill 0.1 as
 * the reference), medians over RUNS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "dcmprep/dcmprep.h"

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, bench_cmp);
  return t[n / 2];
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: elastic_bench IN.nii ALPHA SIGMA INTERP THREADS RUNS\n");
    return 2;
  }
  dp_volume *raw = NULL, *in = NULL;
  if (dp_nifti_read(argv[1], NULL, &raw, NULL) != DP_OK || dp_volume_convert(raw, DP_F32, &in) != DP_OK) {
    fprintf(stderr, "elastic_bench: %s\n", dp_last_error());
    return 1;
  }
  dp_volume_free(raw);
  double a = atof(argv[2]), sg = atof(argv[3]);
  double alpha[3] = {a, a, a}, sigma[3] = {sg, sg, sg};
  dp_warp_opts o = DP_WARP_OPTS_INIT;
  if (dp_interp_parse(argv[4], &o.interp) != DP_OK) return 2;
  o.fill = DP_FILL_CONSTANT;
  o.fill_value = 0.1;
  o.threads = atoi(argv[5]);
  int runs = atoi(argv[6]);
  double *tf = calloc((size_t)runs, sizeof *tf), *ts = calloc((size_t)runs, sizeof *ts);
  double *te = calloc((size_t)runs, sizeof *te);
  int64_t d4[4] = {in->dim[0], in->dim[1], in->dim[2], 3};
  for (int r = 0; r < runs; r++) {
    float *field = NULL;
    double t0 = bench_now();
    if (dp_elastic_field(in->dim, alpha, sigma, (uint64_t)r, o.threads, &field) != DP_OK) goto err;
    tf[r] = bench_now() - t0;
    t0 = bench_now();
    if (dp_gaussian_recursive(field, d4, sigma, o.threads) != DP_OK) goto err;
    ts[r] = bench_now() - t0;
    free(field);
  }
  /* the peak of the deformation itself: reading the input is not timed */
  FILE *cr = fopen("/proc/self/clear_refs", "w");
  if (cr) {
    fputs("5", cr);
    fclose(cr);
  }
  for (int r = 0; r < runs; r++) {
    dp_volume *out = NULL;
    double t0 = bench_now();
    if (dp_elastic(in, alpha, sigma, (uint64_t)r, &o, &out) != DP_OK) goto err;
    te[r] = bench_now() - t0;
    dp_volume_free(out);
  }
  long hwm = -1;
  char line[256];
  FILE *st = fopen("/proc/self/status", "r");
  while (st && fgets(line, sizeof line, st))
    if (strncmp(line, "VmHWM:", 6) == 0) hwm = atol(line + 6);
  if (st) fclose(st);
  printf("field %.4f smooth %.4f elastic %.4f maxrss_kib %ld\n", median(tf, runs), median(ts, runs),
         median(te, runs), hwm);
  dp_volume_free(in);
  free(tf);
  free(ts);
  free(te);
  return 0;
err:
  fprintf(stderr, "elastic_bench: %s\n", dp_last_error());
  return 1;
}
