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
