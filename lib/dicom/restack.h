/* Resampling a decoded slice stack onto a regular grid: uniform steps along
 * the slice normal and, for gantry tilt, a rectangular (unsheared) grid.
 * Every output voxel is interpolated (bilinear in-plane, linear between the
 * two nearest slices) from the slices' true positions: one interpolation. */
#ifndef DCMPREP_DICOM_RESTACK_H
#define DCMPREP_DICOM_RESTACK_H

#include "dcmprep/volume.h"
#include "dicom/series.h"
#include "dicom/slice.h"

/* Resamples positions [z0, z1) of stack (as loaded: cols x rows x nz x nt, in
 * the group's sorted order).  reslice_tilt: 1 = output grid perpendicular to
 * the slices (no shear), 0 = keep the fitted shear.  Voxels inside the
 * acquired field (the slices' pixel footprints, [-0.5, n - 0.5] on each axis,
 * swept linearly from slice to slice) carry data, positions beyond a slice's
 * outer sample centres taking its nearest edge sample; voxels outside it get
 * the air value (-1024 for CT, else 0). */
dp_status dp__restack(const dp_volume *stack, const dp__group *g, const dp__slice *sl, int z0,
                      int z1, int reslice_tilt, int threads, dp_volume **out);

/* Splits the stack into runs of equal steps, one volume each, with every
 * slice of the run at the run's own step. */
dp_status dp__restack_split(const dp_volume *stack, const dp__group *g, const dp__slice *sl,
                            int reslice_tilt, int threads, dp_volume ***out, int *nout);

#endif
