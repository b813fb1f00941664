#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "dcmprep/png.h"
#include "io/atomic_file.h"

/* PNG allows 2^31 - 1 per side; previews never come near 65535, and the
 * bound keeps every size computation below in plain int/size_t range. */
enum { MAX_SIDE = 65535 };
#define MAX_PIXELS ((int64_t)1 << 30)

/* Bytes per IDAT chunk: any size up to 2^31 - 1 is valid; 1 MiB keeps each
 * chunk's CRC pass small without producing thousands of chunks. */
#define IDAT_MAX ((size_t)1 << 20)

dp_status dp_image_new(int width, int height, int channels, dp_image **out) {
  *out = NULL;
  if (width < 1 || height < 1 || (channels != 1 && channels != 3))
    return dp__error(DP_EINVAL, "image %d x %d with %d channels: need sizes >= 1 and 1 or 3 channels",
                     width, height, channels);
  if (width > MAX_SIDE || height > MAX_SIDE || (int64_t)width * height > MAX_PIXELS)
    return dp__error(DP_ELIMIT, "image %d x %d is too large (at most 65535 a side, 2^30 pixels)",
                     width, height);
  dp_image *img = calloc(1, sizeof *img);
  size_t n = (size_t)width * (size_t)height * (size_t)channels;
  if (img) img->pixels = calloc(n, 1);
  if (!img || !img->pixels) {
    free(img);
    return dp__error(DP_ENOMEM, "out of memory for a %d x %d image", width, height);
  }
  img->width = width;
  img->height = height;
  img->channels = channels;
  *out = img;
  return DP_OK;
}

void dp_image_free(dp_image *img) {
  if (!img) return;
  free(img->pixels);
  free(img);
}

static dp_status check_image(const dp_image *img) {
  if (!img || !img->pixels || img->width < 1 || img->height < 1 ||
      (img->channels != 1 && img->channels != 3) || img->width > MAX_SIDE ||
      img->height > MAX_SIDE || (int64_t)img->width * img->height > MAX_PIXELS)
    return dp__error(DP_EINVAL, "not a valid 8-bit gray or RGB image");
  return DP_OK;
}

dp_status dp_image_to_rgb(const dp_image *img, dp_image **out) {
  *out = NULL;
  dp_status s = check_image(img);
  if (s != DP_OK) return s;
  dp_image *o = NULL;
  s = dp_image_new(img->width, img->height, 3, &o);
  if (s != DP_OK) return s;
  size_t n = (size_t)img->width * (size_t)img->height;
  if (img->channels == 3) {
    memcpy(o->pixels, img->pixels, n * 3);
  } else {
    for (size_t i = 0; i < n; i++) memset(o->pixels + 3 * i, img->pixels[i], 3);
  }
  *out = o;
  return DP_OK;
}

/* ---- encoding --------------------------------------------------------------- */

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Appends one chunk (length, type, data, CRC over type and data) at *pos. */
static void put_chunk(unsigned char *dst, size_t *pos, const char type[4], const unsigned char *data,
                      size_t n) {
  unsigned char *p = dst + *pos;
  put_be32(p, (uint32_t)n);
  memcpy(p + 4, type, 4);
  if (n) memcpy(p + 8, data, n);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, p + 4, 4);
  /* zlib's crc32 takes a uInt length: feed big chunks in pieces */
  for (size_t off = 0; off < n;) {
    size_t take = n - off < (size_t)1 << 30 ? n - off : (size_t)1 << 30;
    crc = crc32(crc, data + off, (uInt)take);
    off += take;
  }
  put_be32(p + 8 + n, (uint32_t)crc);
  *pos += 12 + n;
}

static int paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/* Filters one row with filter type f into out (without the type byte) and
 * returns the sum of the filtered bytes read as signed values' magnitudes. */
static unsigned long filter_row(int f, const unsigned char *row, const unsigned char *prev,
                                size_t n, int bpp, unsigned char *out) {
  unsigned long sum = 0;
  for (size_t i = 0; i < n; i++) {
    int a = i >= (size_t)bpp ? row[i - (size_t)bpp] : 0;
    int b = prev ? prev[i] : 0;
    int c = prev && i >= (size_t)bpp ? prev[i - (size_t)bpp] : 0;
    int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
    unsigned char v = (unsigned char)(row[i] - pred);
    out[i] = v;
    sum += v < 128 ? v : 256u - v;
  }
  return sum;
}

/* The filtered image: per row a filter-type byte, then the filtered bytes. */
static unsigned char *filter_image(const dp_image *img, size_t *len) {
  size_t stride = (size_t)img->width * (size_t)img->channels;
  size_t total = (stride + 1) * (size_t)img->height;
  unsigned char *raw = malloc(total), *trial = malloc(stride);
  if (!raw || !trial) {
    free(raw);
    free(trial);
    return NULL;
  }
  for (int y = 0; y < img->height; y++) {
    const unsigned char *row = img->pixels + (size_t)y * stride;
    const unsigned char *prev = y ? row - stride : NULL;
    unsigned char *dst = raw + (size_t)y * (stride + 1);
    unsigned long best = (unsigned long)-1;
    for (int f = 0; f < 5; f++) {
      unsigned long sum = filter_row(f, row, prev, stride, img->channels, trial);
      if (sum < best) { /* strict: ties keep the simpler filter */
        best = sum;
        dst[0] = (unsigned char)f;
        memcpy(dst + 1, trial, stride);
      }
    }
  }
  free(trial);
  *len = total;
  return raw;
}

dp_status dp_png_encode(const dp_image *img, const dp_png_write_opts *opts, unsigned char **buf,
                        size_t *len) {
  *buf = NULL;
  *len = 0;
  dp_status s = check_image(img);
  if (s != DP_OK) return s;
  int level = opts && opts->level >= 0 ? (opts->level > 9 ? 9 : opts->level) : 6;
  size_t rlen = 0;
  unsigned char *raw = filter_image(img, &rlen);
  if (!raw) return dp__error(DP_ENOMEM, "out of memory for PNG rows");
  uLong zcap = compressBound((uLong)rlen);
  unsigned char *z = malloc(zcap);
  uLongf zlen = zcap;
  if (!z) {
    free(raw);
    return dp__error(DP_ENOMEM, "out of memory for PNG data");
  }
  int zr = compress2(z, &zlen, raw, (uLong)rlen, level);
  free(raw);
  if (zr != Z_OK) {
    free(z);
    return dp__error(zr == Z_MEM_ERROR ? DP_ENOMEM : DP_EINTERNAL, "zlib compress2 failed (%d)", zr);
  }
  size_t nidat = ((size_t)zlen + IDAT_MAX - 1) / IDAT_MAX;
  size_t cap = 8 + (12 + 13) + nidat * 12 + (size_t)zlen + 12;
  unsigned char *out = malloc(cap);
  if (!out) {
    free(z);
    return dp__error(DP_ENOMEM, "out of memory for the PNG file");
  }
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  memcpy(out, sig, 8);
  size_t pos = 8;
  unsigned char ihdr[13];
  put_be32(ihdr, (uint32_t)img->width);
  put_be32(ihdr + 4, (uint32_t)img->height);
  ihdr[8] = 8;                            /* bit depth */
  ihdr[9] = img->channels == 3 ? 2 : 0;   /* colour type: truecolour or greyscale */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;     /* deflate, adaptive filtering, no interlace */
  put_chunk(out, &pos, "IHDR", ihdr, 13);
  for (size_t off = 0; off < (size_t)zlen; off += IDAT_MAX) {
    size_t n = (size_t)zlen - off < IDAT_MAX ? (size_t)zlen - off : IDAT_MAX;
    put_chunk(out, &pos, "IDAT", z + off, n);
  }
  free(z);
  put_chunk(out, &pos, "IEND", NULL, 0);
  *buf = out;
  *len = pos;
  return DP_OK;
}

dp_status dp_png_write(const dp_image *img, const char *path, const dp_png_write_opts *opts) {
  unsigned char *buf = NULL;
  size_t len = 0;
  dp_status s = dp_png_encode(img, opts, &buf, &len);
  if (s != DP_OK) return dp__error_prefix(s, path);
  s = dp__write_file_atomic_sync(path, buf, len, opts ? opts->durable : 0);
  free(buf);
  return s;
}
