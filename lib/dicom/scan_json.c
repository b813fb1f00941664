/* A scan result as JSON text (what `dcmprep scan --json` prints). */
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/dicom.h"
#include "dcmprep/labels.h"
#include "io/json.h"

/* The label objects (RT Structure Sets, SEGs): what they label and their ROIs. */
static void json_labels(dp__json *j, const dp_dicom_set *set) {
  dp__json_begin_array(j, "labels");
  for (int i = 0; i < dp_dicom_set_label_count(set); i++) {
    const dp_label_info *l = dp_dicom_set_label(set, i);
    const dp_series_info *si = dp_dicom_set_series(set, l->image_series);
    dp__json_begin_object(j, NULL);
    dp__json_str(j, "kind", dp_label_kind_name(l->kind));
    dp__json_str(j, "file", l->path);
    dp__json_str(j, "sop_instance_uid", l->sop_instance_uid);
    dp__json_str(j, "series_uid", l->series_uid);
    dp__json_int(j, "series_number", l->series_number);
    dp__json_str(j, "label", l->label);
    dp__json_str(j, "description", l->description);
    dp__json_str(j, "frame_of_reference_uid", l->frame_of_reference_uid);
    dp__json_str(j, "referenced_series_uid", l->referenced_series_uid);
    dp__json_int(j, "referenced_images", l->nreferenced_images);
    dp__json_int(j, "image_series", l->image_series);
    dp__json_int(j, "image_series_number", si ? si->number : -1);
    dp__json_str(j, "match", l->match);
    if (l->kind == DP_LABEL_SEG) {
      dp__json_str(j, "segmentation_type", l->fractional ? "FRACTIONAL" : "BINARY");
      dp__json_int(j, "frames", l->frames);
      dp__json_int(j, "rows", l->rows);
      dp__json_int(j, "cols", l->cols);
    }
    dp__json_begin_array(j, "rois");
    for (int r = 0; r < l->nrois; r++) {
      const dp_label_roi *ro = &l->rois[r];
      dp__json_begin_object(j, NULL);
      dp__json_int(j, "number", ro->number);
      dp__json_str(j, "name", ro->name);
      if (ro->has_colour) {
        dp__json_begin_array(j, "colour");
        for (int c = 0; c < 3; c++) dp__json_int(j, NULL, ro->rgb[c]);
        dp__json_end_array(j);
      } else {
        dp__json_null(j, "colour");
      }
      dp__json_str(j, "algorithm", ro->algorithm);
      dp__json_str(j, "type", ro->type);
      if (l->kind == DP_LABEL_SEG) {
        dp__json_str(j, "category", ro->category);
        dp__json_int(j, "frames", ro->ncontours);
      } else {
        dp__json_int(j, "contours", ro->ncontours);
        dp__json_int(j, "closed_contours", ro->nclosed);
      }
      dp__json_end_object(j);
    }
    dp__json_end_array(j);
    dp__json_str(j, "warnings", l->warnings);
    dp__json_end_object(j);
  }
  dp__json_end_array(j);
}

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
  json_labels(&j, set);
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
