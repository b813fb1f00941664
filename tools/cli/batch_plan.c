#define _POSIX_C_SOURCE 200809L
/* dcmprep batch: turning inputs or a manifest into items. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"

enum { MAX_MANIFEST_BYTES = 256 << 20, MAX_FIELD = 4096 };

static batch_item *add_item(batch_plan *p) {
  if (p->n == p->cap) {
    int cap = p->cap ? 2 * p->cap : 64;
    batch_item *n = realloc(p->items, (size_t)cap * sizeof *n);
    if (!n) return NULL;
    p->items = n;
    p->cap = cap;
  }
  batch_item *it = &p->items[p->n];
  memset(it, 0, sizeof *it);
  it->index = p->n++;
  it->set_index = -1;
  return it;
}

void batch_plan_free(batch_plan *p) {
  for (int i = 0; i < p->n; i++) {
    batch_item *it = &p->items[i];
    free(it->input);
    free(it->series);
    free(it->label);
    free(it->output);
    free(it->label_output);
    free(it->error);
  }
  free(p->items);
  for (int i = 0; i < p->nsets; i++) dp_dicom_set_free(p->sets[i]);
  free(p->sets);
  memset(p, 0, sizeof *p);
}

const char *batch_check_relative(const char *rel) {
  if (!rel || !*rel) return "the name is empty";
  if (rel[0] == '/') return "the name is an absolute path";
  if (strlen(rel) > 1024) return "the name is longer than 1024 characters";
  const char *c = rel;
  while (*c) {
    const char *e = strchr(c, '/');
    size_t n = e ? (size_t)(e - c) : strlen(c);
    if (n == 0) return "the name has an empty folder (\"//\" or a trailing \"/\")";
    if (c[0] == '.') return "a part of the name starts with a dot (hidden, \".\" or \"..\")";
    for (size_t k = 0; k < n; k++) {
      unsigned char ch = (unsigned char)c[k];
      if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
        return "the name may only hold letters, digits, '.', '_', '-' and '/' between folders";
    }
    c += n;
    if (*c == '/') {
      c++;
      if (!*c) return "the name has an empty folder (\"//\" or a trailing \"/\")";
    }
  }
  return NULL;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The last component of a path without trailing slashes and .nii/.nii.gz. */
static void stem_of(const char *path, char *out, size_t size) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  size_t b = n;
  while (b > 0 && path[b - 1] != '/') b--;
  size_t len = n - b;
  char tmp[1024];
  if (len >= sizeof tmp) len = sizeof tmp - 1;
  memcpy(tmp, path + b, len);
  tmp[len] = '\0';
  if (ends_with(tmp, ".nii.gz")) tmp[len - 7] = '\0';
  else if (ends_with(tmp, ".nii")) tmp[len - 4] = '\0';
  dp_cli_clean_name(tmp, out, size);
  if (!out[0]) snprintf(out, size, "input");
}

/* name + ext unless name already ends in .nii or .nii.gz */
static char *with_ext(const char *name, const char *ext) {
  size_t n = strlen(name) + strlen(ext) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", name, dp_cli_is_nifti_name(name) ? "" : ext);
  return s;
}

static char *label_name_for(const char *output) {
  size_t n = strlen(output);
  size_t stem = ends_with(output, ".nii.gz") ? n - 7 : ends_with(output, ".nii") ? n - 4 : n;
  char *s = malloc(n + 16);
  if (s) snprintf(s, n + 16, "%.*s_label%s", (int)stem, output, output + stem);
  return s;
}

static int same_output(const char *a, const char *b) {
  /* x.nii and x.nii.gz share a sidecar: treat them as one output */
  size_t na = strlen(a), nb = strlen(b);
  size_t sa = ends_with(a, ".nii.gz") ? na - 7 : ends_with(a, ".nii") ? na - 4 : na;
  size_t sb = ends_with(b, ".nii.gz") ? nb - 7 : ends_with(b, ".nii") ? nb - 4 : nb;
  return sa == sb && strncmp(a, b, sa) == 0;
}

/* Whether name is taken by any item before `upto` (image or label). */
static int taken(const batch_plan *p, int upto, const char *name) {
  for (int i = 0; i < upto; i++) {
    const batch_item *it = &p->items[i];
    if ((it->output && same_output(it->output, name)) ||
        (it->label_output && same_output(it->label_output, name)))
      return 1;
  }
  return 0;
}

static char *unique_name(const batch_plan *p, int upto, const char *base, const char *ext) {
  char cand[1200];
  snprintf(cand, sizeof cand, "%s%s", base, ext);
  for (int k = 2; taken(p, upto, cand); k++) snprintf(cand, sizeof cand, "%s_%d%s", base, k, ext);
  return strdup(cand);
}

static int oom(void) { return dp_cli_fail("out of memory"); }

int batch_plan_inputs(batch_plan *p, int n, char **inputs, const char *ext, int threads, int label_auto) {
  for (int a = 0; a < n; a++) {
    const char *in = inputs[a];
    char stem[512];
    stem_of(in, stem, sizeof stem);
    if (dp_cli_is_nifti_name(in)) {
      batch_item *it = add_item(p);
      if (!it || !(it->input = strdup(in)) || !(it->output = unique_name(p, it->index, stem, ext))) return oom();
      continue;
    }
    dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
    so.threads = threads;
    dp_dicom_set *set = NULL;
    const char *paths[1] = {in};
    dp_status s = dp_dicom_scan(paths, 1, &so, &set);
    int nvol = 0;
    if (s == DP_OK) {
      dp_dicom_set **ns = realloc(p->sets, (size_t)(p->nsets + 1) * sizeof *ns);
      if (!ns) {
        dp_dicom_set_free(set);
        return oom();
      }
      p->sets = ns;
      p->sets[p->nsets++] = set;
      for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
        const dp_series_info *si = dp_dicom_set_series(set, i);
        if (si->kind != DP_SERIES_VOLUME) continue;
        char sname[160], base[700];
        dp_cli_series_name("{number}_{description}", si, sname, sizeof sname);
        snprintf(base, sizeof base, "%s/%s", stem, sname);
        batch_item *it = add_item(p);
        if (!it || !(it->input = strdup(in)) || !(it->output = unique_name(p, it->index, base, ext))) return oom();
        it->set = set;
        it->set_index = i;
        nvol++;
        int labelled = 0;
        for (int l = 0; label_auto && l < dp_dicom_set_label_count(set); l++)
          labelled |= dp_dicom_set_label(set, l)->image_series == i;
        if (labelled && (!(it->label = strdup("auto")) || !(it->label_output = label_name_for(it->output))))
          return oom();
      }
    }
    if (nvol == 0) {
      /* the input is an item that fails, with the reason: one bad study
       * never stops the others */
      char msg[1024];
      if (s != DP_OK) snprintf(msg, sizeof msg, "%s", dp_last_error());
      else snprintf(msg, sizeof msg, "%s: no volume series (see dcmprep scan)", in);
      batch_item *it = add_item(p);
      if (!it || !(it->input = strdup(in)) || !(it->output = unique_name(p, it->index, stem, ext)) ||
          !(it->error = strdup(msg)))
        return oom();
    }
  }
  return 0;
}

/* ---- manifest ------------------------------------------------------------ */

enum { COL_INPUT, COL_OUTPUT, COL_LABEL, COL_LABEL_OUTPUT, COL_SERIES, NCOLS };
static const char *const col_names[NCOLS] = {"input", "output", "label", "label_output", "series"};

static int col_of(const char *name) {
  for (int c = 0; c < NCOLS; c++)
    if (strcmp(col_names[c], name) == 0) return c;
  return -1;
}

/* One CSV record (RFC 4180: quoted fields, "" inside quotes, CRLF or LF).
 * Returns the number of fields, 0 at the end, -1 on a syntax error. */
static int csv_record(const char **pp, char fields[][MAX_FIELD], int maxf, const char **why) {
  const char *p = *pp;
  if (!*p) return 0;
  int nf = 0;
  for (;;) {
    if (nf == maxf) {
      *why = "too many fields";
      return -1;
    }
    char *f = fields[nf++];
    size_t n = 0;
    if (*p == '"') {
      p++;
      for (;;) {
        if (!*p) {
          *why = "a quoted field is not closed";
          return -1;
        }
        if (*p == '"' && p[1] == '"') {
          if (n + 1 < MAX_FIELD) f[n++] = '"';
          p += 2;
        } else if (*p == '"') {
          p++;
          break;
        } else {
          if (n + 1 < MAX_FIELD) f[n++] = *p;
          p++;
        }
      }
      if (*p && *p != ',' && *p != '\n' && *p != '\r') {
        *why = "text after a closing quote";
        return -1;
      }
    } else {
      while (*p && *p != ',' && *p != '\n' && *p != '\r') {
        if (*p == '"') {
          *why = "a quote inside an unquoted field";
          return -1;
        }
        if (n + 1 < MAX_FIELD) f[n++] = *p;
        p++;
      }
    }
    if (n + 1 >= MAX_FIELD) {
      *why = "a field is longer than 4095 bytes";
      return -1;
    }
    f[n] = '\0';
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p == '\r') p++;
    if (*p == '\n') p++;
    break;
  }
  *pp = p;
  return nf;
}

static void put_utf8(char *f, size_t *n, unsigned cp) {
  if (*n + 5 >= MAX_FIELD) return;
  if (cp < 0x80) f[(*n)++] = (char)cp;
  else if (cp < 0x800) {
    f[(*n)++] = (char)(0xC0 | (cp >> 6));
    f[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    f[(*n)++] = (char)(0xE0 | (cp >> 12));
    f[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    f[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    f[(*n)++] = (char)(0xF0 | (cp >> 18));
    f[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    f[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    f[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *p, unsigned *v) {
  *v = 0;
  for (int k = 0; k < 4; k++) {
    int c = (unsigned char)p[k], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    *v = *v * 16 + (unsigned)d;
  }
  return 0;
}

/* A JSON string at *pp (after the opening quote) into f. */
static int json_string(const char **pp, char *f, const char **why) {
  const char *p = *pp;
  size_t n = 0;
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if (!c || c == '\n') {
      *why = "a string is not closed";
      return -1;
    }
    if (c < 0x20) {
      *why = "a control character inside a string";
      return -1;
    }
    if (c == '"') {
      p++;
      break;
    }
    if (c == '\\') {
      char e = p[1];
      unsigned cp;
      p += 2;
      switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
          if (hex4(p, &cp)) {
            *why = "a bad \\u escape";
            return -1;
          }
          p += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
            unsigned lo;
            if (hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              p += 6;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
          break;
        default: *why = "a bad escape in a string"; return -1;
      }
      if (cp == 0) {
        *why = "a NUL character inside a string";
        return -1;
      }
      put_utf8(f, &n, cp);
      continue;
    }
    if (n + 1 < MAX_FIELD) f[n++] = (char)c;
    p++;
  }
  if (n + 5 >= MAX_FIELD) {
    *why = "a string is longer than 4090 bytes";
    return -1;
  }
  f[n] = '\0';
  *pp = p;
  return 0;
}

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r') p++;
  return p;
}

/* One JSONL line: a flat object of strings (numbers allowed for series,
 * null for absent).  Fills vals[col] and has[col]. */
static int json_record(const char *line, char vals[][MAX_FIELD], int has[NCOLS], const char **why,
                       char *badkey, size_t badsize) {
  const char *p = skip_ws(line);
  if (*p != '{') {
    *why = "a line is not a JSON object";
    return -1;
  }
  p = skip_ws(p + 1);
  if (*p == '}') goto end;
  for (;;) {
    char key[MAX_FIELD];
    if (*p != '"') {
      *why = "a member name is not a string";
      return -1;
    }
    p++;
    if (json_string(&p, key, why)) return -1;
    p = skip_ws(p);
    if (*p != ':') {
      *why = "':' missing after a member name";
      return -1;
    }
    p = skip_ws(p + 1);
    int c = col_of(key);
    if (c < 0) {
      snprintf(badkey, badsize, "%.200s", key);
      *why = "unknown member";
      return -1;
    }
    if (has[c]) {
      *why = "a member appears twice";
      return -1;
    }
    if (*p == '"') {
      p++;
      if (json_string(&p, vals[c], why)) return -1;
      has[c] = 1;
    } else if (strncmp(p, "null", 4) == 0) {
      p += 4;
    } else if (c == COL_SERIES && (*p == '-' || isdigit((unsigned char)*p))) {
      size_t n = 0;
      while ((*p == '-' || isdigit((unsigned char)*p)) && n + 1 < 32) vals[c][n++] = *p++;
      vals[c][n] = '\0';
      has[c] = 1;
    } else {
      *why = "values must be strings (series may be a number)";
      return -1;
    }
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') break;
    *why = "',' or '}' expected";
    return -1;
  }
end:
  p = skip_ws(p + 1);
  if (*p) {
    *why = "text after the object";
    return -1;
  }
  return 0;
}

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    dp_cli_fail("%s: cannot open the manifest: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    if (cap >= MAX_MANIFEST_BYTES) {
      free(buf);
      buf = NULL;
      fclose(f);
      dp_cli_fail("%s: a manifest is at most 256 MiB", path);
      return NULL;
    }
    cap *= 2;
    char *nb = realloc(buf, cap + 1);
    if (!nb) free(buf);
    buf = nb;
  }
  int err = ferror(f);
  fclose(f);
  if (!buf) {
    oom();
    return NULL;
  }
  if (err || memchr(buf, '\0', n)) {
    free(buf);
    dp_cli_fail("%s: %s", path, err ? "cannot read the manifest" : "the manifest is not a text file");
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* A relative path from the manifest is taken from the manifest's folder. */
static char *resolve(const char *dir, const char *path) {
  if (path[0] == '/' || !dir[0]) return strdup(path);
  size_t n = strlen(dir) + strlen(path) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", dir, path);
  return s;
}

static int add_row(batch_plan *p, const char *dir, char vals[][MAX_FIELD], const int has[NCOLS],
                   const char *ext) {
  batch_item *it = add_item(p);
  if (!it) return oom();
  const char *why = NULL;
  if (!(it->input = resolve(dir, vals[COL_INPUT]))) return oom();
  if (has[COL_SERIES] && vals[COL_SERIES][0]) {
    long v;
    if (dp_cli_parse_int(vals[COL_SERIES], -2147483647L, 2147483647L, &v)) why = "series is not an integer";
    if (!(it->series = strdup(vals[COL_SERIES]))) return oom();
  }
  if (has[COL_LABEL] && vals[COL_LABEL][0] &&
      !(it->label = strcmp(vals[COL_LABEL], "auto") ? resolve(dir, vals[COL_LABEL]) : strdup("auto")))
    return oom();
  if (has[COL_OUTPUT] && vals[COL_OUTPUT][0]) {
    if (!(it->output = with_ext(vals[COL_OUTPUT], ext))) return oom();
  } else {
    char stem[512];
    stem_of(vals[COL_INPUT], stem, sizeof stem);
    if (!(it->output = with_ext(stem, ext))) return oom();
  }
  if (!why) why = batch_check_relative(it->output);
  if (it->label) {
    if (has[COL_LABEL_OUTPUT] && vals[COL_LABEL_OUTPUT][0])
      it->label_output = with_ext(vals[COL_LABEL_OUTPUT], ext);
    else
      it->label_output = label_name_for(it->output);
    if (!it->label_output) return oom();
    const char *lw = batch_check_relative(it->label_output);
    if (!why && lw) why = lw;
    if (!why && same_output(it->output, it->label_output)) why = "output and label_output name one file";
  } else if (has[COL_LABEL_OUTPUT] && vals[COL_LABEL_OUTPUT][0] && !why) {
    why = "label_output without a label";
  }
  if (why) {
    char msg[1400];
    snprintf(msg, sizeof msg, "manifest item %d (output '%s'): %s", it->index + 1, it->output, why);
    if (!(it->error = strdup(msg))) return oom();
  }
  return 0;
}

int batch_plan_manifest(batch_plan *p, const char *path, const char *ext) {
  size_t len = 0;
  char *text = read_text(path, &len);
  if (!text) return DP_EXIT_ERROR;
  char dir[4096] = "";
  const char *slash = strrchr(path, '/');
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path == 0 ? 1 : slash - path), path);
  int jsonl = ends_with(path, ".jsonl") || ends_with(path, ".ndjson");
  static char vals[NCOLS][MAX_FIELD];
  static char fields[64][MAX_FIELD];
  int rc = 0, line = 0;
  const char *why = NULL;
  const char *q = text;
  if (len >= 3 && memcmp(q, "\xEF\xBB\xBF", 3) == 0) q += 3; /* a byte-order mark */
  if (jsonl) {
    while (*q && !rc) {
      line++;
      const char *e = strchr(q, '\n');
      size_t n = e ? (size_t)(e - q) : strlen(q);
      char *l = malloc(n + 1);
      if (!l) return free(text), oom();
      memcpy(l, q, n);
      l[n] = '\0';
      q += n + (e ? 1 : 0);
      int has[NCOLS] = {0};
      char badkey[256] = "";
      const char *t = skip_ws(l);
      if (*t) {
        if (json_record(l, vals, has, &why, badkey, sizeof badkey))
          rc = dp_cli_fail("%s line %d: %s%s%s", path, line, why, badkey[0] ? ": " : "", badkey);
        else if (!has[COL_INPUT] || !vals[COL_INPUT][0])
          rc = dp_cli_fail("%s line %d: \"input\" is missing", path, line);
        else
          rc = add_row(p, dir, vals, has, ext);
      }
      free(l);
    }
  } else {
    int map[64], nhead = csv_record(&q, fields, 64, &why);
    line = 1;
    if (nhead <= 0) rc = dp_cli_fail("%s: %s", path, nhead < 0 ? why : "the manifest is empty");
    int seen[NCOLS] = {0};
    for (int c = 0; !rc && c < nhead; c++) {
      char *h = fields[c];
      while (*h == ' ') h++;
      size_t hn = strlen(h);
      while (hn > 0 && h[hn - 1] == ' ') h[--hn] = '\0';
      map[c] = col_of(h);
      if (map[c] < 0)
        rc = dp_cli_fail("%s: unknown column '%s' (columns: input, output, label, label_output, series)", path, h);
      else if (seen[map[c]]++)
        rc = dp_cli_fail("%s: column '%s' appears twice", path, h);
    }
    if (!rc && !seen[COL_INPUT]) rc = dp_cli_fail("%s: the header has no 'input' column", path);
    while (!rc) {
      line++;
      int nf = csv_record(&q, fields, 64, &why);
      if (nf == 0) break;
      if (nf < 0) {
        rc = dp_cli_fail("%s line %d: %s", path, line, why);
        break;
      }
      if (nf == 1 && !fields[0][0]) continue; /* a blank line */
      if (nf != nhead) {
        rc = dp_cli_fail("%s line %d: %d fields, the header has %d", path, line, nf, nhead);
        break;
      }
      int has[NCOLS] = {0};
      for (int c = 0; c < nf; c++) {
        snprintf(vals[map[c]], MAX_FIELD, "%s", fields[c]);
        has[map[c]] = 1;
      }
      if (!vals[COL_INPUT][0]) rc = dp_cli_fail("%s line %d: the input is empty", path, line);
      else rc = add_row(p, dir, vals, has, ext);
    }
  }
  free(text);
  /* two items writing one file is a manifest error, found before any work */
  for (int i = 0; !rc && i < p->n; i++) {
    const batch_item *it = &p->items[i];
    if (taken(p, i, it->output) || (it->label_output && taken(p, i, it->label_output)))
      rc = dp_cli_fail("%s: item %d writes %s, which an earlier item writes too", path, i + 1,
                       taken(p, i, it->output) ? it->output : it->label_output);
  }
  if (!rc && p->n == 0) rc = dp_cli_fail("%s: the manifest lists no input", path);
  return rc;
}
