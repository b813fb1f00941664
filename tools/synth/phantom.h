/* Analytic phantoms: value as a function of DICOM patient position (LPS mm).
 * tools/synth/phantom.py implements the same functions for checks. */
#ifndef DCMPREP_SYNTH_PHANTOM_H
#define DCMPREP_SYNTH_PHANTOM_H

typedef enum { PHANTOM_BODY = 0, PHANTOM_RAMP = 1 } phantom_kind;

/* mr: 1 for MR-like intensities (all >= 0), 0 for CT Hounsfield units.
 *  body: elliptic cylinder along z (semi-axes 120 mm in x, 90 mm in y) of
 *        soft tissue (CT 40 + 0.5 z, MR 400 + 0.5 z) with a 10 mm bone rim
 *        (CT 700, MR 100) in air (CT -1000, MR 0), and a marker sphere of
 *        radius 20 mm centred at x = +60 mm, y = z = 0 (patient LEFT in LPS)
 *        of value 1000, so that left/right and up/down flips show.
 *  ramp: 100 + 2x + 3y + 5z (linear: every interpolation is exact). */
double phantom_value(phantom_kind kind, int mr, double x, double y, double z);

#endif
