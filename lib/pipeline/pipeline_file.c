/* Pipelines as data: the words of the step table in order, parsed and kept
 * as canonical text (the pipeline file format, see pipeline.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/pipeline.h"
#include "io/atomic_file.h"

enum { MAX_FILE_BYTES = 1 << 20 };

static const char header[] = "# dcmprep pipeline: one step or setting per line, in order\n";

struct dp_pipeline {
  dp_step *steps;
  int nsteps, cap;
  dp_pipeline_settings settings;
  char *text;
  size_t len, text_cap;
};

dp_status dp_pipeline_new(dp_pipeline **out) {
  if (!out) return dp__error(DP_EINVAL, "pipeline: no output pointer");
  dp_pipeline *p = calloc(1, sizeof *p);
  size_t n = sizeof header;
  char *t = malloc(n);
  if (!p || !t) {
    free(p);
    free(t);
    return dp__error(DP_ENOMEM, "pipeline: out of memory");
  }
  memcpy(t, header, n);
  p->text = t;
  p->len = n - 1;
  p->text_cap = n;
  p->settings = (dp_pipeline_settings)DP_PIPELINE_SETTINGS_INIT;
  *out = p;
  return DP_OK;
}

void dp_pipeline_free(dp_pipeline *p) {
  if (!p) return;
  free(p->steps);
  free(p->text);
  free(p);
}

static const dp_step_desc *find_word(const char *name) {
  for (const dp_step_desc *d = dp_step_table(); d->name; d++)
    if (strcmp(d->name, name) == 0) return d;
  return NULL;
}

static dp_status append_text(dp_pipeline *p, const char *name, const char *arg) {
  size_t need = p->len + strlen(name) + (arg ? strlen(arg) : 0) + 5;
  if (need > p->text_cap) {
    size_t cap = p->text_cap * 2 > need ? p->text_cap * 2 : need;
    char *t = realloc(p->text, cap);
    if (!t) return dp__error(DP_ENOMEM, "pipeline: out of memory");
    p->text = t;
    p->text_cap = cap;
  }
  p->len += (size_t)sprintf(p->text + p->len, arg ? "--%s %s\n" : "--%s\n", name, arg ? arg : "");
  return DP_OK;
}

dp_status dp_pipeline_add(dp_pipeline *p, const char *name, const char *arg) {
  if (!p || !name) return dp__error(DP_EINVAL, "pipeline: no pipeline or word");
  const dp_step_desc *d = find_word(name);
  if (!d) return dp__error(DP_EINVAL, "unknown step or setting '%s'", name);
  if (arg && !*arg) arg = NULL;
  if (d->arg == 1 && !arg) return dp__error(DP_EINVAL, "--%s needs a value", name);
  if (d->arg == 0 && arg) return dp__error(DP_EINVAL, "--%s takes no value (got '%s')", name, arg);
  /* one line per word: a value cannot hold a line break */
  if (arg && strpbrk(arg, "\r\n")) return dp__error(DP_EINVAL, "--%s: the value holds a line break", name);
  dp_step step;
  int is_step = 0;
  dp_pipeline_settings st = p->settings;
  dp_status s = dp_step_parse(name, arg, &step, &is_step, &st);
  if (s != DP_OK) return s;
  if (is_step && p->nsteps == p->cap) {
    int cap = p->cap ? 2 * p->cap : 16;
    dp_step *n = realloc(p->steps, (size_t)cap * sizeof *n);
    if (!n) return dp__error(DP_ENOMEM, "pipeline: out of memory");
    p->steps = n;
    p->cap = cap;
  }
  if ((s = append_text(p, name, arg)) != DP_OK) return s;
  if (is_step) p->steps[p->nsteps++] = step;
  else p->settings = st;
  return DP_OK;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

dp_status dp_pipeline_parse(dp_pipeline *p, const char *text, const char *origin) {
  if (!p || !text) return dp__error(DP_EINVAL, "pipeline: nothing to parse");
  if (!origin) origin = "pipeline";
  /* work on a copy: parse into a scratch pipeline, then swap, so that a bad
   * line leaves p unchanged */
  dp_pipeline *q = NULL;
  dp_status s = dp_pipeline_new(&q);
  if (s != DP_OK) return s;
  char *buf = strdup(text);
  char *t = malloc(p->len + 1);
  dp_step *steps = p->nsteps ? malloc((size_t)p->nsteps * sizeof *steps) : NULL;
  if (!buf || !t || (p->nsteps && !steps)) {
    free(buf);
    free(t);
    free(steps);
    dp_pipeline_free(q);
    return dp__error(DP_ENOMEM, "pipeline: out of memory");
  }
  /* q starts as a copy of p */
  memcpy(t, p->text, p->len + 1);
  free(q->text);
  q->text = t;
  q->len = p->len;
  q->text_cap = p->len + 1;
  if (p->nsteps) memcpy(steps, p->steps, (size_t)p->nsteps * sizeof *steps);
  q->steps = steps;
  q->nsteps = q->cap = p->nsteps;
  q->settings = p->settings;
  int lineno = 0;
  for (char *line = buf, *next; line && s == DP_OK; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    char *w = trim(line);
    if (!*w || *w == '#') continue;
    if (w[0] == '-' && w[1] == '-') w += 2;
    char *e = w;
    while (*e && *e != '=' && *e != ' ' && *e != '\t') e++;
    char *arg = NULL;
    if (*e) {
      *e = '\0';
      arg = trim(e + 1);
    }
    s = dp_pipeline_add(q, w, arg);
    if (s != DP_OK) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", dp_last_error());
      s = dp__error(s, "%s line %d: %s", origin, lineno, msg);
    }
  }
  free(buf);
  if (s == DP_OK) {
    dp_pipeline tmp = *p;
    *p = *q;
    *q = tmp;
  }
  dp_pipeline_free(q);
  return s;
}

dp_status dp_pipeline_load(dp_pipeline *p, const char *path) {
  if (!p || !path) return dp__error(DP_EINVAL, "pipeline: no file");
  FILE *f = fopen(path, "rb");
  if (!f) return dp__error(DP_EIO, "%s: cannot open: %s", path, strerror(errno));
  char *buf = malloc(MAX_FILE_BYTES + 1);
  if (!buf) {
    fclose(f);
    return dp__error(DP_ENOMEM, "pipeline: out of memory");
  }
  size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
  int err = ferror(f);
  fclose(f);
  dp_status s = DP_OK;
  if (err) s = dp__error(DP_EIO, "%s: cannot read", path);
  else if (n > MAX_FILE_BYTES) s = dp__error(DP_ELIMIT, "%s: a pipeline file is at most 1 MiB", path);
  else if (memchr(buf, '\0', n)) s = dp__error(DP_EFORMAT, "%s: not a text file", path);
  if (s == DP_OK) {
    buf[n] = '\0';
    s = dp_pipeline_parse(p, buf, path);
  }
  free(buf);
  return s;
}

const dp_step *dp_pipeline_steps(const dp_pipeline *p, int *nsteps) {
  if (nsteps) *nsteps = p ? p->nsteps : 0;
  return p ? p->steps : NULL;
}

dp_pipeline_settings *dp_pipeline_settings_of(dp_pipeline *p) { return p ? &p->settings : NULL; }

const char *dp_pipeline_text(const dp_pipeline *p) { return p ? p->text : ""; }

dp_status dp_pipeline_save(const dp_pipeline *p, const char *path) {
  if (!p || !path) return dp__error(DP_EINVAL, "pipeline: nothing to save");
  return dp__write_file_atomic(path, p->text, p->len);
}
