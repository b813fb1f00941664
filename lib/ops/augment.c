/* The spatial augmentation chain: composes flips, rotations, zooms, shifts,
 * crops and one elastic field into a single voxel mapping for dp_warp. */
#include "dcmprep/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/ops_internal.h"

void dp_aug_chain_init(dp_aug_chain *c, const dp_volume *in) {
  memset(c, 0, sizeof *c);
  for (int d = 0; d < 3; d++) c->in_dim[d] = c->dim[d] = in->dim[d];
  c->in_affine = c->affine = in->ijk_to_ras;
  c->out_to_in = dp_mat4_identity();
}

/* Each step maps its output voxels to its input voxels with m: the chain
 * applies m first, then what was there. */
static void compose(dp_aug_chain *c, const dp_mat4 *m) { c->out_to_in = dp_mat4_mul(c->out_to_in, *m); }

void dp_aug_flip(dp_aug_chain *c, const int flip[3]) {
  dp_mat4 m = dp_mat4_identity();
  for (int d = 0; d < 3; d++)
    if (flip[d]) {
      m.m[d][d] = -1;
      m.m[d][3] = (double)(c->dim[d] - 1);
    }
  compose(c, &m);
}

static dp_mat4 translate(const double t[3]) {
  dp_mat4 m = dp_mat4_identity();
  for (int d = 0; d < 3; d++) m.m[d][3] = t[d];
  return m;
}

/* Exact values at the right angles, so that 90-degree turns permute voxels
 * exactly (cos(pi/2) is 6e-17 in floating point, not 0). */
static void cos_sin_deg(double deg, double *c, double *s) {
  double q = deg / 90.0;
  if (q == floor(q)) {
    static const double cs[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    int k = (int)fmod(fmod(q, 4.0) + 4.0, 4.0);
    *c = cs[k][0];
    *s = cs[k][1];
    return;
  }
  double r = deg * DP__PI / 180.0;
  *c = cos(r);
  *s = sin(r);
}

dp_status dp_aug_rotate(dp_aug_chain *c, const double deg[3]) {
  for (int d = 0; d < 3; d++)
    if (!isfinite(deg[d])) return dp__error(DP_EINVAL, "rotation angle %g is not finite", deg[d]);
  dp_mat4 r = dp_mat4_identity();
  for (int a = 0; a < 3; a++) { /* R = Rz Ry Rx: x first */
    double co, si;
    cos_sin_deg(deg[a], &co, &si);
    int u = (a + 1) % 3, v = (a + 2) % 3; /* the plane turned: u toward v */
    dp_mat4 ra = dp_mat4_identity();
    ra.m[u][u] = co;
    ra.m[u][v] = -si;
    ra.m[v][u] = si;
    ra.m[v][v] = co;
    r = dp_mat4_mul(ra, r);
  }
  /* the content turns by R about the centre: output point y shows the input
   * at c + R^T (y - c) */
  double ci[3], cw[3], neg[3];
  for (int d = 0; d < 3; d++) ci[d] = (double)(c->dim[d] - 1) / 2;
  dp_mat4_apply(&c->affine, ci, cw);
  dp_mat4 rt = dp_mat4_identity();
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) rt.m[i][j] = r.m[j][i];
  for (int d = 0; d < 3; d++) neg[d] = -cw[d];
  dp_mat4 t1 = translate(cw), t2 = translate(neg);
  dp_mat4 world = dp_mat4_mul(t1, dp_mat4_mul(rt, t2)), inv;
  dp_status s = dp_mat4_inverse(c->affine, &inv);
  if (s != DP_OK) return dp__error(s, "rotation: the grid's affine is singular");
  dp_mat4 m = dp_mat4_mul(inv, dp_mat4_mul(world, c->affine));
  /* the grid is unchanged, so exact right-angle turns give integer entries:
   * remove the rounding of the affine product */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) {
      double rr = nearbyint(m.m[i][j]);
      if (fabs(m.m[i][j] - rr) < 1e-12 * (1 + fabs(rr))) m.m[i][j] = rr;
    }
  compose(c, &m);
  return DP_OK;
}

dp_status dp_aug_zoom(dp_aug_chain *c, const double zoom[3]) {
  dp_mat4 m = dp_mat4_identity();
  for (int d = 0; d < 3; d++) {
    if (!(zoom[d] > 0) || !isfinite(zoom[d])) return dp__error(DP_EINVAL, "zoom factor %g is not > 0", zoom[d]);
    double ci = (double)(c->dim[d] - 1) / 2;
    m.m[d][d] = 1 / zoom[d];
    m.m[d][3] = ci - ci / zoom[d];
  }
  compose(c, &m);
  return DP_OK;
}

dp_status dp_aug_shift(dp_aug_chain *c, const double vox[3]) {
  double t[3];
  for (int d = 0; d < 3; d++) {
    if (!isfinite(vox[d])) return dp__error(DP_EINVAL, "shift %g is not finite", vox[d]);
    t[d] = -vox[d];
  }
  dp_mat4 m = translate(t);
  compose(c, &m);
  return DP_OK;
}

dp_status dp_aug_crop(dp_aug_chain *c, const int64_t lo[3], const int64_t dim[3]) {
  double t[3], n = 1;
  for (int d = 0; d < 3; d++) {
    if (dim[d] < 1) return dp__error(DP_EINVAL, "crop size %lld along axis %d", (long long)dim[d], d);
    n *= (double)dim[d];
    t[d] = (double)lo[d];
  }
  if (n > (double)DP_MAX_VOXELS) return dp__error(DP_ELIMIT, "crop of %.0f voxels is too large", n);
  dp_mat4 m = translate(t);
  compose(c, &m);
  c->affine = dp_mat4_mul(c->affine, m);
  for (int d = 0; d < 3; d++) c->dim[d] = dim[d];
  return DP_OK;
}

dp_status dp_aug_elastic(dp_aug_chain *c, const double alpha[3], const double sigma[3], uint64_t seed) {
  if (c->has_elastic) return dp__error(DP_EINVAL, "one elastic deformation per run of spatial steps");
  for (int d = 0; d < 3; d++)
    if (!(alpha[d] >= 0) || !isfinite(alpha[d]) || !(sigma[d] > 0) || !isfinite(sigma[d]))
      return dp__error(DP_EINVAL, "elastic: alpha %g must be >= 0 and sigma %g > 0", alpha[d], sigma[d]);
  c->has_elastic = 1;
  c->elastic_seed = seed;
  for (int d = 0; d < 3; d++) {
    c->elastic_alpha[d] = alpha[d];
    c->elastic_sigma[d] = sigma[d];
    for (int e = 0; e < 3; e++) c->elastic_to_in[d][e] = c->out_to_in.m[d][e];
  }
  return DP_OK;
}

dp_mat4 dp_aug_world_matrix(const dp_aug_chain *c) {
  dp_mat4 inv = dp_mat4_identity();
  dp_mat4_inverse(c->affine, &inv);
  return dp_mat4_mul(c->in_affine, dp_mat4_mul(c->out_to_in, inv));
}

/* ---- label foreground ------------------------------------------------------ */

int64_t dp_aug_foreground_count(const dp_volume *label) {
  dp__load_fn load = dp__loader(label->dtype);
  int64_t n = label->dim[0] * label->dim[1] * label->dim[2], count = 0;
  for (int64_t i = 0; i < n; i++) count += load(label->data, i) > 0;
  return count;
}

dp_status dp_aug_foreground_voxel(const dp_volume *label, int64_t r, int64_t ijk[3]) {
  dp__load_fn load = dp__loader(label->dtype);
  const int64_t *d = label->dim;
  int64_t n = d[0] * d[1] * d[2];
  for (int64_t i = 0; i < n && r >= 0; i++)
    if (load(label->data, i) > 0 && r-- == 0) {
      ijk[0] = i % d[0];
      ijk[1] = (i / d[0]) % d[1];
      ijk[2] = i / (d[0] * d[1]);
      return DP_OK;
    }
  return dp__error(DP_ERANGE, "the label has fewer than %lld foreground voxels", (long long)r + 1);
}
