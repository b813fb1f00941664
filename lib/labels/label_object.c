/* Label objects: creation and freeing, the public accessors, and the colour
 * conversion of SEG's CIELab values. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "dicom/dcmtk/label_read.h"
#include "labels/model.h"

const char *dp_label_kind_name(dp_label_kind k) {
  switch (k) {
    case DP_LABEL_RTSTRUCT: return "RTSTRUCT";
    case DP_LABEL_SEG: return "SEG";
  }
  return "?";
}

const char *dp_label_layout_name(dp_label_layout l) {
  switch (l) {
    case DP_LABELS_MULTI: return "multi";
    case DP_LABELS_ONEHOT: return "onehot";
    case DP_LABELS_SEPARATE: return "separate";
  }
  return "?";
}

dp_status dp_label_layout_parse(const char *s, dp_label_layout *out) {
  static const dp_label_layout all[] = {DP_LABELS_MULTI, DP_LABELS_ONEHOT, DP_LABELS_SEPARATE};
  for (int i = 0; s && i < 3; i++)
    if (!strcmp(s, dp_label_layout_name(all[i]))) {
      *out = all[i];
      return DP_OK;
    }
  return dp__error(DP_EINVAL, "label layout '%s': multi, onehot or separate", s ? s : "");
}

dp__label_obj *dp__label_obj_new(dp_label_kind kind, const char *path) {
  dp__label_obj *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->info.kind = kind;
  o->info.series_number = -1;
  o->info.image_series = -1;
  if (dp__label_strdup(&o->path, path) != DP_OK) {
    free(o);
    return NULL;
  }
  return o;
}

dp_status dp__label_strdup(char **dst, const char *s) {
  free(*dst);
  *dst = strdup(s ? s : "");
  return *dst ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
}

dp_status dp__label_obj_set_rois(dp__label_obj *obj, int n) {
  if (n <= 0) return DP_OK;
  obj->rois = calloc((size_t)n, sizeof *obj->rois);
  if (!obj->rois) return dp__error(DP_ENOMEM, "out of memory for %d ROIs", n);
  obj->nrois = n;
  return DP_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

dp_status dp__label_set_refs(dp__label_obj *obj, const char *const *uids, int n) {
  obj->ref_sops = calloc((size_t)(n ? n : 1), sizeof *obj->ref_sops);
  if (!obj->ref_sops) return dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    if (!(obj->ref_sops[i] = strdup(uids[i]))) return dp__error(DP_ENOMEM, "out of memory");
    obj->nref_sops = i + 1;
  }
  if (n > 1) qsort(obj->ref_sops, (size_t)n, sizeof *obj->ref_sops, cmp_str);
  obj->info.nreferenced_images = n;
  return DP_OK;
}

void dp__label_warn(dp__label_obj *obj, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  size_t old = obj->warnings ? strlen(obj->warnings) : 0;
  if (old > 8192) return; /* enough said */
  char *w = realloc(obj->warnings, old + strlen(buf) + 3);
  if (!w) return;
  snprintf(w + old, strlen(buf) + 3, "%s%s", old ? "; " : "", buf);
  obj->warnings = w;
}

static const char *nz(const char *s) { return s ? s : ""; }

dp_status dp__label_obj_finish(dp__label_obj *obj) {
  dp_label_info *in = &obj->info;
  in->path = nz(obj->path);
  in->sop_instance_uid = obj->sop_uid;
  in->series_uid = obj->series_uid;
  in->frame_of_reference_uid = obj->for_uid;
  in->label = nz(obj->label);
  in->description = nz(obj->description);
  in->referenced_series_uid = obj->ref_series_uid;
  in->match = obj->match;
  in->warnings = nz(obj->warnings);
  in->nrois = obj->nrois;
  for (int i = 0; i < obj->nrois; i++) {
    dp__roi *r = &obj->rois[i];
    r->pub.name = nz(r->name);
    r->pub.algorithm = nz(r->algorithm);
    r->pub.type = nz(r->type);
    r->pub.category = nz(r->category);
  }
  /* the public array: the pub members, laid out contiguously */
  dp_label_roi *pub = calloc(obj->nrois > 0 ? (size_t)obj->nrois : 1, sizeof *pub);
  if (!pub) return dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; i < obj->nrois; i++) pub[i] = obj->rois[i].pub;
  free((void *)in->rois);
  in->rois = pub;
  return DP_OK;
}

void dp_label_free(dp_label_object *obj) {
  if (!obj) return;
  for (int i = 0; i < obj->nrois; i++) {
    dp__roi *r = &obj->rois[i];
    for (int k = 0; k < r->ncontours; k++) free(r->contours[k].xyz);
    free(r->contours);
    free(r->name);
    free(r->algorithm);
    free(r->type);
    free(r->category);
  }
  free(obj->rois);
  for (int i = 0; i < obj->nref_sops; i++) free(obj->ref_sops[i]);
  free(obj->ref_sops);
  free((void *)obj->info.rois);
  free(obj->frames);
  free(obj->pixels);
  free(obj->path);
  free(obj->label);
  free(obj->description);
  free(obj->warnings);
  free(obj);
}

dp_status dp_label_read(const char *path, dp_label_object **out) {
  *out = NULL;
  return dp__dcm_label_read(path, 1, out);
}

const dp_label_info *dp_label_object_info(const dp_label_object *obj) { return obj ? &obj->info : NULL; }

/* ---- CIELab (D50, DICOM's scaling) <-> sRGB (D65) ------------------------ */

static const double k_d50[3] = {0.96422, 1.0, 0.82521};
/* Bradford adaptation D50 -> D65, then XYZ -> linear sRGB */
static const double k_brad[3][3] = {{0.9555766, -0.0230393, 0.0631636},
                                    {-0.0282895, 1.0099416, 0.0210077},
                                    {0.0122982, -0.0204830, 1.3299098}};
static const double k_srgb[3][3] = {{3.2404542, -1.5371385, -0.4985314},
                                    {-0.9692660, 1.8760108, 0.0415560},
                                    {0.0556434, -0.2040259, 1.0572252}};

static void mul3(const double m[3][3], const double v[3], double out[3]) {
  for (int i = 0; i < 3; i++) out[i] = m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2];
}

static int inv3(const double m[3][3], double r[3][3]) {
  double d = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
             m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (fabs(d) < 1e-12) return -1;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int a = (j + 1) % 3, b = (j + 2) % 3, c = (i + 1) % 3, e = (i + 2) % 3;
      r[i][j] = (m[a][c] * m[b][e] - m[a][e] * m[b][c]) / d;
    }
  return 0;
}

void dp__cielab_to_rgb(const uint16_t lab[3], uint8_t rgb[3]) {
  double L = lab[0] * 100.0 / 65535.0, a = lab[1] * 255.0 / 65535.0 - 128, b = lab[2] * 255.0 / 65535.0 - 128;
  double f[3] = {(L + 16) / 116 + a / 500, (L + 16) / 116, (L + 16) / 116 - b / 200}, xyz[3], x65[3], lin[3];
  for (int i = 0; i < 3; i++) {
    double t = f[i];
    xyz[i] = k_d50[i] * (t > 6.0 / 29 ? t * t * t : 3 * (6.0 / 29) * (6.0 / 29) * (t - 4.0 / 29));
  }
  mul3(k_brad, xyz, x65);
  mul3(k_srgb, x65, lin);
  for (int i = 0; i < 3; i++) {
    double c = lin[i] < 0 ? 0 : lin[i] > 1 ? 1 : lin[i];
    c = c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055;
    rgb[i] = (uint8_t)floor(c * 255 + 0.5);
  }
}

void dp__rgb_to_cielab(const uint8_t rgb[3], uint16_t lab[3]) {
  double lin[3], x65[3], xyz[3], mi[3][3], bi[3][3], f[3];
  for (int i = 0; i < 3; i++) {
    double c = rgb[i] / 255.0;
    lin[i] = c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
  }
  if (inv3(k_srgb, mi) || inv3(k_brad, bi)) {
    lab[0] = lab[1] = lab[2] = 0;
    return;
  }
  mul3(mi, lin, x65);
  mul3(bi, x65, xyz);
  for (int i = 0; i < 3; i++) {
    double t = xyz[i] / k_d50[i];
    f[i] = t > pow(6.0 / 29, 3) ? cbrt(t) : t / (3 * (6.0 / 29) * (6.0 / 29)) + 4.0 / 29;
  }
  double L = 116 * f[1] - 16, a = 500 * (f[0] - f[1]), b = 200 * (f[1] - f[2]);
  double v[3] = {L / 100 * 65535, (a + 128) / 255 * 65535, (b + 128) / 255 * 65535};
  for (int i = 0; i < 3; i++) lab[i] = (uint16_t)(v[i] < 0 ? 0 : v[i] > 65535 ? 65535 : floor(v[i] + 0.5));
}
