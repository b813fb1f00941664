/* Truth JSON of dcmprep-synth. */
#include "truth.h"
#include "labels.h"

#include <stdlib.h>

#include "io/atomic_file.h"
#include "io/json.h"

static void vec(dp__json *j, const char *key, const double *v, int n) {
  dp__json_begin_array(j, key);
  for (int i = 0; i < n; i++) dp__json_num(j, NULL, v[i]);
  dp__json_end_array(j);
}

static void options(dp__json *j, const synth_opts *o, int argc, char **argv) {
  dp__json_begin_object(j, "options");
  dp__json_begin_array(j, "argv");
  for (int i = 0; i < argc; i++) dp__json_str(j, NULL, argv[i]);
  dp__json_end_array(j);
  dp__json_int(j, "slices", o->slices);
  dp__json_num(j, "slice_spacing", o->step);
  vec(j, "iop_requested", o->iop, 6);
  vec(j, "center", o->center, 3);
  vec(j, "uneven", o->gaps, o->ngaps);
  dp__json_begin_array(j, "drop");
  for (int i = 0; i < o->ndrops; i++) dp__json_int(j, NULL, o->drops[i]);
  dp__json_end_array(j);
  dp__json_str(j, "ts", o->ts_name);
  if (o->shuffle) dp__json_int(j, "shuffle_seed", (int64_t)o->seed);
  else dp__json_null(j, "shuffle_seed");
  static const char *const orders[] = {"natural", "reverse", "random"};
  dp__json_str(j, "instance_order", orders[o->order]);
  dp__json_begin_array(j, "tags");
  for (int i = 0; i < o->ntags; i++) dp__json_str(j, NULL, o->tags[i]);
  dp__json_end_array(j);
  dp__json_end_object(j);
}

dp_status synth_write_truth(const char *path, const synth_opts *o, const synth_geometry *g,
                            const synth_series *s, const synth_shape *shapes, int nshapes,
                            int argc, char **argv) {
  dp__json j;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "generator", "dcmprep-synth");
  options(&j, o, argc, argv);
  dp__json_str(&j, "modality", o->mr ? "MR" : "CT");
  dp__json_str(&j, "phantom", o->phantom == PHANTOM_RAMP ? "ramp" : "body");
  dp__json_str(&j, "frame", "LPS mm (DICOM patient); ijk_to_ras is RAS = diag(-1,-1,1) LPS");
  dp__json_int(&j, "rows", o->rows);
  dp__json_int(&j, "cols", o->cols);
  vec(&j, "pixel_spacing", g->ps, 2);
  dp__json_num(&j, "slice_thickness", o->thickness);
  double iop[6] = {g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]};
  vec(&j, "iop", iop, 6);
  vec(&j, "normal", g->n, 3);
  vec(&j, "stack_direction", g->stack, 3);
  dp__json_num(&j, "tilt_deg", o->tilt);
  dp__json_bool(&j, "regular", g->regular);
  double rescale[2] = {g->slope, g->inter};
  vec(&j, "rescale", rescale, 2);
  dp__json_str(&j, "rescale_type", o->mr ? "US" : "HU");
  dp__json_bool(&j, "signed", o->is_signed);
  dp__json_int(&j, "bits_allocated", 16);
  dp__json_int(&j, "bits_stored", o->bits_stored);
  double range[2] = {g->lo, g->hi};
  vec(&j, "stored_range", range, 2);
  dp__json_int(&j, "clamped_pixels", (int64_t)s->clamped);
  dp__json_str(&j, "photometric", o->mono1 ? "MONOCHROME1" : "MONOCHROME2");
  dp__json_str(&j, "transfer_syntax", o->ts_uid);
  dp__json_bool(&j, "enhanced", o->enhanced);
  dp__json_str(&j, "study_uid", s->study_uid);
  dp__json_str(&j, "series_uid", s->series_uid);
  dp__json_str(&j, "frame_of_reference_uid", s->for_uid);
  dp__json_begin_array(&j, "slices");
  for (int i = 0; i < s->nslices; i++) {
    const synth_slice *sl = &s->slices[i];
    dp__json_begin_object(&j, NULL);
    dp__json_int(&j, "index", sl->k);
    dp__json_str(&j, "file", sl->name);
    if (o->enhanced) dp__json_int(&j, "frame", sl->frame);
    else dp__json_int(&j, "instance", sl->instance);
    vec(&j, "ipp", g->ipp[sl->k], 3);
    dp__json_num(&j, "position", g->pos[sl->k]);
    dp__json_end_object(&j);
  }
  dp__json_end_array(&j);
  if (nshapes) {
    /* shapes in (u, v, w): mm from center along row_dir, col_dir, normal */
    static const char *const kinds[] = {"sphere", "torus", "nested"};
    static const int nparams[] = {4, 5, 7};
    vec(&j, "shape_center", o->center, 3);
    vec(&j, "shape_u", g->r, 3);
    vec(&j, "shape_v", g->c, 3);
    vec(&j, "shape_w", g->n, 3);
    dp__json_str(&j, "rtstruct", o->rtstruct ? o->rtstruct : "");
    dp__json_str(&j, "seg", o->seg ? o->seg : "");
    dp__json_int(&j, "seg_factor", o->seg_factor);
    dp__json_bool(&j, "seg_fractional", o->seg_fractional);
    dp__json_begin_array(&j, "shapes");
    for (int i = 0; i < nshapes; i++) {
      dp__json_begin_object(&j, NULL);
      dp__json_str(&j, "name", shapes[i].name);
      dp__json_str(&j, "kind", kinds[shapes[i].kind]);
      vec(&j, "params", shapes[i].p, nparams[shapes[i].kind]);
      dp__json_end_object(&j);
    }
    dp__json_end_array(&j);
  }
  dp__json_begin_array(&j, "ijk_to_ras");
  for (int r = 0; r < 4; r++) vec(&j, NULL, g->ijk_to_ras[r], 4);
  dp__json_end_array(&j);
  dp__json_end_object(&j);
  char *text = NULL;
  size_t len = 0;
  dp_status st = dp__json_finish(&j, &text, &len);
  if (st == DP_OK) st = dp__write_file_atomic(path, text, len);
  free(text);
  dp__json_free(&j);
  return st;
}
