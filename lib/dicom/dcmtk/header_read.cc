// Reading DICOM headers: the slices of a file (one per frame, per-frame
// functional groups applied, Siemens mosaics expanded) and its acquisition
// metadata, behind the C interface of header_read.h.  No exception and no
// DCMTK type crosses it.
#include "dicom/dcmtk/header_read.h"

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
#include "dicom/csa.h"
#include "dicom/dcmtk/dcm_util.h"
#include "dicom/dcmtk/toolkit.h"
#include "dicom/mosaic.h"
#include "dicom/slice.h"

static void quiet_toolkit() { dp__dcm_quiet(); }
using dp_dcm::get_str;
using dp_dcm::get_us;

static int get_int(DcmItem *it, const DcmTagKey &tag, int fallback) {
  OFString s;
  if (it->findAndGetOFString(tag, s).bad() || s.empty()) return fallback;
  char *end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (end == s.c_str()) return fallback;
  return v > INT_MAX ? INT_MAX : v < INT_MIN + 1 ? INT_MIN + 1 : (int)v;
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
