#define _DEFAULT_SOURCE /* DT_DIR, lstat */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "dicom/dcmtk/label_read.h"
#include "dicom/dcmtk/header_read.h"
#include "dicom/set.h"
#include "labels/match.h"

const char *dp_series_kind_name(dp_series_kind k) {
  switch (k) {
    case DP_SERIES_VOLUME: return "volume";
    case DP_SERIES_LOCALIZER: return "localizer";
    case DP_SERIES_SECONDARY: return "secondary";
    case DP_SERIES_NO_GEOMETRY: return "no-geometry";
  }
  return "?";
}

typedef struct {
  char **v;
  int n, cap;
} strlist;

static int push(strlist *l, char *s) {
  if (!s) return -1;
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 256;
    char **nv = realloc(l->v, (size_t)cap * sizeof *nv);
    if (!nv) {
      free(s);
      return -1;
    }
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = s;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the walk found: regular files to read, and entries it passed over
 * (dangling links, links to folders, special files, unreadable folders) with
 * the reason, so that nothing under the inputs disappears without a word. */
typedef struct {
  strlist files;
  strlist skip_path, skip_reason;
} walk_out;

static dp_status skip_entry(walk_out *w, const char *path, const char *fmt, const char *arg) {
  char buf[256];
  snprintf(buf, sizeof buf, fmt, arg);
  char *p = strdup(path);
  if (push(&w->skip_path, p)) return dp__error(DP_ENOMEM, "out of memory");
  if (push(&w->skip_reason, strdup(buf))) {
    free(w->skip_path.v[--w->skip_path.n]);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  return DP_OK;
}

/* Collects regular files under path (not following symbolic links to
 * folders, so link loops cannot trap the walk).  A path that does not exist
 * is an error only at the top (depth 0): below it, an entry that vanished or
 * cannot be examined is recorded as skipped. */
static dp_status walk(const char *path, walk_out *w, int depth) {
  struct stat st;
  if (stat(path, &st) != 0) {
    if (depth == 0)
      return dp__error(errno == ENOENT ? DP_ENOTFOUND : DP_EIO, "%s: %s", path, strerror(errno));
    return skip_entry(w, path, "cannot examine (%s)", strerror(errno));
  }
  if (S_ISREG(st.st_mode))
    return push(&w->files, strdup(path)) ? dp__error(DP_ENOMEM, "out of memory") : DP_OK;
  if (!S_ISDIR(st.st_mode)) /* FIFOs would block a reader; devices are not files */
    return skip_entry(w, path, "%s", "not a regular file (FIFO, socket or device)");
  if (depth > 64) return skip_entry(w, path, "%s", "folder nested too deeply (not scanned)");
  DIR *d = opendir(path);
  if (!d) return skip_entry(w, path, "unreadable folder (%s)", strerror(errno));
  strlist names = {0};
  struct dirent *e;
  dp_status s = DP_OK;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t n = strlen(path) + strlen(e->d_name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", path, e->d_name);
    if (push(&names, p)) {
      s = dp__error(DP_ENOMEM, "out of memory");
      break;
    }
  }
  closedir(d);
  /* sorted, so that results do not depend on the file system's order */
  if (names.n > 1) qsort(names.v, (size_t)names.n, sizeof *names.v, cmp_str);
  for (int i = 0; i < names.n; i++) {
    struct stat ls, ts;
    const char *p = names.v[i];
    if (s != DP_OK) {
      /* only freeing */
    } else if (lstat(p, &ls) != 0) {
      s = skip_entry(w, p, "cannot examine (%s)", strerror(errno));
    } else if (!S_ISLNK(ls.st_mode)) {
      s = walk(p, w, depth + 1);
    } else if (stat(p, &ts) != 0) {
      s = skip_entry(w, p, "dangling symbolic link (%s)", strerror(errno));
    } else if (S_ISREG(ts.st_mode)) {
      s = walk(p, w, depth + 1);
    } else {
      s = skip_entry(w, p, "%s", S_ISDIR(ts.st_mode) ? "symbolic link to a folder (not followed)"
                                                     : "symbolic link to a special file");
    }
    free(names.v[i]);
  }
  free(names.v);
  return s;
}

static void walk_out_free(walk_out *w) {
  for (int i = 0; i < w->files.n; i++) free(w->files.v[i]);
  for (int i = 0; i < w->skip_path.n; i++) free(w->skip_path.v[i]);
  for (int i = 0; i < w->skip_reason.n; i++) free(w->skip_reason.v[i]);
  free(w->files.v);
  free(w->skip_path.v);
  free(w->skip_reason.v);
}

typedef struct {
  char **files;
  dp__slice **slices; /* per file */
  int *nslices;
  char **reasons;     /* per file, when skipped */
  dp__label_obj **labels; /* per file, when an RTSTRUCT or SEG */
} scan_ctx;

/* A DICOMDIR (Media Storage Directory, PS3.10) lists a whole medium's files
 * and can be megabytes of directory records: recognised from its file meta
 * information (preamble, "DICM", group 0002, always explicit VR little endian)
 * so that the toolkit never parses it. */
static int is_dicomdir(const char *path) {
  static const char uid[] = "1.2.840.10008.1.3.10"; /* Media Storage Directory Storage */
  unsigned char b[512];
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(b, 1, sizeof b, f);
  fclose(f);
  if (n < 132 || memcmp(b + 128, "DICM", 4) != 0) return 0;
  size_t pos = 132;
  while (pos + 8 <= n) {
    unsigned group = b[pos] | b[pos + 1] << 8, elem = b[pos + 2] | b[pos + 3] << 8;
    if (group != 0x0002) break;
    const unsigned char *vr = b + pos + 4;
    size_t len, val;
    /* VRs with a 4-byte length after 2 reserved bytes (PS3.5 7.1.2) */
    static const char *const long_vr[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
                                          "UC", "UN", "UR", "UT", "UV", NULL};
    int lng = 0;
    for (int k = 0; long_vr[k] && !lng; k++) lng = vr[0] == long_vr[k][0] && vr[1] == long_vr[k][1];
    if (lng) {
      if (pos + 12 > n) break;
      len = (size_t)b[pos + 8] | (size_t)b[pos + 9] << 8 | (size_t)b[pos + 10] << 16 |
            (size_t)b[pos + 11] << 24;
      val = pos + 12;
    } else {
      len = (size_t)(b[pos + 6] | b[pos + 7] << 8);
      val = pos + 8;
    }
    if (len > n - val) break; /* runs past what was read */
    if (elem == 0x0002) {
      while (len > 0 && (b[val + len - 1] == '\0' || b[val + len - 1] == ' ')) len--;
      return len == sizeof uid - 1 && memcmp(b + val, uid, len) == 0;
    }
    pos = val + len;
  }
  return 0;
}

static dp_status scan_one(void *vctx, int64_t i) {
  scan_ctx *c = vctx;
  if (is_dicomdir(c->files[i])) {
    c->reasons[i] = strdup("DICOMDIR (directory, not an image)");
    c->slices[i] = NULL;
    c->nslices[i] = 0;
    return DP_OK;
  }
  dp_status s = dp__dcm_read_slices(c->files[i], &c->slices[i], &c->nslices[i]);
  if (s == DP_EUNSUPPORTED || s == DP_EFORMAT) {
    /* not an image (or not readable as one): RTSTRUCT and SEG objects are listed (headers only) */
    char *why = strdup(dp_last_error());
    dp_status ls = dp__dcm_label_read(c->files[i], 0, &c->labels[i]);
    if (ls == DP_OK) {
      free(why);
      c->slices[i] = NULL;
      c->nslices[i] = 0;
      return DP_OK;
    }
    /* another non-image object keeps its reason; a damaged label object says what is wrong */
    if (ls == DP_ENOTFOUND) {
      c->reasons[i] = why;
    } else {
      free(why);
      size_t n = strlen(dp_last_error()) + sizeof DP_LABEL_UNREADABLE + 1;
      c->reasons[i] = malloc(n);
      if (c->reasons[i]) snprintf(c->reasons[i], n, "%s%s", DP_LABEL_UNREADABLE, dp_last_error());
    }
    c->slices[i] = NULL;
    c->nslices[i] = 0;
    return DP_OK;
  }
  if (s != DP_OK) {
    c->reasons[i] = strdup(dp_last_error());
    c->slices[i] = NULL;
    c->nslices[i] = 0;
  }
  return DP_OK;
}

void dp_dicom_set_free(dp_dicom_set *set) {
  if (!set) return;
  for (int i = 0; i < set->nslices; i++) free(set->slices[i].path);
  free(set->slices);
  dp__groups_free(set->groups, set->ngroups);
  free(set->infos);
  for (int i = 0; i < set->nskipped; i++) {
    free(set->skipped_path[i]);
    free(set->skipped_reason[i]);
  }
  free(set->skipped_path);
  free(set->skipped_reason);
  for (int i = 0; i < set->nlabels; i++) dp_label_free(set->labels[i]);
  free(set->labels);
  free(set);
}

static void fill_info(dp_dicom_set *set, int gi) {
  dp__group *g = &set->groups[gi];
  const dp__slice *f = &set->slices[g->idx[0]];
  dp_series_info *in = &set->infos[gi];
  memset(in, 0, sizeof *in);
  in->index = gi;
  in->uid = f->series_uid;
  in->number = f->series_number == DP__NONE ? -1 : f->series_number;
  in->description = f->description;
  in->modality = f->modality;
  in->kind = g->kind;
  in->nimages = g->n;
  int nfiles = 0;
  for (int i = 0; i < g->n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = set->slices[g->idx[j]].path == set->slices[g->idx[i]].path ||
             strcmp(set->slices[g->idx[j]].path, set->slices[g->idx[i]].path) == 0;
    nfiles += !seen;
    if (i > 4096) { /* long series: files are distinct unless multi-frame */
      nfiles = f->file_frames > 1 ? nfiles : g->n;
      break;
    }
  }
  in->nfiles = nfiles;
  in->dim[0] = f->cols;
  in->dim[1] = f->rows;
  in->dim[2] = g->nz;
  in->dim[3] = g->nt;
  in->spacing[0] = f->spacing[1];
  in->spacing[1] = f->spacing[0];
  in->spacing[2] = g->step;
  in->tilt_deg = g->tilt_deg;
  in->uneven = g->uneven;
  in->missing_slices = g->missing;
  in->duplicate_positions = g->dups;
  in->echo = f->echo_number == DP__NONE ? -1 : f->echo_number;
  in->warnings = g->warnings;
  if (g->nz > 1 && g->pos) {
    in->min_step = in->max_step = g->pos[1] - g->pos[0];
    for (int z = 1; z + 1 < g->nz; z++) {
      double st = g->pos[z + 1] - g->pos[z];
      if (st < in->min_step) in->min_step = st;
      if (st > in->max_step) in->max_step = st;
    }
  }
  if (g->geometry_ok) {
    dp_mat4 ras;
    dp__series_ras_affine(g, set->slices, &ras);
    if (dp_affine_axcodes(&ras, in->orientation) != DP_OK) in->orientation[0] = '\0';
  }
}

dp_status dp_dicom_scan(const char *const *paths, int npaths, const dp_dicom_scan_opts *opts,
                        dp_dicom_set **out) {
  *out = NULL;
  dp_dicom_scan_opts o = DP_DICOM_SCAN_OPTS_INIT;
  if (opts) o = *opts;
  walk_out w = {{0}, {0}, {0}};
  dp_status s = DP_OK;
  for (int i = 0; i < npaths && s == DP_OK; i++) s = walk(paths[i], &w, 0);
  strlist files = w.files;
  w.files = (strlist){0}; /* handed over to the loop below */
  dp_dicom_set *set = calloc(1, sizeof *set);
  scan_ctx c = {files.v, NULL, NULL, NULL, NULL};
  if (s == DP_OK && !set) s = dp__error(DP_ENOMEM, "out of memory");
  if (s == DP_OK && files.n) {
    c.slices = calloc((size_t)files.n, sizeof *c.slices);
    c.nslices = calloc((size_t)files.n, sizeof *c.nslices);
    c.reasons = calloc((size_t)files.n, sizeof *c.reasons);
    c.labels = calloc((size_t)files.n, sizeof *c.labels);
    if (!c.slices || !c.nslices || !c.reasons || !c.labels) s = dp__error(DP_ENOMEM, "out of memory");
  }
  if (s == DP_OK) s = dp__parallel_for(files.n, o.threads, scan_one, &c);
  int total = 0, nskip = w.skip_path.n;
  int nlab = 0;
  for (int i = 0; s == DP_OK && i < files.n; i++) {
    total += c.nslices[i];
    nlab += c.labels[i] != NULL;
    nskip += c.slices[i] == NULL && c.labels[i] == NULL;
  }
  if (s == DP_OK) {
    set->slices = calloc((size_t)(total ? total : 1), sizeof *set->slices);
    set->skipped_path = calloc((size_t)(nskip ? nskip : 1), sizeof(char *));
    set->skipped_reason = calloc((size_t)(nskip ? nskip : 1), sizeof(char *));
    set->labels = calloc((size_t)(nlab ? nlab : 1), sizeof *set->labels);
    if (!set->slices || !set->skipped_path || !set->skipped_reason || !set->labels)
      s = dp__error(DP_ENOMEM, "out of memory");
  }
  for (int i = 0; i < files.n; i++) {
    if (c.labels && c.labels[i]) {
      if (s == DP_OK) set->labels[set->nlabels++] = c.labels[i];
      else dp_label_free(c.labels[i]);
    } else if (s == DP_OK && c.slices[i]) {
      memcpy(set->slices + set->nslices, c.slices[i], (size_t)c.nslices[i] * sizeof(dp__slice));
      set->nslices += c.nslices[i];
    } else if (s == DP_OK) {
      set->skipped_path[set->nskipped] = files.v[i];
      set->skipped_reason[set->nskipped++] = c.reasons[i] ? c.reasons[i] : strdup("unreadable");
      files.v[i] = NULL;
    } else if (c.slices) {
      for (int k = 0; k < c.nslices[i]; k++) free(c.slices[i][k].path);
      if (c.reasons) free(c.reasons[i]);
    }
    if (c.slices) free(c.slices[i]);
    free(files.v[i]);
  }
  free(files.v);
  /* entries the walk passed over follow the files that failed to read */
  for (int i = 0; s == DP_OK && i < w.skip_path.n; i++) {
    set->skipped_path[set->nskipped] = w.skip_path.v[i];
    set->skipped_reason[set->nskipped++] = w.skip_reason.v[i];
    w.skip_path.v[i] = w.skip_reason.v[i] = NULL;
  }
  walk_out_free(&w);
  free(c.slices);
  free(c.nslices);
  free(c.reasons);
  free(c.labels);
  if (s == DP_OK) s = dp__series_group(set->slices, set->nslices, &set->groups, &set->ngroups);
  if (s == DP_OK) {
    set->infos = calloc((size_t)(set->ngroups ? set->ngroups : 1), sizeof *set->infos);
    if (!set->infos) s = dp__error(DP_ENOMEM, "out of memory");
  }
  for (int i = 0; s == DP_OK && i < set->ngroups; i++) {
    s = dp__series_analyse(&set->groups[i], set->slices);
    if (s == DP_OK) fill_info(set, i);
  }
  if (s == DP_OK) dp__labels_match(set);
  if (s != DP_OK) {
    dp_dicom_set_free(set);
    return s;
  }
  *out = set;
  return DP_OK;
}

int dp_dicom_set_series_count(const dp_dicom_set *set) { return set ? set->ngroups : 0; }

const dp_series_info *dp_dicom_set_series(const dp_dicom_set *set, int i) {
  return set && i >= 0 && i < set->ngroups ? &set->infos[i] : NULL;
}

int dp_dicom_set_skipped_count(const dp_dicom_set *set) { return set ? set->nskipped : 0; }

dp_status dp_dicom_set_skipped(const dp_dicom_set *set, int i, const char **path,
                               const char **reason) {
  if (!set || i < 0 || i >= set->nskipped) return dp__error(DP_ERANGE, "no skipped file %d", i);
  *path = set->skipped_path[i];
  *reason = set->skipped_reason[i];
  return DP_OK;
}

int dp_dicom_series_file_count(const dp_dicom_set *set, int i) {
  return set && i >= 0 && i < set->ngroups ? set->groups[i].n : 0;
}

const char *dp_dicom_series_file(const dp_dicom_set *set, int i, int k) {
  if (!set || i < 0 || i >= set->ngroups || k < 0 || k >= set->groups[i].n) return NULL;
  return set->slices[set->groups[i].idx[k]].path;
}
