/* Geometry of a synthetic series: slice positions, orientation, the truth
 * affine, and the rendering of the phantom into stored pixel values. */
#ifndef DCMPREP_SYNTH_GEOMETRY_H
#define DCMPREP_SYNTH_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>
#include "options.h"

/* Decimal String text: the shortest of at most 16 characters that keeps the
 * most precision.  Returns the value the text reads back as. */
double synth_ds(char out[17], double x);

/* All vectors are LPS.  Every number a file carries (IOP, IPP, pixel spacing,
 * rescale) is held here as the value of its DICOM text, so the pixels, the
 * files and the truth agree exactly. */
typedef struct synth_geometry {
  double r[3], c[3];      /* IOP: along a row (column index), along a column (row index) */
  double n[3];            /* unit normal r x c of the image plane */
  double stack[3];        /* unit direction the slices advance along (n unless tilted) */
  double ps[2];           /* pixel spacing: between rows, between columns (mm) */
  double slope, inter;
  double lo, hi;          /* stored value range */
  int nslices;            /* slices including the dropped ones */
  double *pos;            /* position along stack of each slice (mm) */
  double (*ipp)[3];       /* ImagePositionPatient of each slice */
  unsigned char *dropped; /* 1 for slices not written */
  int regular;            /* uniform steps and nothing dropped */
  double ijk_to_ras[4][4];
} synth_geometry;

/* Builds the geometry from the options.  Returns 0, or 1 with a message in
 * err (invalid orientation, out of memory). */
int synth_geometry_init(synth_geometry *g, const synth_opts *o, char *err, size_t errsize);
void synth_geometry_free(synth_geometry *g);

/* Stored values of slice k (rows x cols, row-major: index r * cols + c) as
 * 16-bit words (two's complement when signed).  Returns the number of pixels
 * clamped to [lo, hi]. */
size_t synth_render(const synth_geometry *g, const synth_opts *o, int k, uint16_t *px);

#endif
