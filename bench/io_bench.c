#define _POSIX_C_SOURCE 200809L
/* Times the I/O path of the library alone, for bench_io.sh:
 *   io_bench IN.nii[.gz] OUTDIR THREADS RUNS
 * Prints one "name median_seconds cpu_seconds" line per case:
 *   read        dp_nifti_read with scaling applied (as the CLI reads)
 *   read+stats  read, then dp_volume_compute_stats (what `dcmprep info` does)
 *   stats       dp_volume_compute_stats of the loaded volume alone
 *   write-nii   dp_nifti_write of the loaded volume to OUTDIR/io.nii
 *   write-gz    the same to OUTDIR/io.nii.gz
 *   write-f32gz the volume converted to float32, to OUTDIR/io_f32.nii.gz
 * and "dtype NAME mapped 0|1 voxels N". */
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

static int fail(const char *what) {
  fprintf(stderr, "io_bench: %s: %s\n", what, dp_last_error());
  return 1;
}

enum { READ, READ_STATS, STATS, WRITE_NII, WRITE_GZ, WRITE_F32GZ, NCASES };
static const char *const names[NCASES] = {"read", "read+stats", "stats", "write-nii", "write-gz",
                                          "write-f32gz"};

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: io_bench IN OUTDIR THREADS RUNS\n");
    return 2;
  }
  const char *in = argv[1], *dir = argv[2];
  int threads = atoi(argv[3]), runs = atoi(argv[4]);
  if (runs < 1 || runs > 1000) runs = 5;
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1;
  ro.threads = threads;
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.threads = threads;
  char nii[4096], gz[4096], f32gz[4096];
  snprintf(nii, sizeof nii, "%s/io.nii", dir);
  snprintf(gz, sizeof gz, "%s/io.nii.gz", dir);
  snprintf(f32gz, sizeof f32gz, "%s/io_f32.nii.gz", dir);
  double *wall = calloc((size_t)NCASES * (size_t)runs, sizeof *wall);
  double *cpu = calloc((size_t)NCASES * (size_t)runs, sizeof *cpu);
  dp_volume *v = NULL, *f = NULL;
  if (dp_nifti_read(in, &ro, &v, NULL) != DP_OK) return fail(in);
  if (dp_volume_convert(v, DP_F32, &f) != DP_OK) return fail("convert");
  printf("dtype %s mapped %d voxels %lld\n", dp_dtype_name(v->dtype), dp_volume_is_mapped(v),
         (long long)dp_volume_nvox(v));
  dp_volume_free(v);
  for (int r = 0; r < runs; r++) {
    for (int c = 0; c < NCASES; c++) {
      dp_volume_stats st;
      double t0 = bench_now(), c0 = cpu_now();
      dp_status s = DP_OK;
      if (c == READ || c == READ_STATS) {
        s = dp_nifti_read(in, &ro, &v, NULL);
        if (s == DP_OK && c == READ_STATS) s = dp_volume_compute_stats(v, &st);
      } else if (c == STATS) {
        s = dp_volume_compute_stats(v, &st);
      } else if (c == WRITE_NII) {
        s = dp_nifti_write(v, nii, &wo);
      } else if (c == WRITE_GZ) {
        s = dp_nifti_write(v, gz, &wo);
      } else {
        s = dp_nifti_write(f, f32gz, &wo);
      }
      wall[c * runs + r] = bench_now() - t0;
      cpu[c * runs + r] = cpu_now() - c0;
      if (s != DP_OK) return fail(names[c]);
      if (c == READ) dp_volume_free(v); /* READ_STATS keeps it for the next cases */
    }
    dp_volume_free(v);
    v = NULL;
  }
  for (int c = 0; c < NCASES; c++)
    printf("%s %.6f %.6f\n", names[c], bench_median(wall + c * runs, runs),
           bench_median(cpu + c * runs, runs));
  dp_volume_free(f);
  free(wall);
  free(cpu);
  return 0;
}
