/* A small streaming JSON writer (internal).  Output is always valid JSON:
 * strings are escaped, invalid UTF-8 becomes U+FFFD, non-finite numbers become
 * null.  Allocation failures are remembered and reported by dp__json_finish. */
#ifndef DCMPREP_IO_JSON_H
#define DCMPREP_IO_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "dcmprep/status.h"
#include "dcmprep/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DP__JSON_MAX_DEPTH = 32 };

typedef struct dp__json {
  char *buf;
  size_t len, cap;
  int depth;
  int count[DP__JSON_MAX_DEPTH]; /* members written at each depth */
  int pretty;
  int failed;
} dp__json;

void dp__json_init(dp__json *j, int pretty);
void dp__json_free(dp__json *j);

/* `key` names the member inside an object; pass NULL inside arrays and at the
 * top level. */
void dp__json_begin_object(dp__json *j, const char *key);
void dp__json_end_object(dp__json *j);
void dp__json_begin_array(dp__json *j, const char *key);
void dp__json_end_array(dp__json *j);
void dp__json_str(dp__json *j, const char *key, const char *value); /* NULL -> null */
void dp__json_num(dp__json *j, const char *key, double value);
void dp__json_int(dp__json *j, const char *key, int64_t value);
void dp__json_bool(dp__json *j, const char *key, int value);
void dp__json_null(dp__json *j, const char *key);
/* Writes pre-formatted JSON text verbatim. */
void dp__json_raw(dp__json *j, const char *key, const char *json);
/* Writes a 4x4 matrix as an array of four row arrays. */
void dp__json_mat4(dp__json *j, const char *key, const dp_mat4 *m);
/* Writes three numbers (or three integers) as an array. */
void dp__json_vec3(dp__json *j, const char *key, const double v[3]);
void dp__json_ivec3(dp__json *j, const char *key, const int64_t v[3]);
/* Writes every metadata entry of v as members of the current object. */
void dp__json_meta(dp__json *j, const dp_volume *v);

/* Shortest "%.Ng" text that reads back as exactly x (finite x). */
void dp__format_double(char *buf, size_t size, double x);

/* Ends the document (adds a newline) and hands over the text, which the caller
 * frees; the writer is reset.  DP_ENOMEM if any step failed to allocate, or
 * DP_EINVAL if objects/arrays are unbalanced. */
dp_status dp__json_finish(dp__json *j, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
