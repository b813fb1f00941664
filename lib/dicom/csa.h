/* Siemens CSA headers (private (0029,xx10) "CSA Image Header Info" and
 * (0029,xx20) "CSA Series Header Info"): a list of named elements, each with
 * a few text values.  Plain C, no DCMTK; reads untrusted bytes defensively. */
#ifndef DCMPREP_DICOM_CSA_H
#define DCMPREP_DICOM_CSA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Finds element `name` in the CSA header buf[0..n) (both the "SV10" CSA2 and
 * the older CSA1 layout) and parses up to max of its values as numbers into
 * out.  Returns the number of values parsed (0 when the element is absent or
 * has no numeric value), or -1 when buf is not a CSA header or is damaged
 * (lengths that run past the end, absurd counts).  Never reads outside buf. */
int dp__csa_numbers(const uint8_t *buf, size_t n, const char *name, double *out, int max);

#ifdef __cplusplus
}
#endif
#endif
