/* Label objects of a scan: which image series each one labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "labels/match.h"
#include "labels/model.h"

static int cmp_key(const void *key, const void *elem) { return strcmp(key, *(char *const *)elem); }

/* Slices of group g among the object's referenced SOP instances. */
static int referenced_in(const dp__label_obj *o, const struct dp_dicom_set *set, const dp__group *g) {
  int n = 0;
  for (int i = 0; o->nref_sops && i < g->n; i++)
    n += bsearch(set->slices[g->idx[i]].sop_uid, o->ref_sops, (size_t)o->nref_sops, sizeof *o->ref_sops,
                 cmp_key) != NULL;
  return n;
}

static void match_one(dp__label_obj *o, const struct dp_dicom_set *set) {
  int best = -1, best_refs = 0, nuid = 0;
  /* 1: the referenced series (several groups when the series was split:
   * the one holding most referenced images, else the first volume) */
  for (int g = 0; o->ref_series_uid[0] && g < set->ngroups; g++) {
    const dp__group *gr = &set->groups[g];
    if (strcmp(set->slices[gr->idx[0]].series_uid, o->ref_series_uid) != 0) continue;
    nuid++;
    int refs = referenced_in(o, set, gr);
    if (best < 0 || refs > best_refs ||
        (refs == best_refs && gr->kind == DP_SERIES_VOLUME && set->groups[best].kind != DP_SERIES_VOLUME)) {
      best = g;
      best_refs = refs;
    }
  }
  if (best >= 0) {
    snprintf(o->match, sizeof o->match, "series");
  } else {
    /* 2: the series holding most of the referenced images */
    for (int g = 0; g < set->ngroups; g++) {
      int refs = referenced_in(o, set, &set->groups[g]);
      if (refs > best_refs) {
        best = g;
        best_refs = refs;
      }
    }
    if (best >= 0) snprintf(o->match, sizeof o->match, "images");
  }
  if (best < 0 && o->for_uid[0]) {
    /* 3: the only volume series in the object's frame of reference */
    int n = 0;
    for (int g = 0; g < set->ngroups; g++) {
      const dp__group *gr = &set->groups[g];
      if (gr->kind == DP_SERIES_VOLUME && !strcmp(set->slices[gr->idx[0]].for_uid, o->for_uid)) {
        if (!n) best = g;
        n++;
      }
    }
    if (n == 1) snprintf(o->match, sizeof o->match, "frame of reference");
    else if (n > 1) {
      dp__label_warn(o, "%d volume series share its frame of reference and none is referenced: give the image "
                     "series explicitly", n);
      best = -1;
    }
  }
  if (best < 0) {
    if (o->ref_series_uid[0])
      dp__label_warn(o, "references series %s, which is not among the scanned series", o->ref_series_uid);
    else
      dp__label_warn(o, "no scanned image series is referenced or shares its frame of reference");
  } else if (o->for_uid[0] && set->slices[set->groups[best].idx[0]].for_uid[0] &&
             strcmp(o->for_uid, set->slices[set->groups[best].idx[0]].for_uid) != 0) {
    dp__label_warn(o, "its frame of reference differs from that of the series it references (%s): it cannot be drawn",
                   set->slices[set->groups[best].idx[0]].for_uid);
  }
  o->info.image_series = best;
  (void)nuid;
}

void dp__labels_match(struct dp_dicom_set *set) {
  for (int i = 0; i < set->nlabels; i++) {
    match_one(set->labels[i], set);
    dp__label_obj_finish(set->labels[i]); /* the warnings string may have moved */
  }
}

int dp_dicom_set_label_count(const struct dp_dicom_set *set) { return set ? set->nlabels : 0; }

const dp_label_info *dp_dicom_set_label(const struct dp_dicom_set *set, int i) {
  return set && i >= 0 && i < set->nlabels ? &set->labels[i]->info : NULL;
}
