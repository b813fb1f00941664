/* Internals of the pipeline (dp__ prefix, not exported). */
#ifndef DCMPREP_PIPELINE_INTERNAL_H
#define DCMPREP_PIPELINE_INTERNAL_H

#include "dcmprep/pipeline.h"
#include "io/json.h"

/* ---- the step table (step_table.c) ------------------------------------------ */

/* What a step's run function gets: the step (index i of the pipeline), the
 * settings, the image and, when not NULL, the label; own is the image
 * itself when the caller would free it after the step (a step that keeps
 * the type may then work in its buffer and return it as *nimg), else
 * NULL.  The function sets *nimg (and *nlab when it moves the label; NULL
 * leaves the label as it is) and writes its record's members into j. */
typedef struct dp__step_run {
  const dp_step *step;
  int index;
  const dp_pipeline_settings *st;
  const dp_volume *img;
  dp_volume *own;
  const dp_volume *lab;
  dp_volume **nimg, **nlab;
  dp__json *j;
} dp__step_run;

/* Parses the argument of word name (a step of kind step->kind, set by the
 * caller, or a setting) into step or st; DP_EINVAL with a message. */
typedef dp_status (*dp__step_parse_fn)(const char *name, const char *arg, dp_step *step,
                                       dp_pipeline_settings *st);
typedef dp_status (*dp__step_run_fn)(const dp__step_run *r);

#define DP__SETTING (-1) /* the kind of a row that is a setting */

typedef struct dp__step_def {
  dp_step_desc desc;       /* the public description (dp_step_table) */
  int kind;                /* its dp_step_kind, or DP__SETTING */
  dp__step_parse_fn parse;
  dp__step_run_fn run;     /* NULL: a setting, or a spatial augmentation step
                              (run in chains by dp__run_augment_spatial) */
} dp__step_def;

/* The rows, terminated by one with desc.name NULL. */
extern const dp__step_def dp__steps[];

/* The row of a word or of a step kind; NULL when there is none. */
const dp__step_def *dp__step_find(const char *name);
const dp__step_def *dp__step_of_kind(dp_step_kind kind);

/* "min", "edge" or "constant", for records. */
static inline const char *dp__fill_name(dp_fill f) {
  return f == DP_FILL_MIN ? "min" : f == DP_FILL_EDGE ? "edge" : "constant";
}

/* ---- the families of steps: parse and run functions of the table's rows --- */

/* steps_geometry.c: reorient, canonical, spacing, shape, like, crop-or-pad,
 * crop-foreground. */
dp_status dp__parse_geometry(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st);
dp_status dp__run_reorient(const dp__step_run *r);
dp_status dp__run_resample(const dp__step_run *r);
dp_status dp__run_crop(const dp__step_run *r);

/* steps_intensity.c: window, clip, clip-percentile, normalize, dtype (the
 * image only; the label may be the mask of --mask label). */
dp_status dp__parse_intensity(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st);
dp_status dp__run_intensity(const dp__step_run *r);
/* The step's plan (window, clip, clip-percentile, normalize: settled,
 * recorded in r->j, not run; NULL for dtype), for a caller that streams
 * the output (dp_pipeline_write).  r->nimg is not used. */
struct dp__ew_plan;
dp_status dp__intensity_plan(const dp__step_run *r, struct dp__ew_plan **plan);

/* steps_settings.c: interp, label-interp, fill, no-antialias, margin,
 * window-out, mask. */
dp_status dp__parse_setting(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st);

/* dp_pipeline_run's step loop (pipeline.c).  Volumes equal to keep_img /
 * keep_lab belong to someone else: they are replaced but never freed (the
 * caller of dp_pipeline_apply keeps its inputs). */
dp_status dp__pipeline_run_keep(const dp_step *steps, int nsteps, const dp_pipeline_settings *settings,
                                dp_volume **image, dp_volume **label, const dp_volume *keep_img,
                                const dp_volume *keep_lab);

/* augment_parse.c, augment_steps.c: the augmentation steps and settings. */
dp_status dp__parse_augment(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st);
/* --seed and --anisotropic */
dp_status dp__parse_augment_setting(const char *name, const char *arg, dp_step *step,
                                    dp_pipeline_settings *st);

/* Runs steps[first .. first + count - 1] (spatial augmentation steps) as one
 * chain: one warp of the image and one of the label (when not NULL), and one
 * record in j listing every step's draws and the composed mapping. */
dp_status dp__run_augment_spatial(const dp_step *steps, int first, int count,
                                  const dp_pipeline_settings *st, const dp_volume *img,
                                  const dp_volume *lab, dp_volume **nimg, dp_volume **nlab,
                                  dp__json *j);

/* A random intensity step (rand-noise, rand-gamma, rand-scale, rand-offset). */
dp_status dp__run_augment_intensity(const dp__step_run *r);

#endif
