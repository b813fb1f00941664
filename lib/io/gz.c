#include <libdeflate.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "io/gz.h"
#include "io/gz_deflate.h"

enum { HDR = 24, TRL = 8 }; /* our member header (with extra field) and trailer */

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int dp__gz_is_gzip(const unsigned char *buf, size_t n) {
  return n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct {
  const void *const *parts;
  const size_t *sizes;
  int nparts;
  size_t total;
  size_t first_block, nblocks; /* the batch being compressed */
  int workers;
  int level;            /* 1..12, or 0: automatic (see block_level) */
  unsigned char **out;  /* per block in the batch: compressed member */
  size_t *out_len;
  size_t out_cap;
  /* per worker, kept across batches (a compressor's setup is not free):
   * the level's, and for the automatic level the probe's and the flat one */
  struct libdeflate_compressor **z, **probe, **flat, **noisy;
  atomic_size_t next;   /* the batch's next block to compress */
  unsigned char **scratch;
} wctx;

/* Copies uncompressed bytes [off, off + n) of the part sequence to dst. */
static void gather(const wctx *c, size_t off, size_t n, unsigned char *dst) {
  size_t base = 0;
  for (int p = 0; p < c->nparts && n > 0; p++) {
    size_t sz = c->sizes[p];
    if (off < base + sz) {
      size_t from = off - base, take = sz - from < n ? sz - from : n;
      memcpy(dst, (const unsigned char *)c->parts[p] + from, take);
      dst += take;
      off += take;
      n -= take;
    }
    base += sz;
  }
}

/* A pointer to [off, off + n) when it lies inside a single part, else NULL. */
static const unsigned char *direct(const wctx *c, size_t off, size_t n) {
  size_t base = 0;
  for (int p = 0; p < c->nparts; p++) {
    if (off >= base && off + n <= base + c->sizes[p])
      return (const unsigned char *)c->parts[p] + (off - base);
    base += c->sizes[p];
  }
  return NULL;
}

/* The automatic level: 4, or 7 for a block that a quick probe finds highly
 * redundant (better than 16:1 at level 1 on four 16 KiB samples spread over
 * it: air, padding, synthetic or segmentation-like data).  There level 7
 * costs about 10% more time and gives a quarter less output.  On image data
 * with noise, libdeflate's level 4 (greedy parsing) gives the size of its
 * level 6 (lazy parsing) in half the time: int16 CT 0.416 vs 0.417 of the
 * input (a CT-like volume), 0.377 vs 0.377 (the real exam's series 201),
 * 0.410 vs 0.409 (the GE tilt series); float32 CT 0.257 vs 0.245.  Level 7
 * there would cost about 90% more time for 1.5% less.  Blocks that the probe
 * finds noisy (worse than 3:1: CT and MR with their noise, float32 images)
 * take level 2, 30% faster than level 4 for 1.5-3% more output on int16 CT
 * (0.423 against 0.416 of the input; the exam's series 201 0.388 against
 * 0.377).  The choice depends on the block's bytes alone, so the output
 * stays the same for any thread count. */
enum { AUTO_LEVEL = 4, FLAT_LEVEL = 7, NOISY_LEVEL = 2, PROBE = 16384, FLAT_RATIO = 16, NOISY_RATIO = 3 };

/* Long constant runs (at least DP__GZ_RUN_MIN bytes with a period of 1, 2,
 * 4 or 8: air or padding in noise-free data, the fill outside a resampled
 * field of view, the background of a mask) are encoded directly
 * (gz_deflate.c), 2 bits per 258 bytes, instead of by libdeflate, which
 * spends most of its time on such data hashing every byte inside its long
 * matches.  The pieces between runs go to libdeflate at the level the probe
 * picks for them, and all join into one DEFLATE stream, so a block is still
 * one member and costs no more than libdeflate's own output: on the
 * synthetic CT of bench_convert.sh (half air) the same size as level 7 on
 * whole blocks in two thirds of the time.  The runs are found from the
 * block's bytes alone, like everything else. */
enum { MAX_RUNS = (int)(DP__GZ_BLOCK / DP__GZ_RUN_MIN) + 1 };

/* The probe: libdeflate level 1 on four PROBE-byte samples spread over the
 * pieces [cut[2i], cut[2i + 1]) of src (i < npieces) as if they were one,
 * each moved to lie within its piece, and skipped when the piece is shorter.
 * FLAT when the samples compress better than FLAT_RATIO:1, or when there are
 * none (then the pieces are too short for the level to matter); NOISY when
 * worse than NOISY_RATIO:1; else PLAIN. */
enum { NOISY, PLAIN, FLAT };
static int probe_class(struct libdeflate_compressor *probe, const unsigned char *src,
                       const size_t *cut, int npieces, unsigned char *tmp, size_t tmp_cap) {
  size_t len = 0, total = 0, tried = 0;
  for (int i = 0; i < npieces; i++) len += cut[2 * i + 1] - cut[2 * i];
  for (int k = 0; k < 4; k++) {
    size_t want = k * (len / 4), base = 0; /* sample k starts `want` bytes into the pieces */
    for (int i = 0; i < npieces; i++) {
      size_t a = cut[2 * i], plen = cut[2 * i + 1] - a;
      if (want < base + plen) {
        size_t from = a + (want - base);
        if (from + PROBE > a + plen) from = plen >= PROBE ? a + plen - PROBE : a;
        if (plen >= PROBE) {
          size_t got = libdeflate_deflate_compress(probe, src + from, PROBE, tmp, tmp_cap);
          if (got == 0) return NOISY; /* did not even fit */
          total += got;
          tried += PROBE;
        }
        break;
      }
      base += plen;
    }
  }
  if (tried == 0 || total * FLAT_RATIO < tried) return FLAT;
  return total * NOISY_RATIO > tried ? NOISY : PLAIN;
}

/* The automatic level's compressor for a probe class. */
static struct libdeflate_compressor *by_class(const wctx *c, int64_t w, int cls) {
  return cls == FLAT ? c->flat[w] : cls == NOISY ? c->noisy[w] : c->z[w];
}

static const unsigned char member_head[16] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3,
                                              12, 0, 'D', 'P', 8, 0};

/* Frames the member around the raw DEFLATE data at m + HDR; returns its size. */
static size_t frame_member(unsigned char *m, size_t clen, const unsigned char *src, size_t n) {
  size_t mlen = HDR + clen + TRL;
  memcpy(m, member_head, 16);
  put32(m + 16, (uint32_t)mlen);
  put32(m + 20, (uint32_t)n);
  put32(m + HDR + clen, libdeflate_crc32(0, src, n));
  put32(m + HDR + clen + 4, (uint32_t)n);
  return mlen;
}

/* The block (src, n) as one member at m[0, cap), split at its nruns long
 * runs [run[2i], run[2i + 1]) (cut: the pieces between them, as
 * probe_class wants them).  A run that follows a piece leaves its first
 * period to that piece, and one that precedes a piece leaves it the bytes
 * past its last whole 258, so that the run's block needs no literal and no
 * other match length: the smallest code tables.  Returns the member's size,
 * 0 when cap is too small or libdeflate's output did not walk (the caller
 * then compresses the block whole). */
static size_t compress_split(const wctx *c, int64_t w, const unsigned char *src, size_t n,
                             const size_t *run, int nruns, const size_t *cut,
                             unsigned char *m, size_t cap) {
  struct libdeflate_compressor *zb =
      by_class(c, w, probe_class(c->probe[w], src, cut, nruns + 1, m + HDR, cap - HDR - TRL));
  size_t nbits = (size_t)HDR * 8, a = 0; /* a: where the next piece starts */
  for (int i = 0; i <= nruns; i++) {
    size_t rs = i < nruns ? run[2 * i] : n, re = i < nruns ? run[2 * i + 1] : n;
    int history = rs > a;
    size_t lit = rs < n ? (size_t)dp__deflate_period(src + rs) : 0;
    if (history) rs += lit;
    if (re < n) re -= (re - rs - (history ? 0 : lit)) % 258;
    if (rs > a) {
      size_t at = nbits / 8 + DP__DEFLATE_GAP;
      if (at + TRL >= cap) return 0;
      size_t got = libdeflate_deflate_compress(zb, src + a, rs - a, m + at, cap - at - TRL);
      if (got == 0 || !dp__deflate_append(m, got, rs == n, &nbits)) return 0;
    }
    if (re > rs && !dp__deflate_run(src + rs, re - rs, history, re == n, m, cap - TRL, &nbits))
      return 0;
    a = re;
  }
  return frame_member(m, (nbits + 7) / 8 - HDR, src, n);
}

/* The block's long runs, [run[2i], run[2i + 1]) for i < the count returned,
 * and the pieces between them, [cut[2i], cut[2i + 1]) for i <= it. */
static int find_runs(const unsigned char *src, size_t n, size_t *run, size_t *cut) {
  size_t at = 0, rs, re;
  int nr = 0;
  while (at < n && nr < MAX_RUNS && dp__deflate_find_run(src, at, n, DP__GZ_RUN_MIN, &rs, &re)) {
    cut[2 * nr] = at;
    cut[2 * nr + 1] = run[2 * nr] = rs;
    run[2 * nr + 1] = at = re;
    nr++;
  }
  cut[2 * nr] = at;
  cut[2 * nr + 1] = n;
  return nr;
}

static dp_status compress_worker(void *vctx, int64_t w) {
  wctx *c = vctx;
  int autolevel = c->level == 0;
  if (!c->z[w]) c->z[w] = libdeflate_alloc_compressor(autolevel ? AUTO_LEVEL : c->level);
  if (autolevel && !c->probe[w]) c->probe[w] = libdeflate_alloc_compressor(1);
  if (autolevel && !c->flat[w]) c->flat[w] = libdeflate_alloc_compressor(FLAT_LEVEL);
  if (autolevel && !c->noisy[w]) c->noisy[w] = libdeflate_alloc_compressor(NOISY_LEVEL);
  struct libdeflate_compressor *z = c->z[w], *probe = c->probe[w];
  if (!z || (autolevel && (!probe || !c->flat[w] || !c->noisy[w])))
    return dp__error(DP_ENOMEM, "out of memory for a compressor");
  /* blocks handed out one at a time: whichever worker is free takes the
   * next (a block's bytes alone decide its member, so the output does not
   * depend on which) */
  for (size_t b; (b = atomic_fetch_add(&c->next, 1)) < c->nblocks;) {
    size_t off = (c->first_block + b) * DP__GZ_BLOCK;
    size_t n = c->total - off < DP__GZ_BLOCK ? c->total - off : DP__GZ_BLOCK;
    const unsigned char *src = direct(c, off, n);
    if (!src) {
      if (!c->scratch[w] && !(c->scratch[w] = malloc(DP__GZ_BLOCK)))
        return dp__error(DP_ENOMEM, "out of memory");
      gather(c, off, n, c->scratch[w]);
      src = c->scratch[w];
    }
    unsigned char *m = c->out[b];
    size_t run[2 * MAX_RUNS], cut[2 * MAX_RUNS + 2];
    int nruns = autolevel ? find_runs(src, n, run, cut) : 0;
    if (nruns > 0 &&
        (c->out_len[b] = compress_split(c, w, src, n, run, nruns, cut, m, c->out_cap)) > 0)
      continue;
    /* (the member buffer doubles as the probe's output: overwritten below) */
    size_t whole[2] = {0, n}, cap = c->out_cap - HDR - TRL;
    struct libdeflate_compressor *zb =
        autolevel && n >= 4 * PROBE ? by_class(c, w, probe_class(probe, src, whole, 1, m + HDR, cap)) : z;
    size_t clen = libdeflate_deflate_compress(zb, src, n, m + HDR, cap);
    if (clen == 0) return dp__error(DP_EINTERNAL, "deflate output exceeded its bound");
    c->out_len[b] = frame_member(m, clen, src, n);
  }
  return DP_OK;
}

dp_status dp__gz_write(dp__atomic_file *af, const void *const parts[], const size_t sizes[],
                       int nparts, int level, int threads) {
  wctx c;
  memset(&c, 0, sizeof c);
  c.parts = parts;
  c.sizes = sizes;
  c.nparts = nparts;
  for (int p = 0; p < nparts; p++) c.total += sizes[p];
  c.level = level < 1 ? 0 : level > 12 ? 12 : level;
  c.workers = dp__threads(threads);
  size_t nblocks = (c.total + DP__GZ_BLOCK - 1) / DP__GZ_BLOCK;
  if (nblocks == 0) nblocks = 1;
  if ((size_t)c.workers > nblocks) c.workers = (int)nblocks;
  /* Bounded memory: a few blocks per worker in flight at a time. */
  size_t batch = (size_t)c.workers * 8;
  /* A block split at runs takes libdeflate's bound for the pieces between
   * them, plus per run its code tables (under 64 bytes) and 3 bits per 258
   * bytes, plus the gap dp__deflate_append needs. */
  c.out_cap = HDR + TRL + DP__DEFLATE_GAP + 6 +
              libdeflate_deflate_compress_bound(NULL, DP__GZ_BLOCK) +
              MAX_RUNS * (64 + libdeflate_deflate_compress_bound(NULL, 0)) + DP__GZ_BLOCK / 512;
  c.out = calloc(batch, sizeof *c.out);
  c.out_len = calloc(batch, sizeof *c.out_len);
  size_t nw = (size_t)c.workers;
  c.z = calloc(nw, sizeof *c.z);
  c.probe = calloc(nw, sizeof *c.probe);
  c.flat = calloc(nw, sizeof *c.flat);
  c.noisy = calloc(nw, sizeof *c.noisy);
  c.scratch = calloc(nw, sizeof *c.scratch);
  dp_status s = c.out && c.out_len && c.z && c.probe && c.flat && c.noisy && c.scratch
                    ? DP_OK
                    : dp__error(DP_ENOMEM, "out of memory");
  for (size_t i = 0; s == DP_OK && i < batch; i++)
    if (!(c.out[i] = malloc(c.out_cap))) s = dp__error(DP_ENOMEM, "out of memory");
  for (size_t first = 0; s == DP_OK && first < nblocks; first += batch) {
    c.first_block = first;
    c.nblocks = nblocks - first < batch ? nblocks - first : batch;
    atomic_store(&c.next, 0);
    s = dp__parallel_for(c.workers, c.workers, compress_worker, &c);
    for (size_t b = 0; s == DP_OK && b < c.nblocks; b++)
      s = dp__atomic_write(af, c.out[b], c.out_len[b]);
  }
  if (c.out)
    for (size_t i = 0; i < batch; i++) free(c.out[i]);
  for (size_t w = 0; w < nw; w++) {
    if (c.z) libdeflate_free_compressor(c.z[w]);
    if (c.probe) libdeflate_free_compressor(c.probe[w]);
    if (c.flat) libdeflate_free_compressor(c.flat[w]);
    if (c.noisy) libdeflate_free_compressor(c.noisy[w]);
    if (c.scratch) free(c.scratch[w]);
  }
  free(c.z);
  free(c.probe);
  free(c.flat);
  free(c.noisy);
  free(c.scratch);
  free(c.out);
  free(c.out_len);
  return s;
}

/* ---- reading -------------------------------------------------------------- */

typedef struct {
  size_t coff, clen; /* raw deflate data within the file image */
  size_t uoff, ulen; /* where it goes in the uncompressed stream */
  uint32_t crc;
} member;

typedef struct {
  const unsigned char *comp;
  size_t skip;
  unsigned char *out;
  size_t out_len;
  member *m;
} rctx;

static dp_status inflate_member(void *vctx, int64_t i) {
  rctx *c = vctx;
  const member *m = &c->m[i];
  size_t lo = c->skip, hi = c->skip + c->out_len; /* wanted stream range */
  if (m->uoff + m->ulen <= lo || m->uoff >= hi) return DP_OK;
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  if (!d) return dp__error(DP_ENOMEM, "out of memory for a decompressor");
  int inside = m->uoff >= lo && m->uoff + m->ulen <= hi;
  unsigned char *tmp = inside ? NULL : malloc(m->ulen ? m->ulen : 1);
  unsigned char *dst = inside ? c->out + (m->uoff - lo) : tmp;
  if (!dst) {
    libdeflate_free_decompressor(d);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  size_t got = 0;
  enum libdeflate_result r =
      libdeflate_deflate_decompress(d, c->comp + m->coff, m->clen, dst, m->ulen, &got);
  libdeflate_free_decompressor(d);
  dp_status s = DP_OK;
  if (r != LIBDEFLATE_SUCCESS || got != m->ulen)
    s = dp__error(DP_EFORMAT, "corrupt gzip data (member %lld)", (long long)i);
  else if (libdeflate_crc32(0, dst, m->ulen) != m->crc)
    s = dp__error(DP_EFORMAT, "gzip CRC mismatch (member %lld): the file is damaged", (long long)i);
  if (tmp) {
    if (s == DP_OK) {
      size_t a = m->uoff > lo ? m->uoff : lo;
      size_t b = m->uoff + m->ulen < hi ? m->uoff + m->ulen : hi;
      memcpy(c->out + (a - lo), tmp + (a - m->uoff), b - a);
    }
    free(tmp);
  }
  return s;
}

/* Indexes the members when every one carries our size field; returns the
 * member count, or 0 when the file is not (entirely) in that form. */
static size_t index_members(const unsigned char *comp, size_t clen, member **out) {
  size_t n = 0, cap = 0, off = 0, uoff = 0;
  member *m = NULL;
  while (off < clen) {
    const unsigned char *h = comp + off;
    if (clen - off < HDR + TRL || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || h[3] != 4 ||
        h[10] != 12 || h[11] != 0 || h[12] != 'D' || h[13] != 'P' || h[14] != 8 || h[15] != 0)
      break;
    size_t mlen = get32(h + 16), ulen = get32(h + 20);
    if (mlen < HDR + TRL || mlen > clen - off || get32(h + mlen - 4) != (uint32_t)ulen) break;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      member *nm = realloc(m, cap * sizeof *m);
      if (!nm) break;
      m = nm;
    }
    m[n].coff = off + HDR;
    m[n].clen = mlen - HDR - TRL;
    m[n].uoff = uoff;
    m[n].ulen = ulen;
    m[n].crc = get32(h + mlen - 8);
    n++;
    uoff += ulen;
    off += mlen;
  }
  if (off != clen || n == 0) {
    free(m);
    return 0;
  }
  *out = m;
  return n;
}

/* Any gzip stream (several members, foreign writers): zlib, sequentially. */
static dp_status read_zlib(const unsigned char *comp, size_t clen, size_t skip,
                           unsigned char *out, size_t out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 16) != Z_OK) return dp__error(DP_ENOMEM, "zlib init failed");
  unsigned char scratch[16384];
  size_t in_off = 0, out_off = 0, total = skip + out_len;
  int r = Z_OK;
  while (out_off < total) {
    size_t in_chunk = clen - in_off;
    if (in_chunk > (1u << 30)) in_chunk = 1u << 30;
    unsigned char *dst;
    size_t out_chunk;
    if (out_off < skip) { /* bytes before the wanted range go to scratch */
      dst = scratch;
      out_chunk = skip - out_off < sizeof scratch ? skip - out_off : sizeof scratch;
    } else {
      dst = out + (out_off - skip);
      out_chunk = total - out_off < (1u << 30) ? total - out_off : (1u << 30);
    }
    z.next_in = (unsigned char *)(uintptr_t)(comp + in_off);
    z.avail_in = (uInt)in_chunk;
    z.next_out = dst;
    z.avail_out = (uInt)out_chunk;
    r = inflate(&z, Z_NO_FLUSH);
    in_off += in_chunk - z.avail_in;
    out_off += out_chunk - z.avail_out;
    if (r == Z_STREAM_END) {
      /* Another member may follow. */
      if (clen - in_off < 2 || comp[in_off] != 0x1f || comp[in_off + 1] != 0x8b) break;
      inflateReset(&z);
      continue;
    }
    if (r != Z_OK && r != Z_BUF_ERROR) break;
    if (z.avail_out != 0 && in_off >= clen) break;
  }
  inflateEnd(&z);
  if (out_off < total) {
    if (r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_MEM_ERROR || r == Z_NEED_DICT)
      return dp__error(DP_EFORMAT, "corrupt gzip data (%s)", z.msg ? z.msg : "inflate error");
    return dp__error(DP_EFORMAT, "truncated: %zu of %zu bytes present", out_off, total);
  }
  return DP_OK;
}

/* One foreign member whose trailer says it holds exactly what we need:
 * libdeflate in one call (about twice zlib's speed).  Returns 0 when this
 * path does not apply or fails, so the caller falls back to zlib. */
static int read_libdeflate(const unsigned char *comp, size_t clen, size_t skip,
                           unsigned char *out, size_t out_len) {
  size_t total = skip + out_len;
  if (clen < 18 || get32(comp + clen - 4) != (uint32_t)total) return 0;
  unsigned char *buf = skip ? malloc(total) : out;
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  int ok = 0;
  if (buf && d) {
    size_t in_used = 0, got = 0;
    enum libdeflate_result r =
        libdeflate_gzip_decompress_ex(d, comp, clen, buf, total, &in_used, &got);
    ok = r == LIBDEFLATE_SUCCESS && got == total && in_used == clen;
    if (ok && skip) memcpy(out, buf + skip, out_len);
  }
  if (d) libdeflate_free_decompressor(d);
  if (skip) free(buf);
  return ok;
}

dp_status dp__gz_read(const unsigned char *comp, size_t clen, size_t skip,
                      unsigned char *out, size_t out_len, int threads) {
  member *m = NULL;
  size_t n = index_members(comp, clen, &m);
  if (n > 0) {
    size_t total = m[n - 1].uoff + m[n - 1].ulen;
    dp_status s;
    if (total < skip + out_len) {
      s = dp__error(DP_EFORMAT, "truncated: %zu of %zu bytes present", total, skip + out_len);
    } else {
      rctx c = {comp, skip, out, out_len, m};
      s = dp__parallel_for((int64_t)n, threads, inflate_member, &c);
    }
    free(m);
    return s;
  }
  if (read_libdeflate(comp, clen, skip, out, out_len)) return DP_OK;
  return read_zlib(comp, clen, skip, out, out_len);
}
