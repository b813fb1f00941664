/* Checks of an encapsulated frame's own idea of its size against Rows and
 * Columns, made before decoding: DCMTK's JPEG and RLE decoders fill a frame
 * that is too small with zeros and cut one that is too large, which would
 * turn a damaged or hostile file into a silently wrong volume. */
#ifndef DCMPREP_DICOM_FRAME_CHECK_H
#define DCMPREP_DICOM_FRAME_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* JPEG (ITU T.81) stream p[0..n): its frame header (SOFn) must say
 * rows x cols.  A height of 0 (given later by a DNL marker) is not checked.
 * DP_EFORMAT naming path otherwise, or when no frame header comes before the
 * first scan. */
dp_status dp__check_jpeg_frame(const uint8_t *p, size_t n, int rows, int cols, const char *path);

/* RLE frame (PS3.5 G.3): a header of 1..15 segments whose first segment
 * decodes (PackBits) to rows x cols bytes (one more allowed: padding). */
dp_status dp__check_rle_frame(const uint8_t *p, size_t n, int rows, int cols, const char *path);

#ifdef __cplusplus
}
#endif
#endif
