/* What the loader knows about one image (one frame of one file), as read from
 * its header.  Filled by the DCMTK bridge; grouped, sorted and checked by
 * plain C (series.c). */
#ifndef DCMPREP_DICOM_SLICE_H
#define DCMPREP_DICOM_SLICE_H

#include <limits.h>

#define DP__UID_LEN 65
#define DP__NONE INT_MIN /* an integer attribute that is absent */

typedef struct dp__slice {
  char *path;          /* owned */
  int frame;           /* frame within the file, 0-based */
  int file_frames;     /* NumberOfFrames of the file (1 when absent) */
  int enhanced;        /* frame geometry came from functional groups */
  char sop_class[DP__UID_LEN];
  char series_uid[DP__UID_LEN];
  char sop_uid[DP__UID_LEN];   /* SOPInstanceUID (label objects reference it) */
  char for_uid[DP__UID_LEN];   /* FrameOfReferenceUID, "" when absent */
  char ts_uid[DP__UID_LEN];
  char modality[17];
  char image_type[129]; /* backslash-separated values, upper case */
  char photometric[17];
  char description[65]; /* SeriesDescription */
  int series_number, instance_number, acquisition_number, echo_number, temporal_index;
  int rows, cols, samples, bits_alloc, bits_stored, high_bit, pixel_rep;
  int float_pixels;     /* FloatPixelData / DoubleFloatPixelData */
  int has_pixels;
  int has_ipp, has_iop, has_spacing;
  double ipp[3];        /* ImagePositionPatient, LPS mm */
  double iop[6];        /* ImageOrientationPatient: row direction, column direction */
  double spacing[2];    /* PixelSpacing: between rows, between columns (mm) */
  double slope, intercept; /* 1 and 0 when absent */
  double thickness;     /* SliceThickness, 0 when absent */
  double between;       /* SpacingBetweenSlices, 0 when absent */
  /* Siemens mosaic: one stored image holds `mosaic` tiles of rows x cols in a
   * grid of mosaic_rows x mosaic_cols pixels; this slice is tile mosaic_tile
   * (row-major), ipp already moved to the tile's own first pixel. */
  int mosaic;           /* NumberOfImagesInMosaic, 0 when not a mosaic */
  int mosaic_tile, mosaic_rows, mosaic_cols;
} dp__slice;

#endif
