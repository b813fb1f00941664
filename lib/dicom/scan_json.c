/* A scan result as JSON text (what `dcmprep scan --json` prints). */
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/dicom.h"
#include "io/json.h"

dp_status dp_dicom_set_json(const dp_dicom_set *set, char **out, size_t *len) {
  if (out) *out = NULL;
  if (!set || !out) return dp__error(DP_EINVAL, "scan: no scan result or output pointer");
  dp__json j;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  dp__json_begin_array(&j, "series");
  for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
    const dp_series_info *s = dp_dicom_set_series(set, i);
    dp__json_begin_object(&j, NULL);
    dp__json_int(&j, "index", s->index);
    dp__json_int(&j, "number", s->number);
    dp__json_str(&j, "description", s->description);
    dp__json_str(&j, "modality", s->modality);
    dp__json_str(&j, "kind", dp_series_kind_name(s->kind));
    dp__json_str(&j, "uid", s->uid);
    dp__json_int(&j, "images", s->nimages);
    dp__json_int(&j, "files", s->nfiles);
    dp__json_begin_array(&j, "dims");
    for (int d = 0; d < 4; d++) dp__json_int(&j, NULL, s->dim[d]);
    dp__json_end_array(&j);
    dp__json_begin_array(&j, "spacing");
    for (int d = 0; d < 3; d++) dp__json_num(&j, NULL, s->spacing[d]);
    dp__json_end_array(&j);
    dp__json_str(&j, "orientation", s->orientation);
    dp__json_num(&j, "tilt_deg", s->tilt_deg);
    dp__json_bool(&j, "uneven", s->uneven);
    dp__json_int(&j, "missing_slices", s->missing_slices);
    dp__json_int(&j, "duplicate_positions", s->duplicate_positions);
    dp__json_num(&j, "min_step", s->min_step);
    dp__json_num(&j, "max_step", s->max_step);
    dp__json_int(&j, "echo", s->echo);
    dp__json_str(&j, "warnings", s->warnings);
    dp__json_end_object(&j);
  }
  dp__json_end_array(&j);
  dp__json_begin_array(&j, "skipped");
  for (int i = 0; i < dp_dicom_set_skipped_count(set); i++) {
    const char *p, *r;
    dp_dicom_set_skipped(set, i, &p, &r);
    dp__json_begin_object(&j, NULL);
    dp__json_str(&j, "file", p);
    dp__json_str(&j, "reason", r);
    dp__json_end_object(&j);
  }
  dp__json_end_array(&j);
  dp__json_end_object(&j);
  size_t n = 0;
  dp_status s = dp__json_finish(&j, out, &n);
  if (len) *len = s == DP_OK ? n : 0;
  return s;
}
