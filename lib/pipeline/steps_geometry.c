/* The geometric steps: reorient, canonical, spacing, shape, like,
 * crop-or-pad, crop-foreground - their parsing from the words of the step
 * table (step_table.c), their running on image and label, and their records
 * in PrepSteps. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "dcmprep/nifti.h"
#include "pipeline/pipeline_internal.h"

/* "a,b,c" or one value for all three; "keep" (when allowed) gives -1. */
static dp_status parse3(const char *opt, const char *arg, int allow_keep, double out[3]) {
  if (!arg || !*arg) return dp__error(DP_EINVAL, "--%s needs a value", opt);
  const char *p = arg;
  int n = 0;
  while (n < 3) {
    char *end = NULL;
    if (allow_keep && strncmp(p, "keep", 4) == 0) {
      out[n++] = -1;
      end = (char *)p + 4;
    } else {
      errno = 0;
      double v = strtod(p, &end);
      if (end == p || errno || !isfinite(v) || !(v > 0))
        return dp__error(DP_EINVAL, "--%s %s: '%s' is not a positive number", opt, arg, p);
      out[n++] = v;
    }
    if (*end == '\0') break;
    if (*end != ',') return dp__error(DP_EINVAL, "--%s %s: expected numbers separated by commas", opt, arg);
    p = end + 1;
  }
  if (n == 1) out[1] = out[2] = out[0];
  else if (n != 3 || *p == '\0') return dp__error(DP_EINVAL, "--%s %s: give one or three values", opt, arg);
  return DP_OK;
}

static dp_status parse3i(const char *opt, const char *arg, int64_t out[3]) {
  double v[3];
  dp_status s = parse3(opt, arg, 0, v);
  if (s != DP_OK) return s;
  for (int d = 0; d < 3; d++) {
    if (v[d] != floor(v[d]) || v[d] > 2147483647.0)
      return dp__error(DP_EINVAL, "--%s %s: %g is not a whole number of voxels", opt, arg, v[d]);
    out[d] = (int64_t)v[d];
  }
  return DP_OK;
}

dp_status dp__parse_geometry(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st) {
  (void)st;
  if (!strcmp(name, "reorient")) {
    int axis[3], flip[3];
    dp_status s = dp_axcodes_parse(arg, axis, flip);
    if (s != DP_OK) return s;
    step->kind = DP_STEP_REORIENT;
    snprintf(step->code, sizeof step->code, "%s", arg);
    return DP_OK;
  }
  if (!strcmp(name, "canonical")) {
    step->kind = DP_STEP_CANONICAL;
    return DP_OK;
  }
  if (!strcmp(name, "spacing")) {
    step->kind = DP_STEP_SPACING;
    return parse3(name, arg, 1, step->v);
  }
  if (!strcmp(name, "shape")) {
    step->kind = DP_STEP_SHAPE;
    return parse3i(name, arg, step->n);
  }
  if (!strcmp(name, "crop-or-pad")) {
    step->kind = DP_STEP_CROP_OR_PAD;
    return parse3i(name, arg, step->n);
  }
  if (!strcmp(name, "like")) {
    if (!arg || !*arg || strlen(arg) >= sizeof step->path)
      return dp__error(DP_EINVAL, "--like needs a reference NIfTI file");
    step->kind = DP_STEP_LIKE;
    snprintf(step->path, sizeof step->path, "%s", arg);
    return DP_OK;
  }
  if (!strcmp(name, "crop-foreground")) {
    step->kind = DP_STEP_CROP_FOREGROUND;
    if (arg && *arg) {
      char *end = NULL;
      step->threshold = strtod(arg, &end);
      if (end == arg || *end || !isfinite(step->threshold))
        return dp__error(DP_EINVAL, "--crop-foreground=%s: not a number", arg);
      step->has_threshold = 1;
    }
    return DP_OK;
  }
  return dp__error(DP_EINVAL, "unknown step --%s", name);
}

/* Applies the mapping of a resample (dim, affine, out_to_in) to the label. */
static dp_status warp_label(const dp_volume *lab, const int64_t dim[3], const dp_mat4 *aff,
                            const dp_mat4 *m, const dp_pipeline_settings *st, dp_volume **out) {
  dp_warp_opts w = DP_WARP_OPTS_INIT;
  w.interp = st->label_interp;
  w.fill = DP_FILL_CONSTANT;
  w.fill_value = 0;
  w.threads = st->threads;
  return dp_warp(lab, dim, aff, m, &w, out);
}

dp_status dp__run_reorient(const dp__step_run *r) {
  const dp_step *sp = r->step;
  const dp_volume *img = r->img, *lab = r->lab;
  dp_volume **nimg = r->nimg, **nlab = r->nlab;
  dp__json *j = r->j;
  dp_status s = DP_OK;
  const char *code = sp->kind == DP_STEP_CANONICAL ? "RAS" : sp->code;
  char from[4];
  int perm[3], flip[3];
  dp_volume_axcodes(img, from);
  s = dp_reorient(img, code, nimg, perm, flip);
  if (s == DP_OK && lab) s = dp_reorient(lab, code, nlab, NULL, NULL);
  if (s != DP_OK) return s;
  char to[4];
  dp_volume_axcodes(*nimg, to);
  dp__json_str(j, "step", sp->kind == DP_STEP_CANONICAL ? "canonical" : "reorient");
  dp__json_str(j, "from", from);
  dp__json_str(j, "to", to);
  dp__json_begin_array(j, "axes");
  for (int e = 0; e < 3; e++) dp__json_int(j, NULL, perm[e]);
  dp__json_end_array(j);
  dp__json_begin_array(j, "flipped");
  for (int e = 0; e < 3; e++) dp__json_bool(j, NULL, flip[e]);
  dp__json_end_array(j);
  return DP_OK;
}

dp_status dp__run_resample(const dp__step_run *r) {
  const dp_step *sp = r->step;
  const dp_pipeline_settings *st = r->st;
  const dp_volume *img = r->img, *lab = r->lab;
  dp_volume **nimg = r->nimg, **nlab = r->nlab;
  dp__json *j = r->j;
  dp_status s = DP_OK;
  dp_resample_opts ro = DP_RESAMPLE_OPTS_INIT;
  dp_volume *ref = NULL;
  if (sp->kind == DP_STEP_SPACING)
    for (int d = 0; d < 3; d++) ro.spacing[d] = sp->v[d];
  else if (sp->kind == DP_STEP_SHAPE)
    for (int d = 0; d < 3; d++) ro.shape[d] = sp->n[d];
  else {
    s = dp_nifti_read(sp->path, NULL, &ref, NULL);
    if (s != DP_OK) return s;
    ro.like = ref;
  }
  ro.interp = st->interp;
  ro.fill = st->fill;
  ro.fill_value = st->fill_value;
  ro.antialias = st->antialias;
  ro.threads = st->threads;
  int64_t dim[3];
  dp_mat4 aff, m;
  double sigma[3], before[3], after[3];
  s = dp_resample_grid(img, &ro, dim, &aff, &m, sigma);
  if (s == DP_OK) s = dp_resample(img, &ro, nimg);
  if (s == DP_OK && lab) s = warp_label(lab, dim, &aff, &m, st, nlab);
  dp_volume_free(ref);
  if (s != DP_OK) return s;
  dp_volume_spacing(img, before);
  dp_volume_spacing(*nimg, after);
  int aa = st->antialias && st->interp != DP_INTERP_NEAREST && (sigma[0] > 0 || sigma[1] > 0 || sigma[2] > 0);
  dp__json_str(j, "step", sp->kind == DP_STEP_SPACING ? "spacing" : sp->kind == DP_STEP_SHAPE ? "shape" : "like");
  if (sp->kind == DP_STEP_LIKE) dp__json_str(j, "reference", sp->path);
  dp__json_ivec3(j, "shape_before", img->dim);
  dp__json_ivec3(j, "shape", dim);
  dp__json_vec3(j, "spacing_before", before);
  dp__json_vec3(j, "spacing", after);
  dp__json_str(j, "interp", dp_interp_name(st->interp));
  dp__json_str(j, "fill", dp__fill_name(st->fill));
  if (st->fill == DP_FILL_CONSTANT) dp__json_num(j, "fill_value", st->fill_value);
  if (aa) dp__json_vec3(j, "antialias_sigma_voxels", sigma);
  else dp__json_null(j, "antialias_sigma_voxels");
  if (lab) dp__json_str(j, "label_interp", dp_interp_name(st->label_interp));
  dp__json_mat4(j, "ijk_to_ras", &aff);
  return DP_OK;
}

dp_status dp__run_crop(const dp__step_run *r) {
  const dp_step *sp = r->step;
  const dp_pipeline_settings *st = r->st;
  const dp_volume *img = r->img, *lab = r->lab;
  dp_volume **nimg = r->nimg, **nlab = r->nlab;
  dp__json *j = r->j;
  dp_status s = DP_OK;
  int64_t lo[3], dim[3];
  double thr = 0;
  const char *basis = "image";
  if (sp->kind == DP_STEP_CROP_OR_PAD) {
    for (int d = 0; d < 3; d++) dim[d] = sp->n[d];
    dp_crop_or_pad_box(img, dim, lo);
  } else {
    const dp_volume *src = img;
    if (!sp->has_threshold && lab) {
      src = lab;
      basis = "label > 0";
      thr = 0;
    } else if (sp->has_threshold) {
      thr = sp->threshold;
    } else {
      dp_volume_stats stt;
      s = dp_volume_compute_stats(img, &stt);
      if (s != DP_OK) return s;
      thr = stt.min;
    }
    s = dp_foreground_box(src, thr, st->margin_mm, lo, dim);
    if (s != DP_OK) return s;
  }
  s = dp_crop_box(img, lo, dim, st->fill, st->fill_value, st->threads, nimg);
  if (s == DP_OK && lab) s = dp_crop_box(lab, lo, dim, DP_FILL_CONSTANT, 0, st->threads, nlab);
  if (s != DP_OK) return s;
  dp__json_str(j, "step", sp->kind == DP_STEP_CROP_OR_PAD ? "crop-or-pad" : "crop-foreground");
  if (sp->kind == DP_STEP_CROP_FOREGROUND) {
    dp__json_str(j, "basis", basis);
    dp__json_num(j, "threshold", thr);
    dp__json_num(j, "margin_mm", st->margin_mm);
  }
  dp__json_ivec3(j, "shape_before", img->dim);
  dp__json_ivec3(j, "origin_voxel", lo);
  dp__json_ivec3(j, "shape", dim);
  dp__json_str(j, "fill", dp__fill_name(st->fill));
  return DP_OK;
}
