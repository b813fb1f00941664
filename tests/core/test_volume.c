#include <float.h>
#include <math.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static dp_volume *make(int64_t i, int64_t j, int64_t k, dp_dtype t) {
  int64_t dim[4] = {i, j, k, 1};
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, t, NULL, &v), DP_OK);
  return v;
}

START_TEST(new_is_zeroed_with_identity) {
  dp_volume *v = make(3, 4, 5, DP_I16);
  ck_assert_int_eq(dp_volume_nvox(v), 60);
  ck_assert_uint_eq(dp_volume_nbytes(v), 120);
  for (int64_t i = 0; i < 60; i++) ck_assert_int_eq(((int16_t *)v->data)[i], 0);
  char code[4];
  dp_volume_axcodes(v, code);
  ck_assert_str_eq(code, "RAS");
  ck_assert_int_eq(v->dim[3], 1);
  dp_volume_free(v);
  dp_volume_free(NULL);
}
END_TEST

START_TEST(bad_dims_refused_before_allocation) {
  dp_volume *v = (dp_volume *)0x1;
  int64_t zero[4] = {3, 0, 5, 1};
  ck_assert_int_eq(dp_volume_new(zero, DP_U8, NULL, &v), DP_EINVAL);
  ck_assert_ptr_null(v);
  int64_t huge[4] = {1 << 20, 1 << 20, 1 << 20, 1};
  ck_assert_int_eq(dp_volume_new(huge, DP_U8, NULL, &v), DP_ELIMIT);
  ck_assert_ptr_null(v);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "exceeds"));
  int64_t over[4] = {INT64_MAX, 2, 1, 1};
  ck_assert_int_eq(dp_volume_new(over, DP_F64, NULL, &v), DP_ELIMIT);
  int64_t ok[4] = {2, 2, 2, 1};
  ck_assert_int_eq(dp_volume_new(ok, DP_DTYPE_NONE, NULL, &v), DP_EINVAL);
}
END_TEST

START_TEST(copy_is_deep) {
  dp_volume *v = make(4, 3, 2, DP_F32);
  for (int i = 0; i < 24; i++) ((float *)v->data)[i] = (float)i * 0.5f;
  v->ijk_to_ras.m[0][3] = 12.5;
  v->t_step = 2.0;
  ck_assert_int_eq(dp_volume_meta_set_str(v, "Modality", "CT"), DP_OK);
  dp_volume *c = NULL;
  ck_assert_int_eq(dp_volume_copy(v, &c), DP_OK);
  ck_assert_ptr_ne(c->data, v->data);
  ck_assert_int_eq(memcmp(c->data, v->data, dp_volume_nbytes(v)), 0);
  ck_assert_double_eq(c->ijk_to_ras.m[0][3], 12.5);
  ck_assert_double_eq(c->t_step, 2.0);
  ck_assert_str_eq(dp_volume_meta_get(c, "Modality", NULL), "CT");
  dp_volume_meta_set_str(v, "Modality", "MR");
  ck_assert_str_eq(dp_volume_meta_get(c, "Modality", NULL), "CT");
  dp_volume_free(v);
  dp_volume_free(c);
}
END_TEST

START_TEST(convert_rounds_and_clamps) {
  dp_volume *v = make(10, 1, 1, DP_F64);
  double in[10] = {-1e9, -32768.6, -2.5, -0.5, 0.49, 0.5, 2.5, 32767.4, 1e9, NAN};
  memcpy(v->data, in, sizeof in);
  dp_volume *o = NULL;
  ck_assert_int_eq(dp_volume_convert(v, DP_I16, &o), DP_OK);
  int16_t want16[10] = {-32768, -32768, -3, -1, 0, 1, 3, 32767, 32767, 0};
  for (int i = 0; i < 10; i++) ck_assert_int_eq(((int16_t *)o->data)[i], want16[i]);
  dp_volume_free(o);
  ck_assert_int_eq(dp_volume_convert(v, DP_U8, &o), DP_OK);
  uint8_t want8[10] = {0, 0, 0, 0, 0, 1, 3, 255, 255, 0};
  for (int i = 0; i < 10; i++) ck_assert_int_eq(((uint8_t *)o->data)[i], want8[i]);
  dp_volume_free(o);
  ck_assert_int_eq(dp_volume_convert(v, DP_F32, &o), DP_OK);
  ck_assert(isnan(((float *)o->data)[9]));
  ck_assert_float_eq(((float *)o->data)[2], -2.5f);
  dp_volume_free(o);
  dp_volume_free(v);
}
END_TEST

/* Every pair of types: exact values survive a conversion that can hold them. */
START_TEST(convert_all_pairs_exact_values) {
  dp_dtype types[] = {DP_U8, DP_I16, DP_U16, DP_I32, DP_F32, DP_F64};
  for (int a = 0; a < 6; a++)
    for (int b = 0; b < 6; b++) {
      dp_volume *v = make(100, 3, 7, types[a]);
      for (int64_t i = 0; i < 2100; i++) {
        double x = (double)(i % 200);
        dp_volume *tmp = v; /* write through a typed store */
        switch (tmp->dtype) {
          case DP_U8: ((uint8_t *)tmp->data)[i] = (uint8_t)x; break;
          case DP_I16: ((int16_t *)tmp->data)[i] = (int16_t)x; break;
          case DP_U16: ((uint16_t *)tmp->data)[i] = (uint16_t)x; break;
          case DP_I32: ((int32_t *)tmp->data)[i] = (int32_t)x; break;
          case DP_F32: ((float *)tmp->data)[i] = (float)x; break;
          default: ((double *)tmp->data)[i] = x; break;
        }
      }
      dp_volume *o = NULL;
      ck_assert_int_eq(dp_volume_convert(v, types[b], &o), DP_OK);
      ck_assert_int_eq(o->dtype, types[b]);
      for (int64_t i = 0; i < 2100; i++) ck_assert_double_eq(dp_volume_get(o, i), (double)(i % 200));
      dp_volume_free(o);
      dp_volume_free(v);
    }
}
END_TEST

START_TEST(stats_match_direct_computation) {
  dp_volume *v = make(301, 17, 5, DP_F32); /* not a multiple of the chunk size */
  int64_t n = dp_volume_nvox(v);
  float *p = v->data;
  double sum = 0;
  for (int64_t i = 0; i < n; i++) {
    p[i] = (float)((i * 7919) % 1000) - 400.25f;
    sum += p[i];
  }
  p[5] = NAN;
  sum -= p[5] != p[5] ? 0 : p[5];
  double mean = 0, m2 = 0, mn = INFINITY, mx = -INFINITY;
  int64_t cnt = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(p[i])) continue;
    cnt++;
    mean += p[i];
    if (p[i] < mn) mn = p[i];
    if (p[i] > mx) mx = p[i];
  }
  mean /= (double)cnt;
  for (int64_t i = 0; i < n; i++)
    if (!isnan(p[i])) m2 += (p[i] - mean) * (p[i] - mean);
  dp_volume_stats st;
  ck_assert_int_eq(dp_volume_compute_stats(v, &st), DP_OK);
  ck_assert_int_eq(st.count, cnt);
  ck_assert_int_eq(st.nan_count, 1);
  ck_assert_double_eq(st.min, mn);
  ck_assert_double_eq(st.max, mx);
  ck_assert_double_eq_tol(st.mean, mean, 1e-9);
  ck_assert_double_eq_tol(st.std, sqrt(m2 / (double)cnt), 1e-9);
  dp_volume_free(v);
}
END_TEST

START_TEST(metadata_order_replace_remove) {
  dp_volume *v = make(1, 1, 1, DP_U8);
  ck_assert_uint_eq(dp_volume_meta_count(v), 0);
  ck_assert_ptr_null(dp_volume_meta_get(v, "x", NULL));
  ck_assert_int_eq(dp_volume_meta_set_str(v, "b", "two"), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_num(v, "a", 0.1), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_json(v, "c", "[1, 2, {\"x\": \"]\"}]"), DP_OK);
  ck_assert_int_eq(dp_volume_meta_set_str(v, "b", "deux"), DP_OK);
  ck_assert_uint_eq(dp_volume_meta_count(v), 3);
  const char *k, *val;
  dp_meta_type t;
  ck_assert_int_eq(dp_volume_meta_at(v, 0, &k, &val, &t), DP_OK);
  ck_assert_str_eq(k, "b");
  ck_assert_str_eq(val, "deux");
  ck_assert_int_eq(t, DP_META_STRING);
  ck_assert_int_eq(dp_volume_meta_at(v, 1, &k, &val, &t), DP_OK);
  ck_assert_double_eq(strtod(val, NULL), 0.1);
  ck_assert_int_eq(t, DP_META_NUMBER);
  ck_assert_int_eq(dp_volume_meta_at(v, 3, &k, &val, &t), DP_ERANGE);
  ck_assert_int_eq(dp_volume_meta_set_json(v, "bad", "[1, 2"), DP_EINVAL);
  ck_assert_int_eq(dp_volume_meta_set_json(v, "bad", ""), DP_EINVAL);
  ck_assert_int_eq(dp_volume_meta_set_num(v, "inf", INFINITY), DP_OK);
  ck_assert_str_eq(dp_volume_meta_get(v, "inf", &t), "null");
  dp_volume_meta_remove(v, "b");
  dp_volume_meta_remove(v, "absent");
  ck_assert_uint_eq(dp_volume_meta_count(v), 3);
  ck_assert_int_eq(dp_volume_meta_at(v, 0, &k, NULL, NULL), DP_OK);
  ck_assert_str_eq(k, "a");
  dp_volume_free(v);
}
END_TEST

START_TEST(dtype_table) {
  dp_dtype t;
  ck_assert_int_eq(dp_dtype_parse("int16", &t), DP_OK);
  ck_assert_int_eq(t, DP_I16);
  ck_assert_int_eq(dp_dtype_parse("F32", &t), DP_OK);
  ck_assert_int_eq(t, DP_F32);
  ck_assert_int_eq(dp_dtype_parse("int8", &t), DP_EINVAL);
  ck_assert_uint_eq(dp_dtype_size(DP_U16), 2);
  ck_assert_uint_eq(dp_dtype_size(DP_F64), 8);
  ck_assert_uint_eq(dp_dtype_size(DP_DTYPE_NONE), 0);
  ck_assert_str_eq(dp_dtype_name(DP_I32), "i32");
  double lo, hi;
  dp_dtype_range(DP_I16, &lo, &hi);
  ck_assert_double_eq(lo, -32768);
  ck_assert_double_eq(hi, 32767);
  ck_assert(dp_dtype_is_float(DP_F64));
  ck_assert(!dp_dtype_is_float(DP_U8));
}
END_TEST

int main(void) {
  Suite *s = suite_create("volume");
  TCase *tc = tcase_create("volume");
  tcase_add_test(tc, new_is_zeroed_with_identity);
  tcase_add_test(tc, bad_dims_refused_before_allocation);
  tcase_add_test(tc, copy_is_deep);
  tcase_add_test(tc, convert_rounds_and_clamps);
  tcase_add_test(tc, convert_all_pairs_exact_values);
  tcase_add_test(tc, stats_match_direct_computation);
  tcase_add_test(tc, metadata_order_replace_remove);
  tcase_add_test(tc, dtype_table);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
