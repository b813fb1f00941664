#define _POSIX_C_SOURCE 200809L
/* dcmprep convert, DICOM input: one NIfTI + sidecar per volume series,
 * skipped when up to date (convert_slot.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/convert_slot.h"
#include "core/internal.h"

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

/* Writes the nv volumes of a series at cand, each recording hex (when
 * given) and the number of parts.  Returns 0, or -1 after printing the
 * error (what was written before it stays: each file is complete). */
static int write_series(const dp_cli_dicom_opts *o, const char *cand, dp_volume **vols, int nv, const char *hex) {
  for (int k = 0; k < nv; k++) {
    char path[4400];
    if (convert_path(o, cand, nv > 1 ? k + 1 : 0, path, sizeof path)) {
      dp_cli_fail("%s/%s: output path too long", o->output, cand);
      return -1;
    }
    dp_status s = DP_OK;
    if (hex[0] && !o->no_sidecar) {
      s = dp_volume_meta_set_str(vols[k], "ConvertHash", hex);
      if (s == DP_OK && nv > 1) s = dp_volume_meta_set_num(vols[k], "ConvertParts", nv);
    }
    dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
    wo.level = o->level;
    wo.version = o->nifti2 ? 2 : 0;
    wo.threads = o->load.threads;
    wo.durable = o->durable;
    if (s == DP_OK) s = dp_nifti_write(vols[k], path, &wo);
    if (s == DP_OK && !o->no_sidecar) {
      char side[4400];
      dp_sidecar_write_opts so = DP_SIDECAR_WRITE_OPTS_INIT;
      so.durable = o->durable;
      s = dp_sidecar_path(path, side, sizeof side);
      if (s == DP_OK) s = dp_sidecar_write_with(vols[k], side, &so);
      if (s != DP_OK) unlink(path); /* never one without the other */
    }
    if (s != DP_OK) {
      dp_cli_fail_status(s, path);
      return -1;
    }
    if (!o->quiet) {
      char code[4] = "";
      dp_volume_axcodes(vols[k], code);
      printf("%s  (%lld x %lld x %lld%s, %s, %s)\n", path, (long long)vols[k]->dim[0], (long long)vols[k]->dim[1],
             (long long)vols[k]->dim[2], vols[k]->dim[3] > 1 ? " x t" : "", dp_dtype_name(vols[k]->dtype), code);
    }
  }
  return 0;
}

static void print_up_to_date(const dp_cli_dicom_opts *o, const char *cand) {
  char p[4400];
  if (o->quiet) return;
  if (convert_path(o, cand, 0, p, sizeof p) == 0 && dp_cli_is_file(p)) {
    printf("%s  (up to date)\n", p);
    return;
  }
  for (int k = 1; convert_path(o, cand, k, p, sizeof p) == 0 && dp_cli_is_file(p); k++)
    printf("%s  (up to date)\n", p);
}

typedef struct {
  int written, up_to_date, failed;
  convert_names taken;
} convert_run;

/* One volume series: up to date, or loaded and written at its name. */
static void convert_series(const dp_cli_dicom_opts *o, const dp_dicom_set *set, int i, convert_run *r,
                           dp_cli_label_run *labels) {
  const dp_series_info *si = dp_dicom_set_series(set, i);
  char base[128], cand[160], hex[DP_CLI_HASH_HEX] = "";
  dp_cli_series_name(o->name ? o->name : "{number}_{description}", si, base, sizeof base);
  /* an unreadable file fails the load below, with its message */
  if (!o->no_sidecar && convert_series_hash(o, set, i, labels, hex) != DP_OK) hex[0] = '\0';
  if (hex[0] && !o->overwrite) {
    for (int sfx = 1;; sfx++) {
      convert_candidate(base, sfx, cand, sizeof cand);
      if (convert_name_taken(&r->taken, cand)) continue;
      if (!convert_occupied(o, cand)) break;
      if (convert_up_to_date(o, cand, hex) && dp_cli_label_run_present(labels, i, o, cand)) {
        convert_name_take(&r->taken, cand);
        print_up_to_date(o, cand);
        r->up_to_date++;
        return;
      }
    }
  }
  dp_volume **vols = NULL;
  int nv = 0;
  dp_status s = dp_dicom_load(set, i, &o->load, &vols, &nv);
  if (s == DP_OK && nv < 1) {
    free(vols);
    s = dp__error(DP_EINTERNAL, "series %d loaded as no volume", si->number);
  }
  if (s != DP_OK) {
    char what[96];
    snprintf(what, sizeof what, "series %d", si->number);
    dp_cli_fail_status(s, what);
    r->failed++;
    return;
  }
  /* the first name that is free, or holds this series' (out-of-date) outputs */
  for (int sfx = 1;; sfx++) {
    convert_candidate(base, sfx, cand, sizeof cand);
    if (convert_name_taken(&r->taken, cand)) continue;
    if (o->overwrite || !convert_occupied(o, cand) || convert_same_series(o, cand, vols[0])) break;
  }
  if (convert_name_take(&r->taken, cand) != 0) {
    dp_cli_fail("out of memory");
    r->failed++;
  } else if (write_series(o, cand, vols, nv, hex) != 0) {
    r->failed++;
  } else {
    convert_remove_leftovers(o, cand, nv, vols[0]);
    r->written += nv;
    for (int k = 0; k < nv; k++) { /* the RTSTRUCT/SEG labels of this series, beside it */
      char path[4400];
      if (convert_path(o, cand, nv > 1 ? k + 1 : 0, path, sizeof path) == 0)
        dp_cli_label_run_image(labels, i, vols[k], path, o);
    }
  }
  for (int k = 0; k < nv; k++) dp_volume_free(vols[k]);
  free(vols);
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
  int n = dp_dicom_set_series_count(set);
  convert_run r;
  memset(&r, 0, sizeof r);
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
    convert_series(o, set, i, &r, labels);
  }
  dp_cli_label_run_finish(labels, o, &r.written, &r.failed);
  convert_names_free(&r.taken);
  int nskip = dp_dicom_set_skipped_count(set), done = r.written + r.up_to_date;
  if (!o->quiet && nskip && (done || r.failed))
    fprintf(stderr, "dcmprep: %d file(s) skipped (see `dcmprep scan --skipped`)\n", nskip);
  if (!done && !r.failed) {
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
  if (r.failed) return DP_EXIT_ERROR;
  if (!done) return dp_cli_fail("no volume series found in the input%s", why);
  return DP_EXIT_OK;
}
