/* Atomic output (lib/io/atomic_file.c): replacing an existing file, what is
 * left behind, and targets that are not regular files. */
#include <dirent.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "testutil.h"

static void slurp(const char *p, char *buf, size_t n) {
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  size_t got = fread(buf, 1, n - 1, f);
  buf[got] = '\0';
  fclose(f);
}

START_TEST(replaces_existing_file) {
  char buf[64];
  for (int durable = 0; durable < 2; durable++) {
    ck_assert_int_eq(dp__write_file_atomic_sync(dp_test_path("a.txt"), "first", 5, durable), DP_OK);
    ck_assert_int_eq(dp__write_file_atomic_sync(dp_test_path("a.txt"), "second", 6, durable), DP_OK);
    slurp(dp_test_path("a.txt"), buf, sizeof buf);
    ck_assert_str_eq(buf, "second");
    ck_assert_int_eq(dp_test_count_entries(), 1); /* nothing left: no temporary, no old file */
  }
  /* another name for the old file keeps the old contents */
  ck_assert_int_eq(link(dp_test_path("a.txt"), dp_test_path("b.txt")), 0);
  ck_assert_int_eq(dp__write_file_atomic(dp_test_path("a.txt"), "third", 5), DP_OK);
  slurp(dp_test_path("b.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "second");
  slurp(dp_test_path("a.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "third");
}
END_TEST

START_TEST(folder_target_is_refused_and_kept) {
  ck_assert_int_eq(mkdir(dp_test_path("d.nii"), 0755), 0);
  ck_assert_int_eq(dp__write_file_atomic(dp_test_path("d.nii"), "x", 1), DP_EIO);
  struct stat st;
  ck_assert_int_eq(stat(dp_test_path("d.nii"), &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(dp_test_count_entries(), 1);
}
END_TEST

START_TEST(symlink_target_is_replaced_not_followed) {
  ck_assert_int_eq(dp__write_file_atomic(dp_test_path("real.txt"), "real", 4), DP_OK);
  ck_assert_int_eq(symlink("real.txt", dp_test_path("link.txt")), 0);
  ck_assert_int_eq(dp__write_file_atomic(dp_test_path("link.txt"), "new", 3), DP_OK);
  char buf[64];
  slurp(dp_test_path("real.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "real");
  struct stat st;
  ck_assert_int_eq(lstat(dp_test_path("link.txt"), &st), 0);
  ck_assert(S_ISREG(st.st_mode));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("atomic_file");
  TCase *t = tcase_create("io");
  tcase_add_checked_fixture(t, dp_test_fixture_dir, NULL);
  tcase_add_test(t, replaces_existing_file);
  tcase_add_test(t, folder_target_is_refused_and_kept);
  tcase_add_test(t, symlink_target_is_replaced_not_followed);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
