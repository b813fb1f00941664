/* Atomic file output: write to a temporary file in the target's folder, then
 * rename it over the target.  A failure at any point removes the temporary
 * file, so readers (and a later run after this process crashed or was killed)
 * only ever see the old file or the complete new one.  That much needs no
 * fsync: the kernel's page cache is shared.  Surviving a power loss or an OS
 * crash is another matter (the rename may reach the disk before the data),
 * so it is asked for with `durable`, at the price of waiting for the disk. */
#ifndef DCMPREP_IO_ATOMIC_FILE_H
#define DCMPREP_IO_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dp__atomic_file {
  FILE *fp;        /* open temporary file, NULL once committed or aborted */
  char *path;      /* final path */
  char *tmp_path;  /* temporary path (".NAME.XXXXXX.tmp" next to path) */
  int failed;      /* set by the first failed write */
  int durable;     /* 0 by dp__atomic_open; 1 = commit syncs the data to disk
                      before the rename, and the folder after it */
} dp__atomic_file;

/* Creates the temporary file.  On failure returns DP_EIO with the folder and
 * system error; af needs no cleanup then. */
dp_status dp__atomic_open(dp__atomic_file *af, const char *path);

/* Appends n bytes.  Returns DP_EIO (temporary file and system error) on a short
 * write; later writes then fail too, and commit refuses. */
dp_status dp__atomic_write(dp__atomic_file *af, const void *buf, size_t n);

/* Flushes the temporary file (and, when af->durable, fsyncs it) and renames
 * it onto the final path (replacing an existing file; when durable, the folder
 * is fsynced too so that the rename itself survives a power loss).  An
 * existing regular file is replaced by an atomic exchange of the two names
 * followed by removing the old file, which readers cannot tell from a
 * rename but which keeps ext4 from writing the new file back inside the
 * call (see replace() in atomic_file.c).  On any
 * failure the temporary file is removed.  af is released either way. */
dp_status dp__atomic_commit(dp__atomic_file *af);

/* Removes the temporary file and releases af.  Safe after a failed open and
 * after commit (then it does nothing). */
void dp__atomic_abort(dp__atomic_file *af);

/* Convenience: writes a whole buffer atomically (not durable). */
dp_status dp__write_file_atomic(const char *path, const void *buf, size_t n);

/* The same, with the choice of durability (see dp__atomic_file.durable). */
dp_status dp__write_file_atomic_sync(const char *path, const void *buf, size_t n, int durable);

#ifdef __cplusplus
}
#endif
#endif
