/* Status codes and error reporting.
 *
 * Every fallible library function returns a dp_status: DP_OK (0) on success, a
 * negative code on failure.  On failure a human-readable message naming the file,
 * tag or value at fault is stored for the calling thread and can be read with
 * dp_last_error().  The library never prints and never exits.
 */
#ifndef DCMPREP_STATUS_H
#define DCMPREP_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, description): the single table of status codes. */
#define DP_STATUS_MAP(X)                                                       \
  X(OK, 0, "success")                                                          \
  X(EINVAL, -1, "invalid argument")                                            \
  X(ENOMEM, -2, "out of memory")                                               \
  X(EIO, -3, "input/output error")                                             \
  X(EFORMAT, -4, "malformed file")                                             \
  X(EUNSUPPORTED, -5, "unsupported feature")                                   \
  X(ERANGE, -6, "value out of range")                                          \
  X(EGEOMETRY, -7, "inconsistent geometry")                                    \
  X(ENOTFOUND, -8, "not found")                                                \
  X(ECODEC, -9, "codec unavailable or decoding failed")                        \
  X(ELIMIT, -10, "resource limit exceeded")                                    \
  X(EINTERNAL, -11, "internal error")

typedef enum dp_status {
#define DP__STATUS_ENUM(name, value, desc) DP_##name = value,
  DP_STATUS_MAP(DP__STATUS_ENUM)
#undef DP__STATUS_ENUM
} dp_status;

/* Short English description of a status ("out of memory").  Never NULL; unknown
 * codes give "unknown status".  The string is static. */
DP_API const char *dp_status_str(dp_status s);

/* Symbolic name of a status ("DP_ENOMEM").  Never NULL; static storage. */
DP_API const char *dp_status_name(dp_status s);

/* Detailed message of the last failure on the calling thread, e.g.
 * "scan.nii.gz: dim[1] = -4 is not a positive size".  Empty string when no
 * failure was recorded.  Valid until the next library call on this thread. */
DP_API const char *dp_last_error(void);

/* Clears the calling thread's last error message. */
DP_API void dp_clear_error(void);

/* Log levels passed to the log callback. */
typedef enum dp_log_level { DP_LOG_DEBUG = 0, DP_LOG_INFO = 1, DP_LOG_WARN = 2 } dp_log_level;

/* Log callback: receives warnings and notes the library would otherwise drop.
 * May be called from worker threads; must be thread-safe. */
typedef void (*dp_log_fn)(dp_log_level level, const char *message, void *user);

/* Installs (or, with fn == NULL, removes) the process-wide log callback.  Call it
 * once at start-up, before other threads use the library. */
DP_API void dp_set_log_callback(dp_log_fn fn, void *user);

/* Frees memory the library handed to the caller with "free with dp_free()"
 * (e.g. JSON text).  Accepts NULL. */
DP_API void dp_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
