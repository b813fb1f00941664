#include <pthread.h>

#include "core/internal.h"
#include "dcmprep/dcmprep.h"
#include "testutil.h"

START_TEST(names_and_strings) {
  ck_assert_str_eq(dp_status_name(DP_OK), "DP_OK");
  ck_assert_str_eq(dp_status_name(DP_ENOMEM), "DP_ENOMEM");
  ck_assert_str_eq(dp_status_str(DP_ENOMEM), "out of memory");
  ck_assert_str_eq(dp_status_str((dp_status)-999), "unknown status");
  ck_assert_int_eq(DP_OK, 0);
  ck_assert_int_lt(DP_EINTERNAL, 0);
}
END_TEST

START_TEST(message_and_prefix) {
  dp_clear_error();
  ck_assert_str_eq(dp_last_error(), "");
  ck_assert_int_eq(dp__error(DP_EFORMAT, "dim[%d] = %d", 1, -4), DP_EFORMAT);
  ck_assert_str_eq(dp_last_error(), "dim[1] = -4");
  dp__error_prefix(DP_EFORMAT, "scan.nii");
  ck_assert_str_eq(dp_last_error(), "scan.nii: dim[1] = -4");
  char long_prefix[3000];
  memset(long_prefix, 'p', sizeof long_prefix - 1);
  long_prefix[sizeof long_prefix - 1] = 0;
  dp__error_prefix(DP_EFORMAT, long_prefix); /* truncated, never overflows */
  ck_assert_uint_lt(strlen(dp_last_error()), 2048);
}
END_TEST

static void *other_thread(void *arg) {
  (void)arg;
  dp__error(DP_EIO, "from the other thread");
  return NULL;
}

START_TEST(messages_are_per_thread) {
  dp__error(DP_EINVAL, "main thread");
  pthread_t t;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, NULL);
  ck_assert_str_eq(dp_last_error(), "main thread");
}
END_TEST

static int logged;
static void on_log(dp_log_level level, const char *msg, void *user) {
  ck_assert_int_eq(level, DP_LOG_WARN);
  ck_assert_str_eq(msg, "tilt 18.5 degrees");
  *(int *)user += 1;
}

START_TEST(log_callback) {
  dp__log(DP_LOG_WARN, "dropped: no callback");
  dp_set_log_callback(on_log, &logged);
  dp__log(DP_LOG_WARN, "tilt %.1f degrees", 18.5);
  dp_set_log_callback(NULL, NULL);
  dp__log(DP_LOG_WARN, "dropped again");
  ck_assert_int_eq(logged, 1);
}
END_TEST

START_TEST(version_strings) {
  ck_assert_str_eq(dp_version(), DCMPREP_VERSION_STRING);
  ck_assert_ptr_nonnull(strstr(dp_dicom_toolkit_version(), "3."));
  const char *const *ts = dp_supported_transfer_syntaxes();
  ck_assert_ptr_nonnull(ts[0]);
  ck_assert_ptr_nonnull(strstr(ts[0], "1.2.840.10008.1.2"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("status");
  TCase *tc = tcase_create("status");
  tcase_add_test(tc, names_and_strings);
  tcase_add_test(tc, message_and_prefix);
  tcase_add_test(tc, messages_are_per_thread);
  tcase_add_test(tc, log_callback);
  tcase_add_test(tc, version_strings);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
