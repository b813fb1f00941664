#define _POSIX_C_SOURCE 200809L
/* Label options shared by convert, prep, augment and batch, and the label
 * input of prep, augment and batch (a NIfTI, an RTSTRUCT/SEG, or auto). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/internal.h"

int dp_cli_take_label_option(const dp_cli_command *cmd, const char *name, const char *arg, int allow_layout,
                             dp_cli_label_opts *o, int *rc) {
  char *end = NULL;
  if (!strcmp(name, "roi")) {
    if (!arg[0]) *rc = dp_cli_usage_error(cmd, "--roi needs a list of ROI names or #numbers");
    o->rois = arg;
  } else if (!strcmp(name, "labels") && allow_layout) {
    if (!strcmp(arg, "none")) o->off = 1;
    else if (dp_label_layout_parse(arg, &o->layout) != DP_OK)
      *rc = dp_cli_usage_error(cmd, "--labels is multi, onehot, separate or none, not '%s'", arg);
    else o->off = 0;
  } else if (!strcmp(name, "contour-tolerance")) {
    o->tolerance = strtod(arg, &end);
    if (end == arg || *end || !(o->tolerance > 0 && o->tolerance <= 0.5))
      *rc = dp_cli_usage_error(cmd, "--contour-tolerance needs a number in (0, 0.5] slices, not '%s'", arg);
  } else if (!strcmp(name, "seg-threshold")) {
    o->threshold = strtod(arg, &end);
    if (end == arg || *end || !(o->threshold > 0 && o->threshold <= 1))
      *rc = dp_cli_usage_error(cmd, "--seg-threshold needs a number in (0, 1], not '%s'", arg);
  } else {
    return 0;
  }
  return 1;
}

dp_status dp_cli_rasterize(const dp_label_object *obj, const dp_volume *img, const dp_cli_label_opts *o,
                           int threads, dp_volume ***out, int *nout) {
  dp_label_opts lo = DP_LABEL_OPTS_INIT;
  lo.layout = o->layout;
  lo.slice_tolerance = o->tolerance;
  lo.fraction_threshold = o->threshold;
  lo.threads = threads;
  char *copy = NULL;
  const char **names = NULL;
  if (o->rois) { /* NAME,NAME,#N */
    copy = strdup(o->rois);
    names = calloc(strlen(o->rois) + 1, sizeof *names);
    if (!copy || !names) {
      free(copy);
      free(names);
      return dp__error(DP_ENOMEM, "out of memory");
    }
    for (char *p = copy, *next; p; p = next) {
      next = strchr(p, ',');
      if (next) *next++ = '\0';
      names[lo.nrois++] = p;
    }
    lo.rois = names;
  }
  dp_status s = dp_label_rasterize(obj, img, &lo, out, nout);
  free(copy);
  free(names);
  return s;
}

int dp_cli_is_dicom_label(const char *label) { return label && !dp_cli_is_nifti_name(label); }

/* The one label object of set for img: the only one of a named file or
 * folder, else the one labelling img's series (SeriesInstanceUID). */
static dp_status pick_label(const dp_dicom_set *set, const dp_volume *img, const char *where, int is_auto,
                            int *pick) {
  const char *uid = dp_volume_meta_get(img, "SeriesInstanceUID", NULL);
  int n = dp_dicom_set_label_count(set), nmatch = 0;
  *pick = -1;
  for (int i = 0; !n && i < dp_dicom_set_skipped_count(set); i++) {
    const char *p, *why;
    if (dp_dicom_set_skipped(set, i, &p, &why) == DP_OK &&
        !strncmp(why, DP_LABEL_UNREADABLE, strlen(DP_LABEL_UNREADABLE)))
      return dp__error(DP_EFORMAT, "%s", why + strlen(DP_LABEL_UNREADABLE));
  }
  if (!n) return dp__error(DP_ENOTFOUND, "%s: no RTSTRUCT or SEG found there", where);
  if (!is_auto && n == 1) {
    *pick = 0;
    return DP_OK;
  }
  for (int i = 0; uid && i < n; i++) {
    const dp_label_info *l = dp_dicom_set_label(set, i);
    const dp_series_info *si = dp_dicom_set_series(set, l->image_series);
    if ((si && !strcmp(si->uid, uid)) || !strcmp(l->referenced_series_uid, uid)) {
      if (*pick < 0) *pick = i;
      nmatch++;
    }
  }
  if (nmatch == 1) return DP_OK;
  if (!nmatch)
    return dp__error(DP_ENOTFOUND, "%s: none of its %d label object(s) labels the image's series%s", where, n,
                     uid ? "" : " (the image has no SeriesInstanceUID: name the label file)");
  return dp__error(DP_EINVAL, "%s: %d label objects label the image's series: name one with --label FILE", where,
                   nmatch);
}

dp_status dp_cli_load_label(const char *label, const char *image_input, const dp_volume *img,
                            const dp_cli_label_opts *o, int threads, dp_volume **out) {
  *out = NULL;
  if (!dp_cli_is_dicom_label(label)) return dp_nifti_read(label, NULL, out, NULL);
  int is_auto = !strcmp(label, "auto");
  const char *where = is_auto ? image_input : label;
  if (is_auto && dp_cli_is_nifti_name(image_input))
    return dp__error(DP_EINVAL, "--label auto looks for an RTSTRUCT or SEG next to a DICOM input, and %s is a "
                     "NIfTI file: name the label file", image_input);
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = threads;
  dp_dicom_set *set = NULL;
  const char *paths[1] = {where};
  dp_status s = dp_dicom_scan(paths, 1, &so, &set);
  if (s != DP_OK) return s;
  int pick = -1;
  s = pick_label(set, img, where, is_auto, &pick);
  dp_label_object *obj = NULL;
  if (s == DP_OK) s = dp_label_read(dp_dicom_set_label(set, pick)->path, &obj);
  dp_dicom_set_free(set);
  dp_volume **vols = NULL;
  int nv = 0;
  dp_cli_label_opts multi = *o;
  multi.layout = DP_LABELS_MULTI;
  if (s == DP_OK) s = dp_cli_rasterize(obj, img, &multi, threads, &vols, &nv);
  dp_label_free(obj);
  if (s != DP_OK) return s;
  *out = vols[0];
  free(vols);
  return DP_OK;
}
