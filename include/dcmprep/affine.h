/* 4x4 affine matrices and orientation codes.
 *
 * An affine maps voxel indices (i, j, k) to world millimetres in RAS+
 * (+x Right, +y Anterior, +z Superior), the NIfTI convention.  Matrices are
 * passed by value; all functions are pure and thread-safe.
 */
#ifndef DCMPREP_AFFINE_H
#define DCMPREP_AFFINE_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major: m[row][col]; the last row is (0, 0, 0, 1) for affines. */
typedef struct dp_mat4 {
  double m[4][4];
} dp_mat4;

DP_API dp_mat4 dp_mat4_identity(void);

/* a * b: applies b first, then a. */
DP_API dp_mat4 dp_mat4_mul(dp_mat4 a, dp_mat4 b);

/* Inverse of an affine.  Returns DP_EGEOMETRY (out untouched) when the 3x3 part
 * is singular (|det| below 1e-12 of the product of its column norms). */
DP_API dp_status dp_mat4_inverse(dp_mat4 a, dp_mat4 *out);

/* out = a * (p, 1); out may alias p. */
DP_API void dp_mat4_apply(const dp_mat4 *a, const double p[3], double out[3]);

/* Determinant of the 3x3 linear part. */
DP_API double dp_mat4_det3(const dp_mat4 *a);

/* Voxel spacing in mm: the norms of the three columns of the linear part. */
DP_API void dp_affine_spacing(const dp_mat4 *a, double spacing[3]);

/* Nearest rotation (proper or improper) to the linear part with unit columns:
 * the orthogonal factor of its polar decomposition.  r is 3x3 row-major.
 * Returns DP_EGEOMETRY when the linear part is singular. */
DP_API dp_status dp_affine_rotation(const dp_mat4 *a, double r[3][3]);

/* Largest angle in degrees between a column of the linear part and the
 * corresponding column of its nearest rotation: 0 for orthogonal axes, the
 * shear angle for a gantry-tilted grid. */
DP_API double dp_affine_shear_deg(const dp_mat4 *a);

/* Orientation of the voxel axes, as nibabel's io_orientation(): for each voxel
 * axis d, world axis axis[d] (0 = x, 1 = y, 2 = z) and direction flip[d] (+1 or
 * -1) it points along most closely, chosen greedily in axis order on the
 * orthogonalised matrix.  Returns DP_EGEOMETRY for a singular matrix. */
DP_API dp_status dp_affine_orientation(const dp_mat4 *a, int axis[3], int flip[3]);

/* Three-letter axis code ("RAS", "LPI", "PSR", ...) as nibabel's aff2axcodes():
 * the letter each voxel axis points *toward*.  code must hold 4 chars.  A
 * singular matrix gives "???" and DP_EGEOMETRY. */
DP_API dp_status dp_affine_axcodes(const dp_mat4 *a, char code[4]);

/* Parses an axis code such as "RAS" or "lpi" (case-insensitive) into the world
 * axis and direction each voxel axis points toward.  Returns DP_EINVAL for a
 * string that is not three letters naming three distinct world axes. */
DP_API dp_status dp_axcodes_parse(const char *code, int axis[3], int flip[3]);

#ifdef __cplusplus
}
#endif
#endif
