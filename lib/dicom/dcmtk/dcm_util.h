// Small DCMTK helpers shared by the C++ files under lib/dicom/dcmtk/ (C++
// only; never included from C).  Nothing here throws past its caller's
// try block: the callers catch everything.
#ifndef DCMPREP_DICOM_DCMTK_DCM_UTIL_H
#define DCMPREP_DICOM_DCMTK_DCM_UTIL_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "dcmprep/status.h"
#include "core/internal.h"

namespace dp_dcm {

// Text of an attribute ("" when absent); all values joined by backslashes
// when all is true.
inline std::string str(DcmItem *it, const DcmTagKey &tag, bool all = false) {
  OFString s;
  if (!it) return std::string();
  OFCondition c = all ? it->findAndGetOFStringArray(tag, s) : it->findAndGetOFString(tag, s);
  return c.good() ? std::string(s.c_str()) : std::string();
}

// Copies the text into a fixed buffer (cut to fit).
inline void str_to(DcmItem *it, const DcmTagKey &tag, char *out, size_t size) {
  std::snprintf(out, size, "%s", str(it, tag).c_str());
}

// An integer attribute (IS, US, UL, SS, SL) or fallback.
inline long integer(DcmItem *it, const DcmTagKey &tag, long fallback) {
  if (!it) return fallback;
  Uint16 us;
  if (it->findAndGetUint16(tag, us).good()) return us;
  Uint32 ul;
  if (it->findAndGetUint32(tag, ul).good()) return (long)ul;
  Sint32 sl;
  if (it->findAndGetSint32(tag, sl).good()) return sl;
  OFString s;
  if (it->findAndGetOFString(tag, s).bad() || s.empty()) return fallback;
  char *end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  return end == s.c_str() ? fallback : v;
}

// n decimal values; true when all are present and finite.
inline bool decimals(DcmItem *it, const DcmTagKey &tag, double *out, int n) {
  if (!it) return false;
  for (int i = 0; i < n; i++) {
    Float64 v;
    if (it->findAndGetFloat64(tag, v, (unsigned long)i).bad() || !std::isfinite(v)) return false;
    out[i] = v;
  }
  return true;
}

// The sequence (or nullptr) and its first item (or nullptr).
inline DcmSequenceOfItems *seq(DcmItem *it, const DcmTagKey &tag) {
  DcmSequenceOfItems *s = nullptr;
  if (!it || it->findAndGetSequence(tag, s).bad()) return nullptr;
  return s;
}
inline DcmItem *first(DcmItem *it, const DcmTagKey &tag) {
  DcmSequenceOfItems *s = seq(it, tag);
  return s && s->card() > 0 ? s->getItem(0) : nullptr;
}

// The header reader's text of an attribute into a fixed buffer ("" when
// absent; all values joined by backslashes when all is true).
inline void get_str(DcmItem *it, const DcmTagKey &tag, char *out, size_t size, bool all = false) {
  OFString s;
  out[0] = '\0';
  OFCondition c = all ? it->findAndGetOFStringArray(tag, s) : it->findAndGetOFString(tag, s);
  if (c.good()) std::snprintf(out, size, "%s", s.c_str());
}

// An unsigned short (US) attribute, or fallback.
inline int get_us(DcmItem *it, const DcmTagKey &tag, int fallback) {
  Uint16 v;
  return it->findAndGetUint16(tag, v).good() ? (int)v : fallback;
}

// The fragments of an encapsulated pixel sequence: item 0 is the basic
// offset table (bot, bot_len), the others the fragments (frag, len).
// DP_EFORMAT naming the item (after what) when one is unreadable.
inline dp_status fragments(DcmPixelSequence *seq, const char *what, std::vector<const uint8_t *> &frag,
                           std::vector<size_t> &len, const uint8_t **bot, size_t *bot_len) {
  *bot = nullptr;
  *bot_len = 0;
  for (unsigned long i = 0; i < seq->card(); i++) {
    DcmPixelItem *it = nullptr;
    Uint8 *p = nullptr;
    if (seq->getItem(it, i).bad() || !it) return dp__error(DP_EFORMAT, "%s fragment %lu unreadable", what, i);
    size_t n = it->getLength();
    if (n && (it->getUint8Array(p).bad() || !p)) return dp__error(DP_EFORMAT, "%s fragment %lu unreadable", what, i);
    if (i == 0) {
      *bot = p;
      *bot_len = n;
    } else {
      frag.push_back(p);
      len.push_back(n);
    }
  }
  return DP_OK;
}

// Saves ff at path in transfer syntax ts atomically: a temporary file in the
// same folder, renamed over path (removed on failure).  DP_EIO with the
// reason.  Defined in dataset_write.cc.
dp_status save_atomic(DcmFileFormat &ff, const char *path, E_TransferSyntax ts);

}  // namespace dp_dcm

#ifdef DCMPREP_LABELS_MODEL_H
#include <set>
#include <vector>
// The distinct referenced SOP instances of a label object.
inline dp_status set_refs(dp__label_obj *obj, const std::set<std::string> &uids) {
  std::vector<const char *> v;
  for (const std::string &u : uids) v.push_back(u.c_str());
  return dp__label_set_refs(obj, v.data(), (int)v.size());
}
#endif

#endif
