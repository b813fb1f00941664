#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/sidecar.h"
#include "dcmprep/version.h"
#include "io/atomic_file.h"
#include "io/json.h"

dp_status dp_sidecar_write(const dp_volume *v, const char *path) {
  return dp_sidecar_write_with(v, path, NULL);
}

dp_status dp_sidecar_json(const dp_volume *v, char **out, size_t *len) {
  if (out) *out = NULL;
  if (!v || !out) return dp__error(DP_EINVAL, "sidecar: no volume or output pointer");
  dp__json j;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "ConversionSoftware", "dcmprep");
  dp__json_str(&j, "ConversionSoftwareVersion", dp_version());
  dp__json_meta(&j, v);
  dp__json_end_object(&j);
  size_t n = 0;
  dp_status s = dp__json_finish(&j, out, &n);
  if (len) *len = s == DP_OK ? n : 0;
  return s;
}

dp_status dp_sidecar_write_with(const dp_volume *v, const char *path,
                                const dp_sidecar_write_opts *opts) {
  if (!v || !path) return dp__error(DP_EINVAL, "sidecar: no volume or path");
  char *text;
  size_t len;
  dp_status s = dp_sidecar_json(v, &text, &len);
  if (s != DP_OK) return dp__error_prefix(s, path);
  s = dp__write_file_atomic_sync(path, text, len, opts ? opts->durable : 0);
  free(text);
  return s;
}

dp_status dp_sidecar_path(const char *nifti_path, char *out, size_t size) {
  size_t n = strlen(nifti_path);
  if (n >= 7 && strcmp(nifti_path + n - 7, ".nii.gz") == 0)
    n -= 7;
  else if (n >= 4 && strcmp(nifti_path + n - 4, ".nii") == 0)
    n -= 4;
  if (n + 6 > size) return dp__error(DP_ERANGE, "sidecar: path too long: %s", nifti_path);
  memcpy(out, nifti_path, n);
  memcpy(out + n, ".json", 6);
  return DP_OK;
}
