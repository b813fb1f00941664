// dp__dcm_label_read: loads a file, tells RTSTRUCT from SEG by its SOP class
// and hands the dataset to rtstruct_read.cc or seg_read.cc.
#include "dicom/dcmtk/label_read.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>
#include <new>
#include <string>

#include "core/internal.h"
#include "dicom/dcmtk/dcm_util.h"
#include "dicom/dcmtk/toolkit.h"

static const char k_rtstruct[] = "1.2.840.10008.5.1.4.1.1.481.3";
static const char k_seg[] = "1.2.840.10008.5.1.4.1.1.66.4";

static dp_status read_dataset(const char *path, DcmFileFormat &ff, int with_data, dp__label_obj **out) {
  DcmDataset *ds = ff.getDataset();
  DcmMetaInfo *mi = ff.getMetaInfo();
  std::string sop = dp_dcm::str(ds, DCM_SOPClassUID);
  if (sop.empty() && mi) sop = dp_dcm::str(mi, DCM_MediaStorageSOPClassUID);
  dp_label_kind kind = sop == k_rtstruct ? DP_LABEL_RTSTRUCT : sop == k_seg ? DP_LABEL_SEG : (dp_label_kind)0;
  if (!kind) return dp__error(DP_ENOTFOUND, "%s: not a label object (SOP class %s)", path, sop.c_str());
  // The meta header names the transfer syntax (DCMTK 3.6.7 does not know
  // Deflated Image Frame Compression and would report it as native).
  std::string ts = mi ? dp_dcm::str(mi, DCM_TransferSyntaxUID) : std::string();
  if (ts.empty()) ts = DcmXfer(ds->getOriginalXfer()).getXferID();
  dp__label_obj *obj = dp__label_obj_new(kind, path);
  if (!obj) return dp__error(DP_ENOMEM, "%s: out of memory", path);
  dp_dcm::str_to(ds, DCM_SOPInstanceUID, obj->sop_uid, sizeof obj->sop_uid);
  dp_dcm::str_to(ds, DCM_SeriesInstanceUID, obj->series_uid, sizeof obj->series_uid);
  obj->info.series_number = (int)dp_dcm::integer(ds, DCM_SeriesNumber, -1);
  dp_status s;
  try {
    s = dp__label_strdup(&obj->description, dp_dcm::str(ds, DCM_SeriesDescription).c_str());
    if (s == DP_OK)
      s = kind == DP_LABEL_RTSTRUCT ? dp_dcm::read_rtstruct(ds, obj, with_data != 0)
                                    : dp_dcm::read_seg(ds, obj, with_data != 0, ts.c_str());
  } catch (...) {
    dp_label_free(obj);  // nothing of it may leak
    throw;
  }
  if (s == DP_OK) s = dp__label_obj_finish(obj);
  if (s != DP_OK) {
    dp_label_free(obj);
    return dp__error_prefix(s, path);
  }
  *out = obj;
  return DP_OK;
}

extern "C" dp_status dp__dcm_label_read(const char *path, int with_data, dp__label_obj **out) {
  *out = nullptr;
  try {
    dp__dcm_quiet();
    DcmFileFormat ff;
    // Values over 4 KiB (contour data, pixel data) stay on disk until read.
    OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    if (c.bad()) {
      // Damaged somewhere: a label object only if its SOP class says so.
      DcmFileFormat head;
      std::string sop;
      if (head.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_SOPInstanceUID).good()) {
        sop = dp_dcm::str(head.getDataset(), DCM_SOPClassUID);
        if (sop.empty()) sop = dp_dcm::str(head.getMetaInfo(), DCM_MediaStorageSOPClassUID);
      }
      if (sop != k_rtstruct && sop != k_seg)
        return dp__error(DP_ENOTFOUND, "%s: not a label object (%s)", path, c.text());
      return dp__error(DP_EFORMAT, "%s: damaged %s (%s)", path, sop == k_seg ? "SEG" : "RTSTRUCT", c.text());
    }
    return read_dataset(path, ff, with_data, out);
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory reading the label object", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure reading the label object", path);
  }
}
