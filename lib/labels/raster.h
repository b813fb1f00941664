/* Masks as row spans, polygon filling and the per-object drawing
 * (internal, plain C).  See include/dcmprep/labels.h for the rules. */
#ifndef DCMPREP_LABELS_RASTER_H
#define DCMPREP_LABELS_RASTER_H

#include <stdint.h>
#include "dcmprep/labels.h"
#include "labels/model.h"

/* Columns [i0, i1) of row j. */
typedef struct dp__span {
  int32_t j, i0, i1;
} dp__span;

typedef struct dp__spans {
  dp__span *v;
  int n, cap;
} dp__spans;

/* One ROI's mask on a grid: spans per slice, each list sorted by (j, i0),
 * disjoint and not touching once normalised. */
typedef struct dp__mask {
  int nz;
  dp__spans *slices;
} dp__mask;

dp_status dp__spans_push(dp__spans *s, int32_t j, int32_t i0, int32_t i1);
/* Sorts and merges overlapping or touching spans (the union). */
void dp__spans_normalize(dp__spans *s);
int64_t dp__spans_voxels(const dp__spans *s);

dp_status dp__mask_init(dp__mask *m, int nz);
void dp__mask_free(dp__mask *m);

/* Even-odd fill of npoly closed polygons together (polygon p has npts[p]
 * points at pts[p][2 * q], pts[p][2 * q + 1] = (x, y) in voxel coordinates:
 * x along i, y along j), on an nx x ny slice: the rule of labels.h, edge
 * crossing x = (x1 - x0) * (j - y0) / (y1 - y0) + x0.  Appends the spans of
 * the filled voxels (sorted by row, disjoint) to out. */
dp_status dp__fill_polygons(const double *const *pts, const int *npts, int npoly, int nx, int ny,
                            dp__spans *out);

/* 1 when two non-adjacent edges of the closed polygon (n points, x/y
 * interleaved) intersect or touch, else 0. */
int dp__polygon_self_intersects(const double *pts, int n);

/* What drawing an ROI met (for the notes). */
typedef struct dp__roi_stats {
  int not_closed;      /* POINT / OPEN contours ignored */
  int degenerate;      /* closed contours of fewer than 3 points */
  int nonparallel;     /* not parallel to the slices */
  int between;         /* planes beyond the slice tolerance */
  int outside;         /* planes outside the volume */
  int self_intersect;  /* self-intersecting contours */
  int first_si_slice;  /* the slice of the first of them */
  int beyond_fov;      /* contours reaching beyond the slice's in-plane extent */
  int gaps;            /* slices without contours between contoured ones */
  int slices;          /* slices drawn on */
  int duplicate_frames;/* SEG: frames at the same position (united) */
} dp__roi_stats;

/* RTSTRUCT: draws ROIs sel[0..nsel) of obj on img's grid (masks[s] gets ROI
 * sel[s]); stats[s] what it met.  threads as usual. */
dp_status dp__draw_rtstruct(const dp__label_obj *obj, const int *sel, int nsel, const dp_volume *img,
                            double tolerance, int threads, dp__mask *masks, dp__roi_stats *stats);

/* SEG: the same for segments (nearest placement, labels.h). */
dp_status dp__draw_seg(const dp__label_obj *obj, const int *sel, int nsel, const dp_volume *img,
                       double fraction_threshold, int threads, dp__mask *masks, dp__roi_stats *stats);


/* Notes met while drawing: each is also logged (DP_LOG_WARN) and lands in
 * the volumes' "LabelNotes". */
typedef struct dp__notes {
  char **v;
  int n;
} dp__notes;
void dp__note(dp__notes *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void dp__notes_free(dp__notes *n);

/* The label volumes of a drawing (label_volumes.c): masks[s] is ROI sel[s];
 * layout from o.  Overlaps (multi) are added to notes; notes end up in every
 * volume's "LabelNotes".  See labels.h. */
dp_status dp__label_volumes(const dp__label_obj *obj, const int *sel, int nsel, const dp__mask *masks,
                            const dp_volume *img, const dp_label_opts *o, dp__notes *notes,
                            dp_volume ***out, int *nout);

/* Printable form of a hostile name for messages: ASCII 32..126 kept (quotes
 * and backslashes too), anything else '?', at most size - 1 chars. */
void dp__label_printable(const char *in, char *out, size_t size);

#endif
