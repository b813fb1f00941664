/* NIfTI-1 and NIfTI-2 reading and writing (.nii and .nii.gz).
 *
 * Reading accepts either version and either byte order, plain or gzip
 * (including multi-member gzip).  The voxel-to-world affine is taken from the
 * sform when sform_code > 0, else from the qform when qform_code > 0, else from
 * pixdim alone (nibabel's rule).
 *
 * Writing produces NIfTI-1, or NIfTI-2 when a dimension exceeds 32767 or when
 * asked; sform (code 1, scanner) and qform (code 1, the nearest rigid transform
 * when the affine is sheared) are both set; units are mm and s.  A .gz suffix
 * selects gzip output, compressed in parallel in independent members.  Files
 * are written to a temporary file in the target folder and renamed into place,
 * so a failed write, or a crash or kill of the writing process, never leaves a
 * partial or truncated output.  Surviving a power loss or an operating-system
 * crash as well needs dp_nifti_write_opts.durable (fsync before the rename).
 */
#ifndef DCMPREP_NIFTI_H
#define DCMPREP_NIFTI_H

#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Header facts of a NIfTI file, as stored. */
typedef struct dp_nifti_info {
  int version;           /* 1 or 2 */
  int big_endian;        /* 1 when the file is big-endian */
  int gzipped;           /* 1 when the file is gzip-compressed */
  int ndim;              /* dim[0] */
  int64_t dim[7];        /* dim[1..7]; unused = 1 */
  int datatype;          /* NIfTI datatype code (e.g. 4 = int16) */
  dp_dtype dtype;        /* matching dp_dtype, DP_DTYPE_NONE if not supported */
  double pixdim[8];      /* as stored; pixdim[0] is qfac */
  double vox_offset;     /* bytes before voxel data */
  double scl_slope, scl_inter;
  double cal_min, cal_max;
  int qform_code, sform_code;
  int xyzt_units;
  dp_mat4 qform, sform;  /* as stored (identity-filled when code is 0) */
  dp_mat4 affine;        /* the affine dp_nifti_read uses (see above) */
  char descrip[81];
  char intent_name[17];
  int intent_code;
} dp_nifti_info;

typedef struct dp_nifti_read_opts {
  int apply_scaling; /* 1: values are scl_slope * stored + scl_inter (the
                        file's real values), typed by the rule below;
                        0: stored values, the scaling recorded in metadata.
                        Ignored when slope is 0, not finite, or (1, 0). */
  int threads;       /* decompression and conversion threads; 0 = default */
} dp_nifti_read_opts;
#define DP_NIFTI_READ_OPTS_INIT {0, 0}

/* Reads the header only (decompressing just its first bytes).  info is fully
 * set on success. */
DP_API dp_status dp_nifti_read_info(const char *path, dp_nifti_info *info);

/* Reads a volume.  opts may be NULL for defaults.  info, when non-NULL,
 * receives the header facts.  Up to 4 dimensions are supported (dim[5..7] must
 * be 1).
 *
 * Type rule (integer data stay integer):
 *  - u8, i16, u16, i32, f32, f64 without scaling load as themselves;
 *  - integer storage (also i8, u32, i64, u64) with an integer mapping
 *    (no scaling, or an integer scl_slope and scl_inter, such as dcm2niix's
 *    CT intercept -1024) loads as integers: the stored type when it holds
 *    the values, else the first of i16, u16, i32 that does, else f64 for
 *    32/64-bit storage and f32 otherwise; i64/u64 values that fit neither
 *    i32 nor a double exactly are refused with DP_EUNSUPPORTED;
 *  - any other mapping gives f32 (f64 for f64, i32, u32, i64, u64 storage).
 * Values are exactly stored * slope + inter (rounded to the float type).
 *
 * An uncompressed file whose data need no conversion (no scaling, host byte
 * order, data offset a multiple of the element size) is not copied: the
 * volume's data is a private mapping of the file (dp_volume_is_mapped;
 * writes into it never reach the file; see dp_volume_check for files that
 * change under it).  Other files are converted in one pass from the mapped
 * or decompressed bytes.
 *
 * The header's descrip and, when not applied, scl_slope/scl_inter are recorded
 * in metadata ("nifti_descrip", "nifti_scl_slope", "nifti_scl_inter").
 * On failure *out is NULL. */
DP_API dp_status dp_nifti_read(const char *path, const dp_nifti_read_opts *opts,
                               dp_volume **out, dp_nifti_info *info);

typedef struct dp_nifti_write_opts {
  int version;          /* 0 = automatic (1 unless a dimension > 32767), 1, 2 */
  int gzip;             /* -1 = from the file name (".gz"), 0 = no, 1 = yes */
  int level;            /* compression level 1..12 (libdeflate scale); 0 =
                           default: 4, or 7 for blocks of 1 MiB that compress
                           better than 16:1 (cheap there, and much smaller),
                           2 for noisy ones (worse than 3:1: a little larger,
                           much faster) */
  int threads;          /* 0 = dp_default_threads() */
  double scl_slope;     /* 0 = none (written as 0, i.e. no scaling) */
  double scl_inter;
  double cal_min, cal_max; /* display range; both 0 = not set */
  const char *descrip;  /* up to 79 characters; NULL = "dcmprep <version>" */
  int durable;          /* 1 = fsync the file before renaming it into place,
                           and its folder after, so that the output survives a
                           power loss; 0 (default) = no fsync: still atomic for
                           readers and against crashes of this process, but
                           the OS may lose recent files on a power loss */
} dp_nifti_write_opts;
#define DP_NIFTI_WRITE_OPTS_INIT {0, -1, 0, 0, 0.0, 0.0, 0.0, 0.0, NULL, 0}

/* Writes a volume atomically (temporary file in the same folder, then rename;
 * durable or not as opts->durable says).  An existing file at path is replaced
 * only once the new one is complete.
 * Returns DP_EINVAL for a volume with no data or a singular affine, DP_EIO with
 * the file name and system error on any I/O failure. */
DP_API dp_status dp_nifti_write(const dp_volume *v, const char *path,
                                const dp_nifti_write_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
