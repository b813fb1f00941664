#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "io/nifti_header.h"

/* ---- byte-order-aware field access ------------------------------------- */

typedef struct {
  const unsigned char *p;
  int swap;
} rd;

static void getb(const rd *r, size_t off, void *dst, size_t n) {
  unsigned char *d = dst;
  if (!r->swap) {
    memcpy(d, r->p + off, n);
  } else {
    for (size_t i = 0; i < n; i++) d[i] = r->p[off + n - 1 - i];
  }
}
static int16_t g16(const rd *r, size_t off) { int16_t v; getb(r, off, &v, 2); return v; }
static int32_t g32(const rd *r, size_t off) { int32_t v; getb(r, off, &v, 4); return v; }
static int64_t g64(const rd *r, size_t off) { int64_t v; getb(r, off, &v, 8); return v; }
static double gf(const rd *r, size_t off) { float v; getb(r, off, &v, 4); return v; }
static double gd(const rd *r, size_t off) { double v; getb(r, off, &v, 8); return v; }

static void p16(unsigned char *b, size_t off, int16_t v) { memcpy(b + off, &v, 2); }
static void p32(unsigned char *b, size_t off, int32_t v) { memcpy(b + off, &v, 4); }
static void p64(unsigned char *b, size_t off, int64_t v) { memcpy(b + off, &v, 8); }
static void pf(unsigned char *b, size_t off, double v) { float f = (float)v; memcpy(b + off, &f, 4); }
static void pd(unsigned char *b, size_t off, double v) { memcpy(b + off, &v, 8); }

static uint32_t bswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

int dp__nii_type_size(int datatype) {
  switch (datatype) {
    case DP__NII_UINT8: case DP__NII_INT8: return 1;
    case DP__NII_INT16: case DP__NII_UINT16: return 2;
    case DP__NII_INT32: case DP__NII_UINT32: case DP__NII_FLOAT32: return 4;
    case DP__NII_FLOAT64: case DP__NII_INT64: case DP__NII_UINT64: return 8;
    default: return 0;
  }
}

static dp_dtype dtype_of(int datatype) {
  switch (datatype) {
    case DP__NII_UINT8: return DP_U8;
    case DP__NII_INT16: return DP_I16;
    case DP__NII_UINT16: return DP_U16;
    case DP__NII_INT32: return DP_I32;
    case DP__NII_FLOAT32: return DP_F32;
    case DP__NII_FLOAT64: return DP_F64;
    default: return DP_DTYPE_NONE;
  }
}

/* ---- quaternions (NIfTI-1 qform) --------------------------------------- */

dp_mat4 dp__nii_quatern_to_affine(const double quat[3], const double offset[3], double qfac,
                                  const double pixdim[3]) {
  double b = quat[0], c = quat[1], d = quat[2];
  double a = 1.0 - (b * b + c * c + d * d);
  if (a < 1e-7) { /* numerically 180 degrees: renormalise (b, c, d) */
    double s = sqrt(b * b + c * c + d * d);
    if (s > 0) { b /= s; c /= s; d /= s; }
    a = 0.0;
  } else {
    a = sqrt(a);
  }
  double r[3][3] = {
      {a * a + b * b - c * c - d * d, 2 * b * c - 2 * a * d, 2 * b * d + 2 * a * c},
      {2 * b * c + 2 * a * d, a * a + c * c - b * b - d * d, 2 * c * d - 2 * a * b},
      {2 * b * d - 2 * a * c, 2 * c * d + 2 * a * b, a * a + d * d - c * c - b * b}};
  double z[3];
  for (int i = 0; i < 3; i++) z[i] = pixdim[i] > 0 ? pixdim[i] : 1.0;
  z[2] *= qfac < 0 ? -1.0 : 1.0;
  dp_mat4 m = dp_mat4_identity();
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) m.m[i][j] = r[i][j] * z[j];
    m.m[i][3] = offset[i];
  }
  return m;
}

dp_status dp__nii_affine_to_quatern(const dp_mat4 *a, double quat[3], double offset[3],
                                    double *qfac, double pixdim[3]) {
  double r[3][3];
  dp_status s = dp_affine_rotation(a, r);
  if (s != DP_OK) return s;
  dp_affine_spacing(a, pixdim);
  double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
               r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
               r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  *qfac = 1.0;
  if (det < 0) { /* improper: NIfTI stores it as a proper rotation + qfac -1 */
    *qfac = -1.0;
    for (int i = 0; i < 3; i++) r[i][2] = -r[i][2];
  }
  double qa, qb, qc, qd;
  double tr = r[0][0] + r[1][1] + r[2][2] + 1.0;
  if (tr > 0.5) {
    qa = 0.5 * sqrt(tr);
    qb = 0.25 * (r[2][1] - r[1][2]) / qa;
    qc = 0.25 * (r[0][2] - r[2][0]) / qa;
    qd = 0.25 * (r[1][0] - r[0][1]) / qa;
  } else {
    double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
    double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
    double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1.0) {
      qb = 0.5 * sqrt(xd);
      qc = 0.25 * (r[0][1] + r[1][0]) / qb;
      qd = 0.25 * (r[0][2] + r[2][0]) / qb;
      qa = 0.25 * (r[2][1] - r[1][2]) / qb;
    } else if (yd > 1.0) {
      qc = 0.5 * sqrt(yd);
      qb = 0.25 * (r[0][1] + r[1][0]) / qc;
      qd = 0.25 * (r[1][2] + r[2][1]) / qc;
      qa = 0.25 * (r[0][2] - r[2][0]) / qc;
    } else {
      qd = 0.5 * sqrt(zd);
      qb = 0.25 * (r[0][2] + r[2][0]) / qd;
      qc = 0.25 * (r[1][2] + r[2][1]) / qd;
      qa = 0.25 * (r[1][0] - r[0][1]) / qd;
    }
    if (qa < 0) { qb = -qb; qc = -qc; qd = -qd; }
  }
  quat[0] = qb;
  quat[1] = qc;
  quat[2] = qd;
  for (int i = 0; i < 3; i++) offset[i] = a->m[i][3];
  return DP_OK;
}

/* nibabel's affine for a header with neither sform nor qform: Analyze-style,
 * x flipped, centred on the middle voxel. */
static dp_mat4 base_affine(const dp_nifti_info *h) {
  dp_mat4 m = dp_mat4_identity();
  for (int i = 0; i < 3; i++) {
    double z = h->pixdim[i + 1];
    if (i == 0) z = -z;
    double origin = ((double)h->dim[i] - 1.0) / 2.0;
    m.m[i][i] = z;
    m.m[i][3] = -origin * z;
  }
  return m;
}

/* ---- decode -------------------------------------------------------------- */

static void copy_str(char *dst, const unsigned char *src, size_t n) {
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static dp_status decode_v1(const rd *r, dp_nifti_info *h) {
  const unsigned char *b = r->p;
  if (memcmp(b + 344, "n+1\0", 4) != 0 && memcmp(b + 344, "ni1\0", 4) != 0)
    return dp__error(DP_EFORMAT, "bad NIfTI-1 magic (an Analyze 7.5 file?)");
  if (memcmp(b + 344, "ni1\0", 4) == 0)
    return dp__error(DP_EUNSUPPORTED, "two-file NIfTI (.hdr/.img) is not supported");
  h->version = 1;
  h->ndim = g16(r, 40);
  for (int i = 0; i < 7; i++) h->dim[i] = g16(r, 42 + 2 * i);
  h->intent_code = g16(r, 68);
  h->datatype = g16(r, 70);
  for (int i = 0; i < 8; i++) h->pixdim[i] = gf(r, 76 + 4 * i);
  h->vox_offset = gf(r, 108);
  h->scl_slope = gf(r, 112);
  h->scl_inter = gf(r, 116);
  h->xyzt_units = b[123];
  h->cal_max = gf(r, 124);
  h->cal_min = gf(r, 128);
  copy_str(h->descrip, b + 148, 80);
  h->qform_code = g16(r, 252);
  h->sform_code = g16(r, 254);
  double quat[3] = {gf(r, 256), gf(r, 260), gf(r, 264)};
  double off[3] = {gf(r, 268), gf(r, 272), gf(r, 276)};
  h->qform = dp__nii_quatern_to_affine(quat, off, h->pixdim[0], h->pixdim + 1);
  h->sform = dp_mat4_identity();
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) h->sform.m[i][j] = gf(r, 280 + 16 * i + 4 * j);
  copy_str(h->intent_name, b + 328, 16);
  return DP_OK;
}

static dp_status decode_v2(const rd *r, size_t n, dp_nifti_info *h) {
  const unsigned char *b = r->p;
  if (n < DP__NII2_HDR) return dp__error(DP_EFORMAT, "file too short for a NIfTI-2 header");
  if (memcmp(b + 4, "n+2\0\r\n\032\n", 8) != 0) {
    if (memcmp(b + 4, "ni2\0", 4) == 0)
      return dp__error(DP_EUNSUPPORTED, "two-file NIfTI (.hdr/.img) is not supported");
    return dp__error(DP_EFORMAT, "bad NIfTI-2 magic (file damaged by a text-mode transfer?)");
  }
  h->version = 2;
  h->datatype = g16(r, 12);
  int64_t d0 = g64(r, 16);
  if (d0 < 0 || d0 > 7) return dp__error(DP_EFORMAT, "bad dim[0] = %lld", (long long)d0);
  h->ndim = (int)d0;
  for (int i = 0; i < 7; i++) h->dim[i] = g64(r, 24 + 8 * i);
  for (int i = 0; i < 8; i++) h->pixdim[i] = gd(r, 104 + 8 * i);
  int64_t vo = g64(r, 168);
  h->vox_offset = (double)vo;
  h->scl_slope = gd(r, 176);
  h->scl_inter = gd(r, 184);
  h->cal_max = gd(r, 192);
  h->cal_min = gd(r, 200);
  copy_str(h->descrip, b + 240, 80);
  h->qform_code = g32(r, 344);
  h->sform_code = g32(r, 348);
  double quat[3] = {gd(r, 352), gd(r, 360), gd(r, 368)};
  double off[3] = {gd(r, 376), gd(r, 384), gd(r, 392)};
  h->qform = dp__nii_quatern_to_affine(quat, off, h->pixdim[0], h->pixdim + 1);
  h->sform = dp_mat4_identity();
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) h->sform.m[i][j] = gd(r, 400 + 32 * i + 8 * j);
  h->xyzt_units = g32(r, 500);
  h->intent_code = g32(r, 504);
  copy_str(h->intent_name, b + 508, 16);
  return DP_OK;
}

dp_status dp__nii_decode(const unsigned char *buf, size_t n, dp_nifti_info *h) {
  memset(h, 0, sizeof *h);
  if (n < DP__NII1_HDR)
    return dp__error(DP_EFORMAT, "file too short for a NIfTI header (%zu bytes)", n);
  uint32_t sz;
  memcpy(&sz, buf, 4);
  rd r = {buf, 0};
  if (sz != DP__NII1_HDR && sz != DP__NII2_HDR) {
    sz = bswap32(sz);
    if (sz != DP__NII1_HDR && sz != DP__NII2_HDR)
      return dp__error(DP_EFORMAT, "not a NIfTI file (bad sizeof_hdr)");
    r.swap = 1;
  }
  uint16_t one = 1;
  int host_be = *(unsigned char *)&one == 0;
  h->big_endian = r.swap ? !host_be : host_be;
  dp_status s = sz == DP__NII1_HDR ? decode_v1(&r, h) : decode_v2(&r, n, h);
  if (s != DP_OK) return s;

  if (h->ndim < 1 || h->ndim > 7) return dp__error(DP_EFORMAT, "bad dim[0] = %d", h->ndim);
  for (int i = 0; i < 7; i++) {
    if (i >= h->ndim) {
      h->dim[i] = 1; /* unused dimensions are 1 whatever the file says */
    } else if (h->dim[i] < 1) {
      return dp__error(DP_EFORMAT, "bad dim[%d] = %lld", i + 1, (long long)h->dim[i]);
    }
  }
  h->dtype = dtype_of(h->datatype);
  if (!(h->vox_offset >= 0) || h->vox_offset > 1e15)
    return dp__error(DP_EFORMAT, "bad vox_offset %g", h->vox_offset);
  if (h->vox_offset < (h->version == 1 ? DP__NII1_HDR : DP__NII2_HDR))
    h->vox_offset = h->version == 1 ? 352 : 544; /* 0 in some writers: data follows */
  if (h->vox_offset != floor(h->vox_offset))
    return dp__error(DP_EFORMAT, "vox_offset %g is not a whole number", h->vox_offset);
  for (int i = 1; i < 4; i++)
    if (!isfinite(h->pixdim[i])) return dp__error(DP_EFORMAT, "pixdim[%d] is not finite", i);

  if (h->sform_code > 0) {
    h->affine = h->sform;
  } else if (h->qform_code > 0) {
    h->affine = h->qform;
  } else {
    h->affine = base_affine(h);
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      if (!isfinite(h->affine.m[i][j])) return dp__error(DP_EFORMAT, "affine is not finite");
  return DP_OK;
}

/* ---- encode -------------------------------------------------------------- */

static void encode_v1(const dp_nifti_info *h, const double quat[3], const double off[3],
                      unsigned char *b) {
  p32(b, 0, DP__NII1_HDR);
  b[38] = 'r'; /* "regular", as nifti_clib writes */
  p16(b, 40, (int16_t)h->ndim);
  for (int i = 0; i < 7; i++) p16(b, 42 + 2 * i, (int16_t)h->dim[i]);
  p16(b, 68, (int16_t)h->intent_code);
  p16(b, 70, (int16_t)h->datatype);
  p16(b, 72, (int16_t)(8 * dp__nii_type_size(h->datatype)));
  for (int i = 0; i < 8; i++) pf(b, 76 + 4 * i, h->pixdim[i]);
  pf(b, 108, 352);
  pf(b, 112, h->scl_slope);
  pf(b, 116, h->scl_inter);
  b[123] = (unsigned char)h->xyzt_units;
  pf(b, 124, h->cal_max);
  pf(b, 128, h->cal_min);
  memcpy(b + 148, h->descrip, strnlen(h->descrip, 79));
  p16(b, 252, (int16_t)h->qform_code);
  p16(b, 254, (int16_t)h->sform_code);
  for (int i = 0; i < 3; i++) pf(b, 256 + 4 * i, quat[i]);
  for (int i = 0; i < 3; i++) pf(b, 268 + 4 * i, off[i]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) pf(b, 280 + 16 * i + 4 * j, h->sform.m[i][j]);
  memcpy(b + 328, h->intent_name, strnlen(h->intent_name, 16));
  memcpy(b + 344, "n+1\0", 4);
}

static void encode_v2(const dp_nifti_info *h, const double quat[3], const double off[3],
                      unsigned char *b) {
  p32(b, 0, DP__NII2_HDR);
  memcpy(b + 4, "n+2\0\r\n\032\n", 8);
  p16(b, 12, (int16_t)h->datatype);
  p16(b, 14, (int16_t)(8 * dp__nii_type_size(h->datatype)));
  p64(b, 16, h->ndim);
  for (int i = 0; i < 7; i++) p64(b, 24 + 8 * i, h->dim[i]);
  for (int i = 0; i < 8; i++) pd(b, 104 + 8 * i, h->pixdim[i]);
  p64(b, 168, 544);
  pd(b, 176, h->scl_slope);
  pd(b, 184, h->scl_inter);
  pd(b, 192, h->cal_max);
  pd(b, 200, h->cal_min);
  memcpy(b + 240, h->descrip, strnlen(h->descrip, 79));
  p32(b, 344, h->qform_code);
  p32(b, 348, h->sform_code);
  for (int i = 0; i < 3; i++) pd(b, 352 + 8 * i, quat[i]);
  for (int i = 0; i < 3; i++) pd(b, 376 + 8 * i, off[i]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) pd(b, 400 + 32 * i + 8 * j, h->sform.m[i][j]);
  p32(b, 500, h->xyzt_units);
  p32(b, 504, h->intent_code);
  memcpy(b + 508, h->intent_name, strnlen(h->intent_name, 16));
}

size_t dp__nii_encode(const dp_nifti_info *h, unsigned char *b) {
  /* The quaternion is recomputed from h->qform so that the stored pixdim,
   * quaternion and qfac always agree with each other. */
  double quat[3] = {0, 0, 0}, off[3] = {0, 0, 0}, qfac = 1, pd3[3];
  if (dp__nii_affine_to_quatern(&h->qform, quat, off, &qfac, pd3) != DP_OK) qfac = 1;
  dp_nifti_info c = *h;
  c.pixdim[0] = qfac;
  memset(b, 0, 544);
  if (h->version == 2) {
    encode_v2(&c, quat, off, b);
    return 544;
  }
  encode_v1(&c, quat, off, b);
  return 352;
}
