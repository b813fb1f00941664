/* dp_pipeline_apply: a pipeline on const inputs, with a per-call random key. */
#include "core/internal.h"
#include "dcmprep/pipeline.h"
#include "pipeline/pipeline_internal.h"

/* A volume the caller owns: v itself when it is new, else a copy of it. */
static dp_status owned(dp_volume *v, const dp_volume *input, dp_volume **out) {
  if (v != input) {
    *out = v;
    return DP_OK;
  }
  return dp_volume_copy(input, out);
}

dp_status dp_pipeline_apply(const dp_pipeline *p, const dp_volume *image, const dp_volume *label,
                            uint64_t name_hash, uint64_t variant, int threads, dp_volume **out_image,
                            dp_volume **out_label) {
  if (out_image) *out_image = NULL;
  if (out_label) *out_label = NULL;
  if (!p || !image || !out_image || (label && !out_label))
    return dp__error(DP_EINVAL, "pipeline: no pipeline, image or output pointer");
  int nsteps = 0;
  const dp_step *steps = dp_pipeline_steps(p, &nsteps);
  dp_pipeline_settings st = *dp_pipeline_settings_of((dp_pipeline *)p);
  st.name_hash = name_hash;
  st.variant = variant;
  st.threads = threads;
  /* the inputs are only read: the first step makes new volumes from them */
  dp_volume *img = (dp_volume *)image, *lab = (dp_volume *)label;
  dp_status s = dp__pipeline_run_keep(steps, nsteps, &st, &img, label ? &lab : NULL, image, label);
  dp_volume *oi = NULL, *ol = NULL;
  if (s == DP_OK) s = owned(img, image, &oi);
  else if (img != image) dp_volume_free(img);
  if (label) {
    if (s == DP_OK) s = owned(lab, label, &ol);
    else if (lab != label) dp_volume_free(lab);
  }
  const char *rec = s == DP_OK && ol ? dp_volume_meta_get(oi, "PrepSteps", NULL) : NULL;
  if (rec) s = dp_volume_meta_set_json(ol, "PrepSteps", rec);
  if (s != DP_OK) {
    dp_volume_free(oi);
    dp_volume_free(ol);
    return s;
  }
  *out_image = oi;
  if (out_label) *out_label = ol;
  return DP_OK;
}
