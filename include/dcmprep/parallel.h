/* Threading defaults. */
#ifndef DCMPREP_PARALLEL_H
#define DCMPREP_PARALLEL_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default worker count for operations whose options say threads = 0: the
 * DCMPREP_THREADS environment variable when set to a positive integer, else the
 * number of online processors.  Read once per process; thread-safe. */
DP_API int dp_default_threads(void);

#ifdef __cplusplus
}
#endif
#endif
