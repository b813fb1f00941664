/* One input volume by path: a NIfTI file, or the one volume series (or the
 * one numbered series) of a DICOM folder/file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/dicom.h"
#include "dcmprep/input.h"
#include "dcmprep/nifti.h"

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int dp_is_nifti_name(const char *path) {
  return path && (ends_with(path, ".nii") || ends_with(path, ".nii.gz"));
}

size_t dp_input_name(const char *path, char *out, size_t size) {
  if (!path) path = "";
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  const char *b = path + n;
  while (b > path && b[-1] != '/') b--;
  size_t len = (size_t)(path + n - b);
  if (len > 7 && !strncmp(b + len - 7, ".nii.gz", 7)) len -= 7;
  else if (len > 4 && !strncmp(b + len - 4, ".nii", 4)) len -= 4;
  if (size) {
    size_t k = len < size - 1 ? len : size - 1;
    memcpy(out, b, k);
    out[k] = '\0';
  }
  return len;
}

static int parse_series(const char *s, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < -2147483647L || v > 2147483647L) return -1;
  *out = v;
  return 0;
}

static dp_status load_dicom(const char *path, const char *series, int threads, dp_volume **out) {
  long want = -1;
  if (series && parse_series(series, &want))
    return dp__error(DP_EINVAL, "--series %s is not a series number", series);
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = threads;
  dp_dicom_set *set = NULL;
  const char *paths[1] = {path};
  dp_status s = dp_dicom_scan(paths, 1, &so, &set);
  if (s != DP_OK) return s;
  int pick = -1, nvol = 0;
  for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
    const dp_series_info *si = dp_dicom_set_series(set, i);
    if (series ? si->number == want : si->kind == DP_SERIES_VOLUME) {
      if (pick < 0) pick = i;
      nvol++;
    }
  }
  if (nvol != 1) {
    dp_dicom_set_free(set);
    return dp__error(DP_EINVAL, "%s: %d %s; choose one with --series (see dcmprep scan)", path,
                     nvol, series ? "series with that number" : "volume series");
  }
  dp_dicom_load_opts lo = DP_DICOM_LOAD_OPTS_INIT;
  lo.threads = threads;
  dp_volume **vols = NULL;
  int nv = 0;
  s = dp_dicom_load(set, pick, &lo, &vols, &nv);
  dp_dicom_set_free(set);
  if (s != DP_OK) return s;
  if (nv != 1) {
    for (int i = 0; i < nv; i++) dp_volume_free(vols[i]);
    free(vols);
    return dp__error(DP_EINVAL, "%s: the series loads as %d volumes", path, nv);
  }
  *out = vols[0];
  free(vols);
  return DP_OK;
}

dp_status dp_load_input(const char *path, const char *series, int threads, dp_volume **out) {
  if (!out) return dp__error(DP_EINVAL, "load: no output pointer");
  *out = NULL;
  if (!path || !*path) return dp__error(DP_EINVAL, "load: no path");
  if (!dp_is_nifti_name(path)) return load_dicom(path, series, threads, out);
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1; /* steps and previews work on real values */
  ro.threads = threads;
  return dp_nifti_read(path, &ro, out, NULL);
}
