#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/convert.h"
#include "core/internal.h"
#include "dicom/dcmtk/header_read.h"
#include "dicom/dcmtk/pixel_decode.h"
#include "dicom/restack.h"
#include "dicom/set.h"

/* Stored-value range of an image (BitsStored, sign). */
static void stored_range(const dp__slice *s, double *lo, double *hi) {
  if (s->pixel_rep) {
    *lo = -ldexp(1, s->bits_stored - 1);
    *hi = ldexp(1, s->bits_stored - 1) - 1;
  } else {
    *lo = 0;
    *hi = ldexp(1, s->bits_stored) - 1;
  }
}

/* Projection modalities, where MONOCHROME1 is inverted so that larger means
 * denser; quantitative modalities (CT, MR, PT, NM, ...) never are. */
static int inverts(const dp__slice *s) {
  static const char *const proj[] = {"CR", "DX", "MG", "RF", "XA", "IO", "PX", "DR", NULL};
  if (strcmp(s->photometric, "MONOCHROME1") != 0) return 0;
  for (int i = 0; proj[i]; i++)
    if (strcmp(s->modality, proj[i]) == 0) return 1;
  return 0;
}

/* The output type: modality values exactly (see dicom.h). */
static dp_dtype output_type(const dp__group *g, const dp__slice *sl) {
  const dp__slice *f = &sl[g->idx[0]];
  if (f->float_pixels) return DP_F32;
  int identity = 1, integer = 1;
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < g->n; i++) {
    const dp__slice *s = &sl[g->idx[i]];
    identity &= s->slope == 1 && s->intercept == 0;
    integer &= s->slope == floor(s->slope) && s->intercept == floor(s->intercept);
    double a, b;
    stored_range(s, &a, &b);
    double x = a * s->slope + s->intercept, y = b * s->slope + s->intercept;
    lo = fmin(lo, fmin(x, y));
    hi = fmax(hi, fmax(x, y));
  }
  if (identity) {
    if (f->bits_alloc == 8) return f->pixel_rep ? DP_I16 : DP_U8;
    if (f->bits_alloc == 16) return f->pixel_rep ? DP_I16 : DP_U16;
    return f->pixel_rep ? DP_I32 : DP_F64;
  }
  /* Exact integer mappings are loaded as int16 when the actual values fit
   * (checked while decoding; the load is redone as float32 otherwise). */
  (void)lo;
  (void)hi;
  return integer ? DP_I16 : DP_F32;
}

typedef struct {
  const dp_dicom_set *set;
  const dp__group *g;
  int *order;      /* image positions in the group, sorted by file */
  int *file_start; /* runs of `order` with the same file */
  int nfiles;
  dp_volume *v;
  size_t plane;    /* voxels per slice */
  atomic_int overflow; /* a value did not fit the (optimistic) int16 output */
} load_ctx;

static double sample(const dp__dcm_pixels *p, const dp__slice *s, size_t idx) {
  if (p->is_float) return ((const float *)p->data)[idx];
  uint32_t raw;
  if (p->bits_alloc == 8) raw = ((const uint8_t *)p->data)[idx];
  else if (p->bits_alloc == 16) raw = ((const uint16_t *)p->data)[idx];
  else raw = ((const uint32_t *)p->data)[idx];
  int shift = s->high_bit + 1 - s->bits_stored;
  if (shift < 0 || shift > 31) shift = 0;
  raw >>= shift;
  uint32_t mask = s->bits_stored >= 32 ? 0xffffffffu : ((1u << s->bits_stored) - 1u);
  raw &= mask;
  if (s->pixel_rep && s->bits_stored < 32 && (raw >> (s->bits_stored - 1)) & 1u)
    return (double)(int64_t)((uint64_t)raw | ~(uint64_t)mask); /* sign-extend */
  if (s->pixel_rep && s->bits_stored == 32) return (double)(int32_t)raw;
  return (double)raw;
}

/* A colour image as luminance (asked for with --all): RGB by ITU-R BT.601
 * weights, YBR_FULL by its Y component (the same quantity); rounded. */
static void load_colour(load_ctx *c, const dp__dcm_pixels *px, const dp__slice *x, size_t base,
                        size_t slot) {
  int rgb = strcmp(px->photometric, "RGB") == 0;
  size_t off = px->planar ? c->plane : 1; /* from one sample to the next */
  for (size_t i = 0; i < c->plane; i++) {
    size_t r = base + (px->planar ? i : 3 * i);
    double v = sample(px, x, r);
    if (rgb) v = 0.299 * v + 0.587 * sample(px, x, r + off) + 0.114 * sample(px, x, r + 2 * off);
    v = floor(v + 0.5);
    size_t o = slot + i;
    if (c->v->dtype == DP_U8) ((uint8_t *)c->v->data)[o] = (uint8_t)v;
    else ((uint16_t *)c->v->data)[o] = (uint16_t)v;
  }
}

/* The common case, through the conversion kernel's integer path (convert.h):
 * 8- or 16-bit stored values, one sample, no mosaic, no inversion, an
 * integer rescale and an integer output of at most 16 bits.  Every step is
 * exact in int32 for the bounds checked here (|stored| < 2^16, |slope| <=
 * 2^14, |intercept| <= 2^30), so the values are those of the generic loop;
 * int16 overflow shows as clamped values. */
static int load_plane_int(load_ctx *c, const dp__dcm_pixels *px, const dp__slice *x, size_t base,
                          size_t slot) {
  dp_dtype ot = c->v->dtype;
  if (px->is_float || (px->bits_alloc != 8 && px->bits_alloc != 16) || x->samples > 1 ||
      x->mosaic || inverts(x) || (ot != DP_U8 && ot != DP_I16 && ot != DP_U16))
    return 0;
  if (x->bits_stored < 1 || x->bits_stored > 16) return 0;
  if (!(x->slope == floor(x->slope) && fabs(x->slope) <= 16384 &&
        x->intercept == floor(x->intercept) && fabs(x->intercept) <= 1073741824.0))
    return 0;
  int high = x->high_bit; /* a shift outside 0..31 counts as 0, as in sample() */
  int shift = x->high_bit + 1 - x->bits_stored;
  if (shift < 0 || shift > 31) high = x->bits_stored - 1;
  dp__convert cv = {.src = px->bits_alloc == 8 ? DP__E_U8 : DP__E_U16,
                    .slope = x->slope,
                    .inter = x->intercept,
                    .dst = ot,
                    .stored_bits = x->bits_stored,
                    .high_bit = high,
                    .is_signed = x->pixel_rep != 0};
  dp__convert_stats st;
  dp__convert_stats_init(&st);
  const unsigned char *src = (const unsigned char *)px->data + base * (size_t)(px->bits_alloc / 8);
  dp__convert_chunk(&cv, src, (char *)c->v->data + slot * dp_dtype_size(ot), c->plane, &st);
  if (ot == DP_I16 && st.clamped) atomic_store(&c->overflow, 1);
  return 1;
}

static dp_status load_file(void *vctx, int64_t fi) {
  load_ctx *c = vctx;
  const dp__slice *sl = c->set->slices;
  int first = c->order[c->file_start[fi]];
  const dp__slice *f = &sl[c->g->idx[first]];
  dp__dcm_pixels px;
  dp_status s = dp__dcm_read_pixels(f->path, f, &px);
  if (s != DP_OK) return s;
  double tlo, thi;
  dp_dtype_range(c->v->dtype, &tlo, &thi);
  for (int r = c->file_start[fi]; r < c->file_start[fi + 1]; r++) {
    int pos = c->order[r];
    const dp__slice *x = &sl[c->g->idx[pos]];
    int z = pos / c->g->nt, t = pos % c->g->nt;
    size_t slot = ((size_t)t * (size_t)c->g->nz + (size_t)z) * c->plane;
    size_t base = (size_t)x->frame * c->plane * (size_t)(x->samples > 0 ? x->samples : 1);
    size_t stored_plane = c->plane; /* samples of the stored image (a whole mosaic) */
    size_t across = 0;              /* mosaic: stored row length; 0 otherwise */
    if (x->mosaic) {
      size_t per_row = (size_t)(x->mosaic_cols / x->cols);
      across = (size_t)x->mosaic_cols;
      stored_plane = (size_t)x->mosaic_rows * across;
      base = (size_t)(x->mosaic_tile / (int)per_row) * (size_t)x->rows * across +
             (size_t)(x->mosaic_tile % (int)per_row) * (size_t)x->cols;
    }
    size_t nsamp = (size_t)(x->samples > 0 ? x->samples : 1);
    if ((x->mosaic ? stored_plane : base + c->plane * nsamp) * (size_t)(px.is_float ? 4 : px.bits_alloc / 8) >
        px.nbytes) {
      dp__dcm_pixels_free(&px);
      return dp__error(DP_EFORMAT, "%s: frame %d missing from the pixel data", x->path, x->frame);
    }
    if (x->samples == 3) {
      if (strcmp(px.photometric, "RGB") != 0 && strcmp(px.photometric, "YBR_FULL") != 0) {
        dp__dcm_pixels_free(&px);
        return dp__error(DP_EUNSUPPORTED, "%s: colour as %s is not converted (RGB and YBR_FULL are)",
                         x->path, px.photometric);
      }
      load_colour(c, &px, x, base, slot);
      continue;
    }
    if (load_plane_int(c, &px, x, base, slot)) continue;
    double lo, hi;
    stored_range(x, &lo, &hi);
    int inv = inverts(x);
    size_t cols = (size_t)x->cols;
    for (size_t i = 0; i < c->plane; i++) {
      size_t src = across ? base + (i / cols) * across + i % cols : base + i;
      double v = sample(&px, x, src);
      if (inv) v = lo + hi - v;
      v = v * x->slope + x->intercept;
      size_t o = slot + i;
      switch (c->v->dtype) {
        case DP_U8: ((uint8_t *)c->v->data)[o] = (uint8_t)v; break;
        case DP_I16:
          if (v < -32768 || v > 32767) atomic_store(&c->overflow, 1);
          ((int16_t *)c->v->data)[o] = (int16_t)v;
          break;
        case DP_U16: ((uint16_t *)c->v->data)[o] = (uint16_t)v; break;
        case DP_I32: ((int32_t *)c->v->data)[o] = (int32_t)v; break;
        case DP_F32: ((float *)c->v->data)[o] = (float)v; break;
        default: ((double *)c->v->data)[o] = v; break;
      }
    }
  }
  dp__dcm_pixels_free(&px);
  return DP_OK;
}

typedef struct {
  const char *path;
  int pos;
} by_file;

static int cmp_by_file(const void *a, const void *b) {
  const by_file *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c ? c : x->pos - y->pos;
}

/* A damaged header can declare any size: uncompressed pixel data must fit in
 * the file, which stat() shows before anything is allocated for it. */
static dp_status check_declared_sizes(const dp_dicom_set *set, const dp__group *g) {
  for (int i = 0; i < g->n; i++) {
    const dp__slice *x = &set->slices[g->idx[i]];
    if (x->frame != 0 || x->mosaic_tile > 0) continue; /* once per file */
    if (strcmp(x->ts_uid, "1.2.840.10008.1.2") && strcmp(x->ts_uid, "1.2.840.10008.1.2.1") &&
        strcmp(x->ts_uid, "1.2.840.10008.1.2.2"))
      continue; /* compressed (or deflated): the stream's size says nothing */
    double rows = x->mosaic ? x->mosaic_rows : x->rows, cols = x->mosaic ? x->mosaic_cols : x->cols;
    double need = rows * cols * x->file_frames * (x->samples > 0 ? x->samples : 1) *
                  (x->float_pixels ? 4 : x->bits_alloc / 8);
    struct stat st;
    if (stat(x->path, &st) == 0 && (double)st.st_size < need)
      return dp__error(DP_EFORMAT,
                       "%s: pixel data truncated (the file has %lld bytes; Rows %d x Columns %d x "
                       "%d frames need %.0f)",
                       x->path, (long long)st.st_size, (int)rows, (int)cols, x->file_frames, need);
  }
  return DP_OK;
}

/* Decodes every image of g into a stack volume (cols, rows, nz, nt) on the
 * grid as sampled. */
static dp_status load_stack_as(const dp_dicom_set *set, const dp__group *g, int threads,
                               dp_dtype type, dp_volume **out) {
  const dp__slice *f = &set->slices[g->idx[0]];
  dp_status s0 = check_declared_sizes(set, g);
  if (s0 != DP_OK) return s0;
  if (g->nz * g->nt != g->n)
    return dp__error(DP_EGEOMETRY, "series %s: %d images do not form %d positions x %d volumes",
                     f->series_uid, g->n, g->nz, g->nt);
  for (int i = 0; i < g->n; i++) {
    const dp__slice *x = &set->slices[g->idx[i]];
    if (x->bits_alloc != f->bits_alloc || x->pixel_rep != f->pixel_rep || x->samples != f->samples)
      return dp__error(DP_EUNSUPPORTED, "%s: pixel format differs within the series", x->path);
    if (x->samples != 1 && (x->samples != 3 || x->bits_alloc > 16 || x->float_pixels))
      return dp__error(DP_EUNSUPPORTED, "%s: %d samples per pixel (%s) are not converted", x->path,
                       x->samples, x->photometric);
  }
  dp_mat4 ras = dp_mat4_identity();
  if (g->geometry_ok) {
    dp__series_ras_affine(g, set->slices, &ras);
  } else { /* nominal grid (dp_dicom_load_opts.nominal_geometry) */
    int sp = f->has_spacing && f->spacing[0] > 0 && f->spacing[1] > 0 && isfinite(f->spacing[0]) &&
             isfinite(f->spacing[1]);
    ras.m[0][0] = -(sp ? f->spacing[1] : 1.0);
    ras.m[1][1] = -(sp ? f->spacing[0] : 1.0);
  }
  int64_t dim[4] = {f->cols, f->rows, g->nz, g->nt};
  dp_volume *v = NULL;
  dp_status s = dp_volume_new(dim, type, &ras, &v);
  if (s != DP_OK) return s;
  load_ctx c = {set, g, NULL, NULL, 0, v, (size_t)f->cols * (size_t)f->rows, 0};
  c.order = malloc((size_t)g->n * sizeof *c.order);
  c.file_start = malloc(((size_t)g->n + 1) * sizeof *c.file_start);
  if (!c.order || !c.file_start) {
    s = dp__error(DP_ENOMEM, "out of memory");
  } else {
    by_file *bf = malloc((size_t)g->n * sizeof *bf);
    if (!bf) {
      s = dp__error(DP_ENOMEM, "out of memory");
    } else {
      for (int i = 0; i < g->n; i++) {
        bf[i].path = set->slices[g->idx[i]].path;
        bf[i].pos = i;
      }
      qsort(bf, (size_t)g->n, sizeof *bf, cmp_by_file);
      for (int i = 0; i < g->n; i++) {
        c.order[i] = bf[i].pos;
        if (i == 0 || strcmp(bf[i].path, bf[i - 1].path) != 0) c.file_start[c.nfiles++] = i;
      }
      c.file_start[c.nfiles] = g->n;
      free(bf);
      s = dp__parallel_for(c.nfiles, threads, load_file, &c);
    }
  }
  free(c.order);
  free(c.file_start);
  if (s == DP_OK && atomic_load(&c.overflow)) s = DP_ERANGE;
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}

static dp_status load_stack(const dp_dicom_set *set, const dp__group *g, int threads,
                            dp_volume **out) {
  dp_dtype t = output_type(g, set->slices);
  dp_status s = load_stack_as(set, g, threads, t, out);
  if (s == DP_ERANGE && t == DP_I16) s = load_stack_as(set, g, threads, DP_F32, out);
  return s;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct files behind a group (multi-frame files and mosaics count once);
 * -1 when out of memory. */
static int files_used(const dp_dicom_set *set, const dp__group *g) {
  const char **p = malloc((size_t)g->n * sizeof *p);
  if (!p) return -1;
  for (int k = 0; k < g->n; k++) p[k] = set->slices[g->idx[k]].path;
  qsort(p, (size_t)g->n, sizeof *p, cmp_path);
  int n = 0;
  for (int k = 0; k < g->n; k++) n += k == 0 || strcmp(p[k], p[k - 1]) != 0;
  free(p);
  return n;
}

static dp_status record(dp_volume *v, const dp_dicom_set *set, const dp__group *g,
                        const dp_dicom_load_opts *o, const char *resampled) {
  const dp__slice *f = &set->slices[g->idx[0]];
  dp_status s = dp__dcm_read_meta(f->path, f->frame, v, o->keep_phi);
  char buf[256];
  if (s == DP_OK) s = dp_volume_meta_set_num(v, "SliceStepMeasured", g->step);
  if (s == DP_OK && g->tilt_deg > 0) s = dp_volume_meta_set_num(v, "GantryTiltMeasured", g->tilt_deg);
  if (s == DP_OK && g->tilt_deg > 0)
    s = dp_volume_meta_set_str(v, "TiltHandling", o->tilt == DP_TILT_KEEP ? "kept (sheared affine)" : "resliced onto a rectangular grid");
  if (s == DP_OK && g->uneven) s = dp_volume_meta_set_num(v, "MissingSlices", g->missing);
  if (s == DP_OK && resampled) s = dp_volume_meta_set_str(v, "Resampled", resampled);
  if (s == DP_OK && !g->geometry_ok)
    s = dp_volume_meta_set_str(v, "GeometryNominal", g->warnings[0] ? g->warnings : "no usable geometry");
  if (s == DP_OK && f->samples == 3)
    s = dp_volume_meta_set_str(v, "ColourConverted", "to luminance: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded");
  if (s == DP_OK && inverts(f)) s = dp_volume_meta_set_str(v, "PhotometricInversion", "MONOCHROME1 inverted so that larger values are denser");
  if (s == DP_OK) s = dp_volume_meta_set_num(v, "ImagesUsed", g->n);
  if (s == DP_OK) s = dp_volume_meta_set_num(v, "FilesUsed", files_used(set, g));
  /* Rescale: the first image's, and whether it varies (it is applied per
   * image, so the volume holds modality values either way). */
  int varies = 0;
  for (int k = 1; k < g->n; k++) {
    const dp__slice *x = &set->slices[g->idx[k]];
    varies |= x->slope != f->slope || x->intercept != f->intercept;
  }
  if (s == DP_OK) s = dp_volume_meta_set_num(v, "RescaleSlope", f->slope);
  if (s == DP_OK) s = dp_volume_meta_set_num(v, "RescaleIntercept", f->intercept);
  if (s == DP_OK && varies) s = dp_volume_meta_set_str(v, "RescaleVaries", "per image (applied per image)");
  if (s == DP_OK && f->mosaic) s = dp_volume_meta_set_num(v, "MosaicImages", f->mosaic);
  if (s == DP_OK && f->image_type[0]) s = dp_volume_meta_set_str(v, "ImageTypeOfVolume", f->image_type);
  double sp[3];
  char code[4] = "";
  dp_volume_spacing(v, sp);
  dp_volume_axcodes(v, code);
  snprintf(buf, sizeof buf, "[%.17g, %.17g, %.17g]", sp[0], sp[1], sp[2]);
  if (s == DP_OK) s = dp_volume_meta_set_json(v, "VoxelSpacing", buf);
  if (s == DP_OK) s = dp_volume_meta_set_str(v, "OrientationCode", code);
  if (s == DP_OK && g->warnings[0]) s = dp_volume_meta_set_str(v, "ConversionWarnings", g->warnings);
  snprintf(buf, sizeof buf, "%s", f->ts_uid);
  if (s == DP_OK) s = dp_volume_meta_set_str(v, "TransferSyntaxUID", buf);
  return s;
}

dp_status dp_dicom_load(const dp_dicom_set *set, int i, const dp_dicom_load_opts *opts,
                        dp_volume ***out, int *nout) {
  if (out) *out = NULL;
  if (nout) *nout = 0;
  if (!set || !out || !nout || i < 0 || i >= set->ngroups)
    return dp__error(DP_EINVAL, "no series %d", i);
  dp_dicom_load_opts o = DP_DICOM_LOAD_OPTS_INIT;
  if (opts) o = *opts;
  const dp__group *g = &set->groups[i];
  const dp__slice *f = &set->slices[g->idx[0]];
  if (!g->geometry_ok && (!o.nominal_geometry || g->dups))
    return dp__error(DP_EGEOMETRY, "series %d (%s): %s", f->series_number, f->series_uid,
                     g->warnings[0] ? g->warnings : "no usable geometry");
  if (g->uneven && o.uneven == DP_UNEVEN_ERROR)
    return dp__error(DP_EGEOMETRY, "series %d: uneven slice spacing (%s)", f->series_number, g->warnings);
  dp_volume *stack = NULL;
  dp_status s = load_stack(set, g, o.threads, &stack);
  if (s != DP_OK) return s;
  int need_tilt = g->tilt_deg > 0 && o.tilt == DP_TILT_RESLICE;
  int need_even = g->uneven && o.uneven == DP_UNEVEN_RESAMPLE;
  dp_volume **vols = NULL;
  int nv = 0;
  const char *what = NULL;
  if (g->uneven && o.uneven == DP_UNEVEN_SPLIT) {
    s = dp__restack_split(stack, g, set->slices, need_tilt, o.threads, &vols, &nv);
    what = need_tilt ? "split into runs of equal spacing, tilt resliced" : NULL;
  } else if (need_tilt || need_even) {
    vols = calloc(1, sizeof *vols);
    nv = 1;
    if (!vols) s = dp__error(DP_ENOMEM, "out of memory");
    else s = dp__restack(stack, g, set->slices, 0, g->nz, need_tilt, o.threads, &vols[0]);
    what = need_tilt && need_even ? "tilt resliced and slices resampled to uniform spacing (linear)"
           : need_tilt            ? "tilt resliced onto a rectangular grid (linear)"
                                  : "slices resampled to uniform spacing (linear)";
  } else {
    vols = calloc(1, sizeof *vols);
    nv = 1;
    if (!vols) s = dp__error(DP_ENOMEM, "out of memory");
    else {
      vols[0] = stack;
      stack = NULL;
    }
  }
  dp_volume_free(stack);
  for (int k = 0; s == DP_OK && k < nv; k++) s = record(vols[k], set, g, &o, what);
  if (s != DP_OK) {
    for (int k = 0; vols && k < nv; k++) dp_volume_free(vols[k]);
    free(vols);
    return s;
  }
  if (g->tilt_deg > 0 || g->uneven)
    dp__log(DP_LOG_WARN, "series %d: %s%s%s", f->series_number, g->warnings,
            what ? "; " : "", what ? what : "");
  *out = vols;
  *nout = nv;
  return DP_OK;
}
