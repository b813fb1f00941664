/* DCMTK set-up shared by every file of lib/dicom/dcmtk/ (toolkit.cc).
 *
 * The C++ of the library lives in lib/dicom/dcmtk/ only, split by job:
 * toolkit (set-up), header_read, pixel_decode, dataset_write, and the label
 * objects (label_read, rtstruct/seg reading, label_write).  Everything a
 * header exposes is plain C: opaque handles, C strings, numbers, dp_status;
 * every entry point catches all exceptions and turns toolkit conditions
 * into a dp_status with a message naming the file. */
#ifndef DCMPREP_DICOM_DCMTK_TOOLKIT_H
#define DCMPREP_DICOM_DCMTK_TOOLKIT_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DCMTK version string, e.g. "3.6.7". */
const char *dp__dcm_toolkit_version(void);

/* Silences DCMTK's logger and settles its dictionary path, once per process;
 * every entry point that parses a file calls it first (the other DCMTK
 * files of lib/dicom/dcmtk/ too). */
void dp__dcm_quiet(void);

/* Registers DCMTK's JPEG, JPEG-LS and RLE decoders, once per process. */
void dp__dcm_register_decoders(void);

#ifdef __cplusplus
}
#endif
#endif
