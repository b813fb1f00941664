/* The truth file of dcmprep-synth: what was written, where, and the geometry a
 * correct loader must recover (JSON). */
#ifndef DCMPREP_SYNTH_TRUTH_H
#define DCMPREP_SYNTH_TRUTH_H

#include <stddef.h>
#include "dcmprep/status.h"
#include "geometry.h"
#include "options.h"

/* One written slice (a file, or a frame of the enhanced file). */
typedef struct synth_slice {
  int k;          /* slice index along the stack (0-based, dropped ones count) */
  int instance;   /* InstanceNumber (classic) */
  int frame;      /* frame number in the enhanced file (1-based), else 0 */
  char name[32];  /* file name inside the output folder */
} synth_slice;

typedef struct synth_series {
  char study_uid[65], series_uid[65], for_uid[65];
  synth_slice *slices; /* written slices in stack order */
  int nslices;
  size_t clamped;      /* pixels clamped to the stored range, all slices */
} synth_series;

/* Writes the truth JSON atomically.  Returns DP_OK or a status with the
 * message in dp_last_error(). */
struct synth_shape;
/* shapes: the label shapes written (nshapes 0: none). */
dp_status synth_write_truth(const char *path, const synth_opts *o, const synth_geometry *g,
                            const synth_series *s, const struct synth_shape *shapes, int nshapes,
                            int argc, char **argv);

#endif
