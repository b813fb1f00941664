/* Grouping, sorting and geometry of DICOM slices (lib/dicom/series.c), on
 * dp__slice arrays built by hand: no files, no DCMTK. */
#include <math.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"
#include "dicom/series.h"
#include "testutil.h"

#define MAXS 64

static const double AXIAL[6] = {1, 0, 0, 0, 1, 0};
static const double CORONAL[6] = {1, 0, 0, 0, 0, -1};
static const double SAGITTAL[6] = {0, 1, 0, 0, 0, -1};

/* A plain CT slice: 4 x 4 pixels of 1 mm, axial, one series, no position yet. */
static void base(dp__slice *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->sop_class, sizeof s->sop_class, "1.2.840.10008.5.1.4.1.1.2");
  snprintf(s->series_uid, sizeof s->series_uid, "1.2.3.4");
  snprintf(s->modality, sizeof s->modality, "CT");
  snprintf(s->image_type, sizeof s->image_type, "ORIGINAL\\PRIMARY\\AXIAL");
  snprintf(s->photometric, sizeof s->photometric, "MONOCHROME2");
  s->series_number = 3;
  s->instance_number = s->acquisition_number = s->echo_number = s->temporal_index = DP__NONE;
  s->file_frames = 1;
  s->rows = s->cols = 4;
  s->samples = 1;
  s->bits_alloc = s->bits_stored = 16;
  s->high_bit = 15;
  s->pixel_rep = 1;
  s->has_pixels = s->has_ipp = s->has_iop = s->has_spacing = 1;
  memcpy(s->iop, AXIAL, sizeof s->iop);
  s->spacing[0] = s->spacing[1] = 1;
  s->slope = 1;
}

/* n slices of orientation iop at origin + k * step * dir (k = 0..n-1),
 * InstanceNumber reversed, stored in the array in a scrambled order (the
 * slice at array index i is stack slice perm(i)). */
static void stack(dp__slice *s, int n, const double iop[6], const double origin[3], double step,
                  const double dir[3]) {
  for (int i = 0; i < n; i++) {
    int k = (i * 7 + 3) % n; /* a permutation when gcd(7, n) == 1 */
    base(&s[i]);
    memcpy(s[i].iop, iop, sizeof s[i].iop);
    for (int a = 0; a < 3; a++) s[i].ipp[a] = origin[a] + k * step * dir[a];
    s[i].instance_number = n - k;
  }
}

static double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const double a[3], const double b[3], double o[3]) {
  o[0] = a[1] * b[2] - a[2] * b[1];
  o[1] = a[2] * b[0] - a[0] * b[2];
  o[2] = a[0] * b[1] - a[1] * b[0];
}

/* Groups and analyses; the caller frees with dp__groups_free(*g, ng). */
static int analyse_all(const dp__slice *s, int n, dp__group **g) {
  int ng = -1;
  ck_assert_int_eq(dp__series_group(s, n, g, &ng), DP_OK);
  for (int i = 0; i < ng; i++) ck_assert_int_eq(dp__series_analyse(&(*g)[i], s), DP_OK);
  return ng;
}

/* The single group of s; fails unless grouping gives exactly one. */
static dp__group *one_group(const dp__slice *s, int n) {
  dp__group *g = NULL;
  int ng = analyse_all(s, n, &g);
  ck_assert_int_eq(ng, 1);
  ck_assert_int_eq(g->n, n);
  return g;
}

static int ngroups_of(const dp__slice *s, int n) {
  dp__group *g = NULL;
  int ng = -1;
  ck_assert_int_eq(dp__series_group(s, n, &g, &ng), DP_OK);
  dp__groups_free(g, ng);
  return ng;
}

/* Sorted positions strictly increase along the group's normal by `step`. */
static void assert_sorted_along(const dp__group *g, const dp__slice *s, double step) {
  for (int i = 1; i < g->n; i++) {
    double d0 = dot3(s[g->idx[i - 1]].ipp, g->nrm), d1 = dot3(s[g->idx[i]].ipp, g->nrm);
    ck_assert_double_eq_tol(d1 - d0, step, 1e-9);
  }
}

START_TEST(sorts_by_position_not_instance_or_file_order) {
  dp__slice s[MAXS];
  const double o[3] = {-1.5, -1.5, -40}, z[3] = {0, 0, 1};
  stack(s, 10, AXIAL, o, 2.5, z);
  /* InstanceNumber agrees with neither order: reversed, with one repeat and a gap */
  s[0].instance_number = 5;
  s[1].instance_number = 5;
  s[2].instance_number = 99;
  dp__group *g = one_group(s, 10);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_int_eq(g->nz, 10);
  ck_assert_int_eq(g->nt, 1);
  for (int i = 0; i < 10; i++) ck_assert_double_eq_tol(s[g->idx[i]].ipp[2], -40 + 2.5 * i, 1e-12);
  ck_assert_double_eq_tol(g->step, 2.5, 1e-12);
  for (int i = 0; i < 10; i++) ck_assert_double_eq_tol(g->pos[i], -40 + 2.5 * i, 1e-9);
  ck_assert_int_eq(g->uneven, 0);
  ck_assert_int_eq(g->missing, 0);
  ck_assert_int_eq(g->dups, 0);
  ck_assert_double_eq(g->tilt_deg, 0);
  ck_assert_str_eq(g->warnings, "");
  dp__groups_free(g, 1);
}
END_TEST

/* Coronal, sagittal, oblique, and orientations whose normal points the
 * opposite way to the usual one (towards the feet, anterior, left): always
 * sorted along r x c. */
START_TEST(sorts_along_the_normal_in_any_orientation) {
  const double c30 = cos(M_PI / 6), s30 = sin(M_PI / 6);
  const double c20 = cos(M_PI / 9), s20 = sin(M_PI / 9);
  /* oblique: axial rotated 30 degrees about z, then 20 degrees about x */
  const double oblique[6] = {c30, s30, 0, -s30 * c20, c30 * c20, s20};
  const double feet[6] = {1, 0, 0, 0, -1, 0};      /* normal -z (LPS) */
  const double anterior[6] = {-1, 0, 0, 0, 0, -1}; /* normal -y */
  const double left[6] = {0, -1, 0, 0, 0, -1};     /* normal +x */
  const double *iops[] = {CORONAL, SAGITTAL, oblique, feet, anterior, left};
  const double want_n[6][3] = {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}, {0, 0, -1}, {0, -1, 0}, {1, 0, 0}};
  for (int t = 0; t < 6; t++) {
    dp__slice s[MAXS];
    double n[3];
    cross3(iops[t], iops[t] + 3, n);
    if (t != 2) {
      for (int a = 0; a < 3; a++) ck_assert_double_eq_tol(n[a], want_n[t][a], 1e-12);
    }
    const double o[3] = {12, -7, 30};
    stack(s, 9, iops[t], o, 1.25, n);
    dp__group *g = one_group(s, 9);
    ck_assert_msg(g->geometry_ok, "case %d: %s", t, g->warnings);
    for (int a = 0; a < 3; a++) ck_assert_double_eq_tol(g->nrm[a], n[a], 1e-9);
    assert_sorted_along(g, s, 1.25);
    /* the first sorted slice is the one at the origin (k = 0) */
    for (int a = 0; a < 3; a++) ck_assert_double_eq_tol(s[g->idx[0]].ipp[a], o[a], 1e-9);
    ck_assert_double_eq_tol(g->step, 1.25, 1e-9);
    ck_assert_msg(g->tilt_deg == 0 && !g->uneven, "case %d: %s", t, g->warnings);
    dp__groups_free(g, 1);
  }
}
END_TEST

START_TEST(groups_split_by_geometry_size_echo_and_kind) {
  dp__slice s[MAXS];
  const double o[3] = {0, 0, 0}, z[3] = {0, 0, 1};
  /* baseline: one group */
  stack(s, 6, AXIAL, o, 2, z);
  ck_assert_int_eq(ngroups_of(s, 6), 1);
  /* IOP rounding well within tolerance stays together */
  stack(s, 6, AXIAL, o, 2, z);
  s[2].iop[1] = 5e-5;
  s[4].iop[4] = 1 - 5e-5;
  ck_assert_int_eq(ngroups_of(s, 6), 1);
  /* beyond tolerance: another plane */
  stack(s, 6, AXIAL, o, 2, z);
  s[2].iop[1] = 2e-3;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  /* rows, columns */
  stack(s, 6, AXIAL, o, 2, z);
  s[3].rows = 5;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  stack(s, 6, AXIAL, o, 2, z);
  s[3].cols = 3;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  /* pixel spacing, either value */
  stack(s, 6, AXIAL, o, 2, z);
  s[1].spacing[0] = 1.01;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  stack(s, 6, AXIAL, o, 2, z);
  s[1].spacing[1] = 0.99;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  /* echo number: two echoes at the same positions are two series */
  stack(s, 6, AXIAL, o, 2, z);
  for (int i = 0; i < 3; i++) {
    s[i].echo_number = 1;
    s[i + 3] = s[i];
    s[i + 3].echo_number = 2;
  }
  {
    dp__group *g = NULL;
    int ng = analyse_all(s, 6, &g);
    ck_assert_int_eq(ng, 2);
    ck_assert_int_eq(s[g[0].idx[0]].echo_number, 1); /* ordered by echo */
    ck_assert_int_eq(s[g[1].idx[0]].echo_number, 2);
    ck_assert_int_eq(g[0].n, 3);
    ck_assert_int_eq(g[0].dups, 0);
    ck_assert_int_eq(g[0].nt, 1);
    dp__groups_free(g, ng);
  }
  /* localizer and secondary capture images in the same series */
  stack(s, 6, AXIAL, o, 2, z);
  snprintf(s[0].image_type, sizeof s[0].image_type, "ORIGINAL\\PRIMARY\\LOCALIZER");
  snprintf(s[5].sop_class, sizeof s[5].sop_class, "1.2.840.10008.5.1.4.1.1.7");
  {
    dp__group *g = NULL;
    int ng = analyse_all(s, 6, &g);
    ck_assert_int_eq(ng, 3);
    int kinds[4] = {0};
    for (int i = 0; i < ng; i++) kinds[g[i].kind] += g[i].n;
    ck_assert_int_eq(kinds[DP_SERIES_VOLUME], 4);
    ck_assert_int_eq(kinds[DP_SERIES_LOCALIZER], 1);
    ck_assert_int_eq(kinds[DP_SERIES_SECONDARY], 1);
    dp__groups_free(g, ng);
  }
  /* colour (3 samples) is secondary too */
  stack(s, 6, AXIAL, o, 2, z);
  s[2].samples = 3;
  ck_assert_int_eq(ngroups_of(s, 6), 2);
  /* different SeriesInstanceUID */
  stack(s, 6, AXIAL, o, 2, z);
  snprintf(s[4].series_uid, sizeof s[4].series_uid, "1.2.3.5");
  ck_assert_int_eq(ngroups_of(s, 6), 2);
}
END_TEST

/* What differs per slice in a real CT (InstanceNumber, AcquisitionNumber,
 * SliceThickness, rescale) never splits a series. */
START_TEST(groups_never_split_by_instance_or_per_slice_values) {
  dp__slice s[MAXS];
  const double o[3] = {0, 0, 0}, z[3] = {0, 0, 1};
  stack(s, 8, AXIAL, o, 2, z);
  for (int i = 0; i < 8; i++) {
    s[i].instance_number = i % 3 ? 7 : DP__NONE; /* repeated and absent */
    s[i].acquisition_number = i;
    s[i].thickness = 1 + 0.1 * i;
    s[i].intercept = -1024 + i;
    s[i].slope = 1 + i * 0.5;
  }
  dp__group *g = one_group(s, 8);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_int_eq(g->nz, 8);
  ck_assert_int_eq(g->dups, 0);
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(groups_ordered_by_series_number_then_uid) {
  dp__slice s[MAXS];
  const double o[3] = {0, 0, 0}, z[3] = {0, 0, 1};
  stack(s, 4, AXIAL, o, 2, z);
  s[0].series_number = 9;
  snprintf(s[0].series_uid, sizeof s[0].series_uid, "1.9");
  s[1].series_number = 2;
  snprintf(s[1].series_uid, sizeof s[1].series_uid, "1.2.b");
  s[2].series_number = 2;
  snprintf(s[2].series_uid, sizeof s[2].series_uid, "1.2.a");
  s[3].series_number = DP__NONE;
  snprintf(s[3].series_uid, sizeof s[3].series_uid, "1.0");
  dp__group *g = NULL;
  int ng = -1;
  ck_assert_int_eq(dp__series_group(s, 4, &g, &ng), DP_OK);
  ck_assert_int_eq(ng, 4);
  ck_assert_int_eq(g[0].idx[0], 3); /* no number first */
  ck_assert_int_eq(g[1].idx[0], 2);
  ck_assert_int_eq(g[2].idx[0], 1);
  ck_assert_int_eq(g[3].idx[0], 0);
  dp__groups_free(g, ng);
}
END_TEST

START_TEST(repeated_positions_stack_along_t) {
  dp__slice s[MAXS];
  /* 5 positions x 3 time points, array order scrambled */
  int n = 15;
  for (int i = 0; i < n; i++) {
    int j = (i * 4 + 1) % n;
    int z = j / 3, t = j % 3;
    base(&s[i]);
    s[i].ipp[2] = 10 - 3.0 * z; /* positions given descending */
    s[i].temporal_index = t + 1;
    s[i].instance_number = 100 - i;
  }
  dp__group *g = one_group(s, n);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_int_eq(g->nz, 5);
  ck_assert_int_eq(g->nt, 3);
  ck_assert_int_eq(g->dups, 0);
  ck_assert_double_eq_tol(g->step, 3, 1e-12);
  /* position-major, then t: the loader's slot is (t, z) = (k % nt, k / nt) */
  for (int k = 0; k < n; k++) {
    ck_assert_double_eq_tol(s[g->idx[k]].ipp[2], -2 + 3.0 * (k / 3), 1e-12);
    ck_assert_int_eq(s[g->idx[k]].temporal_index, k % 3 + 1);
  }
  dp__groups_free(g, 1);

  /* without a temporal index, the instance number orders the repeats */
  for (int i = 0; i < 8; i++) {
    base(&s[i]);
    s[i].ipp[2] = (i % 4) * 2.0;
    s[i].instance_number = i < 4 ? 20 + i : 10 + i;
  }
  g = one_group(s, 8);
  ck_assert_int_eq(g->nz, 4);
  ck_assert_int_eq(g->nt, 2);
  for (int z = 0; z < 4; z++)
    ck_assert_int_lt(s[g->idx[2 * z]].instance_number, s[g->idx[2 * z + 1]].instance_number);
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(unequal_repeats_are_duplicates) {
  dp__slice s[MAXS];
  const double zs[6] = {0, 2, 2, 4, 6, 6};
  for (int i = 0; i < 6; i++) {
    base(&s[i]);
    s[i].ipp[2] = zs[i];
    s[i].instance_number = i + 1;
  }
  dp__group *g = one_group(s, 6);
  ck_assert_int_eq(g->nz, 4);
  ck_assert_int_eq(g->dups, 2);
  ck_assert_int_eq(g->geometry_ok, 0);
  ck_assert_ptr_nonnull(strstr(g->warnings, "repeat"));
  dp__groups_free(g, 1);
  /* a repeat within a micron is the same position */
  for (int i = 0; i < 6; i++) {
    base(&s[i]);
    s[i].ipp[2] = (i / 2) * 2.0 + (i % 2) * 4e-4;
  }
  g = one_group(s, 6);
  ck_assert_int_eq(g->nz, 3);
  ck_assert_int_eq(g->nt, 2);
  ck_assert_int_eq(g->geometry_ok, 1);
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(uneven_spacing_detected) {
  dp__slice s[MAXS];
  const double zs[6] = {0, 2, 4, 6, 9, 12}; /* 2, 2, 2, 3, 3 */
  for (int i = 0; i < 6; i++) {
    base(&s[5 - i]);
    s[5 - i].ipp[2] = zs[i];
  }
  dp__group *g = one_group(s, 6);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_int_eq(g->uneven, 1);
  ck_assert_int_eq(g->missing, 0);
  ck_assert_double_eq_tol(g->step, 2, 1e-12);
  ck_assert_ptr_nonnull(strstr(g->warnings, "variable slice spacing 2 to 3 mm"));
  dp__groups_free(g, 1);
  /* scanner rounding (0.01 mm) is not unevenness */
  for (int i = 0; i < 6; i++) {
    base(&s[i]);
    s[i].ipp[2] = 2.0 * i + (i % 2 ? 0.004 : -0.004);
  }
  g = one_group(s, 6);
  ck_assert_int_eq(g->uneven, 0);
  ck_assert_str_eq(g->warnings, "");
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(missing_slices_counted) {
  dp__slice s[MAXS];
  /* step 2, slice 3 missing (one gap of 2 steps), slices 7 and 8 missing (3 steps) */
  const int ks[8] = {0, 1, 2, 4, 5, 6, 9, 10};
  for (int i = 0; i < 8; i++) {
    base(&s[i]);
    s[i].ipp[2] = 100 - 2.0 * ks[(i * 3) % 8]; /* descending along z, scrambled */
  }
  dp__group *g = one_group(s, 8);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_int_eq(g->nz, 8);
  ck_assert_double_eq_tol(g->step, 2, 1e-12);
  ck_assert_int_eq(g->uneven, 1);
  ck_assert_int_eq(g->missing, 3);
  ck_assert_ptr_nonnull(strstr(g->warnings, "3 missing slices"));
  ck_assert_ptr_null(strstr(g->warnings, "variable"));
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(tilt_measured_from_positions) {
  dp__slice s[MAXS];
  /* in-plane drift of 0.5 mm along the column direction per 2 mm step:
   * shear 0.25, tilt atan(0.25) = 14.036 degrees */
  for (int i = 0; i < 12; i++) {
    base(&s[i]);
    int k = (i * 5) % 12; /* array order scrambled */
    s[i].ipp[0] = -20;
    s[i].ipp[1] = -30 + 0.5 * k;
    s[i].ipp[2] = 2.0 * k;
    s[i].instance_number = i + 1;
  }
  dp__group *g = one_group(s, 12);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_double_eq_tol(g->tilt_deg, atan(0.25) * 180 / M_PI, 1e-9);
  ck_assert_double_eq_tol(g->shear[0], 0, 1e-12);
  ck_assert_double_eq_tol(g->shear[1], 0.25, 1e-12);
  ck_assert_double_eq_tol(g->step, 2, 1e-12);
  ck_assert_int_eq(g->uneven, 0);
  ck_assert_ptr_nonnull(strstr(g->warnings, "gantry tilt 14.04 degrees"));
  dp__groups_free(g, 1);

  /* GE style: the image plane is tilted (C = (0, cos T, -sin T)), the table
   * moves along z; the positions advance by d cos T along the normal and
   * drift by -d sin T along C */
  const double T = 18.5 * M_PI / 180;
  const double ge[6] = {1, 0, 0, 0, cos(T), -sin(T)};
  for (int i = 0; i < 10; i++) {
    base(&s[i]);
    memcpy(s[i].iop, ge, sizeof ge);
    s[i].ipp[0] = -100;
    s[i].ipp[1] = -100;
    s[i].ipp[2] = -1.25 * i;
  }
  g = one_group(s, 10);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_double_eq_tol(g->tilt_deg, 18.5, 1e-9);
  ck_assert_double_eq_tol(g->step, 1.25 * cos(T), 1e-9);
  ck_assert_double_eq_tol(g->shear[1], -tan(T), 1e-9);
  dp__groups_free(g, 1);

  /* sub-micron jitter is not tilt */
  for (int i = 0; i < 10; i++) {
    base(&s[i]);
    s[i].ipp[0] = (i % 2) * 1e-4;
    s[i].ipp[2] = 3.0 * i;
  }
  g = one_group(s, 10);
  ck_assert_double_eq(g->tilt_deg, 0);
  ck_assert_double_eq(g->shear[0], 0);
  ck_assert_str_eq(g->warnings, "");
  dp__groups_free(g, 1);
}
END_TEST

/* Missing geometry attributes: never guessed, reported by name. */
START_TEST(missing_attributes_named) {
  const char *names[3] = {"ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"};
  for (int a = 0; a < 3; a++) {
    dp__slice s[MAXS];
    const double o[3] = {0, 0, 0}, z[3] = {0, 0, 1};
    stack(s, 5, AXIAL, o, 2, z);
    for (int i = 0; i < 5; i++) {
      if (a == 0) s[i].has_ipp = 0;
      if (a == 1) s[i].has_iop = 0;
      if (a == 2) s[i].has_spacing = 0;
    }
    dp__group *g = one_group(s, 5);
    ck_assert_int_eq(g->kind, DP_SERIES_NO_GEOMETRY);
    ck_assert_int_eq(g->geometry_ok, 0);
    ck_assert_msg(strstr(g->warnings, names[a]) != NULL, "'%s' does not name %s", g->warnings, names[a]);
    dp__groups_free(g, 1);
  }
  /* one slice without a position: kept out of the volume, not placed at 0 */
  dp__slice s[MAXS];
  const double o[3] = {0, 0, 50}, z[3] = {0, 0, 1};
  stack(s, 7, AXIAL, o, 2, z);
  s[3].has_ipp = 0;
  memset(s[3].ipp, 0, sizeof s[3].ipp);
  dp__group *g = NULL;
  int ng = analyse_all(s, 7, &g);
  ck_assert_int_eq(ng, 2);
  for (int i = 0; i < ng; i++) {
    if (g[i].kind == DP_SERIES_VOLUME) {
      ck_assert_int_eq(g[i].n, 6);
      ck_assert_int_eq(g[i].geometry_ok, 1);
      for (int k = 0; k < g[i].n; k++) ck_assert_int_ne(g[i].idx[k], 3);
    } else {
      ck_assert_int_eq(g[i].kind, DP_SERIES_NO_GEOMETRY);
      ck_assert_int_eq(g[i].n, 1);
      ck_assert_ptr_nonnull(strstr(g[i].warnings, "ImagePositionPatient"));
    }
  }
  dp__groups_free(g, ng);
}
END_TEST

START_TEST(bad_pixel_spacing_refused) {
  const double bad[][2] = {{0, 0}, {1, 0}, {0, 1}, {-1, 1}, {1, -0.5}, {NAN, 1}, {1, NAN}, {INFINITY, 1}};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    dp__slice s[MAXS];
    const double o[3] = {0, 0, 0}, z[3] = {0, 0, 1};
    stack(s, 4, AXIAL, o, 2, z);
    for (int i = 0; i < 4; i++) memcpy(s[i].spacing, bad[b], sizeof s[i].spacing);
    dp__group *g = one_group(s, 4);
    ck_assert_msg(g->geometry_ok == 0, "spacing %g\\%g accepted", bad[b][0], bad[b][1]);
    ck_assert_msg(strstr(g->warnings, "PixelSpacing") != NULL, "case %zu: '%s'", b, g->warnings);
    dp__groups_free(g, 1);
  }
}
END_TEST

START_TEST(bad_orientation_refused) {
  const double bad[][6] = {
      {0, 0, 0, 0, 0, 0},          /* absent values read as zeros */
      {0, 0, 0, 0, 1, 0},          /* one vector zero */
      {1, 0, 0, 1, 0, 0},          /* parallel */
      {1, 0, 0, -1, 0, 0},         /* anti-parallel */
      {1, 0, 0, 0.1, 0.995, 0},    /* 84 degrees apart */
      {NAN, 0, 0, 0, 1, 0},        /* not a number */
  };
  const char *why[] = {"degenerate", "degenerate", "orthogonal", "orthogonal", "orthogonal", "degenerate"};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    dp__slice s[MAXS];
    for (int i = 0; i < 4; i++) {
      base(&s[i]);
      memcpy(s[i].iop, bad[b], sizeof s[i].iop);
      s[i].ipp[2] = 2.0 * i;
    }
    dp__group *g = one_group(s, 4);
    ck_assert_msg(g->geometry_ok == 0, "IOP case %zu accepted", b);
    ck_assert_msg(strstr(g->warnings, "ImageOrientationPatient") && strstr(g->warnings, why[b]),
                  "IOP case %zu: '%s'", b, g->warnings);
    dp__groups_free(g, 1);
  }
  /* unnormalised but orthogonal vectors (sloppy writers) are accepted */
  dp__slice s[MAXS];
  const double sloppy[6] = {2, 0, 0, 0, 0.5, 0};
  for (int i = 0; i < 4; i++) {
    base(&s[i]);
    memcpy(s[i].iop, sloppy, sizeof s[i].iop);
    s[i].ipp[2] = 2.0 * i;
  }
  dp__group *g = one_group(s, 4);
  ck_assert_int_eq(g->geometry_ok, 1);
  ck_assert_double_eq_tol(g->r[0], 1, 1e-12);
  ck_assert_double_eq_tol(g->c[1], 1, 1e-12);
  dp__groups_free(g, 1);
}
END_TEST

static void assert_mat(const dp_mat4 *m, const double want[4][4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      ck_assert_msg(fabs(m->m[i][j] - want[i][j]) < 1e-9, "m[%d][%d] = %.12g, want %.12g", i, j,
                    m->m[i][j], want[i][j]);
}

START_TEST(ras_affine_by_hand) {
  dp__slice s[MAXS];
  /* coronal (r = +x, c = -z, normal +y), 0.8 mm between rows, 1.2 mm between
   * columns, 3 mm steps, given in scrambled order */
  const double o[3] = {-10, 5, 20}, y[3] = {0, 1, 0};
  stack(s, 5, CORONAL, o, 3, y);
  for (int i = 0; i < 5; i++) {
    s[i].spacing[0] = 0.8;
    s[i].spacing[1] = 1.2;
  }
  dp__group *g = one_group(s, 5);
  ck_assert_int_eq(g->geometry_ok, 1);
  dp_mat4 m;
  dp__series_ras_affine(g, s, &m);
  /* LPS columns: r * 1.2 = (1.2, 0, 0); c * 0.8 = (0, 0, -0.8); step (0, 3, 0);
   * origin (-10, 5, 20).  RAS negates the x and y rows. */
  const double want[4][4] = {{-1.2, 0, 0, 10}, {0, 0, -3, -5}, {0, -0.8, 0, 20}, {0, 0, 0, 1}};
  assert_mat(&m, want);
  char code[4];
  ck_assert_int_eq(dp_affine_axcodes(&m, code), DP_OK);
  ck_assert_str_eq(code, "LIP");
  double lps[4][4];
  dp__series_lps_affine(g, s, lps);
  ck_assert_double_eq_tol(lps[0][0], 1.2, 1e-12);
  ck_assert_double_eq_tol(lps[2][1], -0.8, 1e-12);
  ck_assert_double_eq_tol(lps[1][2], 3, 1e-12);
  ck_assert_double_eq_tol(lps[0][3], -10, 1e-12);
  /* no negative zeros from the sign flip */
  ck_assert(!signbit(m.m[0][1]) && !signbit(m.m[1][0]));
  dp__groups_free(g, 1);

  /* oblique axial rotated 30 degrees about z: r = (cos, sin, 0), c = (-sin, cos, 0) */
  const double c30 = cos(M_PI / 6), s30 = sin(M_PI / 6);
  const double obl[6] = {c30, s30, 0, -s30, c30, 0};
  const double o2[3] = {1, 2, 3}, z[3] = {0, 0, 1};
  stack(s, 3, obl, o2, 2, z);
  for (int i = 0; i < 3; i++) s[i].spacing[0] = s[i].spacing[1] = 0.5;
  g = one_group(s, 3);
  dp__series_ras_affine(g, s, &m);
  const double want2[4][4] = {{-0.5 * c30, 0.5 * s30, 0, -1},
                              {-0.5 * s30, -0.5 * c30, 0, -2},
                              {0, 0, 2, 3},
                              {0, 0, 0, 1}};
  assert_mat(&m, want2);
  dp__groups_free(g, 1);

  /* a tilted stack: the slice axis is the true (sheared) step between the
   * first and last positions */
  for (int i = 0; i < 4; i++) {
    base(&s[i]);
    s[i].ipp[0] = 0;
    s[i].ipp[1] = 0.5 * (3 - i);
    s[i].ipp[2] = 2.0 * (3 - i);
  }
  g = one_group(s, 4);
  dp__series_ras_affine(g, s, &m);
  const double want3[4][4] = {{-1, 0, 0, 0}, {0, -1, -0.5, 0}, {0, 0, 2, 0}, {0, 0, 0, 1}};
  assert_mat(&m, want3);
  dp__groups_free(g, 1);

  /* one slice: the slice axis is the normal times SliceThickness (1 when absent) */
  base(&s[0]);
  memcpy(s[0].iop, CORONAL, sizeof s[0].iop);
  s[0].thickness = 2.5;
  g = one_group(s, 1);
  ck_assert_int_eq(g->geometry_ok, 1);
  dp__series_ras_affine(g, s, &m);
  ck_assert_double_eq_tol(m.m[1][2], -2.5, 1e-12);
  ck_assert_double_eq_tol(m.m[0][2], 0, 1e-12);
  ck_assert_double_eq_tol(m.m[2][2], 0, 1e-12);
  dp__groups_free(g, 1);
  s[0].thickness = 0;
  g = one_group(s, 1);
  dp__series_ras_affine(g, s, &m);
  ck_assert_double_eq_tol(m.m[1][2], -1, 1e-12);
  dp__groups_free(g, 1);
}
END_TEST

START_TEST(empty_input) {
  dp__group *g = (dp__group *)0x1;
  int ng = -1;
  ck_assert_int_eq(dp__series_group(NULL, 0, &g, &ng), DP_OK);
  ck_assert_int_eq(ng, 0);
  dp__groups_free(g, ng);
  dp__group e;
  memset(&e, 0, sizeof e);
  ck_assert_int_eq(dp__series_analyse(&e, NULL), DP_EINVAL);
}
END_TEST

int main(void) {
  Suite *su = suite_create("dicom_series");
  TCase *tc = tcase_create("series");
  tcase_add_test(tc, sorts_by_position_not_instance_or_file_order);
  tcase_add_test(tc, sorts_along_the_normal_in_any_orientation);
  tcase_add_test(tc, groups_split_by_geometry_size_echo_and_kind);
  tcase_add_test(tc, groups_never_split_by_instance_or_per_slice_values);
  tcase_add_test(tc, groups_ordered_by_series_number_then_uid);
  tcase_add_test(tc, repeated_positions_stack_along_t);
  tcase_add_test(tc, unequal_repeats_are_duplicates);
  tcase_add_test(tc, uneven_spacing_detected);
  tcase_add_test(tc, missing_slices_counted);
  tcase_add_test(tc, tilt_measured_from_positions);
  tcase_add_test(tc, missing_attributes_named);
  tcase_add_test(tc, bad_pixel_spacing_refused);
  tcase_add_test(tc, bad_orientation_refused);
  tcase_add_test(tc, ras_affine_by_hand);
  tcase_add_test(tc, empty_input);
  suite_add_tcase(su, tc);
  return dp_test_run(su);
}
