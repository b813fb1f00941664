/* Writing DICOM datasets through DCMTK (dataset_write.cc): the synthetic
 * test data of tools/synth.  Plain C; see toolkit.h for the rules. */
#ifndef DCMPREP_DICOM_DCMTK_DATASET_WRITE_H
#define DCMPREP_DICOM_DCMTK_DATASET_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

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
