/* Internals of the pipeline (dp__ prefix, not exported). */
#ifndef DCMPREP_PIPELINE_INTERNAL_H
#define DCMPREP_PIPELINE_INTERNAL_H

#include "dcmprep/pipeline.h"
#include "io/json.h"

/* Runs one intensity step (window, clip, clip-percentile, normalize, dtype)
 * on img into *nimg and writes its record members to j.  The label is only
 * read, as the mask of --mask label. */
dp_status dp__run_intensity_step(const dp_step *sp, const dp_pipeline_settings *st,
                                 const dp_volume *img, const dp_volume *lab, dp_volume **nimg,
                                 dp__json *j);

#endif
