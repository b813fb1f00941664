/* Command-line options of dcmprep-synth: parsing, validation and defaults. */
#ifndef DCMPREP_SYNTH_OPTIONS_H
#define DCMPREP_SYNTH_OPTIONS_H

#include "phantom.h"

typedef enum { ORDER_NATURAL = 0, ORDER_REVERSE = 1, ORDER_RANDOM = 2 } instance_order;

typedef struct synth_opts {
  const char *out, *truth;               /* -o OUTDIR, --truth FILE.json */
  const char *series_uid, *study_uid;    /* NULL: derived from the options */
  const char *ts_name, *ts_uid;          /* --ts: short name and its UID */
  int mr;                                /* --modality MR */
  phantom_kind phantom;
  int rows, cols, slices;
  double ps[2];                          /* PixelSpacing: between rows, between columns (mm) */
  double step, thickness;                /* slice spacing along the stack, SliceThickness (mm) */
  double iop[6];                         /* as given (normalised by the geometry) */
  double center[3];                      /* LPS mm of the volume centre */
  double tilt;                           /* gantry tilt (degrees) */
  double *gaps;                          /* --uneven: ngaps steps between slices (mm) */
  int ngaps;
  int *drops;                            /* --drop: slice indices not written */
  int ndrops;
  double slope, inter;                   /* RescaleSlope, RescaleIntercept */
  int is_signed, bits_stored, mono1, enhanced;
  int shuffle;                           /* --shuffle given */
  unsigned long long seed;               /* its seed */
  instance_order order;
  int series_number;
  const char **tags;                     /* --tag KEYWORD=VALUE, in order */
  int ntags;
  /* labels (labels.c) */
  const char *rtstruct, *seg;            /* --rtstruct FILE, --seg FILE */
  const char **shapes;                   /* --shape SPEC, in order (none: the default three) */
  int nshapes;
  int contour_points;                    /* points per circle (128) */
  int seg_factor;                        /* SEG pixels are this many image pixels wide (1) */
  int seg_fractional;                    /* FRACTIONAL SEG */
  const char *seg_ts;                    /* --seg-ts: its UID (explicit) */
} synth_opts;

/* Parses argv into o (defaults first).  Returns 0 on success, 2 on a usage
 * error (message already printed as "dcmprep-synth: ..."), -1 when --help was
 * printed.  Free with synth_opts_free. */
int synth_parse(int argc, char **argv, synth_opts *o);
void synth_opts_free(synth_opts *o);

/* The usage text. */
extern const char synth_usage[];

#endif
