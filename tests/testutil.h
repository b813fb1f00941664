/* Small helpers shared by the Check tests. */
#ifndef DCMPREP_TESTS_TESTUTIL_H
#define DCMPREP_TESTS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A fresh temporary folder under $DP_TEST_TMP (or /tmp), unique per call;
 * returns a static buffer overwritten by the next call. */
static inline const char *dp_test_tmpdir(void) {
  static char buf[4096];
  const char *base = getenv("DP_TEST_TMP");
  if (!base || !*base) base = "/tmp";
  snprintf(buf, sizeof buf, "%s/dpt-XXXXXX", base);
  if (!mkdtemp(buf)) return NULL;
  return buf;
}

/* A suite's fixture folder: dp_test_fixture_dir makes a fresh one (use it
 * as a checked fixture's setup), dp_test_path names a file in it (two
 * buffers in turn, so that two paths may be used in one call), and
 * dp_test_count_entries counts what is in it (hidden files too). */
static inline char *dp_test_dir_buf(void) {
  static char buf[4096];
  return buf;
}

static inline void dp_test_fixture_dir(void) {
  const char *d = dp_test_tmpdir();
  ck_assert_ptr_nonnull(d);
  snprintf(dp_test_dir_buf(), 4096, "%s", d);
}

static inline const char *dp_test_path(const char *name) {
  static char buf[2][4400];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dp_test_dir_buf(), name);
  return buf[which];
}

static inline int dp_test_count_entries(void) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dp_test_dir_buf());
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

/* Path of the shared data folder, or NULL (with a note on stdout) when absent. */
static inline const char *dp_test_shared(void) {
  const char *s = getenv("DP_SHARED");
  char probe[4096];
  if (!s) return NULL;
  snprintf(probe, sizeof probe, "%s/data/README.md", s);
  if (access(probe, R_OK) != 0) return NULL;
  return s;
}

/* Runs a suite and returns the process exit code. */
static inline int dp_test_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
