#define _POSIX_C_SOURCE 200809L
/* dcmprep batch: one item, run in its own process (batch.h): the content
 * hash of what makes its outputs, the up-to-date check, load, pipeline,
 * atomic writes; and the removal of what a killed writer left. */
#include <dirent.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/batch.h"
#include "core/internal.h"

/* ---- content hash -------------------------------------------------------- */

typedef struct {
  uint32_t crc, adler;
  uint64_t len;
} chash;

static void ch_init(chash *h) {
  h->crc = 0;
  h->adler = 1;
  h->len = 0;
}

static void ch_update(chash *h, const void *p, size_t n) {
  h->crc = libdeflate_crc32(h->crc, p, n);
  h->adler = libdeflate_adler32(h->adler, p, n);
  h->len += n;
}

static void ch_str(chash *h, const char *s) { ch_update(h, s ? s : "", strlen(s ? s : "") + 1); }

static dp_status ch_file(chash *h, const char *path, unsigned char *buf, size_t bufsize) {
  FILE *f = fopen(path, "rb");
  if (!f) return dp__error(DP_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t n;
  uint64_t total = 0;
  while ((n = fread(buf, 1, bufsize, f)) > 0) {
    ch_update(h, buf, n);
    total += n;
  }
  int err = ferror(f);
  fclose(f);
  if (err) return dp__error(DP_EIO, "%s: cannot read", path);
  ch_update(h, &total, sizeof total); /* file boundaries count */
  return DP_OK;
}

/* ---- one item, in its own process --------------------------------------- */

static int join(char *out, size_t size, const char *a, const char *b) {
  int n = snprintf(out, size, "%s/%s", a, b);
  return n < 0 || (size_t)n >= size;
}

/* The hash recorded in a sidecar, or "" when absent.  The key is written
 * last (after PrepSteps, which may be long), so the whole file is read. */
static void sidecar_hash(const char *nifti, char *out, size_t size) {
  out[0] = '\0';
  char side[4400];
  if (dp_sidecar_path(nifti, side, sizeof side) != DP_OK) return;
  FILE *f = fopen(side, "rb");
  if (!f) return;
  char *buf = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && n <= (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)))
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
  fclose(f);
  /* our own writer's layout: "BatchHash": "<hex>" (the last such key) */
  const char *p = NULL;
  for (const char *q = buf; q && (q = strstr(q, "\"BatchHash\"")); q++)
    if (q == buf || q[-1] != '\\') p = q; /* a key, not text inside a string */
  if (p) {
    p += strlen("\"BatchHash\"");
    while (*p == ' ' || *p == ':') p++;
    if (*p++ == '"') {
      size_t k = 0;
      while (p[k] && p[k] != '"' && k + 1 < size) k++;
      memcpy(out, p, k);
      out[k] = '\0';
    }
  }
  free(buf);
}

static int exists_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
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

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
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
                           char *hex, size_t hexsize) {
  chash h;
  ch_init(&h);
  ch_str(&h, "dcmprep");
  ch_str(&h, dp_version());
  ch_str(&h, dp_pipeline_text(c->pipe));
  ch_str(&h, it->output);
  ch_str(&h, it->label_output);
  size_t bufsize = (size_t)1 << 20;
  unsigned char *buf = malloc(bufsize);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  dp_status s = DP_OK;
  if (set) {
    int nf = dp_dicom_series_file_count(set, pick);
    const char **files = malloc((size_t)(nf ? nf : 1) * sizeof *files);
    if (!files) s = dp__error(DP_ENOMEM, "out of memory");
    for (int k = 0; s == DP_OK && k < nf; k++) files[k] = dp_dicom_series_file(set, pick, k);
    if (s == DP_OK) qsort(files, (size_t)nf, sizeof *files, cmp_str); /* frames repeat a file */
    for (int k = 0; s == DP_OK && k < nf; k++)
      if (k == 0 || strcmp(files[k], files[k - 1]) != 0) s = ch_file(&h, files[k], buf, bufsize);
    free(files);
  } else {
    s = ch_file(&h, it->input, buf, bufsize);
  }
  if (s == DP_OK && it->label && !dp_cli_is_dicom_label(it->label)) {
    ch_str(&h, "label");
    s = ch_file(&h, it->label, buf, bufsize);
  } else if (s == DP_OK && it->label) {
    /* RTSTRUCT/SEG: every label object the label names (auto: those of the
     * input labelling this series), and the options drawing it */
    char opts[128];
    snprintf(opts, sizeof opts, "%g %g", c->labels.tolerance, c->labels.threshold);
    ch_str(&h, "dicom label");
    ch_str(&h, it->label);
    ch_str(&h, c->labels.rois);
    ch_str(&h, opts);
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
      if (own || li->image_series == pick) s = ch_file(&h, li->path, buf, bufsize);
    }
    dp_dicom_set_free(own);
  }
  free(buf);
  snprintf(hex, hexsize, "%08x%08x%012llx", (unsigned)h.crc, (unsigned)h.adler,
           (unsigned long long)(h.len & 0xFFFFFFFFFFFFULL));
  return s;
}

/* (batch.h) Runs an item; returns 'W' written, 'S' skipped (up to date), 'F' failed
 * (message in msg). */
char batch_run_item(const batch_run *c, const batch_item *it, char *msg, size_t msgsize) {
  dp_status s = DP_OK;
  dp_dicom_set *own = NULL;
  const dp_dicom_set *set = it->set;
  int pick = it->set_index;
  char img_path[4400], lab_path[4400] = "", hex[64] = "";
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
  if (s == DP_OK) s = hash_item(c, it, set, pick, hex, sizeof hex);
  if (s == DP_OK && !c->force && exists_file(img_path) && (!it->label_output || exists_file(lab_path))) {
    char had[64], had_lab[64] = "";
    sidecar_hash(img_path, had, sizeof had);
    if (it->label_output) sidecar_hash(lab_path, had_lab, sizeof had_lab);
    if (strcmp(had, hex) == 0 && (!it->label_output || strcmp(had_lab, hex) == 0)) {
      dp_dicom_set_free(own);
      return 'S';
    }
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

