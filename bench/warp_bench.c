#define _POSIX_C_SOURCE 200809L
/* Times the library's resampling step alone (no file I/O), for
 * bench_resample.sh: warp_bench IN.nii SX,SY,SZ INTERP THREADS RUNS [aa]
 * prints "seconds <median> shape <i> <j> <k> maxrss_kib <n>", the peak resident
 * memory while resampling (input included, the reading of it excluded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "dcmprep/dcmprep.h"

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: warp_bench IN.nii SX,SY,SZ INTERP THREADS RUNS [aa]\n");
    return 2;
  }
  dp_volume *in = NULL;
  if (dp_nifti_read(argv[1], NULL, &in, NULL) != DP_OK) {
    fprintf(stderr, "warp_bench: %s\n", dp_last_error());
    return 1;
  }
  dp_resample_opts o = DP_RESAMPLE_OPTS_INIT;
  if (sscanf(argv[2], "%lf,%lf,%lf", &o.spacing[0], &o.spacing[1], &o.spacing[2]) != 3) return 2;
  if (dp_interp_parse(argv[3], &o.interp) != DP_OK) return 2;
  o.threads = atoi(argv[4]);
  o.antialias = argc > 6 && strcmp(argv[6], "aa") == 0;
  int runs = atoi(argv[5]);
  /* the peak from here on: reading the input is not the step being timed */
  FILE *cr = fopen("/proc/self/clear_refs", "w");
  if (cr) {
    fputs("5", cr);
    fclose(cr);
  }
  double *t = calloc((size_t)runs, sizeof *t);
  dp_volume *out = NULL;
  for (int r = 0; r < runs; r++) {
    dp_volume_free(out);
    out = NULL;
    double t0 = bench_now();
    if (dp_resample(in, &o, &out) != DP_OK) {
      fprintf(stderr, "warp_bench: %s\n", dp_last_error());
      return 1;
    }
    t[r] = bench_now() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, bench_cmp);
  long hwm = -1;
  char line[256];
  FILE *st = fopen("/proc/self/status", "r");
  while (st && fgets(line, sizeof line, st))
    if (strncmp(line, "VmHWM:", 6) == 0) hwm = atol(line + 6);
  if (st) fclose(st);
  printf("seconds %.6f shape %lld %lld %lld maxrss_kib %ld\n", t[runs / 2], (long long)out->dim[0],
         (long long)out->dim[1], (long long)out->dim[2], hwm);
  dp_volume_free(out);
  dp_volume_free(in);
  free(t);
  return 0;
}
