/* dcmprep: DICOM series to analysis-ready NIfTI.  Umbrella header. */
#ifndef DCMPREP_H
#define DCMPREP_H

#include "export.h"
#include "dcmprep/version.h"
#include "status.h"
#include "dtype.h"
#include "affine.h"
#include "volume.h"
#include "parallel.h"
#include "nifti.h"
#include "dicom.h"
#include "labels.h"
#include "input.h"
#include "warp.h"
#include "geometry.h"
#include "elastic.h"
#include "intensity.h"
#include "pipeline.h"
#include "rng.h"
#include "augment.h"
#include "sidecar.h"
#include "png.h"
#include "preview.h"

#endif
