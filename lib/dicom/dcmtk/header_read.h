/* Reading DICOM headers through DCMTK (header_read.cc): a file's slices and
 * its acquisition metadata.  Plain C; see toolkit.h for the rules. */
#ifndef DCMPREP_DICOM_DCMTK_HEADER_READ_H
#define DCMPREP_DICOM_DCMTK_HEADER_READ_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"
#include "dcmprep/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp__slice;

/* Reads a file's header (stopping before Pixel Data).  On success *out is a
 * malloc'ed array of *n slices, one per frame (per-frame functional groups
 * applied for enhanced objects); free each slice's path and the array.
 * Not DICOM: DP_EFORMAT; not an image (SR, RT, presentation state, PDF, raw
 * data, DICOMDIR, no pixel data): DP_EUNSUPPORTED; absurd size: DP_ELIMIT.
 * The message (without the file name) says why. */
dp_status dp__dcm_read_slices(const char *path, struct dp__slice **out, int *n);

/* Records acquisition metadata of path in v (BIDS-style keys: Modality,
 * Manufacturer, EchoTime in s, ...); for enhanced objects, what the top level
 * lacks comes from frame `frame`'s functional groups, then the shared ones.
 * Patient name, ID and birth date only when keep_phi. */
dp_status dp__dcm_read_meta(const char *path, int frame, dp_volume *v, int keep_phi);

#ifdef __cplusplus
}
#endif
#endif
