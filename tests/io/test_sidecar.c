/* dp_sidecar_json: the text dp_sidecar_write writes. */
#include "dcmprep/dcmprep.h"
#include "testutil.h"

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  static char buf[1 << 16];
  *n = fread(buf, 1, sizeof buf - 1, f);
  buf[*n] = '\0';
  fclose(f);
  return buf;
}

START_TEST(json_text_is_the_file) {
  int64_t dim[4] = {2, 2, 2, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_F32, NULL, &v), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_str(v, "Modality", "CT \"quoted\"\n"), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_num(v, "KVP", 120.5), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_json(v, "PrepSteps", "[{\"step\": \"canonical\"}]"), DP_OK);
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(dp_sidecar_json(v, &text, &len), DP_OK);
  ck_assert_uint_eq(len, strlen(text));
  ck_assert_int_eq(text[len - 1], '\n');
  ck_assert_ptr_nonnull(strstr(text, "\"ConversionSoftware\": \"dcmprep\""));
  ck_assert_ptr_nonnull(strstr(text, "\"Modality\": \"CT \\\"quoted\\\"\\n\""));
  ck_assert_ptr_nonnull(strstr(text, "\"KVP\": 120.5"));
  char path[4200];
  snprintf(path, sizeof path, "%s/a.json", dp_test_tmpdir());
  ck_assert_int_eq(dp_sidecar_write(v, path), DP_OK);
  size_t n = 0;
  const char *file = slurp(path, &n);
  ck_assert_uint_eq(n, len);
  ck_assert_int_eq(memcmp(file, text, len), 0);
  dp_free(text);
  ck_assert_int_eq(dp_sidecar_json(v, NULL, &len), DP_EINVAL);
  text = (char *)0x1;
  ck_assert_int_eq(dp_sidecar_json(NULL, &text, NULL), DP_EINVAL);
  ck_assert_ptr_null(text);
  dp_volume_free(v);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sidecar");
  TCase *tc = tcase_create("sidecar");
  tcase_add_test(tc, json_text_is_the_file);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
