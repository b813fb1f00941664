#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"
#include "io/gz.h"
#include "io/nifti_header.h"

/* Deflate cannot expand data by more than about 1032:1, so a compressed file
 * far too small for its declared size is refused before allocating. */
#define DP__GZ_MAX_RATIO 1100.0

typedef struct {
  FILE *fp;
  unsigned char *comp; /* whole compressed image for .gz */
  size_t comp_len;
  int64_t file_size;
  int gz;
} src;

static void src_close(src *f) {
  if (f->fp) fclose(f->fp);
  free(f->comp);
  memset(f, 0, sizeof *f);
}

static dp_status src_open(src *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->fp = fopen(path, "rb");
  if (!f->fp) return dp__error(errno == ENOENT ? DP_ENOTFOUND : DP_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f->fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    src_close(f);
    return dp__error(DP_EIO, "%s: not a regular file", path);
  }
  f->file_size = st.st_size;
  unsigned char magic[2] = {0, 0};
  size_t got = fread(magic, 1, 2, f->fp);
  f->gz = dp__gz_is_gzip(magic, got);
  rewind(f->fp);
  return DP_OK;
}

/* Loads the compressed image of a .gz file into memory. */
static dp_status src_load_gz(src *f, const char *path) {
  if (f->comp) return DP_OK;
  f->comp_len = (size_t)f->file_size;
  f->comp = malloc(f->comp_len ? f->comp_len : 1);
  if (!f->comp) return dp__error(DP_ENOMEM, "%s: out of memory", path);
  rewind(f->fp);
  if (fread(f->comp, 1, f->comp_len, f->fp) != f->comp_len)
    return dp__error(DP_EIO, "%s: read failed", path);
  return DP_OK;
}

static dp_status read_header(src *f, const char *path, dp_nifti_info *info) {
  unsigned char buf[DP__NII2_HDR];
  size_t n = 0;
  dp_status s = DP_OK;
  if (f->gz) {
    /* zlib reads just the start of the stream. */
    int fd = dup(fileno(f->fp));
    gzFile g = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!g) {
      if (fd >= 0) close(fd);
      return dp__error(DP_EIO, "%s: cannot open gzip stream", path);
    }
    int r = gzread(g, buf, sizeof buf);
    gzclose(g);
    if (r < 0) return dp__error(DP_EFORMAT, "%s: corrupt gzip data", path);
    n = (size_t)r;
  } else {
    n = fread(buf, 1, sizeof buf, f->fp);
  }
  s = dp__nii_decode(buf, n, info);
  if (s != DP_OK) return dp__error_prefix(s, path);
  info->gzipped = f->gz;
  return DP_OK;
}

dp_status dp_nifti_read_info(const char *path, dp_nifti_info *info) {
  if (!path || !info) return dp__error(DP_EINVAL, "nifti: no path or info");
  src f;
  dp_status s = src_open(&f, path);
  if (s != DP_OK) return s;
  s = read_header(&f, path, info);
  src_close(&f);
  return s;
}

static void swap_bytes(void *data, size_t nvox, int size) {
  unsigned char *p = data;
  for (size_t i = 0; i < nvox; i++, p += size)
    for (int a = 0, b = size - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

/* Types we load as a wider one: i8 -> i16, u32 -> f64, i64/u64 -> f64 when
 * every value is exact in a double. */
static dp_status widen(const dp_nifti_info *h, const void *raw, size_t nvox, void *dst) {
  switch (h->datatype) {
    case DP__NII_INT8: {
      const int8_t *s = raw;
      int16_t *d = dst;
      for (size_t i = 0; i < nvox; i++) d[i] = s[i];
      return DP_OK;
    }
    case DP__NII_UINT32: {
      const uint32_t *s = raw;
      double *d = dst;
      for (size_t i = 0; i < nvox; i++) d[i] = s[i];
      return DP_OK;
    }
    case DP__NII_INT64: {
      const int64_t *s = raw;
      double *d = dst;
      for (size_t i = 0; i < nvox; i++) {
        if (s[i] > ((int64_t)1 << 53) || s[i] < -((int64_t)1 << 53))
          return dp__error(DP_EUNSUPPORTED, "int64 value %lld is not exact as a double",
                           (long long)s[i]);
        d[i] = (double)s[i];
      }
      return DP_OK;
    }
    case DP__NII_UINT64: {
      const uint64_t *s = raw;
      double *d = dst;
      for (size_t i = 0; i < nvox; i++) {
        if (s[i] > ((uint64_t)1 << 53))
          return dp__error(DP_EUNSUPPORTED, "uint64 value %llu is not exact as a double",
                           (unsigned long long)s[i]);
        d[i] = (double)s[i];
      }
      return DP_OK;
    }
    default:
      return dp__error(DP_EUNSUPPORTED, "datatype %d", h->datatype);
  }
}

static dp_status read_voxels(src *f, const char *path, const dp_nifti_info *h, void *raw,
                             size_t nbytes, int threads) {
  size_t off = (size_t)h->vox_offset;
  if (f->gz) {
    dp_status s = src_load_gz(f, path);
    if (s == DP_OK) s = dp__gz_read(f->comp, f->comp_len, off, raw, nbytes, threads);
    return s == DP_OK ? DP_OK : dp__error_prefix(s, path);
  }
  if (fseeko(f->fp, (off_t)off, SEEK_SET) != 0 || fread(raw, 1, nbytes, f->fp) != nbytes)
    return dp__error(DP_EIO, "%s: read failed: %s", path, strerror(errno));
  return DP_OK;
}

/* Refuses, before anything is allocated, data that the file cannot hold. */
static dp_status check_size(const src *f, const char *path, const dp_nifti_info *h, int tsize) {
  double nbytes = (double)tsize;
  for (int i = 0; i < 4; i++) nbytes *= (double)h->dim[i];
  if (nbytes / tsize > (double)DP_MAX_VOXELS)
    return dp__error(DP_ELIMIT, "%s: %.0f voxels exceed the limit of %lld", path,
                     nbytes / tsize, (long long)DP_MAX_VOXELS);
  double need = h->vox_offset + nbytes, have = (double)f->file_size;
  if (f->gz && need > have * DP__GZ_MAX_RATIO + 65536.0)
    return dp__error(DP_EFORMAT, "%s: truncated (%.0f compressed bytes cannot hold %.0f bytes)",
                     path, have, need);
  if (!f->gz && have < need)
    return dp__error(DP_EFORMAT, "%s: truncated: %.0f bytes, header needs %.0f", path, have, need);
  return DP_OK;
}

static double time_scale(int xyzt_units) {
  switch (xyzt_units & 0x38) {
    case 16: return 1e-3; /* ms */
    case 24: return 1e-6; /* us */
    default: return 1.0;
  }
}

static dp_status apply_scaling(dp_volume **v, double slope, double inter) {
  dp_dtype to = ((*v)->dtype == DP_F64 || (*v)->dtype == DP_I32) ? DP_F64
                                                                            : DP_F32;
  dp_volume *out;
  dp_status s = dp_volume_new_like(*v, to, &out);
  if (s != DP_OK) return s;
  int64_t n = dp_volume_nvox(*v);
  if (to == DP_F64) {
    double *d = out->data;
    for (int64_t i = 0; i < n; i++) d[i] = dp_volume_get(*v, i) * slope + inter;
  } else {
    float *d = out->data;
    for (int64_t i = 0; i < n; i++) d[i] = (float)(dp_volume_get(*v, i) * slope + inter);
  }
  dp_volume_free(*v);
  *v = out;
  return DP_OK;
}

static dp_status load(src *f, const char *path, const dp_nifti_read_opts *o, dp_nifti_info *h,
                      dp_volume **out) {
  dp_status s = read_header(f, path, h);
  if (s != DP_OK) return s;
  for (int i = 4; i < 7; i++)
    if (h->dim[i] != 1)
      return dp__error(DP_EUNSUPPORTED, "%s: %d-D data (dim[%d] = %lld); up to 4-D is supported",
                       path, h->ndim, i + 1, (long long)h->dim[i]);
  int tsize = dp__nii_type_size(h->datatype);
  if (tsize == 0)
    return dp__error(DP_EUNSUPPORTED, "%s: NIfTI datatype %d is not supported", path, h->datatype);
  s = check_size(f, path, h, tsize);
  if (s != DP_OK) return s;
  dp_dtype dt = h->dtype;
  if (dt == DP_DTYPE_NONE) dt = h->datatype == DP__NII_INT8 ? DP_I16 : DP_F64;
  int64_t dim[4] = {h->dim[0], h->dim[1], h->dim[2], h->dim[3]};
  dp_volume *v = NULL;
  s = dp_volume_new(dim, dt, &h->affine, &v);
  if (s != DP_OK) return dp__error_prefix(s, path);
  size_t nvox = (size_t)dp_volume_nvox(v), nbytes = nvox * (size_t)tsize;
  void *raw = v->data;
  if (h->dtype == DP_DTYPE_NONE && !(raw = malloc(nbytes ? nbytes : 1))) {
    dp_volume_free(v);
    return dp__error(DP_ENOMEM, "%s: out of memory", path);
  }
  s = read_voxels(f, path, h, raw, nbytes, o->threads);
  if (s == DP_OK && h->big_endian != (*(const unsigned char *)&(uint16_t){1} == 0))
    swap_bytes(raw, nvox, tsize);
  if (s == DP_OK && raw != v->data) s = dp__error_prefix(widen(h, raw, nvox, v->data), path);
  if (raw != v->data) free(raw);
  if (s == DP_OK && h->ndim >= 4 && h->dim[3] > 1 && h->pixdim[4] > 0 && isfinite(h->pixdim[4]))
    v->t_step = h->pixdim[4] * time_scale(h->xyzt_units);
  int scaled = isfinite(h->scl_slope) && isfinite(h->scl_inter) && h->scl_slope != 0 &&
               !(h->scl_slope == 1 && h->scl_inter == 0);
  if (s == DP_OK && scaled && o->apply_scaling) {
    s = apply_scaling(&v, h->scl_slope, h->scl_inter);
  } else if (s == DP_OK && scaled) {
    s = dp_volume_meta_set_num(v, "nifti_scl_slope", h->scl_slope);
    if (s == DP_OK) s = dp_volume_meta_set_num(v, "nifti_scl_inter", h->scl_inter);
  }
  if (s == DP_OK && h->descrip[0]) s = dp_volume_meta_set_str(v, "nifti_descrip", h->descrip);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

dp_status dp_nifti_read(const char *path, const dp_nifti_read_opts *opts, dp_volume **out,
                        dp_nifti_info *info) {
  if (out) *out = NULL;
  if (!path || !out) return dp__error(DP_EINVAL, "nifti: no path or output");
  dp_nifti_read_opts o = DP_NIFTI_READ_OPTS_INIT;
  if (opts) o = *opts;
  dp_nifti_info h;
  src f;
  dp_status s = src_open(&f, path);
  if (s != DP_OK) return s;
  s = load(&f, path, &o, &h, out);
  src_close(&f);
  if (s == DP_OK && info) *info = h;
  return s;
}
