// Writing DICOM datasets (the synthetic test data of tools/synth): attributes
// set by path, native pixel data, and Part-10 files in any transfer syntax
// DCMTK encodes, saved atomically, behind the C interface of
// dataset_write.h.  No exception and no DCMTK type crosses it.
#include "dicom/dcmtk/dataset_write.h"

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
#include <dcmtk/dcmdata/dcpath.h>
#include "dicom/dcmtk/dcm_util.h"
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/internal.h"
#include "dicom/dcmtk/toolkit.h"

static void quiet_toolkit() { dp__dcm_quiet(); }

struct dp__dcm_ds {
  DcmFileFormat ff;
};

static void register_encoders() {
  quiet_toolkit();
  static std::once_flag once;
  std::call_once(once, [] {
    // Defaults: true lossless JPEG (no colour or bit-depth conversion), and no
    // new SOP Instance UID for lossless encodings.
    DJEncoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
  });
}

extern "C" dp_status dp__dcm_ds_new(dp__dcm_ds **out) {
  *out = nullptr;
  try {
    *out = new dp__dcm_ds();
    return DP_OK;
  } catch (...) {
    return dp__error(DP_ENOMEM, "out of memory creating a dataset");
  }
}

extern "C" void dp__dcm_ds_free(dp__dcm_ds *ds) { delete ds; }

extern "C" dp_status dp__dcm_ds_set(dp__dcm_ds *ds, const char *path, const char *value) {
  try {
    quiet_toolkit();
    if (!path || !*path || !value) return dp__error(DP_EINVAL, "empty attribute path or value");
    DcmPathProcessor proc;
    OFCondition c = proc.findOrCreatePath(ds->ff.getDataset(), path, OFTrue);
    if (c.bad()) return dp__error(DP_EINVAL, "%s: %s", path, c.text());
    OFList<DcmPath *> results;
    if (proc.getResults(results) == 0) return dp__error(DP_EINVAL, "%s: no such attribute", path);
    for (OFListIterator(DcmPath *) it = results.begin(); it != results.end(); ++it) {
      DcmPathNode *node = (*it)->back();
      DcmObject *obj = node ? node->m_obj : nullptr;
      if (!obj || !obj->isLeaf())
        return dp__error(DP_EINVAL, "%s: the path ends at a sequence or item, not an attribute", path);
      c = static_cast<DcmElement *>(obj)->putString(value);
      if (c.bad()) return dp__error(DP_EINVAL, "%s = '%s': %s", path, value, c.text());
    }
    return DP_OK;
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure setting the attribute", path);
  }
}

extern "C" dp_status dp__dcm_ds_set_pixels(dp__dcm_ds *ds, const void *data, size_t nbytes) {
  try {
    DcmDataset *d = ds->ff.getDataset();
    if (!data || nbytes == 0) return dp__error(DP_EINVAL, "PixelData: no pixel data given");
    if (nbytes > 0xFFFFFFF0u) return dp__error(DP_ELIMIT, "PixelData: %zu bytes is too large", nbytes);
    Uint16 bits = 16;
    d->findAndGetUint16(DCM_BitsAllocated, bits);
    OFCondition c;
    if (bits == 8) {
      c = d->putAndInsertUint8Array(DCM_PixelData, (const Uint8 *)data, (unsigned long)nbytes);
    } else {
      if (nbytes % 2) return dp__error(DP_EINVAL, "PixelData: odd byte count %zu for 16-bit words", nbytes);
      c = d->putAndInsertUint16Array(DCM_PixelData, (const Uint16 *)data, (unsigned long)(nbytes / 2));
    }
    return c.good() ? DP_OK : dp__error(DP_EINVAL, "PixelData: %s", c.text());
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "PixelData: out of memory");
  } catch (...) {
    return dp__error(DP_EINTERNAL, "PixelData: unexpected failure");
  }
}

// (dcm_util.h) Saves ff at path through a temporary file in the same folder,
// renamed into place; the temporary file is removed on failure.
dp_status dp_dcm::save_atomic(DcmFileFormat &ff, const char *path, E_TransferSyntax ts) {
  std::string p(path);
  size_t slash = p.rfind('/');
  std::string dir = slash == std::string::npos ? "" : p.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  std::string tmpl = dir + "." + base + ".tmp.XXXXXX";
  std::vector<char> tmp(tmpl.begin(), tmpl.end());
  tmp.push_back('\0');
  int fd = mkstemp(tmp.data());
  if (fd < 0) return dp__error(DP_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
  close(fd);
  OFCondition c = ff.saveFile(tmp.data(), ts);
  if (c.bad()) {
    unlink(tmp.data());
    return dp__error(DP_EIO, "%s: %s", path, c.text());
  }
  if (chmod(tmp.data(), 0644) != 0 || rename(tmp.data(), path) != 0) {
    int e = errno;
    unlink(tmp.data());
    return dp__error(DP_EIO, "%s: %s", path, strerror(e));
  }
  return DP_OK;
}

extern "C" dp_status dp__dcm_ds_save(dp__dcm_ds *ds, const char *path, const char *ts_uid) {
  try {
    register_encoders();
    if (!ts_uid) ts_uid = "(null)";
    DcmXfer want(ts_uid);
    E_TransferSyntax ts = want.getXfer();
    DcmDataset *d = ds->ff.getDataset();
    // DCMTK's parameters: lossless JPEG (prediction 1 for SV1, 6 for the
    // process 14 syntax to show it differs), JPEG-LS with NEAR = 0.
    DJ_RPLossless jpeg_sv1(1, 0), jpeg_p14(6, 0);
    DJLSRepresentationParameter jls(0, OFTrue);
    DcmRLERepresentationParameter rle;
    const DcmRepresentationParameter *param = nullptr;
    switch (ts) {
      case EXS_LittleEndianImplicit: case EXS_LittleEndianExplicit: case EXS_BigEndianExplicit:
      case EXS_DeflatedLittleEndianExplicit: break;
      case EXS_JPEGProcess14SV1: param = &jpeg_sv1; break;
      case EXS_JPEGProcess14: param = &jpeg_p14; break;
      case EXS_JPEGLSLossless: param = &jls; break;
      case EXS_RLELossless: param = &rle; break;
      default: return dp__error(DP_EUNSUPPORTED, "cannot write transfer syntax %s", ts_uid);
    }
    // Native syntaxes need the uncompressed representation, which a dataset
    // encoded by an earlier save still holds.
    OFCondition c = d->chooseRepresentation(param ? ts : EXS_LittleEndianExplicit, param);
    if (c.bad() || !d->canWriteXfer(ts))
      return dp__error(DP_ECODEC, "cannot encode transfer syntax %s (%s)", ts_uid,
                       c.bad() ? c.text() : "no encoder for this pixel data");
    return dp_dcm::save_atomic(ds->ff, path, ts);
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory writing", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure writing", path);
  }
}
