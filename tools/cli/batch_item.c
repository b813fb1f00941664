#define _POSIX_C_SOURCE 200809L
/* dcmprep batch: one item, run in its own process (batch.h): the content
 * hash of what makes its outputs (uptodate.h), the up-to-date check, load,
 * pipeline, atomic writes; and the removal of what a killed writer left. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/batch.h"
#include "cli/uptodate.h"
#include "core/internal.h"

/* ---- one item, in its own process --------------------------------------- */

static int join(char *out, size_t size, const char *a, const char *b) {
  int n = snprintf(out, size, "%s/%s", a, b);
  return n < 0 || (size_t)n >= size;
}

/* Creates the folders of rel (relative to root) one by one, refusing any
 * that is not a real folder (a symbolic link could lead outside the root). */
static dp_status make_parents(const char *root, const char *rel) {
  char path[4400];
  if (join(path, sizeof path, root, rel)) return dp__error(DP_EINVAL, "%s/%s: path too long", root, rel);
  size_t base = strlen(root) + 1;
  for (char *s = path + base; (s = strchr(s, '/')) != NULL; s++) {
    *s = '\0';
    struct stat st;
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      *s = '/';
      return dp__error(DP_EIO, "cannot create folder %.*s: %s", (int)(s - path), path, strerror(e));
    }
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
      dp_status r = dp__error(DP_EIO, "%s is not a folder (a link or a file): refusing to write through it", path);
      *s = '/';
      return r;
    }
    *s = '/';
  }
  return DP_OK;
}

/* Picks the item's series in set: its number, or the one volume series. */
static dp_status pick_series(const dp_dicom_set *set, const batch_item *it, int *pick) {
  long want = 0;
  if (it->series) dp_cli_parse_int(it->series, -2147483647L, 2147483647L, &want);
  int n = 0;
  *pick = -1;
  for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
    const dp_series_info *si = dp_dicom_set_series(set, i);
    if (it->series ? si->number == want : si->kind == DP_SERIES_VOLUME) {
      if (*pick < 0) *pick = i;
      n++;
    }
  }
  if (n == 1) return DP_OK;
  return dp__error(DP_EINVAL, "%s: %d %s; give the series number in the manifest's series column", it->input,
                   n, it->series ? "series with that number" : "volume series");
}

static dp_status hash_item(const batch_run *c, const batch_item *it, const dp_dicom_set *set, int pick,
                           char hex[DP_CLI_HASH_HEX]) {
  dp_cli_hash h;
  dp_cli_hash_init(&h);
  dp_cli_hash_str(&h, "dcmprep");
  dp_cli_hash_str(&h, dp_version());
  dp_cli_hash_str(&h, dp_pipeline_text(c->pipe));
  dp_cli_hash_str(&h, it->output);
  dp_cli_hash_str(&h, it->label_output);
  dp_status s = set ? dp_cli_hash_series(&h, set, pick) : dp_cli_hash_file(&h, it->input);
  if (s == DP_OK && it->label && !dp_cli_is_dicom_label(it->label)) {
    dp_cli_hash_str(&h, "label");
    s = dp_cli_hash_file(&h, it->label);
  } else if (s == DP_OK && it->label) {
    /* RTSTRUCT/SEG: every label object the label names (auto: those of the
     * input labelling this series), and the options drawing it */
    char opts[128];
    snprintf(opts, sizeof opts, "%g %g", c->labels.tolerance, c->labels.threshold);
    dp_cli_hash_str(&h, "dicom label");
    dp_cli_hash_str(&h, it->label);
    dp_cli_hash_str(&h, c->labels.rois);
    dp_cli_hash_str(&h, opts);
    dp_dicom_set *own = NULL;
    const dp_dicom_set *ls = set;
    if (strcmp(it->label, "auto") != 0) {
      dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
      const char *paths[1] = {it->label};
      s = dp_dicom_scan(paths, 1, &so, &own);
      ls = own;
    }
    for (int l = 0; s == DP_OK && ls && l < dp_dicom_set_label_count(ls); l++) {
      const dp_label_info *li = dp_dicom_set_label(ls, l);
      if (own || li->image_series == pick) s = dp_cli_hash_file(&h, li->path);
    }
    dp_dicom_set_free(own);
  }
  dp_cli_hash_hex(&h, hex);
  return s;
}

/* (batch.h) Runs an item; returns 'W' written, 'S' skipped (up to date), 'F' failed
 * (message in msg). */
char batch_run_item(const batch_run *c, const batch_item *it, char *msg, size_t msgsize) {
  dp_status s = DP_OK;
  dp_dicom_set *own = NULL;
  const dp_dicom_set *set = it->set;
  int pick = it->set_index;
  char img_path[4400], lab_path[4400] = "", hex[DP_CLI_HASH_HEX] = "";
  dp_volume *img = NULL, *lab = NULL;
  if (it->error) {
    snprintf(msg, msgsize, "%s", it->error);
    return 'F';
  }
  if (join(img_path, sizeof img_path, c->outroot, it->output) ||
      (it->label_output && join(lab_path, sizeof lab_path, c->outroot, it->label_output))) {
    snprintf(msg, msgsize, "%s: output path too long", it->output);
    return 'F';
  }
  if (!set && !dp_cli_is_nifti_name(it->input)) {
    dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
    so.threads = c->threads;
    const char *paths[1] = {it->input};
    s = dp_dicom_scan(paths, 1, &so, &own);
    if (s == DP_OK) s = pick_series(own, it, &pick);
    set = own;
  }
  if (s == DP_OK) s = hash_item(c, it, set, pick, hex);
  if (s == DP_OK && !c->force && dp_cli_up_to_date(img_path, "BatchHash", hex) &&
      (!it->label_output || dp_cli_up_to_date(lab_path, "BatchHash", hex))) {
    dp_dicom_set_free(own);
    return 'S';
  }
  if (s == DP_OK) {
    if (set) {
      dp_dicom_load_opts lo = DP_DICOM_LOAD_OPTS_INIT;
      lo.threads = c->threads;
      dp_volume **vols = NULL;
      int nv = 0;
      s = dp_dicom_load(set, pick, &lo, &vols, &nv);
      if (s == DP_OK && nv != 1) {
        for (int i = 0; i < nv; i++) dp_volume_free(vols[i]);
        s = dp__error(DP_EINVAL, "%s: the series loads as %d volumes", it->input, nv);
      } else if (s == DP_OK) {
        img = vols[0];
      }
      free(vols);
    } else {
      dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
      ro.apply_scaling = 1;
      ro.threads = c->threads;
      s = dp_nifti_read(it->input, &ro, &img, NULL);
    }
  }
  dp_dicom_set_free(own);
  if (s == DP_OK && it->label) s = dp_cli_load_label(it->label, it->input, img, &c->labels, c->threads, &lab);
  if (s == DP_OK) {
    int nsteps = 0;
    const dp_step *steps = dp_pipeline_steps(c->pipe, &nsteps);
    dp_pipeline_settings st = *dp_pipeline_settings_of(c->pipe);
    st.threads = c->threads;
    st.name_hash = dp_rng_hash_str(it->output); /* the item's name keys its draws */
    s = dp_pipeline_run(steps, nsteps, &st, &img, lab ? &lab : NULL);
  }
  if (s == DP_OK) s = dp_volume_meta_set_str(img, "BatchHash", hex);
  if (s == DP_OK) s = make_parents(c->outroot, it->output);
  if (s == DP_OK && it->label_output) s = make_parents(c->outroot, it->label_output);
  if (s == DP_OK) s = dp_cli_write_volume(img, img_path, 1, c->threads, c->fsync);
  if (s == DP_OK && lab) {
    const char *steps = dp_volume_meta_get(img, "PrepSteps", NULL);
    if (steps) s = dp_volume_meta_set_json(lab, "PrepSteps", steps);
    if (s == DP_OK) s = dp_volume_meta_set_str(lab, "BatchHash", hex);
    if (s == DP_OK) s = dp_cli_write_volume(lab, lab_path, 1, c->threads, c->fsync);
    if (s != DP_OK) dp_cli_remove_volume(img_path); /* never an image without its label */
  }
  dp_volume_free(img);
  dp_volume_free(lab);
  if (s != DP_OK) {
    const char *e = dp_last_error();
    snprintf(msg, msgsize, "%s", e && *e ? e : dp_status_str(s));
    return 'F';
  }
  return 'W';
}

/* ---- leftovers of killed runs ------------------------------------------- */

/* Removes ".NAME.XXXXXX.tmp" files (the atomic writer's temporaries) of one
 * output path: only a killed writer leaves them. */
static void remove_temps_of(const char *path) {
  char dir[4400];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? path + (slash - dir) + 1 : path;
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  char want[1100];
  int wn = snprintf(want, sizeof want, ".%s.", base);
  if (wn < 0 || (size_t)wn >= sizeof want) return;
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n == (size_t)wn + 10 && strncmp(e->d_name, want, (size_t)wn) == 0 &&
        strcmp(e->d_name + n - 4, ".tmp") == 0) {
      char full[4400];
      if (!join(full, sizeof full, dir, e->d_name)) unlink(full);
    }
  }
  closedir(d);
}

void batch_remove_item_temps(const char *outroot, const batch_item *it) {
  const char *rels[2] = {it->output, it->label_output};
  for (int r = 0; r < 2; r++) {
    if (!rels[r]) continue;
    char p[4400], side[4400];
    if (join(p, sizeof p, outroot, rels[r])) continue;
    remove_temps_of(p);
    if (dp_sidecar_path(p, side, sizeof side) == DP_OK) remove_temps_of(side);
  }
}

