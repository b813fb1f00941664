/* Labels of dcmprep-synth: analytic shapes written as an RT Structure Set
 * (exact cross-sections of each shape on every written slice) and as a
 * DICOM SEG (voxel centres inside each shape), for the label tests. */
#ifndef DCMPREP_SYNTH_LABELS_H
#define DCMPREP_SYNTH_LABELS_H

#include <stddef.h>
#include "dcmprep/status.h"
#include "geometry.h"
#include "options.h"
#include "truth.h"

typedef enum { SHAPE_SPHERE = 0, SHAPE_TORUS = 1, SHAPE_NESTED = 2 } shape_kind;

/* Coordinates (u, v, w) in mm from --center along the row direction, the
 * column direction and the image normal (LPS unit vectors of the geometry). */
typedef struct synth_shape {
  char name[128];
  shape_kind kind;
  double p[7]; /* sphere: u, v, w, r; torus: u, v, w, R, r; nested: u, v, w, outer, hole, island, half */
} synth_shape;

/* The shapes of o (--shape, or sphere, torus and nested sized from the
 * field of view).  Returns 0, or 1 with a message in err.  free() *out. */
int synth_shapes(const synth_opts *o, const synth_geometry *g, synth_shape **out, int *n, char *err,
                 size_t errsize);

/* 1 when (u, v, w) is inside the shape. */
int synth_shape_inside(const synth_shape *s, double u, double v, double w);

/* Writes o->rtstruct and o->seg (those given) for the written slices. */
dp_status synth_write_labels(const synth_opts *o, const synth_geometry *g, const synth_series *s,
                             const synth_shape *sh, int nsh);

/* SOP class of the images (synth.c). */
const char *synth_sop_class(const synth_opts *o);

#endif
