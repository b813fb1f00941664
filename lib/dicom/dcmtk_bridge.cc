// The only C++ file of the library: wraps DCMTK behind the C interface of
// dcmtk_bridge.h.  No exception and no DCMTK type crosses that interface.
#include "dicom/dcmtk_bridge.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "dcmprep/version.h"

extern "C" const char *dp__dcm_toolkit_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

extern "C" const char *dp_dicom_toolkit_version(void) { return dp__dcm_toolkit_version(); }

static const char *const k_transfer_syntaxes[] = {
    "1.2.840.10008.1.2 Implicit VR Little Endian",
    "1.2.840.10008.1.2.1 Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99 Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2 Explicit VR Big Endian",
    "1.2.840.10008.1.2.5 RLE Lossless",
    "1.2.840.10008.1.2.4.50 JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.51 JPEG Extended (Process 2 & 4)",
    "1.2.840.10008.1.2.4.57 JPEG Lossless, Non-Hierarchical (Process 14)",
    "1.2.840.10008.1.2.4.70 JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    "1.2.840.10008.1.2.4.80 JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81 JPEG-LS Lossy (Near-Lossless)",
    nullptr};

extern "C" const char *const *dp_supported_transfer_syntaxes(void) { return k_transfer_syntaxes; }
