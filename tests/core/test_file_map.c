/* Volumes mapped from files (dp_nifti_read of uncompressed NIfTI): zero
 * copy, private (writes never reach the file), and a file truncated or
 * rewritten under the mapping is an error, never a SIGBUS crash; SIGBUS
 * outside the library's mappings still reaches the program's own handler. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "core/convert.h"
#include "core/file_map.h"
#include "dcmprep/dcmprep.h"
#include "testutil.h"

/* An int16 volume of 64 x 64 x 40 (about 320 kB) written to name. */
static void write_volume(const char *name) {
  int64_t dim[4] = {64, 64, 40, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, DP_I16, NULL, &v), DP_OK);
  int16_t *d = v->data;
  for (int64_t i = 0; i < dp_volume_nvox(v); i++) d[i] = (int16_t)(i % 3000 - 1000);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path(name), NULL), DP_OK);
  dp_volume_free(v);
  /* a modification time well in the past, so that a rewrite is seen even
   * within the file system's timestamp granularity */
  struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
  ck_assert_int_eq(utimensat(AT_FDCWD, dp_test_path(name), ts, 0), 0);
}

static dp_volume *read_mapped(const char *name) {
  dp_volume *v = NULL;
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1;
  ck_assert_int_eq(dp_nifti_read(dp_test_path(name), &ro, &v, NULL), DP_OK);
  ck_assert_int_eq(dp_volume_is_mapped(v), 1);
  return v;
}

START_TEST(mapped_is_private) {
  write_volume("a.nii");
  dp_volume *v = read_mapped("a.nii");
  ck_assert_int_eq(((int16_t *)v->data)[5], 5 - 1000);
  ck_assert_int_eq(dp_volume_check(v), DP_OK);
  ((int16_t *)v->data)[5] = 1234; /* copy-on-write: the file keeps its value */
  dp_volume *w = read_mapped("a.nii");
  ck_assert_int_eq(((int16_t *)w->data)[5], 5 - 1000);
  ck_assert_int_eq(dp_volume_check(v), DP_OK);
  dp_volume_free(v);
  dp_volume_free(w);
}
END_TEST

/* The file truncated to a few kB after mapping: reading the rest gives
 * zeros (no SIGBUS), and every consumer that reports or writes refuses. */
START_TEST(truncated_under_the_reader) {
  write_volume("t.nii");
  dp_volume *v = read_mapped("t.nii");
  ck_assert_int_eq(truncate(dp_test_path("t.nii"), 8192), 0);
  dp_volume_stats st;
  dp_status s = dp_volume_compute_stats(v, &st); /* touches every page */
  ck_assert_int_eq(s, DP_EIO);
  ck_assert_msg(strstr(dp_last_error(), "t.nii") && strstr(dp_last_error(), "truncated"), "%s",
                dp_last_error());
  ck_assert_int_eq(dp_volume_check(v), DP_EIO);
  int before = dp_test_count_entries();
  s = dp_nifti_write(v, dp_test_path("out.nii"), NULL);
  ck_assert_int_eq(s, DP_EIO);
  ck_assert_int_eq(dp_test_count_entries(), before); /* no output, no temporary */
  /* a pipeline step on it fails too */
  dp_step step;
  int is_step = 0;
  dp_pipeline_settings set = DP_PIPELINE_SETTINGS_INIT;
  ck_assert_int_eq(dp_step_parse("clip", "0,10", &step, &is_step, &set), DP_OK);
  ck_assert_int_eq(dp_pipeline_run(&step, 1, &set, &v, NULL), DP_EIO);
  dp_volume_free(v);
}
END_TEST

START_TEST(rewritten_under_the_reader) {
  write_volume("r.nii");
  dp_volume *v = read_mapped("r.nii");
  int fd = open(dp_test_path("r.nii"), O_WRONLY);
  ck_assert_int_ge(fd, 0);
  int16_t x = 4242;
  ck_assert_int_eq(pwrite(fd, &x, 2, 352 + 200), 2);
  close(fd);
  ck_assert_int_eq(dp_volume_check(v), DP_EIO);
  ck_assert_msg(strstr(dp_last_error(), "changed"), "%s", dp_last_error());
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("out.nii.gz"), NULL), DP_EIO);
  ck_assert_int_ne(access(dp_test_path("out.nii.gz"), F_OK), 0);
  dp_volume_free(v);
}
END_TEST

/* Replacing the file by a new one (rename over it) leaves the mapping on
 * the old file: its values stay consistent, which is not an error. */
START_TEST(replaced_by_rename_is_fine) {
  write_volume("p.nii");
  write_volume("q.nii");
  dp_volume *v = read_mapped("p.nii");
  ck_assert_int_eq(rename(dp_test_path("q.nii"), dp_test_path("p.nii")), 0);
  ck_assert_int_eq(dp_volume_check(v), DP_OK);
  dp_volume_free(v);
}
END_TEST

/* The guard catches a truncation in the middle of a conversion from the
 * mapping (as the reader converts scaled files). */
START_TEST(guard_during_conversion) {
  write_volume("c.nii");
  int fd = open(dp_test_path("c.nii"), O_RDONLY);
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  dp__file_map *m = NULL;
  const unsigned char *base = NULL;
  ck_assert_int_eq(dp__file_map_open(fd, dp_test_path("c.nii"), (size_t)st.st_size, &m, &base), DP_OK);
  close(fd);
  ck_assert_int_eq(truncate(dp_test_path("c.nii"), 4096), 0);
  size_t n = ((size_t)st.st_size - 352) / 2;
  int16_t *out = malloc(n * 2);
  dp__convert c = {.src = DP__E_I16, .swap = 0, .slope = 1, .inter = -1024, .dst = DP_I16};
  dp__convert_run(&c, base + 352, out, n, 2, NULL);
  ck_assert_int_eq(out[n - 1], -1024); /* zeros where the file was gone */
  ck_assert_int_eq(dp__file_map_check(m), DP_EIO);
  dp__file_map_close(m);
  free(out);
}
END_TEST

/* A SIGBUS that is not the library's goes to the handler installed before. */
static sigjmp_buf jump;
static volatile sig_atomic_t caught;
static void own_handler(int sig) {
  (void)sig;
  caught = 1;
  siglongjmp(jump, 1);
}

START_TEST(foreign_sigbus_reaches_previous_handler) {
  signal(SIGBUS, own_handler);
  write_volume("f.nii");
  /* the library installs its guard with its first mapping, after ours */
  dp_volume *v = read_mapped("f.nii");
  int fd = open(dp_test_path("f.nii"), O_RDWR);
  ck_assert_int_ge(fd, 0);
  unsigned char *p = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0);
  ck_assert_ptr_ne(p, MAP_FAILED);
  ck_assert_int_eq(ftruncate(fd, 0), 0);
  volatile unsigned char sink = 0;
  if (sigsetjmp(jump, 1) == 0) sink = p[40000];
  (void)sink;
  ck_assert_int_eq(caught, 1);
  munmap(p, 65536);
  close(fd);
  dp_volume_free(v);
}
END_TEST

/* A .nii.gz is decompressed into memory, never a mapped volume. */
START_TEST(gzip_is_read_not_mapped) {
  write_volume("g.nii.gz");
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("g.nii.gz"), NULL, &v, NULL), DP_OK);
  ck_assert_int_eq(dp_volume_is_mapped(v), 0);
  ck_assert_int_eq(((int16_t *)v->data)[7], 7 - 1000);
  dp_volume_free(v);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("file_map");
  TCase *t = tcase_create("core");
  tcase_add_checked_fixture(t, dp_test_fixture_dir, NULL);
  tcase_add_test(t, mapped_is_private);
  tcase_add_test(t, truncated_under_the_reader);
  tcase_add_test(t, rewritten_under_the_reader);
  tcase_add_test(t, replaced_by_rename_is_fine);
  tcase_add_test(t, guard_during_conversion);
  tcase_add_test(t, foreign_sigbus_reaches_previous_handler);
  tcase_add_test(t, gzip_is_read_not_mapped);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
