/* Writing RT Structure Sets and Segmentations (synthetic test data, used by
 * tools/synth), through DCMTK behind plain C structs.  Coordinates are DICOM
 * LPS mm, as the files hold them.  Files are written atomically (a
 * temporary file in the same folder renamed over the path).  Every entry
 * point catches all exceptions; errors are DP_EINVAL (a value DCMTK
 * refuses, naming it), DP_EUNSUPPORTED (transfer syntax), DP_EIO. */
#ifndef DCMPREP_DICOM_DCMTK_LABEL_WRITE_H
#define DCMPREP_DICOM_DCMTK_LABEL_WRITE_H

#include <stdint.h>
#include "dcmprep/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every label file carries. */
typedef struct dp__label_write_common {
  const char *sop_uid, *series_uid, *study_uid, *for_uid;
  const char *ref_series_uid;         /* the image series labelled */
  const char *image_sop_class;        /* of the referenced images */
  const char *const *image_sops;      /* referenced images */
  int nimages;
  const char *label, *description;    /* StructureSetLabel / ContentLabel, SeriesDescription */
  int series_number;
  const char *patient_name, *patient_id;
} dp__label_write_common;

typedef struct dp__rt_write_contour {
  const char *type;        /* ContourGeometricType, e.g. "CLOSED_PLANAR" */
  int npoints;
  const double *xyz;       /* 3 * npoints, LPS mm */
  const char *image_sop;   /* ContourImageSequence reference, or NULL */
} dp__rt_write_contour;

typedef struct dp__rt_write_roi {
  int number;
  const char *name, *algorithm, *interpreted_type;
  const char *for_uid;     /* ReferencedFrameOfReferenceUID (NULL: the common one) */
  uint8_t rgb[3];
  const dp__rt_write_contour *contours;
  int ncontours;
} dp__rt_write_roi;

/* Writes an RTSTRUCT to path in explicit VR little endian. */
dp_status dp__dcm_write_rtstruct(const dp__label_write_common *c, const dp__rt_write_roi *rois, int nrois,
                                 const char *path);

typedef struct dp__seg_write_segment {
  int number;
  const char *label, *algorithm, *category, *type;
  uint8_t rgb[3];          /* written as RecommendedDisplayCIELabValue */
} dp__seg_write_segment;

typedef struct dp__seg_write_frame {
  int segment;             /* ReferencedSegmentNumber */
  double ipp[3];           /* LPS mm */
  const char *image_sop;   /* source image, or NULL */
} dp__seg_write_frame;

typedef struct dp__seg_write {
  int fractional;          /* 0: BINARY (1 bit), 1: FRACTIONAL (8 bits, PROBABILITY) */
  int max_fraction;        /* MaximumFractionalValue (FRACTIONAL) */
  int rows, cols;
  double iop[6];           /* LPS */
  double spacing[2];       /* PixelSpacing: between rows, between columns */
  double thickness, between; /* SliceThickness, SpacingBetweenSlices (0: not written) */
  const dp__seg_write_segment *segments;
  int nsegments;
  const dp__seg_write_frame *frames;
  int nframes;
  const uint8_t *pixels;   /* nframes * rows * cols values (0/1 for BINARY) */
  const char *ts_uid;      /* explicit (.1.2.1), implicit (.1.2), big endian (.1.2.2), deflated (.1.2.1.99) */
} dp__seg_write;

/* Writes a SEG to path (1-bit frames packed back to back, LSB first). */
dp_status dp__dcm_write_seg(const dp__label_write_common *c, const dp__seg_write *seg, const char *path);

#ifdef __cplusplus
}
#endif
#endif
