#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/json.h"

void dp__json_init(dp__json *j, int pretty) {
  memset(j, 0, sizeof *j);
  j->pretty = pretty;
}

void dp__json_free(dp__json *j) {
  free(j->buf);
  memset(j, 0, sizeof *j);
}

static void put(dp__json *j, const char *s, size_t n) {
  if (j->failed) return;
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 256;
    while (cap < j->len + n + 1) cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b) {
      j->failed = 1;
      return;
    }
    j->buf = b;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
}

static void puts_(dp__json *j, const char *s) { put(j, s, strlen(s)); }

static void newline(dp__json *j) {
  if (!j->pretty) return;
  put(j, "\n", 1);
  for (int i = 0; i < j->depth; i++) put(j, "  ", 2);
}

/* Length of the valid UTF-8 sequence at s, or 0 if invalid. */
static int utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0) return 0;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
  for (int i = 1; i < n; i++) cp = (cp << 6) | (s[i] & 0x3F);
  static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

static void put_string(dp__json *j, const char *s) {
  put(j, "\"", 1);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      put(j, esc, 2);
      p++;
    } else if (c == '\n' || c == '\t' || c == '\r') {
      esc[0] = '\\';
      esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
      put(j, esc, 2);
      p++;
    } else if (c < 0x20 || c == 0x7F) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      puts_(j, esc);
      p++;
    } else {
      int n = utf8_len(p);
      if (n == 0) {
        puts_(j, "\\ufffd");
        p++;
      } else {
        put(j, (const char *)p, (size_t)n);
        p += n;
      }
    }
  }
  put(j, "\"", 1);
}

/* Comma, indentation and "key": for the next member. */
static void member(dp__json *j, const char *key) {
  if (j->depth > 0 && j->count[j->depth - 1]++ > 0) put(j, ",", 1);
  if (j->depth > 0) newline(j);
  if (key) {
    put_string(j, key);
    put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
  }
}

static void open_(dp__json *j, const char *key, const char *br) {
  member(j, key);
  puts_(j, br);
  if (j->depth >= DP__JSON_MAX_DEPTH) {
    j->failed = 1;
    return;
  }
  j->count[j->depth++] = 0;
}

static void close_(dp__json *j, const char *br) {
  if (j->depth <= 0) {
    j->failed = 2;
    return;
  }
  int had = j->count[--j->depth];
  if (had) newline(j);
  puts_(j, br);
}

void dp__json_begin_object(dp__json *j, const char *key) { open_(j, key, "{"); }
void dp__json_end_object(dp__json *j) { close_(j, "}"); }
void dp__json_begin_array(dp__json *j, const char *key) { open_(j, key, "["); }
void dp__json_end_array(dp__json *j) { close_(j, "]"); }

void dp__json_str(dp__json *j, const char *key, const char *value) {
  member(j, key);
  if (value)
    put_string(j, value);
  else
    puts_(j, "null");
}

void dp__format_double(char *buf, size_t size, double x) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) return;
  }
}

void dp__json_num(dp__json *j, const char *key, double value) {
  member(j, key);
  if (!isfinite(value)) {
    puts_(j, "null");
    return;
  }
  char b[40];
  dp__format_double(b, sizeof b, value);
  puts_(j, b);
}

void dp__json_int(dp__json *j, const char *key, int64_t value) {
  char b[32];
  member(j, key);
  snprintf(b, sizeof b, "%lld", (long long)value);
  puts_(j, b);
}

void dp__json_bool(dp__json *j, const char *key, int value) {
  member(j, key);
  puts_(j, value ? "true" : "false");
}

void dp__json_null(dp__json *j, const char *key) {
  member(j, key);
  puts_(j, "null");
}

void dp__json_raw(dp__json *j, const char *key, const char *json) {
  member(j, key);
  puts_(j, json);
}

void dp__json_mat4(dp__json *j, const char *key, const dp_mat4 *m) {
  int pretty = j->pretty;
  dp__json_begin_array(j, key);
  for (int r = 0; r < 4; r++) {
    dp__json_begin_array(j, NULL);
    j->pretty = 0; /* one row per line */
    for (int c = 0; c < 4; c++) dp__json_num(j, NULL, m->m[r][c]);
    dp__json_end_array(j);
    j->pretty = pretty;
  }
  dp__json_end_array(j);
}

void dp__json_meta(dp__json *j, const dp_volume *v) {
  for (size_t i = 0; i < dp_volume_meta_count(v); i++) {
    const char *k, *val;
    dp_meta_type t;
    dp_volume_meta_at(v, i, &k, &val, &t);
    if (t == DP_META_STRING)
      dp__json_str(j, k, val);
    else
      dp__json_raw(j, k, val);
  }
}

dp_status dp__json_finish(dp__json *j, char **out, size_t *len) {
  *out = NULL;
  if (j->depth != 0 || j->failed == 2) {
    dp__json_free(j);
    return dp__error(DP_EINVAL, "json: unbalanced objects or arrays");
  }
  put(j, "\n", 1);
  if (j->failed) {
    dp__json_free(j);
    return dp__error(DP_ENOMEM, "json: out of memory");
  }
  *out = j->buf;
  if (len) *len = j->len;
  memset(j, 0, sizeof *j);
  return DP_OK;
}

void dp__json_vec3(dp__json *j, const char *key, const double v[3]) {
  dp__json_begin_array(j, key);
  for (int d = 0; d < 3; d++) dp__json_num(j, NULL, v[d]);
  dp__json_end_array(j);
}

void dp__json_ivec3(dp__json *j, const char *key, const int64_t v[3]) {
  dp__json_begin_array(j, key);
  for (int d = 0; d < 3; d++) dp__json_int(j, NULL, v[d]);
  dp__json_end_array(j);
}
