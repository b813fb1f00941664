#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "dcmprep/dcmprep.h"
#include "io/nifti_header.h"
#include "testutil.h"

/* An oblique, anisotropic affine with a translation. */
static dp_mat4 oblique(double shear) {
  double a = 0.3, b = -0.2;
  dp_mat4 m = dp_mat4_identity();
  double r[3][3] = {{cos(a), -sin(a) * cos(b), sin(a) * sin(b)},
                    {sin(a), cos(a) * cos(b), -cos(a) * sin(b)},
                    {0, sin(b), cos(b)}};
  double z[3] = {-0.75, 0.8, 2.5};
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) m.m[i][j] = r[i][j] * z[j];
  }
  m.m[1][2] += shear;
  m.m[0][3] = 120.5;
  m.m[1][3] = -33.25;
  m.m[2][3] = 80;
  return m;
}

/* A volume whose voxel values exercise the whole range of the type. */
static dp_volume *make(dp_dtype t, int64_t ni, int64_t nj, int64_t nk, int64_t nt) {
  int64_t dim[4] = {ni, nj, nk, nt};
  dp_mat4 a = oblique(0);
  dp_volume *v = NULL;
  ck_assert_int_eq(dp_volume_new(dim, t, &a, &v), DP_OK);
  double lo, hi;
  dp_dtype_range(t, &lo, &hi);
  int64_t n = dp_volume_nvox(v);
  uint32_t x = 12345;
  for (int64_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    double u = (double)(x >> 8) / (double)(1u << 24);
    double val = dp_dtype_is_float(t) ? (u - 0.5) * 1e4 + 1e-3 * (double)i
                                      : floor(lo + u * (hi - lo + 1));
    if (i == 0) val = dp_dtype_is_float(t) ? -1e30 : lo;
    if (i == 1) val = dp_dtype_is_float(t) ? 1e30 : hi;
    switch (t) {
      case DP_U8: ((uint8_t *)v->data)[i] = (uint8_t)val; break;
      case DP_I16: ((int16_t *)v->data)[i] = (int16_t)val; break;
      case DP_U16: ((uint16_t *)v->data)[i] = (uint16_t)val; break;
      case DP_I32: ((int32_t *)v->data)[i] = (int32_t)val; break;
      case DP_F32: ((float *)v->data)[i] = (float)val; break;
      case DP_F64: ((double *)v->data)[i] = val; break;
      default: ck_abort();
    }
  }
  return v;
}

static void assert_same(const dp_volume *a, const dp_volume *b, double affine_tol) {
  ck_assert_int_eq(a->dtype, b->dtype);
  for (int d = 0; d < 4; d++) ck_assert_int_eq(a->dim[d], b->dim[d]);
  ck_assert_int_eq(memcmp(a->data, b->data, dp_volume_nbytes(a)), 0);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      ck_assert_double_eq_tol(a->ijk_to_ras.m[i][j], b->ijk_to_ras.m[i][j], affine_tol);
}

START_TEST(round_trip_every_type_version_and_encoding) {
  static const dp_dtype types[] = {DP_U8, DP_I16, DP_U16, DP_I32, DP_F32, DP_F64};
  for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
    for (int version = 1; version <= 2; version++) {
      for (int gz = 0; gz <= 1; gz++) {
        dp_volume *v = make(types[ti], 11, 7, 5, 1);
        char name[64];
        snprintf(name, sizeof name, "rt_%s_v%d.nii%s", dp_dtype_name(types[ti]), version,
                 gz ? ".gz" : "");
        dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
        wo.version = version;
        ck_assert_int_eq(dp_nifti_write(v, dp_test_path(name), &wo), DP_OK);
        dp_volume *r = NULL;
        dp_nifti_info info;
        ck_assert_msg(dp_nifti_read(dp_test_path(name), NULL, &r, &info) == DP_OK, "%s: %s", name,
                      dp_last_error());
        ck_assert_int_eq(info.version, version);
        ck_assert_int_eq(info.gzipped, gz);
        ck_assert_int_eq(info.sform_code, 1);
        ck_assert_int_eq(info.qform_code, 1);
        ck_assert_int_eq(info.xyzt_units, 10);
        ck_assert_int_eq(info.ndim, 3);
        /* NIfTI-1 stores the sform in float32. */
        assert_same(v, r, version == 1 ? 1e-4 : 1e-12);
        /* the qform of an orthogonal affine is the affine itself */
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 4; j++)
            ck_assert_double_eq_tol(info.qform.m[i][j], v->ijk_to_ras.m[i][j], 1e-4);
        ck_assert_ptr_nonnull(strstr(dp_volume_meta_get(r, "nifti_descrip", NULL), "dcmprep"));
        dp_volume_free(v);
        dp_volume_free(r);
      }
    }
  }
}
END_TEST

/* A big-endian file, as other tools write it: our header encoder (host
 * order) followed by swapping every field of the NIfTI-1 layout. */
static void swap(unsigned char *p, int n) {
  for (int a = 0, b = n - 1; a < b; a++, b--) {
    unsigned char t = p[a];
    p[a] = p[b];
    p[b] = t;
  }
}

START_TEST(reads_big_endian) {
  dp_volume *v = make(DP_I16, 6, 5, 4, 1);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("le.nii"), NULL), DP_OK);
  FILE *f = fopen(dp_test_path("le.nii"), "rb");
  unsigned char buf[352 + 240];
  ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), sizeof buf);
  fclose(f);
  /* NIfTI-1 field sizes, in order, up to the magic (348 bytes). */
  static const struct { int off, size, count; } fields[] = {
      {0, 4, 1}, {32, 4, 1}, {36, 2, 1}, {40, 2, 8}, {56, 4, 3}, {68, 2, 4},
      {76, 4, 8}, {108, 4, 3}, {120, 2, 1}, {124, 4, 4}, {140, 4, 2},
      {252, 2, 2}, {256, 4, 6}, {280, 4, 12}};
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    for (int c = 0; c < fields[i].count; c++) swap(buf + fields[i].off + c * fields[i].size, fields[i].size);
  for (int i = 0; i < 120; i++) swap(buf + 352 + 2 * i, 2);
  f = fopen(dp_test_path("be.nii"), "wb");
  fwrite(buf, 1, sizeof buf, f);
  fclose(f);
  dp_volume *r = NULL;
  dp_nifti_info info;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("be.nii"), NULL, &r, &info), DP_OK);
  ck_assert_int_eq(info.big_endian, 1);
  assert_same(v, r, 1e-4);
  dp_volume_free(v);
  dp_volume_free(r);
}
END_TEST

START_TEST(four_d_keeps_time_step) {
  dp_volume *v = make(DP_F32, 4, 3, 2, 5);
  v->t_step = 2.5;
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("t.nii.gz"), NULL), DP_OK);
  dp_volume *r = NULL;
  dp_nifti_info info;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("t.nii.gz"), NULL, &r, &info), DP_OK);
  ck_assert_int_eq(info.ndim, 4);
  ck_assert_double_eq(r->t_step, 2.5);
  assert_same(v, r, 1e-4);
  dp_volume_free(v);
  dp_volume_free(r);
}
END_TEST

START_TEST(nifti2_when_a_dimension_exceeds_32767) {
  dp_volume *v = make(DP_U8, 40000, 2, 1, 1);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("wide.nii.gz"), NULL), DP_OK);
  dp_nifti_info info;
  ck_assert_int_eq(dp_nifti_read_info(dp_test_path("wide.nii.gz"), &info), DP_OK);
  ck_assert_int_eq(info.version, 2);
  ck_assert_int_eq(info.dim[0], 40000);
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.version = 1;
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("wide1.nii"), &wo), DP_ERANGE);
  ck_assert_int_ne(access(dp_test_path("wide1.nii"), F_OK), 0);
  dp_volume_free(v);
}
END_TEST

START_TEST(sheared_affine_gets_nearest_rigid_qform) {
  dp_volume *v = make(DP_I16, 5, 5, 5, 1);
  v->ijk_to_ras = oblique(0.9);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("shear.nii"), NULL), DP_OK);
  dp_nifti_info info;
  ck_assert_int_eq(dp_nifti_read_info(dp_test_path("shear.nii"), &info), DP_OK);
  /* sform is the affine; qform is the rotation of the affine's polar
   * decomposition, scaled by the column norms. */
  double r[3][3], sp[3];
  ck_assert_int_eq(dp_affine_rotation(&v->ijk_to_ras, r), DP_OK);
  dp_affine_spacing(&v->ijk_to_ras, sp);
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) {
      ck_assert_double_eq_tol(info.sform.m[i][j], v->ijk_to_ras.m[i][j], 1e-5);
      ck_assert_double_eq_tol(info.qform.m[i][j], r[i][j] * sp[j], 1e-4);
    }
    ck_assert_double_eq_tol(info.qform.m[i][3], v->ijk_to_ras.m[i][3], 1e-4);
  }
  ck_assert_double_eq_tol(dp_affine_shear_deg(&info.qform), 0, 1e-3);
  ck_assert_double_gt(dp_affine_shear_deg(&info.sform), 5);
  dp_volume_free(v);
}
END_TEST

static void read_file(const char *p, unsigned char **buf, size_t *n) {
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  *buf = malloc(*n);
  ck_assert_uint_eq(fread(*buf, 1, *n, f), *n);
  fclose(f);
}

static void write_file(const char *p, const void *buf, size_t n) {
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
  fclose(f);
}

START_TEST(gzip_is_identical_for_any_thread_count_and_read_by_zlib) {
  dp_volume *v = make(DP_I16, 256, 256, 20, 1); /* 2.5 MiB: several members */
  unsigned char *ref = NULL;
  size_t ref_n = 0;
  for (int threads = 1; threads <= 3; threads++) {
    dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
    wo.threads = threads;
    ck_assert_int_eq(dp_nifti_write(v, dp_test_path("det.nii.gz"), &wo), DP_OK);
    unsigned char *buf;
    size_t n;
    read_file(dp_test_path("det.nii.gz"), &buf, &n);
    if (!ref) {
      ref = buf;
      ref_n = n;
    } else {
      ck_assert_uint_eq(n, ref_n);
      ck_assert_int_eq(memcmp(buf, ref, n), 0);
      free(buf);
    }
  }
  /* zlib's gzread (what nifti_clib and ITK use) reads all members. */
  gzFile g = gzopen(dp_test_path("det.nii.gz"), "rb");
  size_t total = 352 + dp_volume_nbytes(v);
  unsigned char *plain = malloc(total + 16);
  ck_assert_int_eq(gzread(g, plain, (unsigned)(total + 16)), (int)total);
  gzclose(g);
  ck_assert_int_eq(memcmp(plain + 352, v->data, dp_volume_nbytes(v)), 0);
  /* and a stream zlib itself wrote as two members reads back (foreign path) */
  g = gzopen(dp_test_path("zlib.nii.gz"), "wb6");
  gzwrite(g, plain, 1000000);
  gzclose(g);
  g = gzopen(dp_test_path("zlib.nii.gz"), "ab6");
  gzwrite(g, plain + 1000000, (unsigned)(total - 1000000));
  gzclose(g);
  dp_volume *r = NULL;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("zlib.nii.gz"), NULL, &r, NULL), DP_OK);
  assert_same(v, r, 1e-4);
  dp_volume_free(r);
  /* single foreign member */
  g = gzopen(dp_test_path("zlib1.nii.gz"), "wb1");
  gzwrite(g, plain, (unsigned)total);
  gzclose(g);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("zlib1.nii.gz"), NULL, &r, NULL), DP_OK);
  assert_same(v, r, 1e-4);
  dp_volume_free(r);
  free(plain);
  free(ref);
  dp_volume_free(v);
}
END_TEST

START_TEST(damaged_files_are_refused) {
  dp_volume *v = make(DP_I16, 128, 128, 40, 1);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("ok.nii"), NULL), DP_OK);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("ok.nii.gz"), NULL), DP_OK);
  unsigned char *buf;
  size_t n;
  dp_volume *r = (dp_volume *)0x1;

  read_file(dp_test_path("ok.nii"), &buf, &n);
  write_file(dp_test_path("short.nii"), buf, n - 1);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("short.nii"), NULL, &r, NULL), DP_EFORMAT);
  ck_assert_ptr_null(r);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "truncated"));
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "short.nii"));
  write_file(dp_test_path("tiny.nii"), buf, 100);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("tiny.nii"), NULL, &r, NULL), DP_EFORMAT);
  /* absurd dimensions in a small file: refused before allocating */
  unsigned char hdr[352];
  memcpy(hdr, buf, 352);
  int16_t big = 32000;
  for (int i = 0; i < 3; i++) memcpy(hdr + 42 + 2 * i, &big, 2);
  write_file(dp_test_path("huge.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("huge.nii"), NULL, &r, NULL), DP_ELIMIT);
  big = 3000; /* under the voxel limit, far over the file size */
  for (int i = 0; i < 3; i++) memcpy(hdr + 42 + 2 * i, &big, 2);
  write_file(dp_test_path("huge.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("huge.nii"), NULL, &r, NULL), DP_EFORMAT);
  write_file(dp_test_path("huge.nii.gz"), hdr, 0);
  gzFile g = gzopen(dp_test_path("huge.nii.gz"), "wb");
  gzwrite(g, hdr, 352);
  gzclose(g);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("huge.nii.gz"), NULL, &r, NULL), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "cannot hold"));
  int16_t d0 = 9;
  memcpy(hdr, buf, 352);
  memcpy(hdr + 40, &d0, 2);
  write_file(dp_test_path("dim0.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("dim0.nii"), NULL, &r, NULL), DP_EFORMAT);
  int16_t rgb = 128;
  memcpy(hdr, buf, 352);
  memcpy(hdr + 70, &rgb, 2);
  write_file(dp_test_path("rgb.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("rgb.nii"), NULL, &r, NULL), DP_EUNSUPPORTED);
  memcpy(hdr, buf, 352);
  memcpy(hdr + 344, "ni1\0", 4);
  write_file(dp_test_path("pair.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("pair.nii"), NULL, &r, NULL), DP_EUNSUPPORTED);
  memset(hdr, 'x', sizeof hdr);
  write_file(dp_test_path("text.nii"), hdr, 352);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("text.nii"), NULL, &r, NULL), DP_EFORMAT);
  free(buf);

  read_file(dp_test_path("ok.nii.gz"), &buf, &n);
  write_file(dp_test_path("short.nii.gz"), buf, n / 2);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("short.nii.gz"), NULL, &r, NULL), DP_EFORMAT);
  ck_assert_ptr_null(r);
  buf[n / 2] ^= 0x55; /* inside the deflate data of a member */
  write_file(dp_test_path("flip.nii.gz"), buf, n);
  ck_assert_int_eq(dp_nifti_read(dp_test_path("flip.nii.gz"), NULL, &r, NULL), DP_EFORMAT);
  ck_assert_ptr_null(r);
  free(buf);

  ck_assert_int_eq(dp_nifti_read(dp_test_path("absent.nii"), NULL, &r, NULL), DP_ENOTFOUND);
  ck_assert_int_eq(dp_nifti_read(dp_test_dir_buf(), NULL, &r, NULL), DP_EIO);
  dp_volume_free(v);
}
END_TEST

static int count_entries(const char *d) {
  DIR *dd = opendir(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dd)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(dd);
  return n;
}

START_TEST(writes_are_atomic) {
  dp_volume *v = make(DP_I16, 8, 8, 8, 1);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("a.nii.gz"), NULL), DP_OK);
  unsigned char *before;
  size_t nb;
  read_file(dp_test_path("a.nii.gz"), &before, &nb);
  /* a failed write (singular affine) leaves the old file as it was */
  dp_volume *bad;
  ck_assert_int_eq(dp_volume_copy(v, &bad), DP_OK);
  bad->ijk_to_ras.m[0][0] = bad->ijk_to_ras.m[1][0] = bad->ijk_to_ras.m[2][0] = 0;
  ck_assert_int_eq(dp_nifti_write(bad, dp_test_path("a.nii.gz"), NULL), DP_EGEOMETRY);
  unsigned char *after;
  size_t na;
  read_file(dp_test_path("a.nii.gz"), &after, &na);
  ck_assert_uint_eq(na, nb);
  ck_assert_int_eq(memcmp(before, after, na), 0);
  /* the target is a folder: rename fails, nothing is left behind */
  ck_assert_int_eq(mkdir(dp_test_path("folder.nii"), 0755), 0);
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("folder.nii"), NULL), DP_EIO);
  ck_assert_int_eq(count_entries(dp_test_dir_buf()), 2);
  /* missing folder */
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("no/such/x.nii"), NULL), DP_EIO);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "no/such"));
  ck_assert_int_eq(count_entries(dp_test_dir_buf()), 2);
  free(before);
  free(after);
  dp_volume_free(bad);
  dp_volume_free(v);
}
END_TEST

START_TEST(scaling_applied_on_request) {
  dp_volume *v = make(DP_I16, 4, 4, 4, 1);
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.scl_slope = 0.5;
  wo.scl_inter = -10;
  wo.cal_min = -100;
  wo.cal_max = 200;
  wo.descrip = "scaled";
  ck_assert_int_eq(dp_nifti_write(v, dp_test_path("s.nii"), &wo), DP_OK);
  dp_volume *raw = NULL, *sc = NULL;
  dp_nifti_info info;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("s.nii"), NULL, &raw, &info), DP_OK);
  ck_assert_double_eq(info.cal_min, -100);
  ck_assert_double_eq(info.cal_max, 200);
  ck_assert_str_eq(info.descrip, "scaled");
  ck_assert_int_eq(raw->dtype, DP_I16);
  ck_assert_str_eq(dp_volume_meta_get(raw, "nifti_scl_slope", NULL), "0.5");
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1;
  ck_assert_int_eq(dp_nifti_read(dp_test_path("s.nii"), &ro, &sc, NULL), DP_OK);
  ck_assert_int_eq(sc->dtype, DP_F32);
  for (int64_t i = 0; i < 64; i++)
    ck_assert_float_eq(((float *)sc->data)[i], (float)(((int16_t *)v->data)[i] * 0.5 - 10));
  ck_assert_ptr_null(dp_volume_meta_get(sc, "nifti_scl_slope", NULL));
  dp_volume_free(v);
  dp_volume_free(raw);
  dp_volume_free(sc);
}
END_TEST

START_TEST(quaternion_round_trip) {
  /* every signed axis permutation, both handednesses */
  static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (int p = 0; p < 6; p++) {
    for (int s = 0; s < 8; s++) {
      dp_mat4 a = dp_mat4_identity();
      for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 3; i++) a.m[i][j] = 0;
        a.m[perms[p][j]][j] = ((s >> j) & 1 ? -1.0 : 1.0) * (j + 1) * 0.7;
        a.m[j][3] = 10.0 * j - 5;
      }
      double q[3], off[3], qfac, pd[3];
      ck_assert_int_eq(dp__nii_affine_to_quatern(&a, q, off, &qfac, pd), DP_OK);
      dp_mat4 b = dp__nii_quatern_to_affine(q, off, qfac, pd);
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) ck_assert_double_eq_tol(a.m[i][j], b.m[i][j], 1e-9);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("nifti");
  TCase *tc = tcase_create("nifti");
  tcase_add_checked_fixture(tc, dp_test_fixture_dir, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, round_trip_every_type_version_and_encoding);
  tcase_add_test(tc, reads_big_endian);
  tcase_add_test(tc, four_d_keeps_time_step);
  tcase_add_test(tc, nifti2_when_a_dimension_exceeds_32767);
  tcase_add_test(tc, sheared_affine_gets_nearest_rigid_qform);
  tcase_add_test(tc, gzip_is_identical_for_any_thread_count_and_read_by_zlib);
  tcase_add_test(tc, damaged_files_are_refused);
  tcase_add_test(tc, writes_are_atomic);
  tcase_add_test(tc, scaling_applied_on_request);
  tcase_add_test(tc, quaternion_round_trip);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
