#include <ctype.h>
#include <math.h>
#include <string.h>

#include "dcmprep/affine.h"
#include "internal.h"

dp_mat4 dp_mat4_identity(void) {
  dp_mat4 r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < 4; i++) r.m[i][i] = 1.0;
  return r;
}

dp_mat4 dp_mat4_mul(dp_mat4 a, dp_mat4 b) {
  dp_mat4 r;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      double s = 0;
      for (int k = 0; k < 4; k++) s += a.m[i][k] * b.m[k][j];
      r.m[i][j] = s;
    }
  return r;
}

double dp_mat4_det3(const dp_mat4 *a) {
  const double(*m)[4] = a->m;
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Inverse of a 3x3 matrix by cofactors; returns 0 when singular relative to
 * the scale of its columns. */
static int inv3(const double a[3][3], double out[3][3]) {
  double c[3][3];
  c[0][0] = a[1][1] * a[2][2] - a[1][2] * a[2][1];
  c[0][1] = a[0][2] * a[2][1] - a[0][1] * a[2][2];
  c[0][2] = a[0][1] * a[1][2] - a[0][2] * a[1][1];
  c[1][0] = a[1][2] * a[2][0] - a[1][0] * a[2][2];
  c[1][1] = a[0][0] * a[2][2] - a[0][2] * a[2][0];
  c[1][2] = a[0][2] * a[1][0] - a[0][0] * a[1][2];
  c[2][0] = a[1][0] * a[2][1] - a[1][1] * a[2][0];
  c[2][1] = a[0][1] * a[2][0] - a[0][0] * a[2][1];
  c[2][2] = a[0][0] * a[1][1] - a[0][1] * a[1][0];
  double det = a[0][0] * c[0][0] + a[0][1] * c[1][0] + a[0][2] * c[2][0];
  double scale = 1.0;
  for (int j = 0; j < 3; j++)
    scale *= sqrt(a[0][j] * a[0][j] + a[1][j] * a[1][j] + a[2][j] * a[2][j]);
  if (!(fabs(det) > 1e-12 * scale) || !isfinite(det)) return 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) out[i][j] = c[i][j] / det;
  return 1;
}

static void linear_part(const dp_mat4 *a, double r[3][3]) {
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) r[i][j] = a->m[i][j];
}

dp_status dp_mat4_inverse(dp_mat4 a, dp_mat4 *out) {
  double l[3][3], li[3][3];
  linear_part(&a, l);
  if (!inv3(l, li)) return dp__error(DP_EGEOMETRY, "affine is singular (cannot be inverted)");
  dp_mat4 r = dp_mat4_identity();
  for (int i = 0; i < 3; i++) {
    double t = 0;
    for (int j = 0; j < 3; j++) {
      r.m[i][j] = li[i][j];
      t += li[i][j] * a.m[j][3];
    }
    r.m[i][3] = -t;
  }
  *out = r;
  return DP_OK;
}

void dp_mat4_apply(const dp_mat4 *a, const double p[3], double out[3]) {
  double x = p[0], y = p[1], z = p[2];
  for (int i = 0; i < 3; i++) out[i] = a->m[i][0] * x + a->m[i][1] * y + a->m[i][2] * z + a->m[i][3];
}

void dp_affine_spacing(const dp_mat4 *a, double spacing[3]) {
  for (int j = 0; j < 3; j++)
    spacing[j] = sqrt(a->m[0][j] * a->m[0][j] + a->m[1][j] * a->m[1][j] + a->m[2][j] * a->m[2][j]);
}

dp_status dp_affine_rotation(const dp_mat4 *a, double r[3][3]) {
  double x[3][3], sp[3];
  dp_affine_spacing(a, sp);
  for (int j = 0; j < 3; j++) {
    if (!(sp[j] > 0) || !isfinite(sp[j]))
      return dp__error(DP_EGEOMETRY, "affine has a zero or non-finite column %d", j);
    for (int i = 0; i < 3; i++) x[i][j] = a->m[i][j] / sp[j];
  }
  /* Polar decomposition by Newton iteration X <- (X + X^-T) / 2 (Higham):
   * converges quadratically to the orthogonal factor, keeping det's sign. */
  for (int it = 0; it < 100; it++) {
    double xi[3][3], next[3][3], delta = 0;
    if (!inv3(x, xi)) return dp__error(DP_EGEOMETRY, "affine is singular (no nearest rotation)");
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        next[i][j] = 0.5 * (x[i][j] + xi[j][i]);
        delta += fabs(next[i][j] - x[i][j]);
      }
    memcpy(x, next, sizeof x);
    if (delta < 1e-15) break;
  }
  memcpy(r, x, sizeof x);
  return DP_OK;
}

double dp_affine_shear_deg(const dp_mat4 *a) {
  double r[3][3], sp[3], worst = 0;
  if (dp_affine_rotation(a, r) != DP_OK) return 90.0;
  dp_affine_spacing(a, sp);
  for (int j = 0; j < 3; j++) {
    double dot = 0;
    for (int i = 0; i < 3; i++) dot += r[i][j] * a->m[i][j] / sp[j];
    if (dot > 1) dot = 1;
    if (dot < -1) dot = -1;
    double ang = acos(dot) * 180.0 / DP__PI;
    if (ang > worst) worst = ang;
  }
  return worst;
}

dp_status dp_affine_orientation(const dp_mat4 *a, int axis[3], int flip[3]) {
  double r[3][3];
  dp_status s = dp_affine_rotation(a, r);
  if (s != DP_OK) return s;
  /* Greedy, in voxel-axis order, as nibabel.orientations.io_orientation: each
   * voxel axis takes the world axis its column points along most, and that
   * world axis is then removed from the others' choice. */
  for (int in = 0; in < 3; in++) {
    int best = 0;
    double bv = -1;
    for (int out = 0; out < 3; out++)
      if (fabs(r[out][in]) > bv) {
        bv = fabs(r[out][in]);
        best = out;
      }
    axis[in] = best;
    flip[in] = r[best][in] < 0 ? -1 : 1;
    for (int j = 0; j < 3; j++) r[best][j] = 0;
  }
  return DP_OK;
}

static const char pos_letter[3] = {'R', 'A', 'S'};
static const char neg_letter[3] = {'L', 'P', 'I'};

dp_status dp_affine_axcodes(const dp_mat4 *a, char code[4]) {
  int axis[3], flip[3];
  dp_status s = dp_affine_orientation(a, axis, flip);
  if (s != DP_OK) {
    memcpy(code, "???", 4);
    return s;
  }
  for (int d = 0; d < 3; d++) code[d] = flip[d] > 0 ? pos_letter[axis[d]] : neg_letter[axis[d]];
  code[3] = '\0';
  return DP_OK;
}

dp_status dp_axcodes_parse(const char *code, int axis[3], int flip[3]) {
  if (!code || strlen(code) != 3)
    return dp__error(DP_EINVAL, "orientation code '%s' is not three letters", code ? code : "");
  int seen[3] = {0, 0, 0};
  for (int d = 0; d < 3; d++) {
    int c = toupper((unsigned char)code[d]), found = 0;
    for (int w = 0; w < 3 && !found; w++) {
      if (c == pos_letter[w] || c == neg_letter[w]) {
        axis[d] = w;
        flip[d] = c == pos_letter[w] ? 1 : -1;
        found = 1;
      }
    }
    if (!found)
      return dp__error(DP_EINVAL, "orientation code '%s': '%c' is not one of R L A P S I", code,
                       code[d]);
    if (seen[axis[d]]++)
      return dp__error(DP_EINVAL, "orientation code '%s' names the same axis twice", code);
  }
  return DP_OK;
}
