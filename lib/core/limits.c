/* Process-wide limits on volume sizes and on the bytes volumes hold. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "dcmprep/volume.h"
#include "internal.h"

static _Atomic int64_t max_voxels, max_bytes, in_use;

void dp_set_limits(const dp_limits *l) {
  atomic_store(&max_voxels, l && l->max_voxels > 0 ? l->max_voxels : 0);
  atomic_store(&max_bytes, l && l->max_bytes > 0 ? l->max_bytes : 0);
}

dp_limits dp_get_limits(void) {
  dp_limits l = {atomic_load(&max_voxels), atomic_load(&max_bytes)};
  return l;
}

int64_t dp_volume_bytes_in_use(void) { return atomic_load(&in_use); }

static void mib(char *buf, size_t n, int64_t bytes) {
  snprintf(buf, n, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

dp_status dp__limits_acquire(const int64_t dim[4], int64_t voxels, size_t nbytes) {
  int64_t mv = atomic_load(&max_voxels), mb = atomic_load(&max_bytes);
  if (mv > 0 && voxels > mv)
    return dp__error(DP_ELIMIT, "a %lld x %lld x %lld x %lld volume (%lld voxels) exceeds --max-voxels %lld",
                     (long long)dim[0], (long long)dim[1], (long long)dim[2], (long long)dim[3],
                     (long long)voxels, (long long)mv);
  int64_t now = atomic_fetch_add(&in_use, (int64_t)nbytes) + (int64_t)nbytes;
  if (mb > 0 && now > mb) {
    atomic_fetch_sub(&in_use, (int64_t)nbytes);
    char need[32], have[32], lim[32];
    mib(need, sizeof need, (int64_t)nbytes);
    mib(have, sizeof have, now - (int64_t)nbytes);
    mib(lim, sizeof lim, mb);
    return dp__error(DP_ELIMIT,
                     "a %lld x %lld x %lld x %lld volume needs %s with %s already in use: over --max-memory %s",
                     (long long)dim[0], (long long)dim[1], (long long)dim[2], (long long)dim[3], need, have, lim);
  }
  return DP_OK;
}

void dp__limits_release(size_t nbytes) { atomic_fetch_sub(&in_use, (int64_t)nbytes); }
