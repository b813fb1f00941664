#include <math.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static dp_mat4 make(double a[3][4]) {
  dp_mat4 m = dp_mat4_identity();
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++) m.m[r][c] = a[r][c];
  return m;
}

/* Rotation about x, y, z by the given degrees, as a 4x4. */
static dp_mat4 rot(double ax, double ay, double az) {
  double cx = cos(ax * M_PI / 180), sx = sin(ax * M_PI / 180);
  double cy = cos(ay * M_PI / 180), sy = sin(ay * M_PI / 180);
  double cz = cos(az * M_PI / 180), sz = sin(az * M_PI / 180);
  double rx[3][4] = {{1, 0, 0, 0}, {0, cx, -sx, 0}, {0, sx, cx, 0}};
  double ry[3][4] = {{cy, 0, sy, 0}, {0, 1, 0, 0}, {-sy, 0, cy, 0}};
  double rz[3][4] = {{cz, -sz, 0, 0}, {sz, cz, 0, 0}, {0, 0, 1, 0}};
  return dp_mat4_mul(make(rz), dp_mat4_mul(make(ry), make(rx)));
}

START_TEST(inverse_roundtrip) {
  double a[3][4] = {{-0.7, 0.1, 0.05, 120}, {0.02, -0.69, 0.3, 99.5}, {0.01, 0.2, 2.5, -40}};
  dp_mat4 m = make(a), inv;
  ck_assert_int_eq(dp_mat4_inverse(m, &inv), DP_OK);
  dp_mat4 id = dp_mat4_mul(m, inv);
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) ck_assert_double_eq_tol(id.m[r][c], r == c ? 1.0 : 0.0, 1e-12);
  double p[3] = {10, 20, 30}, w[3], back[3];
  dp_mat4_apply(&m, p, w);
  dp_mat4_apply(&inv, w, back);
  for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(back[i], p[i], 1e-10);
}
END_TEST

START_TEST(singular_inverse_is_refused) {
  double a[3][4] = {{1, 2, 3, 0}, {2, 4, 6, 0}, {0, 0, 1, 0}};
  dp_mat4 inv = dp_mat4_identity();
  inv.m[0][3] = 42;
  ck_assert_int_eq(dp_mat4_inverse(make(a), &inv), DP_EGEOMETRY);
  ck_assert_double_eq(inv.m[0][3], 42); /* untouched */
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "singular"));
}
END_TEST

START_TEST(spacing_from_columns) {
  dp_mat4 m = dp_mat4_mul(rot(10, 20, 30), dp_mat4_identity());
  double s[3] = {0.7, 0.8, 2.5};
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) m.m[r][c] *= s[c];
  double sp[3];
  dp_affine_spacing(&m, sp);
  for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(sp[i], s[i], 1e-12);
  ck_assert_double_eq_tol(dp_affine_shear_deg(&m), 0, 1e-6);
}
END_TEST

START_TEST(axcodes_canonical_cases) {
  struct {
    double a[3][4];
    const char *code;
  } cases[] = {
      {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, "RAS"},
      {{{-1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, 1, 0}}, "LPS"},
      {{{-1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, "LAS"},
      {{{0, 0, -1, 0}, {1, 0, 0, 0}, {0, -1, 0, 0}}, "AIL"},   /* sagittal-like */
      {{{1, 0, 0, 0}, {0, 0, 1, 0}, {0, -1, 0, 0}}, "RIA"},    /* coronal-like */
      {{{0, 2, 0, 0}, {0, 0, -3, 0}, {0.5, 0, 0, 0}}, "SRP"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char code[4];
    dp_mat4 m = make(cases[i].a);
    ck_assert_int_eq(dp_affine_axcodes(&m, code), DP_OK);
    ck_assert_str_eq(code, cases[i].code);
  }
}
END_TEST

START_TEST(axcodes_oblique_and_sheared) {
  /* 30 degrees about z: x axis still mostly R, y mostly A. */
  dp_mat4 m = rot(0, 0, 30);
  char code[4];
  dp_affine_axcodes(&m, code);
  ck_assert_str_eq(code, "RAS");
  /* 60 degrees: the first voxel axis now points mostly A; greedy keeps order. */
  m = rot(0, 0, 60);
  dp_affine_axcodes(&m, code);
  ck_assert_str_eq(code, "ALS");
  /* Gantry tilt: k column sheared 20 degrees toward y; still ..S. */
  double t[3][4] = {{-0.5, 0, 0, 0}, {0, -0.5, 0.36397, 0}, {0, 0, 1, 0}};
  m = make(t);
  dp_affine_axcodes(&m, code);
  ck_assert_str_eq(code, "LPS");
  ck_assert_double_gt(dp_affine_shear_deg(&m), 5);
}
END_TEST

START_TEST(singular_axcodes) {
  double a[3][4] = {{1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 1, 0}};
  dp_mat4 m = make(a);
  char code[4];
  ck_assert_int_eq(dp_affine_axcodes(&m, code), DP_EGEOMETRY);
  ck_assert_str_eq(code, "???");
}
END_TEST

START_TEST(rotation_is_orthogonal_and_keeps_handedness) {
  double a[3][4] = {{-0.9, 0.2, 0.1, 0}, {0.1, -1.1, 0.4, 0}, {0.05, 0.1, 3.0, 0}};
  dp_mat4 m = make(a);
  double r[3][3];
  ck_assert_int_eq(dp_affine_rotation(&m, r), DP_OK);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double d = 0;
      for (int k = 0; k < 3; k++) d += r[k][i] * r[k][j];
      ck_assert_double_eq_tol(d, i == j ? 1.0 : 0.0, 1e-12);
    }
  double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
               r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
               r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  ck_assert_double_eq_tol(det, dp_mat4_det3(&m) > 0 ? 1.0 : -1.0, 1e-12);
}
END_TEST

START_TEST(parse_codes) {
  int axis[3], flip[3];
  ck_assert_int_eq(dp_axcodes_parse("lpi", axis, flip), DP_OK);
  ck_assert_int_eq(axis[0], 0);
  ck_assert_int_eq(flip[0], -1);
  ck_assert_int_eq(axis[1], 1);
  ck_assert_int_eq(flip[1], -1);
  ck_assert_int_eq(axis[2], 2);
  ck_assert_int_eq(flip[2], -1);
  ck_assert_int_eq(dp_axcodes_parse("PSR", axis, flip), DP_OK);
  ck_assert_int_eq(axis[0], 1);
  ck_assert_int_eq(axis[1], 2);
  ck_assert_int_eq(axis[2], 0);
  ck_assert_int_eq(dp_axcodes_parse("RRS", axis, flip), DP_EINVAL);
  ck_assert_int_eq(dp_axcodes_parse("RLS", axis, flip), DP_EINVAL);
  ck_assert_int_eq(dp_axcodes_parse("RAX", axis, flip), DP_EINVAL);
  ck_assert_int_eq(dp_axcodes_parse("RASX", axis, flip), DP_EINVAL);
  ck_assert_int_eq(dp_axcodes_parse(NULL, axis, flip), DP_EINVAL);
}
END_TEST

/* Every one of the 48 codes, built as a signed permutation, reads back. */
START_TEST(all_48_codes_round_trip) {
  const char *letters[3][2] = {{"L", "R"}, {"P", "A"}, {"I", "S"}};
  int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  int n = 0;
  for (int p = 0; p < 6; p++)
    for (int f = 0; f < 8; f++) {
      dp_mat4 m = dp_mat4_identity();
      char want[4] = {0};
      for (int d = 0; d < 3; d++) {
        m.m[d][d] = 0;
      }
      for (int d = 0; d < 3; d++) {
        int w = perms[p][d], sgn = (f >> d) & 1 ? 1 : -1;
        m.m[w][d] = sgn * (1.0 + d);
        want[d] = letters[w][sgn > 0][0];
      }
      char code[4];
      ck_assert_int_eq(dp_affine_axcodes(&m, code), DP_OK);
      ck_assert_str_eq(code, want);
      int axis[3], flip[3];
      ck_assert_int_eq(dp_axcodes_parse(code, axis, flip), DP_OK);
      for (int d = 0; d < 3; d++) {
        ck_assert_int_eq(axis[d], perms[p][d]);
        ck_assert_int_eq(flip[d], (f >> d) & 1 ? 1 : -1);
      }
      n++;
    }
  ck_assert_int_eq(n, 48);
}
END_TEST

int main(void) {
  Suite *s = suite_create("affine");
  TCase *tc = tcase_create("affine");
  tcase_add_test(tc, inverse_roundtrip);
  tcase_add_test(tc, singular_inverse_is_refused);
  tcase_add_test(tc, spacing_from_columns);
  tcase_add_test(tc, axcodes_canonical_cases);
  tcase_add_test(tc, axcodes_oblique_and_sheared);
  tcase_add_test(tc, singular_axcodes);
  tcase_add_test(tc, rotation_is_orthogonal_and_keeps_handedness);
  tcase_add_test(tc, parse_codes);
  tcase_add_test(tc, all_48_codes_round_trip);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
