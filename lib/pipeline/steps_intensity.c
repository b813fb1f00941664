/* The pipeline's intensity steps (window, clip, clip-percentile, normalize,
 * dtype): their parsing from the words of the step table (step_table.c),
 * their parameters resolved (preset, DICOM window, mask, percentiles), the
 * library called and what was used recorded. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/convert.h"
#include "core/internal.h"
#include "ops/intensity_internal.h"
#include "pipeline/pipeline_internal.h"

/* ---- parsing --------------------------------------------------------------- */

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

dp_status dp__parse_intensity(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st) {
  (void)st;
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
  return dp__error(DP_EINVAL, "unknown step --%s", name);
}

/* ---- running ---------------------------------------------------------------- */

static const char *window_out_name(dp_window_out o) {
  return o == DP_WINDOW_U8 ? "u8" : o == DP_WINDOW_HU ? "hu" : "unit";
}

static const char *norm_name(int mode) {
  return mode == DP_NORM_MINMAX ? "minmax" : mode == DP_NORM_RANGE ? "range" : "zscore";
}

/* The step's mask: --mask when given, else its default; the label volume
 * backs "label". */
static dp_status step_mask(const dp_pipeline_settings *st, dp_mask_kind dflt, const dp_volume *lab,
                           dp_mask *m) {
  dp_mask d = DP_MASK_INIT;
  d.kind = dflt;
  *m = st->has_mask ? st->mask : d;
  if (m->kind == DP_MASK_LABEL) {
    if (!lab) return dp__error(DP_EINVAL, "--mask label needs a label volume (--label)");
    m->label = lab;
  }
  return DP_OK;
}

static void json_mask(dp__json *j, const dp_mask *m) {
  char name[64];
  dp_mask_format(m, name, sizeof name);
  dp__json_str(j, "mask", name);
}

/* Each step's plan (intensity_internal.h) and record; the record is kept
 * only once the plan has run (dp_pipeline_run drops it on failure). */
static dp_status plan_window(const dp_step *sp, const dp_pipeline_settings *st, const dp_volume *img,
                             dp__ew_plan **plan, dp__json *j) {
  dp_window_opts o = DP_WINDOW_OPTS_INIT;
  o.center = sp->v[0];
  o.width = sp->v[1];
  if (sp->mode == DP_WINDOW_FROM_DICOM) {
    dp_status s = dp_window_from_meta(img, &o.center, &o.width);
    if (s != DP_OK) return dp__error_prefix(s, "--window dicom");
  }
  o.out = st->window_out;
  o.threads = st->threads;
  dp_status s = dp__window_plan(img, &o, plan);
  if (s != DP_OK) return s;
  dp__json_str(j, "step", "window");
  dp__json_str(j, "source", sp->mode == DP_WINDOW_FROM_DICOM ? "dicom"
                            : sp->mode == DP_WINDOW_FROM_PRESET ? sp->name : "values");
  dp__json_num(j, "center", o.center);
  dp__json_num(j, "width", o.width);
  dp__json_num(j, "low", o.center - o.width / 2);
  dp__json_num(j, "high", o.center + o.width / 2);
  dp__json_str(j, "out", window_out_name(o.out));
  dp__json_str(j, "dtype", dp_dtype_name(dp__ew_plan_dtype(*plan)));
  return DP_OK;
}

static dp_status plan_clip(const dp_step *sp, const dp_pipeline_settings *st, const dp_volume *img,
                           const dp_volume *lab, dp__ew_plan **plan, dp__json *j) {
  dp_clip_opts o = DP_CLIP_OPTS_INIT;
  o.threads = st->threads;
  o.lo = sp->v[0];
  o.hi = sp->v[1];
  dp_mask m = DP_MASK_INIT;
  int64_t count = 0;
  if (sp->kind == DP_STEP_CLIP_PERCENTILE) {
    dp_status s = step_mask(st, DP_MASK_ALL, lab, &m);
    double v[2];
    if (s == DP_OK) s = dp_percentiles(&img, &m, 1, sp->v, 2, st->threads, v, &count);
    if (s != DP_OK) return dp__error_prefix(s, "--clip-percentile");
    o.lo = v[0];
    o.hi = v[1];
  }
  dp_status s = dp__clip_plan(img, &o, plan);
  if (s != DP_OK) return s;
  dp__json_str(j, "step", sp->kind == DP_STEP_CLIP ? "clip" : "clip-percentile");
  if (sp->kind == DP_STEP_CLIP_PERCENTILE) {
    dp__json_begin_array(j, "percentiles");
    dp__json_num(j, NULL, sp->v[0]);
    dp__json_num(j, NULL, sp->v[1]);
    dp__json_end_array(j);
    json_mask(j, &m);
    dp__json_int(j, "mask_voxels", count);
  }
  dp__json_num(j, "low", o.lo);
  dp__json_num(j, "high", o.hi);
  dp__json_str(j, "dtype", dp_dtype_name(dp__ew_plan_dtype(*plan)));
  if (!dp_dtype_is_float(img->dtype)) {
    /* integer data keep their type: the bounds that act are the integers
     * inside [low, high] (the same voxels stay unchanged); say so when that
     * differs from the bounds asked for or computed */
    double alo = ceil(o.lo), ahi = floor(o.hi);
    if (alo != o.lo || ahi != o.hi) {
      dp__json_bool(j, "rounded", 1);
      dp__json_num(j, "low_applied", alo);
      dp__json_num(j, "high_applied", ahi);
    }
  }
  return DP_OK;
}

static dp_status plan_normalize(const dp_step *sp, const dp_pipeline_settings *st,
                                const dp_volume *img, const dp_volume *lab, dp__ew_plan **plan,
                                dp__json *j) {
  dp_normalize_opts o = DP_NORMALIZE_OPTS_INIT;
  o.mode = (dp_norm_mode)sp->mode;
  o.threads = st->threads;
  o.fixed = sp->fixed;
  if (sp->fixed) {
    o.mean = sp->v[0];
    o.std = sp->v[1];
  } else {
    dp_status s = step_mask(st, o.mode == DP_NORM_ZSCORE ? DP_MASK_NONZERO : DP_MASK_ALL, lab, &o.mask);
    if (s != DP_OK) return s;
  }
  if (o.mode == DP_NORM_RANGE) {
    o.a = sp->v[0];
    o.b = sp->v[1];
  }
  dp_masked_stats used;
  dp_status s = dp__normalize_plan(img, &o, plan, &used);
  if (s != DP_OK) return s;
  dp__json_str(j, "step", "normalize");
  dp__json_str(j, "mode", norm_name(o.mode));
  if (sp->fixed) {
    dp__json_str(j, "statistics", "given");
  } else {
    json_mask(j, &o.mask);
    dp__json_int(j, "mask_voxels", used.count);
  }
  if (o.mode == DP_NORM_ZSCORE) {
    dp__json_num(j, "mean", used.mean);
    dp__json_num(j, "std", used.std);
  } else {
    dp__json_num(j, "min", used.min);
    dp__json_num(j, "max", used.max);
    dp__json_begin_array(j, "range");
    dp__json_num(j, NULL, o.mode == DP_NORM_RANGE ? o.a : 0);
    dp__json_num(j, NULL, o.mode == DP_NORM_RANGE ? o.b : 1);
    dp__json_end_array(j);
  }
  dp__json_str(j, "dtype", dp_dtype_name(dp__ew_plan_dtype(*plan)));
  return DP_OK;
}

static dp_status run_dtype(const dp_step *sp, const dp_pipeline_settings *st, const dp_volume *img,
                           dp_volume *own, dp_volume **nimg, dp__json *j) {
  dp__convert_stats cs;
  dp__convert_stats_init(&cs);
  dp_status s = DP_OK;
  if (own && own->dtype == sp->dtype) {
    *nimg = own; /* already that type */
  } else {
    s = dp__volume_new_like_uninit(img, sp->dtype, nimg);
    dp__convert c = {.src = (dp__elem)img->dtype, .slope = 1, .dst = sp->dtype};
    if (s == DP_OK)
      dp__convert_run(&c, img->data, (*nimg)->data, (size_t)dp_volume_nvox(img), st->threads, &cs);
  }
  if (s != DP_OK) return s;
  dp__json_str(j, "step", "dtype");
  dp__json_str(j, "from", dp_dtype_name(img->dtype));
  dp__json_str(j, "to", dp_dtype_name(sp->dtype));
  /* whether the cast had to clamp: nothing wraps around, but say so */
  dp__json_bool(j, "clamped", cs.clamped > 0);
  return DP_OK;
}

dp_status dp__intensity_plan(const dp__step_run *r, dp__ew_plan **plan) {
  const dp_step *sp = r->step;
  *plan = NULL;
  /* images only: the label is left as it is (it may be the mask) */
  switch (sp->kind) {
    case DP_STEP_WINDOW: return plan_window(sp, r->st, r->img, plan, r->j);
    case DP_STEP_CLIP:
    case DP_STEP_CLIP_PERCENTILE: return plan_clip(sp, r->st, r->img, r->lab, plan, r->j);
    case DP_STEP_NORMALIZE: return plan_normalize(sp, r->st, r->img, r->lab, plan, r->j);
    default: return DP_OK; /* dtype: a conversion, not a plan */
  }
}

dp_status dp__run_intensity(const dp__step_run *r) {
  const dp_step *sp = r->step;
  if (sp->kind == DP_STEP_DTYPE) return run_dtype(sp, r->st, r->img, r->own, r->nimg, r->j);
  dp__ew_plan *plan = NULL;
  dp_status s = dp__intensity_plan(r, &plan);
  if (s == DP_OK && !plan) s = dp__error(DP_EINVAL, "step %d is not an intensity step", (int)sp->kind);
  if (s == DP_OK && r->own && (sp->kind == DP_STEP_CLIP || sp->kind == DP_STEP_CLIP_PERCENTILE)) {
    /* the caller's own volume, freed next otherwise: clipped where it is */
    s = dp__ew_plan_apply_in_place(plan, r->own, r->st->threads);
    if (s == DP_OK) *r->nimg = r->own;
  } else if (s == DP_OK) {
    s = dp__ew_plan_apply(plan, r->st->threads, r->nimg);
  }
  dp__ew_plan_free(plan);
  return s;
}
