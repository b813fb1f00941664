/* gzip output compressed in parallel, and fast gzip input.
 *
 * Output is a sequence of independent gzip members (RFC 1952 allows any
 * number), one per fixed-size block of the uncompressed stream, so every gzip
 * reader (zlib's gzread, Python's gzip, ITK, nifti_clib) reads it as one
 * stream.  Each member's header carries an extra field (subfield "DP") with
 * the member's compressed and uncompressed sizes, so that our reader can
 * inflate members in parallel.  Block boundaries do not depend on the thread
 * count, so the output is byte-identical for any number of threads. */
#ifndef DCMPREP_IO_GZ_H
#define DCMPREP_IO_GZ_H

#include <stddef.h>
#include "dcmprep/status.h"
#include "io/atomic_file.h"

/* Uncompressed bytes per gzip member. */
#define DP__GZ_BLOCK ((size_t)1 << 20)

/* At the automatic level, constant runs of at least this many bytes (with a
 * period of 1, 2, 4 or 8) are encoded directly rather than by libdeflate,
 * within their member's DEFLATE stream (gz_deflate.h). */
#define DP__GZ_RUN_MIN ((size_t)64 << 10)

/* Compresses the concatenation of nparts buffers into af as gzip at the given
 * libdeflate level (1..12; 0 = automatic: 4, or 7 on highly redundant blocks,
 * long runs apart) using up to `threads` workers. */
dp_status dp__gz_write(dp__atomic_file *af, const void *const parts[], const size_t sizes[],
                       int nparts, int level, int threads);

/* Decompresses a whole gzip file image (comp, clen): uncompressed bytes
 * [skip, skip + out_len) go to out; others are discarded.
 * Returns DP_EFORMAT ("truncated" or "corrupt") when fewer bytes come out or
 * the data fail their CRC. */
dp_status dp__gz_read(const unsigned char *comp, size_t clen, size_t skip,
                      unsigned char *out, size_t out_len, int threads);

/* 1 when the buffer starts with the gzip magic. */
int dp__gz_is_gzip(const unsigned char *buf, size_t n);

#endif
