/* libFuzzer harness: RTSTRUCT and SEG objects of arbitrary bytes - the scan's
 * header reading and matching, the full reading (contour text, SEG frames
 * and pixel decoding: native bits, RLE, deflate, JPEG 2000), and drawing on
 * a small grid in every layout.  Any input must give labels or an error,
 * never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcmprep/dcmprep.h"

static void draw(const dp_label_object *obj, const dp_volume *grid) {
  static const dp_label_layout layouts[] = {DP_LABELS_MULTI, DP_LABELS_ONEHOT, DP_LABELS_SEPARATE};
  for (int l = 0; l < 3; l++) {
    dp_label_opts lo = DP_LABEL_OPTS_INIT;
    lo.layout = layouts[l];
    lo.threads = 1;
    dp_volume **out = NULL;
    int n = 0;
    if (dp_label_rasterize(obj, grid, &lo, &out, &n) == DP_OK) {
      for (int i = 0; i < n; i++) dp_volume_free(out[i]);
      free(out);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[64], path[96];
  snprintf(dir, sizeof dir, "/tmp/dp-fuzz-labels-%d", (int)getpid());
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/label.dcm", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  const char *paths[1] = {dir};
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = 1;
  dp_dicom_set *set = NULL;
  if (dp_dicom_scan(paths, 1, &so, &set) == DP_OK) dp_dicom_set_free(set);
  dp_label_object *obj = NULL;
  if (dp_label_read(path, &obj) == DP_OK) {
    /* a 24 x 20 x 6 grid, 1 mm, around the origin (the synthetic seeds' field of view) */
    dp_mat4 a = dp_mat4_identity();
    a.m[0][3] = -12;
    a.m[1][3] = -10;
    a.m[2][3] = -5;
    a.m[2][2] = 2;
    int64_t dim[4] = {24, 20, 6, 1};
    dp_volume *grid = NULL;
    if (dp_volume_new(dim, DP_U8, &a, &grid) == DP_OK) {
      draw(obj, grid); /* no frame of reference on the grid: not checked */
      dp_volume_free(grid);
    }
    const dp_label_info *in = dp_label_object_info(obj);
    dp_volume *own = NULL;
    if (in->kind == DP_LABEL_SEG && (double)in->rows * in->cols < 65536 &&
        dp_label_seg_grid(obj, &own) == DP_OK) {
      if (dp_volume_nvox(own) < 4000000) draw(obj, own);
      dp_volume_free(own);
    }
    dp_label_free(obj);
  }
  unlink(path);
  rmdir(dir);
  return 0;
}
