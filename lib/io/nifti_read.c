#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/convert.h"
#include "core/file_map.h"
#include "core/internal.h"
#include "io/gz.h"
#include "io/nifti_header.h"

/* Deflate cannot expand data by more than about 1032:1, so a compressed file
 * far too small for its declared size is refused before allocating. */
#define DP__GZ_MAX_RATIO 1100.0

typedef struct {
  int fd;
  int64_t file_size;
  int gz;
  dp__file_map *map; /* the whole file, when it could be mapped */
  const unsigned char *base;
  unsigned char *comp; /* a .gz file read into memory when it could not be mapped */
} src;

static void src_close(src *f) {
  if (f->fd >= 0) close(f->fd);
  dp__file_map_close(f->map);
  free(f->comp);
  memset(f, 0, sizeof *f);
  f->fd = -1;
}

static dp_status read_at(const src *f, const char *path, void *buf, size_t n, int64_t off, size_t *got) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(f->fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return dp__error(DP_EIO, "%s: read failed: %s", path, strerror(errno));
    if (r == 0) break;
    done += (size_t)r;
  }
  if (got) *got = done;
  else if (done != n) return dp__error(DP_EFORMAT, "%s: truncated while being read", path);
  return DP_OK;
}

static dp_status src_open(src *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) return dp__error(errno == ENOENT ? DP_ENOTFOUND : DP_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    src_close(f);
    return dp__error(DP_EIO, "%s: not a regular file", path);
  }
  f->file_size = st.st_size;
  unsigned char magic[2] = {0, 0};
  size_t got = 0;
  dp_status s = read_at(f, path, magic, 2, 0, &got);
  if (s != DP_OK) {
    src_close(f);
    return s;
  }
  f->gz = dp__gz_is_gzip(magic, got);
  return DP_OK;
}

/* The whole file as bytes: mapped, or (a .gz file that cannot be mapped)
 * read into memory. */
static dp_status src_bytes(src *f, const char *path, const unsigned char **bytes) {
  if (!f->base && !f->comp) {
    dp_status s = dp__file_map_open(f->fd, path, (size_t)f->file_size, &f->map, &f->base);
    if (s == DP_ENOMEM) return s;
    if (s != DP_OK) {
      f->comp = malloc(f->file_size ? (size_t)f->file_size : 1);
      if (!f->comp) return dp__error(DP_ENOMEM, "%s: out of memory", path);
      s = read_at(f, path, f->comp, (size_t)f->file_size, 0, NULL);
      if (s != DP_OK) return s;
    }
  }
  *bytes = f->base ? f->base : f->comp;
  return DP_OK;
}

static dp_status read_header(src *f, const char *path, dp_nifti_info *info) {
  unsigned char buf[DP__NII2_HDR];
  size_t n = 0;
  if (f->gz) {
    /* zlib reads just the start of the stream. */
    int fd = dup(f->fd);
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
    dp_status s = read_at(f, path, buf, sizeof buf, 0, &n);
    if (s != DP_OK) return s;
  }
  dp_status s = dp__nii_decode(buf, n, info);
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

/* ---- the type a file loads as (nifti.h) ---------------------------------- */

static dp__elem raw_elem(int datatype) {
  switch (datatype) {
    case DP__NII_UINT8: return DP__E_U8;
    case DP__NII_INT16: return DP__E_I16;
    case DP__NII_INT32: return DP__E_I32;
    case DP__NII_FLOAT32: return DP__E_F32;
    case DP__NII_FLOAT64: return DP__E_F64;
    case DP__NII_INT8: return DP__E_I8;
    case DP__NII_UINT16: return DP__E_U16;
    case DP__NII_UINT32: return DP__E_U32;
    case DP__NII_INT64: return DP__E_I64;
    default: return DP__E_U64;
  }
}

static int elem_is_int(dp__elem e) { return e != DP__E_F32 && e != DP__E_F64; }

/* The integer type for values in [lo, hi]: the file's own type when it is a
 * volume type and holds them, else the first of i16, u16, i32 that does;
 * DP_DTYPE_NONE when none does. */
static dp_dtype int_type_for(dp__elem raw, double lo, double hi) {
  static const dp_dtype order[] = {DP_I16, DP_U16, DP_I32};
  double tlo, thi;
  if (raw == DP__E_U8 || raw == DP__E_I16 || raw == DP__E_U16 || raw == DP__E_I32) {
    dp_dtype_range((dp_dtype)raw, &tlo, &thi);
    if (lo >= tlo && hi <= thi) return (dp_dtype)raw;
  }
  for (int i = 0; i < 3; i++) {
    dp_dtype_range(order[i], &tlo, &thi);
    if (lo >= tlo && hi <= thi) return order[i];
  }
  return DP_DTYPE_NONE;
}

/* Float type of a mapping that does not stay integer: float64 for sources
 * with more than float32's 24 bits of precision, float32 otherwise. */
static dp_dtype float_type_for(dp__elem raw) {
  return raw == DP__E_F64 || raw == DP__E_I32 || raw == DP__E_U32 || raw == DP__E_I64 ||
                 raw == DP__E_U64
             ? DP_F64
             : DP_F32;
}

/* What loading does: source element, byte order, scaling and the output
 * type (DP_DTYPE_NONE while it depends on the values). */
typedef struct {
  dp__convert c;
  int integer; /* integer source and integer mapping: the output type comes
                  from the values (int_type_for), float only past i32 */
} plan;

static void make_plan(const dp_nifti_info *h, const dp_nifti_read_opts *o, plan *p) {
  int scaled = isfinite(h->scl_slope) && isfinite(h->scl_inter) && h->scl_slope != 0 &&
               !(h->scl_slope == 1 && h->scl_inter == 0);
  int host_big = *(const unsigned char *)&(uint16_t){1} == 0;
  dp__elem e = raw_elem(h->datatype);
  memset(p, 0, sizeof *p);
  p->c.src = e;
  p->c.swap = h->big_endian != host_big;
  p->c.slope = scaled && o->apply_scaling ? h->scl_slope : 1.0;
  p->c.inter = scaled && o->apply_scaling ? h->scl_inter : 0.0;
  p->integer = elem_is_int(e) && p->c.slope == floor(p->c.slope) && p->c.inter == floor(p->c.inter);
  if (p->c.slope == 1 && p->c.inter == 0 && h->dtype != DP_DTYPE_NONE) {
    p->c.dst = h->dtype; /* a volume type as it is */
  } else if (p->integer) {
    /* when the whole range of the source type maps into the first choice
     * of int_type_for, that is the answer; otherwise it depends on the
     * values */
    double tlo = 0, thi = 0;
    switch (e) {
      case DP__E_U8: thi = 255; break;
      case DP__E_I8: tlo = -128; thi = 127; break;
      case DP__E_I16: tlo = -32768; thi = 32767; break;
      case DP__E_U16: thi = 65535; break;
      default: tlo = -1e300; thi = 1e300; break;
    }
    double a = tlo * p->c.slope + p->c.inter, b = thi * p->c.slope + p->c.inter;
    dp_dtype whole = int_type_for(e, fmin(a, b), fmax(a, b));
    p->c.dst = whole == int_type_for(e, 0, 0) ? whole : DP_DTYPE_NONE;
  } else {
    p->c.dst = float_type_for(e);
  }
}

/* The output type an integer plan needs for source values with the given
 * conversion statistics; DP_EUNSUPPORTED for 64-bit values that neither
 * fit i32 nor are exact in a double. */
static dp_status settle_type(plan *p, const dp__convert_stats *st, const char *path) {
  dp_dtype t = st->min <= st->max ? int_type_for(p->c.src, st->min, st->max) : int_type_for(p->c.src, 0, 0);
  if (t == DP_DTYPE_NONE && st->inexact)
    return dp__error(DP_EUNSUPPORTED, "%s: %s values beyond +-2^53 fit neither int32 nor float64 exactly",
                     path, p->c.src == DP__E_I64 ? "int64" : "uint64");
  p->c.dst = t != DP_DTYPE_NONE ? t : float_type_for(p->c.src);
  return DP_OK;
}

/* A volume of `t` with uninitialised data, every voxel about to be written. */
static dp_status new_volume(const dp_nifti_info *h, dp_dtype t, const char *path, dp_volume **out) {
  int64_t dim[4] = {h->dim[0], h->dim[1], h->dim[2], h->dim[3]};
  dp_volume like;
  memset(&like, 0, sizeof like);
  memcpy(like.dim, dim, sizeof dim);
  like.ijk_to_ras = h->affine;
  like.dtype = t;
  dp_status s = dp__volume_new_like_uninit(&like, t, out);
  return s == DP_OK ? DP_OK : dp__error_prefix(s, path);
}

/* dp__convert_run of raw into dst, in slabs of 16 MiB of source when raw is
 * in map: each slab's pages leave the mapping once converted (the page cache
 * keeps them), so the file is not held twice, mapped and converted, at the
 * peak.  The statistics are those of one run. */
static void convert_slabs(const dp__convert *c, const void *raw, void *dst, size_t nvox, int threads,
                          const dp__file_map *map, dp__convert_stats *st) {
  size_t esz = dp__elem_size(c->src), osz = dp_dtype_size(c->dst), slab = ((size_t)16 << 20) / esz;
  if (!map || nvox <= slab) {
    dp__convert_run(c, raw, dst, nvox, threads, st);
    return;
  }
  dp__convert_stats_init(st);
  for (size_t at = 0; at < nvox; at += slab) {
    size_t n = nvox - at < slab ? nvox - at : slab;
    dp__convert_stats part;
    dp__convert_run(c, (const char *)raw + at * esz, (char *)dst + at * osz, n, threads, &part);
    st->min = part.min < st->min ? part.min : st->min;
    st->max = part.max > st->max ? part.max : st->max;
    st->clamped += part.clamped;
    st->nonfinite += part.nonfinite;
    st->inexact += part.inexact;
    dp__file_map_release(map, (const char *)raw + at * esz, n * esz);
  }
}

/* Converts nvox raw elements at raw (the mapped file, or `carrier`'s data)
 * into a new volume by plan p, settling an integer plan's type from the
 * values.  carrier, when not NULL, holds the raw elements and is either
 * converted in place and returned (same element size) or freed. */
static dp_status convert_raw(plan *p, const dp_nifti_info *h, const void *raw, dp_volume *carrier,
                             size_t nvox, int threads, const dp__file_map *map, const char *path,
                             dp_volume **out) {
  dp_status s = DP_OK;
  dp__convert_stats st;
  *out = NULL;
  if (p->c.dst == DP_DTYPE_NONE && carrier) {
    /* in place destroys the raw values: find the range first */
    dp__convert range = p->c;
    range.dst = DP_DTYPE_NONE; /* statistics only */
    dp__convert_run(&range, raw, NULL, nvox, threads, &st);
    if ((s = settle_type(p, &st, path)) != DP_OK) goto fail;
  }
  dp_dtype first = p->c.dst == DP_DTYPE_NONE ? int_type_for(p->c.src, 0, 0) : p->c.dst;
  for (int attempt = 0; attempt < 2; attempt++) {
    dp__convert c = p->c;
    c.dst = first;
    dp_volume *v = NULL;
    if (carrier && dp_dtype_size(first) == dp__elem_size(p->c.src)) {
      v = carrier; /* in place */
      carrier = NULL;
    } else if ((s = new_volume(h, first, path, &v)) != DP_OK) {
      goto fail;
    }
    convert_slabs(&c, raw, v->data, nvox, threads, map, &st);
    v->dtype = first;
    if (map && (s = dp__file_map_check(map)) != DP_OK) {
      dp_volume_free(v);
      goto fail;
    }
    if (p->c.dst != DP_DTYPE_NONE || st.clamped == 0) {
      if (p->c.dst == DP_DTYPE_NONE && (s = settle_type(p, &st, path)) != DP_OK) {
        dp_volume_free(v);
        goto fail;
      }
      dp_volume_free(carrier);
      *out = v;
      return DP_OK;
    }
    /* an optimistic integer type was too narrow (raw still intact: it is
     * the mapped file): once more with the type the values need */
    dp_volume_free(v);
    if ((s = settle_type(p, &st, path)) != DP_OK) goto fail;
    first = p->c.dst;
  }
  s = dp__error(DP_EINVAL, "%s: internal error settling the data type", path);
fail:
  dp_volume_free(carrier);
  return s;
}

/* ---- loading ---------------------------------------------------------------- */

/* Element size of a carrier volume's type for raw elements of size n. */
static dp_dtype carrier_type(size_t n) {
  return n == 1 ? DP_U8 : n == 2 ? DP_I16 : n == 4 ? DP_F32 : DP_F64;
}

static dp_status load_data(src *f, const char *path, const dp_nifti_read_opts *o,
                           const dp_nifti_info *h, dp_volume **out) {
  plan p;
  make_plan(h, o, &p);
  size_t esz = dp__elem_size(p.c.src);
  size_t nvox = (size_t)(h->dim[0] * h->dim[1] * h->dim[2] * h->dim[3]);
  size_t off = (size_t)h->vox_offset, nbytes = nvox * esz;
  int64_t dim[4] = {h->dim[0], h->dim[1], h->dim[2], h->dim[3]};
  const unsigned char *bytes = NULL;
  dp_status s;
  if (!f->gz) {
    s = src_bytes(f, path, &bytes);
    if (s != DP_OK) return s;
    if (f->map) {
      dp__file_map_willneed(f->map, off, nbytes);
      const unsigned char *raw = bytes + off;
      int as_is = (int)p.c.dst == (int)p.c.src && !p.c.swap && p.c.slope == 1 && p.c.inter == 0;
      if (as_is && ((uintptr_t)raw % esz) == 0) {
        /* no conversion: the volume is the mapping itself */
        s = dp__volume_new_mapped(dim, p.c.dst, &h->affine, f->map, (void *)raw, out);
        if (s != DP_OK) return dp__error_prefix(s, path);
        f->map = NULL; /* the volume owns it now */
        f->base = NULL;
        return DP_OK;
      }
      if ((uintptr_t)raw % esz == 0) /* one pass from the mapping to the volume */
        return convert_raw(&p, h, raw, NULL, nvox, o->threads, f->map, path, out);
    }
  }
  /* raw elements read or decompressed into a carrier volume first */
  dp_volume *carrier = NULL;
  s = new_volume(h, carrier_type(esz), path, &carrier);
  if (s != DP_OK) return s;
  if (f->gz) {
    s = src_bytes(f, path, &bytes);
    if (s == DP_OK)
      s = dp__gz_read(bytes, (size_t)f->file_size, off, carrier->data, nbytes, o->threads);
    if (s == DP_OK && f->map) s = dp__file_map_check(f->map);
    if (s != DP_OK) s = dp__error_prefix(s, path);
  } else if (bytes) {
    memcpy(carrier->data, bytes + off, nbytes);
    if (f->map) s = dp__file_map_check(f->map);
  } else {
    s = read_at(f, path, carrier->data, nbytes, (int64_t)off, NULL);
  }
  if (s != DP_OK) {
    dp_volume_free(carrier);
    return s;
  }
  return convert_raw(&p, h, carrier->data, carrier, nvox, o->threads, NULL, path, out);
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
  dp_volume *v = NULL;
  s = load_data(f, path, o, h, &v);
  if (s != DP_OK) return s;
  if (h->ndim >= 4 && h->dim[3] > 1 && h->pixdim[4] > 0 && isfinite(h->pixdim[4]))
    v->t_step = h->pixdim[4] * time_scale(h->xyzt_units);
  int scaled = isfinite(h->scl_slope) && isfinite(h->scl_inter) && h->scl_slope != 0 &&
               !(h->scl_slope == 1 && h->scl_inter == 0);
  if (scaled && !o->apply_scaling) {
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
