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
} dp__dcm_pixels;

/* Decodes the pixel data of path, whose header facts are `expect` (any frame
 * of the file).  DP_ECODEC names a transfer syntax without a decoder;
 * DP_EFORMAT reports truncated or unreadable pixel data.  Thread-safe for
 * different files. */
dp_status dp__dcm_read_pixels(const char *path, const struct dp__slice *expect,
                              dp__dcm_pixels *out);
void dp__dcm_pixels_free(dp__dcm_pixels *p);

/* Records acquisition metadata of path in v (BIDS-style keys: Modality,
 * Manufacturer, EchoTime in s, ...).  Patient name, ID and birth date only
 * when keep_phi. */
dp_status dp__dcm_read_meta(const char *path, dp_volume *v, int keep_phi);

/* ---- dataset writing (synthetic test data) ------------------------------- */

typedef struct dp__dcm_ds dp__dcm_ds;

dp_status dp__dcm_ds_new(dp__dcm_ds **out);
void dp__dcm_ds_free(dp__dcm_ds *ds);

/* Sets an attribute by keyword ("SeriesDescription"), tag ("(0008,103e)") or
 * nested path ("SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].
 * PixelSpacing"), creating items as needed.  Multiple values as "a\\b". */
dp_status dp__dcm_ds_set(dp__dcm_ds *ds, const char *path, const char *value);

/* Native pixel data: 16-bit samples (OW) or 8-bit (OB). */
dp_status dp__dcm_ds_set_pixels16(dp__dcm_ds *ds, const uint16_t *data, size_t count);

/* Encodes to a transfer syntax (UID) and writes a Part-10 file atomically.
 * Supported: implicit/explicit LE, explicit BE, deflated, RLE, JPEG lossless
 * (processes 14 and 14 SV1), JPEG-LS lossless.  Other UIDs: DP_EUNSUPPORTED. */
dp_status dp__dcm_ds_save(dp__dcm_ds *ds, const char *path, const char *ts_uid);

#ifdef __cplusplus
}
#endif
#endif
