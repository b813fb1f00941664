/* libFuzzer harness: the DICOM path on one file of arbitrary bytes - header
 * reading (DCMTK bridge, CSA/mosaic parsing), grouping and geometry, and
 * loading (pixel decoding, rescale, restacking).  Any input must give
 * volumes or an error, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcmprep/dcmprep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[64], path[96];
  snprintf(dir, sizeof dir, "/tmp/dp-fuzz-dicom-%d", (int)getpid());
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/IM0001.dcm", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  const char *paths[1] = {dir};
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = 1;
  dp_dicom_set *set = NULL;
  if (dp_dicom_scan(paths, 1, &so, &set) == DP_OK) {
    for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
      const dp_series_info *si = dp_dicom_set_series(set, i);
      /* stay small: the fuzzer's memory limit is not the loader's business */
      if ((double)si->dim[0] * (double)si->dim[1] * (double)si->dim[2] * (double)si->dim[3] > 4e6) continue;
      dp_dicom_load_opts lo = DP_DICOM_LOAD_OPTS_INIT;
      lo.threads = 1;
      lo.nominal_geometry = 1;
      dp_volume **vols = NULL;
      int nv = 0;
      if (dp_dicom_load(set, i, &lo, &vols, &nv) == DP_OK) {
        for (int k = 0; k < nv; k++) dp_volume_free(vols[k]);
        free(vols);
      }
    }
    dp_dicom_set_free(set);
  }
  unlink(path);
  rmdir(dir);
  return 0;
}
