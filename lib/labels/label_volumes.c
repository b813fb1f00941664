/* Label volumes from masks: multi (later ROI wins, overlaps counted), onehot
 * and separate layouts, and the label map in their metadata. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/json.h"
#include "labels/raster.h"

/* Pairwise overlap counts up to this many ROIs; beyond, per ROI only. */
#define PAIR_MAX 64

void dp__label_printable(const char *in, char *out, size_t size) {
  size_t n = 0;
  for (; in && *in && n + 1 < size; in++) {
    unsigned char c = (unsigned char)*in;
    out[n++] = c >= 32 && c < 127 ? (char)c : '?';
  }
  out[n] = '\0';
}

void dp__note(dp__notes *n, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dp__log(DP_LOG_WARN, "%s", buf);
  if (n->n >= 1000) return;
  char **v = realloc(n->v, (size_t)(n->n + 1) * sizeof *v);
  if (!v) return;
  n->v = v;
  if ((v[n->n] = strdup(buf))) n->n++;
}

void dp__notes_free(dp__notes *n) {
  for (int i = 0; i < n->n; i++) free(n->v[i]);
  free(n->v);
  n->v = NULL;
  n->n = 0;
}

typedef struct {
  const dp__mask *masks;
  int nsel;
  dp_volume *v;
  int64_t *pairs;   /* nsel x nsel: [earlier][later] voxels the later took */
  int64_t *lost;    /* per ROI: voxels a later ROI took */
  pthread_mutex_t lock;
} multi_ctx;

static dp_status paint_slice(void *vctx, int64_t k) {
  multi_ctx *c = vctx;
  int n = c->nsel, pair = n <= PAIR_MAX;
  int64_t plane = c->v->dim[0] * c->v->dim[1];
  int64_t *lp = calloc((size_t)n * (pair ? (size_t)n : 1), sizeof *lp);
  if (!lp) return dp__error(DP_ENOMEM, "out of memory counting overlaps");
  int any = 0;
  for (int s = 0; s < n; s++) {
    const dp__spans *sp = &c->masks[s].slices[k];
    for (int q = 0; q < sp->n; q++) {
      int64_t row = k * plane + (int64_t)sp->v[q].j * c->v->dim[0];
      for (int32_t i = sp->v[q].i0; i < sp->v[q].i1; i++) {
        int64_t at = row + i;
        int prev = c->v->dtype == DP_U8 ? ((uint8_t *)c->v->data)[at] : ((uint16_t *)c->v->data)[at];
        if (prev) {
          any = 1;
          lp[pair ? (size_t)(prev - 1) * (size_t)n + (size_t)s : (size_t)(prev - 1)]++;
        }
        if (c->v->dtype == DP_U8) ((uint8_t *)c->v->data)[at] = (uint8_t)(s + 1);
        else ((uint16_t *)c->v->data)[at] = (uint16_t)(s + 1);
      }
    }
  }
  if (any) {
    pthread_mutex_lock(&c->lock);
    for (int a = 0; a < n; a++)
      for (int b = 0; b < (pair ? n : 1); b++) {
        int64_t x = lp[(size_t)a * (pair ? (size_t)n : 1) + (size_t)b];
        if (pair) c->pairs[(size_t)a * (size_t)n + (size_t)b] += x;
        c->lost[a] += x;
      }
    pthread_mutex_unlock(&c->lock);
  }
  free(lp);
  return DP_OK;
}

static void fill_binary(dp_volume *v, int64_t t, const dp__mask *m) {
  int64_t plane = v->dim[0] * v->dim[1];
  uint8_t *d = (uint8_t *)v->data + t * plane * v->dim[2];
  for (int k = 0; k < m->nz; k++)
    for (int q = 0; q < m->slices[k].n; q++) {
      const dp__span *s = &m->slices[k].v[q];
      memset(d + k * plane + (int64_t)s->j * v->dim[0] + s->i0, 1, (size_t)(s->i1 - s->i0));
    }
}

static void json_roi(dp__json *j, const dp__roi *r, const char *key, int value, int64_t voxels) {
  dp__json_begin_object(j, NULL);
  dp__json_int(j, key, value);
  dp__json_int(j, "number", r->pub.number);
  dp__json_str(j, "name", r->pub.name);
  if (r->pub.has_colour) {
    dp__json_begin_array(j, "colour");
    for (int c = 0; c < 3; c++) dp__json_int(j, NULL, r->pub.rgb[c]);
    dp__json_end_array(j);
  } else {
    dp__json_null(j, "colour");
  }
  dp__json_str(j, "algorithm", r->pub.algorithm);
  dp__json_str(j, "type", r->pub.type);
  if (r->category && r->category[0]) dp__json_str(j, "category", r->pub.category);
  dp__json_int(j, "voxels", voxels);
  dp__json_end_object(j);
}

static dp_status set_json(dp_volume *v, const char *key, dp__json *j) {
  char *text = NULL;
  size_t len = 0;
  dp_status s = dp__json_finish(j, &text, &len);
  while (s == DP_OK && len > 0 && text[len - 1] == '\n') text[--len] = '\0';
  if (s == DP_OK) s = dp_volume_meta_set_json(v, key, text);
  free(text);
  return s;
}

static const char *base_name(const char *p) {
  const char *b = strrchr(p, '/');
  return b ? b + 1 : p;
}

/* Labels, LabelSource, LabelLayout, LabelOverlaps, LabelNotes. */
static dp_status label_meta(dp_volume *v, const dp__label_obj *obj, const int *sel, int first, int count,
                            const int64_t *voxels, const dp_label_opts *o, const char *overlaps,
                            const dp__notes *notes) {
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_array(&j, NULL);
  for (int s = first; s < first + count; s++)
    json_roi(&j, &obj->rois[sel[s]], o->layout == DP_LABELS_ONEHOT ? "channel" : "value",
             o->layout == DP_LABELS_MULTI ? s + 1 : o->layout == DP_LABELS_ONEHOT ? s : 1, voxels[s]);
  dp__json_end_array(&j);
  dp_status st = set_json(v, "Labels", &j);
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "Kind", dp_label_kind_name(obj->info.kind));
  dp__json_str(&j, "File", base_name(obj->path));
  dp__json_str(&j, "SOPInstanceUID", obj->sop_uid);
  dp__json_str(&j, "SeriesInstanceUID", obj->series_uid);
  dp__json_str(&j, "FrameOfReferenceUID", obj->for_uid);
  dp__json_str(&j, "Label", obj->info.label);
  dp__json_str(&j, "SeriesDescription", obj->info.description);
  dp__json_str(&j, "ReferencedSeriesInstanceUID", obj->ref_series_uid);
  if (obj->info.kind == DP_LABEL_RTSTRUCT) {
    dp__json_num(&j, "SliceTolerance", o->slice_tolerance);
    dp__json_str(&j, "FillRule", "even-odd, voxel centres, +i/+j side of an edge inside");
  } else {
    dp__json_str(&j, "SegmentationType", obj->info.fractional ? "FRACTIONAL" : "BINARY");
    if (obj->info.fractional) dp__json_num(&j, "FractionThreshold", o->fraction_threshold);
    dp__json_str(&j, "Placement", "nearest");
  }
  dp__json_end_object(&j);
  if (st == DP_OK) st = set_json(v, "LabelSource", &j);
  if (st == DP_OK) st = dp_volume_meta_set_str(v, "LabelLayout", dp_label_layout_name(o->layout));
  if (st == DP_OK && overlaps) st = dp_volume_meta_set_json(v, "LabelOverlaps", overlaps);
  if (st == DP_OK && notes && notes->n) {
    dp__json_init(&j, 0);
    dp__json_begin_array(&j, NULL);
    for (int i = 0; i < notes->n; i++) dp__json_str(&j, NULL, notes->v[i]);
    dp__json_end_array(&j);
    st = set_json(v, "LabelNotes", &j);
  }
  return st;
}

/* The overlap report of a multi volume: JSON (caller frees) and notes. */
static char *overlap_report(const dp__label_obj *obj, const int *sel, int n, const multi_ctx *c, dp__notes *notes) {
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_array(&j, NULL);
  int any = 0;
  for (int a = 0; a < n; a++) {
    if (!c->lost[a]) continue;
    any = 1;
    char na[80], nb[80];
    dp__label_printable(obj->rois[sel[a]].pub.name, na, sizeof na);
    for (int b = 0; b < n && n <= PAIR_MAX; b++) {
      int64_t x = c->pairs[(size_t)a * (size_t)n + (size_t)b];
      if (!x) continue;
      dp__label_printable(obj->rois[sel[b]].pub.name, nb, sizeof nb);
      dp__json_begin_object(&j, NULL);
      dp__json_str(&j, "under", obj->rois[sel[a]].pub.name);
      dp__json_str(&j, "over", obj->rois[sel[b]].pub.name);
      dp__json_int(&j, "voxels", x);
      dp__json_end_object(&j);
      dp__note(notes, "overlap: %lld voxel(s) of '%s' (value %d) are also in '%s' (value %d), which is later in "
               "the order and keeps them", (long long)x, na, a + 1, nb, b + 1);
    }
    if (n > PAIR_MAX) {
      dp__json_begin_object(&j, NULL);
      dp__json_str(&j, "under", obj->rois[sel[a]].pub.name);
      dp__json_int(&j, "voxels", c->lost[a]);
      dp__json_end_object(&j);
      dp__note(notes, "overlap: %lld voxel(s) of '%s' (value %d) are taken by later ROIs", (long long)c->lost[a],
               na, a + 1);
    }
  }
  dp__json_end_array(&j);
  char *text = NULL;
  size_t len = 0;
  if (dp__json_finish(&j, &text, &len) != DP_OK || !any) {
    free(text);
    return NULL;
  }
  while (len > 0 && text[len - 1] == '\n') text[--len] = '\0';
  return text;
}

dp_status dp__label_volumes(const dp__label_obj *obj, const int *sel, int nsel, const dp__mask *masks,
                            const dp_volume *img, const dp_label_opts *o, dp__notes *notes,
                            dp_volume ***out, int *nout) {
  int nv = o->layout == DP_LABELS_SEPARATE ? nsel : 1;
  dp_volume **v = calloc((size_t)(nv ? nv : 1), sizeof *v);
  int64_t *voxels = calloc((size_t)(nsel ? nsel : 1), sizeof *voxels);
  char *overlaps = NULL;
  dp_status s = v && voxels ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int r = 0; s == DP_OK && r < nsel; r++)
    for (int k = 0; k < masks[r].nz; k++) voxels[r] += dp__spans_voxels(&masks[r].slices[k]);
  int64_t dim[4] = {img->dim[0], img->dim[1], img->dim[2], 1};
  if (o->layout == DP_LABELS_MULTI && s == DP_OK) {
    s = dp_volume_new(dim, nsel <= 255 ? DP_U8 : DP_U16, &img->ijk_to_ras, &v[0]);
    multi_ctx c = {masks, nsel, v[0], NULL, NULL, PTHREAD_MUTEX_INITIALIZER};
    if (s == DP_OK) {
      c.pairs = calloc(nsel <= PAIR_MAX ? (size_t)nsel * (size_t)nsel : 1, sizeof *c.pairs);
      c.lost = calloc((size_t)(nsel ? nsel : 1), sizeof *c.lost);
      if (!c.pairs || !c.lost) s = dp__error(DP_ENOMEM, "out of memory");
    }
    if (s == DP_OK) s = dp__parallel_for(img->dim[2], o->threads, paint_slice, &c);
    if (s == DP_OK) overlaps = overlap_report(obj, sel, nsel, &c, notes);
    free(c.pairs);
    free(c.lost);
  } else if (o->layout == DP_LABELS_ONEHOT && s == DP_OK) {
    dim[3] = nsel;
    s = dp_volume_new(dim, DP_U8, &img->ijk_to_ras, &v[0]);
    for (int r = 0; s == DP_OK && r < nsel; r++) fill_binary(v[0], r, &masks[r]);
  } else {
    for (int r = 0; s == DP_OK && r < nsel; r++) {
      s = dp_volume_new(dim, DP_U8, &img->ijk_to_ras, &v[r]);
      if (s == DP_OK) fill_binary(v[r], 0, &masks[r]);
    }
  }
  for (int r = 0; s == DP_OK && r < nsel; r++)
    if (!voxels[r]) {
      char nm[80];
      dp__label_printable(obj->rois[sel[r]].pub.name, nm, sizeof nm);
      dp__note(notes, "'%s' is empty on this grid (its value is kept in the label map)", nm);
    }
  for (int i = 0; s == DP_OK && i < nv; i++)
    s = label_meta(v[i], obj, sel, nv == 1 ? 0 : i, nv == 1 ? nsel : 1, voxels, o, overlaps, notes);
  free(overlaps);
  free(voxels);
  if (s != DP_OK) {
    for (int i = 0; v && i < nv; i++) dp_volume_free(v[i]);
    free(v);
    return s;
  }
  *out = v;
  *nout = nv;
  return DP_OK;
}
