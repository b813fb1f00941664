/* dp_pipeline_run_write: a last voxel-wise step written piece by piece gives
 * the bytes and the metadata of running the pipeline and writing the result;
 * a failed write leaves nothing and the image as it was. */
#include <sys/stat.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

/* 1.5 million voxels: several of the writer's 4 MiB pieces */
static dp_volume *make(dp_dtype t) {
  int64_t dim[4] = {160, 120, 80, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, t, NULL, &v), DP_OK);
  for (int64_t i = 0; i < dp_volume_nvox(v); i++) {
    double x = 900 * sin((double)i * 0.0007) + (double)(i % 97) - 40;
    if (t == DP_I16) ((int16_t *)v->data)[i] = (int16_t)x;
    else ((float *)v->data)[i] = (float)(x * 0.25);
  }
  ck_assert_int_eq(dp_volume_meta_set_str(v, "Modality", "CT"), DP_OK);
  return v;
}

static char *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(*n ? *n : 1);
  ck_assert_uint_eq(fread(b, 1, *n, f), *n);
  fclose(f);
  return b;
}

static void same_as_materialised(dp_dtype t, const char *const *words, int nwords, const char *ext) {
  dp_pipeline *p = NULL;
  ck_assert_int_eq(dp_pipeline_new(&p), DP_OK);
  for (int w = 0; w < nwords; w += 2) ck_assert_int_eq(dp_pipeline_add(p, words[w], words[w + 1]), DP_OK);
  int n = 0;
  const dp_step *steps = dp_pipeline_steps(p, &n);
  char a[64], b[64];
  snprintf(a, sizeof a, "a%s", ext);
  snprintf(b, sizeof b, "b%s", ext);
  dp_volume *x = make(t), *y = make(t);
  ck_assert_int_eq(dp_pipeline_run(steps, n, dp_pipeline_settings_of(p), &x, NULL), DP_OK);
  ck_assert_int_eq(dp_nifti_write(x, dp_test_path(a), NULL), DP_OK);
  dp_dtype written = DP_DTYPE_NONE;
  ck_assert_int_eq(dp_pipeline_run_write(steps, n, dp_pipeline_settings_of(p), &y, NULL, dp_test_path(b), NULL, &written),
                   DP_OK);
  ck_assert_int_eq(written, x->dtype);
  size_t na, nb;
  char *da = slurp(dp_test_path(a), &na), *db = slurp(dp_test_path(b), &nb);
  ck_assert_msg(na == nb && memcmp(da, db, na) == 0, "%s %s%s: the written bytes differ", dp_dtype_name(t),
                words[nwords - 2], ext);
  const char *ra = dp_volume_meta_get(x, "PrepSteps", NULL), *rb = dp_volume_meta_get(y, "PrepSteps", NULL);
  ck_assert_ptr_nonnull(ra);
  ck_assert_ptr_nonnull(rb);
  ck_assert_str_eq(ra, rb); /* the metadata of the written image */
  ck_assert_str_eq(dp_volume_meta_get(y, "Modality", NULL), "CT");
  free(da);
  free(db);
  dp_volume_free(x);
  dp_volume_free(y);
  dp_pipeline_free(p);
}

START_TEST(streamed_equals_materialised) {
  static const char *const cases[][6] = {
      {"window", "40,400", NULL, NULL, NULL, NULL},
      {"window-out", "u8", "window", "-20,300", NULL, NULL},
      {"window-out", "hu", "window", "50,350", NULL, NULL},
      {"clip", "-100.5,300", NULL, NULL, NULL, NULL},
      {"mask", "above:-500", "clip-percentile", "1,99", NULL, NULL},
      {"normalize", "zscore", NULL, NULL, NULL, NULL},
      {"spacing", "1.5,1.5,1.5", "normalize", "minmax", NULL, NULL},
      {"crop-or-pad", "100,90,60", "mask", "nonzero", "normalize", "range:-1,1"},
  };
  static const dp_dtype types[] = {DP_I16, DP_F32};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int nw = 0;
    while (nw < 6 && cases[c][nw]) nw += 2;
    for (size_t t = 0; t < 2; t++) {
      same_as_materialised(types[t], cases[c], nw, ".nii");
      if (c == 0) same_as_materialised(types[t], cases[c], nw, ".nii.gz"); /* (not streamed) */
    }
  }
}
END_TEST

START_TEST(failed_write_leaves_nothing) {
  dp_pipeline *p = NULL;
  ck_assert_int_eq(dp_pipeline_new(&p), DP_OK);
  ck_assert_int_eq(dp_pipeline_add(p, "window", "40,400"), DP_OK);
  int n = 0;
  const dp_step *steps = dp_pipeline_steps(p, &n);
  dp_volume *y = make(DP_I16);
  dp_volume *before = y;
  dp_dtype written = DP_U16;
  dp_status s = dp_pipeline_run_write(steps, n, dp_pipeline_settings_of(p), &y, NULL, dp_test_path("no/such/dir/x.nii"),
                                      NULL, &written);
  ck_assert_int_eq(s, DP_EIO);
  ck_assert_ptr_eq(y, before);
  ck_assert_ptr_null(dp_volume_meta_get(y, "PrepSteps", NULL)); /* the record taken back */
  ck_assert_int_eq(written, DP_DTYPE_NONE);
  struct stat st;
  ck_assert_int_ne(stat(dp_test_path("no"), &st), 0);
  dp_volume_free(y);
  dp_pipeline_free(p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("pipeline_write");
  TCase *t = tcase_create("pipeline");
  tcase_set_timeout(t, 120);
  tcase_add_checked_fixture(t, dp_test_fixture_dir, NULL);
  tcase_add_test(t, streamed_equals_materialised);
  tcase_add_test(t, failed_write_leaves_nothing);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
