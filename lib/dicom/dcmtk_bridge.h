/* The C face of the DICOM toolkit (DCMTK).  dcmtk_bridge.cc is the only C++
 * file of the library; everything it exposes is plain C: opaque handles, C
 * strings, numbers and dp_status.  Every entry point catches all exceptions and
 * turns toolkit conditions into a dp_status with a message naming the file. */
#ifndef DCMPREP_DICOM_DCMTK_BRIDGE_H
#define DCMPREP_DICOM_DCMTK_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"
#include "dcmprep/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- toolkit facts ------------------------------------------------------ */

/* DCMTK version string, e.g. "3.6.7". */
const char *dp__dcm_toolkit_version(void);

/* Silences DCMTK's logger and settles its dictionary path, once per process;
 * every entry point that parses a file calls it first (the other DCMTK
 * files of lib/dicom/dcmtk/ too). */
void dp__dcm_quiet(void);

/* Registers DCMTK's JPEG, JPEG-LS and RLE decoders, once per process. */
void dp__dcm_register_decoders(void);


/* ---- reading -------------------------------------------------------------- */

struct dp__slice;

/* Reads a file's header (stopping before Pixel Data).  On success *out is a
 * malloc'ed array of *n slices, one per frame (per-frame functional groups
 * applied for enhanced objects); free each slice's path and the array.
 * Not DICOM: DP_EFORMAT; not an image (SR, RT, presentation state, PDF, raw
 * data, DICOMDIR, no pixel data): DP_EUNSUPPORTED; absurd size: DP_ELIMIT.
 * The message (without the file name) says why. */
dp_status dp__dcm_read_slices(const char *path, struct dp__slice **out, int *n);

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

/* Records acquisition metadata of path in v (BIDS-style keys: Modality,
 * Manufacturer, EchoTime in s, ...); for enhanced objects, what the top level
 * lacks comes from frame `frame`'s functional groups, then the shared ones.
 * Patient name, ID and birth date only when keep_phi. */
dp_status dp__dcm_read_meta(const char *path, int frame, dp_volume *v, int keep_phi);

/* ---- dataset writing (synthetic test data) ------------------------------- */

/* An in-memory DICOM dataset being built (wraps a DCMTK file format object).
 * Used by the synthetic series writer (tools/synth); not thread-safe per
 * object, independent objects may be used from different threads. */
typedef struct dp__dcm_ds dp__dcm_ds;

/* Creates an empty dataset.  *out is NULL on failure (DP_ENOMEM).  The caller
 * frees it with dp__dcm_ds_free, which accepts NULL. */
dp_status dp__dcm_ds_new(dp__dcm_ds **out);
void dp__dcm_ds_free(dp__dcm_ds *ds);

/* Sets one attribute from its text form, with the data dictionary's VR.  path
 * is a DCMTK path: a keyword ("SeriesDescription"), a tag ("(0008,103e)") or a
 * nested path ("SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].
 * PixelSpacing"); missing sequences and items are created.  Multiple values
 * are separated by backslashes ("1\\0\\0").  An unknown keyword, a path that
 * does not end at an attribute or a value the VR refuses: DP_EINVAL, with a
 * message naming path and value. */
dp_status dp__dcm_ds_set(dp__dcm_ds *ds, const char *path, const char *value);

/* Sets native (uncompressed) Pixel Data from nbytes of host-order samples:
 * OB when the dataset's BitsAllocated is 8, otherwise OW of 16-bit words
 * (nbytes must then be even).  The data is copied.  Set Rows, Columns,
 * BitsAllocated etc. first. */
dp_status dp__dcm_ds_set_pixels(dp__dcm_ds *ds, const void *data, size_t nbytes);

/* Encodes the dataset in the transfer syntax ts_uid and writes it as a Part-10
 * file (with a file meta header) at path, atomically: a temporary file in the
 * same folder is renamed over path, and removed on failure.  Supported:
 * implicit (1.2.840.10008.1.2) and explicit little endian (.1.2.1), explicit
 * big endian (.1.2.2), deflated (.1.2.1.99), RLE (.1.2.5), JPEG lossless
 * process 14 (.1.2.4.57) and its selection value 1 (.1.2.4.70), JPEG-LS
 * lossless (.1.2.4.80).  Another UID: DP_EUNSUPPORTED naming it; an encoder
 * failure: DP_ECODEC; file system errors: DP_EIO.  Compression replaces the
 * dataset's pixel representation (the object stays usable for further saves). */
dp_status dp__dcm_ds_save(dp__dcm_ds *ds, const char *path, const char *ts_uid);

#ifdef __cplusplus
}
#endif
#endif
