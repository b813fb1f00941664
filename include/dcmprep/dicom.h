/* DICOM input: scanning folders into series, and loading a series as a volume.
 *
 * dp_dicom_scan() reads headers only (never pixel data) of every file under
 * the given paths, lists RTSTRUCT and SEG objects as label objects (see
 * labels.h: dp_dicom_set_label), skips what is not an image (with a reason
 * per file) and
 * groups images into series: by SeriesInstanceUID, then split by orientation,
 * matrix size, pixel spacing, echo number and image kind.  Slices are sorted
 * by their position along the slice normal (the cross product of the two
 * ImageOrientationPatient vectors), never by InstanceNumber or file name.
 * Repeated positions stack as volumes along t when every position repeats
 * equally often.  Each series reports uneven spacing, missing slices,
 * duplicate positions and gantry tilt (measured from the positions, not from
 * the GantryDetectorTilt tag).
 *
 * dp_dicom_load() decodes a series through DCMTK (all transfer syntaxes it
 * has codecs for), converts stored values to modality units and builds the
 * voxel-to-RAS affine from ImagePositionPatient, ImageOrientationPatient,
 * PixelSpacing and the measured slice step (DICOM LPS converted to RAS once).
 */
#ifndef DCMPREP_DICOM_H
#define DCMPREP_DICOM_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dp_series_kind {
  DP_SERIES_VOLUME = 0,    /* images with geometry: converted by default */
  DP_SERIES_LOCALIZER = 1, /* ImageType LOCALIZER (scouts, surveys) */
  DP_SERIES_SECONDARY = 2, /* secondary capture, colour, screenshots, dose pages */
  DP_SERIES_NO_GEOMETRY = 3 /* images without position/orientation/spacing */
} dp_series_kind;

/* "volume", "localizer", "secondary", "no-geometry". */
DP_API const char *dp_series_kind_name(dp_series_kind k);

/* Summary of one series as scanned.  Strings are owned by the scan result. */
typedef struct dp_series_info {
  int index;               /* 0-based position in the scan result */
  const char *uid;         /* SeriesInstanceUID */
  int number;              /* SeriesNumber, or -1 */
  const char *description; /* SeriesDescription ("" when absent) */
  const char *modality;
  dp_series_kind kind;
  int nimages;             /* images (frames) in the series */
  int nfiles;
  int64_t dim[4];          /* columns, rows, slices, volumes */
  double spacing[3];       /* column spacing, row spacing, median slice step (mm) */
  char orientation[4];     /* axis code of the affine ("LPS", ...), "" if unknown */
  double tilt_deg;         /* gantry tilt measured from the positions; 0 = none */
  int uneven;              /* 1 when slice steps differ (beyond tolerance) */
  int missing_slices;      /* slices missing in gaps that are multiples of the step */
  int duplicate_positions; /* positions that repeat (when not a clean 4-D stack) */
  double min_step, max_step; /* smallest and largest slice step (mm) */
  int echo;                /* EchoNumbers, or -1 */
  const char *warnings;    /* "; "-separated, "" when none */
} dp_series_info;

typedef struct dp_dicom_set dp_dicom_set; /* opaque scan result */

typedef struct dp_dicom_scan_opts {
  int threads; /* 0 = dp_default_threads() */
} dp_dicom_scan_opts;
#define DP_DICOM_SCAN_OPTS_INIT {0}

/* Scans files and folders (recursively; any file names; a DICOMDIR is read as
 * an ordinary file and skipped as non-image).  Unreadable and non-image files
 * are skipped with a reason and never stop the scan; so are FIFOs, sockets,
 * devices, and (inside folders) dangling symbolic links and links to folders,
 * which are not followed.  Returns DP_ENOTFOUND when a path does not exist.
 * The caller frees *out with dp_dicom_set_free(). */
DP_API dp_status dp_dicom_scan(const char *const *paths, int npaths,
                               const dp_dicom_scan_opts *opts, dp_dicom_set **out);
DP_API void dp_dicom_set_free(dp_dicom_set *set);

DP_API int dp_dicom_set_series_count(const dp_dicom_set *set);
/* The i-th series summary (NULL when out of range); valid until the set is freed. */
DP_API const dp_series_info *dp_dicom_set_series(const dp_dicom_set *set, int i);
/* Skipped files: count, and path and reason of the i-th. */
DP_API int dp_dicom_set_skipped_count(const dp_dicom_set *set);
DP_API dp_status dp_dicom_set_skipped(const dp_dicom_set *set, int i, const char **path,
                                      const char **reason);
/* File paths of series i, in slice order (repeated for multi-frame files). */
DP_API int dp_dicom_series_file_count(const dp_dicom_set *set, int i);
DP_API const char *dp_dicom_series_file(const dp_dicom_set *set, int i, int k);

/* The scan result as JSON text: {"series": [one object per series: index,
 * number, description, modality, kind, uid, images, files, dims, spacing,
 * orientation, tilt_deg, uneven, missing_slices, duplicate_positions,
 * min_step, max_step, echo, warnings], "skipped": [{"file", "reason"}]},
 * the fields of dp_series_info; exactly what `dcmprep scan --json` prints.
 * *out is NUL-terminated (free with dp_free()), *len its length (may be
 * NULL).  DP_ENOMEM on allocation failure; on failure *out is NULL. */
DP_API dp_status dp_dicom_set_json(const dp_dicom_set *set, char **out, size_t *len);

typedef enum dp_tilt_mode {
  DP_TILT_RESLICE = 0, /* resample onto a rectangular grid (default) */
  DP_TILT_KEEP = 1     /* keep the sheared grid; the affine carries the shear */
} dp_tilt_mode;

typedef enum dp_uneven_mode {
  DP_UNEVEN_RESAMPLE = 0, /* resample to the median step (default) */
  DP_UNEVEN_SPLIT = 1,    /* one volume per run of equal steps */
  DP_UNEVEN_ERROR = 2     /* refuse with DP_EGEOMETRY */
} dp_uneven_mode;

typedef struct dp_dicom_load_opts {
  dp_tilt_mode tilt;
  dp_uneven_mode uneven;
  int keep_phi; /* 1: record PatientName/ID/BirthDate in the metadata */
  int threads;  /* 0 = dp_default_threads() */
  /* 1: a series without usable geometry (position, orientation or spacing
   * missing or degenerate: screenshots, some secondary captures) is loaded on
   * a nominal grid instead of refused: images in InstanceNumber order, spacing
   * from PixelSpacing when present else 1 mm, slices 1 mm apart, axes along
   * RAS -x, -y, +z as DICOM's; recorded as GeometryNominal.  Not patient
   * space.  0 (default): DP_EGEOMETRY. */
  int nominal_geometry;
} dp_dicom_load_opts;
#define DP_DICOM_LOAD_OPTS_INIT {DP_TILT_RESLICE, DP_UNEVEN_RESAMPLE, 0, 0, 0}

/* Loads series i as one volume (or several with DP_UNEVEN_SPLIT).  *out
 * receives an array of *nout volumes; free each with dp_volume_free() and the
 * array with free().  Values are modality values (CT: int16 Hounsfield units
 * when every slice's rescale is an exact integer mapping into int16, float32
 * otherwise).  Metadata records modality, acquisition facts, rescale, window,
 * geometry decisions and warnings.  Errors: DP_EGEOMETRY (missing position,
 * inconsistent geometry, duplicate positions), DP_ECODEC (transfer syntax
 * without a codec, named), DP_EFORMAT (damaged pixel data), DP_ELIMIT
 * (absurd dimensions, refused before allocating).  On failure *out is NULL. */
DP_API dp_status dp_dicom_load(const dp_dicom_set *set, int i, const dp_dicom_load_opts *opts,
                               dp_volume ***out, int *nout);

#ifdef __cplusplus
}
#endif
#endif
