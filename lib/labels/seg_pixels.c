#include "labels/seg_pixels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "dicom/j2k.h"

static void unpack_bits(const uint8_t *src, uint64_t bit0, size_t npix, uint8_t *out) {
  for (size_t p = 0; p < npix; p++) {
    uint64_t b = bit0 + p;
    out[p] = (uint8_t)((src[b >> 3] >> (b & 7)) & 1);
  }
}

dp_status dp__seg_unpack_native(const uint8_t *data, size_t n, int bits, int rows, int cols, int frames,
                                uint8_t *out) {
  uint64_t npix = (uint64_t)rows * (uint64_t)cols * (uint64_t)frames;
  uint64_t need = bits == 1 ? (npix + 7) / 8 : npix;
  if (bits != 1 && bits != 8) return dp__error(DP_EUNSUPPORTED, "BitsAllocated %d (SEG uses 1 or 8)", bits);
  if ((uint64_t)n < need)
    return dp__error(DP_EFORMAT, "PixelData holds %zu bytes, %llu needed for %d frames of %d x %d (truncated, "
                     "or NumberOfFrames too large)", n, (unsigned long long)need, frames, rows, cols);
  if (bits == 8) memcpy(out, data, (size_t)npix);
  else unpack_bits(data, 0, (size_t)npix, out);
  return DP_OK;
}

int dp__packbits_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
  size_t i = 0, o = 0;
  while (o < want) {
    if (i >= n) return -1;
    int h = (int8_t)src[i++];
    if (h >= 0) {
      size_t len = (size_t)h + 1;
      if (i + len > n || o + len > want) return -1;
      memcpy(dst + o, src + i, len);
      i += len;
      o += len;
    } else if (h != -128) {
      size_t len = (size_t)(1 - h);
      if (i >= n || o + len > want) return -1;
      memset(dst + o, src[i++], len);
      o += len;
    }
  }
  return 0;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One RLE frame: a 64-byte header (segment count, 15 offsets), one segment
 * for 1 sample of at most 8 bits. */
static dp_status rle_frame(const uint8_t *src, size_t n, uint8_t *packed, size_t want, int f) {
  if (n < 64) return dp__error(DP_EFORMAT, "RLE frame %d: %zu bytes, shorter than its header", f + 1, n);
  uint32_t nseg = le32(src), off = le32(src + 4);
  if (nseg != 1) return dp__error(DP_EFORMAT, "RLE frame %d: %u segments, 1 expected for 1 sample", f + 1, nseg);
  if (off < 64 || off >= n) return dp__error(DP_EFORMAT, "RLE frame %d: segment offset %u outside the frame", f + 1, off);
  if (dp__packbits_decode(src + off, n - off, packed, want))
    return dp__error(DP_EFORMAT, "RLE frame %d: damaged or short segment", f + 1);
  return DP_OK;
}

static dp_status deflate_frame(const uint8_t *src, size_t n, uint8_t *packed, size_t want, int f) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -15) != Z_OK) return dp__error(DP_ENOMEM, "out of memory for inflate");
  z.next_in = (Bytef *)(uintptr_t)src;
  z.avail_in = (uInt)(n > 0x7fffffff ? 0x7fffffff : n);
  z.next_out = packed;
  z.avail_out = (uInt)want;
  int r = inflate(&z, Z_FINISH);
  size_t got = want - z.avail_out;
  inflateEnd(&z);
  /* a stream longer than the frame (r == Z_BUF_ERROR with room 0) is cut */
  if ((r != Z_STREAM_END && !(r == Z_BUF_ERROR && z.avail_out == 0)) || got != want)
    return dp__error(DP_EFORMAT, "deflated frame %d: damaged or short (%zu of %zu bytes)", f + 1, got, want);
  return DP_OK;
}

static dp_status one_frame(const char *ts, const uint8_t *src, size_t n, int bits, int rows, int cols,
                           uint8_t *out, uint8_t *scratch, int f) {
  size_t npix = (size_t)rows * (size_t)cols, packed = bits == 1 ? (npix + 7) / 8 : npix;
  dp_status s;
  if (!strcmp(ts, "1.2.840.10008.1.2.5")) {
    s = rle_frame(src, n, scratch, packed, f);
  } else if (!strcmp(ts, "1.2.840.10008.1.2.8.1")) {
    s = deflate_frame(src, n, scratch, packed, f);
  } else if (!strcmp(ts, "1.2.840.10008.1.2.4.90") || !strcmp(ts, "1.2.840.10008.1.2.4.91")) {
    dp__j2k_expect e = {rows, cols, 1, 8, bits, 0, !strcmp(ts, "1.2.840.10008.1.2.4.90")};
    s = dp__j2k_decode(src, n, &e, out, npix, NULL);
    if (s != DP_OK) {
      char where[32];
      snprintf(where, sizeof where, "JPEG 2000 frame %d", f + 1);
      return dp__error_prefix(s, where);
    }
    return DP_OK;
  } else {
    return dp__error(DP_ECODEC, "no SEG decoder for transfer syntax %s", ts);
  }
  if (s != DP_OK) return s;
  if (bits == 8) memcpy(out, scratch, npix);
  else unpack_bits(scratch, 0, npix, out);
  return DP_OK;
}

dp_status dp__seg_decode_encapsulated(const char *ts_uid, const uint8_t *const *frag, const size_t *len,
                                      int nfrag, const uint8_t *bot, size_t bot_len, int bits, int rows,
                                      int cols, int frames, uint8_t *out) {
  if (bits != 1 && bits != 8) return dp__error(DP_EUNSUPPORTED, "BitsAllocated %d (SEG uses 1 or 8)", bits);
  if (nfrag < 1) return dp__error(DP_EFORMAT, "encapsulated PixelData without fragments");
  int *first = malloc(((size_t)frames + 1) * sizeof *first);
  size_t npix = (size_t)rows * (size_t)cols;
  uint8_t *scratch = malloc(npix + 8);
  uint8_t *joined = NULL;
  dp_status s = first && scratch ? DP_OK : dp__error(DP_ENOMEM, "out of memory decoding frames");
  if (s == DP_OK) s = dp__j2k_frames(frag, len, nfrag, bot, bot_len, frames, first);
  for (int f = 0; s == DP_OK && f < frames; f++) {
    const uint8_t *src = frag[first[f]];
    size_t n = len[first[f]];
    if (first[f + 1] - first[f] > 1) { /* a frame over several fragments */
      size_t t = 0;
      for (int k = first[f]; k < first[f + 1]; k++) t += len[k];
      free(joined);
      joined = malloc(t ? t : 1);
      if (!joined) {
        s = dp__error(DP_ENOMEM, "out of memory joining fragments");
        break;
      }
      t = 0;
      for (int k = first[f]; k < first[f + 1]; k++) {
        memcpy(joined + t, frag[k], len[k]);
        t += len[k];
      }
      src = joined;
      n = t;
    }
    s = one_frame(ts_uid, src, n, bits, rows, cols, out + (size_t)f * npix, scratch, f);
  }
  free(joined);
  free(scratch);
  free(first);
  return s;
}
