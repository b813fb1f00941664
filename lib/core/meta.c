/* Volume metadata: an ordered list of key/value pairs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meta.h"

typedef struct {
  char *key;
  char *value;
  dp_meta_type type;
} entry;

struct dp_meta {
  entry *e;
  size_t n, cap;
};

void dp__meta_free(dp_meta *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    free(m->e[i].key);
    free(m->e[i].value);
  }
  free(m->e);
  free(m);
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static entry *find(const dp_meta *m, const char *key) {
  if (!m) return NULL;
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->e[i].key, key) == 0) return &m->e[i];
  return NULL;
}

static dp_status set(dp_volume *v, const char *key, const char *value, dp_meta_type type) {
  if (!v || !key || !*key || !value) return dp__error(DP_EINVAL, "metadata: empty key or value");
  char *val = dup_str(value);
  if (!val) return dp__error(DP_ENOMEM, "metadata: out of memory");
  entry *e = find(v->meta, key);
  if (e) {
    free(e->value);
    e->value = val;
    e->type = type;
    return DP_OK;
  }
  if (!v->meta && !(v->meta = calloc(1, sizeof *v->meta))) {
    free(val);
    return dp__error(DP_ENOMEM, "metadata: out of memory");
  }
  dp_meta *m = v->meta;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    entry *ne = realloc(m->e, cap * sizeof *ne);
    if (!ne) {
      free(val);
      return dp__error(DP_ENOMEM, "metadata: out of memory");
    }
    m->e = ne;
    m->cap = cap;
  }
  char *k = dup_str(key);
  if (!k) {
    free(val);
    return dp__error(DP_ENOMEM, "metadata: out of memory");
  }
  m->e[m->n++] = (entry){k, val, type};
  return DP_OK;
}

dp_status dp_volume_meta_set_str(dp_volume *v, const char *key, const char *value) {
  return set(v, key, value, DP_META_STRING);
}

dp_status dp_volume_meta_set_num(dp_volume *v, const char *key, double value) {
  char buf[64];
  if (isfinite(value))
    snprintf(buf, sizeof buf, "%.17g", value);
  else
    snprintf(buf, sizeof buf, "null");
  return set(v, key, buf, isfinite(value) ? DP_META_NUMBER : DP_META_JSON);
}

/* Cheap structural check: brackets balance outside strings and the text starts
 * like a JSON value.  Full validation is the caller's responsibility. */
static int json_plausible(const char *s) {
  int depth = 0, in_str = 0;
  while (*s == ' ' || *s == '\n' || *s == '\t') s++;
  if (!*s) return 0;
  for (; *s; s++) {
    if (in_str) {
      if (*s == '\\' && s[1]) s++;
      else if (*s == '"') in_str = 0;
      continue;
    }
    if (*s == '"') in_str = 1;
    else if (*s == '[' || *s == '{') depth++;
    else if (*s == ']' || *s == '}') {
      if (--depth < 0) return 0;
    }
  }
  return depth == 0 && !in_str;
}

dp_status dp_volume_meta_set_json(dp_volume *v, const char *key, const char *json) {
  if (!json || !json_plausible(json))
    return dp__error(DP_EINVAL, "metadata '%s': value is not well-formed JSON", key ? key : "");
  return set(v, key, json, DP_META_JSON);
}

void dp_volume_meta_remove(dp_volume *v, const char *key) {
  if (!v || !v->meta || !key) return;
  dp_meta *m = v->meta;
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->e[i].key, key) != 0) continue;
    free(m->e[i].key);
    free(m->e[i].value);
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof *m->e);
    m->n--;
    return;
  }
}

const char *dp_volume_meta_get(const dp_volume *v, const char *key, dp_meta_type *type) {
  entry *e = (v && key) ? find(v->meta, key) : NULL;
  if (!e) return NULL;
  if (type) *type = e->type;
  return e->value;
}

size_t dp_volume_meta_count(const dp_volume *v) { return v && v->meta ? v->meta->n : 0; }

dp_status dp_volume_meta_at(const dp_volume *v, size_t i, const char **key, const char **value,
                            dp_meta_type *type) {
  if (i >= dp_volume_meta_count(v))
    return dp__error(DP_ERANGE, "metadata index %zu out of range", i);
  const entry *e = &v->meta->e[i];
  if (key) *key = e->key;
  if (value) *value = e->value;
  if (type) *type = e->type;
  return DP_OK;
}

dp_status dp__meta_copy(const dp_volume *from, dp_volume *to) {
  for (size_t i = 0; i < dp_volume_meta_count(from); i++) {
    const entry *e = &from->meta->e[i];
    dp_status s = set(to, e->key, e->value, e->type);
    if (s != DP_OK) return s;
  }
  return DP_OK;
}
