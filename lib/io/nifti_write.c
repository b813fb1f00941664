#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_map.h"
#include "core/internal.h"
#include "dcmprep/version.h"
#include "io/atomic_file.h"
#include "io/gz.h"
#include "io/nifti_header.h"

static int nifti_type(dp_dtype t) {
  switch (t) {
    case DP_U8: return DP__NII_UINT8;
    case DP_I16: return DP__NII_INT16;
    case DP_U16: return DP__NII_UINT16;
    case DP_I32: return DP__NII_INT32;
    case DP_F32: return DP__NII_FLOAT32;
    case DP_F64: return DP__NII_FLOAT64;
    default: return 0;
  }
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Header fields for a volume; the caller encodes them. */
static dp_status fill_header(const dp_volume *v, const dp_nifti_write_opts *o,
                             dp_nifti_info *h) {
  memset(h, 0, sizeof *h);
  h->datatype = nifti_type(v->dtype);
  if (!h->datatype || !v->data) return dp__error(DP_EINVAL, "nifti: volume has no data");
  int big = 0;
  for (int i = 0; i < 4; i++) {
    if (v->dim[i] < 1) return dp__error(DP_EINVAL, "nifti: bad dimension %lld", (long long)v->dim[i]);
    if (v->dim[i] > 32767) big = 1;
  }
  if (o->version == 1 && big)
    return dp__error(DP_ERANGE, "nifti: a dimension exceeds 32767, which NIfTI-1 cannot store");
  if (o->version < 0 || o->version > 2) return dp__error(DP_EINVAL, "nifti: version %d", o->version);
  h->version = o->version ? o->version : big ? 2 : 1;
  dp_mat4 inv;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      if (!isfinite(v->ijk_to_ras.m[i][j])) return dp__error(DP_EGEOMETRY, "nifti: affine is not finite");
      else if (h->version == 1 && fabs(v->ijk_to_ras.m[i][j]) > FLT_MAX)
        return dp__error(DP_EGEOMETRY, "nifti: affine entry %g does not fit NIfTI-1's float32 (use NIfTI-2)",
                         v->ijk_to_ras.m[i][j]);
  if (dp_mat4_inverse(v->ijk_to_ras, &inv) != DP_OK)
    return dp__error(DP_EGEOMETRY, "nifti: the affine is singular");
  h->ndim = v->dim[3] > 1 ? 4 : 3;
  for (int i = 0; i < 7; i++) h->dim[i] = i < 4 ? v->dim[i] : 1;
  double sp[3];
  dp_affine_spacing(&v->ijk_to_ras, sp);
  h->pixdim[0] = 1;
  for (int i = 0; i < 3; i++) h->pixdim[i + 1] = sp[i];
  h->pixdim[4] = v->t_step > 0 ? v->t_step : 0;
  h->xyzt_units = 2 | 8; /* NIFTI_UNITS_MM | NIFTI_UNITS_SEC */
  h->scl_slope = o->scl_slope;
  h->scl_inter = o->scl_slope != 0 ? o->scl_inter : 0;
  h->cal_min = o->cal_min;
  h->cal_max = o->cal_max;
  if (o->descrip)
    snprintf(h->descrip, sizeof h->descrip, "%.79s", o->descrip);
  else
    snprintf(h->descrip, sizeof h->descrip, "dcmprep %s", dp_version());
  h->qform_code = 1; /* NIFTI_XFORM_SCANNER_ANAT */
  h->sform_code = 1;
  h->qform = v->ijk_to_ras;
  h->sform = v->ijk_to_ras;
  return DP_OK;
}

dp_status dp_nifti_write(const dp_volume *v, const char *path, const dp_nifti_write_opts *opts) {
  if (!v || !path) return dp__error(DP_EINVAL, "nifti: no volume or path");
  dp_nifti_write_opts o = DP_NIFTI_WRITE_OPTS_INIT;
  if (opts) o = *opts;
  dp_nifti_info h;
  dp_status s = fill_header(v, &o, &h);
  if (s != DP_OK) return dp__error_prefix(s, path);
  unsigned char hdr[544];
  size_t hlen = dp__nii_encode(&h, hdr);
  int gz = o.gzip < 0 ? ends_with(path, ".gz") : o.gzip;

  dp__atomic_file af;
  s = dp__atomic_open(&af, path);
  if (s != DP_OK) return s;
  af.durable = o.durable;
  if (gz) {
    const void *parts[2] = {hdr, v->data};
    size_t sizes[2] = {hlen, dp_volume_nbytes(v)};
    s = dp__gz_write(&af, parts, sizes, 2, o.level, o.threads);
  } else {
    /* data written by the kernel straight from a file mapping: map it all
     * first (dp__file_map_populate) */
    if (v->storage) dp__file_map_populate((const dp__file_map *)v->storage);
    s = dp__atomic_write(&af, hdr, hlen);
    if (s == DP_OK) s = dp__atomic_write(&af, v->data, dp_volume_nbytes(v));
  }
  /* a volume mapped from a file that changed while it was copied out is
   * not written (dp_volume_check) */
  if (s == DP_OK) s = dp_volume_check(v);
  if (s != DP_OK) {
    dp__atomic_abort(&af);
    return s;
  }
  return dp__atomic_commit(&af);
}

/* ---- a volume written as it is computed ------------------------------------------ */

enum { GEN_CHUNK = 4 << 20 }; /* bytes per generated piece */

typedef struct {
  dp__voxel_gen_fn gen;
  void *ctx;
  unsigned char **buf;
  int64_t first, per, total; /* voxels: first of the batch, per piece, all */
  size_t esize;
} gen_ctx;

static dp_status gen_piece(void *vctx, int64_t k) {
  const gen_ctx *g = vctx;
  int64_t start = g->first + k * g->per;
  if (start >= g->total) return DP_OK;
  int64_t n = g->total - start < g->per ? g->total - start : g->per;
  g->gen(g->ctx, start, n, g->buf[k]);
  return DP_OK;
}

dp_status dp__nifti_write_gen(const dp_volume *like, dp_dtype dtype, dp__voxel_gen_fn gen, void *ctx,
                              const char *path, const dp_nifti_write_opts *opts) {
  if (!like || !gen || !path) return dp__error(DP_EINVAL, "nifti: no volume, generator or path");
  dp_nifti_write_opts o = DP_NIFTI_WRITE_OPTS_INIT;
  if (opts) o = *opts;
  if (o.gzip > 0 || (o.gzip < 0 && ends_with(path, ".gz")))
    return dp__error(DP_EUNSUPPORTED, "%s: a computed volume is written uncompressed only", path);
  dp_volume shape = *like; /* the header of a volume of this grid and type */
  shape.dtype = dtype;
  dp_nifti_info h;
  dp_status s = fill_header(&shape, &o, &h);
  if (s != DP_OK) return dp__error_prefix(s, path);
  unsigned char hdr[544];
  size_t hlen = dp__nii_encode(&h, hdr);
  dp__atomic_file af;
  s = dp__atomic_open(&af, path);
  if (s != DP_OK) return s;
  af.durable = o.durable;
  s = dp__atomic_write(&af, hdr, hlen);
  /* pieces computed in parallel, a batch at a time, written in order */
  int nw = dp__threads(o.threads);
  gen_ctx g = {gen, ctx, calloc((size_t)nw, sizeof *g.buf), 0, 0, dp_volume_nvox(like), dp_dtype_size(dtype)};
  g.per = (int64_t)(GEN_CHUNK / g.esize);
  if (!g.buf) s = dp__error(DP_ENOMEM, "out of memory");
  for (int k = 0; s == DP_OK && k < nw; k++)
    if (!(g.buf[k] = malloc(GEN_CHUNK))) s = dp__error(DP_ENOMEM, "out of memory");
  for (g.first = 0; s == DP_OK && g.first < g.total; g.first += (int64_t)nw * g.per) {
    s = dp__parallel_for(nw, nw, gen_piece, &g);
    for (int k = 0; s == DP_OK && k < nw; k++) {
      int64_t start = g.first + k * g.per;
      if (start >= g.total) break;
      int64_t n = g.total - start < g.per ? g.total - start : g.per;
      s = dp__atomic_write(&af, g.buf[k], (size_t)n * g.esize);
    }
  }
  for (int k = 0; g.buf && k < nw; k++) free(g.buf[k]);
  free(g.buf);
  /* computed from a mapped file that changed meanwhile: not written */
  if (s == DP_OK) s = dp_volume_check(like);
  if (s != DP_OK) {
    dp__atomic_abort(&af);
    return s;
  }
  return dp__atomic_commit(&af);
}
