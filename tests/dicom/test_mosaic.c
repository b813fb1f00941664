/* Siemens CSA header parsing and mosaic tile geometry (csa.c, mosaic.c),
 * against hand-built headers and hand-computed positions. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcmprep/status.h"
#include "dicom/csa.h"
#include "dicom/mosaic.h"
#include "testutil.h"

/* A CSA2 buffer builder. */
typedef struct {
  uint8_t b[4096];
  size_t n;
} csa_buf;

static void put32(csa_buf *c, uint32_t v) {
  for (int i = 0; i < 4; i++) c->b[c->n++] = (uint8_t)(v >> (8 * i));
}

static void put_tag(csa_buf *c, const char *name, int nvals, const char *const *vals) {
  memset(c->b + c->n, 0, 64);
  memcpy(c->b + c->n, name, strlen(name));
  c->n += 64;
  put32(c, (uint32_t)nvals); /* vm */
  memcpy(c->b + c->n, "FD\0\0", 4);
  c->n += 4;
  put32(c, 4);               /* syngodt */
  put32(c, (uint32_t)nvals); /* nitems */
  put32(c, 77);
  for (int i = 0; i < nvals; i++) {
    uint32_t len = (uint32_t)strlen(vals[i]) + 1;
    put32(c, len);
    put32(c, len);
    put32(c, 77);
    put32(c, len);
    memset(c->b + c->n, 0, (len + 3) & ~3u);
    memcpy(c->b + c->n, vals[i], len - 1);
    c->n += (len + 3) & ~3u;
  }
}

static void csa_example(csa_buf *c) {
  memset(c, 0, sizeof *c);
  memcpy(c->b, "SV10\4\3\2\1", 8);
  c->n = 8;
  put32(c, 3);
  put32(c, 77);
  const char *echo[] = {"30.0"};
  const char *normal[] = {"0.0", "-0.5", "-0.8660254"};
  const char *mosaic[] = {"35"};
  put_tag(c, "EchoTime", 1, echo);
  put_tag(c, "SliceNormalVector", 3, normal);
  put_tag(c, "NumberOfImagesInMosaic", 1, mosaic);
}

START_TEST(csa_finds_values) {
  csa_buf c;
  csa_example(&c);
  double v[4] = {0};
  ck_assert_int_eq(dp__csa_numbers(c.b, c.n, "SliceNormalVector", v, 4), 3);
  ck_assert_double_eq_tol(v[1], -0.5, 1e-12);
  ck_assert_double_eq_tol(v[2], -0.8660254, 1e-12);
  ck_assert_int_eq(dp__csa_numbers(c.b, c.n, "NumberOfImagesInMosaic", v, 1), 1);
  ck_assert_double_eq(v[0], 35);
  ck_assert_int_eq(dp__csa_numbers(c.b, c.n, "EchoTime", v, 1), 1);
  ck_assert_int_eq(dp__csa_numbers(c.b, c.n, "NoSuchElement", v, 1), 0);
  /* max limits what is written */
  v[1] = 42;
  ck_assert_int_eq(dp__csa_numbers(c.b, c.n, "SliceNormalVector", v, 1), 1);
  ck_assert_double_eq(v[1], 42);
}
END_TEST

START_TEST(csa_damaged_is_refused) {
  csa_buf c;
  csa_example(&c);
  double v[3];
  /* every truncation before the value's last padding byte finds nothing or
   * reports damage, and never reads past the end (valgrind/ASan check that) */
  for (size_t n = 0; n + 4 < c.n; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, c.b, n);
    int r = dp__csa_numbers(copy, n, "NumberOfImagesInMosaic", v, 1);
    ck_assert_int_le(r, 0);
    free(copy);
  }
  ck_assert_int_eq(dp__csa_numbers((const uint8_t *)"not a CSA header", 16, "X", v, 1), -1);
  /* an item length running past the end */
  csa_buf d;
  csa_example(&d);
  d.b[16 + 84 + 4] = 0xff;
  d.b[16 + 84 + 5] = 0xff;
  ck_assert_int_eq(dp__csa_numbers(d.b, d.n, "SliceNormalVector", v, 3), -1);
}
END_TEST

static dp__slice mosaic_header(void) {
  dp__slice m;
  memset(&m, 0, sizeof m);
  m.path = (char *)"mosaic.dcm";
  m.rows = 384; /* 6 x 6 tiles of 64 x 64 */
  m.cols = 384;
  m.mosaic = 35;
  m.spacing[0] = 3.0; /* between rows */
  m.spacing[1] = 2.0; /* between columns */
  m.between = 3.6;
  m.ipp[0] = -100;
  m.ipp[1] = -120;
  m.ipp[2] = 10;
  double iop[6] = {1, 0, 0, 0, 1, 0};
  memcpy(m.iop, iop, sizeof iop);
  return m;
}

START_TEST(mosaic_tiles_and_positions) {
  dp__slice m = mosaic_header();
  dp__slice *t = NULL;
  int n = 0;
  ck_assert_int_eq(dp__mosaic_expand(&m, NULL, &t, &n), DP_OK);
  ck_assert_int_eq(n, 35);
  /* corner moves by half the mosaic minus half a tile, in each direction:
   * x: 2 mm * (384 - 64) / 2 = 320 mm; y: 3 mm * 320 / 2 = 480 mm */
  ck_assert_double_eq_tol(t[0].ipp[0], -100 + 320, 1e-9);
  ck_assert_double_eq_tol(t[0].ipp[1], -120 + 480, 1e-9);
  ck_assert_double_eq_tol(t[0].ipp[2], 10, 1e-9);
  /* then along the normal (0, 0, 1) by SpacingBetweenSlices */
  ck_assert_double_eq_tol(t[34].ipp[2], 10 + 34 * 3.6, 1e-9);
  ck_assert_double_eq_tol(t[34].ipp[0], t[0].ipp[0], 1e-12);
  for (int k = 0; k < n; k++) {
    ck_assert_int_eq(t[k].rows, 64);
    ck_assert_int_eq(t[k].cols, 64);
    ck_assert_int_eq(t[k].mosaic_rows, 384);
    ck_assert_int_eq(t[k].mosaic_cols, 384);
    ck_assert_int_eq(t[k].mosaic_tile, k);
    ck_assert_str_eq(t[k].path, "mosaic.dcm");
    free(t[k].path);
  }
  free(t);
}
END_TEST

START_TEST(mosaic_follows_csa_slice_normal) {
  dp__slice m = mosaic_header();
  dp__slice *t = NULL;
  int n = 0;
  double down[3] = {0.01, 0, -0.9999}; /* tiles go towards the feet */
  ck_assert_int_eq(dp__mosaic_expand(&m, down, &t, &n), DP_OK);
  ck_assert_double_eq_tol(t[1].ipp[2] - t[0].ipp[2], -3.6, 1e-9);
  for (int k = 0; k < n; k++) free(t[k].path);
  free(t);
  double up[3] = {0, 0, 1};
  ck_assert_int_eq(dp__mosaic_expand(&m, up, &t, &n), DP_OK);
  ck_assert_double_eq_tol(t[1].ipp[2] - t[0].ipp[2], 3.6, 1e-9);
  for (int k = 0; k < n; k++) free(t[k].path);
  free(t);
}
END_TEST

START_TEST(mosaic_bad_headers_refused) {
  dp__slice m = mosaic_header();
  dp__slice *t = (dp__slice *)0x1;
  int n = 7;
  m.cols = 383; /* not divisible into 6 tiles */
  ck_assert_int_eq(dp__mosaic_expand(&m, NULL, &t, &n), DP_EFORMAT);
  ck_assert_ptr_null(t);
  ck_assert_int_eq(n, 0);
  m = mosaic_header();
  m.between = 0;
  m.thickness = 0;
  ck_assert_int_eq(dp__mosaic_expand(&m, NULL, &t, &n), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "SpacingBetweenSlices"));
  m = mosaic_header();
  m.mosaic = 100000;
  ck_assert_int_eq(dp__mosaic_expand(&m, NULL, &t, &n), DP_EFORMAT);
  /* SliceThickness stands in for a missing SpacingBetweenSlices */
  m = mosaic_header();
  m.between = 0;
  m.thickness = 2.5;
  ck_assert_int_eq(dp__mosaic_expand(&m, NULL, &t, &n), DP_OK);
  ck_assert_double_eq_tol(t[1].ipp[2] - t[0].ipp[2], 2.5, 1e-9);
  for (int k = 0; k < n; k++) free(t[k].path);
  free(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mosaic");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, csa_finds_values);
  tcase_add_test(tc, csa_damaged_is_refused);
  tcase_add_test(tc, mosaic_tiles_and_positions);
  tcase_add_test(tc, mosaic_follows_csa_slice_normal);
  tcase_add_test(tc, mosaic_bad_headers_refused);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
