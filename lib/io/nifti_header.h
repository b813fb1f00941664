/* NIfTI-1/NIfTI-2 header layout: decoding from and encoding to raw bytes.
 * Field offsets follow nifti1.h and nifti2.h; all multi-byte fields are read
 * in the file's byte order. */
#ifndef DCMPREP_IO_NIFTI_HEADER_H
#define DCMPREP_IO_NIFTI_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/nifti.h"

#define DP__NII1_HDR 348
#define DP__NII2_HDR 540

/* NIfTI datatype codes. */
enum {
  DP__NII_UINT8 = 2, DP__NII_INT16 = 4, DP__NII_INT32 = 8, DP__NII_FLOAT32 = 16,
  DP__NII_FLOAT64 = 64, DP__NII_INT8 = 256, DP__NII_UINT16 = 512,
  DP__NII_UINT32 = 768, DP__NII_INT64 = 1024, DP__NII_UINT64 = 1280
};

/* Bytes per voxel of a datatype code, 0 when not supported for reading. */
int dp__nii_type_size(int datatype);

/* Decodes a header from the first n bytes of a file (n >= 348; 540 for
 * NIfTI-2).  Validates magic, sizes and dimensions; fills info->affine by
 * nibabel's rule.  Returns DP_EFORMAT with a reason (no file name). */
dp_status dp__nii_decode(const unsigned char *buf, size_t n, dp_nifti_info *info);

/* Encodes a header (plus the 4-byte empty extension flag) in host byte order
 * into buf, which must hold 544 bytes; returns the bytes used (352 or 544),
 * which is also the vox_offset. */
size_t dp__nii_encode(const dp_nifti_info *info, unsigned char *buf);

/* Quaternion form (b, c, d, qoffset, qfac) of the nearest rigid transform to
 * an affine, as NIfTI's qform; pixdim gets the column norms. */
dp_status dp__nii_affine_to_quatern(const dp_mat4 *a, double quat[3], double offset[3],
                                    double *qfac, double pixdim[3]);

/* Affine of a qform (nifti_quatern_to_mat44). */
dp_mat4 dp__nii_quatern_to_affine(const double quat[3], const double offset[3], double qfac,
                                  const double pixdim[3]);

/* Writes, as dp_nifti_write does (uncompressed only: DP_EUNSUPPORTED for a
 * gzip name or opts->gzip), a volume of like's grid (dims, affine, t_step)
 * and type dtype whose voxels are not held anywhere: gen(ctx, start, n,
 * dst) writes voxels [start, start + n) at dst, called from several
 * threads for different pieces.  Then checks like (dp_volume_check), the
 * source gen reads. */
typedef void (*dp__voxel_gen_fn)(void *ctx, int64_t start, int64_t n, void *dst);
dp_status dp__nifti_write_gen(const dp_volume *like, dp_dtype dtype, dp__voxel_gen_fn gen, void *ctx,
                              const char *path, const dp_nifti_write_opts *opts);

#endif
