/* Encapsulated frame sizes against Rows x Columns (see frame_check.h). */
#include "dicom/frame_check.h"

#include "core/internal.h"

dp_status dp__check_jpeg_frame(const uint8_t *p, size_t n, int rows, int cols, const char *path) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return dp__error(DP_EFORMAT, "%s: the JPEG frame has no SOI marker", path);
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return dp__error(DP_EFORMAT, "%s: the JPEG frame's markers are damaged", path);
    uint8_t m = p[i + 1];
    if (m == 0xFF) { /* fill byte */
      i++;
      continue;
    }
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { /* no length */
      i += 2;
      continue;
    }
    size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
    if (len < 2 || i + 2 + len > n) return dp__error(DP_EFORMAT, "%s: the JPEG frame's markers are damaged", path);
    int sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (len < 8) return dp__error(DP_EFORMAT, "%s: the JPEG frame header is too short", path);
      int h = p[i + 5] << 8 | p[i + 6], w = p[i + 7] << 8 | p[i + 8];
      if (w != cols || (h != 0 && h != rows))
        return dp__error(DP_EFORMAT, "%s: the JPEG frame is %d x %d pixels but Rows x Columns is %d x %d", path,
                         w, h, cols, rows);
      return DP_OK;
    }
    if (m == 0xDA || m == 0xD9) break; /* a scan (or the end) before any frame header */
    i += 2 + len;
  }
  return dp__error(DP_EFORMAT, "%s: the JPEG frame has no frame header (SOF)", path);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

dp_status dp__check_rle_frame(const uint8_t *p, size_t n, int rows, int cols, const char *path) {
  if (n < 64) return dp__error(DP_EFORMAT, "%s: the RLE frame is shorter than its 64-byte header", path);
  uint32_t nseg = le32(p);
  if (nseg < 1 || nseg > 15) return dp__error(DP_EFORMAT, "%s: the RLE header gives %u segments (1..15)", path, nseg);
  size_t start = le32(p + 4), end = nseg > 1 ? le32(p + 8) : n;
  if (start < 64 || start > n || end > n || end < start)
    return dp__error(DP_EFORMAT, "%s: the RLE header's segment offsets are outside the frame", path);
  size_t want = (size_t)rows * (size_t)cols, got = 0;
  for (size_t i = start; i < end && got <= want + 1;) {
    uint8_t c = p[i++];
    if (c < 128) { /* c + 1 literal bytes */
      size_t k = (size_t)c + 1;
      if (k > end - i) k = end - i;
      got += k;
      i += k;
    } else if (c > 128) { /* the next byte 257 - c times */
      if (i < end) got += 257 - (size_t)c;
      i++;
    }
  }
  if (got < want || got > want + 1)
    return dp__error(DP_EFORMAT, "%s: the first RLE segment decodes to %zu%s bytes but Rows x Columns is %zu", path,
                     got, got > want + 1 ? " or more" : "", want);
  return DP_OK;
}
