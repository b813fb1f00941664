/* dp_load_input (NIfTI or the one DICOM series) and dp_dicom_set_json, on the
 * bundled synthetic CT series (DP_SAMPLE: testdata/ct-body in the build). */
#include <math.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static const char *sample(void) {
  const char *s = getenv("DP_SAMPLE");
  ck_assert_msg(s && access(s, R_OK) == 0, "DP_SAMPLE (testdata/ct-body) is not readable");
  return s;
}

START_TEST(nifti_names) {
  ck_assert(dp_is_nifti_name("a.nii"));
  ck_assert(dp_is_nifti_name("dir/a.nii.gz"));
  ck_assert(!dp_is_nifti_name("a.nii.gz/"));
  ck_assert(!dp_is_nifti_name("dicom"));
  ck_assert(!dp_is_nifti_name(NULL));
}
END_TEST

START_TEST(input_names) {
  char b[16];
  const char *cases[][2] = {{"data/ct.nii.gz", "ct"}, {"ct.nii", "ct"}, {"exam/201/", "201"},
                            {"/x/y.tar.gz", "y.tar.gz"}, {".nii", ".nii"}, {"/", ""}, {"", ""}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_uint_eq(dp_input_name(cases[i][0], b, sizeof b), strlen(cases[i][1]));
    ck_assert_str_eq(b, cases[i][1]);
  }
  ck_assert_uint_eq(dp_input_name("a/long_name_here.nii.gz", b, 5), 14);
  ck_assert_str_eq(b, "long");
  ck_assert_uint_eq(dp_input_name("a/b.nii", NULL, 0), 1);
}
END_TEST

START_TEST(nifti_scaling_applied) {
  int64_t dim[4] = {3, 2, 2, 1};
  dp_volume *v = NULL, *r = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_I16, NULL, &v), DP_OK);
  for (int i = 0; i < 12; i++) ((int16_t *)v->data)[i] = (int16_t)(i - 6);
  char path[4200];
  snprintf(path, sizeof path, "%s/s.nii.gz", dp_test_tmpdir());
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.scl_slope = 0.5;
  wo.scl_inter = 10;
  ck_assert_int_eq(dp_nifti_write(v, path, &wo), DP_OK);
  ck_assert_int_eq(dp_load_input(path, NULL, 1, &r), DP_OK);
  for (int i = 0; i < 12; i++) ck_assert_double_eq_tol(dp_volume_get(r, i), 0.5 * (i - 6) + 10, 1e-6);
  dp_volume_free(r);
  dp_volume_free(v);
}
END_TEST

START_TEST(dicom_series_picked) {
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_load_input(sample(), NULL, 0, &v), DP_OK);
  ck_assert_int_eq(v->dim[0], 192);
  ck_assert_int_eq(v->dim[1], 160);
  ck_assert_int_eq(v->dim[2], 60);
  ck_assert_str_eq(dp_volume_meta_get(v, "Modality", NULL), "CT");
  dp_volume_free(v);
  ck_assert_int_eq(dp_load_input(sample(), "1", 0, &v), DP_OK);
  dp_volume_free(v);
  v = (dp_volume *)0x1;
  ck_assert_int_eq(dp_load_input(sample(), "7", 0, &v), DP_EINVAL);
  ck_assert_ptr_null(v);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "0 series with that number"));
  ck_assert_int_eq(dp_load_input(sample(), "one", 0, &v), DP_EINVAL);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "not a series number"));
  ck_assert_int_ne(dp_load_input("/nonexistent/x.nii.gz", NULL, 0, &v), DP_OK);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "/nonexistent/x.nii.gz"));
  ck_assert_int_eq(dp_load_input("/nonexistent/dir", NULL, 0, &v), DP_ENOTFOUND);
  ck_assert_int_eq(dp_load_input(NULL, NULL, 0, &v), DP_EINVAL);
}
END_TEST

START_TEST(scan_json_lists_series) {
  const char *paths[1] = {sample()};
  dp_dicom_set *set = NULL;
  ck_assert_int_eq(dp_dicom_scan(paths, 1, NULL, &set), DP_OK);
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(dp_dicom_set_json(set, &text, &len), DP_OK);
  ck_assert_uint_eq(len, strlen(text));
  ck_assert_ptr_nonnull(strstr(text, "\"series\": ["));
  ck_assert_ptr_nonnull(strstr(text, "\"dims\": [\n        192,\n        160,\n        60,\n        1\n      ]"));
  ck_assert_ptr_nonnull(strstr(text, "\"kind\": \"volume\""));
  ck_assert_ptr_nonnull(strstr(text, "\"skipped\": []"));
  dp_free(text);
  ck_assert_int_eq(dp_dicom_set_json(NULL, &text, &len), DP_EINVAL);
  ck_assert_ptr_null(text);
  dp_dicom_set_free(set);
}
END_TEST

int main(void) {
  Suite *s = suite_create("load_input");
  TCase *tc = tcase_create("load_input");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, nifti_names);
  tcase_add_test(tc, input_names);
  tcase_add_test(tc, nifti_scaling_applied);
  tcase_add_test(tc, dicom_series_picked);
  tcase_add_test(tc, scan_json_lists_series);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
