#define _GNU_SOURCE /* mkstemps, renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "io/atomic_file.h"

static void release(dp__atomic_file *af) {
  free(af->path);
  free(af->tmp_path);
  af->path = af->tmp_path = NULL;
  af->fp = NULL;
}

dp_status dp__atomic_open(dp__atomic_file *af, const char *path) {
  memset(af, 0, sizeof *af);
  if (!path || !*path) return dp__error(DP_EINVAL, "no output path");
  size_t n = strlen(path);
  if (path[n - 1] == '/') return dp__error(DP_EINVAL, "%s: output path is a folder", path);
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dir_len;
  /* ".BASE.XXXXXX.tmp": hidden, in the same folder so rename() is atomic. */
  size_t tmp_size = dir_len + 1 + strlen(base) + 12 + 1;
  af->path = malloc(n + 1);
  af->tmp_path = malloc(tmp_size);
  if (!af->path || !af->tmp_path) {
    release(af);
    return dp__error(DP_ENOMEM, "%s: out of memory", path);
  }
  memcpy(af->path, path, n + 1);
  memcpy(af->tmp_path, path, dir_len);
  snprintf(af->tmp_path + dir_len, tmp_size - dir_len, ".%s.XXXXXX.tmp", base);
  int fd = mkstemps(af->tmp_path, 4);
  if (fd < 0) {
    int e = errno;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", dir_len ? (int)dir_len : 1, dir_len ? path : ".");
    release(af);
    return dp__error(DP_EIO, "%s: cannot create a file in %s: %s", path, dir, strerror(e));
  }
  /* mkstemp creates 0600; give the output the usual umask-governed mode. */
  mode_t um = umask(0);
  umask(um);
  (void)fchmod(fd, 0666 & ~um);
  af->fp = fdopen(fd, "wb");
  if (!af->fp) {
    int e = errno;
    close(fd);
    unlink(af->tmp_path);
    dp__error(DP_EIO, "%s: %s", af->tmp_path, strerror(e));
    release(af);
    return DP_EIO;
  }
  return DP_OK;
}

dp_status dp__atomic_write(dp__atomic_file *af, const void *buf, size_t n) {
  if (!af->fp || af->failed) return dp__error(DP_EIO, "%s: write after failure", af->path ? af->path : "?");
  if (n && fwrite(buf, 1, n, af->fp) != n) {
    af->failed = 1;
    return dp__error(DP_EIO, "%s: write failed: %s", af->path, strerror(errno));
  }
  return DP_OK;
}

/* Makes a completed rename durable: the new directory entry is on disk only
 * once the folder holding it is synced.  File systems that cannot sync a
 * folder (EINVAL) give no such guarantee and are not an error. */
static dp_status sync_folder(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return dp__error(DP_EIO, "%s: cannot open its folder to sync it: %s", path, strerror(errno));
  int r = fsync(fd), e = errno;
  close(fd);
  if (r != 0 && e != EINVAL)
    return dp__error(DP_EIO, "%s: syncing its folder failed: %s", path, strerror(e));
  return DP_OK;
}

/* Puts tmp in place of path.  An existing regular file is swapped out with
 * renameat2(RENAME_EXCHANGE) and then removed: the name always holds one
 * complete file, as with rename(), but ext4 does not start writeback of the
 * whole new file inside the call, as it does for a rename over an existing
 * file (its replace-via-rename heuristic for programs that never fsync;
 * 0.05-0.3 s for 73 MB here).  Durable commits fsync before, so they take
 * plain rename().  Elsewhere, or when exchange is not supported, rename(). */
static int replace(const char *tmp, const char *path, int durable) {
#ifdef RENAME_EXCHANGE
  struct stat st;
  if (!durable && lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
      /* tmp names the old file now: remove it, unless something other than
       * a regular file got there meanwhile (then undo the swap) */
      if (lstat(tmp, &st) == 0 && S_ISREG(st.st_mode)) {
        unlink(tmp);
        return 0;
      }
      if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) != 0) return -1;
    } else if (errno != EINVAL && errno != ENOSYS && errno != ENOENT && errno != ENOTSUP) {
      return -1;
    }
  }
#else
  (void)durable;
#endif
  return rename(tmp, path);
}

dp_status dp__atomic_commit(dp__atomic_file *af) {
  if (!af->fp) {
    release(af);
    return dp__error(DP_EIO, "output file is not open");
  }
  dp_status s = DP_OK;
  int e = 0;
  if (af->failed) {
    s = DP_EIO;
  } else if (fflush(af->fp) != 0 || (af->durable && fsync(fileno(af->fp)) != 0)) {
    e = errno;
    s = DP_EIO;
  }
  if (fclose(af->fp) != 0 && s == DP_OK) {
    e = errno;
    s = DP_EIO;
  }
  af->fp = NULL;
  if (s == DP_OK && replace(af->tmp_path, af->path, af->durable) != 0) {
    e = errno;
    s = DP_EIO;
  }
  if (s == DP_OK && af->durable) s = sync_folder(af->path);
  if (s != DP_OK) {
    unlink(af->tmp_path); /* (gone already when only the folder sync failed) */
    if (e) dp__error(s, "%s: %s", af->path, strerror(e));
  }
  release(af);
  return s;
}

void dp__atomic_abort(dp__atomic_file *af) {
  if (af->fp) {
    fclose(af->fp);
    af->fp = NULL;
    unlink(af->tmp_path);
  }
  release(af);
}

dp_status dp__write_file_atomic(const char *path, const void *buf, size_t n) {
  return dp__write_file_atomic_sync(path, buf, n, 0);
}

dp_status dp__write_file_atomic_sync(const char *path, const void *buf, size_t n, int durable) {
  dp__atomic_file af;
  dp_status s = dp__atomic_open(&af, path);
  if (s != DP_OK) return s;
  af.durable = durable;
  s = dp__atomic_write(&af, buf, n);
  if (s != DP_OK) {
    dp__atomic_abort(&af);
    return s;
  }
  return dp__atomic_commit(&af);
}
