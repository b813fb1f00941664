/* SEG frames onto an image grid: each target voxel centre takes the nearest
 * pixel of the segment's frame whose plane is within half the SEG's slice
 * spacing (labels.h).  Parallel over target slices. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "labels/raster.h"

/* Frame planes closer than this (mm) are one plane. */
#define SAME_PLANE_MM 1e-3

typedef struct {
  double w;      /* position along the normal (mm) */
  int first, n;  /* frames order[first .. first + n) */
} plane;

typedef struct {
  double n[3];   /* unit normal (row x column directions) */
  double half;   /* plane tolerance (mm) */
  plane *planes;
  int nplanes;
  int *order;    /* frame indices sorted by w */
} seg_geom;

typedef struct {
  const dp__label_obj *obj;
  const int *sel;
  int nsel;
  seg_geom *g;   /* per selected segment */
  const dp_volume *img;
  uint8_t in[256]; /* pixel value -> inside */
  dp__mask *masks;
} place_ctx;

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

typedef struct {
  double w;
  int f;
} frame_pos;

static int cmp_pos(const void *a, const void *b) {
  const frame_pos *x = a, *y = b;
  if (x->w != y->w) return x->w < y->w ? -1 : 1;
  return x->f - y->f;
}

/* Sorts a segment's frames by position; checks they share an orientation. */
static dp_status segment_geometry(const dp__label_obj *obj, int number, double spacing, seg_geom *g,
                                  dp__roi_stats *st) {
  int n = 0, ref = -1;
  for (int f = 0; f < obj->nframes; f++)
    if (obj->frames[f].segment == number) n++;
  memset(g, 0, sizeof *g);
  if (!n) return DP_OK;
  g->order = malloc((size_t)n * sizeof *g->order);
  g->planes = malloc((size_t)n * sizeof *g->planes);
  frame_pos *w = malloc((size_t)n * sizeof *w);
  if (!g->order || !g->planes || !w) {
    free(w);
    return dp__error(DP_ENOMEM, "out of memory placing frames");
  }
  int m = 0;
  for (int f = 0; f < obj->nframes; f++) {
    const dp__seg_frame *fr = &obj->frames[f];
    if (fr->segment != number) continue;
    if (ref < 0) {
      ref = f;
      const double *r = fr->row_dir, *c = fr->col_dir;
      double nn[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
      double len = sqrt(dot(nn, nn));
      for (int i = 0; i < 3; i++) g->n[i] = nn[i] / len;
    } else {
      for (int i = 0; i < 3; i++)
        if (fabs(fr->row_dir[i] - obj->frames[ref].row_dir[i]) > 1e-4 ||
            fabs(fr->col_dir[i] - obj->frames[ref].col_dir[i]) > 1e-4) {
          free(w);
          return dp__error(DP_EGEOMETRY, "segment %d: frames %d and %d differ in orientation", number, ref + 1, f + 1);
        }
    }
    w[m++] = (frame_pos){dot(fr->origin, g->n), f};
  }
  qsort(w, (size_t)n, sizeof *w, cmp_pos);
  for (int k = 0; k < n; k++) {
    g->order[k] = w[k].f;
    double wk = w[k].w;
    if (g->nplanes && wk - g->planes[g->nplanes - 1].w <= SAME_PLANE_MM) {
      g->planes[g->nplanes - 1].n++;
      st->duplicate_frames++;
    } else {
      g->planes[g->nplanes++] = (plane){wk, k, 1};
    }
  }
  free(w);
  g->half = spacing / 2;
  return DP_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The SEG's slice spacing: SpacingBetweenSlices, else the smallest step
 * between frame planes (any segment, same orientation as segment 0's),
 * else SliceThickness, else the image's. */
static double seg_spacing(const dp__label_obj *obj, const dp_volume *img) {
  if (obj->slice_spacing > 0) return obj->slice_spacing;
  double best = INFINITY;
  if (obj->nframes > 1) {
    const double *r = obj->frames[0].row_dir, *c = obj->frames[0].col_dir;
    double n[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
    double *w = malloc((size_t)obj->nframes * sizeof *w);
    int m = 0;
    for (int f = 0; w && f < obj->nframes; f++) w[m++] = dot(obj->frames[f].origin, n);
    if (w) qsort(w, (size_t)m, sizeof *w, cmp_double);
    for (int a = 1; w && a < m; a++) {
      double d = w[a] - w[a - 1];
      if (d > SAME_PLANE_MM && d < best) best = d;
    }
    free(w);
  }
  if (isfinite(best)) return best;
  if (obj->thickness > 0) return obj->thickness;
  double sp[3];
  dp_volume_spacing(img, sp);
  return sp[2] > 0 ? sp[2] : 1;
}

/* The plane of g within tolerance of w, or -1 (halfway: the higher one). */
static int find_plane(const seg_geom *g, double w) {
  int lo = 0, hi = g->nplanes; /* first plane with position > w */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (g->planes[mid].w > w) hi = mid;
    else lo = mid + 1;
  }
  int best = -1;
  double bd = INFINITY;
  for (int c = lo - 1; c <= lo; c++) {
    if (c < 0 || c >= g->nplanes) continue;
    double d = fabs(g->planes[c].w - w);
    if (d <= bd) {
      bd = d;
      best = c;
    }
  }
  return best >= 0 && bd <= g->half * (1 + 1e-9) ? best : -1;
}

/* 1 when the voxel centre p lies in a pixel that is in, of any frame of the plane. */
static int sample(const place_ctx *c, const seg_geom *g, int pl, const double p[3]) {
  const dp__label_obj *o = c->obj;
  size_t npix = (size_t)o->info.rows * (size_t)o->info.cols;
  for (int t = 0; t < g->planes[pl].n; t++) {
    int f = g->order[g->planes[pl].first + t];
    const dp__seg_frame *fr = &o->frames[f];
    double d[3] = {p[0] - fr->origin[0], p[1] - fr->origin[1], p[2] - fr->origin[2]};
    double col = floor(dot(d, fr->row_dir) / fr->spacing[1] + 0.5);
    double row = floor(dot(d, fr->col_dir) / fr->spacing[0] + 0.5);
    if (col < 0 || row < 0 || col >= o->info.cols || row >= o->info.rows) continue;
    if (c->in[o->pixels[(size_t)f * npix + (size_t)row * (size_t)o->info.cols + (size_t)col]]) return 1;
  }
  return 0;
}

static dp_status place_slice(void *vctx, int64_t k) {
  place_ctx *c = vctx;
  const dp_mat4 *a = &c->img->ijk_to_ras;
  int64_t nx = c->img->dim[0], ny = c->img->dim[1];
  dp_status s = DP_OK;
  for (int si = 0; si < c->nsel && s == DP_OK; si++) {
    const seg_geom *g = &c->g[si];
    if (!g->nplanes) continue;
    dp__spans *out = &c->masks[si].slices[k];
    for (int64_t j = 0; j < ny && s == DP_OK; j++) {
      double p0[3], ijk[3] = {0, (double)j, (double)k};
      dp_mat4_apply(a, ijk, p0);
      double di[3] = {a->m[0][0], a->m[1][0], a->m[2][0]};
      /* the plane changes along the row only on grids oblique to the SEG */
      int fixed = fabs(dot(di, g->n)) * (double)nx < 1e-6 * g->half, pl = -1;
      if (fixed) pl = find_plane(g, dot(p0, g->n));
      if (fixed && pl < 0) continue;
      int32_t run = -1;
      for (int64_t i = 0; i <= nx && s == DP_OK; i++) {
        int in = 0;
        if (i < nx) {
          double p[3] = {p0[0] + (double)i * di[0], p0[1] + (double)i * di[1], p0[2] + (double)i * di[2]};
          int q = fixed ? pl : find_plane(g, dot(p, g->n));
          in = q >= 0 && sample(c, g, q, p);
        }
        if (in && run < 0) run = (int32_t)i;
        if (!in && run >= 0) {
          s = dp__spans_push(out, (int32_t)j, run, (int32_t)i);
          run = -1;
        }
      }
    }
  }
  return s;
}

dp_status dp__draw_seg(const dp__label_obj *obj, const int *sel, int nsel, const dp_volume *img,
                       double fraction_threshold, int threads, dp__mask *masks, dp__roi_stats *stats) {
  if (!obj->pixels) return dp__error(DP_EINVAL, "%s: SEG read without its pixel data", obj->path);
  place_ctx c;
  memset(&c, 0, sizeof c);
  c.obj = obj;
  c.sel = sel;
  c.nsel = nsel;
  c.img = img;
  c.masks = masks;
  for (int v = 0; v < 256; v++)
    c.in[v] = obj->info.fractional ? (double)v / obj->info.max_fraction >= fraction_threshold : v != 0;
  c.g = calloc((size_t)(nsel ? nsel : 1), sizeof *c.g);
  dp_status s = c.g ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  double spacing = seg_spacing(obj, img);
  for (int si = 0; s == DP_OK && si < nsel; si++) {
    memset(&stats[si], 0, sizeof stats[si]);
    stats[si].first_si_slice = -1;
    s = segment_geometry(obj, obj->rois[sel[si]].pub.number, spacing, &c.g[si], &stats[si]);
  }
  if (s == DP_OK) s = dp__parallel_for(img->dim[2], threads, place_slice, &c);
  for (int si = 0; si < nsel; si++) {
    if (s == DP_OK) {
      int lo = -1, hi = -1;
      for (int k = 0; k < masks[si].nz; k++)
        if (masks[si].slices[k].n) {
          stats[si].slices++;
          if (lo < 0) lo = k;
          hi = k;
        }
      if (lo >= 0) stats[si].gaps = hi - lo + 1 - stats[si].slices;
    }
    if (c.g) {
      free(c.g[si].order);
      free(c.g[si].planes);
    }
  }
  free(c.g);
  return s;
}
