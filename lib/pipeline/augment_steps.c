/* Running the augmentation steps: draw each step's parameters from the
 * counter-based generator, compose a run of spatial steps into one chain
 * applied with one warp per volume, and record what was drawn. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/augment_internal.h"
#include "dcmprep/augment.h"
#include "dcmprep/rng.h"
#include "pipeline/pipeline_internal.h"

/* The step's word, from the step table. */
static const char *step_name(dp_step_kind k) {
  const dp__step_def *d = dp__step_of_kind(k);
  return d ? d->desc.name : "?";
}

static uint64_t step_key(const dp_pipeline_settings *st, int index) {
  return dp_rng_key(st->seed, st->name_hash, st->variant, (uint64_t)index);
}

/* Draw 0 of every step decides whether it applies (drawn even when P = 1,
 * so that changing P never shifts the other draws). */
static int applies(const dp_step *sp, uint64_t key) {
  return dp_rng_uniform(key, 0) < sp->prob;
}

/* Voxel axes selected by a flip's axes bits: 0-2 directly, 3-5 through the
 * world axis each voxel axis points along. */
static dp_status flip_axes(const dp_step *sp, const dp_aug_chain *c, int sel[3]) {
  int axis[3], dir[3];
  dp_status s = dp_affine_orientation(&c->affine, axis, dir);
  if (s != DP_OK) return s;
  for (int d = 0; d < 3; d++) sel[d] = ((sp->axes >> d) & 1) || ((sp->axes >> (3 + axis[d])) & 1);
  return DP_OK;
}

/* The crop box of rand-crop (uniform) and rand-crop-label. */
static dp_status crop_box(const dp_step *sp, uint64_t key, const dp_aug_chain *c, const dp_volume *lab,
                          int64_t lo[3], dp__json *j) {
  int64_t a[3], b[3];
  for (int d = 0; d < 3; d++) { /* the boxes inside the grid (or holding it, when larger) */
    int64_t span = c->dim[d] - sp->n[d];
    a[d] = span < 0 ? span : 0;
    b[d] = span < 0 ? 0 : span;
    lo[d] = dp_rng_int(key, 3 + (uint64_t)d, a[d], b[d]);
  }
  if (sp->kind == DP_STEP_RAND_CROP) return DP_OK;
  if (!lab) return dp__error(DP_EINVAL, "--rand-crop-label needs a label volume (--label)");
  int pos = dp_rng_uniform(key, 1) < sp->v[0];
  int64_t count = pos ? dp_aug_foreground_count(lab) : 0;
  dp__json_num(j, "pos_ratio", sp->v[0]);
  if (!pos || count == 0) {
    dp__json_str(j, "centre", pos ? "anywhere (the label is empty)" : "anywhere");
    return DP_OK;
  }
  int64_t ijk[3];
  dp_status s = dp_aug_foreground_voxel(lab, dp_rng_int(key, 2, 0, count - 1), ijk);
  if (s != DP_OK) return s;
  /* the label voxel's position on the current grid (the affine part of the
   * steps before: an elastic field before the crop is not inverted) */
  dp_mat4 inv;
  s = dp_mat4_inverse(c->out_to_in, &inv);
  if (s != DP_OK) return s;
  double p[3], q[3];
  for (int d = 0; d < 3; d++) p[d] = (double)ijk[d];
  dp_mat4_apply(&inv, p, q);
  for (int d = 0; d < 3; d++) {
    int64_t centre = (int64_t)floor(q[d] + 0.5);
    lo[d] = centre - sp->n[d] / 2;
    lo[d] = lo[d] < a[d] ? a[d] : lo[d] > b[d] ? b[d] : lo[d];
  }
  dp__json_str(j, "centre", "label");
  dp__json_ivec3(j, "label_voxel", ijk);
  return DP_OK;
}

/* Draws one spatial step's parameters, adds it to the chain and records it. */
static dp_status add_step(const dp_step *sp, int index, const dp_pipeline_settings *st, dp_aug_chain *c,
                          const dp_volume *lab, dp__json *j) {
  uint64_t key = step_key(st, index);
  dp__json_str(j, "step", step_name(sp->kind));
  dp__json_int(j, "index", index);
  dp__json_num(j, "p", sp->prob);
  int on = applies(sp, key);
  dp__json_bool(j, "applied", on);
  if (!on) return DP_OK;
  double sp_mm[3], v[3];
  dp_affine_spacing(&c->affine, sp_mm);
  dp_status s = DP_OK;
  switch (sp->kind) {
    case DP_STEP_FLIP:
    case DP_STEP_RAND_FLIP: {
      int sel[3], f[3];
      s = flip_axes(sp, c, sel);
      if (s != DP_OK) return s;
      dp__json_begin_array(j, "flipped");
      for (int d = 0; d < 3; d++) {
        f[d] = sel[d] && (sp->kind == DP_STEP_FLIP || dp_rng_uniform(key, 1 + (uint64_t)d) < 0.5);
        dp__json_bool(j, NULL, f[d]);
      }
      dp__json_end_array(j);
      dp_aug_flip(c, f);
      return DP_OK;
    }
    case DP_STEP_RAND_ROTATE:
      for (int d = 0; d < 3; d++) v[d] = dp_rng_range(key, 1 + (uint64_t)d, sp->lo[d], sp->hi[d]);
      dp__json_vec3(j, "angles_deg", v);
      return dp_aug_rotate(c, v);
    case DP_STEP_RAND_ZOOM:
      for (int d = 0; d < 3; d++)
        v[d] = dp_rng_range(key, 1 + (uint64_t)(st->anisotropic ? d : 0), sp->lo[0], sp->hi[0]);
      dp__json_bool(j, "anisotropic", st->anisotropic);
      dp__json_vec3(j, "zoom", v);
      return dp_aug_zoom(c, v);
    case DP_STEP_RAND_SHIFT: {
      double mm[3];
      for (int d = 0; d < 3; d++) {
        double t = dp_rng_range(key, 1 + (uint64_t)d, sp->lo[d], sp->hi[d]);
        v[d] = sp->mode ? t / 100 * (double)c->dim[d] : t / sp_mm[d];
        mm[d] = v[d] * sp_mm[d];
      }
      dp__json_vec3(j, "shift_voxels", v);
      dp__json_vec3(j, "shift_mm", mm);
      return dp_aug_shift(c, v);
    }
    case DP_STEP_RAND_ELASTIC: {
      double alpha[3], sigma[3];
      for (int d = 0; d < 3; d++) {
        alpha[d] = sp->mode ? sp->v[0] / sp_mm[d] : sp->v[0];
        sigma[d] = sp->mode ? sp->v[1] / sp_mm[d] : sp->v[1];
      }
      uint64_t seed = dp_rng_u64(key, 1) >> 11; /* 53 bits: exact in JSON */
      dp__json_int(j, "field_seed", (int64_t)seed);
      dp__json_num(j, "alpha", sp->v[0]);
      dp__json_num(j, "sigma", sp->v[1]);
      dp__json_str(j, "units", sp->mode ? "mm" : "voxels");
      dp__json_vec3(j, "alpha_voxels", alpha);
      dp__json_vec3(j, "sigma_voxels", sigma);
      return dp_aug_elastic(c, alpha, sigma, seed);
    }
    case DP_STEP_RAND_CROP:
    case DP_STEP_RAND_CROP_LABEL: {
      int64_t lo[3];
      s = crop_box(sp, key, c, lab, lo, j);
      if (s != DP_OK) return s;
      dp__json_ivec3(j, "origin_voxel", lo);
      dp__json_ivec3(j, "shape", sp->n);
      return dp_aug_crop(c, lo, sp->n);
    }
    default: return dp__error(DP_EINVAL, "step %d is not a spatial augmentation", (int)sp->kind);
  }
}

dp_status dp__run_augment_spatial(const dp_step *steps, int first, int count,
                                  const dp_pipeline_settings *st, const dp_volume *img,
                                  const dp_volume *lab, dp_volume **nimg, dp_volume **nlab,
                                  dp__json *j) {
  dp_aug_chain c;
  dp_aug_chain_init(&c, img);
  dp__json_str(j, "step", "augment");
  dp__json_int(j, "seed", (int64_t)st->seed);
  dp__json_int(j, "variant", (int64_t)st->variant);
  dp__json_begin_array(j, "steps");
  dp_status s = DP_OK;
  for (int i = first; i < first + count && s == DP_OK; i++) {
    dp__json_begin_object(j, NULL);
    s = add_step(&steps[i], i, st, &c, lab, j);
    dp__json_end_object(j);
  }
  dp__json_end_array(j);
  if (s != DP_OK) return s;
  /* the elastic field (if any) is made row by row as the warps need it,
   * from its coarse grid: image and label get the same rows */
  dp__aug_rows rows;
  int elastic = c.has_elastic;
  s = elastic ? dp__aug_rows_make(&c, st->threads, &rows) : DP_OK;
  dp_warp_opts w = DP_WARP_OPTS_INIT;
  w.interp = st->interp;
  w.fill = st->fill;
  w.fill_value = st->fill_value;
  w.threads = st->threads;
  if (s == DP_OK) s = dp__aug_apply_rows(&c, img, elastic ? &rows : NULL, &w, nimg);
  if (s == DP_OK && lab) {
    w.interp = st->label_interp;
    w.fill = DP_FILL_CONSTANT;
    w.fill_value = 0;
    s = dp__aug_apply_rows(&c, lab, elastic ? &rows : NULL, &w, nlab);
  }
  if (elastic) dp__aug_rows_free(&rows);
  if (s != DP_OK) return s;
  dp__json_ivec3(j, "shape_before", img->dim);
  dp__json_ivec3(j, "shape", c.dim);
  dp__json_mat4(j, "voxel_out_to_in", &c.out_to_in);
  dp_mat4 world = dp_aug_world_matrix(&c);
  dp__json_mat4(j, "world_out_to_in", &world);
  dp__json_bool(j, "elastic", c.has_elastic);
  dp__json_str(j, "interp", dp_interp_name(st->interp));
  dp__json_str(j, "fill", dp__fill_name(st->fill));
  if (st->fill == DP_FILL_CONSTANT) dp__json_num(j, "fill_value", st->fill_value);
  if (lab) dp__json_str(j, "label_interp", dp_interp_name(st->label_interp));
  dp__json_mat4(j, "ijk_to_ras", &c.affine);
  return DP_OK;
}

dp_status dp__run_augment_intensity(const dp__step_run *r) {
  const dp_step *sp = r->step;
  const int index = r->index;
  const dp_pipeline_settings *st = r->st;
  const dp_volume *img = r->img;
  dp_volume **nimg = r->nimg;
  dp__json *j = r->j;
  uint64_t key = step_key(st, index);
  dp__json_str(j, "step", step_name(sp->kind));
  dp__json_int(j, "index", index);
  dp__json_int(j, "seed", (int64_t)st->seed);
  dp__json_int(j, "variant", (int64_t)st->variant);
  dp__json_num(j, "p", sp->prob);
  int on = applies(sp, key);
  dp__json_bool(j, "applied", on);
  if (!on) return dp_volume_copy(img, nimg);
  double v = dp_rng_range(key, 1, sp->lo[0], sp->hi[0]);
  switch (sp->kind) {
    case DP_STEP_RAND_NOISE:
      dp__json_num(j, "std", sp->v[0]);
      return dp_aug_noise(img, sp->v[0], dp_rng_subkey(key, 1), st->threads, nimg);
    case DP_STEP_RAND_GAMMA:
      dp__json_num(j, "gamma", v);
      return dp_aug_gamma(img, v, st->threads, nimg);
    case DP_STEP_RAND_SCALE:
      dp__json_num(j, "scale", v);
      return dp_aug_scale_offset(img, v, 0.0, st->threads, nimg);
    case DP_STEP_RAND_OFFSET:
      dp__json_num(j, "offset", v);
      return dp_aug_scale_offset(img, 1.0, v, st->threads, nimg);
    default: return dp__error(DP_EINVAL, "step %d is not an intensity augmentation", (int)sp->kind);
  }
}
