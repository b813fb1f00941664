/* SEG pixel data to one byte per pixel (internal, plain C): native 1-bit and
 * 8-bit frames, and the encapsulated frames DCMTK 3.6.7 cannot decode for
 * 1-bit data (RLE), or does not know (Deflated Image Frame Compression), or
 * hands to OpenJPEG (JPEG 2000). */
#ifndef DCMPREP_LABELS_SEG_PIXELS_H
#define DCMPREP_LABELS_SEG_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Native pixel data: n bytes in little-endian byte order holding `frames`
 * frames of rows x cols pixels of `bits` bits (1 or 8).  1-bit frames follow
 * each other bit by bit (least significant bit first), without padding, so a
 * frame need not start on a byte.  out receives frames * rows * cols bytes
 * (0/1, or the 8-bit values).  Too few bytes: DP_EFORMAT saying how many are
 * there and needed. */
dp_status dp__seg_unpack_native(const uint8_t *data, size_t n, int bits, int rows, int cols, int frames,
                                uint8_t *out);

/* Encapsulated pixel data: the fragments after the basic offset table
 * (bot/bot_len, bot_len 0 when empty), mapped to frames as dp__j2k_frames
 * does, each frame decoded according to ts_uid: RLE Lossless
 * (1.2.840.10008.1.2.5; one segment: the frame's packed bits or bytes),
 * Deflated Image Frame Compression (1.2.840.10008.1.2.8.1; raw DEFLATE of
 * the packed frame), JPEG 2000 (.4.90, .4.91; one component of `bits`
 * precision).  Each frame is packed on its own, starting on a byte.  Another
 * syntax: DP_ECODEC naming it; a damaged or short frame: DP_EFORMAT naming
 * the frame.  out as above. */
dp_status dp__seg_decode_encapsulated(const char *ts_uid, const uint8_t *const *frag, const size_t *len,
                                      int nfrag, const uint8_t *bot, size_t bot_len, int bits, int rows,
                                      int cols, int frames, uint8_t *out);

/* PackBits (DICOM RLE, PS3.5 G.3.1) of n bytes at src into exactly want
 * bytes at dst.  Returns 0, or -1 when src runs out or overruns. */
int dp__packbits_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t want);

#ifdef __cplusplus
}
#endif
#endif
