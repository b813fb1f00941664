#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/geometry.h"
#include "dcmprep/nifti.h"
#include "dcmprep/pipeline.h"
#include "io/json.h"
#include "pipeline/pipeline_internal.h"

static const dp_step_desc table[] = {
    {"reorient", 1, "CODE",
     "reorder/flip the voxel axes to CODE (any of the 48: RAS, LPS, LAS, PIR,\n"
     "...); exact, no interpolation", 0},
    {"canonical", 0, NULL, "reorient to the closest RAS", 0},
    {"spacing", 1, "X,Y,Z",
     "resample to this spacing in mm per voxel axis (\"keep\" keeps an axis;\n"
     "one number for all); size round(extent / spacing), centre of the field\n"
     "of view kept",
     0},
    {"shape", 1, "I,J,K", "resample to this many voxels per axis (extent kept)", 0},
    {"like", 1, "REF.nii", "resample onto the grid of REF (dims and affine; oblique allowed)", 0},
    {"crop-or-pad", 1, "I,J,K", "centred crop or pad to this size (pad with the fill)", 0},
    {"crop-foreground", 2, "THRESH",
     "crop to the bounding box of the label > 0 (with --label), else of the\n"
     "voxels above THRESH (default: above the image minimum); see --margin",
     0},
    {"interp", 1, "MODE", "image interpolator: nearest | linear (default) | cubic (B-spline)", 1},
    {"label-interp", 1, "MODE", "label interpolator: nearest (default) | onehot", 1},
    {"fill", 1, "MODE", "image fill outside the field: min (default) | edge | a number", 1},
    {"no-antialias", 0, NULL, "no Gaussian prefilter when downsampling", 1},
    {"margin", 1, "MM", "margin around the foreground box (mm, default 0)", 1},
    {"window", 1, "C,W|PRESET|dicom",
     "CT window: [C - W/2, C + W/2] mapped linearly onto [0, 1], clamped\n"
     "(DICOM LINEAR_EXACT); PRESET: brain subdural stroke temporal-bone\n"
     "soft-tissue lung mediastinum abdomen liver bone; dicom: the header's\n"
     "first WindowCenter/WindowWidth; see --window-out",
     0},
    {"window-out", 1, "unit|u8|hu",
     "window output: unit (float32 0..1, default), u8 (0..255) or hu (the\n"
     "input type, clamped to the window)",
     1},
    {"clip", 1, "LO,HI", "clamp values to [LO, HI] (type kept; integers: [ceil LO, floor HI])", 0},
    {"clip-percentile", 1, "PLO,PHI",
     "clamp to the PLO and PHI percentiles of the voxels in --mask (default\n"
     "all), exactly as numpy.percentile (linear)",
     0},
    {"normalize", 1, "MODE",
     "zscore (over --mask, default nonzero) | zscore:mean=M,std=S | minmax\n"
     "([0,1], --mask default all) | range:A,B; float32 output; the\n"
     "statistics used go to the sidecar",
     0},
    {"mask", 1, "all|nonzero|label|above:T",
     "voxels the statistics of clip-percentile and normalize come from\n"
     "(label: the --label volume > 0)",
     1},
    {"dtype", 1, "u8|i16|f32",
     "cast the image (also u16, i32, f64): rounded half away from zero,\n"
     "clamped to the type's range, never wrapped",
     0},
    {"flip", 1, "AXES",
     "mirror the content along these axes: i, j, k (voxel axes) or x, y, z\n"
     "(the voxel axis closest to world R-L, A-P, S-I), e.g. i or x,z; grid kept.\n"
     "Augmentation steps (flip ... rand-offset) take an optional @P: applied\n"
     "with probability P, e.g. --rand-rotate 15@0.5; see docs/augmentation.md",
     0},
    {"rand-flip", 2, "AXES", "flip each listed axis (default i,j,k) with probability 0.5", 0},
    {"rand-rotate", 1, "DEG|DX,DY,DZ",
     "rotate about the world x, y, z axes through the volume centre by angles\n"
     "uniform in [-D, D] degrees (or LO:HI), one value for all three axes",
     0},
    {"rand-zoom", 1, "MIN,MAX",
     "zoom about the centre by a factor uniform in [MIN, MAX] (> 1 magnifies);\n"
     "one factor for all axes unless --anisotropic",
     0},
    {"anisotropic", 0, NULL, "rand-zoom draws one factor per voxel axis", 1},
    {"rand-shift", 1, "MM|F%",
     "move the content along each voxel axis by a shift uniform in [-MM, MM]\n"
     "mm (or [-F, F] % of the extent; one or three values, or LO:HI)",
     0},
    {"rand-elastic", 1, "ALPHA,SIGMA",
     "elastic deformation (Simard/U-Net): per axis ALPHA x uniform noise in\n"
     "[-1, 1] smoothed by a Gaussian of SIGMA, in voxels (or ALPHAmm,SIGMAmm)",
     0},
    {"rand-crop", 1, "I,J,K", "crop to I,J,K voxels at a uniformly drawn origin", 0},
    {"rand-crop-label", 1, "I,J,K[,POS]",
     "crop to I,J,K centred on a random label voxel with probability POS\n"
     "(default 1), else anywhere; needs --label",
     0},
    {"rand-noise", 1, "STD", "add Gaussian noise of standard deviation STD (image only)", 0},
    {"rand-gamma", 1, "LO,HI",
     "gamma contrast, gamma uniform in [LO, HI]: min + range ((x - min) / range)^gamma", 0},
    {"rand-scale", 1, "LO,HI", "multiply the image by a factor uniform in [LO, HI]", 0},
    {"rand-offset", 1, "LO,HI", "add an offset uniform in [LO, HI] to the image", 0},
    {"seed", 1, "S",
     "seed of the random steps (integer in [0, 2^53), default 0); draws depend\n"
     "only on the seed, the input's file name, the variant and the step's place",
     1},
    {NULL, 0, NULL, NULL, 0}};

const dp_step_desc *dp_step_table(void) { return table; }

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

/* "a,b": two finite numbers */
static dp_status parse2(const char *opt, const char *arg, double out[2]) {
  const char *p = arg ? arg : "";
  for (int n = 0; n < 2; n++) {
    char *end = NULL;
    errno = 0;
    out[n] = strtod(p, &end);
    if (end == p || errno || !isfinite(out[n]) || *end != (n ? '\0' : ','))
      return dp__error(DP_EINVAL, "--%s %s: expected two numbers A,B", opt, arg ? arg : "");
    p = end + 1;
  }
  return DP_OK;
}

static dp_status parse_normalize(const char *arg, dp_step *step) {
  step->kind = DP_STEP_NORMALIZE;
  if (!arg) arg = "";
  if (!strcmp(arg, "zscore")) step->mode = DP_NORM_ZSCORE;
  else if (!strcmp(arg, "minmax")) step->mode = DP_NORM_MINMAX;
  else if (!strncmp(arg, "range:", 6)) {
    step->mode = DP_NORM_RANGE;
    dp_status s = parse2("normalize range:", arg + 6, step->v);
    if (s == DP_OK && !(step->v[0] < step->v[1]))
      return dp__error(DP_EINVAL, "--normalize %s: need A < B", arg);
    return s;
  } else if (!strncmp(arg, "zscore:", 7)) {
    step->mode = DP_NORM_ZSCORE;
    step->fixed = 1;
    char *end = NULL;
    const char *p = arg + 7;
    if (strncmp(p, "mean=", 5)) goto bad;
    step->v[0] = strtod(p + 5, &end);
    if (end == p + 5 || strncmp(end, ",std=", 5)) goto bad;
    p = end + 5;
    step->v[1] = strtod(p, &end);
    if (end == p || *end || !isfinite(step->v[0]) || !isfinite(step->v[1]) || !(step->v[1] > 0)) goto bad;
  } else {
    return dp__error(DP_EINVAL, "--normalize %s: zscore, zscore:mean=M,std=S, minmax or range:A,B", arg);
  }
  return DP_OK;
bad:
  return dp__error(DP_EINVAL, "--normalize %s: expected zscore:mean=M,std=S with S > 0", arg);
}

static dp_status parse_intensity(const char *name, const char *arg, dp_step *step, int *found) {
  *found = 1;
  if (!strcmp(name, "window")) {
    step->kind = DP_STEP_WINDOW;
    const dp_window_preset *p = dp_window_preset_find(arg);
    if (arg && !strcmp(arg, "dicom")) {
      step->mode = DP_WINDOW_FROM_DICOM;
    } else if (p) {
      step->mode = DP_WINDOW_FROM_PRESET;
      snprintf(step->name, sizeof step->name, "%s", p->name);
      step->v[0] = p->center;
      step->v[1] = p->width;
    } else {
      step->mode = DP_WINDOW_FROM_VALUES;
      if (parse2(name, arg, step->v) != DP_OK || !(step->v[1] > 0))
        return dp__error(DP_EINVAL, "--window %s: C,W with W > 0, a preset (brain, lung, ...; see "
                         "dcmprep help prep) or dicom", arg ? arg : "");
    }
    return DP_OK;
  }
  if (!strcmp(name, "clip")) {
    step->kind = DP_STEP_CLIP;
    dp_status s = parse2(name, arg, step->v);
    if (s == DP_OK && step->v[0] > step->v[1]) return dp__error(DP_EINVAL, "--clip %s: LO > HI", arg);
    return s;
  }
  if (!strcmp(name, "clip-percentile")) {
    step->kind = DP_STEP_CLIP_PERCENTILE;
    dp_status s = parse2(name, arg, step->v);
    if (s == DP_OK && !(step->v[0] >= 0 && step->v[0] <= step->v[1] && step->v[1] <= 100))
      return dp__error(DP_EINVAL, "--clip-percentile %s: need 0 <= PLO <= PHI <= 100", arg);
    return s;
  }
  if (!strcmp(name, "normalize")) return parse_normalize(arg, step);
  if (!strcmp(name, "dtype")) {
    step->kind = DP_STEP_DTYPE;
    if (dp_dtype_parse(arg ? arg : "", &step->dtype) != DP_OK)
      return dp__error(DP_EINVAL, "--dtype %s: u8, i16, u16, i32, f32 or f64", arg ? arg : "");
    return DP_OK;
  }
  *found = 0;
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

dp_status dp_step_parse(const char *name, const char *arg, dp_step *step, int *is_step,
                        dp_pipeline_settings *st) {
  memset(step, 0, sizeof *step);
  *is_step = 1;
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
  int found = 0;
  dp_status si = parse_intensity(name, arg, step, &found);
  if (found) return si;
  si = dp__parse_augment(name, arg, step, &found);
  if (found) return si;
  *is_step = 0;
  si = dp__parse_augment_setting(name, arg, st, &found);
  if (found) return si;
  if (!strcmp(name, "window-out")) {
    if (arg && !strcmp(arg, "unit")) st->window_out = DP_WINDOW_UNIT;
    else if (arg && !strcmp(arg, "u8")) st->window_out = DP_WINDOW_U8;
    else if (arg && !strcmp(arg, "hu")) st->window_out = DP_WINDOW_HU;
    else return dp__error(DP_EINVAL, "--window-out %s: unit, u8 or hu", arg ? arg : "");
    return DP_OK;
  }
  if (!strcmp(name, "mask")) {
    dp_status s = dp_mask_parse(arg, &st->mask);
    if (s == DP_OK) st->has_mask = 1;
    return s;
  }
  if (!strcmp(name, "interp")) {
    dp_status s = dp_interp_parse(arg, &st->interp);
    if (s == DP_OK && st->interp == DP_INTERP_ONEHOT)
      return dp__error(DP_EINVAL, "--interp onehot is for labels (--label-interp onehot)");
    return s;
  }
  if (!strcmp(name, "label-interp")) {
    dp_status s = dp_interp_parse(arg, &st->label_interp);
    if (s == DP_OK && st->label_interp != DP_INTERP_NEAREST && st->label_interp != DP_INTERP_ONEHOT)
      return dp__error(DP_EINVAL, "--label-interp %s: labels take nearest or onehot", arg);
    return s;
  }
  if (!strcmp(name, "fill")) {
    if (arg && !strcmp(arg, "min")) st->fill = DP_FILL_MIN;
    else if (arg && !strcmp(arg, "edge")) st->fill = DP_FILL_EDGE;
    else {
      char *end = NULL;
      double v = arg ? strtod(arg, &end) : 0;
      if (!arg || end == arg || *end || !isfinite(v))
        return dp__error(DP_EINVAL, "--fill %s: min, edge or a number", arg ? arg : "");
      st->fill = DP_FILL_CONSTANT;
      st->fill_value = v;
    }
    return DP_OK;
  }
  if (!strcmp(name, "no-antialias")) {
    st->antialias = 0;
    return DP_OK;
  }
  if (!strcmp(name, "margin")) {
    char *end = NULL;
    double v = arg ? strtod(arg, &end) : -1;
    if (!arg || end == arg || *end || !(v >= 0) || !isfinite(v))
      return dp__error(DP_EINVAL, "--margin %s: a non-negative number of mm", arg ? arg : "");
    st->margin_mm = v;
    return DP_OK;
  }
  return dp__error(DP_EINVAL, "unknown step --%s", name);
}

/* ---- running ----------------------------------------------------------- */

static const char *fill_name(dp_fill f) {
  return f == DP_FILL_MIN ? "min" : f == DP_FILL_EDGE ? "edge" : "constant";
}

/* Appends the step record j (an object) to the image's PrepSteps array. */
static dp_status record(dp_volume *img, dp__json *j) {
  char *text = NULL;
  size_t len = 0;
  dp_status s = dp__json_finish(j, &text, &len);
  if (s != DP_OK) return s;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ')) text[--len] = '\0';
  const char *old = dp_volume_meta_get(img, "PrepSteps", NULL);
  size_t n = (old ? strlen(old) : 2) + len + 4;
  char *arr = malloc(n);
  if (!arr) {
    free(text);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  if (old && strlen(old) > 2) snprintf(arr, n, "%.*s, %s]", (int)(strlen(old) - 1), old, text);
  else snprintf(arr, n, "[%s]", text);
  s = dp_volume_meta_set_json(img, "PrepSteps", arr);
  free(arr);
  free(text);
  return s;
}

static int same_grid(const dp_volume *a, const dp_volume *b) {
  for (int d = 0; d < 3; d++)
    if (a->dim[d] != b->dim[d]) return 0;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      if (fabs(a->ijk_to_ras.m[r][c] - b->ijk_to_ras.m[r][c]) > 1e-3) return 0;
  return 1;
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

static dp_status run_step(const dp_step *sp, const dp_pipeline_settings *st, const dp_volume *img,
                          dp_volume *own, const dp_volume *lab, dp_volume **nimg, dp_volume **nlab,
                          dp__json *j) {
  dp_status s = DP_OK;
  switch (sp->kind) {
    case DP_STEP_REORIENT:
    case DP_STEP_CANONICAL: {
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
    case DP_STEP_SPACING:
    case DP_STEP_SHAPE:
    case DP_STEP_LIKE: {
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
      dp__json_str(j, "fill", fill_name(st->fill));
      if (st->fill == DP_FILL_CONSTANT) dp__json_num(j, "fill_value", st->fill_value);
      if (aa) dp__json_vec3(j, "antialias_sigma_voxels", sigma);
      else dp__json_null(j, "antialias_sigma_voxels");
      if (lab) dp__json_str(j, "label_interp", dp_interp_name(st->label_interp));
      dp__json_mat4(j, "ijk_to_ras", &aff);
      return DP_OK;
    }
    case DP_STEP_CROP_OR_PAD:
    case DP_STEP_CROP_FOREGROUND: {
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
      dp__json_str(j, "fill", fill_name(st->fill));
      return DP_OK;
    }
    case DP_STEP_WINDOW:
    case DP_STEP_CLIP:
    case DP_STEP_CLIP_PERCENTILE:
    case DP_STEP_NORMALIZE:
    case DP_STEP_DTYPE:
      /* images only: the label is left as it is (it may be the mask) */
      return dp__run_intensity_step(sp, st, img, own, lab, nimg, j);
    default: break; /* augmentation: run by dp_pipeline_run, which knows the step's index */
  }
  return dp__error(DP_EINVAL, "unknown step %d", (int)sp->kind);
}

/* The step loop (see pipeline_internal.h). */
dp_status dp__pipeline_run_keep(const dp_step *steps, int nsteps, const dp_pipeline_settings *settings,
                                dp_volume **image, dp_volume **label, const dp_volume *keep_img,
                                const dp_volume *keep_lab) {
  if (!image || !*image) return dp__error(DP_EINVAL, "no image");
  dp_pipeline_settings st = DP_PIPELINE_SETTINGS_INIT;
  if (settings) st = *settings;
  dp_volume *lab = label ? *label : NULL;
  if (lab && !same_grid(*image, lab))
    return dp__error(DP_EGEOMETRY,
                     "the label is not on the image's grid (dims %lldx%lldx%lld vs %lldx%lldx%lld, or "
                     "affines differ by more than 1e-3 mm): resample it first with --like",
                     (long long)lab->dim[0], (long long)lab->dim[1], (long long)lab->dim[2],
                     (long long)(*image)->dim[0], (long long)(*image)->dim[1], (long long)(*image)->dim[2]);
  if (lab && dp_dtype_is_float(lab->dtype) && st.label_interp == DP_INTERP_ONEHOT)
    return dp__error(DP_EINVAL, "onehot needs an integer label volume, not %s", dp_dtype_name(lab->dtype));
  for (int i = 0; i < nsteps; i++) {
    dp_volume *ni = NULL, *nl = NULL;
    dp__json j;
    dp__json_init(&j, 0);
    dp__json_begin_object(&j, NULL);
    int span = 0; /* adjacent spatial augmentation steps: one chain, one warp */
    while (i + span < nsteps && dp_step_is_spatial_augment(steps[i + span].kind)) span++;
    dp_status s;
    if (span) s = dp__run_augment_spatial(steps, i, span, &st, *image, lab, &ni, &nl, &j);
    else if (dp__step_is_intensity_augment(steps[i].kind))
      s = dp__run_augment_intensity(&steps[i], i, &st, *image, &ni, &j);
    else /* the loop's own heap image may be reused by the step (the caller's kept
          * input and a mapped file's pages may not) */
      s = run_step(&steps[i], &st, *image, *image == keep_img || dp_volume_is_mapped(*image) ? NULL : *image, lab,
                   &ni, &nl, &j);
    if (span) i += span - 1;
    dp__json_end_object(&j);
    /* inputs mapped from files that changed under the step: an error, not
     * a silently wrong result (dp_volume_check) */
    if (s == DP_OK) s = dp_volume_check(*image);
    if (s == DP_OK && lab) s = dp_volume_check(lab);
    if (s == DP_OK) s = record(ni, &j);
    else dp__json_free(&j);
    if (s != DP_OK) {
      if (ni != *image) dp_volume_free(ni); /* (an in-place step's result is the image) */
      dp_volume_free(nl);
      return s;
    }
    if (ni != *image && *image != keep_img) dp_volume_free(*image);
    *image = ni;
    if (lab && nl) { /* intensity steps leave the label alone (nl NULL) */
      if (lab != keep_lab) dp_volume_free(lab);
      lab = nl;
      *label = nl;
    }
  }
  return DP_OK;
}

dp_status dp_pipeline_run(const dp_step *steps, int nsteps, const dp_pipeline_settings *settings,
                          dp_volume **image, dp_volume **label) {
  return dp__pipeline_run_keep(steps, nsteps, settings, image, label, NULL, NULL);
}

const char *dp_step_word(int i, int *arg, int *is_setting, const char **metavar, const char **help) {
  const int n = (int)(sizeof table / sizeof table[0]) - 1;
  if (i < 0 || i >= n) return NULL;
  if (arg) *arg = table[i].arg;
  if (is_setting) *is_setting = table[i].is_setting;
  if (metavar) *metavar = table[i].metavar;
  if (help) *help = table[i].help;
  return table[i].name;
}
