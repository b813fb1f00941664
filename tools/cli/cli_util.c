#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int dp_cli_fail(const char *fmt, ...) {
  va_list ap;
  fputs("dcmprep: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return DP_EXIT_ERROR;
}

int dp_cli_fail_status(dp_status s, const char *what) {
  const char *msg = dp_last_error();
  if (!msg || !*msg) msg = dp_status_str(s);
  if (what && *what && strstr(msg, what) != msg)
    return dp_cli_fail("%s: %s", what, msg);
  return dp_cli_fail("%s", msg);
}

int dp_cli_usage_error(const dp_cli_command *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "dcmprep %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'dcmprep help %s'.\n", cmd->name);
  return DP_EXIT_USAGE;
}

int dp_cli_parse_int(const char *s, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int dp_cli_take_limit(const dp_cli_command *cmd, const char *name, const char *arg) {
  int64_t v = 0;
  int mem = strcmp(name, "max-memory") == 0;
  if (dp_cli_parse_size(arg, &v))
    return dp_cli_usage_error(cmd, "--%s needs %s, not '%s'", name, mem ? "a size such as 4G" : "a positive count", arg);
  dp_limits l = dp_get_limits();
  if (mem) l.max_bytes = v;
  else l.max_voxels = v;
  dp_set_limits(&l);
  return 0;
}

int dp_cli_parse_size(const char *s, int64_t *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !(v > 0)) return -1;
  double m = 1;
  if (*end == 'k' || *end == 'K') m = 1024.0, end++;
  else if (*end == 'm' || *end == 'M') m = 1024.0 * 1024, end++;
  else if (*end == 'g' || *end == 'G') m = 1024.0 * 1024 * 1024, end++;
  else if (*end == 't' || *end == 'T') m = 1024.0 * 1024 * 1024 * 1024, end++;
  if ((*end == 'i' || *end == 'I') && m > 1) end++;
  if (*end == 'b' || *end == 'B') end++;
  if (*end || v * m > 9.0e18 || v * m < 1) return -1;
  *out = (int64_t)(v * m);
  return 0;
}

int dp_cli_is_nifti_name(const char *path) { return dp_is_nifti_name(path); }

static void log_to_stderr(dp_log_level level, const char *msg, void *user) {
  (void)user;
  if (level >= DP_LOG_WARN) fprintf(stderr, "dcmprep: warning: %s\n", msg);
}

void dp_cli_setup_logging(int quiet) {
  if (!quiet) dp_set_log_callback(log_to_stderr, NULL);
}
