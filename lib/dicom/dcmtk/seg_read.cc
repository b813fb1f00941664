// Segmentation reading (PS3.3 A.51, C.8.20 Segmentation Image Module,
// C.7.6.16 Multi-frame Functional Groups): segments, frame geometry and
// segment assignment from the functional groups, and the pixel data decoded
// to one byte per pixel (lib/labels/seg_pixels.c does the bits).
#include "dicom/dcmtk/label_read.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/internal.h"
#include "dicom/dcmtk/dcm_util.h"
#include "dicom/dcmtk/toolkit.h"
#include "labels/seg_pixels.h"

namespace {

const double k_max_pixels = 2147483648.0;  // decoded bytes (one per pixel)

dp__roi *find_segment(dp__label_obj *obj, long number) {
  for (int i = 0; i < obj->nrois; i++)
    if (obj->rois[i].pub.number == number) return &obj->rois[i];
  return nullptr;
}

std::string code_meaning(DcmItem *it, const DcmTagKey &seq) {
  return dp_dcm::str(dp_dcm::first(it, seq), DCM_CodeMeaning);
}

dp_status read_segments(DcmDataset *ds, dp__label_obj *obj) {
  DcmSequenceOfItems *ss = dp_dcm::seq(ds, DCM_SegmentSequence);
  int n = ss ? (int)ss->card() : 0;
  dp_status s = dp__label_obj_set_rois(obj, n);
  for (int i = 0; s == DP_OK && i < n; i++) {
    DcmItem *it = ss->getItem((unsigned long)i);
    long number = dp_dcm::integer(it, DCM_SegmentNumber, -1);
    if (number < 1 || number > 65535)
      return dp__error(DP_EFORMAT, "SegmentSequence item %d: no valid SegmentNumber", i + 1);
    if (find_segment(obj, number))
      return dp__error(DP_EFORMAT, "SegmentSequence: SegmentNumber %ld appears twice", number);
    dp__roi *r = &obj->rois[i];
    r->pub.number = (int)number;
    s = dp__label_strdup(&r->name, dp_dcm::str(it, DCM_SegmentLabel).c_str());
    if (s == DP_OK) s = dp__label_strdup(&r->algorithm, dp_dcm::str(it, DCM_SegmentAlgorithmType).c_str());
    if (s == DP_OK) s = dp__label_strdup(&r->type, code_meaning(it, DCM_SegmentedPropertyTypeCodeSequence).c_str());
    if (s == DP_OK)
      s = dp__label_strdup(&r->category, code_meaning(it, DCM_SegmentedPropertyCategoryCodeSequence).c_str());
    Uint16 lab[3];
    bool colour = true;
    for (int c = 0; c < 3 && colour; c++)
      colour = it->findAndGetUint16(DCM_RecommendedDisplayCIELabValue, lab[c], (unsigned long)c).good();
    if (colour) {
      uint16_t l[3] = {lab[0], lab[1], lab[2]};
      dp__cielab_to_rgb(l, r->pub.rgb);
      r->pub.has_colour = 1;
    }
    snprintf(r->for_uid, sizeof r->for_uid, "%s", obj->for_uid);
  }
  return s;
}

// Frame geometry and segment from a functional-group item (shared first,
// then the frame's own, which overrides).
struct frame_facts {
  double ipp[3], iop[6], spacing[2];
  bool has_ipp, has_iop, has_spacing;
  long segment;
};

void apply_groups(DcmItem *g, frame_facts *f, dp__label_obj *obj) {
  if (!g) return;
  if (DcmItem *pp = dp_dcm::first(g, DCM_PlanePositionSequence))
    if (dp_dcm::decimals(pp, DCM_ImagePositionPatient, f->ipp, 3)) f->has_ipp = true;
  if (DcmItem *po = dp_dcm::first(g, DCM_PlaneOrientationSequence))
    if (dp_dcm::decimals(po, DCM_ImageOrientationPatient, f->iop, 6)) f->has_iop = true;
  if (DcmItem *pm = dp_dcm::first(g, DCM_PixelMeasuresSequence)) {
    if (dp_dcm::decimals(pm, DCM_PixelSpacing, f->spacing, 2)) f->has_spacing = true;
    double v;
    if (dp_dcm::decimals(pm, DCM_SpacingBetweenSlices, &v, 1) && v > 0) obj->slice_spacing = v;
    if (dp_dcm::decimals(pm, DCM_SliceThickness, &v, 1) && v > 0) obj->thickness = v;
  }
  if (DcmItem *si = dp_dcm::first(g, DCM_SegmentIdentificationSequence))
    f->segment = dp_dcm::integer(si, DCM_ReferencedSegmentNumber, f->segment);
}

// Unit row and column directions (RAS) from an IOP, or false.
bool directions(const double iop[6], double r[3], double c[3]) {
  double nr = std::sqrt(iop[0] * iop[0] + iop[1] * iop[1] + iop[2] * iop[2]);
  double nc = std::sqrt(iop[3] * iop[3] + iop[4] * iop[4] + iop[5] * iop[5]);
  if (!(nr > 0.5 && nr < 1.5 && nc > 0.5 && nc < 1.5)) return false;
  double dot = (iop[0] * iop[3] + iop[1] * iop[4] + iop[2] * iop[5]) / (nr * nc);
  if (std::fabs(dot) > 1e-3) return false;
  const double flip[3] = {-1, -1, 1};
  for (int i = 0; i < 3; i++) {
    r[i] = flip[i] * iop[i] / nr;
    c[i] = flip[i] * iop[3 + i] / nc;
  }
  return true;
}

dp_status read_frames(DcmDataset *ds, dp__label_obj *obj, std::set<std::string> &sops) {
  int n = obj->info.frames;
  DcmItem *shared = dp_dcm::first(ds, DCM_SharedFunctionalGroupsSequence);
  DcmSequenceOfItems *pf = dp_dcm::seq(ds, DCM_PerFrameFunctionalGroupsSequence);
  if (!pf || (int)pf->card() != n)
    return dp__error(DP_EFORMAT, "PerFrameFunctionalGroupsSequence has %lu item(s) for NumberOfFrames %d",
                     pf ? pf->card() : 0UL, n);
  obj->frames = (dp__seg_frame *)calloc((size_t)n, sizeof *obj->frames);
  if (!obj->frames) return dp__error(DP_ENOMEM, "out of memory for %d frames", n);
  obj->nframes = n;
  for (int k = 0; k < n; k++) {
    frame_facts f;
    memset(&f, 0, sizeof f);
    f.segment = -1;
    DcmItem *own = pf->getItem((unsigned long)k);
    apply_groups(shared, &f, obj);
    apply_groups(own, &f, obj);
    if (DcmItem *d = dp_dcm::first(own, DCM_DerivationImageSequence)) {
      DcmSequenceOfItems *src = dp_dcm::seq(d, DCM_SourceImageSequence);
      for (unsigned long i = 0; src && i < src->card(); i++) {
        std::string u = dp_dcm::str(src->getItem(i), DCM_ReferencedSOPInstanceUID);
        if (!u.empty()) sops.insert(u);
      }
    }
    if (!f.has_ipp) return dp__error(DP_EFORMAT, "frame %d: no PlanePositionSequence ImagePositionPatient", k + 1);
    if (!f.has_iop) return dp__error(DP_EFORMAT, "frame %d: no PlaneOrientationSequence ImageOrientationPatient", k + 1);
    if (!f.has_spacing || !(f.spacing[0] > 1e-5 && f.spacing[0] < 1e5 && f.spacing[1] > 1e-5 && f.spacing[1] < 1e5))
      return dp__error(DP_EFORMAT, "frame %d: no valid PixelMeasuresSequence PixelSpacing", k + 1);
    for (int i = 0; i < 3; i++)
      if (std::fabs(f.ipp[i]) > 1e5)
        return dp__error(DP_EFORMAT, "frame %d: ImagePositionPatient beyond 100 m", k + 1);
    dp__seg_frame *fr = &obj->frames[k];
    if (!directions(f.iop, fr->row_dir, fr->col_dir))
      return dp__error(DP_EFORMAT, "frame %d: ImageOrientationPatient is not two orthogonal unit vectors", k + 1);
    dp__roi *seg = find_segment(obj, f.segment);
    if (!seg)
      return dp__error(DP_EFORMAT, "frame %d: ReferencedSegmentNumber %ld names no segment of SegmentSequence",
                       k + 1, f.segment);
    fr->segment = (int)f.segment;
    fr->origin[0] = -f.ipp[0];
    fr->origin[1] = -f.ipp[1];
    fr->origin[2] = f.ipp[2];
    fr->spacing[0] = f.spacing[0];
    fr->spacing[1] = f.spacing[1];
    seg->pub.ncontours++;
    seg->pub.nclosed++;
  }
  return DP_OK;
}

// The pixel data, decoded to obj->pixels.
dp_status read_pixels(DcmDataset *ds, dp__label_obj *obj, int bits, const char *ts) {
  size_t npix = (size_t)obj->info.rows * (size_t)obj->info.cols * (size_t)obj->info.frames;
  E_TransferSyntax orig = ds->getOriginalXfer();
  DcmXfer xf(orig);
  bool jpeg = strncmp(ts, "1.2.840.10008.1.2.4.5", 21) == 0 || strncmp(ts, "1.2.840.10008.1.2.4.6", 21) == 0 ||
              strcmp(ts, "1.2.840.10008.1.2.4.70") == 0 || strncmp(ts, "1.2.840.10008.1.2.4.8", 21) == 0;
  if (jpeg && bits == 1)
    return dp__error(DP_ECODEC, "1-bit SEG frames in transfer syntax %s cannot be decoded", ts);
  if (jpeg) {  // 8-bit FRACTIONAL: DCMTK's decoders
    dp__dcm_register_decoders();
    if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !ds->canWriteXfer(EXS_LittleEndianExplicit))
      return dp__error(DP_ECODEC, "the %s pixel data could not be decoded", xf.getXferName());
  }
  obj->pixels = (uint8_t *)malloc(npix ? npix : 1);
  if (!obj->pixels) return dp__error(DP_ENOMEM, "out of memory for %zu SEG pixels", npix);
  DcmElement *el = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el) return dp__error(DP_EFORMAT, "no PixelData");
  DcmPixelData *pd = dynamic_cast<DcmPixelData *>(el);
  DcmPixelSequence *pseq = nullptr;
  // Deflated Image Frame Compression is newer than DCMTK 3.6.7, which reads
  // it as if native: its fragments are taken all the same.
  bool deflated_frames = strcmp(ts, "1.2.840.10008.1.2.8.1") == 0;
  if (!jpeg && (xf.isEncapsulated() || deflated_frames)) {
    if (!pd || pd->getEncapsulatedRepresentation(orig, nullptr, pseq).bad() || !pseq || pseq->card() < 2)
      return dp__error(DP_EFORMAT, "encapsulated PixelData without fragments");
    std::vector<const uint8_t *> frag;
    std::vector<size_t> len;
    const uint8_t *bot = nullptr;
    size_t bot_len = 0;
    dp_status sf = dp_dcm::fragments(pseq, "PixelData", frag, len, &bot, &bot_len);
    if (sf != DP_OK) return sf;
    return dp__seg_decode_encapsulated(ts, frag.data(), len.data(), (int)frag.size(), bot, bot_len, bits,
                                       obj->info.rows, obj->info.cols, obj->info.frames, obj->pixels);
  }
  // Native: OB bytes as they are; OW words (implicit VR, big endian) back to
  // their little-endian byte stream.
  std::vector<uint8_t> bytes;
  const uint8_t *src = nullptr;
  size_t n = el->getLength();
  Uint8 *p = nullptr;
  if (el->ident() != EVR_OW && (n == 0 || (el->getUint8Array(p).good() && p))) {
    src = p;
  } else {
    Uint16 *w = nullptr;
    if (el->getUint16Array(w).bad() || !w) return dp__error(DP_EFORMAT, "PixelData unreadable");
    bytes.resize(n);
    for (size_t i = 0; i + 1 < n; i += 2) {
      bytes[i] = (uint8_t)(w[i / 2] & 0xff);
      bytes[i + 1] = (uint8_t)(w[i / 2] >> 8);
    }
    src = bytes.data();
  }
  return dp__seg_unpack_native(src, n, bits, obj->info.rows, obj->info.cols, obj->info.frames, obj->pixels);
}

}  // namespace

dp_status dp_dcm::read_seg(DcmDataset *ds, dp__label_obj *obj, bool with_data, const char *ts) {
  std::string type = str(ds, DCM_SegmentationType);
  if (type != "BINARY" && type != "FRACTIONAL")
    return dp__error(DP_EUNSUPPORTED, "SegmentationType '%s' (BINARY and FRACTIONAL are read)", type.c_str());
  obj->info.fractional = type == "FRACTIONAL";
  int bits = (int)integer(ds, DCM_BitsAllocated, 0);
  if (bits != (obj->info.fractional ? 8 : 1))
    return dp__error(DP_EFORMAT, "BitsAllocated %d for a %s SEG (want %d)", bits, type.c_str(), obj->info.fractional ? 8 : 1);
  if (obj->info.fractional) {
    long mx = integer(ds, DCM_MaximumFractionalValue, -1);
    if (mx < 1 || mx > 255) return dp__error(DP_EFORMAT, "MaximumFractionalValue %ld (want 1..255)", mx);
    obj->info.max_fraction = (int)mx;
  }
  long rows = integer(ds, DCM_Rows, 0), cols = integer(ds, DCM_Columns, 0), frames = integer(ds, DCM_NumberOfFrames, 1);
  if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535) return dp__error(DP_EFORMAT, "Rows %ld, Columns %ld", rows, cols);
  if (frames < 1 || frames > 0x7fffffffL) return dp__error(DP_EFORMAT, "NumberOfFrames %ld", frames);
  if ((double)rows * (double)cols * (double)frames > k_max_pixels)
    return dp__error(DP_ELIMIT, "%ld frames of %ld x %ld pixels: more than 2^31 pixels", frames, rows, cols);
  obj->info.rows = (int)rows;
  obj->info.cols = (int)cols;
  obj->info.frames = (int)frames;
  str_to(ds, DCM_FrameOfReferenceUID, obj->for_uid, sizeof obj->for_uid);
  dp_status s = dp__label_strdup(&obj->label, str(ds, DCM_ContentLabel).c_str());
  std::set<std::string> sops;
  DcmSequenceOfItems *rs = seq(ds, DCM_ReferencedSeriesSequence);
  for (unsigned long i = 0; rs && i < rs->card(); i++) {
    DcmItem *it = rs->getItem(i);
    if (!obj->ref_series_uid[0]) str_to(it, DCM_SeriesInstanceUID, obj->ref_series_uid, sizeof obj->ref_series_uid);
    DcmSequenceOfItems *ri = seq(it, DCM_ReferencedInstanceSequence);
    for (unsigned long k = 0; ri && k < ri->card(); k++) {
      std::string u = str(ri->getItem(k), DCM_ReferencedSOPInstanceUID);
      if (!u.empty()) sops.insert(u);
    }
  }
  if (s == DP_OK) s = read_segments(ds, obj);
  if (s == DP_OK) s = read_frames(ds, obj, sops);
  if (s == DP_OK) s = set_refs(obj, sops);
  if (s == DP_OK && with_data) s = read_pixels(ds, obj, bits, ts);
  return s;
}
