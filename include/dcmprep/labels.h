/* Labels from DICOM: RT Structure Sets (RTSTRUCT) and Segmentations (SEG)
 * turned into label volumes on an image's grid.
 *
 * A label object is one RTSTRUCT or SEG file.  dp_label_read() reads all of
 * it (contours, or segments and their decoded frames); dp_label_rasterize()
 * draws the chosen ROIs (RTSTRUCT) or segments (SEG) onto the grid of an
 * image volume and returns label volumes with a label map in their metadata.
 * dp_dicom_scan() lists the label objects it meets (dp_dicom_set_label) and
 * which scanned image series each one labels.
 *
 * Everything happens in world space (RAS+ mm, the image's ijk_to_ras; DICOM
 * LPS is converted once, when the file is read: RAS = (-x, -y, z)), so that
 * axial, oblique, gantry-tilted (sheared) and resampled grids take the same
 * path.
 *
 * RTSTRUCT rules
 * --------------
 *  - Only CLOSED_PLANAR contours are filled.  POINT, OPEN_PLANAR and
 *    OPEN_NONPLANAR contours are ignored with a note.
 *  - Each contour point is mapped to continuous voxel coordinates (i, j, k)
 *    through the inverse of ijk_to_ras.  The contour's plane position is
 *    kc = (min k + max k) / 2 over its points.  A contour whose points span
 *    more than DP_LABEL_PLANAR_TOL (0.25) slices in k is not parallel to the
 *    image slices: it is not drawn (a note says how many).
 *  - Slice matching is by position along the slice axis, never by the
 *    referenced SOP instance: the contour goes to slice s = floor(kc + 0.5)
 *    when |kc - s| <= slice_tolerance (default 0.5: every contour inside the
 *    slab goes to its nearest slice; a plane exactly halfway goes to the
 *    higher slice).  Contours farther from every slice, or outside the
 *    volume, are not drawn (noted).  Contours are never interpolated between
 *    contoured planes; when an ROI's contoured planes skip image slices
 *    inside its extent, a note says so.
 *  - Fill rule: contours of one ROI whose plane positions agree within 0.01
 *    slices form one plane and are filled together by the even-odd rule
 *    (holes, islands in holes, keyholes); planes that land on the same slice
 *    are united.  The voxel (i, j) of the slice is inside when the number of
 *    polygon edges crossing the ray from its centre towards +i is odd, where
 *    an edge from (x0, y0) to (x1, y1) (in contour order) crosses when
 *    (y0 > j) != (y1 > j) and i < (x1 - x0) * (j - y0) / (y1 - y0) + x0,
 *    evaluated in double precision exactly as written.  Tie rule: a centre
 *    exactly on an edge belongs to the region on the edge's +i side (and,
 *    on a horizontal edge, to the +j side), so two contours sharing an edge
 *    never both claim its voxels.
 *  - Self-intersecting contours are filled by the same rule and noted.
 *  - Each ROI's ReferencedFrameOfReferenceUID must equal the image's
 *    FrameOfReferenceUID (volume metadata "FrameOfReferenceUID", set by
 *    dp_dicom_load): otherwise DP_EGEOMETRY.  An image without one (a NIfTI
 *    file) is not checked, with a note.
 *
 * SEG rules
 * ---------
 *  - Frames are placed by their own PlanePositionSequence (per frame) and
 *    PlaneOrientationSequence / PixelMeasuresSequence (per frame or shared),
 *    and assigned to a segment by SegmentIdentificationSequence's
 *    ReferencedSegmentNumber; frame order and DimensionIndexValues are not
 *    used.
 *  - Every target voxel centre takes the value of the nearest SEG pixel
 *    (nearest neighbour; halves round up) of the segment's frame whose plane
 *    lies within half the SEG's slice spacing (SpacingBetweenSlices, else
 *    the smallest step between frame planes, else SliceThickness, else the
 *    image's slice spacing).  Slices without a frame of that segment are
 *    empty, as the standard allows.  So a SEG on the image's own grid is
 *    copied exactly, and a SEG on another grid is resampled with nearest.
 *  - BINARY pixels are in when 1.  FRACTIONAL pixels are in when
 *    value / MaximumFractionalValue >= fraction_threshold (default 0.5).
 *  - Pixel data: native (any byte order, 1-bit frames need not start on a
 *    byte), deflated, RLE, JPEG 2000 (with OpenJPEG), Deflated Image Frame
 *    (1.2.840.10008.1.2.8.1); 8-bit FRACTIONAL also JPEG and JPEG-LS.
 *  - The SEG's FrameOfReferenceUID is checked against the image's as above.
 *
 * Label volumes (dp_label_rasterize)
 * ----------------------------------
 *  - DP_LABELS_MULTI: one 3-D volume; the ROI at position p (1-based) of the
 *    selection has value p, background 0.  Type u8 for up to 255 ROIs, u16
 *    otherwise.  Overlaps: the ROI later in the selection wins (so
 *    --roi Body,Liver,Tumour puts the tumour on top); every overlap is
 *    counted and reported (note, and "LabelOverlaps" in the metadata).
 *  - DP_LABELS_ONEHOT: one 4-D u8 volume, channel t (0-based) = 1 inside the
 *    ROI at position t + 1, else 0; overlaps are kept; no background channel.
 *  - DP_LABELS_SEPARATE: one 3-D u8 volume (0/1) per ROI, in selection order.
 *  The volumes are on the image's grid (same dims and ijk_to_ras).  Their
 *  metadata holds "Labels" (JSON array: value or channel, ROI/segment number,
 *  name, colour as [r, g, b], algorithm, type, category, voxels), "LabelSource"
 *  (the object: kind, SOP instance, series, frame of reference, label,
 *  referenced series), "LabelLayout" and, when any, "LabelOverlaps" and
 *  "LabelNotes".  Names are hostile input: they appear in metadata (escaped
 *  JSON) only; callers naming files after them must sanitise them.
 *
 * Thread safety: objects are immutable after dp_label_read; several threads
 * may rasterise one object at once.  Notes also go to the log callback
 * (DP_LOG_WARN).
 */
#ifndef DCMPREP_LABELS_H
#define DCMPREP_LABELS_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Contours spanning more slices than this along k are not parallel to the
 * image slices. */
#define DP_LABEL_PLANAR_TOL 0.25

typedef enum dp_label_kind {
  DP_LABEL_RTSTRUCT = 1, /* RT Structure Set Storage, 1.2.840.10008.5.1.4.1.1.481.3 */
  DP_LABEL_SEG = 2       /* Segmentation Storage, 1.2.840.10008.5.1.4.1.1.66.4 */
} dp_label_kind;

/* "RTSTRUCT" or "SEG" ("?" otherwise). */
DP_API const char *dp_label_kind_name(dp_label_kind k);

/* One ROI of an RTSTRUCT or segment of a SEG.  Strings are owned by the
 * object (or scan result) and never NULL ("" when absent). */
typedef struct dp_label_roi {
  int number;            /* ROINumber / SegmentNumber */
  const char *name;      /* ROIName / SegmentLabel, as in the file */
  int has_colour;        /* 1 when rgb holds ROIDisplayColor or the converted
                            RecommendedDisplayCIELabValue (sRGB, D65) */
  uint8_t rgb[3];
  const char *algorithm; /* ROIGenerationAlgorithm / SegmentAlgorithmType */
  const char *type;      /* RTROIInterpretedType / SegmentedPropertyType meaning */
  const char *category;  /* SEG: SegmentedPropertyCategory meaning; RTSTRUCT: "" */
  int ncontours;         /* RTSTRUCT: contours of any type; SEG: frames */
  int nclosed;           /* RTSTRUCT: CLOSED_PLANAR contours; SEG: frames */
} dp_label_roi;

/* What a label object is and what it references.  Owned by the object or
 * the scan result. */
typedef struct dp_label_info {
  dp_label_kind kind;
  const char *path;
  const char *sop_instance_uid;
  const char *series_uid;             /* the object's own SeriesInstanceUID */
  const char *frame_of_reference_uid; /* SEG: FrameOfReferenceUID; RTSTRUCT: the
                                         first ReferencedFrameOfReference */
  const char *label;                  /* StructureSetLabel / ContentLabel */
  const char *description;            /* SeriesDescription */
  int series_number;                  /* -1 when absent */
  const char *referenced_series_uid;  /* first referenced image series, "" */
  int nreferenced_images;             /* distinct referenced SOP instances */
  int nrois;
  const dp_label_roi *rois;           /* in file order */
  int fractional;                     /* SEG: 1 for FRACTIONAL */
  int max_fraction;                   /* SEG FRACTIONAL: MaximumFractionalValue */
  int rows, cols, frames;             /* SEG: frame size and NumberOfFrames */
  /* Set by dp_dicom_scan only (else -1 and ""): the index of the scanned
   * image series this object labels, and how it was found: "series" (the
   * referenced SeriesInstanceUID), "images" (the series holding most of the
   * referenced SOP instances) or "frame of reference" (the only volume
   * series in the object's frame of reference). */
  int image_series;
  const char *match;
  const char *warnings;               /* "; "-separated, "" when none */
} dp_label_info;

typedef struct dp_label_object dp_label_object; /* opaque */

/* Reads an RTSTRUCT or SEG file whole: every ROI and contour, or every
 * segment and frame (pixel data decoded, one byte per pixel).  Not DICOM:
 * DP_EFORMAT; another SOP class: DP_ENOTFOUND; a SegmentationType other
 * than BINARY and FRACTIONAL, or 1-bit frames in a JPEG syntax:
 * DP_EUNSUPPORTED / DP_ECODEC; structural damage (contour
 * data not in triplets, non-finite or absurd coordinates (beyond 1e5 mm),
 * duplicate ROI or segment numbers, frames referencing no segment, frames
 * without a position, per-frame items not matching NumberOfFrames, truncated
 * pixel data): DP_EFORMAT; absurd sizes (more than 2^31 pixels or 2^27
 * contour points): DP_ELIMIT before allocating.  Messages name the file and
 * the attribute.  The caller frees *out with dp_label_free (NULL on
 * failure). */
DP_API dp_status dp_label_read(const char *path, dp_label_object **out);
DP_API void dp_label_free(dp_label_object *obj);

/* The object's description; valid until it is freed. */
DP_API const dp_label_info *dp_label_object_info(const dp_label_object *obj);

typedef enum dp_label_layout {
  DP_LABELS_MULTI = 0,   /* one volume, value = position in the selection */
  DP_LABELS_ONEHOT = 1,  /* one 4-D volume, a channel per ROI */
  DP_LABELS_SEPARATE = 2 /* one 0/1 volume per ROI */
} dp_label_layout;

/* "multi", "onehot", "separate" <-> the layout.  Parse: DP_EINVAL for
 * anything else. */
DP_API const char *dp_label_layout_name(dp_label_layout l);
DP_API dp_status dp_label_layout_parse(const char *s, dp_label_layout *out);

typedef struct dp_label_opts {
  /* ROIs to draw, in this order: each entry an ROI name (exact, else
   * case-insensitive when that is unique) or "#N" for ROI/segment number N.
   * NULL (nrois 0): every ROI in file order.  An entry matching nothing:
   * DP_ENOTFOUND listing the names there are; one ROI named twice:
   * DP_EINVAL. */
  const char *const *rois;
  int nrois;
  dp_label_layout layout;
  double slice_tolerance;    /* RTSTRUCT: slices (0 < t <= 0.5); default 0.5 */
  double fraction_threshold; /* SEG FRACTIONAL: in when value/max >= this (0, 1]; 0.5 */
  int threads;               /* 0 = dp_default_threads() */
} dp_label_opts;
#define DP_LABEL_OPTS_INIT {NULL, 0, DP_LABELS_MULTI, 0.5, 0.5, 0}

/* Draws the selected ROIs of obj on image's grid (dims 0..2 and ijk_to_ras;
 * the image's voxels are not read).  *out receives *nout volumes (1 for
 * multi and onehot, one per ROI for separate); free each with
 * dp_volume_free and the array with free().  Errors: DP_EINVAL (bad
 * options), DP_ENOTFOUND (selection), DP_EGEOMETRY (another frame of
 * reference, a SEG whose frames of one segment differ in orientation),
 * DP_ELIMIT (volume limits), DP_ENOMEM.  On failure *out is NULL. */
DP_API dp_status dp_label_rasterize(const dp_label_object *obj, const dp_volume *image,
                                    const dp_label_opts *opts, dp_volume ***out, int *nout);

/* The grid a SEG's frames lie on, for a SEG without its image: rows x
 * columns of the frames (PixelSpacing, orientation of the first frame),
 * one slice per distinct frame plane from the lowest to the highest along
 * the normal, spaced by the SEG's slice spacing (as in the SEG rules above)
 * so that planes missing in between are kept as empty slices.  *out is a
 * u8 volume of zeros on that grid (free with dp_volume_free).  Not a SEG,
 * or frames of several orientations: DP_EINVAL / DP_EGEOMETRY; more than
 * 65535 slices: DP_ELIMIT. */
DP_API dp_status dp_label_seg_grid(const dp_label_object *obj, dp_volume **out);

/* ---- label objects met by dp_dicom_scan -------------------------------- */

struct dp_dicom_set;

/* The start of the skip reason (dp_dicom_set_skipped) of an RTSTRUCT or SEG
 * the scan could not read (damaged: the rest says why), so that callers can
 * report it as an error rather than as an ordinary skipped file. */
#define DP_LABEL_UNREADABLE "label object not read: "

/* Number of RTSTRUCT and SEG objects the scan found (they are not counted
 * as skipped files), and the i-th (NULL when out of range), in path order;
 * valid until the set is freed.  Its image_series and match say which
 * scanned series it labels. */
DP_API int dp_dicom_set_label_count(const struct dp_dicom_set *set);
DP_API const dp_label_info *dp_dicom_set_label(const struct dp_dicom_set *set, int i);

#ifdef __cplusplus
}
#endif
#endif
