/* 8-bit pictures and the PNG writer.
 *
 * A dp_image is a plain 8-bit raster, gray or RGB, top row first, as produced
 * by the preview (preview.h).  The writer emits a standard PNG (ISO/IEC 15948,
 * W3C PNG 2nd edition): signature, IHDR (bit depth 8, colour type 0 gray or 2
 * RGB, no interlace), IDAT chunks holding one zlib stream of the filtered
 * rows, IEND; every chunk with its CRC-32.  Only zlib is used.  The output is
 * a pure function of the pixels and the level, so it is the same bytes on
 * every run.
 */
#ifndef DCMPREP_PNG_H
#define DCMPREP_PNG_H

#include <stddef.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dp_image {
  int width, height;     /* pixels, >= 1 */
  int channels;          /* 1 = gray, 3 = RGB (R, G, B bytes per pixel) */
  unsigned char *pixels; /* width * height * channels bytes: row 0 is the top
                            row, pixels left to right; owned */
} dp_image;

/* Creates a black image.  DP_EINVAL for channels other than 1 or 3 or a size
 * below 1; DP_ELIMIT above 2^30 pixels or 65535 on a side.  The caller frees
 * *out with dp_image_free(); on failure *out is NULL. */
DP_API dp_status dp_image_new(int width, int height, int channels, dp_image **out);

/* Frees an image.  Accepts NULL. */
DP_API void dp_image_free(dp_image *img);

/* Copy converted to RGB (gray g becomes (g, g, g)); a plain copy when img is
 * already RGB.  The caller frees *out. */
DP_API dp_status dp_image_to_rgb(const dp_image *img, dp_image **out);

typedef struct dp_png_write_opts {
  int level;   /* zlib level 0..9; -1 = 6 */
  int durable; /* 1: fsync the file before the rename and its folder after
                  (survives a power loss); 0: atomic only */
} dp_png_write_opts;
#define DP_PNG_WRITE_OPTS_INIT {-1, 0}

/* Encodes img as PNG into a new buffer (*buf, *len; the caller frees *buf with
 * free()).  Each row gets the PNG filter (None, Sub, Up, Average, Paeth) with
 * the smallest sum of absolute filtered bytes, the usual heuristic.
 * DP_EINVAL for a malformed image, DP_ENOMEM. */
DP_API dp_status dp_png_encode(const dp_image *img, const dp_png_write_opts *opts,
                               unsigned char **buf, size_t *len);

/* Writes img as a PNG file, atomically: a temporary file in the destination
 * folder renamed into place once complete, so an existing file is replaced
 * only by a complete new one.  opts may be NULL.  DP_EIO names the file. */
DP_API dp_status dp_png_write(const dp_image *img, const char *path,
                              const dp_png_write_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
