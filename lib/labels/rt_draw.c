/* RTSTRUCT contours onto an image grid: points to voxel coordinates, planes
 * to slices, planes filled by the even-odd rule (labels.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "labels/raster.h"

/* Contour planes within this many slices are one plane. */
#define PLANE_EPS 0.01

typedef struct {
  int contour;
  double kc;
} plane_item;

static int cmp_item(const void *a, const void *b) {
  const plane_item *x = a, *y = b;
  if (x->kc != y->kc) return x->kc < y->kc ? -1 : 1;
  return x->contour - y->contour;
}

typedef struct {
  const dp__label_obj *obj;
  const int *sel;
  dp_mat4 inv;
  int64_t dim[3];
  double tol;
  dp__mask *masks;
  dp__roi_stats *stats;
} draw_ctx;

/* Voxel coordinates of a contour: xy (i, j interleaved) and its k range. */
static void to_voxels(const dp_mat4 *inv, const dp__contour *c, double *xy, double *kmin, double *kmax) {
  *kmin = INFINITY;
  *kmax = -INFINITY;
  for (int q = 0; q < c->npoints; q++) {
    double v[3];
    dp_mat4_apply(inv, c->xyz + 3 * q, v);
    xy[2 * q] = v[0];
    xy[2 * q + 1] = v[1];
    if (v[2] < *kmin) *kmin = v[2];
    if (v[2] > *kmax) *kmax = v[2];
  }
}

static int beyond(const double *xy, int n, int64_t nx, int64_t ny) {
  for (int q = 0; q < n; q++)
    if (xy[2 * q] < -0.5 || xy[2 * q] > nx - 0.5 || xy[2 * q + 1] < -0.5 || xy[2 * q + 1] > ny - 0.5) return 1;
  return 0;
}

/* Fills the plane made of items [a, b) onto its slice. */
static dp_status fill_plane(draw_ctx *c, const dp__roi *r, double **xy, const plane_item *it, int a, int b,
                            dp__mask *m, dp__roi_stats *st) {
  double kc = 0;
  for (int t = a; t < b; t++) kc += it[t].kc;
  kc /= (b - a);
  double sl = floor(kc + 0.5);
  if (sl < 0 || sl >= (double)c->dim[2]) {
    st->outside++;
    return DP_OK;
  }
  if (fabs(kc - sl) > c->tol) {
    st->between++;
    return DP_OK;
  }
  int k = (int)sl, n = b - a;
  const double **pts = malloc((size_t)n * sizeof *pts);
  int *np = malloc((size_t)n * sizeof *np);
  dp_status s = pts && np ? DP_OK : dp__error(DP_ENOMEM, "out of memory filling contours");
  for (int t = 0; s == DP_OK && t < n; t++) {
    pts[t] = xy[it[a + t].contour];
    np[t] = r->contours[it[a + t].contour].npoints;
  }
  if (s == DP_OK) {
    dp__spans plane = {0};
    s = dp__fill_polygons(pts, np, n, (int)c->dim[0], (int)c->dim[1], &plane);
    dp__spans *dst = &m->slices[k];
    for (int q = 0; s == DP_OK && q < plane.n; q++)
      s = dp__spans_push(dst, plane.v[q].j, plane.v[q].i0, plane.v[q].i1);
    free(plane.v);
  }
  free(pts);
  free(np);
  return s;
}

static dp_status draw_roi(void *vctx, int64_t si) {
  draw_ctx *c = vctx;
  const dp__roi *r = &c->obj->rois[c->sel[si]];
  dp__mask *m = &c->masks[si];
  dp__roi_stats *st = &c->stats[si];
  memset(st, 0, sizeof *st);
  st->first_si_slice = -1;
  int nc = r->ncontours;
  double **xy = calloc((size_t)(nc ? nc : 1), sizeof *xy);
  plane_item *it = malloc((size_t)(nc ? nc : 1) * sizeof *it);
  dp_status s = xy && it ? DP_OK : dp__error(DP_ENOMEM, "out of memory for contours");
  int ni = 0;
  for (int q = 0; s == DP_OK && q < nc; q++) {
    const dp__contour *ct = &r->contours[q];
    if (ct->type != DP__CONTOUR_CLOSED) {
      st->not_closed++;
      continue;
    }
    if (ct->npoints < 3 || !ct->xyz) {
      st->degenerate++;
      continue;
    }
    xy[q] = malloc((size_t)ct->npoints * 2 * sizeof **xy);
    if (!xy[q]) {
      s = dp__error(DP_ENOMEM, "out of memory for contour points");
      break;
    }
    double kmin, kmax;
    to_voxels(&c->inv, ct, xy[q], &kmin, &kmax);
    if (kmax - kmin > DP_LABEL_PLANAR_TOL) {
      st->nonparallel++;
      continue;
    }
    if (dp__polygon_self_intersects(xy[q], ct->npoints) && st->self_intersect++ == 0)
      st->first_si_slice = (int)floor((kmin + kmax) / 2 + 0.5);
    st->beyond_fov += beyond(xy[q], ct->npoints, c->dim[0], c->dim[1]);
    it[ni++] = (plane_item){q, (kmin + kmax) / 2};
  }
  if (s == DP_OK && ni > 1) qsort(it, (size_t)ni, sizeof *it, cmp_item);
  for (int a = 0, b; s == DP_OK && a < ni; a = b) {
    for (b = a + 1; b < ni && it[b].kc - it[a].kc <= PLANE_EPS; b++) {
    }
    s = fill_plane(c, r, xy, it, a, b, m, st);
  }
  int lo = -1, hi = -1;
  for (int k = 0; s == DP_OK && k < m->nz; k++) {
    dp__spans_normalize(&m->slices[k]);
    if (m->slices[k].n) {
      st->slices++;
      if (lo < 0) lo = k;
      hi = k;
    }
  }
  if (lo >= 0) st->gaps = hi - lo + 1 - st->slices;
  for (int q = 0; xy && q < nc; q++) free(xy[q]);
  free(xy);
  free(it);
  return s;
}

dp_status dp__draw_rtstruct(const dp__label_obj *obj, const int *sel, int nsel, const dp_volume *img,
                            double tolerance, int threads, dp__mask *masks, dp__roi_stats *stats) {
  draw_ctx c = {obj, sel, dp_mat4_identity(), {img->dim[0], img->dim[1], img->dim[2]}, tolerance, masks, stats};
  dp_status s = dp_mat4_inverse(img->ijk_to_ras, &c.inv);
  if (s != DP_OK) return s;
  return dp__parallel_for(nsel, threads, draw_roi, &c);
}
