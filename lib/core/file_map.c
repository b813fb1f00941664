#define _GNU_SOURCE /* struct stat's st_mtim */
#include "core/file_map.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"

/* Live mappings, read by the signal handler without locks: a slot is taken
 * by compare-and-swap of `lo` from 0, its range published before use and
 * cleared before the pages are unmapped. */
#define DP__MAP_SLOTS 1024

typedef struct {
  atomic_uintptr_t lo, hi; /* [lo, hi) of the mapping; lo 0 = free */
  atomic_int damaged;      /* a read past the end of the file was caught */
} slot;

static slot slots[DP__MAP_SLOTS];
static struct sigaction previous;
static long page_size = 4096;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_ok;

struct dp__file_map {
  unsigned char *base;
  size_t len;   /* mapped bytes (the file's size) */
  int fd;       /* our duplicate, for fstat */
  int slot;
  struct stat st;
  char *path;
};

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
  uintptr_t a = (uintptr_t)si->si_addr;
  for (int i = 0; i < DP__MAP_SLOTS; i++) {
    uintptr_t lo = atomic_load(&slots[i].lo), hi = atomic_load(&slots[i].hi);
    if (lo && a >= lo && a < hi) {
      /* a page of the mapping beyond the file's (new) end: zeros instead,
       * and the mapping is known to be damaged.  mmap is a plain system
       * call on Linux, safe here. */
      void *page = (void *)(a & ~(uintptr_t)(page_size - 1));
      if (mmap(page, (size_t)page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) != MAP_FAILED) {
        atomic_store(&slots[i].damaged, 1);
        return;
      }
      break;
    }
  }
  /* not ours: whoever handled SIGBUS before, or the default action (the
   * faulting instruction runs again and the default kills the process) */
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, si, uc);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  } else {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL);
  }
}

static void guard_install(void) {
  long ps = sysconf(_SC_PAGESIZE);
  if (ps > 0) page_size = ps;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  guard_ok = sigaction(SIGBUS, &sa, &previous) == 0;
}

static int same_file_state(const struct stat *a, const struct stat *b) {
  /* not the change time: renaming another file over this one (which leaves
   * the mapping on this one, consistent) changes it too */
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

dp_status dp__file_map_open(int fd, const char *path, size_t size, dp__file_map **out,
                            const unsigned char **base) {
  *out = NULL;
  *base = NULL;
  pthread_once(&guard_once, guard_install);
  if (!guard_ok || size == 0) return DP_EUNSUPPORTED;
  dp__file_map *m = calloc(1, sizeof *m);
  if (!m) return dp__error(DP_ENOMEM, "out of memory");
  m->fd = -1;
  m->slot = -1;
  m->path = strdup(path ? path : "");
  if (!m->path || (m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0 || fstat(m->fd, &m->st) != 0 ||
      (size_t)m->st.st_size != size) {
    dp__file_map_close(m);
    return DP_EUNSUPPORTED;
  }
  for (int i = 0; i < DP__MAP_SLOTS && m->slot < 0; i++) {
    uintptr_t zero = 0;
    if (atomic_compare_exchange_strong(&slots[i].lo, &zero, (uintptr_t)1)) m->slot = i;
  }
  if (m->slot < 0) {
    dp__file_map_close(m);
    return DP_EUNSUPPORTED;
  }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, m->fd, 0);
  if (p == MAP_FAILED) {
    dp__file_map_close(m);
    return DP_EUNSUPPORTED;
  }
  m->base = p;
  m->len = size;
  /* the range is published before the pages are read (hi first: a reader
   * that sees lo also sees a valid hi) */
  atomic_store(&slots[m->slot].damaged, 0);
  atomic_store(&slots[m->slot].hi, (uintptr_t)p + size);
  atomic_store(&slots[m->slot].lo, (uintptr_t)p);
  *out = m;
  *base = m->base;
  return DP_OK;
}

void dp__file_map_close(dp__file_map *m) {
  if (!m) return;
  if (m->slot >= 0) {
    atomic_store(&slots[m->slot].hi, 0);
    if (m->base) munmap(m->base, m->len);
    atomic_store(&slots[m->slot].lo, 0); /* the slot is free once the pages are gone */
  } else if (m->base) {
    munmap(m->base, m->len);
  }
  if (m->fd >= 0) close(m->fd);
  free(m->path);
  free(m);
}

dp_status dp__file_map_check(const dp__file_map *m) {
  if (!m) return DP_OK;
  struct stat now;
  if (atomic_load(&slots[m->slot].damaged))
    return dp__error(DP_EIO, "%s: the file was truncated while it was being read; its data are incomplete",
                     m->path);
  if (fstat(m->fd, &now) != 0)
    return dp__error(DP_EIO, "%s: cannot check the file: %s", m->path, strerror(errno));
  if (!same_file_state(&m->st, &now))
    return dp__error(DP_EIO, "%s: the file was changed while it was being read (size %lld -> %lld bytes%s)",
                     m->path, (long long)m->st.st_size, (long long)now.st_size,
                     m->st.st_size == now.st_size ? ", contents rewritten" : "");
  return DP_OK;
}

void dp__file_map_willneed(const dp__file_map *m, size_t off, size_t len) {
  if (!m || off >= m->len) return;
  uintptr_t a = ((uintptr_t)m->base + off) & ~(uintptr_t)(page_size - 1);
  uintptr_t e = (uintptr_t)m->base + (off + len < m->len ? off + len : m->len);
  madvise((void *)a, (size_t)(e - a), MADV_WILLNEED);
}

void dp__file_map_populate(const dp__file_map *m) {
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif
  /* an error (an older kernel) only leaves the pages to be faulted in */
  if (m) (void)madvise(m->base, m->len, MADV_POPULATE_READ);
}

void dp__file_map_release(const dp__file_map *m, const void *p, size_t len) {
  if (!m || !len) return;
  uintptr_t a = ((uintptr_t)p + (uintptr_t)page_size - 1) & ~(uintptr_t)(page_size - 1);
  uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(page_size - 1);
  uintptr_t lo = (uintptr_t)m->base, hi = lo + m->len;
  if (a < lo) a = lo;
  if (e > hi) e = hi;
  if (e > a) madvise((void *)a, (size_t)(e - a), MADV_DONTNEED);
}
