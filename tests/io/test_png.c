#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* An independent PNG reader for what the writer may produce: checks the
 * signature, every chunk's CRC and the chunk order, inflates the IDAT data
 * and undoes the filters.  Returns the pixels (caller frees) or NULL. */
static unsigned char *decode(const unsigned char *buf, size_t len, int *w, int *h, int *ch,
                             int *nidat) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  ck_assert_uint_ge(len, 8);
  ck_assert_mem_eq(buf, sig, 8);
  size_t pos = 8, zlen = 0;
  unsigned char *z = malloc(len);
  int seen_end = 0;
  *nidat = 0;
  while (pos + 12 <= len && !seen_end) {
    uint32_t n = be32(buf + pos);
    const unsigned char *type = buf + pos + 4, *body = buf + pos + 8;
    ck_assert_uint_le(pos + 12 + n, len);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), type, 4 + n);
    ck_assert_uint_eq(crc, be32(body + n));
    if (pos == 8) {
      ck_assert_mem_eq(type, "IHDR", 4);
      ck_assert_uint_eq(n, 13);
      *w = (int)be32(body);
      *h = (int)be32(body + 4);
      ck_assert_int_eq(body[8], 8);
      ck_assert(body[9] == 0 || body[9] == 2);
      *ch = body[9] == 2 ? 3 : 1;
      ck_assert_int_eq(body[10] | body[11] | body[12], 0);
    } else if (memcmp(type, "IDAT", 4) == 0) {
      memcpy(z + zlen, body, n);
      zlen += n;
      (*nidat)++;
    } else {
      ck_assert_mem_eq(type, "IEND", 4);
      ck_assert_uint_eq(n, 0);
      seen_end = 1;
    }
    pos += 12 + n;
  }
  ck_assert(seen_end);
  ck_assert_uint_eq(pos, len);
  size_t stride = (size_t)*w * (size_t)*ch;
  uLongf rlen = (uLongf)((stride + 1) * (size_t)*h);
  unsigned char *raw = malloc(rlen), *px = malloc(stride * (size_t)*h);
  uLongf got = rlen;
  ck_assert_int_eq(uncompress(raw, &got, z, (uLong)zlen), Z_OK);
  ck_assert_uint_eq(got, rlen);
  free(z);
  for (int y = 0; y < *h; y++) {
    int f = raw[(size_t)y * (stride + 1)];
    const unsigned char *src = raw + (size_t)y * (stride + 1) + 1;
    unsigned char *row = px + (size_t)y * stride, *prev = y ? row - stride : NULL;
    ck_assert_int_le(f, 4);
    for (size_t i = 0; i < stride; i++) {
      int a = i >= (size_t)*ch ? row[i - (size_t)*ch] : 0, b = prev ? prev[i] : 0;
      int c = prev && i >= (size_t)*ch ? prev[i - (size_t)*ch] : 0;
      int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
      row[i] = (unsigned char)(src[i] + pred);
    }
  }
  free(raw);
  return px;
}

static void round_trip(int width, int height, int channels, unsigned seed, int *nidat) {
  dp_image *img = NULL;
  ck_assert_int_eq(dp_image_new(width, height, channels, &img), DP_OK);
  size_t n = (size_t)width * (size_t)height * (size_t)channels;
  for (size_t i = 0; i < n; i++) {
    /* gradients (favour Sub/Up/Paeth) mixed with noise (favours None) */
    seed = seed * 1103515245u + 12345u;
    img->pixels[i] = (unsigned char)(i % 7 < 3 ? (i * 3) & 255 : seed >> 16);
  }
  unsigned char *buf = NULL;
  size_t len = 0;
  ck_assert_int_eq(dp_png_encode(img, NULL, &buf, &len), DP_OK);
  int w = 0, h = 0, ch = 0;
  unsigned char *px = decode(buf, len, &w, &h, &ch, nidat);
  ck_assert_int_eq(w, width);
  ck_assert_int_eq(h, height);
  ck_assert_int_eq(ch, channels);
  ck_assert_mem_eq(px, img->pixels, n);
  free(px);
  free(buf);
  dp_image_free(img);
}

START_TEST(gray_and_rgb_round_trip) {
  int nidat = 0;
  round_trip(1, 1, 1, 1, &nidat);
  round_trip(37, 11, 1, 2, &nidat);
  round_trip(19, 23, 3, 3, &nidat);
  ck_assert_int_eq(nidat, 1);
}
END_TEST

START_TEST(large_image_spans_several_idat_chunks) {
  int nidat = 0;
  round_trip(1200, 1100, 1, 4, &nidat); /* mostly noise: more than 1 MiB compressed */
  ck_assert_int_ge(nidat, 2);
}
END_TEST

START_TEST(write_is_atomic_and_equals_encode) {
  const char *dir = dp_test_tmpdir();
  ck_assert_ptr_nonnull(dir);
  char path[4200];
  snprintf(path, sizeof path, "%s/p.png", dir);
  dp_image *img = NULL;
  ck_assert_int_eq(dp_image_new(5, 4, 3, &img), DP_OK);
  img->pixels[0] = 200;
  ck_assert_int_eq(dp_png_write(img, path, NULL), DP_OK);
  unsigned char *buf = NULL;
  size_t len = 0;
  ck_assert_int_eq(dp_png_encode(img, NULL, &buf, &len), DP_OK);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char *file = malloc(len + 1);
  ck_assert_uint_eq(fread(file, 1, len + 1, f), len);
  fclose(f);
  ck_assert_mem_eq(file, buf, len);
  free(file);
  free(buf);
  /* durable writes replace the file too; no temporary file is left behind */
  dp_png_write_opts o = DP_PNG_WRITE_OPTS_INIT;
  o.durable = 1;
  o.level = 9;
  ck_assert_int_eq(dp_png_write(img, path, &o), DP_OK);
  DIR *d = opendir(dir);
  int entries = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) entries++;
  closedir(d);
  ck_assert_int_eq(entries, 1);
  /* an unwritable destination fails with a message naming it */
  snprintf(path, sizeof path, "%s/missing/p.png", dir);
  ck_assert_int_eq(dp_png_write(img, path, NULL), DP_EIO);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "missing"));
  dp_image_free(img);
}
END_TEST

START_TEST(bad_images_are_refused) {
  dp_image *img = NULL;
  ck_assert_int_eq(dp_image_new(0, 4, 1, &img), DP_EINVAL);
  ck_assert_ptr_null(img);
  ck_assert_int_eq(dp_image_new(4, 4, 2, &img), DP_EINVAL);
  ck_assert_int_eq(dp_image_new(70000, 4, 1, &img), DP_ELIMIT);
  dp_image bad = {3, 3, 4, NULL};
  unsigned char *buf = (unsigned char *)1;
  size_t len = 1;
  ck_assert_int_eq(dp_png_encode(&bad, NULL, &buf, &len), DP_EINVAL);
  ck_assert_ptr_null(buf);
  dp_image_free(NULL);
}
END_TEST

START_TEST(gray_to_rgb) {
  dp_image *g = NULL, *c = NULL;
  ck_assert_int_eq(dp_image_new(2, 1, 1, &g), DP_OK);
  g->pixels[0] = 7;
  g->pixels[1] = 250;
  ck_assert_int_eq(dp_image_to_rgb(g, &c), DP_OK);
  const unsigned char want[6] = {7, 7, 7, 250, 250, 250};
  ck_assert_int_eq(c->channels, 3);
  ck_assert_mem_eq(c->pixels, want, 6);
  dp_image_free(g);
  dp_image_free(c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("png");
  TCase *tc = tcase_create("png");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, gray_and_rgb_round_trip);
  tcase_add_test(tc, large_image_spans_several_idat_chunks);
  tcase_add_test(tc, write_is_atomic_and_equals_encode);
  tcase_add_test(tc, bad_images_are_refused);
  tcase_add_test(tc, gray_to_rgb);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
