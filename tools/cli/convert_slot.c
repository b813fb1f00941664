#define _POSIX_C_SOURCE 200809L
/* dcmprep convert, DICOM input: output names, up-to-date checks and the
 * series an existing output came from (convert_slot.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/convert_slot.h"
#include "core/internal.h"

int convert_name_taken(const convert_names *u, const char *name) {
  for (int i = 0; i < u->n; i++)
    if (strcmp(u->v[i], name) == 0) return 1;
  return 0;
}

int convert_name_take(convert_names *u, const char *name) {
  if (u->n == u->cap) {
    int cap = u->cap ? 2 * u->cap : 16;
    char **v = realloc(u->v, (size_t)cap * sizeof *v);
    if (!v) return -1;
    u->v = v;
    u->cap = cap;
  }
  if (!(u->v[u->n] = strdup(name))) return -1;
  u->n++;
  return 0;
}

void convert_names_free(convert_names *u) {
  for (int i = 0; i < u->n; i++) free(u->v[i]);
  free(u->v);
  memset(u, 0, sizeof *u);
}

void convert_candidate(const char *base, int sfx, char *out, size_t size) {
  if (sfx <= 1) snprintf(out, size, "%s", base);
  else snprintf(out, size, "%s_%d", base, sfx);
}

int convert_path(const dp_cli_dicom_opts *o, const char *cand, int part, char *out, size_t size) {
  const char *ext = o->gz ? ".nii.gz" : ".nii";
  int n = part > 0 ? snprintf(out, size, "%s/%s_part%d%s", o->output, cand, part, ext)
                   : snprintf(out, size, "%s/%s%s", o->output, cand, ext);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

int convert_occupied(const dp_cli_dicom_opts *o, const char *cand) {
  char p[4400];
  return (convert_path(o, cand, 0, p, sizeof p) == 0 && exists(p)) ||
         (convert_path(o, cand, 1, p, sizeof p) == 0 && exists(p));
}

dp_status convert_series_hash(const dp_cli_dicom_opts *o, const dp_dicom_set *set, int i,
                              const dp_cli_label_run *labels, char hex[DP_CLI_HASH_HEX]) {
  const dp_series_info *si = dp_dicom_set_series(set, i);
  char text[512];
  /* what shapes the bytes written; threads and --fsync do not */
  snprintf(text, sizeof text, "tilt %d uneven %d all %d nominal %d phi %d gz %d level %d nifti2 %d",
           (int)o->load.tilt, (int)o->load.uneven, o->all, o->load.nominal_geometry, o->load.keep_phi, o->gz,
           o->level, o->nifti2);
  dp_cli_hash h;
  dp_cli_hash_init(&h);
  dp_cli_hash_str(&h, "dcmprep convert");
  dp_cli_hash_str(&h, dp_version());
  dp_cli_hash_str(&h, text);
  /* two series read from the same files (stacks of one multi-frame file) */
  snprintf(text, sizeof text, "%s %d %d %lld %lld %s", si->uid, si->number, si->echo, (long long)si->dim[0],
           (long long)si->dim[1], si->orientation);
  dp_cli_hash_str(&h, text);
  dp_status s = dp_cli_hash_series(&h, set, i);
  if (s == DP_OK) s = dp_cli_label_run_hash(labels, i, o, &h);
  dp_cli_hash_hex(&h, hex);
  return s;
}

/* The number of parts recorded by the output at path (1 when none is). */
static long parts_of(const char *path) {
  char v[32];
  dp_cli_sidecar_value(path, "ConvertParts", v, sizeof v);
  char *end;
  long n = strtol(v, &end, 10);
  return v[0] && !*end && n >= 1 && n <= 1000000 ? n : 1;
}

int convert_up_to_date(const dp_cli_dicom_opts *o, const char *cand, const char *hex) {
  char p[4400];
  if (convert_path(o, cand, 0, p, sizeof p) == 0 && dp_cli_up_to_date(p, "ConvertHash", hex) && parts_of(p) == 1)
    return 1;
  if (convert_path(o, cand, 1, p, sizeof p) != 0 || !dp_cli_up_to_date(p, "ConvertHash", hex)) return 0;
  long n = parts_of(p);
  if (n < 2) return 0;
  for (long k = 2; k <= n; k++)
    if (convert_path(o, cand, (int)k, p, sizeof p) != 0 || !dp_cli_up_to_date(p, "ConvertHash", hex)) return 0;
  return 1;
}

/* Equal as text, or as numbers (a sidecar prints %.17g; so does the
 * metadata, but a number may be written either way). */
static int same_value(const char *a, const char *b) {
  if (strcmp(a, b) == 0) return 1;
  char *ea, *eb;
  double x = strtod(a, &ea), y = strtod(b, &eb);
  return *a && *b && !*ea && !*eb && x == y;
}

static int same_series_at(const char *path, const dp_volume *v) {
  static const char *const keys[] = {"SeriesInstanceUID", "ImageTypeOfVolume", "OrientationCode", "EchoTime"};
  char had[1024];
  dp_cli_sidecar_value(path, "ConversionSoftware", had, sizeof had);
  if (strcmp(had, "dcmprep") != 0) return 0;
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    const char *now = dp_volume_meta_get(v, keys[k], NULL);
    dp_cli_sidecar_value(path, keys[k], had, sizeof had);
    if (!same_value(had, now ? now : "")) return 0;
  }
  return 1;
}

int convert_same_series(const dp_cli_dicom_opts *o, const char *cand, const dp_volume *v) {
  char p[4400];
  if (convert_path(o, cand, 0, p, sizeof p) == 0 && exists(p)) return same_series_at(p, v);
  return convert_path(o, cand, 1, p, sizeof p) == 0 && exists(p) && same_series_at(p, v);
}

void convert_remove_leftovers(const dp_cli_dicom_opts *o, const char *cand, int nv, const dp_volume *v) {
  char p[4400];
  if (nv > 1 && convert_path(o, cand, 0, p, sizeof p) == 0 && dp_cli_is_file(p) && same_series_at(p, v))
    dp_cli_remove_volume(p);
  for (int k = nv > 1 ? nv + 1 : 1; convert_path(o, cand, k, p, sizeof p) == 0 && dp_cli_is_file(p); k++) {
    if (!same_series_at(p, v)) break;
    dp_cli_remove_volume(p);
  }
}
