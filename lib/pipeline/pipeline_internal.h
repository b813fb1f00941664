/* Internals of the pipeline (dp__ prefix, not exported). */
#ifndef DCMPREP_PIPELINE_INTERNAL_H
#define DCMPREP_PIPELINE_INTERNAL_H

#include "dcmprep/pipeline.h"
#include "io/json.h"

/* Runs one intensity step (window, clip, clip-percentile, normalize, dtype)
 * on img into *nimg and writes its record members to j.  The label is only
 * read, as the mask of --mask label.  own, when not NULL, is img itself,
 * which the caller would free after the step: a step that keeps the type
 * may then work in its buffer and return it as *nimg. */
dp_status dp__run_intensity_step(const dp_step *sp, const dp_pipeline_settings *st,
                                 const dp_volume *img, dp_volume *own, const dp_volume *lab,
                                 dp_volume **nimg, dp__json *j);

/* dp_pipeline_run's step loop (pipeline.c).  Volumes equal to keep_img /
 * keep_lab belong to someone else: they are replaced but never freed (the
 * caller of dp_pipeline_apply keeps its inputs). */
dp_status dp__pipeline_run_keep(const dp_step *steps, int nsteps, const dp_pipeline_settings *settings,
                                dp_volume **image, dp_volume **label, const dp_volume *keep_img,
                                const dp_volume *keep_lab);

/* Augmentation (augment_parse.c, augment_steps.c). */
int dp__step_is_intensity_augment(dp_step_kind kind);

/* Parses an augmentation step word; *found = 0 when name is not one. */
dp_status dp__parse_augment(const char *name, const char *arg, dp_step *step, int *found);

/* Parses --seed and --anisotropic; *found = 0 for other names. */
dp_status dp__parse_augment_setting(const char *name, const char *arg, dp_pipeline_settings *st,
                                    int *found);

/* Runs steps[first .. first + count - 1] (spatial augmentation steps) as one
 * chain: one warp of the image and one of the label (when not NULL), and one
 * record in j listing every step's draws and the composed mapping. */
dp_status dp__run_augment_spatial(const dp_step *steps, int first, int count,
                                  const dp_pipeline_settings *st, const dp_volume *img,
                                  const dp_volume *lab, dp_volume **nimg, dp_volume **nlab,
                                  dp__json *j);

/* Runs one random intensity step (step number index) on the image. */
dp_status dp__run_augment_intensity(const dp_step *sp, int index, const dp_pipeline_settings *st,
                                    const dp_volume *img, dp_volume **nimg, dp__json *j);

#endif
