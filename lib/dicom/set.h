/* The scan result shared by scan.c and load.c. */
#ifndef DCMPREP_DICOM_SET_H
#define DCMPREP_DICOM_SET_H

#include "dcmprep/dicom.h"
#include "dicom/series.h"
#include "dicom/slice.h"

struct dp_dicom_set {
  dp__slice *slices;
  int nslices;
  dp__group *groups;
  int ngroups;
  dp_series_info *infos;
  char **skipped_path, **skipped_reason;
  int nskipped;
  struct dp_label_object **labels; /* RTSTRUCT and SEG objects, headers only */
  int nlabels;
};

#endif
