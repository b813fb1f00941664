#include <stdatomic.h>
#include <stdlib.h>

#include "core/internal.h"
#include "dcmprep/dcmprep.h"
#include "testutil.h"

typedef struct {
  atomic_int *hits;
} ctx_t;

static dp_status mark(void *vctx, int64_t i) {
  ctx_t *c = vctx;
  atomic_fetch_add(&c->hits[i], 1);
  return DP_OK;
}

START_TEST(each_item_once_any_thread_count) {
  enum { N = 10007 };
  for (int threads = 1; threads <= 8; threads++) {
    atomic_int *hits = calloc(N, sizeof *hits);
    ctx_t c = {hits};
    ck_assert_int_eq(dp__parallel_for(N, threads, mark, &c), DP_OK);
    for (int i = 0; i < N; i++) ck_assert_int_eq(atomic_load(&hits[i]), 1);
    free(hits);
  }
  ck_assert_int_eq(dp__parallel_for(0, 2, mark, NULL), DP_OK);
}
END_TEST

static dp_status fail_on_500(void *vctx, int64_t i) {
  (void)vctx;
  if (i == 500) return dp__error(DP_EFORMAT, "item %lld is corrupt", (long long)i);
  return DP_OK;
}

START_TEST(failure_and_message_reach_caller) {
  dp_clear_error();
  ck_assert_int_eq(dp__parallel_for(1000, 4, fail_on_500, NULL), DP_EFORMAT);
  ck_assert_str_eq(dp_last_error(), "item 500 is corrupt");
}
END_TEST

START_TEST(default_threads_from_env) {
  /* Runs in a forked child (Check's default), so the one-time read sees it. */
  setenv("DCMPREP_THREADS", "3", 1);
  ck_assert_int_eq(dp_default_threads(), 3);
  ck_assert_int_eq(dp__threads(0), 3);
  ck_assert_int_eq(dp__threads(5), 5);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parallel");
  TCase *tc = tcase_create("parallel");
  tcase_add_test(tc, each_item_once_any_thread_count);
  tcase_add_test(tc, failure_and_message_reach_caller);
  tcase_add_test(tc, default_threads_from_env);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
