/* Raw DEFLATE (RFC 1951) pieces for the gzip writer (gz.c): finding long
 * constant runs, encoding them directly, and joining such blocks with
 * libdeflate's output into one stream.
 *
 * A stream is built in a byte buffer at a bit position: bits are stored
 * least significant first; the bits past the position in its byte are zero,
 * later bytes may hold anything.  Nothing here allocates; the functions are
 * reentrant. */
#ifndef DCMPREP_IO_GZ_DEFLATE_H
#define DCMPREP_IO_GZ_DEFLATE_H

#include <stddef.h>

/* The first run in src[from, n) at least min_len (>= 32) bytes long: a
 * maximal [*rs, *re), from <= *rs, with src[j] == src[j - 8] for every j in
 * [*rs + 8, *re), so a constant stretch of any voxel type up to 8 bytes.
 * Runs are looked for every min_len / 2 bytes, which no such run can slip
 * between, so the cost is a load per step plus the length of each run met.
 * Returns 0 when there is none. */
int dp__deflate_find_run(const unsigned char *src, size_t from, size_t n, size_t min_len,
                         size_t *rs, size_t *re);

/* The smallest period (1, 2, 4 or 8) of r[0, 16), which repeats with 8. */
int dp__deflate_period(const unsigned char *r);

/* Appends one dynamic-Huffman block holding the bytes r[0, n) of a run (as
 * found by dp__deflate_find_run, n >= 16) to the stream out[0, cap) at bit
 * *nbits: its first period p as literals, unless `history` says that the p
 * bytes before r are the run's too and in the stream already, then matches
 * of 258 bytes at distance p, 2 bits each (3 for p = 8), the least DEFLATE
 * allows, and one or two shorter ones for the rest.  `final` sets BFINAL.
 * Advances *nbits; returns 0 when cap is too small or n too short for a
 * match after the literals (the bytes past the old position are then
 * unspecified). */
int dp__deflate_run(const unsigned char *r, size_t n, int history, int final, unsigned char *out,
                    size_t cap, size_t *nbits);

/* A raw DEFLATE stream's shape, from dp__deflate_walk. */
typedef struct {
  size_t last_block; /* bit position of the final block's header */
  size_t end;        /* bits up to and including the final block's end code */
  int stored;        /* 1 when it holds a stored block (byte-aligned data) */
} dp__deflate_shape;

/* Parses the complete raw DEFLATE stream in[0, n) without producing its
 * output: every block's header and codes, up to the block marked final.
 * Returns 0 when the stream is malformed or does not end within its last
 * byte (trailing bytes), else 1 with *shape filled in. */
int dp__deflate_walk(const unsigned char *in, size_t n, dp__deflate_shape *shape);

/* Where a stream to append goes: DP__DEFLATE_GAP bytes after the byte that
 * holds bit *nbits, so that dp__deflate_append may pad before it. */
#define DP__DEFLATE_GAP 8

/* Appends the raw DEFLATE stream of n bytes just written at
 * out[*nbits / 8 + DP__DEFLATE_GAP] to the stream at bit *nbits, moving it
 * down so that it follows without padding.  It is first walked
 * (dp__deflate_walk); unless `final`, its final block is then made not
 * final, so that more blocks may follow.  A stream holding stored blocks
 * cannot be moved by bits: the stream so far is then first padded to a byte
 * boundary with an empty stored block (6 bytes at most, within the gap).
 * Returns 0 when the stream does not walk, leaving *nbits unchanged. */
int dp__deflate_append(unsigned char *out, size_t n, int final, size_t *nbits);

#endif
