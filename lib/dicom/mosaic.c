#include "dicom/mosaic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

dp_status dp__mosaic_expand(const dp__slice *m, const double *slice_normal, dp__slice **out,
                            int *n) {
  *out = NULL;
  *n = 0;
  int count = m->mosaic;
  if (count < 2 || count > 4096) return dp__error(DP_EFORMAT, "NumberOfImagesInMosaic %d", count);
  int across = (int)ceil(sqrt((double)count));
  if (m->cols % across || m->rows % across)
    return dp__error(DP_EFORMAT, "mosaic of %d images: %d x %d pixels do not divide into %d x %d tiles",
                     count, m->cols, m->rows, across, across);
  double step = m->between > 0 ? m->between : m->thickness;
  if (!(step > 0) || !isfinite(step))
    return dp__error(DP_EFORMAT, "mosaic without SpacingBetweenSlices or SliceThickness");
  int w = m->cols / across, h = m->rows / across;
  const double *r = m->iop, *c = m->iop + 3;
  double nrm[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  double len = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
  dp__slice *arr = calloc((size_t)count, sizeof *arr);
  if (!arr) return dp__error(DP_ENOMEM, "out of memory");
  if (len > 1e-6)
    for (int i = 0; i < 3; i++) nrm[i] /= len;
  if (slice_normal &&
      slice_normal[0] * nrm[0] + slice_normal[1] * nrm[1] + slice_normal[2] * nrm[2] < 0)
    for (int i = 0; i < 3; i++) nrm[i] = -nrm[i];
  double corner[3];
  for (int i = 0; i < 3; i++)
    corner[i] = m->ipp[i] + r[i] * m->spacing[1] * (m->cols - w) / 2.0 +
                c[i] * m->spacing[0] * (m->rows - h) / 2.0;
  for (int k = 0; k < count; k++) {
    dp__slice *t = &arr[k];
    *t = *m;
    t->rows = h;
    t->cols = w;
    t->mosaic_rows = m->rows;
    t->mosaic_cols = m->cols;
    t->mosaic_tile = k;
    for (int i = 0; i < 3; i++) t->ipp[i] = corner[i] + k * step * nrm[i];
    t->path = strdup(m->path);
    if (!t->path) {
      for (int j = 0; j < k; j++) free(arr[j].path);
      free(arr);
      return dp__error(DP_ENOMEM, "out of memory");
    }
  }
  *out = arr;
  *n = count;
  return DP_OK;
}
