/* The pipeline runner: words parsed through the step table (step_table.c),
 * steps run in order on image and label, runs of adjacent spatial
 * augmentation steps composed into one chain, every step's record appended
 * to PrepSteps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/pipeline.h"
#include "io/json.h"
#include "io/nifti_header.h"
#include "ops/intensity_internal.h"
#include "pipeline/pipeline_internal.h"

/* ---- parsing: the step table's row for the word ------------------------------ */

dp_status dp_step_parse(const char *name, const char *arg, dp_step *step, int *is_step,
                        dp_pipeline_settings *st) {
  memset(step, 0, sizeof *step);
  *is_step = 1;
  const dp__step_def *d = dp__step_find(name);
  if (!d) return dp__error(DP_EINVAL, "unknown step --%s", name);
  *is_step = !d->desc.is_setting;
  if (*is_step) step->kind = (dp_step_kind)d->kind;
  return d->parse(name, arg, step, st);
}

/* ---- running ------------------------------------------------------------------- */

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

/* Runs step i through its table row.  The loop's own heap image may be
 * reused by the step (own); the caller's kept input and a mapped file's
 * pages may not. */
static dp_status run_one(const dp_step *sp, int i, const dp_pipeline_settings *st, dp_volume *img,
                         const dp_volume *keep_img, const dp_volume *lab, dp_volume **nimg,
                         dp_volume **nlab, dp__json *j) {
  const dp__step_def *d = dp__step_of_kind(sp->kind);
  if (!d || !d->run) return dp__error(DP_EINVAL, "unknown step %d", (int)sp->kind);
  dp_volume *own = img == keep_img || dp_volume_is_mapped(img) ? NULL : img;
  dp__step_run r = {sp, i, st, img, own, lab, nimg, nlab, j};
  return d->run(&r);
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
    else /* one step through its row of the table */
      s = run_one(&steps[i], i, &st, *image, keep_img, lab, &ni, &nl, &j);
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

/* ---- running and writing: the last voxel-wise step streamed to the file ----------- */

static void plan_gen(void *ctx, int64_t start, int64_t n, void *dst) {
  dp__ew_plan_range(ctx, start, n, dst);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

dp_status dp_pipeline_run_write(const dp_step *steps, int nsteps, const dp_pipeline_settings *settings,
                                dp_volume **image, dp_volume **label, const char *path,
                                const dp_nifti_write_opts *opts, dp_dtype *written) {
  if (written) *written = DP_DTYPE_NONE;
  if (!image || !*image || !path) return dp__error(DP_EINVAL, "no image or path");
  dp_nifti_write_opts o = DP_NIFTI_WRITE_OPTS_INIT;
  if (opts) o = *opts;
  const dp_step *last = nsteps > 0 ? &steps[nsteps - 1] : NULL;
  int gz = o.gzip > 0 || (o.gzip < 0 && ends_with(path, ".gz"));
  int stream = !gz && last && (last->kind == DP_STEP_WINDOW || last->kind == DP_STEP_CLIP ||
                               last->kind == DP_STEP_CLIP_PERCENTILE || last->kind == DP_STEP_NORMALIZE);
  dp_status s = dp__pipeline_run_keep(steps, stream ? nsteps - 1 : nsteps, settings, image, label, NULL, NULL);
  if (s != DP_OK) return s;
  if (!stream) {
    s = dp_nifti_write(*image, path, &o);
    if (s == DP_OK && written) *written = (*image)->dtype;
    return s;
  }
  dp_pipeline_settings st = DP_PIPELINE_SETTINGS_INIT;
  if (settings) st = *settings;
  /* the last step settled and recorded, then computed piece by piece as
   * the file is written: its output never exists whole */
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  dp__ew_plan *plan = NULL;
  dp__step_run r = {last, nsteps - 1, &st, *image, NULL, label ? *label : NULL, NULL, NULL, &j};
  s = dp__intensity_plan(&r, &plan);
  dp__json_end_object(&j);
  const char *had = dp_volume_meta_get(*image, "PrepSteps", NULL);
  char *before = had ? strdup(had) : NULL;
  if (s == DP_OK && had && !before) s = dp__error(DP_ENOMEM, "out of memory");
  if (s == DP_OK) s = record(*image, &j);
  else dp__json_free(&j);
  if (s == DP_OK) s = dp__nifti_write_gen(*image, dp__ew_plan_dtype(plan), plan_gen, plan, path, &o);
  if (s == DP_OK && written) *written = dp__ew_plan_dtype(plan);
  if (s != DP_OK) { /* the image as it was before the last step */
    if (before) dp_volume_meta_set_json(*image, "PrepSteps", before);
    else dp_volume_meta_remove(*image, "PrepSteps");
  }
  free(before);
  dp__ew_plan_free(plan);
  return s;
}
