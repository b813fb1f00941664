#define _POSIX_C_SOURCE 200809L
/* dcmprep convert: the label volumes of RTSTRUCT and SEG objects, next to the
 * image they label (NAME_label.nii.gz + NAME_label.json, the label map). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dirent.h>

#include "cli/cli.h"
#include "cli/convert_slot.h"
#include "cli/uptodate.h"

struct dp_cli_label_run {
  const dp_dicom_set *set;
  int *drawn; /* per label object: images it was drawn on */
  int written, failed;
};

dp_cli_label_run *dp_cli_label_run_new(const dp_dicom_set *set) {
  dp_cli_label_run *r = calloc(1, sizeof *r);
  int n = dp_dicom_set_label_count(set);
  if (r) r->drawn = calloc((size_t)(n ? n : 1), sizeof *r->drawn);
  if (r && !r->drawn) {
    free(r);
    return NULL;
  }
  if (r) r->set = set;
  return r;
}

static int exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* PATH without .nii.gz / .nii, and that suffix. */
static void split_ext(const char *path, char *stem, size_t size, const char **ext) {
  size_t n = strlen(path);
  *ext = "";
  if (n > 7 && !strcmp(path + n - 7, ".nii.gz")) *ext = ".nii.gz";
  else if (n > 4 && !strcmp(path + n - 4, ".nii")) *ext = ".nii";
  snprintf(stem, size, "%.*s", (int)(n - strlen(*ext)), path);
}

/* File names of the label volumes: STEM_labelK[_ROI]EXT. */
static int label_names(const dp_label_object *obj, const dp_volume *const *vols, int nv, const char *stem,
                       const char *ext, int ordinal, char (*names)[4500]) {
  char tag[32];
  snprintf(tag, sizeof tag, ordinal > 1 ? "_label%d" : "_label", ordinal);
  for (int v = 0; v < nv; v++) {
    if (nv == 1) {
      snprintf(names[v], sizeof names[v], "%s%s%s", stem, tag, ext);
      continue;
    }
    /* separate: the ROI's name, reduced to [A-Za-z0-9._-] (names are hostile) */
    const char *labels = dp_volume_meta_get(vols[v], "Labels", NULL);
    const dp_label_info *in = dp_label_object_info(obj);
    int number = -1;
    const char *at = labels ? strstr(labels, "\"number\":") : NULL;
    if (at) number = atoi(at + 9);
    const char *name = "";
    for (int r = 0; r < in->nrois; r++)
      if (in->rois[r].number == number) name = in->rois[r].name;
    char clean[72];
    dp_cli_clean_name(name, clean, sizeof clean);
    if (!clean[0]) snprintf(clean, sizeof clean, "roi%d", number);
    snprintf(names[v], sizeof names[v], "%s%s_%s%s", stem, tag, clean, ext);
    for (int u = 0; u < v; u++)
      if (!strcmp(names[u], names[v])) {
        snprintf(names[v], sizeof names[v], "%s%s_%s_%d%s", stem, tag, clean, number, ext);
        break;
      }
  }
  return 0;
}

/* Draws object i on img and writes its volumes next to path; 0 or 1. */
static int draw_one(dp_cli_label_run *r, int i, const dp_volume *img, const char *path, const char *stem,
                    const char *ext, int ordinal, const dp_cli_dicom_opts *o) {
  const dp_label_info *li = dp_dicom_set_label(r->set, i);
  dp_label_object *obj = NULL;
  dp_volume **vols = NULL;
  int nv = 0;
  dp_status s = dp_label_read(li->path, &obj);
  if (s == DP_OK) s = dp_cli_rasterize(obj, img, &o->labels, o->load.threads, &vols, &nv);
  if (s != DP_OK) {
    dp_label_free(obj);
    return dp_cli_fail_status(s, li->path);
  }
  char(*names)[4500] = calloc((size_t)nv, sizeof *names);
  int rc = names ? 0 : dp_cli_fail("out of memory");
  if (!rc) label_names(obj, (const dp_volume *const *)vols, nv, stem, ext, ordinal, names);
  const char *base = strrchr(path, '/');
  const char *uid = dp_volume_meta_get(img, "SeriesInstanceUID", NULL);
  int done = 0;
  for (int v = 0; !rc && v < nv; v++) {
    s = dp_volume_meta_set_str(vols[v], "ImageFile", base ? base + 1 : path);
    if (s == DP_OK && uid) s = dp_volume_meta_set_str(vols[v], "ImageSeriesInstanceUID", uid);
    /* the sidecar is the label map: written even with --no-sidecar */
    if (s == DP_OK) s = dp_cli_write_volume(vols[v], names[v], 1, o->load.threads, o->durable);
    if (s != DP_OK) {
      rc = dp_cli_fail_status(s, names[v]);
      break;
    }
    done++;
    if (!o->quiet) {
      const int64_t *d = vols[v]->dim;
      printf("%s  (%lld x %lld x %lld%s, %s, labels of %s)\n", names[v], (long long)d[0], (long long)d[1],
             (long long)d[2], d[3] > 1 ? " x channels" : "", dp_dtype_name(vols[v]->dtype), dp_label_kind_name(li->kind));
    }
  }
  if (rc) /* all of an object's files, or none */
    for (int v = 0; v < done; v++) dp_cli_remove_volume(names[v]);
  else
    r->written += nv;
  for (int v = 0; v < nv; v++) dp_volume_free(vols[v]);
  free(vols);
  free(names);
  dp_label_free(obj);
  return rc ? 1 : 0;
}

int dp_cli_label_run_image(dp_cli_label_run *r, int series, const dp_volume *img, const char *path,
                           const dp_cli_dicom_opts *o) {
  if (!r || o->labels.off) return 0;
  char stem[4400];
  const char *ext;
  split_ext(path, stem, sizeof stem, &ext);
  int ordinal = 0, failed = 0;
  for (int i = 0; i < dp_dicom_set_label_count(r->set); i++) {
    if (dp_dicom_set_label(r->set, i)->image_series != series) continue;
    r->drawn[i]++;
    int f = draw_one(r, i, img, path, stem, ext, ++ordinal, o);
    failed += f;
    r->failed += f;
  }
  return failed;
}

/* --series LIST holds n (or there is no list). */
static int listed(const char *list, int n) {
  for (const char *p = list; p && *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end != p && v == n) return 1;
    p = *end ? end + 1 : end;
  }
  return !list;
}

/* A SEG without its image: on its own grid, named like a series. */
static void orphan_seg(dp_cli_label_run *r, int i, const dp_cli_dicom_opts *o) {
  const dp_label_info *li = dp_dicom_set_label(r->set, i);
  dp_label_object *obj = NULL;
  dp_volume *grid = NULL;
  dp_status s = dp_label_read(li->path, &obj);
  if (s == DP_OK) s = dp_label_seg_grid(obj, &grid);
  dp_label_free(obj);
  if (s != DP_OK) {
    dp_cli_fail_status(s, li->path);
    r->failed++;
    return;
  }
  dp_series_info si;
  memset(&si, 0, sizeof si);
  si.index = dp_dicom_set_series_count(r->set) + i;
  si.uid = li->series_uid;
  si.number = li->series_number;
  si.description = li->description;
  si.modality = "SEG";
  char base[128], path[4500], stem[4400];
  dp_cli_series_name(o->name ? o->name : "{number}_{description}", &si, base, sizeof base);
  const char *ext = o->gz ? ".nii.gz" : ".nii";
  snprintf(stem, sizeof stem, "%s/%s", o->output, base);
  for (int sfx = 2; sfx < 1000; sfx++) { /* never over an image of this run */
    char lab[4500];
    snprintf(path, sizeof path, "%s%s", stem, ext);
    snprintf(lab, sizeof lab, "%s_label%s", stem, ext);
    if (!exists(path) && !exists(lab)) break;
    snprintf(stem, sizeof stem, "%s/%s_%d", o->output, base, sfx);
  }
  if (!o->quiet)
    fprintf(stderr, "dcmprep: %s: its images are not in the input: written on the SEG's own grid\n", li->path);
  int f = draw_one(r, i, grid, path, stem, ext, 1, o);
  r->failed += f;
  dp_volume_free(grid);
}

void dp_cli_label_run_finish(dp_cli_label_run *r, const dp_cli_dicom_opts *o, int *written, int *failed) {
  if (!r) return;
  for (int i = 0; !o->labels.off && i < dp_dicom_set_label_count(r->set); i++) {
    const dp_label_info *li = dp_dicom_set_label(r->set, i);
    if (r->drawn[i] || li->image_series >= 0) continue; /* drawn, or its series not selected */
    if (li->kind == DP_LABEL_SEG && listed(o->series, li->series_number)) orphan_seg(r, i, o);
    else if (!o->series && (!o->quiet || (!*written && !r->written))) /* then it says why nothing was written */
      fprintf(stderr, "dcmprep: %s%s: RTSTRUCT with no image series to draw it on (%s); not converted\n",
              o->quiet ? "" : "note: ", li->path, li->warnings);
  }
  /* damaged label objects are errors, not ordinary skipped files */
  for (int i = 0; !o->labels.off && i < dp_dicom_set_skipped_count(r->set); i++) {
    const char *p, *why;
    if (dp_dicom_set_skipped(r->set, i, &p, &why) == DP_OK &&
        !strncmp(why, DP_LABEL_UNREADABLE, strlen(DP_LABEL_UNREADABLE))) {
      dp_cli_fail("%s", why + strlen(DP_LABEL_UNREADABLE));
      r->failed++;
    }
  }
  *written += r->written;
  *failed += r->failed;
  free(r->drawn);
  free(r);
}

dp_status dp_cli_label_run_hash(const dp_cli_label_run *r, int series, const dp_cli_dicom_opts *o,
                                struct dp_cli_hash *h) {
  if (!r || o->labels.off) return DP_OK;
  char text[256];
  snprintf(text, sizeof text, "labels layout %d tolerance %.17g threshold %.17g", (int)o->labels.layout,
           o->labels.tolerance, o->labels.threshold);
  dp_cli_hash_str(h, text);
  dp_cli_hash_str(h, o->labels.rois);
  for (int i = 0; i < dp_dicom_set_label_count(r->set); i++) {
    const dp_label_info *li = dp_dicom_set_label(r->set, i);
    if (li->image_series != series) continue;
    dp_status s = dp_cli_hash_file(h, li->path);
    if (s != DP_OK) return s;
  }
  return DP_OK;
}

/* Some file of dir starts with prefix and goes on with '.' or '_'. */
static int has_output(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  size_t n = strlen(prefix);
  int found = 0;
  for (struct dirent *e; d && !found && (e = readdir(d));)
    found = !strncmp(e->d_name, prefix, n) && (e->d_name[n] == '.' || e->d_name[n] == '_');
  if (d) closedir(d);
  return found;
}

int dp_cli_label_run_present(const dp_cli_label_run *r, int series, const dp_cli_dicom_opts *o, const char *cand) {
  if (!r || o->labels.off) return 1;
  char path[4400], stem[4400], prefix[4500];
  const char *ext;
  /* labels sit beside the single output, or beside each part: part 1's will do */
  if (convert_path(o, cand, 0, path, sizeof path) || (!dp_cli_is_file(path) &&
                                                      convert_path(o, cand, 1, path, sizeof path)))
    return 0;
  split_ext(path, stem, sizeof stem, &ext);
  const char *base = strrchr(stem, '/');
  base = base ? base + 1 : stem;
  for (int i = 0, ordinal = 0; i < dp_dicom_set_label_count(r->set); i++) {
    if (dp_dicom_set_label(r->set, i)->image_series != series) continue;
    ordinal++;
    snprintf(prefix, sizeof prefix, ordinal > 1 ? "%s_label%d" : "%s_label", base, ordinal);
    if (!has_output(o->output, prefix)) return 0;
  }
  return 1;
}
