#include "dicom/csa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Layout (both versions little endian):
 *   CSA2: "SV10" 04 03 02 01, uint32 ntags, uint32 77, then the tags;
 *   CSA1: uint32 ntags, uint32 77, then the tags.
 *   tag:  char name[64], int32 vm, char vr[4], int32 syngodt, int32 nitems,
 *         int32 77 or 205, then nitems items.
 *   item: int32 len[4] (CSA2: length in [1]; CSA1: [0] - ntags... in
 *         practice also [1]), then len bytes padded to a multiple of 4. */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int dp__csa_numbers(const uint8_t *buf, size_t n, const char *name, double *out, int max) {
  if (!buf || n < 8) return -1;
  size_t off = 0;
  if (n >= 16 && memcmp(buf, "SV10", 4) == 0) off = 8;
  uint32_t ntags = rd32(buf + off);
  if (ntags < 1 || ntags > 1000) return -1;
  off += 8;
  for (uint32_t t = 0; t < ntags; t++) {
    if (off > n || n - off < 84) return -1;
    const uint8_t *tag = buf + off;
    char tname[65];
    memcpy(tname, tag, 64);
    tname[64] = '\0';
    uint32_t nitems = rd32(tag + 76);
    if (nitems > 10000) return -1;
    off += 84;
    int match = strcmp(tname, name) == 0, got = 0;
    for (uint32_t i = 0; i < nitems; i++) {
      if (off > n || n - off < 16) return -1;
      uint32_t len = rd32(buf + off + 4);
      off += 16;
      if (len > n - off) return -1;
      if (match && len > 0 && got < max) {
        char text[64];
        size_t m = len < sizeof text - 1 ? len : sizeof text - 1;
        memcpy(text, buf + off, m);
        text[m] = '\0';
        char *end = NULL;
        double v = strtod(text, &end);
        if (end != text && isfinite(v)) out[got++] = v;
      }
      off += (len + 3u) & ~3u;
    }
    if (match) return got;
  }
  return 0;
}
