/* dp_label_rasterize on label objects built in memory: slice matching,
 * selection, layouts, overlaps, frame of reference, SEG placement
 * (lib/labels/label_raster.c, rt_draw.c, seg_place.c, label_volumes.c). */
#include <math.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"
#include "labels/model.h"
#include "testutil.h"

#define FOR_UID "1.2.3"

static dp_volume *grid(int nx, int ny, int nz, const dp_mat4 *a, const char *for_uid) {
  int64_t dim[4] = {nx, ny, nz, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_U8, a, &v), DP_OK);
  if (for_uid) dp_volume_meta_set_str(v, "FrameOfReferenceUID", for_uid);
  return v;
}

/* An RTSTRUCT with nroi ROIs named names[r], room for 8 contours each. */
static dp__label_obj *rtstruct(int nroi, const char *const *names) {
  dp__label_obj *o = dp__label_obj_new(DP_LABEL_RTSTRUCT, "mem.dcm");
  ck_assert_ptr_nonnull(o);
  snprintf(o->for_uid, sizeof o->for_uid, FOR_UID);
  ck_assert_int_eq(dp__label_obj_set_rois(o, nroi), DP_OK);
  for (int r = 0; r < nroi; r++) {
    o->rois[r].pub.number = r + 1;
    dp__label_strdup(&o->rois[r].name, names[r]);
    snprintf(o->rois[r].for_uid, sizeof o->rois[r].for_uid, FOR_UID);
    o->rois[r].contours = calloc(8, sizeof(dp__contour));
  }
  return o;
}

/* A rectangle [i0, i1] x [j0, j1] at slice position k (voxel coordinates
 * mapped to world by a). */
static void rect(dp__roi *r, const dp_mat4 *a, double i0, double j0, double i1, double j1, double k, int type) {
  dp__contour *c = &r->contours[r->ncontours++];
  double v[4][3] = {{i0, j0, k}, {i1, j0, k}, {i1, j1, k}, {i0, j1, k}};
  c->type = type;
  c->npoints = 4;
  c->xyz = malloc(12 * sizeof(double));
  for (int q = 0; q < 4; q++) dp_mat4_apply(a, v[q], c->xyz + 3 * q);
}

static dp_volume *draw1(dp__label_obj *o, const dp_volume *g, const dp_label_opts *lo) {
  dp_volume **out = NULL;
  int n = 0;
  ck_assert_int_eq(dp__label_obj_finish(o), DP_OK);
  dp_status s = dp_label_rasterize(o, g, lo, &out, &n);
  ck_assert_msg(s == DP_OK, "%s", dp_last_error());
  ck_assert_int_eq(n, 1);
  dp_volume *v = out[0];
  free(out);
  return v;
}

static int at(const dp_volume *v, int i, int j, int k) {
  return (int)dp_volume_get(v, i + v->dim[0] * (j + v->dim[1] * (int64_t)k));
}

static int count(const dp_volume *v, int value) {
  int n = 0;
  for (int64_t q = 0; q < dp_volume_nvox(v); q++) n += (int)dp_volume_get(v, q) == value;
  return n;
}

START_TEST(slices_by_position) {
  static const char *const names[] = {"a"};
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(10, 10, 6, &id, FOR_UID);
  dp__label_obj *o = rtstruct(1, names);
  rect(&o->rois[0], &id, 1.5, 1.5, 3.5, 3.5, 1.0, DP__CONTOUR_CLOSED); /* on slice 1 */
  rect(&o->rois[0], &id, 1.5, 1.5, 3.5, 3.5, 2.3, DP__CONTOUR_CLOSED); /* nearest: 2 */
  rect(&o->rois[0], &id, 1.5, 1.5, 3.5, 3.5, 3.5, DP__CONTOUR_CLOSED); /* halfway: the higher, 4 */
  rect(&o->rois[0], &id, 1.5, 1.5, 3.5, 3.5, 7.0, DP__CONTOUR_CLOSED); /* outside */
  rect(&o->rois[0], &id, 5.5, 5.5, 7.5, 7.5, 1.0, DP__CONTOUR_POINT);  /* ignored */
  dp_volume *v = draw1(o, g, NULL);
  int want[6] = {0, 4, 4, 0, 4, 0};
  for (int k = 0; k < 6; k++) {
    int n = 0;
    for (int j = 0; j < 10; j++)
      for (int i = 0; i < 10; i++) n += at(v, i, j, k) == 1;
    ck_assert_int_eq(n, want[k]);
  }
  ck_assert_int_eq(at(v, 2, 2, 1), 1);
  ck_assert_int_eq(at(v, 6, 6, 1), 0);
  const char *notes = dp_volume_meta_get(v, "LabelNotes", NULL);
  ck_assert_ptr_nonnull(notes);
  ck_assert_ptr_nonnull(strstr(notes, "POINT/OPEN"));
  ck_assert_ptr_nonnull(strstr(notes, "outside"));
  ck_assert_ptr_nonnull(strstr(notes, "1 empty slice"));
  dp_volume_free(v);
  /* a tighter tolerance drops the planes at 2.3 and 3.5 */
  dp_label_opts lo = DP_LABEL_OPTS_INIT;
  lo.slice_tolerance = 0.2;
  v = draw1(o, g, &lo);
  ck_assert_int_eq(count(v, 1), 4);
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "LabelNotes", NULL), "farther than 0.2"));
  dp_volume_free(v);
  lo.slice_tolerance = 0.6;
  dp_volume **out = NULL;
  int n = 0;
  ck_assert_int_eq(dp_label_rasterize(o, g, &lo, &out, &n), DP_EINVAL);
  ck_assert_ptr_null(out);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(world_space_any_grid) {
  /* the same voxel-space contours on a rotated, sheared, shifted grid */
  static const char *const names[] = {"ring"};
  dp_mat4 a = dp_mat4_identity();
  double c = cos(0.4), s = sin(0.4);
  double m[3][4] = {{0.7 * c, -0.8 * s, 0.3, 12}, {0.7 * s, 0.8 * c, 0.1, -40}, {0.05, 0.02, 2.5, 7}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) a.m[i][j] = m[i][j];
  dp_mat4 id = dp_mat4_identity();
  dp_volume *ga = grid(16, 12, 4, &a, FOR_UID), *gi = grid(16, 12, 4, &id, FOR_UID);
  dp__label_obj *oa = rtstruct(1, names), *oi = rtstruct(1, names);
  rect(&oa->rois[0], &a, 1.2, 1.7, 12.6, 9.3, 2, DP__CONTOUR_CLOSED);
  rect(&oa->rois[0], &a, 4.1, 3.3, 8.8, 6.2, 2, DP__CONTOUR_CLOSED);
  rect(&oi->rois[0], &id, 1.2, 1.7, 12.6, 9.3, 2, DP__CONTOUR_CLOSED);
  rect(&oi->rois[0], &id, 4.1, 3.3, 8.8, 6.2, 2, DP__CONTOUR_CLOSED);
  dp_volume *va = draw1(oa, ga, NULL), *vi = draw1(oi, gi, NULL);
  ck_assert_int_eq(memcmp(va->data, vi->data, dp_volume_nbytes(va)), 0);
  ck_assert_int_eq(count(vi, 1), 11 * 8 - 4 * 3);
  ck_assert(memcmp(&va->ijk_to_ras, &a, sizeof a) == 0);
  dp_volume_free(va);
  dp_volume_free(vi);
  dp_label_free(oa);
  dp_label_free(oi);
  dp_volume_free(ga);
  dp_volume_free(gi);
}
END_TEST

START_TEST(not_parallel_and_frame_of_reference) {
  static const char *const names[] = {"a"};
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(8, 8, 4, &id, FOR_UID);
  dp__label_obj *o = rtstruct(1, names);
  rect(&o->rois[0], &id, 1, 1, 5, 5, 1, DP__CONTOUR_CLOSED);
  o->rois[0].contours[0].xyz[2 + 3 * 2] = 1.6; /* one corner 0.6 slices off */
  dp_volume *v = draw1(o, g, NULL);
  ck_assert_int_eq(count(v, 1), 0);
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "LabelNotes", NULL), "not parallel"));
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "LabelNotes", NULL), "empty"));
  dp_volume_free(v);
  /* another frame of reference: refused, never drawn */
  snprintf(o->rois[0].for_uid, sizeof o->rois[0].for_uid, "9.9.9");
  dp_volume **out = NULL;
  int n = 0;
  ck_assert_int_eq(dp_label_rasterize(o, g, NULL, &out, &n), DP_EGEOMETRY);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "frame of reference 9.9.9"));
  ck_assert_ptr_null(out);
  /* an image without one (a NIfTI input) is drawn, with a note */
  dp_volume *nofor = grid(8, 8, 4, &id, NULL);
  v = draw1(o, nofor, NULL);
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "LabelNotes", NULL), "not checked"));
  dp_volume_free(v);
  dp_volume_free(nofor);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(selection_layouts_overlaps) {
  static const char *const names[] = {"Body", "Liver", "tumour"};
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(10, 10, 2, &id, FOR_UID);
  dp__label_obj *o = rtstruct(3, names);
  rect(&o->rois[0], &id, -0.5, -0.5, 9.5, 9.5, 0, DP__CONTOUR_CLOSED); /* 100 */
  rect(&o->rois[1], &id, 1.5, 1.5, 5.5, 5.5, 0, DP__CONTOUR_CLOSED);   /* 16 */
  rect(&o->rois[2], &id, 4.5, 4.5, 6.5, 6.5, 0, DP__CONTOUR_CLOSED);   /* 4, 1 in Liver */
  dp_volume *v = draw1(o, g, NULL);
  ck_assert_int_eq(v->dtype, DP_U8);
  ck_assert_int_eq(count(v, 1), 100 - 16 - 3);
  ck_assert_int_eq(count(v, 2), 15);
  ck_assert_int_eq(count(v, 3), 4);
  const char *ov = dp_volume_meta_get(v, "LabelOverlaps", NULL);
  ck_assert_ptr_nonnull(ov);
  ck_assert_ptr_nonnull(strstr(ov, "{\"under\":\"Body\",\"over\":\"Liver\",\"voxels\":16}"));
  ck_assert_ptr_nonnull(strstr(ov, "{\"under\":\"Liver\",\"over\":\"tumour\",\"voxels\":1}"));
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "Labels", NULL), "\"voxels\":100"));
  dp_volume_free(v);
  /* --roi TUMOUR,#1: case-insensitive name, number; order gives the values */
  const char *sel[] = {"TUMOUR", "#1"};
  dp_label_opts lo = DP_LABEL_OPTS_INIT;
  lo.rois = sel;
  lo.nrois = 2;
  v = draw1(o, g, &lo);
  ck_assert_int_eq(count(v, 1), 0); /* Body, later, paints over the whole tumour */
  ck_assert_int_eq(count(v, 2), 100);
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "Labels", NULL), "{\"value\":1,\"number\":3,\"name\":\"tumour\""));
  dp_volume_free(v);
  /* onehot keeps overlaps */
  lo.nrois = 0;
  lo.layout = DP_LABELS_ONEHOT;
  v = draw1(o, g, &lo);
  ck_assert_int_eq(v->dim[3], 3);
  ck_assert_int_eq(count(v, 1), 100 + 16 + 4);
  ck_assert_int_eq(at(v, 5, 5, 0 + 2 * 2), 1); /* channel 2 (tumour), k = 0 */
  dp_volume_free(v);
  /* separate: one 0/1 volume per ROI */
  lo.layout = DP_LABELS_SEPARATE;
  dp_volume **out = NULL;
  int n = 0;
  ck_assert_int_eq(dp_label_rasterize(o, g, &lo, &out, &n), DP_OK);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(count(out[1], 1), 16);
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(out[1], "Labels", NULL), "\"name\":\"Liver\""));
  for (int i = 0; i < n; i++) dp_volume_free(out[i]);
  free(out);
  /* errors: unknown name (listing the names), twice, ambiguous */
  const char *bad[] = {"kidney"}, *twice[] = {"Liver", "#2"};
  lo.rois = bad;
  lo.nrois = 1;
  ck_assert_int_eq(dp_label_rasterize(o, g, &lo, &out, &n), DP_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "#2 'Liver'"));
  lo.rois = twice;
  lo.nrois = 2;
  ck_assert_int_eq(dp_label_rasterize(o, g, &lo, &out, &n), DP_EINVAL);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(many_rois_u16) {
  const char *names[300];
  char buf[300][8];
  for (int r = 0; r < 300; r++) {
    snprintf(buf[r], sizeof buf[r], "r%d", r);
    names[r] = buf[r];
  }
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(20, 15, 1, &id, FOR_UID);
  dp__label_obj *o = rtstruct(300, names);
  for (int r = 0; r < 300; r++) {
    double i = r % 20, j = r / 20;
    rect(&o->rois[r], &id, i - 0.5, j - 0.5, i + 0.5, j + 0.5, 0, DP__CONTOUR_CLOSED);
  }
  dp_volume *v = draw1(o, g, NULL);
  ck_assert_int_eq(v->dtype, DP_U16);
  for (int r = 0; r < 300; r++) ck_assert_int_eq(at(v, r % 20, r / 20, 0), r + 1);
  dp_volume_free(v);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

/* A SEG of one segment on an nr x nc frame grid of spacing sp (mm), frames
 * at the given slice positions k (mm on z), pixels by fn. */
static dp__label_obj *seg(int nr, int nc, double sp, const double *ks, int nk, int fractional,
                          uint8_t (*fn)(int r, int c, int f)) {
  dp__label_obj *o = dp__label_obj_new(DP_LABEL_SEG, "mem-seg.dcm");
  snprintf(o->for_uid, sizeof o->for_uid, FOR_UID);
  dp__label_obj_set_rois(o, 1);
  o->rois[0].pub.number = 7;
  dp__label_strdup(&o->rois[0].name, "organ");
  snprintf(o->rois[0].for_uid, sizeof o->rois[0].for_uid, FOR_UID);
  o->info.rows = nr;
  o->info.cols = nc;
  o->info.frames = nk;
  o->info.fractional = fractional;
  o->info.max_fraction = fractional ? 200 : 0;
  o->nframes = nk;
  o->frames = calloc((size_t)nk, sizeof *o->frames);
  o->pixels = malloc((size_t)nk * nr * nc);
  for (int f = 0; f < nk; f++) {
    dp__seg_frame *fr = &o->frames[f];
    fr->segment = 7;
    fr->origin[0] = (sp - 1) / 2; /* pixel (0, 0) covers voxels 0 .. sp - 1 */
    fr->origin[1] = (sp - 1) / 2;
    fr->origin[2] = ks[f];
    fr->row_dir[0] = 1;
    fr->col_dir[1] = 1;
    fr->spacing[0] = fr->spacing[1] = sp;
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++) o->pixels[(size_t)f * nr * nc + r * nc + c] = fn(r, c, f);
  }
  return o;
}

static uint8_t disk(int r, int c, int f) { return (uint8_t)((r - 4) * (r - 4) + (c - 4) * (c - 4) <= 9 + f); }
static uint8_t ramp(int r, int c, int f) { (void)r; (void)f; return (uint8_t)(c * 40); }
static uint8_t block(int r, int c, int f) { (void)f; return (uint8_t)(r == 1 && c == 2); }

START_TEST(seg_on_grid_missing_frames) {
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(9, 9, 6, &id, FOR_UID);
  double ks[] = {1, 2, 4}; /* no frames for slices 0, 3, 5: empty there */
  dp__label_obj *o = seg(9, 9, 1, ks, 3, 0, disk);
  dp_volume *v = draw1(o, g, NULL);
  for (int k = 0; k < 6; k++)
    for (int j = 0; j < 9; j++)
      for (int i = 0; i < 9; i++) {
        int f = k == 1 ? 0 : k == 2 ? 1 : k == 4 ? 2 : -1;
        ck_assert_int_eq(at(v, i, j, k), f >= 0 && disk(j, i, f));
      }
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "Labels", NULL), "\"number\":7"));
  ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(v, "LabelNotes", NULL), "1 empty slice"));
  dp_volume_free(v);
  /* the SEG's own grid: from the lowest to the highest plane */
  dp_volume *own = NULL;
  ck_assert_int_eq(dp_label_seg_grid(o, &own), DP_OK);
  ck_assert_int_eq(own->dim[2], 4);
  ck_assert_double_eq(own->ijk_to_ras.m[2][3], 1);
  ck_assert_double_eq(own->ijk_to_ras.m[2][2], 1);
  dp_volume_free(own);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(seg_coarser_grid_nearest) {
  /* 3 mm SEG pixels on a 1 mm grid: each pixel covers 3 x 3 voxels */
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(9, 9, 1, &id, FOR_UID);
  double ks[] = {0};
  dp__label_obj *o = seg(3, 3, 3, ks, 1, 0, block);
  dp_volume *v = draw1(o, g, NULL);
  for (int j = 0; j < 9; j++)
    for (int i = 0; i < 9; i++) ck_assert_int_eq(at(v, i, j, 0), j / 3 == 1 && i / 3 == 2);
  dp_volume_free(v);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(seg_fractional_threshold) {
  dp_mat4 id = dp_mat4_identity();
  dp_volume *g = grid(6, 1, 1, &id, FOR_UID);
  double ks[] = {0};
  dp__label_obj *o = seg(1, 6, 1, ks, 1, 1, ramp); /* 0, 40, 80, 120, 160, 200 of 200 */
  dp_volume *v = draw1(o, g, NULL);
  for (int i = 0; i < 6; i++) ck_assert_int_eq(at(v, i, 0, 0), i * 40 >= 100);
  dp_volume_free(v);
  dp_label_opts lo = DP_LABEL_OPTS_INIT;
  lo.fraction_threshold = 0.8;
  v = draw1(o, g, &lo);
  for (int i = 0; i < 6; i++) ck_assert_int_eq(at(v, i, 0, 0), i * 40 >= 160);
  dp_volume_free(v);
  /* frames of one segment in two orientations: refused */
  o->frames[0].row_dir[0] = 0;
  o->frames[0].row_dir[2] = 1;
  dp__label_obj *two = seg(1, 6, 1, (double[]){0, 1}, 2, 1, ramp);
  two->frames[1].row_dir[0] = 0;
  two->frames[1].row_dir[2] = 1;
  dp__label_obj_finish(two);
  dp_volume **out = NULL;
  int n = 0;
  ck_assert_int_eq(dp_label_rasterize(two, g, NULL, &out, &n), DP_EGEOMETRY);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "orientation"));
  dp_label_free(two);
  dp_label_free(o);
  dp_volume_free(g);
}
END_TEST

START_TEST(colours_round_trip) {
  static const uint8_t rgb[][3] = {{230, 25, 75}, {0, 0, 0}, {255, 255, 255}, {60, 180, 75}, {12, 34, 200}};
  for (int i = 0; i < 5; i++) {
    uint16_t lab[3];
    uint8_t back[3];
    dp__rgb_to_cielab(rgb[i], lab);
    dp__cielab_to_rgb(lab, back);
    for (int c = 0; c < 3; c++) ck_assert_int_le(abs(back[c] - rgb[i][c]), 1);
  }
  uint16_t white[3] = {65535, 32896, 32896}; /* L 100, a = b = 0 */
  uint8_t w[3];
  dp__cielab_to_rgb(white, w);
  for (int c = 0; c < 3; c++) ck_assert_int_ge(w[c], 254);
}
END_TEST

int main(void) {
  Suite *s = suite_create("labels");
  TCase *tc = tcase_create("rasterize");
  tcase_add_test(tc, slices_by_position);
  tcase_add_test(tc, world_space_any_grid);
  tcase_add_test(tc, not_parallel_and_frame_of_reference);
  tcase_add_test(tc, selection_layouts_overlaps);
  tcase_add_test(tc, many_rois_u16);
  tcase_add_test(tc, seg_on_grid_missing_frames);
  tcase_add_test(tc, seg_coarser_grid_nearest);
  tcase_add_test(tc, seg_fractional_threshold);
  tcase_add_test(tc, colours_round_trip);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
