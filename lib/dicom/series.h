/* Grouping images into series, sorting them along the slice normal and
 * measuring the geometry of the stack (plain C, no DCMTK). */
#ifndef DCMPREP_DICOM_SERIES_H
#define DCMPREP_DICOM_SERIES_H

#include "dcmprep/dicom.h"
#include "dicom/slice.h"

typedef struct dp__group {
  int *idx;              /* slice indices, sorted by position, then by t */
  int n;                 /* images */
  int nz, nt;            /* positions, volumes (n == nz * nt when regular) */
  dp_series_kind kind;
  double r[3], c[3], nrm[3]; /* unit row/column directions and normal (LPS) */
  double *pos;           /* nz positions along the normal (mm), ascending */
  double step;           /* median step between positions (mm) */
  double shear[2];       /* in-plane shift per mm along the normal (row, column dirs) */
  double tilt_deg;
  int uneven, missing, dups, geometry_ok;
  char warnings[1024];
} dp__group;

/* Groups n slices.  *groups is an array of *ngroups groups (free with
 * dp__groups_free).  Orders groups by series number, then UID. */
dp_status dp__series_group(const dp__slice *s, int n, dp__group **groups, int *ngroups);

/* Sorts a group's slices and measures its geometry; fills the fields above. */
dp_status dp__series_analyse(dp__group *g, const dp__slice *s);

void dp__groups_free(dp__group *g, int n);

/* The LPS affine of the stack as sampled (voxel i along the row direction,
 * j along the column direction, k through the sorted positions), using the
 * first and last slice positions for the slice axis (so a tilted stack gives
 * a sheared affine). */
void dp__series_lps_affine(const dp__group *g, const dp__slice *s, double m[4][4]);

/* The same in RAS (the volume's ijk_to_ras). */
void dp__series_ras_affine(const dp__group *g, const dp__slice *s, dp_mat4 *out);

#endif
