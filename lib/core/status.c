#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dcmprep/status.h"
#include "internal.h"

#define DP__ERRBUF 2048

static _Thread_local char errbuf[DP__ERRBUF];

/* Set once at start-up by the application (documented in status.h). */
static dp_log_fn log_fn;
static void *log_user;

const char *dp_status_str(dp_status s) {
  switch (s) {
#define DP__STATUS_STR(name, value, desc) \
  case DP_##name:                         \
    return desc;
    DP_STATUS_MAP(DP__STATUS_STR)
#undef DP__STATUS_STR
  }
  return "unknown status";
}

const char *dp_status_name(dp_status s) {
  switch (s) {
#define DP__STATUS_NAME(name, value, desc) \
  case DP_##name:                          \
    return "DP_" #name;
    DP_STATUS_MAP(DP__STATUS_NAME)
#undef DP__STATUS_NAME
  }
  return "DP_UNKNOWN";
}

const char *dp_last_error(void) { return errbuf; }

void dp_clear_error(void) { errbuf[0] = '\0'; }

dp_status dp__error(dp_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return s;
}

dp_status dp__error_prefix(dp_status s, const char *prefix) {
  char tmp[DP__ERRBUF];
  const char *msg = errbuf[0] ? errbuf : dp_status_str(s);
  size_t np = strlen(prefix);
  if (np > DP__ERRBUF / 2) np = DP__ERRBUF / 2;
  memcpy(tmp, prefix, np);
  memcpy(tmp + np, ": ", 2);
  size_t room = DP__ERRBUF - np - 3, nm = strlen(msg);
  if (nm > room) nm = room;
  memcpy(tmp + np + 2, msg, nm);
  tmp[np + 2 + nm] = '\0';
  memcpy(errbuf, tmp, np + 3 + nm);
  return s;
}

void dp_set_log_callback(dp_log_fn fn, void *user) {
  log_fn = fn;
  log_user = user;
}

void dp__log(dp_log_level level, const char *fmt, ...) {
  if (!log_fn) return;
  char msg[DP__ERRBUF];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_fn(level, msg, log_user);
}

int dp__mul_overflow(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 1;
  *out = a * b;
  return 0;
}
