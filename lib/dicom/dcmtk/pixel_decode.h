/* Decoding pixel data through DCMTK and OpenJPEG (pixel_decode.cc).  Plain
 * C; see toolkit.h for the rules. */
#ifndef DCMPREP_DICOM_DCMTK_PIXEL_DECODE_H
#define DCMPREP_DICOM_DCMTK_PIXEL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp__slice;

/* Pixel data of a whole file, decoded (all frames), in host byte order:
 * bits_alloc 8, 16 or 32 bits per sample, or float32 when is_float. */
typedef struct dp__dcm_pixels {
  void *data;
  size_t nbytes;
  int bits_alloc;
  int is_float;
  /* Colour layout after decoding (decoders may change both): 0 = samples
   * interleaved per pixel, 1 = one plane per sample; the photometric
   * interpretation of the decoded samples. */
  int planar;
  char photometric[17];
} dp__dcm_pixels;

/* Decodes the pixel data of path, whose header facts are `expect` (any frame
 * of the file).  DP_ECODEC names a transfer syntax without a decoder;
 * DP_EFORMAT reports truncated or unreadable pixel data.  Thread-safe for
 * different files. */
dp_status dp__dcm_read_pixels(const char *path, const struct dp__slice *expect,
                              dp__dcm_pixels *out);
void dp__dcm_pixels_free(dp__dcm_pixels *p);

#ifdef __cplusplus
}
#endif
#endif
