#include <math.h>
#include <stdlib.h>

#include "dcmprep/dcmprep.h"
#include "io/json.h"
#include "testutil.h"

static char *finish(dp__json *j) {
  char *t = NULL;
  ck_assert_int_eq(dp__json_finish(j, &t, NULL), DP_OK);
  return t;
}

START_TEST(compact_document) {
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "s", "a\"b\\c\n\x01");
  dp__json_num(&j, "n", 0.1);
  dp__json_num(&j, "nan", NAN);
  dp__json_int(&j, "i", -42);
  dp__json_bool(&j, "b", 1);
  dp__json_null(&j, "z");
  dp__json_begin_array(&j, "a");
  dp__json_num(&j, NULL, 1e300);
  dp__json_str(&j, NULL, NULL);
  dp__json_end_array(&j);
  dp__json_begin_object(&j, "empty");
  dp__json_end_object(&j);
  dp__json_end_object(&j);
  char *t = finish(&j);
  ck_assert_str_eq(t, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":0.1,\"nan\":null,\"i\":-42,\"b\":true,"
                      "\"z\":null,\"a\":[1e+300,null],\"empty\":{}}\n");
  free(t);
}
END_TEST

START_TEST(invalid_utf8_replaced) {
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_str(&j, NULL, "caf\xc3\xa9 \xff\xfe ok \xe2\x82\xac \xed\xa0\x80");
  char *t = finish(&j);
  ck_assert_str_eq(t, "\"caf\xc3\xa9 \\ufffd\\ufffd ok \xe2\x82\xac \\ufffd\\ufffd\\ufffd\"\n");
  free(t);
}
END_TEST

START_TEST(unbalanced_is_an_error) {
  dp__json j;
  char *t = (char *)1;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  ck_assert_int_eq(dp__json_finish(&j, &t, NULL), DP_EINVAL);
  ck_assert_ptr_null(t);
  dp__json_init(&j, 1);
  dp__json_end_array(&j);
  ck_assert_int_eq(dp__json_finish(&j, &t, NULL), DP_EINVAL);
}
END_TEST

START_TEST(shortest_round_trip_numbers) {
  double xs[] = {0.1, 1.0 / 3.0, 1e-310, -2.5, 123456789012345678.0, 0.45};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    char b[40];
    dp__format_double(b, sizeof b, xs[i]);
    ck_assert_double_eq(strtod(b, NULL), xs[i]);
  }
  char b[40];
  dp__format_double(b, sizeof b, 0.45);
  ck_assert_str_eq(b, "0.45");
}
END_TEST

START_TEST(metadata_and_matrix) {
  int64_t dim[4] = {1, 1, 1, 1};
  dp_volume *v;
  dp_volume_new(dim, DP_U8, NULL, &v);
  dp_volume_meta_set_str(v, "Modality", "CT");
  dp_volume_meta_set_num(v, "KVP", 120);
  dp_volume_meta_set_json(v, "ImageType", "[\"ORIGINAL\",\"PRIMARY\"]");
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  dp__json_meta(&j, v);
  dp__json_mat4(&j, "m", &v->ijk_to_ras);
  dp__json_end_object(&j);
  char *t = finish(&j);
  ck_assert_str_eq(t, "{\"Modality\":\"CT\",\"KVP\":120,\"ImageType\":[\"ORIGINAL\",\"PRIMARY\"],"
                      "\"m\":[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}\n");
  free(t);
  dp_volume_free(v);
}
END_TEST

int main(void) {
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("json");
  tcase_add_test(tc, compact_document);
  tcase_add_test(tc, invalid_utf8_replaced);
  tcase_add_test(tc, unbalanced_is_an_error);
  tcase_add_test(tc, shortest_round_trip_numbers);
  tcase_add_test(tc, metadata_and_matrix);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
