// RT Structure Set reading: the ROI, observation and contour sequences
// (PS3.3 C.8.8.5 Structure Set, C.8.8.6 ROI Contour, C.8.8.8 RT ROI
// Observations) into the plain C model.  Points are converted LPS -> RAS.
#include "dicom/dcmtk/label_read.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "core/internal.h"
#include "dicom/dcmtk/dcm_util.h"

namespace {

const long k_max_points = 1L << 27;  // contour points in one file
const double k_max_coord = 1e5;      // mm: 100 m

int contour_type(const std::string &t) {
  if (t == "CLOSED_PLANAR" || t == "CLOSEDPLANAR_XOR") return DP__CONTOUR_CLOSED;
  if (t == "POINT") return DP__CONTOUR_POINT;
  if (t == "OPEN_PLANAR" || t == "OPEN_NONPLANAR") return DP__CONTOUR_OPEN;
  return DP__CONTOUR_OTHER;
}

dp__roi *find_roi(dp__label_obj *obj, long number) {
  for (int i = 0; i < obj->nrois; i++)
    if (obj->rois[i].pub.number == number) return &obj->rois[i];
  return nullptr;
}

// ContourData: 3 n decimal values in the element's text.  The text is parsed
// once (DCMTK's per-value access rescans the string for every value).
dp_status parse_points(DcmElement *el, dp__contour *c, const char *roi, int ci) {
  char *text = nullptr;
  if (el->getString(text).bad() || !text) {
    c->npoints = 0;
    return DP_OK;
  }
  size_t cap = 3 * (size_t)(c->npoints > 0 ? c->npoints : 16), n = 0;
  double *v = (double *)malloc(cap * sizeof *v);
  if (!v) return dp__error(DP_ENOMEM, "out of memory for contour points");
  const char *p = text;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    char *end = nullptr;
    errno = 0;
    double x = strtod(p, &end);
    if (end == p || !std::isfinite(x) || std::fabs(x) > k_max_coord) {
      free(v);
      return dp__error(DP_EFORMAT, "ROI '%s' contour %d: ContourData value %zu is not a coordinate in mm "
                       "(non-numeric, non-finite or beyond 100 m)", roi, ci + 1, n + 1);
    }
    if (n == cap) {
      if (cap > (size_t)k_max_points * 3) {
        free(v);
        return dp__error(DP_ELIMIT, "ROI '%s' contour %d: more than %ld points", roi, ci + 1, k_max_points);
      }
      double *nv = (double *)realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free(v);
        return dp__error(DP_ENOMEM, "out of memory for contour points");
      }
      v = nv;
      cap *= 2;
    }
    v[n++] = x;
    p = end;
    while (*p == ' ') p++;
    if (*p == '\\') p++;
    else if (*p) {
      free(v);
      return dp__error(DP_EFORMAT, "ROI '%s' contour %d: ContourData is not a list of numbers", roi, ci + 1);
    }
  }
  if (n % 3) {
    free(v);
    return dp__error(DP_EFORMAT, "ROI '%s' contour %d: ContourData holds %zu values, not (x, y, z) triplets",
                     roi, ci + 1, n);
  }
  for (size_t i = 0; i < n; i += 3) {  // LPS -> RAS, once
    v[i] = -v[i];
    v[i + 1] = -v[i + 1];
  }
  c->xyz = v;
  c->npoints = (int)(n / 3);
  return DP_OK;
}

void collect_images(DcmItem *it, std::set<std::string> &sops) {
  DcmSequenceOfItems *ci = dp_dcm::seq(it, DCM_ContourImageSequence);
  for (unsigned long i = 0; ci && i < ci->card(); i++) {
    std::string u = dp_dcm::str(ci->getItem(i), DCM_ReferencedSOPInstanceUID);
    if (!u.empty()) sops.insert(u);
  }
}

// ReferencedFrameOfReferenceSequence > RTReferencedStudySequence >
// RTReferencedSeriesSequence > ContourImageSequence.
void read_references(DcmDataset *ds, dp__label_obj *obj, std::set<std::string> &sops) {
  DcmSequenceOfItems *rf = dp_dcm::seq(ds, DCM_ReferencedFrameOfReferenceSequence);
  for (unsigned long f = 0; rf && f < rf->card(); f++) {
    DcmItem *fi = rf->getItem(f);
    if (!obj->for_uid[0]) dp_dcm::str_to(fi, DCM_FrameOfReferenceUID, obj->for_uid, sizeof obj->for_uid);
    DcmSequenceOfItems *st = dp_dcm::seq(fi, DCM_RTReferencedStudySequence);
    for (unsigned long s = 0; st && s < st->card(); s++) {
      DcmSequenceOfItems *se = dp_dcm::seq(st->getItem(s), DCM_RTReferencedSeriesSequence);
      for (unsigned long k = 0; se && k < se->card(); k++) {
        DcmItem *si = se->getItem(k);
        if (!obj->ref_series_uid[0])
          dp_dcm::str_to(si, DCM_SeriesInstanceUID, obj->ref_series_uid, sizeof obj->ref_series_uid);
        collect_images(si, sops);
      }
    }
  }
}

dp_status read_rois(DcmDataset *ds, dp__label_obj *obj) {
  DcmSequenceOfItems *ss = dp_dcm::seq(ds, DCM_StructureSetROISequence);
  int n = ss ? (int)ss->card() : 0;
  dp_status s = dp__label_obj_set_rois(obj, n);
  for (int i = 0; s == DP_OK && i < n; i++) {
    DcmItem *it = ss->getItem((unsigned long)i);
    long number = dp_dcm::integer(it, DCM_ROINumber, -1);
    if (number < 0 || number > 0x7fffffff)
      return dp__error(DP_EFORMAT, "StructureSetROISequence item %d: no valid ROINumber", i + 1);
    if (find_roi(obj, number))
      return dp__error(DP_EFORMAT, "StructureSetROISequence: ROINumber %ld appears twice", number);
    dp__roi *r = &obj->rois[i];
    r->pub.number = (int)number;
    s = dp__label_strdup(&r->name, dp_dcm::str(it, DCM_ROIName).c_str());
    if (s == DP_OK) s = dp__label_strdup(&r->algorithm, dp_dcm::str(it, DCM_ROIGenerationAlgorithm).c_str());
    dp_dcm::str_to(it, DCM_ReferencedFrameOfReferenceUID, r->for_uid, sizeof r->for_uid);
    if (!r->for_uid[0]) snprintf(r->for_uid, sizeof r->for_uid, "%s", obj->for_uid);
  }
  DcmSequenceOfItems *ob = dp_dcm::seq(ds, DCM_RTROIObservationsSequence);
  for (unsigned long i = 0; s == DP_OK && ob && i < ob->card(); i++) {
    DcmItem *it = ob->getItem(i);
    dp__roi *r = find_roi(obj, dp_dcm::integer(it, DCM_ReferencedROINumber, -1));
    if (r && !r->type) s = dp__label_strdup(&r->type, dp_dcm::str(it, DCM_RTROIInterpretedType).c_str());
  }
  return s;
}

dp_status read_contours(DcmItem *rc, dp__roi *r, bool with_data, long *total, std::set<std::string> &sops,
                        dp__label_obj *obj) {
  DcmSequenceOfItems *cs = dp_dcm::seq(rc, DCM_ContourSequence);
  int n = cs ? (int)cs->card() : 0;
  if (n == 0) return DP_OK;
  dp__contour *c = (dp__contour *)calloc((size_t)n, sizeof *c);
  if (!c) return dp__error(DP_ENOMEM, "out of memory for %d contours", n);
  r->contours = c;
  r->ncontours = n;
  r->pub.ncontours = n;
  int mismatched = 0;
  for (int k = 0; k < n; k++) {
    DcmItem *it = cs->getItem((unsigned long)k);
    c[k].type = contour_type(dp_dcm::str(it, DCM_ContourGeometricType));
    long declared = dp_dcm::integer(it, DCM_NumberOfContourPoints, -1);
    collect_images(it, sops);
    if (declared > k_max_points || (*total += declared > 0 ? declared : 0) > k_max_points)
      return dp__error(DP_ELIMIT, "ROI '%s': more than %ld contour points", r->name, k_max_points);
    c[k].npoints = declared > 0 ? (int)declared : 0;
    if (c[k].type == DP__CONTOUR_CLOSED) r->pub.nclosed++;
    if (!with_data) continue;
    DcmElement *el = nullptr;
    if (it->findAndGetElement(DCM_ContourData, el).bad() || !el) {
      c[k].npoints = 0;
    } else {
      dp_status s = parse_points(el, &c[k], r->name, k);
      if (s != DP_OK) return s;
    }
    mismatched += declared >= 0 && declared != c[k].npoints;
  }
  if (mismatched)
    dp__label_warn(obj, "ROI '%s': %d contour(s) whose NumberOfContourPoints differs from ContourData "
                   "(ContourData used)", r->name, mismatched);
  return DP_OK;
}

}  // namespace

dp_status dp_dcm::read_rtstruct(DcmDataset *ds, dp__label_obj *obj, bool with_data) {
  std::set<std::string> sops;
  dp_status s = dp__label_strdup(&obj->label, str(ds, DCM_StructureSetLabel).c_str());
  read_references(ds, obj, sops);
  if (s == DP_OK) s = read_rois(ds, obj);
  DcmSequenceOfItems *rcs = seq(ds, DCM_ROIContourSequence);
  long total = 0;
  int orphans = 0;
  for (unsigned long i = 0; s == DP_OK && rcs && i < rcs->card(); i++) {
    DcmItem *rc = rcs->getItem(i);
    dp__roi *r = find_roi(obj, integer(rc, DCM_ReferencedROINumber, -1));
    if (!r) {
      orphans++;
      continue;
    }
    if (r->contours) return dp__error(DP_EFORMAT, "ROIContourSequence: ROI %d has two items", r->pub.number);
    Sint32 rgb[3];
    bool colour = true;
    for (int c = 0; c < 3 && colour; c++)
      colour = rc->findAndGetSint32(DCM_ROIDisplayColor, rgb[c], (unsigned long)c).good() && rgb[c] >= 0 &&
               rgb[c] <= 255;
    if (colour) {
      r->pub.has_colour = 1;
      for (int c = 0; c < 3; c++) r->pub.rgb[c] = (uint8_t)rgb[c];
    }
    s = read_contours(rc, r, with_data, &total, sops, obj);
  }
  if (orphans) dp__label_warn(obj, "%d ROIContourSequence item(s) name no ROI of StructureSetROISequence (ignored)", orphans);
  if (s == DP_OK) s = set_refs(obj, sops);
  return s;
}
