// Writing synthetic RT Structure Sets (PS3.3 A.19) and Segmentations
// (A.51) for test data.  See label_write.h.
#include "dicom/dcmtk/label_write.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/internal.h"
#include "dicom/dcmtk/toolkit.h"
#include "labels/model.h"
#include "dicom/dcmtk/dcm_util.h"

namespace {

struct bad_value {
  std::string what;
};

void put(DcmItem *it, const DcmTagKey &tag, const std::string &v) {
  OFCondition c = it->putAndInsertString(tag, v.c_str());
  if (c.bad()) throw bad_value{DcmTag(tag).getTagName() + std::string(" = '") + v.substr(0, 64) + "': " + c.text()};
}

void put_int(DcmItem *it, const DcmTagKey &tag, long v) { put(it, tag, std::to_string(v)); }

DcmItem *add_item(DcmItem *it, const DcmTagKey &seq) {
  DcmItem *r = nullptr;
  if (it->findOrCreateSequenceItem(seq, r, -2).bad() || !r)
    throw bad_value{DcmTag(seq).getTagName() + std::string(": cannot add an item")};
  return r;
}

// Decimal String: the most digits that fit 16 characters.
std::string ds(double x) {
  char b[64];
  for (int p = 15; p > 1; p--) {
    snprintf(b, sizeof b, "%.*g", p, x);
    if (strlen(b) <= 16) break;
  }
  return b;
}

std::string ds_list(const double *v, int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += (i ? "\\" : "") + ds(v[i]);
  return s;
}

const char *nz(const char *s) { return s ? s : ""; }

void common_attrs(DcmDataset *ds_, const dp__label_write_common *c, const char *sop_class, const char *modality) {
  put(ds_, DCM_SOPClassUID, sop_class);
  put(ds_, DCM_SOPInstanceUID, nz(c->sop_uid));
  put(ds_, DCM_StudyInstanceUID, nz(c->study_uid));
  put(ds_, DCM_SeriesInstanceUID, nz(c->series_uid));
  put(ds_, DCM_Modality, modality);
  put(ds_, DCM_SeriesDescription, nz(c->description));
  put_int(ds_, DCM_SeriesNumber, c->series_number);
  put_int(ds_, DCM_InstanceNumber, 1);
  put(ds_, DCM_PatientName, nz(c->patient_name));
  put(ds_, DCM_PatientID, nz(c->patient_id));
  put(ds_, DCM_PatientBirthDate, "");
  put(ds_, DCM_PatientSex, "O");
  put(ds_, DCM_StudyDate, "20240101");
  put(ds_, DCM_StudyTime, "120000");
  put(ds_, DCM_StudyID, "1");
  put(ds_, DCM_AccessionNumber, "");
  put(ds_, DCM_ReferringPhysicianName, "");
  put(ds_, DCM_Manufacturer, "dcmprep-synth");
  put(ds_, DCM_SeriesDate, "20240101");
  put(ds_, DCM_SeriesTime, "120000");
}

void rt_references(DcmDataset *d, const dp__label_write_common *c) {
  DcmItem *fr = add_item(d, DCM_ReferencedFrameOfReferenceSequence);
  put(fr, DCM_FrameOfReferenceUID, nz(c->for_uid));
  DcmItem *st = add_item(fr, DCM_RTReferencedStudySequence);
  put(st, DCM_ReferencedSOPClassUID, "1.2.840.10008.3.1.2.3.1");
  put(st, DCM_ReferencedSOPInstanceUID, nz(c->study_uid));
  DcmItem *se = add_item(st, DCM_RTReferencedSeriesSequence);
  put(se, DCM_SeriesInstanceUID, nz(c->ref_series_uid));
  for (int i = 0; i < c->nimages; i++) {
    DcmItem *im = add_item(se, DCM_ContourImageSequence);
    put(im, DCM_ReferencedSOPClassUID, nz(c->image_sop_class));
    put(im, DCM_ReferencedSOPInstanceUID, nz(c->image_sops[i]));
  }
}

void rt_roi(DcmDataset *d, const dp__label_write_common *c, const dp__rt_write_roi *r) {
  DcmItem *ss = add_item(d, DCM_StructureSetROISequence);
  put_int(ss, DCM_ROINumber, r->number);
  put(ss, DCM_ReferencedFrameOfReferenceUID, r->for_uid ? r->for_uid : nz(c->for_uid));
  put(ss, DCM_ROIName, nz(r->name));
  put(ss, DCM_ROIGenerationAlgorithm, r->algorithm ? r->algorithm : "AUTOMATIC");
  DcmItem *rc = add_item(d, DCM_ROIContourSequence);
  put(rc, DCM_ROIDisplayColor, std::to_string(r->rgb[0]) + "\\" + std::to_string(r->rgb[1]) + "\\" +
                                   std::to_string(r->rgb[2]));
  put_int(rc, DCM_ReferencedROINumber, r->number);
  if (r->ncontours) {
    for (int k = 0; k < r->ncontours; k++) {
      const dp__rt_write_contour *ct = &r->contours[k];
      DcmItem *it = add_item(rc, DCM_ContourSequence);
      if (ct->image_sop) {
        DcmItem *im = add_item(it, DCM_ContourImageSequence);
        put(im, DCM_ReferencedSOPClassUID, nz(c->image_sop_class));
        put(im, DCM_ReferencedSOPInstanceUID, ct->image_sop);
      }
      put(it, DCM_ContourGeometricType, ct->type ? ct->type : "CLOSED_PLANAR");
      put_int(it, DCM_NumberOfContourPoints, ct->npoints);
      put(it, DCM_ContourData, ds_list(ct->xyz, 3 * ct->npoints));
    }
  }
  DcmItem *ob = add_item(d, DCM_RTROIObservationsSequence);
  put_int(ob, DCM_ObservationNumber, r->number);
  put_int(ob, DCM_ReferencedROINumber, r->number);
  put(ob, DCM_RTROIInterpretedType, r->interpreted_type ? r->interpreted_type : "ORGAN");
  put(ob, DCM_ROIInterpreter, "");
}

void code(DcmItem *it, const DcmTagKey &seq, const char *value, const char *meaning) {
  DcmItem *c = add_item(it, seq);
  put(c, DCM_CodeValue, value);
  put(c, DCM_CodingSchemeDesignator, "99DCMPREP");
  put(c, DCM_CodeMeaning, meaning);
}

void seg_segments(DcmDataset *d, const dp__seg_write *s) {
  for (int i = 0; i < s->nsegments; i++) {
    const dp__seg_write_segment *g = &s->segments[i];
    DcmItem *it = add_item(d, DCM_SegmentSequence);
    code(it, DCM_SegmentedPropertyCategoryCodeSequence, "C1", g->category ? g->category : "Tissue");
    put_int(it, DCM_SegmentNumber, g->number);
    put(it, DCM_SegmentLabel, nz(g->label));
    put(it, DCM_SegmentAlgorithmType, g->algorithm ? g->algorithm : "AUTOMATIC");
    put(it, DCM_SegmentAlgorithmName, "dcmprep-synth");
    uint16_t lab[3];
    dp__rgb_to_cielab(g->rgb, lab);
    put(it, DCM_RecommendedDisplayCIELabValue,
        std::to_string(lab[0]) + "\\" + std::to_string(lab[1]) + "\\" + std::to_string(lab[2]));
    code(it, DCM_SegmentedPropertyTypeCodeSequence, "T1", g->type ? g->type : nz(g->label));
  }
}

void seg_groups(DcmDataset *d, const dp__label_write_common *c, const dp__seg_write *s) {
  const std::string dim_uid = std::string(nz(c->series_uid)) + ".9";
  put(add_item(d, DCM_DimensionOrganizationSequence), DCM_DimensionOrganizationUID, dim_uid);
  const DcmTagKey ptr[2][2] = {{DCM_ReferencedSegmentNumber, DCM_SegmentIdentificationSequence},
                               {DCM_ImagePositionPatient, DCM_PlanePositionSequence}};
  for (int k = 0; k < 2; k++) {
    DcmItem *it = add_item(d, DCM_DimensionIndexSequence);
    put(it, DCM_DimensionOrganizationUID, dim_uid);
    if (it->putAndInsertTagKey(DCM_DimensionIndexPointer, ptr[k][0]).bad() ||
        it->putAndInsertTagKey(DCM_FunctionalGroupPointer, ptr[k][1]).bad())
      throw bad_value{"DimensionIndexSequence: cannot set the pointers"};
  }
  DcmItem *sh = add_item(d, DCM_SharedFunctionalGroupsSequence);
  put(add_item(sh, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, ds_list(s->iop, 6));
  DcmItem *pm = add_item(sh, DCM_PixelMeasuresSequence);
  put(pm, DCM_PixelSpacing, ds_list(s->spacing, 2));
  if (s->thickness > 0) put(pm, DCM_SliceThickness, ds(s->thickness));
  if (s->between > 0) put(pm, DCM_SpacingBetweenSlices, ds(s->between));
  for (int f = 0; f < s->nframes; f++) {
    const dp__seg_write_frame *fr = &s->frames[f];
    DcmItem *pf = add_item(d, DCM_PerFrameFunctionalGroupsSequence);
    if (fr->image_sop) {
      DcmItem *src = add_item(add_item(pf, DCM_DerivationImageSequence), DCM_SourceImageSequence);
      put(src, DCM_ReferencedSOPClassUID, nz(c->image_sop_class));
      put(src, DCM_ReferencedSOPInstanceUID, fr->image_sop);
    }
    put(add_item(pf, DCM_FrameContentSequence), DCM_DimensionIndexValues,
        std::to_string(fr->segment) + "\\" + std::to_string(f + 1));
    put(add_item(pf, DCM_PlanePositionSequence), DCM_ImagePositionPatient, ds_list(fr->ipp, 3));
    put_int(add_item(pf, DCM_SegmentIdentificationSequence), DCM_ReferencedSegmentNumber, fr->segment);
  }
}

void seg_pixels(DcmDataset *d, const dp__seg_write *s) {
  size_t npix = (size_t)s->rows * (size_t)s->cols * (size_t)s->nframes;
  std::vector<Uint8> px;
  if (s->fractional) {
    px.assign(s->pixels, s->pixels + npix);
  } else {
    px.assign((npix + 7) / 8, 0);
    for (size_t p = 0; p < npix; p++)
      if (s->pixels[p]) px[p >> 3] |= (Uint8)(1u << (p & 7));
  }
  if (px.size() % 2) px.push_back(0);
  if (d->putAndInsertUint8Array(DCM_PixelData, px.data(), (unsigned long)px.size()).bad())
    throw bad_value{"PixelData: cannot set"};
}

}  // namespace

extern "C" dp_status dp__dcm_write_rtstruct(const dp__label_write_common *c, const dp__rt_write_roi *rois, int nrois,
                                            const char *path) {
  try {
    dp__dcm_quiet();
    DcmFileFormat ff;
    DcmDataset *d = ff.getDataset();
    common_attrs(d, c, "1.2.840.10008.5.1.4.1.1.481.3", "RTSTRUCT");
    put(d, DCM_StructureSetLabel, nz(c->label));
    put(d, DCM_StructureSetDate, "20240101");
    put(d, DCM_StructureSetTime, "120000");
    rt_references(d, c);
    for (int r = 0; r < nrois; r++) rt_roi(d, c, &rois[r]);
    return dp_dcm::save_atomic(ff, path, EXS_LittleEndianExplicit);
  } catch (const bad_value &e) {
    return dp__error(DP_EINVAL, "%s: %s", path, e.what.c_str());
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory writing", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure writing", path);
  }
}

extern "C" dp_status dp__dcm_write_seg(const dp__label_write_common *c, const dp__seg_write *s, const char *path) {
  try {
    dp__dcm_quiet();
    E_TransferSyntax ts = DcmXfer(s->ts_uid ? s->ts_uid : "1.2.840.10008.1.2.1").getXfer();
    if (ts != EXS_LittleEndianExplicit && ts != EXS_LittleEndianImplicit && ts != EXS_BigEndianExplicit &&
        ts != EXS_DeflatedLittleEndianExplicit)
      return dp__error(DP_EUNSUPPORTED, "%s: cannot write a SEG in transfer syntax %s", path, nz(s->ts_uid));
    DcmFileFormat ff;
    DcmDataset *d = ff.getDataset();
    common_attrs(d, c, "1.2.840.10008.5.1.4.1.1.66.4", "SEG");
    put(d, DCM_FrameOfReferenceUID, nz(c->for_uid));
    put(d, DCM_PositionReferenceIndicator, "");
    put(d, DCM_ImageType, "DERIVED\\PRIMARY");
    put(d, DCM_ContentLabel, nz(c->label));
    put(d, DCM_ContentDescription, nz(c->description));
    put(d, DCM_ContentCreatorName, "");
    put(d, DCM_ContentDate, "20240101");
    put(d, DCM_ContentTime, "120000");
    put(d, DCM_ManufacturerModelName, "dcmprep-synth");
    put(d, DCM_DeviceSerialNumber, "1");
    put(d, DCM_SoftwareVersions, "1");
    DcmItem *rs = add_item(d, DCM_ReferencedSeriesSequence);
    put(rs, DCM_SeriesInstanceUID, nz(c->ref_series_uid));
    for (int i = 0; i < c->nimages; i++) {
      DcmItem *it = add_item(rs, DCM_ReferencedInstanceSequence);
      put(it, DCM_ReferencedSOPClassUID, nz(c->image_sop_class));
      put(it, DCM_ReferencedSOPInstanceUID, nz(c->image_sops[i]));
    }
    put(d, DCM_SegmentationType, s->fractional ? "FRACTIONAL" : "BINARY");
    if (s->fractional) {
      put(d, DCM_SegmentationFractionalType, "PROBABILITY");
      put_int(d, DCM_MaximumFractionalValue, s->max_fraction);
    }
    put_int(d, DCM_SamplesPerPixel, 1);
    put(d, DCM_PhotometricInterpretation, "MONOCHROME2");
    put_int(d, DCM_Rows, s->rows);
    put_int(d, DCM_Columns, s->cols);
    put_int(d, DCM_NumberOfFrames, s->nframes);
    put_int(d, DCM_BitsAllocated, s->fractional ? 8 : 1);
    put_int(d, DCM_BitsStored, s->fractional ? 8 : 1);
    put_int(d, DCM_HighBit, s->fractional ? 7 : 0);
    put_int(d, DCM_PixelRepresentation, 0);
    put(d, DCM_LossyImageCompression, "00");
    seg_segments(d, s);
    seg_groups(d, c, s);
    seg_pixels(d, s);
    return dp_dcm::save_atomic(ff, path, ts);
  } catch (const bad_value &e) {
    return dp__error(DP_EINVAL, "%s: %s", path, e.what.c_str());
  } catch (const std::bad_alloc &) {
    return dp__error(DP_ENOMEM, "%s: out of memory writing", path);
  } catch (...) {
    return dp__error(DP_EINTERNAL, "%s: unexpected failure writing", path);
  }
}
