#include <stdint.h>
#include <string.h>

#include "io/gz_deflate.h"

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* ---- finding runs ---------------------------------------------------------- */

int dp__deflate_find_run(const unsigned char *src, size_t from, size_t n, size_t min_len,
                         size_t *rs, size_t *re) {
  size_t step = min_len / 2, lo = from + 8; /* lo: the first j that may belong to a run */
  for (size_t i = lo; i + 8 <= n;) {
    if (load64(src + i) != load64(src + i - 8)) {
      i += step;
      continue;
    }
    size_t e = i + 8, s = i;
    while (e + 8 <= n && load64(src + e) == load64(src + e - 8)) e += 8;
    while (e < n && src[e] == src[e - 8]) e++;
    while (s >= lo + 8 && load64(src + s - 8) == load64(src + s - 16)) s -= 8;
    while (s > lo && src[s - 1] == src[s - 9]) s--;
    if (e - (s - 8) >= min_len) {
      *rs = s - 8;
      *re = e;
      return 1;
    }
    /* probes inside this short run would find it again: keep to the grid past it */
    size_t next = i + step;
    while (next < e) next += step;
    i = next;
  }
  return 0;
}

/* ---- writing bits ------------------------------------------------------------ */

typedef struct {
  unsigned char *out, *p, *end;
  uint64_t acc; /* pending bits, the first one lowest */
  int nacc;
  int overflow;
} bitw;

static void bitw_open(bitw *w, unsigned char *out, size_t cap, size_t nbits) {
  int k = (int)(nbits & 7);
  w->out = out;
  w->p = out + nbits / 8;
  w->end = out + cap;
  w->acc = k && w->p < w->end ? *w->p & ((1u << k) - 1) : 0;
  w->nacc = k;
  w->overflow = w->p > w->end;
}

static void put_bits(bitw *w, uint32_t v, int nbits) {
  w->acc |= (uint64_t)v << w->nacc;
  w->nacc += nbits;
  while (w->nacc >= 8) {
    if (w->p < w->end) *w->p++ = (unsigned char)w->acc;
    else w->overflow = 1;
    w->acc >>= 8;
    w->nacc -= 8;
  }
}

/* Writes the partial last byte (zeros above the stream) and returns the
 * stream's length in bits, or 0 on overflow. */
static size_t bitw_close(bitw *w) {
  if (w->nacc) {
    if (w->p < w->end) *w->p = (unsigned char)w->acc;
    else w->overflow = 1;
  }
  return w->overflow ? 0 : (size_t)(w->p - w->out) * 8 + (size_t)w->nacc;
}

/* Huffman codes are sent most significant bit first. */
static void put_code(bitw *w, uint16_t code, int len) {
  uint32_t r = 0;
  for (int i = 0; i < len; i++) r |= ((code >> i) & 1u) << (len - 1 - i);
  put_bits(w, r, len);
}

/* ---- encoding a run ---------------------------------------------------------- */

/* Lengths of a complete prefix code for the k >= 2 symbols syms[]: k leaves
 * of a balanced tree, each `extra` levels deeper.  Complete, because zlib
 * refuses most incomplete codes. */
static void balanced_lengths(const int *syms, int k, int extra, unsigned char *len) {
  int m = 0;
  while ((2 << m) <= k) m++;  /* 2^m <= k < 2^(m+1) */
  int shallow = (2 << m) - k; /* leaves at depth m; the rest at m + 1 */
  for (int i = 0; i < k; i++) len[syms[i]] = (unsigned char)(extra + m + (i >= shallow));
}

/* Canonical codes from lengths (RFC 1951, 3.2.2). */
static void canonical_codes(const unsigned char *len, int n, uint16_t *code) {
  int count[16] = {0}, next[16] = {0};
  for (int i = 0; i < n; i++) count[len[i]]++;
  count[0] = 0;
  for (int b = 1, c = 0; b < 16; b++) next[b] = c = (c + count[b - 1]) << 1;
  for (int i = 0; i < n; i++)
    if (len[i]) code[i] = (uint16_t)next[len[i]]++;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
                                      15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t clen_order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15};

static int len_index(int len) {
  int i = 28;
  while (len_base[i] > len) i--;
  return i;
}

/* The code lengths of a block (lit/len then distance), run-length coded
 * with 17/18 for zeros, under a code of their own. */
static void put_lengths(bitw *w, const unsigned char *all, int nall) {
  int cl_sym[316], cl_ext[316], ncl = 0;
  for (int i = 0; i < nall;) {
    int z = 0;
    while (i + z < nall && all[i + z] == 0 && z < 138) z++;
    if (z >= 11) {
      cl_sym[ncl] = 18;
      cl_ext[ncl++] = z - 11;
      i += z;
    } else if (z >= 3) {
      cl_sym[ncl] = 17;
      cl_ext[ncl++] = z - 3;
      i += z;
    } else {
      cl_sym[ncl] = all[i];
      cl_ext[ncl++] = 0;
      i++;
    }
  }
  unsigned char clen[19] = {0};
  uint16_t ccode[19] = {0};
  int used[19], nused = 0;
  for (int s = 0; s < 19; s++)
    for (int i = 0; i < ncl; i++)
      if (cl_sym[i] == s) {
        used[nused++] = s;
        break;
      }
  balanced_lengths(used, nused, 0, clen); /* nused >= 2: zeros and lengths */
  canonical_codes(clen, 19, ccode);
  int nclen = 19;
  while (nclen > 4 && clen[clen_order[nclen - 1]] == 0) nclen--;
  put_bits(w, (uint32_t)(nclen - 4), 4);
  for (int i = 0; i < nclen; i++) put_bits(w, clen[clen_order[i]], 3);
  for (int i = 0; i < ncl; i++) {
    put_code(w, ccode[cl_sym[i]], clen[cl_sym[i]]);
    if (cl_sym[i] == 17) put_bits(w, (uint32_t)cl_ext[i], 3);
    if (cl_sym[i] == 18) put_bits(w, (uint32_t)cl_ext[i], 7);
  }
}

int dp__deflate_period(const unsigned char *r) {
  if (load64(r) == load64(r + 1)) return 1;
  if (memcmp(r, r + 2, 6) == 0) return 2;
  if (memcmp(r, r + 4, 4) == 0) return 4;
  return 8;
}

int dp__deflate_run(const unsigned char *r, size_t n, int history, int final, unsigned char *out,
                    size_t cap, size_t *nbits) {
  int p = dp__deflate_period(r);
  /* p literals unless in the history, then matches at distance p: full
   * 258s, then one or two for the rest */
  size_t rest = n - (history ? 0 : (size_t)p), full = rest / 258;
  int tail[2] = {0, 0};
  if (rest % 258 >= 3 || (rest % 258 && full == 0)) {
    tail[0] = (int)(rest % 258);
  } else if (rest % 258) { /* 1 or 2 bytes left: the last 258 becomes 255 + left, then 3 */
    full--;
    tail[0] = 255 + (int)(rest % 258);
    tail[1] = 3;
  }
  if (tail[0] && tail[0] < 3) return 0; /* too short for a match */
  unsigned char llen[286] = {0}, dlen[30] = {0};
  uint16_t lcode[286] = {0}, dcode[30] = {0};
  int syms[16], k = 0;
  for (int i = 0; i < p && !history; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= r[j] == r[i];
    if (!seen) syms[k++] = r[i];
  }
  syms[k++] = 256;
  for (int t = 0; t < 2; t++)
    if (tail[t] && len_index(tail[t]) != 28 && (t == 0 || len_index(tail[1]) != len_index(tail[0])))
      syms[k++] = 257 + len_index(tail[t]);
  balanced_lengths(syms, k, 1, llen); /* half the code space for these ... */
  llen[285] = 1;                      /* ... and half for the 258-byte match */
  int dsym = p == 1 ? 0 : p == 2 ? 1 : p == 4 ? 3 : 5; /* distance 8: code 5, 1 extra bit */
  int dpair[2] = {dsym == 0 ? 1 : 0, dsym};
  if (dpair[0] > dpair[1]) {
    int t = dpair[0];
    dpair[0] = dpair[1];
    dpair[1] = t;
  }
  balanced_lengths(dpair, 2, 0, dlen); /* a second, unused code keeps it complete */
  int ndist = dpair[1] + 1;
  canonical_codes(llen, 286, lcode);
  canonical_codes(dlen, 30, dcode);

  bitw w;
  bitw_open(&w, out, cap, *nbits);
  put_bits(&w, final ? 1u : 0u, 1); /* BFINAL */
  put_bits(&w, 2, 2);               /* dynamic Huffman codes */
  put_bits(&w, 286 - 257, 5);
  put_bits(&w, (uint32_t)(ndist - 1), 5);
  unsigned char all[286 + 30];
  memcpy(all, llen, 286);
  memcpy(all + 286, dlen, (size_t)ndist);
  put_lengths(&w, all, 286 + ndist);
  for (int i = 0; i < p && !history; i++) put_code(&w, lcode[r[i]], llen[r[i]]);
  /* one 258-byte match: the length's code, the distance's, its extra bit */
  bitw t = {NULL, NULL, NULL, 0, 0, 0};
  put_code(&t, lcode[285], llen[285]);
  put_code(&t, dcode[dsym], dlen[dsym]);
  if (p == 8) put_bits(&t, 1, 1);
  for (size_t i = 0; i < full && !w.overflow; i++) put_bits(&w, (uint32_t)t.acc, t.nacc);
  for (int i = 0; i < 2 && tail[i]; i++) {
    int li = len_index(tail[i]);
    put_code(&w, lcode[257 + li], llen[257 + li]);
    put_bits(&w, (uint32_t)(tail[i] - len_base[li]), len_extra[li]);
    put_code(&w, dcode[dsym], dlen[dsym]);
    if (p == 8) put_bits(&w, 1, 1);
  }
  put_code(&w, lcode[256], llen[256]);
  size_t end = bitw_close(&w);
  if (end == 0) return 0;
  *nbits = end;
  return 1;
}

/* ---- walking a stream --------------------------------------------------------- */

typedef struct {
  const unsigned char *in;
  size_t n;
  size_t pos; /* in bits */
} bitr;

/* The next 32 bits at pos (zeros past the end), without consuming them. */
static uint32_t peek32(const bitr *r) {
  size_t q = r->pos / 8;
  uint64_t v = 0;
  if (q + 8 <= r->n) {
    v = load64(r->in + q);
  } else {
    for (size_t i = 0; q + i < r->n && i < 8; i++) v |= (uint64_t)r->in[q + i] << (8 * i);
  }
  return (uint32_t)(v >> (r->pos & 7));
}

static uint32_t get_bits(bitr *r, int nbits) {
  uint32_t v = nbits ? peek32(r) & ((1u << nbits) - 1) : 0;
  r->pos += (size_t)nbits;
  return v;
}

/* A canonical Huffman decoder: codes of up to FAST bits by table lookup,
 * longer ones by counting (as zlib's puff does). */
enum { FAST = 10 };
typedef struct {
  uint16_t fast[1 << FAST]; /* symbol << 4 | length, 0: longer than FAST */
  uint16_t count[16];       /* codes per length */
  uint16_t sym[320];        /* symbols by code */
} huff;

/* Returns 0 for an over-subscribed code (incomplete ones are accepted, as
 * zlib accepts a single distance code). */
static int huff_build(huff *h, const unsigned char *len, int n) {
  uint16_t offs[16];
  memset(h->count, 0, sizeof h->count);
  for (int i = 0; i < n; i++) h->count[len[i]]++;
  h->count[0] = 0;
  int left = 1;
  for (int b = 1; b < 16; b++) {
    left = left * 2 - h->count[b];
    if (left < 0) return 0;
  }
  offs[1] = 0;
  for (int b = 1; b < 15; b++) offs[b + 1] = (uint16_t)(offs[b] + h->count[b]);
  for (int i = 0; i < n; i++)
    if (len[i]) h->sym[offs[len[i]]++] = (uint16_t)i;
  memset(h->fast, 0, sizeof h->fast);
  uint32_t code = 0;
  int k = 0;
  for (int b = 1; b <= FAST; b++) {
    for (int c = 0; c < h->count[b]; c++, k++, code++) {
      uint32_t rev = 0;
      for (int i = 0; i < b; i++) rev |= ((code >> i) & 1u) << (b - 1 - i);
      for (uint32_t e = rev; e < (1u << FAST); e += 1u << b)
        h->fast[e] = (uint16_t)(h->sym[k] << 4 | b);
    }
    code <<= 1;
  }
  return 1;
}

/* The next symbol, or -1 for a code that is not in the table. */
static int huff_decode(bitr *r, const huff *h) {
  uint32_t bits = peek32(r);
  uint16_t e = h->fast[bits & ((1u << FAST) - 1)];
  if (e) {
    r->pos += e & 15;
    return e >> 4;
  }
  int code = 0, first = 0, index = 0;
  for (int b = 1; b < 16; b++) {
    code |= (int)(bits >> (b - 1) & 1);
    int count = h->count[b];
    if (code - count < first) {
      r->pos += (size_t)b;
      return h->sym[index + (code - first)];
    }
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -1;
}

static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* Reads a dynamic block's code lengths into lit/dist tables. */
static int read_tables(bitr *r, huff *lit, huff *dist) {
  int nlen = (int)get_bits(r, 5) + 257, ndist = (int)get_bits(r, 5) + 1;
  int ncode = (int)get_bits(r, 4) + 4;
  if (nlen > 286 || ndist > 30) return 0;
  unsigned char len[320] = {0};
  for (int i = 0; i < ncode; i++) len[clen_order[i]] = (unsigned char)get_bits(r, 3);
  huff *lencode = lit; /* borrowed for the code-length code */
  if (!huff_build(lencode, len, 19)) return 0;
  memset(len, 0, sizeof len);
  for (int i = 0; i < nlen + ndist;) {
    int sym = huff_decode(r, lencode);
    if (sym < 0) return 0;
    if (sym < 16) {
      len[i++] = (unsigned char)sym;
      continue;
    }
    int rep, v = 0;
    if (sym == 16) {
      if (i == 0) return 0;
      v = len[i - 1];
      rep = 3 + (int)get_bits(r, 2);
    } else if (sym == 17) {
      rep = 3 + (int)get_bits(r, 3);
    } else {
      rep = 11 + (int)get_bits(r, 7);
    }
    if (i + rep > nlen + ndist) return 0;
    while (rep--) len[i++] = (unsigned char)v;
  }
  if (len[256] == 0) return 0;
  return huff_build(lit, len, nlen) && huff_build(dist, len + nlen, ndist);
}

int dp__deflate_walk(const unsigned char *in, size_t n, dp__deflate_shape *shape) {
  huff lit, dist;
  bitr r = {in, n, 0};
  size_t limit = n * 8;
  shape->stored = 0;
  for (;;) {
    size_t hdr = r.pos;
    if (hdr + 3 > limit) return 0;
    int last = (int)get_bits(&r, 1), type = (int)get_bits(&r, 2);
    if (type == 0) {
      r.pos = (r.pos + 7) & ~(size_t)7;
      if (r.pos + 32 > limit) return 0;
      uint32_t ln = get_bits(&r, 16), nl = get_bits(&r, 16);
      if ((ln ^ 0xffffu) != nl || r.pos + (size_t)ln * 8 > limit) return 0;
      r.pos += (size_t)ln * 8;
      shape->stored = 1;
    } else if (type == 3) {
      return 0;
    } else {
      if (type == 1) {
        unsigned char len[320];
        memset(len, 8, 144);
        memset(len + 144, 9, 112);
        memset(len + 256, 7, 24);
        memset(len + 280, 8, 8);
        memset(len + 288, 5, 30);
        huff_build(&lit, len, 288);
        huff_build(&dist, len + 288, 30);
      } else if (!read_tables(&r, &lit, &dist)) {
        return 0;
      }
      for (;;) {
        if (r.pos > limit) return 0;
        int sym = huff_decode(&r, &lit);
        if (sym < 256) {
          if (sym < 0) return 0;
          continue;
        }
        if (sym == 256) break;
        if (sym > 285) return 0;
        r.pos += len_extra[sym - 257];
        int d = huff_decode(&r, &dist);
        if (d < 0 || d > 29) return 0;
        r.pos += dist_extra[d];
      }
    }
    if (r.pos > limit) return 0;
    if (last) {
      shape->last_block = hdr;
      shape->end = r.pos;
      return (r.pos + 7) / 8 == n;
    }
  }
}

/* ---- joining streams ------------------------------------------------------- */

int dp__deflate_append(unsigned char *out, size_t n, int final, size_t *nbits) {
  unsigned char *src = out + *nbits / 8 + DP__DEFLATE_GAP;
  dp__deflate_shape sh;
  if (!dp__deflate_walk(src, n, &sh)) return 0;
  if (!final) src[sh.last_block / 8] &= (unsigned char)~(1u << (sh.last_block & 7));
  size_t at = *nbits;
  if (sh.stored && (at & 7)) {
    /* an empty stored block, not final: 3 zero bits (those in the byte at
     * `at` are zero already), padding, LEN 0, NLEN ~0 */
    if ((at & 7) > 5) out[at / 8 + 1] = 0;
    at = (at + 3 + 7) & ~(size_t)7;
    unsigned char *q = out + at / 8;
    q[0] = q[1] = 0;
    q[2] = q[3] = 0xff;
    at += 32;
  }
  unsigned char *dst = out + at / 8;
  int k = (int)(at & 7);
  if (k == 0) {
    memmove(dst, src, n);
  } else {
    unsigned int carry = *dst & ((1u << k) - 1);
    for (size_t i = 0; i < n; i++) {
      unsigned int b = src[i];
      dst[i] = (unsigned char)(carry | b << k);
      carry = b >> (8 - k);
    }
    dst[n] = (unsigned char)carry;
  }
  *nbits = at + sh.end;
  if (*nbits & 7) out[*nbits / 8] &= (unsigned char)((1u << (*nbits & 7)) - 1);
  return 1;
}
