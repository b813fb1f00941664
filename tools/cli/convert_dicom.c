#define _POSIX_C_SOURCE 200809L
/* dcmprep convert, DICOM input: one NIfTI + sidecar per volume series. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void put_clean(const char *s, char *out, size_t *n, size_t size) {
  int last_us = *n > 0 && out[*n - 1] == '_';
  for (; *s && *n + 1 < size; s++) {
    unsigned char ch = (unsigned char)*s;
    /* a dot only after a letter or digit: no "..", no hidden names */
    int ok = isalnum(ch) || ch == '-' || ch == '_' ||
             (ch == '.' && *n > 0 && isalnum((unsigned char)out[*n - 1]));
    if (ok && !(ch == '_' && last_us)) {
      out[(*n)++] = (char)ch;
      last_us = ch == '_';
    } else if (!ok && !last_us) {
      out[(*n)++] = '_';
      last_us = 1;
    }
  }
  out[*n] = '\0';
}

void dp_cli_clean_name(const char *in, char *out, size_t size) {
  size_t n = 0;
  out[0] = '\0';
  put_clean(in, out, &n, size);
  size_t skip = 0;
  while (out[skip] == '.' || out[skip] == '_' || out[skip] == '-') skip++;
  memmove(out, out + skip, strlen(out + skip) + 1);
  while ((n = strlen(out)) > 0 && (out[n - 1] == '.' || out[n - 1] == '_')) out[n - 1] = '\0';
}

void dp_cli_series_name(const char *tmpl, const dp_series_info *si, char *out, size_t size) {
  size_t n = 0;
  char num[32];
  out[0] = '\0';
  for (const char *p = tmpl; *p && n + 1 < size;) {
    const char *field = NULL;
    size_t flen = 0;
    static const char *const names[] = {"{number}", "{description}", "{modality}", "{index}", "{uid}"};
    for (int f = 0; f < 5 && !field; f++)
      if (strncmp(p, names[f], strlen(names[f])) == 0) {
        flen = strlen(names[f]);
        switch (f) {
          case 0: snprintf(num, sizeof num, "%d", si->number); field = num; break;
          case 1: field = si->description; break;
          case 2: field = si->modality; break;
          case 3: snprintf(num, sizeof num, "%d", si->index + 1); field = num; break;
          default: field = si->uid; break;
        }
      }
    if (field) {
      put_clean(field, out, &n, size);
      p += flen;
    } else {
      char one[2] = {*p++, 0};
      put_clean(one, out, &n, size);
    }
  }
  /* no hidden files, no "." or "..", never empty */
  size_t skip = 0;
  while (out[skip] == '.' || out[skip] == '_' || out[skip] == '-') skip++;
  memmove(out, out + skip, strlen(out + skip) + 1);
  while ((n = strlen(out)) > 0 && (out[n - 1] == '.' || out[n - 1] == '_')) out[n - 1] = '\0';
  if (!out[0]) snprintf(out, size, "series%d", si->index + 1);
}

static int selected(const char *list, const dp_series_info *si) {
  if (!list) return 1;
  const char *p = list;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end != p && v == si->number) return 1;
    p = *end == ',' ? end + 1 : (*end ? end + 1 : end);
  }
  return 0;
}

static int exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

int dp_cli_convert_dicom(int npaths, char **paths, const dp_cli_dicom_opts *o) {
  if (mkdir(o->output, 0777) != 0 && errno != EEXIST)
    return dp_cli_fail("cannot create output folder %s: %s", o->output, strerror(errno));
  struct stat st;
  if (stat(o->output, &st) != 0 || !S_ISDIR(st.st_mode))
    return dp_cli_fail("%s is not a folder", o->output);
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = o->load.threads;
  dp_dicom_set *set = NULL;
  dp_status s = dp_dicom_scan((const char *const *)paths, npaths, &so, &set);
  if (s != DP_OK) return dp_cli_fail_status(s, "scan");
  int n = dp_dicom_set_series_count(set), written = 0, failed = 0;
  char **used = calloc((size_t)(n ? n * 4 : 1), sizeof *used);
  int nused = 0;
  char why[2048] = ""; /* why nothing was converted, should that happen */
  dp_cli_label_run *labels = dp_cli_label_run_new(set); /* RTSTRUCT/SEG outputs (convert_labels.c) */
  for (int i = 0; i < n; i++) {
    const dp_series_info *si = dp_dicom_set_series(set, i);
    if (!selected(o->series, si)) continue;
    if (si->kind != DP_SERIES_VOLUME && !o->all) {
      /* the warnings say why (e.g. which geometry attribute is missing) */
      const char *sep = si->warnings[0] ? ": " : "";
      if (!o->quiet)
        fprintf(stderr, "dcmprep: skipping series %d (%s, %s%s%s): use --all to convert it\n",
                si->number, si->description, dp_series_kind_name(si->kind), sep, si->warnings);
      size_t len = strlen(why);
      snprintf(why + len, sizeof why - len, "; series %d is %s%s%s", si->number,
               dp_series_kind_name(si->kind), sep, si->warnings);
      continue;
    }
    dp_volume **vols = NULL;
    int nv = 0;
    s = dp_dicom_load(set, i, &o->load, &vols, &nv);
    if (s != DP_OK) {
      char what[96];
      snprintf(what, sizeof what, "series %d", si->number);
      dp_cli_fail_status(s, what);
      failed++;
      continue;
    }
    char base[128];
    dp_cli_series_name(o->name ? o->name : "{number}_{description}", si, base, sizeof base);
    for (int k = 0; k < nv; k++) {
      char name[160], path[4400], side[4400];
      snprintf(name, sizeof name, nv > 1 ? "%s_part%d" : "%s", base, k + 1);
      /* collisions (within this run or with existing files) get a suffix */
      char cand[176];
      snprintf(cand, sizeof cand, "%s", name);
      for (int sfx = 2;; sfx++) {
        int clash = 0;
        for (int u = 0; u < nused && !clash; u++) clash = strcmp(used[u], cand) == 0;
        snprintf(path, sizeof path, "%s/%s%s", o->output, cand, o->gz ? ".nii.gz" : ".nii");
        if (!clash && !exists(path)) break;
        snprintf(cand, sizeof cand, "%s_%d", name, sfx);
      }
      if (nused < n * 4) used[nused++] = strdup(cand);
      dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
      wo.level = o->level;
      wo.version = o->nifti2 ? 2 : 0;
      wo.threads = o->load.threads;
      wo.durable = o->durable;
      s = dp_nifti_write(vols[k], path, &wo);
      if (s == DP_OK && !o->no_sidecar) {
        dp_sidecar_write_opts so = DP_SIDECAR_WRITE_OPTS_INIT;
        so.durable = o->durable;
        s = dp_sidecar_path(path, side, sizeof side);
        if (s == DP_OK) s = dp_sidecar_write_with(vols[k], side, &so);
        if (s != DP_OK) unlink(path); /* never one without the other */
      }
      if (s != DP_OK) {
        dp_cli_fail_status(s, path);
        failed++;
      } else {
        written++;
        if (!o->quiet) {
          char code[4] = "";
          dp_volume_axcodes(vols[k], code);
          printf("%s  (%lld x %lld x %lld%s, %s, %s)\n", path, (long long)vols[k]->dim[0],
                 (long long)vols[k]->dim[1], (long long)vols[k]->dim[2],
                 vols[k]->dim[3] > 1 ? " x t" : "", dp_dtype_name(vols[k]->dtype), code);
        }
        dp_cli_label_run_image(labels, i, vols[k], path, o);
      }
      dp_volume_free(vols[k]);
    }
    free(vols);
  }
  dp_cli_label_run_finish(labels, o, &written, &failed);
  for (int u = 0; u < nused; u++) free(used[u]);
  free(used);
  int nskip = dp_dicom_set_skipped_count(set);
  if (!o->quiet && nskip && (written || failed))
    fprintf(stderr, "dcmprep: %d file(s) skipped (see `dcmprep scan --skipped`)\n", nskip);
  if (!written && !failed) {
    /* Nothing to show for the run: the error itself names the files and the
     * reasons, since -q hides everything else. */
    for (int k = 0; k < nskip && k < 3; k++) {
      const char *p, *r;
      dp_dicom_set_skipped(set, k, &p, &r);
      size_t len = strlen(why);
      snprintf(why + len, sizeof why - len, "; skipped %s: %s", p, r);
    }
    if (nskip > 3) {
      size_t len = strlen(why);
      snprintf(why + len, sizeof why - len, "; and %d more skipped file(s)", nskip - 3);
    }
  }
  dp_dicom_set_free(set);
  if (failed) return DP_EXIT_ERROR;
  if (!written) return dp_cli_fail("no volume series found in the input%s", why);
  return DP_EXIT_OK;
}
