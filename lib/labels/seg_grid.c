/* dp_label_seg_grid: a SEG's own grid, for a SEG without its image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "labels/model.h"

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

dp_status dp_label_seg_grid(const dp_label_object *obj, dp_volume **out) {
  *out = NULL;
  if (!obj || obj->info.kind != DP_LABEL_SEG || obj->nframes < 1)
    return dp__error(DP_EINVAL, "%s: not a SEG with frames", obj ? obj->path : "(null)");
  const dp__seg_frame *f0 = &obj->frames[0];
  const double *r = f0->row_dir, *c = f0->col_dir;
  double n[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  double lo = INFINITY, hi = -INFINITY, step = obj->slice_spacing;
  double *w = malloc((size_t)obj->nframes * sizeof *w);
  if (!w) return dp__error(DP_ENOMEM, "out of memory");
  for (int f = 0; f < obj->nframes; f++) {
    const dp__seg_frame *fr = &obj->frames[f];
    for (int i = 0; i < 3; i++)
      if (fabs(fr->row_dir[i] - r[i]) > 1e-4 || fabs(fr->col_dir[i] - c[i]) > 1e-4) {
        free(w);
        return dp__error(DP_EGEOMETRY, "%s: frames 1 and %d differ in orientation: no single grid", obj->path, f + 1);
      }
    w[f] = dot(fr->origin, n);
    lo = w[f] < lo ? w[f] : lo;
    hi = w[f] > hi ? w[f] : hi;
  }
  if (!(step > 0)) { /* the smallest step between distinct planes */
    step = INFINITY;
    for (int a = 0; a < obj->nframes && obj->nframes <= 20000; a++)
      for (int b = a + 1; b < obj->nframes; b++) {
        double d = fabs(w[a] - w[b]);
        if (d > 1e-3 && d < step) step = d;
      }
    if (!isfinite(step)) step = obj->thickness > 0 ? obj->thickness : 1;
  }
  free(w);
  double nz = floor((hi - lo) / step + 0.5) + 1;
  if (nz > 65535) return dp__error(DP_ELIMIT, "%s: frames span %.0f slices of %g mm", obj->path, nz, step);
  /* origin: the first frame's pixel (0, 0) moved along the normal to the lowest plane */
  double o[3];
  double d0 = dot(f0->origin, n) - lo;
  for (int i = 0; i < 3; i++) o[i] = f0->origin[i] - d0 * n[i];
  dp_mat4 a = dp_mat4_identity();
  for (int i = 0; i < 3; i++) {
    a.m[i][0] = r[i] * f0->spacing[1];
    a.m[i][1] = c[i] * f0->spacing[0];
    a.m[i][2] = n[i] * step;
    a.m[i][3] = o[i];
  }
  int64_t dim[4] = {obj->info.cols, obj->info.rows, (int64_t)nz, 1};
  dp_status s = dp_volume_new(dim, DP_U8, &a, out);
  if (s == DP_OK && obj->for_uid[0]) s = dp_volume_meta_set_str(*out, "FrameOfReferenceUID", obj->for_uid);
  if (s != DP_OK) {
    dp_volume_free(*out);
    *out = NULL;
  }
  return s;
}
