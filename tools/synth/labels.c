/* dcmprep-synth labels: analytic shapes, their contours and SEG frames. */
#define _POSIX_C_SOURCE 200809L
#include "labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dicom/dcmtk/label_write.h"

static const uint8_t k_colours[][3] = {{230, 25, 75}, {60, 180, 75}, {0, 130, 200}, {245, 130, 48},
                                       {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60}};

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* The field of view: half the smaller in-plane extent, half the depth. */
static void fov(const synth_opts *o, const synth_geometry *g, double *half, double *depth) {
  double w = o->cols * g->ps[1], h = o->rows * g->ps[0];
  *half = (w < h ? w : h) / 2;
  double lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < g->nslices; k++) {
    double d = dot(g->ipp[k], g->n);
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  *depth = (hi - lo) / 2;
}

static int parse_shape(const char *spec, int index, double s, double d, synth_shape *out, char *err, size_t n) {
  const char *eq = strchr(spec, '='), *kind = spec;
  memset(out, 0, sizeof *out);
  if (eq) {
    snprintf(out->name, sizeof out->name, "%.*s", (int)(eq - spec), spec);
    kind = eq + 1;
  }
  const char *colon = strchr(kind, ':');
  size_t klen = colon ? (size_t)(colon - kind) : strlen(kind);
  static const struct { const char *name; shape_kind k; int np; double def[7]; } table[] = {
      {"sphere", SHAPE_SPHERE, 4, {-0.45, -0.45, 0, 0.4}},
      {"torus", SHAPE_TORUS, 5, {0.45, -0.45, 0, 0.28, 0.12}},
      {"nested", SHAPE_NESTED, 7, {0, 0.45, 0, 0.4, 0.25, 0.1, 0.35}}};
  int t = -1;
  for (int i = 0; i < 3; i++)
    if (strlen(table[i].name) == klen && !strncmp(kind, table[i].name, klen)) t = i;
  if (t < 0) {
    snprintf(err, n, "--shape '%s': the kind is sphere, torus or nested", spec);
    return 1;
  }
  out->kind = table[t].k;
  if (!out->name[0]) snprintf(out->name, sizeof out->name, "%s", table[t].name);
  if (!colon) {
    for (int i = 0; i < table[t].np; i++) out->p[i] = table[t].def[i] * s;
    /* depth-limited sizes: the sphere radius, the torus tube, the prism height */
    int dz = out->kind == SHAPE_SPHERE ? 3 : out->kind == SHAPE_TORUS ? 4 : 6;
    if (out->p[dz] > 0.9 * d) out->p[dz] = 0.9 * d;
    (void)index;
    return 0;
  }
  const char *p = colon + 1;
  for (int i = 0; i < table[t].np; i++) {
    char *end;
    out->p[i] = strtod(p, &end);
    if (end == p || (i + 1 < table[t].np && *end != ',') || (i + 1 == table[t].np && *end)) {
      snprintf(err, n, "--shape '%s': %s takes %d numbers", spec, table[t].name, table[t].np);
      return 1;
    }
    p = end + 1;
  }
  return 0;
}

int synth_shapes(const synth_opts *o, const synth_geometry *g, synth_shape **out, int *n, char *err,
                 size_t errsize) {
  static const char *const defaults[] = {"sphere", "torus", "nested"};
  int ns = o->nshapes ? o->nshapes : 3;
  double s, d;
  fov(o, g, &s, &d);
  *out = calloc((size_t)ns, sizeof **out);
  if (!*out) {
    snprintf(err, errsize, "out of memory");
    return 1;
  }
  for (int i = 0; i < ns; i++)
    if (parse_shape(o->nshapes ? o->shapes[i] : defaults[i], i, s, d, &(*out)[i], err, errsize)) {
      free(*out);
      *out = NULL;
      return 1;
    }
  *n = ns;
  return 0;
}

int synth_shape_inside(const synth_shape *s, double u, double v, double w) {
  double a = u - s->p[0], b = v - s->p[1], c = w - s->p[2];
  switch (s->kind) {
    case SHAPE_SPHERE: return a * a + b * b + c * c < s->p[3] * s->p[3];
    case SHAPE_TORUS: {
      double r = sqrt(a * a + b * b) - s->p[3];
      return r * r + c * c < s->p[4] * s->p[4];
    }
    case SHAPE_NESTED: {
      double m = fmax(fabs(a), fabs(b));
      return fabs(c) < s->p[6] && ((m < s->p[3] && !(m < s->p[4])) || a * a + b * b < s->p[5] * s->p[5]);
    }
  }
  return 0;
}

/* ---- contours ----------------------------------------------------------------- */

typedef struct {
  dp__rt_write_contour *v;
  int n, cap;
  double **pts; /* owned point arrays */
} contour_list;

static int add_polygon(contour_list *l, const synth_geometry *g, const double *c0, double w, const double *uv,
                       int np, const char *sop) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    dp__rt_write_contour *v = realloc(l->v, (size_t)cap * sizeof *v);
    double **p = realloc(l->pts, (size_t)cap * sizeof *p);
    if (v) l->v = v;
    if (p) l->pts = p;
    if (!v || !p) return 1;
    l->cap = cap;
  }
  double *xyz = malloc((size_t)np * 3 * sizeof *xyz);
  if (!xyz) return 1;
  for (int q = 0; q < np; q++)
    for (int i = 0; i < 3; i++) xyz[3 * q + i] = c0[i] + uv[2 * q] * g->r[i] + uv[2 * q + 1] * g->c[i] + w * g->n[i];
  l->pts[l->n] = xyz;
  l->v[l->n++] = (dp__rt_write_contour){"CLOSED_PLANAR", np, xyz, sop};
  return 0;
}

static int circle(contour_list *l, const synth_geometry *g, const double *c0, double w, double cu, double cv,
                  double r, int np, const char *sop) {
  double *uv = malloc((size_t)np * 2 * sizeof *uv);
  if (!uv) return 1;
  for (int q = 0; q < np; q++) {
    double t = 2 * DP__PI * q / np + 0.1;
    uv[2 * q] = cu + r * cos(t);
    uv[2 * q + 1] = cv + r * sin(t);
  }
  int rc = add_polygon(l, g, c0, w, uv, np, sop);
  free(uv);
  return rc;
}

static int square(contour_list *l, const synth_geometry *g, const double *c0, double w, double cu, double cv,
                  double h, const char *sop) {
  double uv[8] = {cu - h, cv - h, cu + h, cv - h, cu + h, cv + h, cu - h, cv + h};
  return add_polygon(l, g, c0, w, uv, 4, sop);
}

/* The cross-section of shape s with the plane at w (mm along the normal). */
static int section(contour_list *l, const synth_shape *s, const synth_geometry *g, const double *c0, double w,
                   int np, const char *sop) {
  double d = w - s->p[2];
  switch (s->kind) {
    case SHAPE_SPHERE:
      if (s->p[3] * s->p[3] - d * d <= 0) return 0;
      return circle(l, g, c0, w, s->p[0], s->p[1], sqrt(s->p[3] * s->p[3] - d * d), np, sop);
    case SHAPE_TORUS: {
      if (s->p[4] * s->p[4] - d * d <= 0) return 0;
      double t = sqrt(s->p[4] * s->p[4] - d * d);
      int rc = circle(l, g, c0, w, s->p[0], s->p[1], s->p[3] + t, np, sop);
      if (!rc && s->p[3] - t > 0) rc = circle(l, g, c0, w, s->p[0], s->p[1], s->p[3] - t, np, sop);
      return rc;
    }
    case SHAPE_NESTED:
      if (!(fabs(d) < s->p[6])) return 0;
      return square(l, g, c0, w, s->p[0], s->p[1], s->p[3], sop) ||
             square(l, g, c0, w, s->p[0], s->p[1], s->p[4], sop) ||
             circle(l, g, c0, w, s->p[0], s->p[1], s->p[5], np, sop);
  }
  return 0;
}

/* SOPInstanceUIDs of the written images (synth.c's rule: series UID and
 * instance number; the enhanced file is instance 1). */
static char (*image_sops(const synth_opts *o, const synth_series *s))[72] {
  char (*u)[72] = calloc((size_t)(s->nslices ? s->nslices : 1), sizeof *u);
  for (int i = 0; u && i < s->nslices; i++)
    snprintf(u[i], sizeof u[i], "%s.%d", s->series_uid, o->enhanced ? 1 : s->slices[i].instance);
  return u;
}

static void common(dp__label_write_common *c, const synth_opts *o, const synth_series *s, const char **sops,
                   char uids[2][80], int which) {
  snprintf(uids[0], 80, "%s.%d", s->series_uid, which ? 9002 : 9001);   /* label series */
  snprintf(uids[1], 80, "%s.%d.1", s->series_uid, which ? 9002 : 9001); /* its instance */
  *c = (dp__label_write_common){uids[1], uids[0], s->study_uid, s->for_uid, s->series_uid,
                                synth_sop_class(o), sops, o->enhanced ? 1 : s->nslices,
                                which ? "SYNTH SEG" : "SYNTH RTSTRUCT", which ? "synthetic segmentation" : "synthetic structures",
                                o->series_number + (which ? 2000 : 1000), "SYNTH^PHANTOM", "SYNTH0001"};
}

static dp_status write_rtstruct(const synth_opts *o, const synth_geometry *g, const synth_series *s,
                                const synth_shape *sh, int nsh, const char **sops) {
  dp__rt_write_roi *rois = calloc((size_t)nsh, sizeof *rois);
  contour_list *lists = calloc((size_t)nsh, sizeof *lists);
  dp_status st = rois && lists ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int r = 0; st == DP_OK && r < nsh; r++) {
    for (int i = 0; st == DP_OK && i < s->nslices; i++) {
      int k = s->slices[i].k;
      double w = dot(g->ipp[k], g->n) - dot(o->center, g->n);
      if (section(&lists[r], &sh[r], g, o->center, w, o->contour_points, o->enhanced ? NULL : sops[i]))
        st = dp__error(DP_ENOMEM, "out of memory for contours");
    }
    rois[r] = (dp__rt_write_roi){r + 1, sh[r].name, "AUTOMATIC", "ORGAN", NULL, {0, 0, 0}, lists[r].v, lists[r].n};
    memcpy(rois[r].rgb, k_colours[r % 8], 3);
  }
  dp__label_write_common c;
  char uids[2][80];
  common(&c, o, s, sops, uids, 0);
  if (st == DP_OK) st = dp__dcm_write_rtstruct(&c, rois, nsh, o->rtstruct);
  for (int r = 0; lists && r < nsh; r++) {
    for (int k = 0; k < lists[r].n; k++) free(lists[r].pts[k]);
    free(lists[r].pts);
    free(lists[r].v);
  }
  free(lists);
  free(rois);
  return st;
}

/* One SEG frame of shape sh on slice k; returns 1 when any pixel is set. */
static int seg_frame(const synth_opts *o, const synth_geometry *g, const synth_shape *sh, int k, int rows,
                     int cols, const double *origin, uint8_t *px) {
  double sp[2] = {g->ps[0] * o->seg_factor, g->ps[1] * o->seg_factor};
  double w = dot(g->ipp[k], g->n) - dot(o->center, g->n);
  int sub = o->seg_fractional ? 15 : 1, any = 0; /* odd: the centre is a sample */
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      int hits = 0;
      for (int a = 0; a < sub; a++)
        for (int b = 0; b < sub; b++) {
          double dc = sub > 1 ? ((b + 0.5) / sub - 0.5) : 0, dr = sub > 1 ? ((a + 0.5) / sub - 0.5) : 0;
          double p[3];
          for (int i = 0; i < 3; i++)
            p[i] = origin[i] + (c + dc) * sp[1] * g->r[i] + (r + dr) * sp[0] * g->c[i] - o->center[i];
          hits += synth_shape_inside(sh, dot(p, g->r), dot(p, g->c), w);
        }
      uint8_t v = o->seg_fractional ? (uint8_t)floor(255.0 * hits / (sub * sub) + 0.5) : (uint8_t)(hits > 0);
      px[(size_t)r * cols + c] = v;
      any |= v != 0;
    }
  return any;
}

static dp_status write_seg(const synth_opts *o, const synth_geometry *g, const synth_series *s,
                           const synth_shape *sh, int nsh, const char **sops) {
  int F = o->seg_factor, rows = (o->rows + F - 1) / F, cols = (o->cols + F - 1) / F;
  size_t npix = (size_t)rows * cols, maxf = (size_t)nsh * (size_t)s->nslices;
  uint8_t *px = malloc(npix * (maxf ? maxf : 1));
  dp__seg_write_frame *fr = calloc(maxf ? maxf : 1, sizeof *fr);
  dp__seg_write_segment *seg = calloc((size_t)nsh, sizeof *seg);
  if (!px || !fr || !seg) {
    free(px);
    free(fr);
    free(seg);
    return dp__error(DP_ENOMEM, "out of memory for the SEG");
  }
  int nf = 0;
  for (int r = 0; r < nsh; r++) {
    seg[r] = (dp__seg_write_segment){r + 1, sh[r].name, "AUTOMATIC", "Tissue", sh[r].name, {0, 0, 0}};
    memcpy(seg[r].rgb, k_colours[r % 8], 3);
    for (int i = 0; i < s->nslices; i++) {
      int k = s->slices[i].k;
      double origin[3];
      for (int a = 0; a < 3; a++)
        origin[a] = g->ipp[k][a] + (F - 1) / 2.0 * (g->ps[1] * g->r[a] + g->ps[0] * g->c[a]);
      if (!seg_frame(o, g, &sh[r], k, rows, cols, origin, px + (size_t)nf * npix)) continue;
      fr[nf] = (dp__seg_write_frame){r + 1, {origin[0], origin[1], origin[2]}, o->enhanced ? NULL : sops[i]};
      nf++;
    }
  }
  dp__seg_write sw = {o->seg_fractional, 255, rows, cols,
                      {g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]},
                      {g->ps[0] * F, g->ps[1] * F}, o->thickness, 0, seg, nsh, fr, nf, px, o->seg_ts};
  dp__label_write_common c;
  char uids[2][80];
  common(&c, o, s, sops, uids, 1);
  dp_status st = dp__dcm_write_seg(&c, &sw, o->seg);
  free(px);
  free(fr);
  free(seg);
  return st;
}

dp_status synth_write_labels(const synth_opts *o, const synth_geometry *g, const synth_series *s,
                             const synth_shape *sh, int nsh) {
  char(*u)[72] = image_sops(o, s);
  const char **sops = malloc((size_t)(s->nslices ? s->nslices : 1) * sizeof *sops);
  dp_status st = u && sops ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; st == DP_OK && i < s->nslices; i++) sops[i] = u[i];
  if (st == DP_OK && o->rtstruct) st = write_rtstruct(o, g, s, sh, nsh, sops);
  if (st == DP_OK && o->seg) st = write_seg(o, g, s, sh, nsh, sops);
  free(sops);
  free(u);
  return st;
}
