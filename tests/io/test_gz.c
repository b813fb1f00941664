#include <libdeflate.h>
#include <math.h>
#include <stdint.h>
#include <zlib.h>

#include "io/atomic_file.h"
#include "io/gz.h"
#include "io/gz_deflate.h"
#include "testutil.h"

static char dir[4096];

static void setup(void) {
  const char *d = dp_test_tmpdir();
  ck_assert_ptr_nonnull(d);
  snprintf(dir, sizeof dir, "%s", d);
}

/* ---- test data ------------------------------------------------------------ */

static uint32_t lcg(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 8;
}

/* A run of exactly period p (1, 2, 4 or 8) starting with phase 0 at `at`:
 * int16 air, a float64 fill, ... whatever the voxel type. */
static void fill_run(unsigned char *b, size_t at, size_t len, int p, unsigned char seed) {
  static const unsigned char pat[4][8] = {{0x5a},
                                          {0x00, 0xfc},
                                          {0x00, 0x00, 0x80, 0xc4},
                                          {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0xc0}};
  const unsigned char *q = pat[p == 1 ? 0 : p == 2 ? 1 : p == 4 ? 2 : 3];
  for (size_t i = 0; i < len; i++) b[at + i] = (unsigned char)(q[i % (size_t)p] + seed);
}

/* Incompressible bytes: libdeflate stores them (stored blocks). */
static void fill_noise(unsigned char *b, size_t at, size_t len, uint32_t seed) {
  for (size_t i = 0; i < len; i++) b[at + i] = (unsigned char)lcg(&seed);
}

/* Smooth int16 data with a little noise: ordinary dynamic-Huffman blocks. */
static void fill_smooth(unsigned char *b, size_t at, size_t len, uint32_t seed) {
  for (size_t i = 0; i < len; i++) {
    size_t v = (i / 2) % 700;
    int s = (int)(200.0 * sin((double)v / 50.0)) + (int)(lcg(&seed) % 5);
    b[at + i] = (unsigned char)(i % 2 ? (s >> 8) : s);
  }
}

/* ---- round trips ------------------------------------------------------------ */

/* Writes buf (handed over as two parts split at an odd offset, so that some
 * block straddles them) with `threads` workers at the automatic level and
 * returns the file's bytes after checking that zlib (every member, as gzread
 * does) and dp__gz_read give buf back, one member per block. */
static unsigned char *round_trip(const unsigned char *buf, size_t n, int threads, size_t *clen) {
  char file[4200];
  snprintf(file, sizeof file, "%s/t.gz", dir);
  size_t cut = n / 3 | 1;
  const void *parts[2] = {buf, buf + cut};
  size_t sizes[2] = {cut, n - cut};
  dp__atomic_file af;
  ck_assert_int_eq(dp__atomic_open(&af, file), DP_OK);
  ck_assert_int_eq(dp__gz_write(&af, parts, sizes, 2, 0, threads), DP_OK);
  ck_assert_int_eq(dp__atomic_commit(&af), DP_OK);

  FILE *f = fopen(file, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  size_t cn = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *comp = malloc(cn);
  ck_assert_uint_eq(fread(comp, 1, cn, f), cn);
  fclose(f);

  unsigned char *out = malloc(n + 1);
  z_stream z;
  memset(&z, 0, sizeof z);
  ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = comp;
  z.avail_in = (uInt)cn;
  z.next_out = out;
  z.avail_out = (uInt)(n + 1);
  size_t members = 0;
  for (;;) {
    ck_assert_int_eq(inflate(&z, Z_NO_FLUSH), Z_STREAM_END);
    members++;
    if (z.avail_in == 0) break;
    ck_assert_int_eq(inflateReset(&z), Z_OK);
  }
  ck_assert_uint_eq((size_t)(z.next_out - out), n);
  inflateEnd(&z);
  ck_assert_int_eq(memcmp(out, buf, n), 0);
  ck_assert_uint_eq(members, (n + DP__GZ_BLOCK - 1) / DP__GZ_BLOCK);

  memset(out, 0, n);
  ck_assert_int_eq(dp__gz_read(comp, cn, 0, out, n, threads), DP_OK);
  ck_assert_int_eq(memcmp(out, buf, n), 0);
  free(out);
  *clen = cn;
  return comp;
}

/* Round trips with 1, 2 and 3 workers, which must write the same bytes. */
static size_t round_trips(const unsigned char *buf, size_t n) {
  size_t ref_n = 0;
  unsigned char *ref = round_trip(buf, n, 1, &ref_n);
  for (int threads = 2; threads <= 3; threads++) {
    size_t cn;
    unsigned char *comp = round_trip(buf, n, threads, &cn);
    ck_assert_uint_eq(cn, ref_n);
    ck_assert_int_eq(memcmp(comp, ref, cn), 0);
    free(comp);
  }
  free(ref);
  return ref_n;
}

START_TEST(runs_of_every_period_across_block_boundaries) {
  const size_t B = DP__GZ_BLOCK;
  size_t n = 5 * B + 1234;
  unsigned char *b = malloc(n);
  fill_noise(b, 0, n, 1);
  fill_run(b, B - 100000, 300000, 1, 0);        /* across the first boundary */
  fill_smooth(b, B + 200000, 300000, 2);
  fill_run(b, 2 * B, B, 2, 0);                  /* exactly one whole block */
  fill_run(b, 3 * B - 77777, 2 * 77777 + 4, 4, 0); /* across, from a smooth piece */
  fill_smooth(b, 3 * B - 177777, 100000, 3);
  fill_run(b, 4 * B - 8 * 9999, 8 * 9999 + 8 * 7777, 8, 1);
  fill_run(b, n - 200000, 200000, 2, 3); /* to the very end: the last run is final */
  round_trips(b, n);
  free(b);
}
END_TEST

START_TEST(runs_at_the_threshold) {
  const size_t B = DP__GZ_BLOCK, T = DP__GZ_RUN_MIN;
  size_t n = 4 * B, rs, re;
  unsigned char *b = malloc(n);
  fill_noise(b, 0, n, 4);
  /* exactly the threshold: found; one byte less: not */
  fill_run(b, 1000, T, 2, 0);
  ck_assert(dp__deflate_find_run(b, 0, B, T, &rs, &re));
  ck_assert_uint_eq(rs, 1000);
  ck_assert_uint_eq(re, 1000 + T);
  fill_run(b, B + 1000, T - 1, 2, 0);
  ck_assert(!dp__deflate_find_run(b, B, 2 * B, T, &rs, &re));
  /* runs whose matches leave 0, 1, 2 and 3 bytes past the last 258, back to
   * back with others of another value, or one byte apart */
  size_t at = 2 * B + 500;
  for (int k = 0; k < 4; k++) {
    fill_run(b, at, T + 258 * 3 + (size_t)k, k == 3 ? 8 : 1 << k, (unsigned char)k);
    at += T + 258 * 3 + (size_t)k + (k == 1 ? 1 : 0);
  }
  /* a run ending exactly at a block's end, the next starting there */
  fill_run(b, 3 * B - T, T, 1, 9);
  fill_run(b, 3 * B, T, 1, 10);
  fill_run(b, n - T, T, 4, 11); /* and at the end of the data */
  round_trips(b, n);
  free(b);
}
END_TEST

START_TEST(mixed_data) {
  size_t n = 7 * DP__GZ_BLOCK + 4321, at = 0;
  unsigned char *b = malloc(n);
  uint32_t x = 99;
  while (at < n) {
    size_t len = 1 + lcg(&x) % (3 * DP__GZ_RUN_MIN);
    if (len > n - at) len = n - at;
    int kind = (int)(lcg(&x) % 4);
    if (kind == 0) fill_noise(b, at, len, lcg(&x));
    else if (kind == 1) fill_smooth(b, at, len, lcg(&x));
    else fill_run(b, at, len, 1 << (lcg(&x) % 4), (unsigned char)lcg(&x));
    at += len;
  }
  round_trips(b, n);
  free(b);
}
END_TEST

START_TEST(runs_cost_next_to_nothing) {
  size_t n = 3 * DP__GZ_BLOCK;
  unsigned char *b = calloc(n, 1);
  /* per member: framing, code tables, then 2 bits per 258 bytes (3 for period 8) */
  ck_assert_uint_lt(round_trips(b, n), 3 * (32 + 40) + n / 258 * 2 / 8);
  fill_run(b, 0, n, 8, 0);
  ck_assert_uint_lt(round_trips(b, n), 3 * (32 + 40) + n / 258 * 3 / 8);
  free(b);
}
END_TEST

/* ---- the DEFLATE pieces ------------------------------------------------------ */

/* Raw DEFLATE of src by zlib with the given level and strategy. */
static size_t zraw(const unsigned char *src, size_t n, int level, int strategy, int flushes,
                   unsigned char *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  ck_assert_int_eq(deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy), Z_OK);
  z.next_out = out;
  z.avail_out = (uInt)cap;
  size_t step = flushes ? n / (size_t)(flushes + 1) + 1 : n;
  for (size_t at = 0; at < n; at += step) {
    size_t take = n - at < step ? n - at : step;
    z.next_in = (unsigned char *)(uintptr_t)(src + at);
    z.avail_in = (uInt)take;
    ck_assert_int_ne(deflate(&z, at + take < n ? Z_FULL_FLUSH : Z_FINISH), Z_STREAM_ERROR);
  }
  size_t got = cap - z.avail_out;
  deflateEnd(&z);
  return got;
}

START_TEST(walk_finds_the_end_of_any_stream) {
  size_t n = 300000;
  unsigned char *src = malloc(n), *c = malloc(2 * n);
  fill_smooth(src, 0, n / 2, 5);
  fill_noise(src, n / 2, n / 4, 6);
  fill_run(src, 3 * n / 4, n / 4, 2, 0);
  struct {
    int level, strategy, flushes, stored;
  } kinds[] = {{6, Z_DEFAULT_STRATEGY, 0, 0}, {6, Z_FIXED, 0, 0}, {1, Z_HUFFMAN_ONLY, 0, 0},
               {6, Z_RLE, 0, 0},
               {0, Z_DEFAULT_STRATEGY, 0, 1}, {9, Z_DEFAULT_STRATEGY, 3, 1}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    size_t cn = zraw(src, n, kinds[k].level, kinds[k].strategy, kinds[k].flushes, c, 2 * n);
    dp__deflate_shape sh;
    ck_assert(dp__deflate_walk(c, cn, &sh));
    ck_assert_uint_eq((sh.end + 7) / 8, cn);
    ck_assert_uint_lt(sh.last_block, sh.end);
    if (kinds[k].stored) ck_assert_int_eq(sh.stored, 1); /* (level 6 stores the noise too) */
    ck_assert(!dp__deflate_walk(c, cn - 1, &sh)); /* cut short */
    c[cn] = 0;
    ck_assert(!dp__deflate_walk(c, cn + 1, &sh)); /* a byte too many */
  }
  /* libdeflate's, which the writer joins (a failed walk would silently cost
   * the block's run encoding, not its correctness: so checked here) */
  for (int level = 0; level <= 12; level++) {
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(level);
    ck_assert_ptr_nonnull(z);
    for (size_t len = 1; len <= n; len = len * 7 + 3) {
      size_t cn = libdeflate_deflate_compress(z, src + n - len, len, c, 2 * n);
      ck_assert_uint_gt(cn, 0);
      dp__deflate_shape sh;
      ck_assert(dp__deflate_walk(c, cn, &sh));
      ck_assert_uint_eq((sh.end + 7) / 8, cn);
    }
    libdeflate_free_compressor(z);
  }
  /* garbage is refused, not walked forever */
  uint32_t x = 7;
  for (int t = 0; t < 200; t++) {
    fill_noise(c, 0, 64, lcg(&x));
    dp__deflate_shape sh;
    (void)dp__deflate_walk(c, 64, &sh);
  }
  free(src);
  free(c);
}
END_TEST

static void append_zlib(unsigned char *out, size_t cap, size_t *nbits, const unsigned char *src,
                        size_t n, int level, int strategy, int final) {
  size_t at = *nbits / 8 + DP__DEFLATE_GAP;
  size_t cn = zraw(src, n, level, strategy, 0, out + at, cap - at);
  ck_assert(dp__deflate_append(out, cn, final, nbits));
}

/* zlib's streams of every kind (dynamic, stored, fixed) and runs, joined at
 * various bit offsets, inflate to the concatenation of their data. */
START_TEST(append_joins_streams_at_any_bit) {
  size_t n = 40000, cap = 400000;
  unsigned char *src = malloc(6 * n), *out = malloc(cap), *back = malloc(6 * n);
  fill_smooth(src, 0, n, 8);
  fill_run(src, n, n, 4, 0);
  fill_noise(src, 2 * n, n, 9);
  fill_run(src, 3 * n, n, 8, 1);
  fill_smooth(src, 4 * n, n, 10);
  fill_run(src, 5 * n, n, 1, 2);
  for (size_t lead = 0; lead < 16; lead++) {
    size_t nbits = 0, a = n + 37 * lead; /* moves every later piece by some bits */
    memset(out, 0, cap);
    append_zlib(out, cap, &nbits, src, a, 6, Z_DEFAULT_STRATEGY, 0);
    ck_assert(dp__deflate_run(src + a, 2 * n - a, 0, 0, out, cap, &nbits));
    append_zlib(out, cap, &nbits, src + 2 * n, n + 8, 0, Z_DEFAULT_STRATEGY, 0); /* stored */
    ck_assert(dp__deflate_run(src + 3 * n + 8, n - 8, 1, 0, out, cap, &nbits));
    append_zlib(out, cap, &nbits, src + 4 * n, n + 1, 6, Z_FIXED, 0);
    ck_assert(dp__deflate_run(src + 5 * n + 1, n - 1, 1, 1, out, cap, &nbits));
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, -15), Z_OK);
    z.next_in = out;
    z.avail_in = (uInt)((nbits + 7) / 8);
    z.next_out = back;
    z.avail_out = (uInt)(6 * n);
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(z.total_out, 6 * n);
    ck_assert_uint_eq(z.avail_in, 0);
    inflateEnd(&z);
    ck_assert_int_eq(memcmp(back, src, 6 * n), 0);
  }
  free(src);
  free(out);
  free(back);
}
END_TEST

int main(void) {
  Suite *s = suite_create("gz");
  TCase *tc = tcase_create("gz");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, runs_of_every_period_across_block_boundaries);
  tcase_add_test(tc, runs_at_the_threshold);
  tcase_add_test(tc, mixed_data);
  tcase_add_test(tc, runs_cost_next_to_nothing);
  tcase_add_test(tc, walk_finds_the_end_of_any_stream);
  tcase_add_test(tc, append_joins_streams_at_any_bit);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
