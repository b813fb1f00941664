/* Internals shared by the operations in lib/ops (dp__ prefix, not exported). */
#ifndef DCMPREP_OPS_INTERNAL_H
#define DCMPREP_OPS_INTERNAL_H

#include <stdint.h>
#include "dcmprep/dtype.h"

/* Mirrors an index into [0, n) as scipy.ndimage mode "mirror"
 * (-1 -> 1, n -> n - 2). */
static inline int64_t dp__mirror(int64_t i, int64_t n) {
  if (n == 1) return 0;
  int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

/* dp__loader (a voxel as double) and dp__store_row (doubles to a type,
 * rounded and clamped) come from the conversion kernel. */
#include "core/convert.h"

#endif
