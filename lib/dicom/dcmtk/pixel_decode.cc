// Decoding pixel data: native, deflated, RLE, JPEG and JPEG-LS through
// DCMTK's decoders, JPEG 2000 fragments through OpenJPEG (j2k.c), behind the
// C interface of pixel_decode.h.  No exception and no DCMTK type crosses it.
#include "dicom/dcmtk/pixel_decode.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "core/internal.h"
#include "dcmprep/version.h"
#include "dicom/dcmtk/dcm_util.h"
#include "dicom/dcmtk/toolkit.h"
#include "dicom/frame_check.h"
#include "dicom/j2k.h"
#include "dicom/slice.h"

static void register_decoders() { dp__dcm_register_decoders(); }
using dp_dcm::get_str;
using dp_dcm::get_us;

extern "C" void dp__dcm_pixels_free(dp__dcm_pixels *p) {
  if (!p) return;
  free(p->data);
  p->data = nullptr;
}

// DCMTK's JPEG and RLE decoders zero-fill a frame smaller than Rows x
// Columns and cut a larger one: the first frame's own size is checked first
// (frame_check.c).  JPEG-LS and JPEG 2000 decoders check it themselves.
static dp_status check_first_frame(DcmDataset *ds, E_TransferSyntax orig, const char *uid, int rows, int cols,
                                   const char *path) {
  bool rle = orig == EXS_RLELossless;
  bool jpeg = strncmp(uid, "1.2.840.10008.1.2.4.5", 21) == 0 || strncmp(uid, "1.2.840.10008.1.2.4.6", 21) == 0 ||
              strcmp(uid, "1.2.840.10008.1.2.4.70") == 0;
  if (!rle && !jpeg) return DP_OK;
  DcmElement *el = nullptr;
  DcmPixelSequence *seq = nullptr;
  DcmPixelItem *it = nullptr;
  Uint8 *p = nullptr;
  DcmPixelData *pd = ds->findAndGetElement(DCM_PixelData, el).good() ? dynamic_cast<DcmPixelData *>(el) : nullptr;
  if (!pd || pd->getEncapsulatedRepresentation(orig, nullptr, seq).bad() || !seq || seq->card() < 2 ||
      seq->getItem(it, 1).bad() || !it || it->getLength() == 0 || it->getUint8Array(p).bad() || !p)
    return dp__error(DP_EFORMAT, "%s: compressed pixel data without a readable first fragment", path);
  size_t n = it->getLength();
  return rle ? dp__check_rle_frame(p, n, rows, cols, path) : dp__check_jpeg_frame(p, n, rows, cols, path);
}

extern "C" dp_status dp__dcm_read_pixels(const char *path, const dp__slice *expect,
                                         dp__dcm_pixels *out) {
  memset(out, 0, sizeof *out);
  try {
    register_decoders();
    DcmFileFormat ff;
    // Large values (Pixel Data) stay on disk until asked for, so that native
    // pixels can be read straight into our buffer below.  A deflated stream
    // cannot be reread in place: it is loaded whole.
    bool deflated = strcmp(expect->ts_uid, "1.2.840.10008.1.2.1.99") == 0;
    OFCondition c = deflated ? ff.loadFile(path)
                             : ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    if (c.bad()) return dp__error(DP_EFORMAT, "%s: %s", path, c.text());
    DcmDataset *ds = ff.getDataset();
    E_TransferSyntax orig = ds->getOriginalXfer();
    DcmXfer xf(orig);
    // DCMTK 3.6.7 has no JPEG 2000 decoder: those fragments go to OpenJPEG
    // (j2k.c) below.
    bool j2k = orig == EXS_JPEG2000LosslessOnly || orig == EXS_JPEG2000;
    if (j2k && !dp__j2k_available())
      return dp__error(DP_ECODEC, "%s: no decoder for transfer syntax %s (%s): built without OpenJPEG",
                       path, xf.getXferID(), xf.getXferName());
    // High-Throughput JPEG 2000 (1.2.840.10008.1.2.4.201-203) is newer than
    // DCMTK 3.6.7, which then reads the file as if it were native and cannot
    // hand over its fragments: refused by name rather than as unreadable.
    OFString meta_ts;
    if (ff.getMetaInfo() && ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_ts).good() &&
        (meta_ts == "1.2.840.10008.1.2.4.201" || meta_ts == "1.2.840.10008.1.2.4.202" ||
         meta_ts == "1.2.840.10008.1.2.4.203"))
      return dp__error(DP_ECODEC, "%s: no decoder for transfer syntax %s (High-Throughput JPEG 2000%s)", path,
                       meta_ts.c_str(), meta_ts == "1.2.840.10008.1.2.4.203" ? "" : ", lossless only");
    if (xf.isEncapsulated() && !j2k) {
      dp_status fs = check_first_frame(ds, orig, xf.getXferID(), expect->mosaic ? expect->mosaic_rows : expect->rows,
                                       expect->mosaic ? expect->mosaic_cols : expect->cols, path);
      if (fs != DP_OK) return fs;
      ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
      if (!ds->canWriteXfer(EXS_LittleEndianExplicit)) {
        bool known = false;
        size_t idn = strlen(xf.getXferID());
        for (const char *const *t = dp_supported_transfer_syntaxes(); *t && !known; t++)
          known = strncmp(*t, xf.getXferID(), idn) == 0 && (*t)[idn] == ' ';
        if (known) // a decoder exists: the data is what it refused
          return dp__error(DP_EFORMAT, "%s: the %s pixel data could not be decoded (damaged, or not Rows x Columns)",
                           path, xf.getXferName());
        return dp__error(DP_ECODEC, "%s: no decoder for transfer syntax %s (%s)", path,
                         xf.getXferID(), xf.getXferName());
      }
    }
    // A mosaic is decoded whole; load.c cuts out the tiles.
    int rows = expect->mosaic ? expect->mosaic_rows : expect->rows;
    int cols = expect->mosaic ? expect->mosaic_cols : expect->cols;
    int frames = expect->file_frames;
    int samples = expect->samples > 0 ? expect->samples : 1;
    size_t want;
    if (expect->float_pixels) {
      Float32 *f32 = nullptr;
      unsigned long count = 0;
      DcmElement *el = nullptr;
      if (ds->findAndGetElement(DCM_FloatPixelData, el).bad() || el->getFloat32Array(f32).bad())
        return dp__error(DP_EUNSUPPORTED, "%s: double-precision pixel data is not supported", path);
      count = el->getLength() / 4;
      want = (size_t)rows * cols * frames * samples;
      if (count < want) return dp__error(DP_EFORMAT, "%s: pixel data truncated (%lu of %zu values)", path, count, want);
      out->data = malloc(want * 4);
      if (!out->data) return dp__error(DP_ENOMEM, "%s: out of memory", path);
      memcpy(out->data, f32, want * 4);
      out->bits_alloc = 32;
      out->is_float = 1;
      out->nbytes = want * 4;
      return DP_OK;
    }
    int ba = expect->bits_alloc;
    want = (size_t)rows * cols * frames * samples * (size_t)(ba / 8);
    DcmElement *el = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el)
      return dp__error(DP_EFORMAT, "%s: no pixel data", path);
    if (j2k) {
      if (ba != 8 && ba != 16)
        return dp__error(DP_EUNSUPPORTED, "%s: JPEG 2000 with %d bits allocated is not supported (8 and 16 are)",
                         path, ba);
      if (frames < 1) frames = 1;
      DcmPixelData *pd = dynamic_cast<DcmPixelData *>(el);
      DcmPixelSequence *seq = nullptr;
      if (!pd || pd->getEncapsulatedRepresentation(orig, nullptr, seq).bad() || !seq || seq->card() < 2)
        return dp__error(DP_EFORMAT, "%s: JPEG 2000 pixel data without encapsulated fragments", path);
      // Item 0 is the basic offset table; the rest are fragments.
      std::vector<const uint8_t *> frag;
      std::vector<size_t> len;
      const uint8_t *bot = nullptr;
      size_t bot_len = 0;
      dp_status sf = dp_dcm::fragments(seq, "pixel data", frag, len, &bot, &bot_len);
      if (sf != DP_OK) return dp__error_prefix(sf, path);
      if (frag.size() > (size_t)INT_MAX) return dp__error(DP_ELIMIT, "%s: too many pixel data fragments", path);
      std::vector<int> first((size_t)frames + 1);
      dp_status s = dp__j2k_frames(frag.data(), len.data(), (int)frag.size(), bot, bot_len, frames, first.data());
      if (s != DP_OK) return dp__error_prefix(s, path);
      // A frame split over several fragments is decoded from their
      // concatenation; sized up front so nothing throws once out->data is held.
      size_t joined_max = 0;
      for (int f = 0; f < frames; f++) {
        size_t t = 0;
        for (int k = first[f]; first[f + 1] - first[f] > 1 && k < first[f + 1]; k++) t += len[k];
        joined_max = t > joined_max ? t : joined_max;
      }
      std::vector<uint8_t> joined;
      joined.reserve(joined_max);
      size_t per_frame = want / (size_t)frames;
      out->data = malloc(want);
      if (!out->data) return dp__error(DP_ENOMEM, "%s: out of memory", path);
      dp__j2k_expect e = {rows, cols, samples, ba, expect->bits_stored, expect->pixel_rep,
                          orig == EXS_JPEG2000LosslessOnly};
      int mct = 0;
      for (int f = 0; f < frames && s == DP_OK; f++) {
        const uint8_t *src = frag[first[f]];
        size_t n = len[first[f]];
        if (first[f + 1] - first[f] > 1) {
          joined.clear();
          for (int k = first[f]; k < first[f + 1]; k++) joined.insert(joined.end(), frag[k], frag[k] + len[k]);
          src = joined.data();
          n = joined.size();
        }
        s = dp__j2k_decode(src, n, &e, (uint8_t *)out->data + (size_t)f * per_frame, per_frame, &mct);
        if (s != DP_OK) {
          char where[4200];
          snprintf(where, sizeof where, "%s: frame %d", path, f);
          dp__error_prefix(s, frames > 1 ? where : path);
        }
      }
      if (s != DP_OK) {
        dp__dcm_pixels_free(out);
        return s;
      }
      out->nbytes = want;
      out->bits_alloc = ba;
      out->planar = 0; // interleaved, the only layout DICOM allows for JPEG 2000
      get_str(ds, DCM_PhotometricInterpretation, out->photometric, sizeof out->photometric);
      // YBR_RCT / YBR_ICT: OpenJPEG undid the component transform.
      if (mct) snprintf(out->photometric, sizeof out->photometric, "RGB");
      return DP_OK;
    }
    // Native 16-bit words: one read from the file into our buffer, in host
    // byte order (DCMTK swaps big-endian words), instead of DCMTK's copy and
    // ours.
    if (!xf.isEncapsulated() && orig != EXS_DeflatedLittleEndianExplicit && ba == 16 &&
        (el->ident() == EVR_OW || el->ident() == EVR_ox) && el->getLength() >= want &&
        want <= 0xFFFFFFF0u) {
      out->data = malloc(want);
      if (!out->data) return dp__error(DP_ENOMEM, "%s: out of memory", path);
      DcmFileCache cache;
      c = el->getPartialValue(out->data, 0, (Uint32)want, &cache, gLocalByteOrder);
      if (c.good()) {
        out->nbytes = want;
        out->bits_alloc = ba;
        out->planar = get_us(ds, DCM_PlanarConfiguration, 0);
        get_str(ds, DCM_PhotometricInterpretation, out->photometric, sizeof out->photometric);
        return DP_OK;
      }
      free(out->data); /* e.g. the file changed under us: the general path says why */
      out->data = nullptr;
    }
    const void *src = nullptr;
    size_t have = el->getLength();
    if (ba == 8) {
      Uint8 *p = nullptr;
      if (el->getUint8Array(p).bad() || !p) {
        Uint16 *q = nullptr;
        if (el->getUint16Array(q).bad() || !q) return dp__error(DP_EFORMAT, "%s: unreadable pixel data", path);
        src = q;
      } else {
        src = p;
      }
    } else if (ba == 16) {
      Uint16 *p = nullptr;
      if (el->getUint16Array(p).bad() || !p) return dp__error(DP_EFORMAT, "%s: unreadable pixel data", path);
      src = p;
    } else {
      Uint32 *p = nullptr;
      Uint16 *q = nullptr;
      if (el->getUint32Array(p).good() && p) src = p;
      else if (el->getUint16Array(q).good() && q) src = q;
      else return dp__error(DP_EFORMAT, "%s: unreadable pixel data", path);
    }
    if (have < want)
      return dp__error(DP_EFORMAT, "%s: pixel data truncated (%zu of %zu bytes)", path, have, want);
    out->data = malloc(want);
    if (!out->data) return dp__error(DP_ENOMEM, "%s: out of memory", path);
    memcpy(out->data, src, want);
    out->nbytes = want;
    out->bits_alloc = ba;
    out->planar = get_us(ds, DCM_PlanarConfiguration, 0);
    get_str(ds, DCM_PhotometricInterpretation, out->photometric, sizeof out->photometric);
    return DP_OK;
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory decoding pixels", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure decoding pixels", path);
  }
}
