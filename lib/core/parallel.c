#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dcmprep/parallel.h"
#include "internal.h"

enum { DP__MAX_THREADS = 256 };

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_default = 1;

static void threads_init(void) {
  const char *env = getenv("DCMPREP_THREADS");
  long n = 0;
  if (env && *env) {
    char *end = NULL;
    n = strtol(env, &end, 10);
    if (*end != '\0') n = 0;
  }
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0) n = 1;
  if (n > DP__MAX_THREADS) n = DP__MAX_THREADS;
  threads_default = (int)n;
}

int dp_default_threads(void) {
  pthread_once(&threads_once, threads_init);
  return threads_default;
}

int dp__threads(int threads) {
  if (threads > DP__MAX_THREADS) return DP__MAX_THREADS;
  return threads > 0 ? threads : dp_default_threads();
}

typedef struct {
  int64_t n, chunk;
  atomic_llong next;
  dp__task_fn fn;
  void *ctx;
  atomic_int status; /* first failure wins */
  char msg[1024];    /* its message, carried back to the calling thread */
} dp__pool;

static void *worker(void *arg) {
  dp__pool *p = arg;
  for (;;) {
    int64_t start = atomic_fetch_add(&p->next, p->chunk);
    if (start >= p->n) break;
    int64_t end = start + p->chunk < p->n ? start + p->chunk : p->n;
    for (int64_t i = start; i < end; i++) {
      dp_status s = p->fn(p->ctx, i);
      if (s != DP_OK) {
        int expected = DP_OK;
        if (atomic_compare_exchange_strong(&p->status, &expected, (int)s))
          snprintf(p->msg, sizeof p->msg, "%s", dp_last_error());
      }
    }
  }
  return NULL;
}

dp_status dp__parallel_for(int64_t n, int threads, dp__task_fn fn, void *ctx) {
  if (n <= 0) return DP_OK;
  int nt = dp__threads(threads);
  if (nt > n) nt = (int)n;
  dp__pool p;
  p.n = n;
  /* Several chunks per thread balance uneven items; results never depend on
   * which thread ran an item. */
  p.chunk = n / ((int64_t)nt * 8);
  if (p.chunk < 1) p.chunk = 1;
  atomic_init(&p.next, 0);
  atomic_init(&p.status, DP_OK);
  p.fn = fn;
  p.ctx = ctx;
  p.msg[0] = '\0';
  pthread_t tid[DP__MAX_THREADS];
  int started = 0;
  for (int t = 1; t < nt; t++) {
    if (pthread_create(&tid[started], NULL, worker, &p) != 0) break;
    started++;
  }
  worker(&p); /* the caller works too, and finishes whatever is left */
  for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
  dp_status s = (dp_status)atomic_load(&p.status);
  if (s != DP_OK) dp__error(s, "%s", p.msg[0] ? p.msg : dp_status_str(s));
  return s;
}
