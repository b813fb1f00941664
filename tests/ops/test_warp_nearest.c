/* The direct nearest-neighbour rows (integer volumes kept in their type)
 * give the values of the general sampler (the same warp into another type). */
#include <math.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static dp_volume *labels(dp_dtype t) {
  int64_t dim[4] = {23, 19, 17, 2};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, t, NULL, &v), DP_OK);
  uint64_t x = 88172645463325252ull;
  for (int64_t n = 0; n < dp_volume_nvox(v); n++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double val = (double)(x % 250);
    if (t == DP_I16 || t == DP_I32) val -= 120;
    switch (t) {
      case DP_U8: ((uint8_t *)v->data)[n] = (uint8_t)val; break;
      case DP_I16: ((int16_t *)v->data)[n] = (int16_t)val; break;
      case DP_U16: ((uint16_t *)v->data)[n] = (uint16_t)val; break;
      default: ((int32_t *)v->data)[n] = (int32_t)val; break;
    }
  }
  return v;
}

static dp_mat4 mapping(int which) {
  dp_mat4 m = dp_mat4_identity();
  double a = 0.3 + 0.2 * which, z = 0.8 + 0.15 * which;
  m.m[0][0] = cos(a) * z, m.m[0][1] = -sin(a) * z, m.m[1][0] = sin(a) * z, m.m[1][1] = cos(a) * z;
  m.m[2][1] = 0.1 * which, m.m[2][2] = 1.1;
  m.m[0][3] = 3 - which, m.m[1][3] = -2, m.m[2][3] = 0.5 * which;
  return m;
}

START_TEST(direct_equals_general) {
  const dp_dtype types[] = {DP_U8, DP_I16, DP_U16, DP_I32};
  const int64_t dim[3] = {21, 25, 15};
  const int64_t nvox = dim[0] * dim[1] * dim[2];
  float *field = malloc((size_t)(3 * nvox) * sizeof *field);
  for (int64_t n = 0; n < 3 * nvox; n++) field[n] = (float)(1.7 * sin(0.37 * (double)n));
  for (size_t t = 0; t < 4; t++) {
    dp_volume *in = labels(types[t]);
    for (int which = 0; which < 3; which++)
      for (int fill = 0; fill < 3; fill++)
        for (int disp = 0; disp < 2; disp++) {
          dp_mat4 m = mapping(which), aff = dp_mat4_identity();
          dp_warp_opts o = DP_WARP_OPTS_INIT;
          o.interp = DP_INTERP_NEAREST;
          o.fill = fill == 0 ? DP_FILL_MIN : fill == 1 ? DP_FILL_EDGE : DP_FILL_CONSTANT;
          o.fill_value = 7.5; /* stored as 8 in every type */
          o.displacement = disp ? field : NULL;
          o.threads = 1;
          dp_volume *direct = NULL, *general = NULL;
          ck_assert_int_eq(dp_warp(in, dim, &aff, &m, &o, &direct), DP_OK);
          o.dtype = types[t] == DP_I32 ? DP_F64 : DP_I32; /* another type: the general sampler */
          ck_assert_int_eq(dp_warp(in, dim, &aff, &m, &o, &general), DP_OK);
          ck_assert_int_eq(direct->dtype, types[t]);
          int64_t outside = 0, bad = -1;
          for (int64_t n = 0; n < dp_volume_nvox(direct); n++) {
            double a = dp_volume_get(direct, n), b = dp_volume_get(general, n);
            if (types[t] == DP_I32) b = round(b); /* f64 keeps the fill 7.5 unrounded */
            if (fill == 2 && a == 8) outside++;
            if (a != b && bad < 0) bad = n; /* one assertion per case: Check reports each */
          }
          ck_assert_msg(bad < 0, "type %s mapping %d fill %d field %d voxel %lld: %g vs %g",
                        dp_dtype_name(types[t]), which, fill, disp, (long long)bad,
                        bad < 0 ? 0 : dp_volume_get(direct, bad), bad < 0 ? 0 : dp_volume_get(general, bad));
          if (fill == 2) ck_assert_int_gt(outside, 0); /* the fill was exercised */
          dp_volume_free(direct);
          dp_volume_free(general);
        }
    dp_volume_free(in);
  }
  free(field);
}
END_TEST

int main(void) {
  Suite *s = suite_create("warp_nearest");
  TCase *tc = tcase_create("warp_nearest");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, direct_equals_general);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
