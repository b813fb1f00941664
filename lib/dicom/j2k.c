#include "dicom/j2k.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* The JP2 signature box, which opens every JP2 file (ISO 15444-1 I.5.1). */
static const uint8_t k_jp2_magic[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0d, 0x0a, 0x87, 0x0a};

static int starts_frame(const uint8_t *p, size_t n) {
  if (n >= 2 && p[0] == 0xff && p[1] == 0x4f) return 1; /* SOC */
  return n >= sizeof k_jp2_magic && memcmp(p, k_jp2_magic, sizeof k_jp2_magic) == 0;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

dp_status dp__j2k_frames(const uint8_t *const *frag, const size_t *len, int nfrag,
                         const uint8_t *bot, size_t bot_len, int frames, int *first) {
  if (frames < 1 || nfrag < frames)
    return dp__error(DP_EFORMAT, "%d fragments of encapsulated pixel data for %d frames", nfrag, frames);
  first[0] = 0;
  first[frames] = nfrag;
  if (frames == 1) return DP_OK;
  /* Offset table: frame f starts at byte bot[f] counted from the first
   * fragment's item tag, each fragment taking 8 bytes of item header plus its
   * length.  Trusted only when every offset lands on a fragment start. */
  if (bot && bot_len >= 4 * (size_t)frames) {
    uint64_t pos = 0;
    int k = 0, ok = le32(bot) == 0;
    for (int f = 1; ok && f < frames; f++) {
      uint64_t want = le32(bot + 4 * f);
      while (k < nfrag && pos < want) pos += 8 + (uint64_t)len[k++];
      ok = pos == want && k < nfrag && k > first[f - 1];
      first[f] = k;
    }
    if (ok) return DP_OK;
  }
  if (nfrag == frames) {
    for (int f = 0; f < frames; f++) first[f] = f;
    return DP_OK;
  }
  /* Frames always begin at a fragment boundary (PS3.5 A.4), and each J2K
   * frame starts with its own codestream header. */
  int f = 0;
  for (int k = 0; k < nfrag; k++) {
    if (!starts_frame(frag[k], len[k])) {
      if (k == 0) break;
      continue;
    }
    if (f == frames) {
      f++;
      break;
    }
    first[f++] = k;
  }
  if (f != frames)
    return dp__error(DP_EFORMAT,
                     "cannot tell the %d frames apart in %d fragments (no usable offset table, "
                     "%d codestream starts)", frames, nfrag, f);
  return DP_OK;
}

#ifdef DCMPREP_HAVE_OPENJPEG

#include <openjpeg.h>

int dp__j2k_available(void) { return 1; }

/* An OpenJPEG input stream over a memory buffer. */
typedef struct {
  const uint8_t *p;
  size_t n, pos;
} mem_stream;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T nb, void *user) {
  mem_stream *m = user;
  if (m->pos >= m->n) return (OPJ_SIZE_T)-1; /* OpenJPEG's end-of-stream */
  size_t k = m->n - m->pos < nb ? m->n - m->pos : nb;
  memcpy(buf, m->p + m->pos, k);
  m->pos += k;
  return k;
}

/* A partial skip must fail: OpenJPEG loops on a short count. */
static OPJ_OFF_T mem_skip(OPJ_OFF_T nb, void *user) {
  mem_stream *m = user;
  if (nb < 0 ? (size_t)-nb > m->pos : (size_t)nb > m->n - m->pos) return -1;
  m->pos = (size_t)((OPJ_OFF_T)m->pos + nb);
  return nb;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T pos, void *user) {
  mem_stream *m = user;
  if (pos < 0 || (uint64_t)pos > m->n) return OPJ_FALSE;
  m->pos = (size_t)pos;
  return OPJ_TRUE;
}

/* OpenJPEG reports through callbacks; the first error is kept for the
 * message (later ones are usually consequences), warnings are dropped since
 * the library never prints and a warning alone does not fail a decode. */
typedef struct {
  char msg[200];
} opj_errors;

static void on_error(const char *msg, void *user) {
  opj_errors *e = user;
  if (e->msg[0]) return;
  snprintf(e->msg, sizeof e->msg, "%s", msg);
  size_t k = strlen(e->msg);
  while (k > 0 && (e->msg[k - 1] == '\n' || e->msg[k - 1] == ' ')) e->msg[--k] = '\0';
}

static void on_quiet(const char *msg, void *user) {
  (void)msg;
  (void)user;
}

static dp_status fail(const opj_errors *err, const char *what) {
  return dp__error(DP_EFORMAT, "JPEG 2000 %s%s%s", what, err->msg[0] ? ": " : "", err->msg);
}

/* Checks the header facts against the DICOM header before any pixel is
 * decoded, so a lying header costs no large allocation. */
static dp_status check_header(const opj_image_t *img, const dp__j2k_expect *e) {
  if ((int)img->numcomps != e->samples)
    return dp__error(DP_EFORMAT, "JPEG 2000 codestream has %u components, the header says %d samples per pixel",
                     img->numcomps, e->samples);
  for (int c = 0; c < e->samples; c++) {
    const opj_image_comp_t *k = &img->comps[c];
    if (k->dx != 1 || k->dy != 1)
      return dp__error(DP_EFORMAT, "JPEG 2000 component %d is subsampled (%ux%u)", c, k->dx, k->dy);
    if (k->w != (OPJ_UINT32)e->cols || k->h != (OPJ_UINT32)e->rows)
      return dp__error(DP_EFORMAT, "JPEG 2000 codestream is %ux%u, the header says %dx%d (columns x rows)",
                       k->w, k->h, e->cols, e->rows);
    if (k->prec < 1 || (int)k->prec > e->bits_alloc)
      return dp__error(DP_EFORMAT, "JPEG 2000 codestream has %u-bit samples, the header says %d bits allocated",
                       k->prec, e->bits_alloc);
  }
  return DP_OK;
}

/* The transform facts of the main header: whether any component uses the
 * irreversible 9/7 wavelet, and whether the component transform is on. */
static void coding_style(opj_codec_t *codec, int *irreversible, int *mct) {
  *irreversible = 0;
  *mct = 0;
  opj_codestream_info_v2_t *info = opj_get_cstr_info(codec);
  if (!info) return;
  if (info->m_default_tile_info.tccp_info)
    for (OPJ_UINT32 c = 0; c < info->nbcomps; c++)
      *irreversible |= info->m_default_tile_info.tccp_info[c].qmfbid == 0;
  *mct = info->m_default_tile_info.mct != 0;
  opj_destroy_cstr_info(&info);
}

/* Copies the decoded components out; fails when a value does not fit the
 * header's BitsStored (a disagreement on the precision that matters). */
static dp_status copy_out(const opj_image_t *img, const dp__j2k_expect *e, void *dst) {
  size_t npix = (size_t)e->rows * (size_t)e->cols;
  int ns = e->samples;
  int bs = e->bits_stored >= 1 && e->bits_stored <= e->bits_alloc ? e->bits_stored : e->bits_alloc;
  for (int c = 0; c < ns; c++) {
    const OPJ_INT32 *src = img->comps[c].data;
    /* A signed header with an unsigned codestream holds the stored bit
     * patterns, which load.c sign-extends; hence [0, 2^bs) then. */
    int64_t lo = 0, hi = ((int64_t)1 << bs) - 1;
    if (e->pixel_rep && img->comps[c].sgnd) {
      lo = -((int64_t)1 << (bs - 1));
      hi = ((int64_t)1 << (bs - 1)) - 1;
    }
    for (size_t i = 0; i < npix; i++)
      if (src[i] < lo || src[i] > hi)
        return dp__error(DP_EFORMAT, "JPEG 2000 sample value %d (component %d) does not fit the %d bits "
                         "stored%s the header declares", (int)src[i], c, bs, e->pixel_rep ? " signed" : "");
    /* The int32 value keeps its low bits: a negative sample becomes its
     * two's complement pattern, as stored in native DICOM pixel data. */
    if (e->bits_alloc == 8) {
      uint8_t *d = (uint8_t *)dst + c;
      for (size_t i = 0; i < npix; i++) d[i * (size_t)ns] = (uint8_t)(uint32_t)src[i];
    } else {
      uint16_t *d = (uint16_t *)dst + c;
      for (size_t i = 0; i < npix; i++) d[i * (size_t)ns] = (uint16_t)(uint32_t)src[i];
    }
  }
  return DP_OK;
}

dp_status dp__j2k_decode(const void *src, size_t n, const dp__j2k_expect *e, void *dst,
                         size_t dst_size, int *mct_out) {
  if (mct_out) *mct_out = 0;
  if (e->bits_alloc != 8 && e->bits_alloc != 16)
    return dp__error(DP_EUNSUPPORTED, "JPEG 2000 with %d bits allocated is not supported (8 and 16 are)",
                     e->bits_alloc);
  if (e->rows < 1 || e->cols < 1 || (e->samples != 1 && e->samples != 3))
    return dp__error(DP_EFORMAT, "JPEG 2000 frame of %dx%d pixels with %d samples", e->cols, e->rows,
                     e->samples);
  size_t need = (size_t)e->rows * (size_t)e->cols * (size_t)e->samples * (size_t)(e->bits_alloc / 8);
  if (dst_size != need)
    return dp__error(DP_EINVAL, "JPEG 2000 output buffer of %zu bytes for a %zu-byte frame", dst_size, need);
  if (!src || n < 2) return dp__error(DP_EFORMAT, "JPEG 2000 frame is empty");
  OPJ_CODEC_FORMAT fmt;
  if (((const uint8_t *)src)[0] == 0xff && ((const uint8_t *)src)[1] == 0x4f) fmt = OPJ_CODEC_J2K;
  else if (n >= sizeof k_jp2_magic && memcmp(src, k_jp2_magic, sizeof k_jp2_magic) == 0) fmt = OPJ_CODEC_JP2;
  else return dp__error(DP_EFORMAT, "JPEG 2000 frame starts with neither a codestream marker nor a JP2 signature");

  opj_errors err = {{0}};
  mem_stream ms = {src, n, 0};
  opj_image_t *img = NULL;
  opj_stream_t *st = NULL;
  opj_codec_t *codec = opj_create_decompress(fmt);
  dp_status s = DP_OK;
  if (!codec) return dp__error(DP_ENOMEM, "out of memory creating a JPEG 2000 decoder");
  opj_set_error_handler(codec, on_error, &err);
  opj_set_warning_handler(codec, on_quiet, NULL);
  opj_set_info_handler(codec, on_quiet, NULL);
  opj_dparameters_t prm;
  opj_set_default_decoder_parameters(&prm);
  if (!opj_setup_decoder(codec, &prm)) {
    s = fail(&err, "decoder setup failed");
    goto done;
  }
  /* Strict (the default since 2.5, set for older versions): a truncated
   * codestream is an error, never a partly decoded image. */
  opj_decoder_set_strict_mode(codec, OPJ_TRUE);
  st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  if (!st) {
    s = dp__error(DP_ENOMEM, "out of memory creating a JPEG 2000 stream");
    goto done;
  }
  opj_stream_set_user_data(st, &ms, NULL);
  opj_stream_set_user_data_length(st, n);
  opj_stream_set_read_function(st, mem_read);
  opj_stream_set_skip_function(st, mem_skip);
  opj_stream_set_seek_function(st, mem_seek);
  if (!opj_read_header(st, codec, &img) || !img) {
    s = fail(&err, "header unreadable");
    goto done;
  }
  if ((s = check_header(img, e)) != DP_OK) goto done;
  int irreversible, mct;
  coding_style(codec, &irreversible, &mct);
  if (irreversible && e->lossless) {
    s = dp__error(DP_EFORMAT, "JPEG 2000 codestream uses the irreversible 9/7 wavelet under the lossless-only transfer syntax");
    goto done;
  }
  if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st)) {
    s = fail(&err, "codestream damaged or truncated");
    goto done;
  }
  /* Decoding may not change the geometry, but the buffers must be there. */
  if ((s = check_header(img, e)) != DP_OK) goto done;
  for (int c = 0; c < e->samples; c++)
    if (!img->comps[c].data) {
      s = fail(&err, "decoder returned no samples");
      goto done;
    }
  if ((s = copy_out(img, e, dst)) != DP_OK) goto done;
  if (mct_out) *mct_out = mct && e->samples == 3;
done:
  if (img) opj_image_destroy(img);
  if (st) opj_stream_destroy(st);
  opj_destroy_codec(codec);
  return s;
}

#else /* without OpenJPEG */

int dp__j2k_available(void) { return 0; }

dp_status dp__j2k_decode(const void *src, size_t n, const dp__j2k_expect *e, void *dst,
                         size_t dst_size, int *mct) {
  (void)src;
  (void)n;
  (void)e;
  (void)dst;
  (void)dst_size;
  if (mct) *mct = 0;
  return dp__error(DP_ECODEC, "JPEG 2000 decoding is not built in (OpenJPEG missing)");
}

#endif
