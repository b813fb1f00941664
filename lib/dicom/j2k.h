/* JPEG 2000 pixel data (DICOM transfer syntaxes 1.2.840.10008.1.2.4.90 and
 * .91), decoded with OpenJPEG.  Plain C; the DCMTK bridge hands over the
 * encapsulated fragments and a destination buffer, nothing else crosses.
 * Without OpenJPEG in the build every decode is DP_ECODEC. */
#ifndef DCMPREP_DICOM_J2K_H
#define DCMPREP_DICOM_J2K_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the build decodes JPEG 2000, else 0. */
int dp__j2k_available(void);

/* What the DICOM header promises about one frame. */
typedef struct dp__j2k_expect {
  int rows, cols;  /* Rows, Columns */
  int samples;     /* SamplesPerPixel: 1 or 3 */
  int bits_alloc;  /* 8 or 16: width of one output sample */
  int bits_stored; /* BitsStored: every decoded value must fit it */
  int pixel_rep;   /* PixelRepresentation: 1 = signed */
  int lossless;    /* 1 for the lossless-only syntax: refuse the 9/7 wavelet */
} dp__j2k_expect;

/* Decodes one frame: a raw J2K codestream or a JP2 file (told apart by their
 * first bytes) of n bytes at src, into dst, which holds exactly rows x cols x
 * samples samples of bits_alloc bits in host byte order, samples interleaved
 * per pixel (DICOM's planar configuration 0, the only one allowed for JPEG
 * 2000).  Signed components are stored as their two's complement bit
 * pattern, so masking to BitsStored and sign-extending by PixelRepresentation
 * gives the value back whatever sign the codestream declares.
 *
 * *mct, when not NULL, is set to 1 when the codestream's multiple component
 * transform was undone (the three samples are then R, G, B), else 0.
 *
 * The codestream's precision need not equal BitsStored (real encoders write
 * 16 for 12 bits stored, or 14 for a header saying 16): it must fit
 * bits_alloc, and every decoded value must be representable in bits_stored
 * with the header's signedness, so the header and the codestream agree on
 * every pixel actually present.
 *
 * A codestream whose size, component count or subsampling differ from `e`,
 * whose precision exceeds bits_alloc, with a value outside bits_stored, that
 * uses the irreversible wavelet when e->lossless, or that is damaged or
 * truncated: DP_EFORMAT with a message saying what (without a file name:
 * callers prefix it).  bits_alloc other than 8 or 16:
 * DP_EUNSUPPORTED.  Nothing is printed.  dst is unspecified on failure.
 * Thread-safe. */
dp_status dp__j2k_decode(const void *src, size_t n, const dp__j2k_expect *e, void *dst,
                         size_t dst_size, int *mct);

/* Maps the fragments of encapsulated pixel data to frames.  frag[k] and
 * len[k] (k < nfrag) are the fragments after the basic offset table, which is
 * bot/bot_len (bot_len 0 when empty).  On success first[f] is the first
 * fragment of frame f and first[frames] == nfrag, so frame f is fragments
 * first[f] .. first[f+1]-1, concatenated.  Tried in order: one frame takes all
 * fragments; the offset table when it is consistent with the fragments; one
 * fragment per frame when the counts match; a new frame at each fragment
 * starting with a JPEG 2000 start-of-codestream marker (0xFF4F) or a JP2
 * signature.  When none fits: DP_EFORMAT saying so. */
dp_status dp__j2k_frames(const uint8_t *const *frag, const size_t *len, int nfrag,
                         const uint8_t *bot, size_t bot_len, int frames, int *first);

#ifdef __cplusplus
}
#endif
#endif
