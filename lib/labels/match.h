/* Which scanned image series each label object of a scan labels
 * (internal; label_match.c). */
#ifndef DCMPREP_LABELS_MATCH_H
#define DCMPREP_LABELS_MATCH_H

#include "dicom/set.h"

/* Sets info.image_series and info.match of every label object of the set
 * (rules in labels.h, dp_label_info), adding a warning when none or an
 * ambiguous one is found. */
void dp__labels_match(struct dp_dicom_set *set);

#endif
