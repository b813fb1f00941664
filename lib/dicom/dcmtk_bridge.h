/* The C face of the DICOM toolkit (DCMTK).  dcmtk_bridge.cc is the only C++
 * file of the library; everything it exposes is plain C: opaque handles, C
 * strings, numbers and dp_status.  Every entry point catches all exceptions and
 * turns toolkit conditions into a dp_status with a message naming the file. */
#ifndef DCMPREP_DICOM_DCMTK_BRIDGE_H
#define DCMPREP_DICOM_DCMTK_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- toolkit facts ------------------------------------------------------ */

/* DCMTK version string, e.g. "3.6.7". */
const char *dp__dcm_toolkit_version(void);

#ifdef __cplusplus
}
#endif
#endif
