#define _POSIX_C_SOURCE 200809L
/* Times one intensity step of the library alone (no file I/O), for
 * bench_intensity.sh: intensity_bench IN.nii OP THREADS RUNS [f32]
 * OP: pclip (percentiles 0.5/99.5 of all voxels, then clip), zscore (mask
 * nonzero), window-unit, window-u8, window-hu (C 40, W 400).  With f32 the
 * input is converted to float32 first (as the numpy reference does).
 * Prints "seconds <median> voxels <n> cpu <median>": wall time, and the
 * process's CPU time (user + system, all threads) over the same calls, which
 * other load on the machine inflates much less than the wall time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "dcmprep/dcmprep.h"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static dp_status step(const char *op, const dp_volume *in, int threads, dp_volume **out) {
  if (!strcmp(op, "pclip")) {
    static const double q[2] = {0.5, 99.5};
    double v[2];
    dp_status s = dp_percentiles(&in, NULL, 1, q, 2, threads, v, NULL);
    if (s != DP_OK) return s;
    dp_clip_opts c = DP_CLIP_OPTS_INIT;
    c.lo = v[0];
    c.hi = v[1];
    c.threads = threads;
    return dp_clip(in, &c, out);
  }
  if (!strcmp(op, "zscore")) {
    dp_normalize_opts o = DP_NORMALIZE_OPTS_INIT;
    o.threads = threads;
    return dp_normalize(in, &o, out, NULL);
  }
  dp_window_opts w = DP_WINDOW_OPTS_INIT;
  w.threads = threads;
  if (!strcmp(op, "window-u8")) w.out = DP_WINDOW_U8;
  else if (!strcmp(op, "window-hu")) w.out = DP_WINDOW_HU;
  else if (strcmp(op, "window-unit")) return DP_EINVAL;
  return dp_window(in, &w, out);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: intensity_bench IN.nii OP THREADS RUNS [f32]\n");
    return 2;
  }
  dp_volume *in = NULL;
  if (dp_nifti_read(argv[1], NULL, &in, NULL) != DP_OK) {
    fprintf(stderr, "intensity_bench: %s\n", dp_last_error());
    return 1;
  }
  if (argc > 5 && !strcmp(argv[5], "f32")) {
    dp_volume *f = NULL;
    if (dp_volume_convert(in, DP_F32, &f) != DP_OK) return 1;
    dp_volume_free(in);
    in = f;
  }
  int threads = atoi(argv[3]), runs = atoi(argv[4]);
  double *t = calloc((size_t)runs, sizeof *t), *cpu = calloc((size_t)runs, sizeof *cpu);
  for (int r = 0; r < runs; r++) {
    dp_volume *out = NULL;
    double t0 = bench_now(), c0 = cpu_now();
    if (step(argv[2], in, threads, &out) != DP_OK) {
      fprintf(stderr, "intensity_bench: %s: %s\n", argv[2], dp_last_error());
      return 1;
    }
    t[r] = bench_now() - t0;
    cpu[r] = cpu_now() - c0;
    dp_volume_free(out);
  }
  printf("seconds %.6f voxels %lld cpu %.6f\n", bench_median(t, runs), (long long)dp_volume_nvox(in),
         bench_median(cpu, runs));
  dp_volume_free(in);
  free(t);
  free(cpu);
  return 0;
}
