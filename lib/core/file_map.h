/* Read-only file mappings that survive the file changing under them.
 *
 * A file is mapped whole, private (copy-on-write: writing into the mapping
 * never reaches the file) and readable/writable.  Reading a page past the
 * end of a file that was truncated after mapping raises SIGBUS; a guard
 * installed with the first mapping catches exactly those faults (addresses
 * inside a live mapping), puts a page of zeros in place, marks the mapping
 * damaged and lets the program go on.  Faults elsewhere go to the handler
 * that was installed before (or the default action).  A mapping also
 * remembers its file's size, modification time: a file
 * modified in place shows through a private mapping on Linux, so
 * dp__file_map_check compares them again.  Internal (dp__ prefix). */
#ifndef DCMPREP_CORE_FILE_MAP_H
#define DCMPREP_CORE_FILE_MAP_H

#include <stddef.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dp__file_map dp__file_map;

/* Maps the open regular file fd (of `size` bytes, as fstat said) whole; the
 * mapping keeps its own duplicate of fd.  path names the file in messages.
 * *base receives the first byte.  DP_EUNSUPPORTED when the file cannot be
 * mapped (e.g. a pipe or a file system without mmap) or too many mappings
 * are live: callers then read the file instead.  On failure *out is NULL. */
dp_status dp__file_map_open(int fd, const char *path, size_t size, dp__file_map **out,
                            const unsigned char **base);

/* Unmaps and frees.  Accepts NULL. */
void dp__file_map_close(dp__file_map *m);

/* DP_OK while every byte read from the mapping was the file's; DP_EIO with
 * a message naming the file once a read went past its end (it was
 * truncated) or its size or times differ from when it was mapped (it was
 * written to). */
dp_status dp__file_map_check(const dp__file_map *m);

/* Maps every page of the file into the mapping at once.  A copy out of an
 * unpopulated mapping made by the kernel (write(2) from it) takes a page
 * fault per 4 KiB page, three times slower than populating first. */
void dp__file_map_populate(const dp__file_map *m);

/* Drops the whole pages of [p, p + len) from the mapping (they are read
 * again from the file if touched; the page cache keeps them), so that they
 * stop counting in the process's memory.  Only for pages never written. */
void dp__file_map_release(const dp__file_map *m, const void *p, size_t len);

/* Asks the kernel to read the byte range [off, off + len) ahead. */
void dp__file_map_willneed(const dp__file_map *m, size_t off, size_t len);

#ifdef __cplusplus
}
#endif
#endif
