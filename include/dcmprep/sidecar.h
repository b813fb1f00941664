/* JSON sidecar: the metadata and provenance that travel with an output volume. */
#ifndef DCMPREP_SIDECAR_H
#define DCMPREP_SIDECAR_H

#include <stddef.h>
#include "export.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the sidecar of v to path atomically: one JSON object holding
 * "ConversionSoftware" ("dcmprep"), "ConversionSoftwareVersion", then every
 * metadata entry of v in order.  Returns DP_EIO naming the file on failure.
 * Not durable against power loss (no fsync), like dp_nifti_write by default. */
DP_API dp_status dp_sidecar_write(const dp_volume *v, const char *path);

typedef struct dp_sidecar_write_opts {
  int durable; /* 1 = fsync before the rename (see dp_nifti_write_opts.durable) */
} dp_sidecar_write_opts;
#define DP_SIDECAR_WRITE_OPTS_INIT {0}

/* dp_sidecar_write with options; opts may be NULL for defaults. */
DP_API dp_status dp_sidecar_write_with(const dp_volume *v, const char *path,
                                       const dp_sidecar_write_opts *opts);

/* The sidecar's text, exactly as dp_sidecar_write writes it (a JSON object
 * ending in a newline), in *out (NUL-terminated; free with dp_free()) and
 * its length in *len (may be NULL).  DP_ENOMEM on allocation failure; on
 * failure *out is NULL. */
DP_API dp_status dp_sidecar_json(const dp_volume *v, char **out, size_t *len);

/* The sidecar name for a NIfTI path: ".nii.gz" or ".nii" replaced by ".json"
 * (appended otherwise).  Returns DP_ERANGE when out is too small. */
DP_API dp_status dp_sidecar_path(const char *nifti_path, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
