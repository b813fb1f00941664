/* dp_pipeline_run_write: a last voxel-wise step written piece by piece gives
 * the bytes and the metadata of running the pipeline and writing the result,
 * for any thread count; a failed write (at the start or midway) leaves
 * nothing and the image as it was. */
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* 13.1 million voxels written as float32: 13 pieces of 4 MiB, several
 * batches of the writer's per-thread buffers for up to 7 threads */
static dp_volume *make_big(void) {
  int64_t dim[4] = {320, 320, 128, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_I16, NULL, &v), DP_OK);
  for (int64_t i = 0; i < dp_volume_nvox(v); i++)
    ((int16_t *)v->data)[i] = (int16_t)(900 * sin((double)i * 0.0003) + (double)(i % 89) - 40);
  return v;
}

static dp_status write_window(dp_volume **v, const char *path, int threads) {
  dp_pipeline *p = NULL;
  ck_assert_int_eq(dp_pipeline_new(&p), DP_OK);
  ck_assert_int_eq(dp_pipeline_add(p, "window", "40,400"), DP_OK);
  int n = 0;
  const dp_step *steps = dp_pipeline_steps(p, &n);
  dp_nifti_write_opts o = DP_NIFTI_WRITE_OPTS_INIT;
  o.threads = threads;
  dp_status s = dp_pipeline_run_write(steps, n, dp_pipeline_settings_of(p), v, NULL, path, &o, NULL);
  dp_pipeline_free(p);
  return s;
}

START_TEST(threads_give_the_same_bytes) {
  dp_volume *v = make_big();
  ck_assert_int_eq(write_window(&v, dp_test_path("t1.nii"), 1), DP_OK);
  size_t n1;
  char *d1 = slurp(dp_test_path("t1.nii"), &n1);
  ck_assert_uint_eq(n1, 352 + (size_t)320 * 320 * 128 * 4);
  static const int threads[] = {2, 3, 7, 16};
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    dp_volume_meta_remove(v, "PrepSteps");
    ck_assert_int_eq(write_window(&v, dp_test_path("tn.nii"), threads[t]), DP_OK);
    size_t nn;
    char *dn = slurp(dp_test_path("tn.nii"), &nn);
    ck_assert_msg(nn == n1 && memcmp(d1, dn, n1) == 0, "%d threads: other bytes than 1 thread", threads[t]);
    free(dn);
  }
  /* and the values are the window's: (x - (40 - 200)) / 400 clamped to [0, 1] */
  const float *w = (const float *)(d1 + 352);
  const int16_t *x = v->data;
  for (int64_t i = 0; i < dp_volume_nvox(v); i += 9973) {
    double e = ((double)x[i] + 160.0) / 400.0;
    e = e < 0 ? 0 : e > 1 ? 1 : e;
    ck_assert_msg(fabs(w[i] - e) < 1e-6, "voxel %lld: %g, expected %g", (long long)i, w[i], e);
  }
  free(d1);
  dp_volume_free(v);
}
END_TEST

/* The file system refuses the write midway (the file size limit, in a child
 * process): an error, no file and no temporary left, the workers stopped. */
START_TEST(write_failing_midway_leaves_nothing) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit r = {10 << 20, 10 << 20};
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) _exit(10);
    static const int threads[] = {1, 2, 5};
    for (int t = 0; t < 3; t++) {
      dp_volume *v = make_big();
      if (write_window(&v, dp_test_path("cut.nii"), threads[t]) == DP_OK) _exit(11 + t);
      if (strstr(dp_last_error(), "cut.nii") == NULL) _exit(14);
      if (dp_volume_meta_get(v, "PrepSteps", NULL)) _exit(15);
      dp_volume_free(v);
    }
    _exit(0);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %d", status);
  DIR *d = opendir(dp_test_path("."));
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0, "left behind: %s", e->d_name);
  closedir(d);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("pipeline_write");
  TCase *t = tcase_create("pipeline");
  tcase_set_timeout(t, 120);
  tcase_add_checked_fixture(t, dp_test_fixture_dir, NULL);
  tcase_add_test(t, streamed_equals_materialised);
  tcase_add_test(t, failed_write_leaves_nothing);
  tcase_add_test(t, threads_give_the_same_bytes);
  tcase_add_test(t, write_failing_midway_leaves_nothing);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
