/* The label object as read (internal): what the DCMTK readers fill
 * (lib/dicom/dcmtk/rtstruct_read.cc, seg_read.cc) and the C code
 * rasterises.  Plain C; coordinates are RAS+ mm (converted from LPS by the
 * readers). */
#ifndef DCMPREP_LABELS_MODEL_H
#define DCMPREP_LABELS_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/labels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP__LABEL_UID_LEN 65

typedef enum dp__contour_type {
  DP__CONTOUR_CLOSED = 0, /* CLOSED_PLANAR */
  DP__CONTOUR_POINT = 1,
  DP__CONTOUR_OPEN = 2,   /* OPEN_PLANAR, OPEN_NONPLANAR */
  DP__CONTOUR_OTHER = 3   /* anything else (e.g. CLOSEDPLANAR_XOR is read as closed) */
} dp__contour_type;

typedef struct dp__contour {
  int type;      /* dp__contour_type */
  int npoints;
  double *xyz;   /* 3 * npoints, RAS mm; NULL when read headers-only */
} dp__contour;

/* One SEG frame: where it lies and which segment it shows. */
typedef struct dp__seg_frame {
  int segment;          /* ReferencedSegmentNumber */
  double origin[3];     /* RAS of the centre of the first pixel */
  double row_dir[3];    /* RAS unit vector along a row (increasing column) */
  double col_dir[3];    /* RAS unit vector along a column (increasing row) */
  double spacing[2];    /* between rows, between columns (mm) */
} dp__seg_frame;

typedef struct dp__roi {
  dp_label_roi pub;     /* strings point into the fields below */
  char *name, *algorithm, *type, *category;
  char for_uid[DP__LABEL_UID_LEN]; /* RTSTRUCT ReferencedFrameOfReferenceUID */
  dp__contour *contours;
  int ncontours;
} dp__roi;

struct dp_label_object {
  dp_label_info info;   /* strings point into the fields below */
  char *path, *label, *description, *warnings;
  char sop_uid[DP__LABEL_UID_LEN], series_uid[DP__LABEL_UID_LEN];
  char for_uid[DP__LABEL_UID_LEN], ref_series_uid[DP__LABEL_UID_LEN];
  char match[32];
  char **ref_sops;       /* distinct referenced SOP instance UIDs, sorted */
  int nref_sops;
  dp__roi *rois;
  int nrois;
  /* SEG */
  dp__seg_frame *frames;
  int nframes;
  double slice_spacing;  /* SpacingBetweenSlices, 0 when absent */
  double thickness;      /* SliceThickness, 0 when absent */
  uint8_t *pixels;       /* nframes * rows * cols bytes (0/1 or 0..max); NULL headers-only */
};

typedef struct dp_label_object dp__label_obj;

/* Allocation helpers shared by the readers (label_object.c).  Each returns
 * NULL when out of memory. */
dp__label_obj *dp__label_obj_new(dp_label_kind kind, const char *path);
/* Grows obj->rois to n zeroed entries. */
dp_status dp__label_obj_set_rois(dp__label_obj *obj, int n);
/* Sets *dst to a copy of s (NULL -> ""). */
dp_status dp__label_strdup(char **dst, const char *s);
/* Sets obj->ref_sops to a sorted copy of the n distinct UIDs (and
 * info.nreferenced_images). */
dp_status dp__label_set_refs(dp__label_obj *obj, const char *const *uids, int n);
/* Appends a "; "-separated warning. */
void dp__label_warn(dp__label_obj *obj, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Points info and every roi's pub at the current strings and builds the
 * public ROI array; call once the readers are done (again after changing
 * a string).  DP_ENOMEM. */
dp_status dp__label_obj_finish(dp__label_obj *obj);

/* CIELab as DICOM stores it (RecommendedDisplayCIELabValue: L 0..65535 for
 * 0..100, a and b 0..65535 for -128..127, D50) to 8-bit sRGB (D65), and
 * back. */
void dp__cielab_to_rgb(const uint16_t lab[3], uint8_t rgb[3]);
void dp__rgb_to_cielab(const uint8_t rgb[3], uint16_t lab[3]);

#ifdef __cplusplus
}
#endif
#endif
