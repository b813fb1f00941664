// DCMTK set-up shared by the C++ files of lib/dicom/dcmtk/: its version, the
// transfer syntaxes it decodes here, a quiet logger, the dictionary path and
// the decoders, each done once per process.  No exception and no DCMTK type
// crosses the C interface of toolkit.h.
#include "dicom/dcmtk/toolkit.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "dcmprep/dicom.h"
#include "dcmprep/version.h"
#include "core/internal.h"

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
#ifdef DCMPREP_HAVE_OPENJPEG
    "1.2.840.10008.1.2.4.90 JPEG 2000 Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.91 JPEG 2000 Image Compression",
#endif
    nullptr};

extern "C" const char *const *dp_supported_transfer_syntaxes(void) { return k_transfer_syntaxes; }

// DCMTK logs to stderr by default; the library never prints.
// DCMTK reads its data dictionary from text files the first time it needs
// it.  Its private-tag dictionary (private.dic, 3000 entries) costs about
// 20 ms per process, a third of a scan of 120 files, and is of no use here:
// the only private attributes read (Siemens (0019,xx0a) and the CSA header)
// are found by creator and read as bytes whatever their VR.  Unless the user
// chose the dictionaries (DCMDICTPATH), the default path is used without it.
// Done once, before the first parse (the dictionary is created lazily).
static void trim_dictionary_path() {
#ifdef DCM_DICT_DEFAULT_PATH
  if (getenv(DCM_DICT_ENVIRONMENT_VARIABLE)) return;
  std::string in = DCM_DICT_DEFAULT_PATH, out;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find(ENVIRONMENT_PATH_SEPARATOR, start);
    if (end == std::string::npos) end = in.size();
    std::string part = in.substr(start, end - start);
    bool priv = part.size() >= 11 && part.compare(part.size() - 11, 11, "private.dic") == 0;
    if (!part.empty() && !priv) out += (out.empty() ? "" : std::string(1, ENVIRONMENT_PATH_SEPARATOR)) + part;
    start = end + 1;
  }
  if (!out.empty() && out != in) setenv(DCM_DICT_ENVIRONMENT_VARIABLE, out.c_str(), 0);
#endif
}

static void quiet_toolkit() {
  static std::once_flag once;
  std::call_once(once, [] {
    trim_dictionary_path();
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
  });
}

static void register_decoders() {
  quiet_toolkit();
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

extern "C" void dp__dcm_quiet(void) { quiet_toolkit(); }

extern "C" void dp__dcm_register_decoders(void) { register_decoders(); }
