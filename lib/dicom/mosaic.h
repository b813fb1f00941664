/* Siemens mosaic images: one stored image holding every slice of a volume as
 * tiles in a square grid (ImageType contains MOSAIC; the private attribute
 * NumberOfImagesInMosaic, (0019,xx0a), or the CSA image header says how many).
 * Plain C; the DCMTK bridge calls it while reading headers. */
#ifndef DCMPREP_DICOM_MOSAIC_H
#define DCMPREP_DICOM_MOSAIC_H

#include "dcmprep/status.h"
#include "dicom/slice.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Expands the header of a mosaic image m (rows, cols, ipp and spacing of the
 * whole stored image; m->mosaic = number of tiles) into m->mosaic slices, one
 * per tile, each with its own rows x cols, its true ImagePositionPatient and
 * the fields mosaic_tile, mosaic_rows, mosaic_cols set.
 *
 * Geometry (as in SPM's spm_dicom_convert and dcm2niix): the grid has
 * ceil(sqrt(N)) tiles across and down; the stored IPP is the corner of the
 * whole mosaic taken as one image, so the first tile's corner is
 * IPP + R dx (cols - w)/2 + C dy (rows - h)/2.  Tile k lies k * step further
 * along the slice direction: the image normal R x C, reversed when the CSA
 * SliceNormalVector (slice_normal, NULL when unknown) points the other way.
 * step is SpacingBetweenSlices, else SliceThickness.
 *
 * *out is a malloc'ed array of *n slices (each path strdup'ed) that the caller
 * frees like the bridge's.  Errors: DP_EFORMAT when the tiles do not divide
 * the image or there is no slice step; DP_ENOMEM. */
dp_status dp__mosaic_expand(const dp__slice *m, const double *slice_normal, dp__slice **out,
                            int *n);

#ifdef __cplusplus
}
#endif
#endif
