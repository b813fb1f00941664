/* One input volume by path, the way the command line takes INPUT (prep,
 * augment, preview) and the Python module's dcmprep.load does. */
#ifndef DCMPREP_INPUT_H
#define DCMPREP_INPUT_H

#include <stddef.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Non-zero when path names a NIfTI file (ends in .nii or .nii.gz). */
DP_API int dp_is_nifti_name(const char *path);

/* The name of an input: path without its folders, trailing slashes and a
 * .nii or .nii.gz suffix ("data/ct.nii.gz" -> "ct", "exam/201/" -> "201").
 * It keys the random draws of prep and augment (dp_rng_hash_str of it is the
 * pipeline settings' name_hash) and names augment's outputs.  Written to out
 * (NUL-terminated, truncated to size - 1); returns its full length. */
DP_API size_t dp_input_name(const char *path, char *out, size_t size);

/* Loads path as one volume: a NIfTI file (.nii, .nii.gz; scl_slope and
 * scl_inter applied as dp_nifti_read's apply_scaling), or else a DICOM
 * folder or file, scanned, of which the one series of kind volume is loaded
 * (default dp_dicom_load_opts: tilt resliced, uneven spacing resampled).
 * series, when not NULL, is a SeriesNumber in decimal ("201") and picks the
 * one series with that number instead.  Refused with DP_EINVAL and a message
 * when no series or several match, when series is not a number, or when the
 * series loads as several volumes; other errors as dp_nifti_read,
 * dp_dicom_scan and dp_dicom_load.  threads: 0 = dp_default_threads().  The
 * caller frees *out with dp_volume_free(); on failure *out is NULL. */
DP_API dp_status dp_load_input(const char *path, const char *series, int threads, dp_volume **out);

#ifdef __cplusplus
}
#endif
#endif
