/* Reading RT Structure Sets and Segmentations through DCMTK (C face).  The
 * C++ files rtstruct_read.cc and seg_read.cc fill the plain C model of
 * lib/labels/model.h; nothing of DCMTK crosses this header.  Every entry
 * point catches all exceptions and turns toolkit conditions into a
 * dp_status with a message naming the file. */
#ifndef DCMPREP_DICOM_DCMTK_LABEL_READ_H
#define DCMPREP_DICOM_DCMTK_LABEL_READ_H

#include "dcmprep/status.h"
#include "labels/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads path as an RTSTRUCT or a SEG.  with_data 1: contour points and SEG
 * pixels too (decoded); 0: what a scan lists (ROIs, counts, references).
 * Not DICOM: DP_EFORMAT; another SOP class: DP_ENOTFOUND (message "not a
 * label object"); damaged, unsupported or absurd content: see
 * dp_label_read.
 * *out is NULL on failure; free it with dp_label_free.  Thread-safe for
 * different files. */
dp_status dp__dcm_label_read(const char *path, int with_data, dp__label_obj **out);

#ifdef __cplusplus
}

class DcmDataset;
namespace dp_dcm {
// The two halves of dp__dcm_label_read, on a parsed dataset.  Errors carry no
// file name (the caller prefixes it).
dp_status read_rtstruct(DcmDataset *ds, dp__label_obj *obj, bool with_data);
dp_status read_seg(DcmDataset *ds, dp__label_obj *obj, bool with_data, const char *ts_uid);
}  // namespace dp_dcm
#endif
#endif
