/* Accessors for bindings and dp_volume_from_data. */
#include <math.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

START_TEST(accessors_read_the_volume) {
  int64_t dim[4] = {3, 4, 5, 2};
  dp_mat4 a = dp_mat4_identity();
  a.m[0][0] = -0.5;
  a.m[1][3] = 7.25;
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_U16, &a, &v), DP_OK);
  ck_assert_ptr_eq(dp_volume_data(v), v->data);
  int64_t d[4];
  dp_volume_dims(v, d);
  for (int i = 0; i < 4; i++) ck_assert_int_eq(d[i], dim[i]);
  ck_assert_int_eq(dp_volume_dtype(v), DP_U16);
  double m[16];
  dp_volume_affine(v, m);
  ck_assert_double_eq(m[0], -0.5);
  ck_assert_double_eq(m[4 * 1 + 3], 7.25);
  ck_assert_double_eq(m[15], 1.0);
  dp_volume_free(v);
  /* NULL gives neutral values, never a crash */
  ck_assert_ptr_null(dp_volume_data(NULL));
  dp_volume_dims(NULL, d);
  ck_assert_int_eq(d[0] + d[1] + d[2] + d[3], 0);
  ck_assert_int_eq(dp_volume_dtype(NULL), DP_DTYPE_NONE);
  dp_volume_affine(NULL, m);
  ck_assert_double_eq(m[0] + m[5] + m[10] + m[15], 4.0);
  dp_free(NULL);
}
END_TEST

START_TEST(from_data_contiguous_and_strided) {
  /* source indexed [k][j][i] in C order (numpy's zyx), i.e. contiguous with i fastest */
  enum { I = 4, J = 3, K = 2 };
  int16_t src[K][J][I];
  for (int k = 0; k < K; k++)
    for (int j = 0; j < J; j++)
      for (int i = 0; i < I; i++) src[k][j][i] = (int16_t)(100 * k + 10 * j + i - 50);
  int64_t dim[4] = {I, J, K, 1};
  double aff[16] = {2, 0, 0, -3, 0, 2, 0, 4, 0, 0, 3, 5, 0, 0, 0, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_from_data(dim, DP_I16, aff, src, NULL, &v), DP_OK);
  ck_assert_int_eq(memcmp(v->data, src, sizeof src), 0);
  ck_assert_double_eq(v->ijk_to_ras.m[2][3], 5);
  ck_assert_uint_eq(dp_volume_meta_count(v), 0);
  dp_volume_free(v);
  /* a source indexed [i][j][k] in C order: strides (J*K, K, 1) elements */
  int16_t t[I][J][K];
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++)
      for (int k = 0; k < K; k++) t[i][j][k] = src[k][j][i];
  int64_t st[4] = {J * K * 2, K * 2, 2, 0};
  ck_assert_int_eq(dp_volume_from_data(dim, DP_I16, NULL, t, st, &v), DP_OK);
  ck_assert_int_eq(memcmp(v->data, src, sizeof src), 0);
  dp_volume_free(v);
  /* negative strides: i reversed (numpy's a[::-1]) starts at the last element */
  int64_t rev[4] = {-2, I * 2, I * J * 2, 0};
  ck_assert_int_eq(dp_volume_from_data(dim, DP_I16, NULL, &src[0][0][I - 1], rev, &v), DP_OK);
  const int16_t *o = v->data;
  for (int k = 0; k < K; k++)
    for (int j = 0; j < J; j++)
      for (int i = 0; i < I; i++) ck_assert_int_eq(o[(k * J + j) * I + i], src[k][j][I - 1 - i]);
  dp_volume_free(v);
}
END_TEST

START_TEST(from_data_4d_float) {
  float src[2 * 2 * 1 * 3];
  for (int n = 0; n < 12; n++) src[n] = (float)n * 0.25f - 1.0f;
  int64_t dim[4] = {2, 2, 1, 3};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_from_data(dim, DP_F32, NULL, src, NULL, &v), DP_OK);
  ck_assert_int_eq(memcmp(v->data, src, sizeof src), 0);
  ck_assert_int_eq(v->dim[3], 3);
  dp_volume_free(v);
}
END_TEST

START_TEST(from_data_refuses_bad_input) {
  uint8_t buf[8] = {0};
  int64_t dim[4] = {2, 2, 2, 1};
  dp_volume *v = (dp_volume *)0x1;
  int64_t before = dp_volume_bytes_in_use();
  double nan_aff[16] = {1, 0, 0, NAN, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  ck_assert_int_eq(dp_volume_from_data(dim, DP_U8, nan_aff, buf, NULL, &v), DP_EINVAL);
  ck_assert_ptr_null(v);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "non-finite"));
  double singular[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  ck_assert_int_eq(dp_volume_from_data(dim, DP_U8, singular, buf, NULL, &v), DP_EGEOMETRY);
  double row[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  ck_assert_int_eq(dp_volume_from_data(dim, DP_U8, row, buf, NULL, &v), DP_EINVAL);
  int64_t zero[4] = {2, 0, 2, 1};
  ck_assert_int_eq(dp_volume_from_data(zero, DP_U8, NULL, buf, NULL, &v), DP_EINVAL);
  ck_assert_int_eq(dp_volume_from_data(dim, DP_DTYPE_NONE, NULL, buf, NULL, &v), DP_EINVAL);
  ck_assert_int_eq(dp_volume_from_data(dim, DP_U8, NULL, NULL, NULL, &v), DP_EINVAL);
  ck_assert_int_eq(dp_volume_from_data(dim, DP_U8, NULL, buf, NULL, NULL), DP_EINVAL);
  ck_assert_int_eq(dp_volume_bytes_in_use(), before);
}
END_TEST

int main(void) {
  Suite *s = suite_create("access");
  TCase *tc = tcase_create("access");
  tcase_add_test(tc, accessors_read_the_volume);
  tcase_add_test(tc, from_data_contiguous_and_strided);
  tcase_add_test(tc, from_data_4d_float);
  tcase_add_test(tc, from_data_refuses_bad_input);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
