/* The recursive Gaussian's line kernel (recursive_gaussian.c), shared with
 * the elastic field builder, which runs its first pass on noise generated
 * in the line buffer. */
#ifndef DCMPREP_OPS_RECURSIVE_GAUSSIAN_H
#define DCMPREP_OPS_RECURSIVE_GAUSSIAN_H

#include <stdint.h>

#define DP__RG_LB 8  /* lines processed together, interleaved [q * LB + l] */
#define DP__RG_PAD 4 /* zero samples before and after each line */

typedef struct {
  double b[4];  /* causal numerator b0..b3 */
  double ba[5]; /* anticausal numerator b'1..b'4 (index 0 unused) */
  double a[5];  /* denominator a1..a4 (a0 = 1, index 0 unused) */
} dp__rg_coef;

/* Coefficients of Deriche's fourth-order Gaussian for sigma > 0 voxels,
 * normalised to a total response of 1. */
void dp__rg_coefs(double sigma, dp__rg_coef *c);

/* Filters LB interleaved lines of n samples held in x ([(q + PAD) * LB + l],
 * with PAD zero samples before and after, set by the caller); yc and ya are
 * scratch of the same size (their pads are set here).  Zeros are assumed
 * outside the line.  The result is left in yc, same layout. */
void dp__rg_lines(const dp__rg_coef *c, const double *x, double *yc, double *ya, int64_t n);

#endif
