/* Atomic output (lib/io/atomic_file.c): replacing an existing file, what is
 * left behind, and targets that are not regular files. */
#include <dirent.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "testutil.h"

static char dir[4096];

static void setup(void) {
  const char *d = dp_test_tmpdir();
  ck_assert_ptr_nonnull(d);
  snprintf(dir, sizeof dir, "%s", d);
}

static const char *path(const char *name) {
  static char buf[2][4400];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
  return buf[which];
}

static int entries(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.' || strlen(e->d_name) > 2;
  if (d) closedir(d);
  return n;
}

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
    ck_assert_int_eq(dp__write_file_atomic_sync(path("a.txt"), "first", 5, durable), DP_OK);
    ck_assert_int_eq(dp__write_file_atomic_sync(path("a.txt"), "second", 6, durable), DP_OK);
    slurp(path("a.txt"), buf, sizeof buf);
    ck_assert_str_eq(buf, "second");
    ck_assert_int_eq(entries(), 1); /* nothing left: no temporary, no old file */
  }
  /* another name for the old file keeps the old contents */
  ck_assert_int_eq(link(path("a.txt"), path("b.txt")), 0);
  ck_assert_int_eq(dp__write_file_atomic(path("a.txt"), "third", 5), DP_OK);
  slurp(path("b.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "second");
  slurp(path("a.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "third");
}
END_TEST

START_TEST(folder_target_is_refused_and_kept) {
  ck_assert_int_eq(mkdir(path("d.nii"), 0755), 0);
  ck_assert_int_eq(dp__write_file_atomic(path("d.nii"), "x", 1), DP_EIO);
  struct stat st;
  ck_assert_int_eq(stat(path("d.nii"), &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(symlink_target_is_replaced_not_followed) {
  ck_assert_int_eq(dp__write_file_atomic(path("real.txt"), "real", 4), DP_OK);
  ck_assert_int_eq(symlink("real.txt", path("link.txt")), 0);
  ck_assert_int_eq(dp__write_file_atomic(path("link.txt"), "new", 3), DP_OK);
  char buf[64];
  slurp(path("real.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "real");
  struct stat st;
  ck_assert_int_eq(lstat(path("link.txt"), &st), 0);
  ck_assert(S_ISREG(st.st_mode));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("atomic_file");
  TCase *t = tcase_create("io");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, replaces_existing_file);
  tcase_add_test(t, folder_target_is_refused_and_kept);
  tcase_add_test(t, symlink_target_is_replaced_not_followed);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
