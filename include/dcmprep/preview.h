/* Previews: the three orthogonal mid-slices of a volume as one picture.
 *
 * A row shows, left to right, the sagittal, coronal and axial planes through
 * the centre of the volume's field of view.  The planes are the world's
 * (RAS-aligned), not the voxel grid's: each is resampled from the volume's
 * ijk_to_ras through the warp engine (trilinear for the image, nearest for a
 * label), so the same world content gives the same picture whatever the voxel
 * order, and an oblique or sheared volume is shown in the RAS-aligned planes
 * through its centre (areas outside the volume are black).
 *
 * Display convention (radiological; docs/preview.md):
 *   axial     viewed from the feet: patient's right on the image's left,
 *             anterior at the top            (letters R | L, A over P)
 *   coronal   viewed from the front: patient's right on the image's left,
 *             superior at the top            (letters R | L, S over I)
 *   sagittal  viewed from the patient's left: anterior on the image's left,
 *             superior at the top            (letters A | P, S over I)
 *
 * Geometry: display pixels are square, pixel_mm on a side (default: the
 * volume's smallest voxel spacing, raised when a panel would exceed max_side
 * pixels), so physical aspect ratios are true.  The field of view is the
 * RAS bounding box of the volume's voxel extent (voxel corners at index
 * -0.5 and n - 0.5); a panel spans round(extent / pixel_mm) pixels (at least
 * 1) on each side, centred on the world point of voxel (n - 1) / 2, pixel
 * centres pixel_mm apart.  For an RAS-aligned volume sampled at its own
 * spacing the pixels therefore land on voxel centres.
 *
 * Layout: each panel sits in a cell with a black margin of DP_PREVIEW_MARGIN
 * pixels on every side; the orientation letters (a 5 x 7 bitmap font drawn
 * at scale DP_PREVIEW_FONT_SCALE, value 255) are centred in the margin at
 * the middle of each edge.  Cells are side by side, the panel centred
 * vertically in a row as tall as its tallest panel plus two margins (the
 * vertical offset rounded down).  Width = sum of (panel width + 2 margins).
 *
 * Intensity: display = round(255 * (v - (C - W/2)) / W), clamped to 0..255
 * (halves up).  C, W are given, or come from the volume's percentiles
 * pct_lo..pct_hi (default 0.5 and 99.5, numpy's linear interpolation; exact
 * for integer volumes whose range is below 65536 values, within 1/65536 of
 * the range otherwise) over its finite voxels; when those are equal the
 * volume's minimum and maximum are used.  Only the first volume (t = 0) of a
 * 4-D input is shown.
 *
 * Labels: a label volume on any grid is sampled (nearest) at the same world
 * points; pixels whose label rounds to l > 0 are tinted with colour
 * dp_preview_label_colour(l): out = round((1 - alpha) * gray + alpha * colour)
 * per channel.  The picture is then RGB, otherwise gray.
 *
 * Threads: sampling runs on `threads` workers (0 = default); the picture is
 * the same for any thread count.  Nothing here modifies its inputs.
 */
#ifndef DCMPREP_PREVIEW_H
#define DCMPREP_PREVIEW_H

#include "export.h"
#include "png.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP_PREVIEW_MARGIN 20    /* pixels around each panel */
#define DP_PREVIEW_FONT_SCALE 2 /* each font dot is 2 x 2 pixels: letters 10 x 14 */

typedef struct dp_preview_opts {
  int window_set;        /* 1: use window_center/window_width */
  double window_center;  /* C (volume units) */
  double window_width;   /* W > 0 */
  double pct_lo, pct_hi; /* percentiles for the automatic window (0.5, 99.5) */
  double pixel_mm;       /* display pixel side in mm; <= 0: smallest voxel spacing */
  int max_side;          /* largest panel side in pixels (default 512) */
  double alpha;          /* label tint opacity 0..1 (default 0.5) */
  int letters;           /* 1 (default): draw the orientation letters */
  int threads;
} dp_preview_opts;
#define DP_PREVIEW_OPTS_INIT {0, 0.0, 0.0, 0.5, 99.5, 0.0, 512, 0.5, 1, 0}

/* The display pixel side (mm) a row of `image` gets with opts (NULL =
 * defaults), as described above.  Use it to show several volumes at one
 * scale (set opts->pixel_mm to the result).  DP_EGEOMETRY for a singular
 * affine. */
DP_API dp_status dp_preview_pixel_size(const dp_volume *image, const dp_preview_opts *opts,
                                       double *pixel_mm);

/* Renders one row (sagittal, coronal, axial) of image, with label tinted over
 * it when label is not NULL (any grid).  *out is gray without a label, RGB
 * with one; the caller frees it with dp_image_free().  DP_EINVAL for a bad
 * window, percentile pair or alpha; DP_EGEOMETRY for a singular affine;
 * DP_ELIMIT when the picture would be too large.  On failure *out is NULL. */
DP_API dp_status dp_preview_render(const dp_volume *image, const dp_volume *label,
                                   const dp_preview_opts *opts, dp_image **out);

/* Stacks rows top to bottom, left-aligned on a black background, as wide as
 * the widest; RGB when any row is RGB (gray rows are converted).  The caller
 * frees *out. */
DP_API dp_status dp_preview_stack(const dp_image *const *rows, int nrows, dp_image **out);

/* The tint of label value l >= 1: a fixed table of 12 colours, repeating
 * (l - 1) mod 12: red, green, blue, yellow, cyan, magenta, orange, violet,
 * azure, rose, chartreuse, spring green.  rgb receives the three bytes. */
DP_API void dp_preview_label_colour(long long l, unsigned char rgb[3]);

/* The window (C, W) the preview would use for image with opts: the given
 * one, or the automatic one described above. */
DP_API dp_status dp_preview_window(const dp_volume *image, const dp_preview_opts *opts,
                                   double *center, double *width);

#ifdef __cplusplus
}
#endif
#endif
