/* Loading the one input volume of prep and preview: a NIfTI file, or the one
 * volume series (or the one numbered --series) of a DICOM folder/file. */
#include <stdlib.h>

#include "cli/cli.h"
#include "core/internal.h"

static dp_status load_dicom(const char *path, const char *series, int threads, dp_volume **out) {
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = threads;
  dp_dicom_set *set = NULL;
  const char *paths[1] = {path};
  dp_status s = dp_dicom_scan(paths, 1, &so, &set);
  if (s != DP_OK) return s;
  int pick = -1, nvol = 0;
  long want = -1;
  if (series && dp_cli_parse_int(series, -2147483647L, 2147483647L, &want)) {
    dp_dicom_set_free(set);
    return dp__error(DP_EINVAL, "--series %s is not a series number", series);
  }
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

dp_status dp_cli_load_input(const char *input, const char *series, int threads, dp_volume **out) {
  *out = NULL;
  if (!dp_cli_is_nifti_name(input)) return load_dicom(input, series, threads, out);
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1; /* steps and previews work on real values */
  ro.threads = threads;
  return dp_nifti_read(input, &ro, out, NULL);
}
