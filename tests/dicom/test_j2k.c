/* JPEG 2000 decoding (j2k.c): images encoded here with OpenJPEG's own encoder
 * (reversible 5/3, lossless) must decode to exactly the original samples;
 * disagreements with the header, and damaged codestreams, must be errors. */
#include <openjpeg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcmprep/status.h"
#include "dicom/j2k.h"
#include "testutil.h"

/* ---- an in-memory OpenJPEG encoder --------------------------------------- */

typedef struct {
  uint8_t *p;
  size_t n, cap, pos;
} wbuf;

static OPJ_SIZE_T w_write(void *src, OPJ_SIZE_T nb, void *user) {
  wbuf *b = user;
  if (b->pos + nb > b->cap) {
    size_t cap = (b->pos + nb) * 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) return (OPJ_SIZE_T)-1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->pos, src, nb);
  b->pos += nb;
  if (b->pos > b->n) b->n = b->pos;
  return nb;
}

static OPJ_OFF_T w_skip(OPJ_OFF_T nb, void *user) {
  wbuf *b = user;
  b->pos += (size_t)nb;
  if (b->pos > b->n) b->n = b->pos;
  return nb;
}

static OPJ_BOOL w_seek(OPJ_OFF_T pos, void *user) {
  ((wbuf *)user)->pos = (size_t)pos;
  return OPJ_TRUE;
}

typedef struct {
  int rows, cols, samples, prec, sgnd;
  int jp2;          /* JP2 box format instead of a raw codestream */
  int irreversible; /* 9/7 wavelet (lossy) */
} enc_opts;

/* Encodes samples given as int32 (component-major planes); returns the
 * codestream (malloc'ed) and its size in *n. */
static uint8_t *encode(const enc_opts *o, const int32_t *planes, size_t *n) {
  opj_image_cmptparm_t cp[3];
  memset(cp, 0, sizeof cp);
  for (int c = 0; c < o->samples; c++) {
    cp[c].dx = cp[c].dy = 1;
    cp[c].w = (OPJ_UINT32)o->cols;
    cp[c].h = (OPJ_UINT32)o->rows;
    cp[c].prec = (OPJ_UINT32)o->prec;
    cp[c].sgnd = (OPJ_UINT32)o->sgnd;
  }
  opj_image_t *img = opj_image_create((OPJ_UINT32)o->samples, cp, o->samples == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY);
  ck_assert_ptr_nonnull(img);
  img->x0 = img->y0 = 0;
  img->x1 = (OPJ_UINT32)o->cols;
  img->y1 = (OPJ_UINT32)o->rows;
  size_t npix = (size_t)o->rows * (size_t)o->cols;
  for (int c = 0; c < o->samples; c++) memcpy(img->comps[c].data, planes + c * npix, npix * sizeof(int32_t));
  opj_cparameters_t prm;
  opj_set_default_encoder_parameters(&prm);
  prm.tcp_numlayers = 1;
  prm.tcp_rates[0] = o->irreversible ? 20 : 0; /* 0: lossless */
  prm.cp_disto_alloc = 1;
  prm.irreversible = o->irreversible;
  prm.tcp_mct = o->samples == 3;
  /* small images need fewer wavelet levels than the default 6 */
  int side = o->rows < o->cols ? o->rows : o->cols;
  while (prm.numresolution > 1 && side < (1 << (prm.numresolution - 1))) prm.numresolution--;
  opj_codec_t *codec = opj_create_compress(o->jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
  ck_assert(opj_setup_encoder(codec, &prm, img));
  wbuf b = {NULL, 0, 0, 0};
  opj_stream_t *st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE);
  opj_stream_set_user_data(st, &b, NULL);
  opj_stream_set_write_function(st, w_write);
  opj_stream_set_skip_function(st, w_skip);
  opj_stream_set_seek_function(st, w_seek);
  ck_assert(opj_start_compress(codec, img, st));
  ck_assert(opj_encode(codec, st));
  ck_assert(opj_end_compress(codec, st));
  opj_stream_destroy(st);
  opj_destroy_codec(codec);
  opj_image_destroy(img);
  *n = b.n;
  return b.p;
}

/* Deterministic test pattern covering the whole range of the precision,
 * extremes included. */
static int32_t *pattern(const enc_opts *o) {
  size_t total = (size_t)o->rows * (size_t)o->cols * (size_t)o->samples;
  int32_t *v = malloc(total * sizeof *v);
  int64_t lo = o->sgnd ? -((int64_t)1 << (o->prec - 1)) : 0;
  int64_t span = (int64_t)1 << o->prec;
  uint32_t x = 12345;
  for (size_t i = 0; i < total; i++) {
    x = x * 1664525u + 1013904223u;
    /* smooth ramp plus noise, so the wavelet has something to compress */
    int64_t r = (int64_t)(i % (size_t)o->cols) * span / o->cols + (int64_t)(x >> 24) - 128;
    r = ((r % span) + span) % span;
    v[i] = (int32_t)(lo + r);
  }
  v[0] = (int32_t)lo;
  v[total - 1] = (int32_t)(lo + span - 1);
  return v;
}

static dp__j2k_expect expect_of(const enc_opts *o, int bits_alloc, int bits_stored, int pixel_rep) {
  dp__j2k_expect e = {o->rows, o->cols, o->samples, bits_alloc, bits_stored, pixel_rep, 1};
  return e;
}

/* Encodes, decodes and compares every sample (interleaved output). */
static void roundtrip(const enc_opts *o, int bits_alloc, int bits_stored, int pixel_rep) {
  int32_t *v = pattern(o);
  size_t n;
  uint8_t *cs = encode(o, v, &n);
  dp__j2k_expect e = expect_of(o, bits_alloc, bits_stored, pixel_rep);
  size_t npix = (size_t)o->rows * (size_t)o->cols;
  size_t nbytes = npix * (size_t)o->samples * (size_t)(bits_alloc / 8);
  void *out = malloc(nbytes);
  int mct = -1;
  dp_status s = dp__j2k_decode(cs, n, &e, out, nbytes, &mct);
  ck_assert_msg(s == DP_OK, "decode: %s", dp_last_error());
  ck_assert_int_eq(mct, o->samples == 3);
  for (size_t i = 0; i < npix; i++)
    for (int c = 0; c < o->samples; c++) {
      int32_t want = v[(size_t)c * npix + i];
      size_t k = i * (size_t)o->samples + (size_t)c;
      int32_t got = bits_alloc == 8 ? (pixel_rep ? (int8_t)((uint8_t *)out)[k] : ((uint8_t *)out)[k])
                                    : (pixel_rep ? (int16_t)((uint16_t *)out)[k] : ((uint16_t *)out)[k]);
      if (got != want) ck_abort_msg("sample %zu component %d: %d, encoded %d", i, c, got, want);
    }
  free(out);
  free(cs);
  free(v);
}

START_TEST(signed_16_bit) {
  enc_opts o = {37, 53, 1, 16, 1, 0, 0};
  roundtrip(&o, 16, 16, 1);
}
END_TEST

START_TEST(unsigned_12_of_16_bits) {
  enc_opts o = {64, 48, 1, 12, 0, 0, 0};
  roundtrip(&o, 16, 12, 0);
}
END_TEST

START_TEST(signed_14_bits_header_says_16) {
  /* As in real CT files: the codestream's precision is the true one. */
  enc_opts o = {20, 30, 1, 14, 1, 0, 0};
  roundtrip(&o, 16, 16, 1);
}
END_TEST

START_TEST(unsigned_8_bit) {
  enc_opts o = {33, 65, 1, 8, 0, 0, 0};
  roundtrip(&o, 8, 8, 0);
}
END_TEST

START_TEST(rgb_8_bit_component_transform) {
  enc_opts o = {16, 24, 3, 8, 0, 0, 0};
  roundtrip(&o, 8, 8, 0);
}
END_TEST

START_TEST(jp2_box_format) {
  enc_opts o = {40, 40, 1, 12, 0, 1, 0};
  roundtrip(&o, 16, 12, 0);
}
END_TEST

/* Encodes o and decodes it with a modified expectation; returns the status. */
static dp_status decode_with(const enc_opts *o, dp__j2k_expect e) {
  int32_t *v = pattern(o);
  size_t n;
  uint8_t *cs = encode(o, v, &n);
  size_t nbytes = (size_t)e.rows * (size_t)e.cols * (size_t)e.samples * (size_t)(e.bits_alloc / 8);
  void *out = malloc(nbytes ? nbytes : 1);
  dp_status s = dp__j2k_decode(cs, n, &e, out, nbytes, NULL);
  free(out);
  free(cs);
  free(v);
  return s;
}

START_TEST(header_disagreements_refused) {
  enc_opts o = {32, 48, 1, 12, 0, 0, 0};
  dp__j2k_expect e = expect_of(&o, 16, 12, 0);
  ck_assert_int_eq(decode_with(&o, e), DP_OK);

  dp__j2k_expect bad = e;
  bad.rows = 31;
  ck_assert_int_eq(decode_with(&o, bad), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "48x32"));
  bad = e;
  bad.cols = 64;
  ck_assert_int_eq(decode_with(&o, bad), DP_EFORMAT);
  bad = e;
  bad.samples = 3;
  ck_assert_int_eq(decode_with(&o, bad), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "components"));
  /* 12-bit samples cannot be 8 bits allocated */
  bad = e;
  bad.bits_alloc = 8;
  bad.bits_stored = 8;
  ck_assert_int_eq(decode_with(&o, bad), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "bits allocated"));
  /* values up to 4095 do not fit 10 bits stored */
  bad = e;
  bad.bits_stored = 10;
  ck_assert_int_eq(decode_with(&o, bad), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "10 bits"));
  bad = e;
  bad.bits_alloc = 32;
  ck_assert_int_eq(decode_with(&o, bad), DP_EUNSUPPORTED);

  /* negative samples under an unsigned header */
  enc_opts s = {8, 8, 1, 16, 1, 0, 0};
  ck_assert_int_eq(decode_with(&s, expect_of(&s, 16, 16, 0)), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "does not fit"));
  ck_assert_int_eq(decode_with(&s, expect_of(&s, 16, 16, 1)), DP_OK);
}
END_TEST

START_TEST(irreversible_only_when_lossy_allowed) {
  enc_opts o = {32, 32, 1, 12, 0, 0, 1};
  dp__j2k_expect e = expect_of(&o, 16, 12, 0);
  ck_assert_int_eq(decode_with(&o, e), DP_EFORMAT);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "irreversible"));
  e.lossless = 0;
  ck_assert_msg(decode_with(&o, e) == DP_OK, "%s", dp_last_error());
}
END_TEST

START_TEST(damaged_codestreams_are_errors) {
  enc_opts o = {64, 64, 1, 16, 1, 0, 0};
  int32_t *v = pattern(&o);
  size_t n;
  uint8_t *cs = encode(&o, v, &n);
  dp__j2k_expect e = expect_of(&o, 16, 16, 1);
  size_t nbytes = 64 * 64 * 2;
  void *out = malloc(nbytes);
  uint8_t *bad = malloc(n);

  /* every truncation: strict decoding never returns a partial image */
  for (size_t k = 0; k < n; k = k < 200 ? k + 1 : k + 97 < n - 2 ? k + 97 : k < n - 2 ? n - 2 : k + 1) {
    memcpy(bad, cs, k);
    dp_status s = dp__j2k_decode(bad, k, &e, out, nbytes, NULL);
    ck_assert_msg(s == DP_EFORMAT, "truncated to %zu of %zu bytes: status %d", k, n, (int)s);
    ck_assert_ptr_nonnull(strstr(dp_last_error(), "JPEG 2000"));
  }
  /* damaged main header: the SIZ marker, then its size fields */
  memcpy(bad, cs, n);
  bad[3] = 0x00;
  ck_assert_int_eq(dp__j2k_decode(bad, n, &e, out, nbytes, NULL), DP_EFORMAT);
  memcpy(bad, cs, n);
  memset(bad + 8, 0xff, 8);
  ck_assert_int_eq(dp__j2k_decode(bad, n, &e, out, nbytes, NULL), DP_EFORMAT);
  /* neither SOC nor JP2 */
  memcpy(bad, cs, n);
  bad[1] = 0x00;
  ck_assert_int_eq(dp__j2k_decode(bad, n, &e, out, nbytes, NULL), DP_EFORMAT);
  ck_assert_int_eq(dp__j2k_decode(cs, 0, &e, out, nbytes, NULL), DP_EFORMAT);
  /* corrupted bytes anywhere: an error or some image, never a crash (run
   * under valgrind or a sanitizer to see the "never") */
  uint32_t x = 99;
  for (int t = 0; t < 300; t++) {
    memcpy(bad, cs, n);
    for (int j = 0; j < 4; j++) {
      x = x * 1664525u + 1013904223u;
      bad[(x >> 8) % n] ^= (uint8_t)(x >> 24 | 1);
    }
    dp_status s = dp__j2k_decode(bad, n, &e, out, nbytes, NULL);
    ck_assert(s == DP_OK || s == DP_EFORMAT);
  }
  /* the output buffer must be exactly one frame */
  ck_assert_int_eq(dp__j2k_decode(cs, n, &e, out, nbytes - 2, NULL), DP_EINVAL);
  ck_assert_int_eq(dp__j2k_decode(cs, n, &e, out, nbytes, NULL), DP_OK);
  free(bad);
  free(out);
  free(cs);
  free(v);
}
END_TEST

/* ---- fragments to frames ------------------------------------------------- */

START_TEST(frames_from_fragments) {
  static const uint8_t soc[] = {0xff, 0x4f, 0xff, 0x51, 1, 2};
  static const uint8_t body[] = {9, 9, 9, 9};
  const uint8_t *frag[5] = {soc, body, soc, soc, body};
  size_t len[5] = {6, 4, 6, 6, 4};
  int first[6]; /* frames + 1 entries */

  /* one frame takes everything */
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, NULL, 0, 1, first), DP_OK);
  ck_assert_int_eq(first[0], 0);
  ck_assert_int_eq(first[1], 5);

  /* offset table: frames at fragments 0, 2, 3 (offsets count 8-byte headers) */
  uint8_t bot[12] = {0, 0, 0, 0, 8 + 6 + 8 + 4, 0, 0, 0, 8 + 6 + 8 + 4 + 8 + 6, 0, 0, 0};
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, bot, 12, 3, first), DP_OK);
  ck_assert_int_eq(first[0], 0);
  ck_assert_int_eq(first[1], 2);
  ck_assert_int_eq(first[2], 3);
  ck_assert_int_eq(first[3], 5);

  /* no table: split at codestream starts */
  memset(first, -1, sizeof first);
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, NULL, 0, 3, first), DP_OK);
  ck_assert_int_eq(first[1], 2);
  ck_assert_int_eq(first[2], 3);
  ck_assert_int_eq(first[3], 5);

  /* an inconsistent table is ignored in favour of the markers */
  bot[4] = 7;
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, bot, 12, 3, first), DP_OK);
  ck_assert_int_eq(first[1], 2);
  ck_assert_int_eq(first[2], 3);

  /* one fragment per frame when the counts match, whatever the content */
  const uint8_t *plain[2] = {body, body};
  size_t plen[2] = {4, 4};
  ck_assert_int_eq(dp__j2k_frames(plain, plen, 2, NULL, 0, 2, first), DP_OK);
  ck_assert_int_eq(first[1], 1);
  ck_assert_int_eq(first[2], 2);

  /* impossible: more frames than codestream starts, fewer fragments than frames */
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, NULL, 0, 2, first), DP_EFORMAT);
  ck_assert_int_eq(dp__j2k_frames(frag, len, 5, NULL, 0, 4, first), DP_EFORMAT);
  ck_assert_int_eq(dp__j2k_frames(frag, len, 2, NULL, 0, 3, first), DP_EFORMAT);
  ck_assert_int_eq(dp__j2k_frames(frag, len, 0, NULL, 0, 1, first), DP_EFORMAT);
}
END_TEST

int main(void) {
  Suite *s = suite_create("j2k");
  TCase *tc = tcase_create("decode");
  tcase_set_timeout(tc, 60);
  if (!dp__j2k_available()) {
    fprintf(stderr, "built without OpenJPEG, yet the JPEG 2000 test was built\n");
    return EXIT_FAILURE;
  }
  tcase_add_test(tc, signed_16_bit);
  tcase_add_test(tc, unsigned_12_of_16_bits);
  tcase_add_test(tc, signed_14_bits_header_says_16);
  tcase_add_test(tc, unsigned_8_bit);
  tcase_add_test(tc, rgb_8_bit_component_transform);
  tcase_add_test(tc, jp2_box_format);
  tcase_add_test(tc, header_disagreements_refused);
  tcase_add_test(tc, irreversible_only_when_lossy_allowed);
  tcase_add_test(tc, damaged_codestreams_are_errors);
  tcase_add_test(tc, frames_from_fragments);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
