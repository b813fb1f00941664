/* Anti-aliased linear resampling (lib/ops/warp_smooth.c) gives the bytes of
 * its definition: dp_gaussian of the input, then dp_warp with linear
 * interpolation onto the same grid. */
#include <math.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static dp_volume *make(dp_dtype t, int64_t nx, int64_t ny, int64_t nz, int64_t nt) {
  int64_t dim[4] = {nx, ny, nz, nt};
  dp_mat4 a = dp_mat4_identity();
  a.m[0][0] = -0.7;
  a.m[1][1] = 0.8;
  a.m[2][2] = 2.5;
  a.m[0][3] = 10;
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, t, &a, &v), DP_OK);
  uint32_t x = 7;
  for (int64_t i = 0; i < dp_volume_nvox(v); i++) {
    x = x * 1103515245u + 12345u;
    double val = 100 * sin((double)i * 0.001) + (double)(x >> 24);
    switch (t) {
      case DP_U8: ((uint8_t *)v->data)[i] = (uint8_t)(x >> 24); break;
      case DP_I16: ((int16_t *)v->data)[i] = (int16_t)(val * 5 - 300); break;
      case DP_U16: ((uint16_t *)v->data)[i] = (uint16_t)(val * 10 + 2000); break;
      case DP_I32: ((int32_t *)v->data)[i] = (int32_t)(val * 1000); break;
      default: ((float *)v->data)[i] = (float)(val * 0.37); break;
    }
  }
  return v;
}

/* The definition, spelled out: dp_resample_grid's grid and sigma, the
 * Gaussian, the warp (fill resolved as dp_resample does). */
static dp_volume *by_definition(const dp_volume *in, const dp_resample_opts *o) {
  int64_t dim[3];
  dp_mat4 aff, m;
  double sigma[3];
  ck_assert_int_eq(dp_resample_grid(in, o, dim, &aff, &m, sigma), DP_OK);
  ck_assert(sigma[0] > 0 || sigma[1] > 0 || sigma[2] > 0);
  dp_volume *g = NULL, *out = NULL;
  ck_assert_int_eq(dp_gaussian(in, sigma, 1, &g), DP_OK);
  dp_warp_opts w = DP_WARP_OPTS_INIT;
  w.interp = DP_INTERP_LINEAR;
  w.fill = o->fill == DP_FILL_EDGE ? DP_FILL_EDGE : DP_FILL_CONSTANT;
  w.fill_value = o->fill_value;
  if (o->fill == DP_FILL_MIN) {
    dp_volume_stats st;
    ck_assert_int_eq(dp_volume_compute_stats(in, &st), DP_OK);
    w.fill_value = st.min;
  }
  w.dtype = in->dtype;
  w.threads = 1;
  ck_assert_int_eq(dp_warp(g, dim, &aff, &m, &w, &out), DP_OK);
  dp_volume_free(g);
  return out;
}

static void same(dp_dtype t, int64_t nt, const double sp[3], dp_fill fill, double fill_value, int threads) {
  dp_volume *in = make(t, 47, 39, 17, nt);
  dp_resample_opts o = DP_RESAMPLE_OPTS_INIT;
  for (int d = 0; d < 3; d++) o.spacing[d] = sp[d];
  o.fill = fill;
  o.fill_value = fill_value;
  o.threads = threads;
  dp_volume *a = NULL, *b = by_definition(in, &o);
  ck_assert_int_eq(dp_resample(in, &o, &a), DP_OK);
  ck_assert(a->dtype == b->dtype && a->dim[0] == b->dim[0] && a->dim[1] == b->dim[1] &&
            a->dim[2] == b->dim[2] && a->dim[3] == b->dim[3]);
  ck_assert_msg(memcmp(a->data, b->data, dp_volume_nbytes(a)) == 0,
                "%s, spacing %g,%g,%g, fill %d, %d threads: not the bytes of the definition", dp_dtype_name(t),
                sp[0], sp[1], sp[2], (int)fill, threads);
  dp_volume_free(a);
  dp_volume_free(b);
  dp_volume_free(in);
}

START_TEST(fused_equals_definition) {
  static const dp_dtype types[] = {DP_U8, DP_I16, DP_U16, DP_I32, DP_F32};
  static const double sp[][3] = {{1.0, 1.0, 1.0},   /* smoothing along i and j, upsampling along k */
                                 {1.4, 2.0, 6.0},   /* along every axis */
                                 {0.7, 3.1, 2.5},   /* one axis only */
                                 {2.2, 0.5, 26.0}}; /* strong along k */
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
    for (size_t s = 0; s < sizeof sp / sizeof sp[0]; s++) {
      same(types[t], 1, sp[s], DP_FILL_MIN, 0, 2);
      same(types[t], 1, sp[s], DP_FILL_EDGE, 0, 1);
    }
  same(DP_I16, 3, sp[1], DP_FILL_CONSTANT, -7, 3); /* 4-D, constant fill, 3 threads */
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("warp_smooth");
  TCase *t = tcase_create("ops");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, fused_equals_definition);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return dp_test_run(suite()); }
