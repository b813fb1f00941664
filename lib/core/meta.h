/* Metadata internals used by volume.c. */
#ifndef DCMPREP_CORE_META_H
#define DCMPREP_CORE_META_H

#include "dcmprep/volume.h"

void dp__meta_free(dp_meta *m);
/* Appends/replaces every entry of `from` into `to`. */
dp_status dp__meta_copy(const dp_volume *from, dp_volume *to);

#endif
