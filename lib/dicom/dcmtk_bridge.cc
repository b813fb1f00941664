// The only C++ file of the library: wraps DCMTK behind the C interface of
// dcmtk_bridge.h.  No exception and no DCMTK type crosses that interface.
#include "dicom/dcmtk_bridge.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "dcmprep/version.h"
#include "core/internal.h"

#include <string>

extern "C" const char *dp__dcm_toolkit_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

extern "C" const char *dp_dicom_toolkit_version(void) { return dp__dcm_toolkit_version(); }

static const char *const k_transfer_syntaxes[] = {
    "1.2.840.10008.1.2 Implicit VR Little Endian",
    "1.2.840.10008.1.2.1 Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99 Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2 Explicit VR Big Endian",
    "1.2.840.10008.1.2.5 RLE Lossless",
    "1.2.840.10008.1.2.4.50 JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.51 JPEG Extended (Process 2 & 4)",
    "1.2.840.10008.1.2.4.57 JPEG Lossless, Non-Hierarchical (Process 14)",
    "1.2.840.10008.1.2.4.70 JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    "1.2.840.10008.1.2.4.80 JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81 JPEG-LS Lossy (Near-Lossless)",
#ifdef DCMPREP_HAVE_OPENJPEG
    "1.2.840.10008.1.2.4.90 JPEG 2000 Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.91 JPEG 2000 Image Compression",
#endif
    nullptr};

extern "C" const char *const *dp_supported_transfer_syntaxes(void) { return k_transfer_syntaxes; }

// ---- reading ---------------------------------------------------------------

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
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "dicom/csa.h"
#include "dicom/frame_check.h"
#include "dicom/j2k.h"
#include "dicom/mosaic.h"
#include "dicom/slice.h"

// DCMTK logs to stderr by default; the library never prints.
// DCMTK reads its data dictionary from text files the first time it needs
// it.  Its private-tag dictionary (private.dic, 3000 entries) costs about
// 20 ms per process, a third of a scan of 120 files, and is of no use here:
// the only private attributes read (Siemens (0019,xx0a) and the CSA header)
// are found by creator and read as bytes whatever their VR.  Unless the user
// chose the dictionaries (DCMDICTPATH), the default path is used without it.
// Done once, before the first parse (the dictionary is created lazily).
static void trim_dictionary_path() {
#ifdef DCM_DICT_DEFAULT_PATH
  if (getenv(DCM_DICT_ENVIRONMENT_VARIABLE)) return;
  std::string in = DCM_DICT_DEFAULT_PATH, out;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find(ENVIRONMENT_PATH_SEPARATOR, start);
    if (end == std::string::npos) end = in.size();
    std::string part = in.substr(start, end - start);
    bool priv = part.size() >= 11 && part.compare(part.size() - 11, 11, "private.dic") == 0;
    if (!part.empty() && !priv) out += (out.empty() ? "" : std::string(1, ENVIRONMENT_PATH_SEPARATOR)) + part;
    start = end + 1;
  }
  if (!out.empty() && out != in) setenv(DCM_DICT_ENVIRONMENT_VARIABLE, out.c_str(), 0);
#endif
}

static void quiet_toolkit() {
  static std::once_flag once;
  std::call_once(once, [] {
    trim_dictionary_path();
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
  });
}

static void register_decoders() {
  quiet_toolkit();
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

extern "C" void dp__dcm_quiet(void) { quiet_toolkit(); }

extern "C" void dp__dcm_register_decoders(void) { register_decoders(); }

static void get_str(DcmItem *it, const DcmTagKey &tag, char *out, size_t size, bool all = false) {
  OFString s;
  out[0] = '\0';
  OFCondition c = all ? it->findAndGetOFStringArray(tag, s) : it->findAndGetOFString(tag, s);
  if (c.good()) snprintf(out, size, "%s", s.c_str());
}

static int get_int(DcmItem *it, const DcmTagKey &tag, int fallback) {
  OFString s;
  if (it->findAndGetOFString(tag, s).bad() || s.empty()) return fallback;
  char *end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (end == s.c_str()) return fallback;
  return v > INT_MAX ? INT_MAX : v < INT_MIN + 1 ? INT_MIN + 1 : (int)v;
}

static int get_us(DcmItem *it, const DcmTagKey &tag, int fallback) {
  Uint16 v;
  return it->findAndGetUint16(tag, v).good() ? (int)v : fallback;
}

/* n decimal values (DS); returns 1 when all are present and finite. */
static int get_ds(DcmItem *it, const DcmTagKey &tag, double *out, int n) {
  for (int i = 0; i < n; i++) {
    Float64 v;
    if (it->findAndGetFloat64(tag, v, (unsigned long)i).bad() || !std::isfinite(v)) return 0;
    out[i] = v;
  }
  return 1;
}

/* First item of a sequence inside item (or NULL). */
static DcmItem *sub(DcmItem *it, const DcmTagKey &seq) {
  DcmItem *r = nullptr;
  if (!it || it->findAndGetSequenceItem(seq, r, 0).bad()) return nullptr;
  return r;
}

/* Applies a functional-group item (shared or per-frame) to a slice. */
static void apply_groups(DcmItem *g, dp__slice *s) {
  if (!g) return;
  if (DcmItem *pm = sub(g, DCM_PixelMeasuresSequence)) {
    if (get_ds(pm, DCM_PixelSpacing, s->spacing, 2)) s->has_spacing = 1;
    get_ds(pm, DCM_SliceThickness, &s->thickness, 1);
  }
  if (DcmItem *pp = sub(g, DCM_PlanePositionSequence))
    if (get_ds(pp, DCM_ImagePositionPatient, s->ipp, 3)) s->has_ipp = 1;
  if (DcmItem *po = sub(g, DCM_PlaneOrientationSequence))
    if (get_ds(po, DCM_ImageOrientationPatient, s->iop, 6)) s->has_iop = 1;
  if (DcmItem *pv = sub(g, DCM_PixelValueTransformationSequence)) {
    get_ds(pv, DCM_RescaleSlope, &s->slope, 1);
    get_ds(pv, DCM_RescaleIntercept, &s->intercept, 1);
  }
  if (DcmItem *fc = sub(g, DCM_FrameContentSequence)) {
    s->temporal_index = get_us(fc, DCM_TemporalPositionIndex, s->temporal_index);
    Uint32 v;
    if (fc->findAndGetUint32(DCM_TemporalPositionIndex, v).good()) s->temporal_index = (int)v;
  }
  if (DcmItem *ft = sub(g, DCM_MRImageFrameTypeSequence)) get_str(ft, DCM_FrameType, s->image_type, sizeof s->image_type, true);
  if (DcmItem *ft = sub(g, DCM_CTImageFrameTypeSequence)) get_str(ft, DCM_FrameType, s->image_type, sizeof s->image_type, true);
}

// What a non-image SOP class is (for the skip reason), or NULL for images.
static const char *non_image_kind(const char *sop) {
  static const struct {
    const char *prefix, *what;
  } non_image[] = {
      {"1.2.840.10008.5.1.4.1.1.88.", "structured report"},
      {"1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set"},
      {"1.2.840.10008.5.1.4.1.1.481.", "RT object"},
      {"1.2.840.10008.5.1.4.1.1.11.", "presentation state"},
      {"1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"},
      {"1.2.840.10008.5.1.4.1.1.66.4", "DICOM Segmentation"},
      {"1.2.840.10008.5.1.4.1.1.66", "raw data, registration or fiducials"},
      {"1.2.840.10008.1.3.10", "DICOMDIR (media storage directory)"},
      {"1.2.840.10008.5.1.4.1.1.9.", "waveform"},
      {nullptr, nullptr}};
  for (int i = 0; non_image[i].prefix; i++)
    if (strncmp(sop, non_image[i].prefix, strlen(non_image[i].prefix)) == 0) return non_image[i].what;
  return nullptr;
}

// A private attribute: element `elem` of the block that `creator` reserved
// in `group` (the block is usually 0x10, but any 0x10-0xFF is allowed).
static DcmElement *find_private(DcmItem *ds, Uint16 group, const char *creator, Uint8 elem) {
  for (Uint16 b = 0x10; b <= 0xff; b++) {
    OFString owner;
    if (ds->findAndGetOFString(DcmTagKey(group, b), owner).bad()) continue;
    if (owner != creator) continue;
    DcmElement *el = nullptr;
    if (ds->findAndGetElement(DcmTagKey(group, (Uint16)(b << 8 | elem)), el).good()) return el;
    return nullptr;
  }
  return nullptr;
}

// An unsigned short that may have been read without its VR (implicit VR
// files read private attributes as UN): two little-endian bytes.
static int private_us(DcmElement *el) {
  if (!el) return 0;
  Uint16 v = 0;
  if (el->ident() == EVR_US && el->getUint16(v).good()) return v;
  Uint8 *p = nullptr;
  if (el->getLength() == 2 && el->getUint8Array(p).good() && p) return p[0] | p[1] << 8;
  OFString t;
  if (el->getOFString(t, 0).good()) return atoi(t.c_str());
  return 0;
}

// Siemens mosaic: the number of tiles from (0019,xx0a) or the CSA image
// header, the slice direction from the CSA SliceNormalVector; expands *s into
// one slice per tile (mosaic.h).  *nout stays 0 when the image is not a
// mosaic after all (a single tile).
static dp_status read_mosaic(DcmItem *ds, const dp__slice *s, dp__slice **out, int *nout) {
  dp__slice m = *s;
  m.mosaic = private_us(find_private(ds, 0x0019, "SIEMENS MR HEADER", 0x0a));
  const uint8_t *csa = nullptr;
  size_t ncsa = 0;
  if (DcmElement *el = find_private(ds, 0x0029, "SIEMENS CSA HEADER", 0x10)) {
    Uint8 *p = nullptr;
    if (el->getUint8Array(p).good() && p) {
      csa = p;
      ncsa = el->getLength();
    }
  }
  double v[3];
  if (m.mosaic < 2 && csa && dp__csa_numbers(csa, ncsa, "NumberOfImagesInMosaic", v, 1) == 1)
    m.mosaic = (int)v[0];
  if (m.mosaic < 2) return DP_OK;
  bool has_normal = csa && dp__csa_numbers(csa, ncsa, "SliceNormalVector", v, 3) == 3;
  return dp__mosaic_expand(&m, has_normal ? v : nullptr, out, nout);
}

extern "C" dp_status dp__dcm_read_slices(const char *path, dp__slice **out, int *nout) {
  *out = nullptr;
  *nout = 0;
  try {
    quiet_toolkit();
    DcmFileFormat ff;
    OFCondition c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect,
                                        DCM_PixelData);
    if (c.bad()) return dp__error(DP_EFORMAT, "not DICOM (%s)", c.text());
    DcmDataset *ds = ff.getDataset();
    DcmMetaInfo *mi = ff.getMetaInfo();
    dp__slice s;
    memset(&s, 0, sizeof s);
    get_str(ds, DCM_SOPClassUID, s.sop_class, sizeof s.sop_class);
    if (!s.sop_class[0] && mi) get_str(mi, DCM_MediaStorageSOPClassUID, s.sop_class, sizeof s.sop_class);
    int rows = get_us(ds, DCM_Rows, 0), cols = get_us(ds, DCM_Columns, 0);
    // Parsing stopped before Pixel Data, so its presence is inferred from the
    // image pixel module; a file that lacks it fails later, when decoded.
    bool has_pixels = ds->tagExists(DCM_BitsAllocated) || ds->tagExists(DCM_FloatPixelData) ||
                      ds->tagExists(DCM_DoubleFloatPixelData);
    if (!s.sop_class[0] && !rows && !ds->tagExists(DCM_Modality))
      return dp__error(DP_EFORMAT, "not DICOM (no SOP class, no image attributes)");
    if (const char *what = non_image_kind(s.sop_class))
      return dp__error(DP_EUNSUPPORTED, "not an image (SOP class %s: %s)", s.sop_class, what);
    if (ds->tagExists(DCM_DirectoryRecordSequence))
      return dp__error(DP_EUNSUPPORTED, "not an image (DICOMDIR: a directory of other files)");
    if (!has_pixels || rows < 1 || cols < 1)
      return dp__error(DP_EUNSUPPORTED, "not an image (no pixel data)");
    s.rows = rows;
    s.cols = cols;
    s.has_pixels = 1;
    s.float_pixels = ds->tagExists(DCM_FloatPixelData);
    // The file meta header names the transfer syntax; DCMTK's own guess is
    // only used without one (a syntax newer than the toolkit, e.g. HTJ2K, is
    // otherwise read as if uncompressed and must be refused by name later).
    DcmXfer xfer(ds->getOriginalXfer());
    snprintf(s.ts_uid, sizeof s.ts_uid, "%s", xfer.getXferID());
    if (mi) {
      char meta_ts[DP__UID_LEN];
      get_str(mi, DCM_TransferSyntaxUID, meta_ts, sizeof meta_ts);
      if (meta_ts[0]) snprintf(s.ts_uid, sizeof s.ts_uid, "%s", meta_ts);
    }
    get_str(ds, DCM_SeriesInstanceUID, s.series_uid, sizeof s.series_uid);
    get_str(ds, DCM_SOPInstanceUID, s.sop_uid, sizeof s.sop_uid);
    get_str(ds, DCM_FrameOfReferenceUID, s.for_uid, sizeof s.for_uid);
    get_str(ds, DCM_Modality, s.modality, sizeof s.modality);
    get_str(ds, DCM_ImageType, s.image_type, sizeof s.image_type, true);
    for (char *p = s.image_type; *p; p++) *p = (char)toupper((unsigned char)*p);
    get_str(ds, DCM_PhotometricInterpretation, s.photometric, sizeof s.photometric);
    get_str(ds, DCM_SeriesDescription, s.description, sizeof s.description);
    s.series_number = get_int(ds, DCM_SeriesNumber, DP__NONE);
    s.instance_number = get_int(ds, DCM_InstanceNumber, DP__NONE);
    s.acquisition_number = get_int(ds, DCM_AcquisitionNumber, DP__NONE);
    s.echo_number = get_int(ds, DCM_EchoNumbers, DP__NONE);
    s.temporal_index = get_int(ds, DCM_TemporalPositionIdentifier, DP__NONE);
    s.samples = get_us(ds, DCM_SamplesPerPixel, 1);
    s.bits_alloc = get_us(ds, DCM_BitsAllocated, 0);
    s.bits_stored = get_us(ds, DCM_BitsStored, s.bits_alloc);
    s.high_bit = get_us(ds, DCM_HighBit, s.bits_stored - 1);
    s.pixel_rep = get_us(ds, DCM_PixelRepresentation, 0);
    s.has_ipp = get_ds(ds, DCM_ImagePositionPatient, s.ipp, 3);
    s.has_iop = get_ds(ds, DCM_ImageOrientationPatient, s.iop, 6);
    s.has_spacing = get_ds(ds, DCM_PixelSpacing, s.spacing, 2);
    s.slope = 1;
    s.intercept = 0;
    if (!get_ds(ds, DCM_RescaleSlope, &s.slope, 1) || s.slope == 0) s.slope = 1;
    get_ds(ds, DCM_RescaleIntercept, &s.intercept, 1);
    get_ds(ds, DCM_SliceThickness, &s.thickness, 1);
    get_ds(ds, DCM_SpacingBetweenSlices, &s.between, 1);
    int frames = get_int(ds, DCM_NumberOfFrames, 1);
    if (frames < 1) frames = 1;
    s.file_frames = frames;
    // Absurd sizes are refused here, before anyone allocates for them.
    double bytes = (double)rows * cols * frames * (s.samples > 0 ? s.samples : 1) *
                   (s.bits_alloc > 0 ? s.bits_alloc : 16) / 8.0;
    if (bytes > 16.0 * 1024 * 1024 * 1024)
      return dp__error(DP_ELIMIT, "image too large (%d x %d x %d frames)", rows, cols, frames);
    if (!s.float_pixels && s.bits_alloc != 8 && s.bits_alloc != 16 && s.bits_alloc != 32)
      return dp__error(DP_EUNSUPPORTED, "BitsAllocated %d is not supported", s.bits_alloc);
    if (s.bits_stored < 1 || s.bits_stored > s.bits_alloc) s.bits_stored = s.bits_alloc;

    if (frames == 1 && strstr(s.image_type, "MOSAIC")) {
      s.path = const_cast<char *>(path);
      dp_status ms = read_mosaic(ds, &s, out, nout);
      s.path = nullptr;
      if (ms != DP_OK || *nout > 0) return ms;
    }

    DcmItem *shared = sub(ds, DCM_SharedFunctionalGroupsSequence);
    DcmSequenceOfItems *perframe = nullptr;
    ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perframe);
    bool enhanced = shared || perframe;
    int n = frames;
    dp__slice *arr = (dp__slice *)calloc((size_t)n, sizeof *arr);
    if (!arr) return dp__error(DP_ENOMEM, "out of memory");
    for (int f = 0; f < n; f++) {
      arr[f] = s;
      arr[f].frame = f;
      arr[f].enhanced = enhanced;
      if (enhanced) {
        apply_groups(shared, &arr[f]);
        if (perframe && (unsigned long)f < perframe->card()) apply_groups(perframe->getItem(f), &arr[f]);
      } else if (n > 1) {
        // Classic multi-frame: frames of one position (e.g. a cine) or a stack
        // described by the shared header; positions are unknown per frame.
        arr[f].temporal_index = f;
      }
      arr[f].path = strdup(path);
      if (!arr[f].path) {
        for (int i = 0; i < f; i++) free(arr[i].path);
        free(arr);
        return dp__error(DP_ENOMEM, "out of memory");
      }
    }
    *out = arr;
    *nout = n;
    return DP_OK;
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "out of memory reading the header");
  } catch (...) {
    return dp__error(DP_EINTERNAL, "unexpected failure reading the header");
  }
}

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
        for (const char *const *t = k_transfer_syntaxes; *t && !known; t++)
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
      for (unsigned long i = 0; i < seq->card(); i++) {
        DcmPixelItem *it = nullptr;
        Uint8 *p = nullptr;
        if (seq->getItem(it, i).bad() || !it)
          return dp__error(DP_EFORMAT, "%s: pixel data fragment %lu unreadable", path, i);
        size_t n = it->getLength();
        if (n && (it->getUint8Array(p).bad() || !p))
          return dp__error(DP_EFORMAT, "%s: pixel data fragment %lu unreadable", path, i);
        if (i == 0) {
          bot = p;
          bot_len = n;
        } else {
          frag.push_back(p);
          len.push_back(n);
        }
      }
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

static void meta_str(dp_volume *v, DcmItem *ds, const DcmTagKey &tag, const char *key) {
  OFString s;
  if (ds->findAndGetOFStringArray(tag, s).good() && !s.empty()) dp_volume_meta_set_str(v, key, s.c_str());
}

static void meta_num(dp_volume *v, DcmItem *ds, const DcmTagKey &tag, const char *key, double scale) {
  OFString s;
  if (ds->findAndGetOFString(tag, s).bad() || s.empty()) return;
  char *end = nullptr;
  double x = strtod(s.c_str(), &end);
  if (end != s.c_str() && std::isfinite(x)) dp_volume_meta_set_num(v, key, x * scale);
}

// Sets key from item (a number scaled by scale, or text when scale is 0)
// unless the volume already has it.
static void meta_fill(dp_volume *v, DcmItem *item, const DcmTagKey &tag, const char *key, double scale) {
  if (!item || dp_volume_meta_get(v, key, nullptr)) return;
  if (scale == 0) meta_str(v, item, tag, key);
  else meta_num(v, item, tag, key, scale);
}

extern "C" dp_status dp__dcm_read_meta(const char *path, int frame, dp_volume *v, int keep_phi) {
  try {
    DcmFileFormat ff;
    OFCondition c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect,
                                        DCM_PixelData);
    if (c.bad()) return dp__error(DP_EFORMAT, "%s: %s", path, c.text());
    DcmDataset *ds = ff.getDataset();
    meta_str(v, ds, DCM_Modality, "Modality");
    meta_str(v, ds, DCM_Manufacturer, "Manufacturer");
    meta_str(v, ds, DCM_ManufacturerModelName, "ManufacturersModelName");
    meta_str(v, ds, DCM_StationName, "StationName");
    meta_num(v, ds, DCM_SeriesNumber, "SeriesNumber", 1);
    meta_str(v, ds, DCM_SeriesDescription, "SeriesDescription");
    meta_str(v, ds, DCM_ProtocolName, "ProtocolName");
    meta_str(v, ds, DCM_ImageType, "ImageType");
    meta_str(v, ds, DCM_BodyPartExamined, "BodyPartExamined");
    meta_num(v, ds, DCM_KVP, "KVP", 1);
    meta_str(v, ds, DCM_ConvolutionKernel, "ConvolutionKernel");
    meta_num(v, ds, DCM_SliceThickness, "SliceThickness", 1);
    meta_num(v, ds, DCM_SpacingBetweenSlices, "SpacingBetweenSlices", 1);
    meta_num(v, ds, DCM_MagneticFieldStrength, "MagneticFieldStrength", 1);
    meta_num(v, ds, DCM_EchoTime, "EchoTime", 1e-3);            // BIDS: seconds
    meta_num(v, ds, DCM_RepetitionTime, "RepetitionTime", 1e-3);
    meta_num(v, ds, DCM_InversionTime, "InversionTime", 1e-3);
    meta_num(v, ds, DCM_FlipAngle, "FlipAngle", 1);
    meta_num(v, ds, DCM_WindowCenter, "WindowCenter", 1);
    meta_num(v, ds, DCM_WindowWidth, "WindowWidth", 1);
    meta_str(v, ds, DCM_RescaleType, "RescaleType");
    meta_num(v, ds, DCM_GantryDetectorTilt, "GantryDetectorTiltTag", 1);
    // Enhanced objects keep these in functional groups: the frame's own
    // first, then the shared ones, for what the top level lacked.
    DcmSequenceOfItems *pf = nullptr;
    DcmItem *groups[2] = {nullptr, sub(ds, DCM_SharedFunctionalGroupsSequence)};
    if (ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, pf).good() && pf &&
        frame >= 0 && (unsigned long)frame < pf->card())
      groups[0] = pf->getItem((unsigned long)frame);
    for (DcmItem *g : groups) {
      if (!g) continue;
      meta_fill(v, sub(g, DCM_MREchoSequence), DCM_EffectiveEchoTime, "EchoTime", 1e-3);
      meta_fill(v, sub(g, DCM_MRTimingAndRelatedParametersSequence), DCM_RepetitionTime, "RepetitionTime", 1e-3);
      meta_fill(v, sub(g, DCM_MRTimingAndRelatedParametersSequence), DCM_FlipAngle, "FlipAngle", 1);
      meta_fill(v, sub(g, DCM_PixelMeasuresSequence), DCM_SliceThickness, "SliceThickness", 1);
      meta_fill(v, sub(g, DCM_CTAcquisitionDetailsSequence), DCM_KVP, "KVP", 1);
      meta_fill(v, sub(g, DCM_CTReconstructionSequence), DCM_ConvolutionKernel, "ConvolutionKernel", 0);
      meta_fill(v, sub(g, DCM_FrameVOILUTSequence), DCM_WindowCenter, "WindowCenter", 1);
      meta_fill(v, sub(g, DCM_FrameVOILUTSequence), DCM_WindowWidth, "WindowWidth", 1);
    }
    meta_str(v, ds, DCM_SeriesInstanceUID, "SeriesInstanceUID");
    meta_str(v, ds, DCM_FrameOfReferenceUID, "FrameOfReferenceUID");
    meta_str(v, ds, DCM_PhotometricInterpretation, "PhotometricInterpretation");
    if (keep_phi) {
      meta_str(v, ds, DCM_PatientName, "PatientName");
      meta_str(v, ds, DCM_PatientID, "PatientID");
      meta_str(v, ds, DCM_PatientBirthDate, "PatientBirthDate");
    }
    return DP_OK;
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure reading metadata", path);
  }
}

// ---- dataset writing (synthetic test data) ----------------------------------

#include <dcmtk/dcmdata/dcpath.h>
#include "dicom/dcmtk/dcm_util.h"
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

struct dp__dcm_ds {
  DcmFileFormat ff;
};

static void register_encoders() {
  quiet_toolkit();
  static std::once_flag once;
  std::call_once(once, [] {
    // Defaults: true lossless JPEG (no colour or bit-depth conversion), and no
    // new SOP Instance UID for lossless encodings.
    DJEncoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
  });
}

extern "C" dp_status dp__dcm_ds_new(dp__dcm_ds **out) {
  *out = nullptr;
  try {
    *out = new dp__dcm_ds();
    return DP_OK;
  } catch (...) {
    return dp__error(DP_ENOMEM, "out of memory creating a dataset");
  }
}

extern "C" void dp__dcm_ds_free(dp__dcm_ds *ds) { delete ds; }

extern "C" dp_status dp__dcm_ds_set(dp__dcm_ds *ds, const char *path, const char *value) {
  try {
    quiet_toolkit();
    if (!path || !*path || !value) return dp__error(DP_EINVAL, "empty attribute path or value");
    DcmPathProcessor proc;
    OFCondition c = proc.findOrCreatePath(ds->ff.getDataset(), path, OFTrue);
    if (c.bad()) return dp__error(DP_EINVAL, "%s: %s", path, c.text());
    OFList<DcmPath *> results;
    if (proc.getResults(results) == 0) return dp__error(DP_EINVAL, "%s: no such attribute", path);
    for (OFListIterator(DcmPath *) it = results.begin(); it != results.end(); ++it) {
      DcmPathNode *node = (*it)->back();
      DcmObject *obj = node ? node->m_obj : nullptr;
      if (!obj || !obj->isLeaf())
        return dp__error(DP_EINVAL, "%s: the path ends at a sequence or item, not an attribute", path);
      c = static_cast<DcmElement *>(obj)->putString(value);
      if (c.bad()) return dp__error(DP_EINVAL, "%s = '%s': %s", path, value, c.text());
    }
    return DP_OK;
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure setting the attribute", path);
  }
}

extern "C" dp_status dp__dcm_ds_set_pixels(dp__dcm_ds *ds, const void *data, size_t nbytes) {
  try {
    DcmDataset *d = ds->ff.getDataset();
    if (!data || nbytes == 0) return dp__error(DP_EINVAL, "PixelData: no pixel data given");
    if (nbytes > 0xFFFFFFF0u) return dp__error(DP_ELIMIT, "PixelData: %zu bytes is too large", nbytes);
    Uint16 bits = 16;
    d->findAndGetUint16(DCM_BitsAllocated, bits);
    OFCondition c;
    if (bits == 8) {
      c = d->putAndInsertUint8Array(DCM_PixelData, (const Uint8 *)data, (unsigned long)nbytes);
    } else {
      if (nbytes % 2) return dp__error(DP_EINVAL, "PixelData: odd byte count %zu for 16-bit words", nbytes);
      c = d->putAndInsertUint16Array(DCM_PixelData, (const Uint16 *)data, (unsigned long)(nbytes / 2));
    }
    return c.good() ? DP_OK : dp__error(DP_EINVAL, "PixelData: %s", c.text());
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "PixelData: out of memory");
  } catch (...) {
    return dp__error(DP_EINTERNAL, "PixelData: unexpected failure");
  }
}

// (dcm_util.h) Saves ff at path through a temporary file in the same folder,
// renamed into place; the temporary file is removed on failure.
dp_status dp_dcm::save_atomic(DcmFileFormat &ff, const char *path, E_TransferSyntax ts) {
  std::string p(path);
  size_t slash = p.rfind('/');
  std::string dir = slash == std::string::npos ? "" : p.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  std::string tmpl = dir + "." + base + ".tmp.XXXXXX";
  std::vector<char> tmp(tmpl.begin(), tmpl.end());
  tmp.push_back('\0');
  int fd = mkstemp(tmp.data());
  if (fd < 0) return dp__error(DP_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
  close(fd);
  OFCondition c = ff.saveFile(tmp.data(), ts);
  if (c.bad()) {
    unlink(tmp.data());
    return dp__error(DP_EIO, "%s: %s", path, c.text());
  }
  if (chmod(tmp.data(), 0644) != 0 || rename(tmp.data(), path) != 0) {
    int e = errno;
    unlink(tmp.data());
    return dp__error(DP_EIO, "%s: %s", path, strerror(e));
  }
  return DP_OK;
}

extern "C" dp_status dp__dcm_ds_save(dp__dcm_ds *ds, const char *path, const char *ts_uid) {
  try {
    register_encoders();
    if (!ts_uid) ts_uid = "(null)";
    DcmXfer want(ts_uid);
    E_TransferSyntax ts = want.getXfer();
    DcmDataset *d = ds->ff.getDataset();
    // DCMTK's parameters: lossless JPEG (prediction 1 for SV1, 6 for the
    // process 14 syntax to show it differs), JPEG-LS with NEAR = 0.
    DJ_RPLossless jpeg_sv1(1, 0), jpeg_p14(6, 0);
    DJLSRepresentationParameter jls(0, OFTrue);
    DcmRLERepresentationParameter rle;
    const DcmRepresentationParameter *param = nullptr;
    switch (ts) {
      case EXS_LittleEndianImplicit: case EXS_LittleEndianExplicit: case EXS_BigEndianExplicit:
      case EXS_DeflatedLittleEndianExplicit: break;
      case EXS_JPEGProcess14SV1: param = &jpeg_sv1; break;
      case EXS_JPEGProcess14: param = &jpeg_p14; break;
      case EXS_JPEGLSLossless: param = &jls; break;
      case EXS_RLELossless: param = &rle; break;
      default: return dp__error(DP_EUNSUPPORTED, "cannot write transfer syntax %s", ts_uid);
    }
    // Native syntaxes need the uncompressed representation, which a dataset
    // encoded by an earlier save still holds.
    OFCondition c = d->chooseRepresentation(param ? ts : EXS_LittleEndianExplicit, param);
    if (c.bad() || !d->canWriteXfer(ts))
      return dp__error(DP_ECODEC, "cannot encode transfer syntax %s (%s)", ts_uid,
                       c.bad() ? c.text() : "no encoder for this pixel data");
    return dp_dcm::save_atomic(ds->ff, path, ts);
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory writing", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure writing", path);
  }
}
