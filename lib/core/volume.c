#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dcmprep/volume.h"
#include "internal.h"
#include "meta.h"
#include "convert.h"
#include "file_map.h"

static dp_status check_dims(const int64_t dim[4], dp_dtype dtype, size_t *nbytes) {
  size_t esz = dp_dtype_size(dtype);
  if (esz == 0) return dp__error(DP_EINVAL, "volume: invalid data type %d", (int)dtype);
  int64_t n = 1;
  for (int d = 0; d < 4; d++) {
    if (dim[d] < 1)
      return dp__error(DP_EINVAL, "volume: dimension %d is %lld, must be at least 1", d,
                       (long long)dim[d]);
    if (dim[d] > DP_MAX_VOXELS || n > DP_MAX_VOXELS / dim[d])
      return dp__error(DP_ELIMIT, "volume: %lld x %lld x %lld x %lld voxels exceeds the limit of %lld",
                       (long long)dim[0], (long long)dim[1], (long long)dim[2], (long long)dim[3],
                       (long long)DP_MAX_VOXELS);
    n *= dim[d];
  }
  if (dp__mul_overflow((size_t)n, esz, nbytes))
    return dp__error(DP_ELIMIT, "volume: %lld voxels do not fit in memory", (long long)n);
  return DP_OK;
}

/* Volumes of at least this size ask for transparent huge pages. */
#define DP__HUGE_MIN ((size_t)4 << 20)
#define DP__HUGE_PAGE ((size_t)2 << 20)

/* Voxel buffer of nbytes, zeroed or not.  Large ones ask for transparent huge
 * pages (a hint; numpy does the same): faulting in 2 MiB pages instead of
 * 4 KiB ones makes the first write of a new volume several times cheaper.
 * The hint must precede the first touch of the pages, and only whole 2 MiB
 * pages inside the mapping can be huge: calloc's lazily zeroed mmap memory
 * is not aligned, so its first and last partial 2 MiB stay 4 KiB pages
 * (about 500 extra faults); an uninitialised buffer is aligned and rounded
 * up to 2 MiB so that every page of it can be huge. */
void *dp__alloc_data(size_t nbytes, int zeroed) {
  void *p = NULL;
  if (nbytes < DP__HUGE_MIN) {
    size_t n = nbytes ? nbytes : 1;
    return zeroed ? calloc(1, n) : malloc(n);
  }
  if (zeroed) {
    /* calloc: zero pages come from the kernel lazily, so large volumes that
     * are about to be overwritten cost no extra pass. */
    p = calloc(1, nbytes);
  } else {
    size_t rounded = (nbytes + DP__HUGE_PAGE - 1) & ~(DP__HUGE_PAGE - 1);
    if (rounded < nbytes || posix_memalign(&p, DP__HUGE_PAGE, rounded) != 0) p = NULL;
    else nbytes = rounded;
  }
#ifdef MADV_HUGEPAGE
  if (p) {
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + nbytes) & ~(uintptr_t)4095;
    if (e > a) madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
  }
#endif
  return p;
}

static dp_status volume_new(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras, int zeroed,
                            dp_volume **out) {
  if (!out) return dp__error(DP_EINVAL, "volume: no output pointer");
  *out = NULL;
  if (!dim) return dp__error(DP_EINVAL, "volume: no dimensions");
  size_t nbytes;
  dp_status s = check_dims(dim, dtype, &nbytes);
  if (s != DP_OK) return s;
  /* --max-voxels / --max-memory: refused before anything is allocated */
  if ((s = dp__limits_acquire(dim, (int64_t)(nbytes / dp_dtype_size(dtype)), nbytes)) != DP_OK) return s;
  dp_volume *v = calloc(1, sizeof *v);
  if (v) v->data = dp__alloc_data(nbytes, zeroed);
  if (!v || !v->data) {
    free(v);
    dp__limits_release(nbytes);
    return dp__error(DP_ENOMEM, "volume: cannot allocate %zu bytes", nbytes);
  }
  memcpy(v->dim, dim, sizeof v->dim);
  v->dtype = dtype;
  v->ijk_to_ras = ijk_to_ras ? *ijk_to_ras : dp_mat4_identity();
  *out = v;
  return DP_OK;
}

dp_status dp_volume_new(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras,
                        dp_volume **out) {
  return volume_new(dim, dtype, ijk_to_ras, 1, out);
}

dp_status dp__volume_new_uninit(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras,
                                dp_volume **out) {
  return volume_new(dim, dtype, ijk_to_ras, 0, out);
}

void dp_volume_free(dp_volume *v) {
  if (!v) return;
  if (v->data) dp__limits_release(dp_volume_nbytes(v));
  if (v->storage) dp__file_map_close((dp__file_map *)v->storage);
  else free(v->data);
  dp__meta_free(v->meta);
  free(v);
}

dp_status dp__volume_new_mapped(const int64_t dim[4], dp_dtype dtype, const dp_mat4 *ijk_to_ras,
                                dp__file_map *map, void *data, dp_volume **out) {
  *out = NULL;
  size_t nbytes;
  dp_status s = check_dims(dim, dtype, &nbytes);
  if (s != DP_OK) return s;
  if ((s = dp__limits_acquire(dim, (int64_t)(nbytes / dp_dtype_size(dtype)), nbytes)) != DP_OK) return s;
  dp_volume *v = calloc(1, sizeof *v);
  if (!v) {
    dp__limits_release(nbytes);
    return dp__error(DP_ENOMEM, "volume: out of memory");
  }
  memcpy(v->dim, dim, sizeof v->dim);
  v->dtype = dtype;
  v->ijk_to_ras = ijk_to_ras ? *ijk_to_ras : dp_mat4_identity();
  v->data = data;
  v->storage = (struct dp__storage *)map;
  *out = v;
  return DP_OK;
}

dp_status dp_volume_check(const dp_volume *v) {
  if (!v || !v->storage) return DP_OK;
  return dp__file_map_check((const dp__file_map *)v->storage);
}

int dp_volume_is_mapped(const dp_volume *v) { return v && v->storage != NULL; }

static dp_status new_like(const dp_volume *like, dp_dtype dtype, int zeroed, dp_volume **out) {
  if (!out) return dp__error(DP_EINVAL, "volume: no output pointer");
  *out = NULL;
  if (!like) return dp__error(DP_EINVAL, "volume: no input volume");
  dp_volume *v;
  dp_status s = volume_new(like->dim, dtype, &like->ijk_to_ras, zeroed, &v);
  if (s != DP_OK) return s;
  v->t_step = like->t_step;
  if ((s = dp__meta_copy(like, v)) != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

dp_status dp_volume_new_like(const dp_volume *like, dp_dtype dtype, dp_volume **out) {
  return new_like(like, dtype, 1, out);
}

dp_status dp__volume_new_like_uninit(const dp_volume *like, dp_dtype dtype, dp_volume **out) {
  return new_like(like, dtype, 0, out);
}

dp_status dp_volume_copy(const dp_volume *in, dp_volume **out) {
  dp_status s = dp_volume_new_like(in, in ? in->dtype : DP_DTYPE_NONE, out);
  if (s == DP_OK) memcpy((*out)->data, in->data, dp_volume_nbytes(in));
  return s;
}

int64_t dp_volume_nvox(const dp_volume *v) { return v->dim[0] * v->dim[1] * v->dim[2] * v->dim[3]; }

size_t dp_volume_nbytes(const dp_volume *v) {
  return (size_t)dp_volume_nvox(v) * dp_dtype_size(v->dtype);
}

void dp_volume_spacing(const dp_volume *v, double spacing[3]) {
  dp_affine_spacing(&v->ijk_to_ras, spacing);
}

dp_status dp_volume_axcodes(const dp_volume *v, char code[4]) {
  return dp_affine_axcodes(&v->ijk_to_ras, code);
}

double dp_volume_get(const dp_volume *v, int64_t i) {
  switch (v->dtype) {
#define DP__GET(name, ctype, str) \
  case DP_##name:                 \
    return (double)((const ctype *)v->data)[i];
    DP_DTYPE_MAP(DP__GET)
#undef DP__GET
    default:
      return NAN;
  }
}

/* ---- conversion: the one conversion kernel (convert.h) ---- */

dp_status dp_volume_convert(const dp_volume *in, dp_dtype dtype, dp_volume **out) {
  if (out) *out = NULL;
  if (in && in->dtype == dtype) return dp_volume_copy(in, out);
  dp_volume *v;
  dp_status s = dp__volume_new_like_uninit(in, dtype, &v);
  if (s != DP_OK) return s;
  dp__convert c = {.src = (dp__elem)in->dtype, .swap = 0, .slope = 1.0, .inter = 0.0, .dst = dtype};
  dp__convert_run(&c, in->data, v->data, (size_t)dp_volume_nvox(in), 0, NULL);
  *out = v;
  return DP_OK;
}
