/* Shared pieces of the dcmprep command-line tool. */
#ifndef DCMPREP_TOOLS_CLI_H
#define DCMPREP_TOOLS_CLI_H

#include <stdio.h>
#include "dcmprep/dcmprep.h"

/* Exit codes (documented in dcmprep(1)). */
enum { DP_EXIT_OK = 0, DP_EXIT_ERROR = 1, DP_EXIT_USAGE = 2 };

typedef struct dp_cli_command {
  const char *name;
  const char *summary;  /* one line for the command list */
  const char *usage;    /* full help text for `dcmprep help NAME` */
  int (*run)(int argc, char **argv);
  void (*help)(FILE *f); /* prints the help when usage is NULL (made from tables) */
} dp_cli_command;

extern const dp_cli_command dp_cli_info;
extern const dp_cli_command dp_cli_convert;
extern const dp_cli_command dp_cli_scan;
extern const dp_cli_command dp_cli_prep;
extern const dp_cli_command dp_cli_preview;
extern const dp_cli_command dp_cli_stats;
extern const dp_cli_command dp_cli_augment;

typedef struct dp_cli_dicom_opts {
  const char *output, *name, *series;
  int all, gz, level, nifti2, no_sidecar, quiet;
  int durable; /* --fsync */
  dp_dicom_load_opts load;
} dp_cli_dicom_opts;

/* Prints every step and setting of the pipeline table (dp_step_table) as
 * help lines. */
void dp_cli_print_steps(FILE *f);

/* getopt_long entries for the pipeline table, with val = base + index, in an
 * array with room for `extra` more entries and the terminator (zeroed);
 * *ntab receives the table's size.  NULL when out of memory; free() it. */
struct option;
struct option *dp_cli_step_options(int base, int extra, int *ntab);

/* Inside a getopt loop: when c is one of the step table's options (base ..
 * base + ntab - 1), appends the word with optarg to p (a step or a setting)
 * and returns 1, setting *rc to the usage error when the value is bad;
 * returns 0 for any other option. */
int dp_cli_take_step(const dp_cli_command *cmd, int c, int base, int ntab, dp_pipeline *p, int *rc);

/* --pipeline FILE: appends the file's words to p.  Returns 0, or the exit
 * status after printing the error (1 unreadable, 2 a bad word). */
int dp_cli_take_pipeline_file(const dp_cli_command *cmd, dp_pipeline *p, const char *path);

/* Writes v as NIfTI at path (atomically) and, when sidecar, its JSON sidecar;
 * if the sidecar fails the NIfTI is removed. */
dp_status dp_cli_write_volume(const dp_volume *v, const char *path, int sidecar, int threads, int durable);

/* Removes a written NIfTI and its sidecar (when a later output failed). */
void dp_cli_remove_volume(const char *path);

/* Converts DICOM inputs into o->output (see `dcmprep help convert`). */
int dp_cli_convert_dicom(int npaths, char **paths, const dp_cli_dicom_opts *o);

/* Output name from a template: fields reduced to [A-Za-z0-9._-], never empty,
 * never "." or "..", at most size-1 chars. */
void dp_cli_series_name(const char *tmpl, const dp_series_info *si, char *out, size_t size);

/* A name reduced as the template's fields are: only [A-Za-z0-9._-], no
 * leading dot, dash or underscore; may come out empty. */
void dp_cli_clean_name(const char *in, char *out, size_t size);

extern const dp_cli_command dp_cli_batch;

/* Prints "dcmprep: <message>" on stderr; returns DP_EXIT_ERROR. */
int dp_cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints "dcmprep: <what>: <library message>" for a failed call; returns
 * DP_EXIT_ERROR. */
int dp_cli_fail_status(dp_status s, const char *what);

/* Prints "dcmprep <cmd>: <message>" and a hint to use --help on stderr;
 * returns DP_EXIT_USAGE. */
int dp_cli_usage_error(const dp_cli_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parses a whole decimal integer in [lo, hi]; returns 0 on success. */
int dp_cli_parse_int(const char *s, long lo, long hi, long *out);

/* Parses a positive size: a number with an optional suffix K, M, G, T
 * (powers of 1024; "KiB", "MB" and the like are read the same way), at
 * least 1.  Returns 0 on success. */
int dp_cli_parse_size(const char *s, int64_t *out);

/* --max-voxels N and --max-memory SIZE (name without "--"): parses arg
 * and sets the process-wide limit (dp_set_limits).  Returns 0, or the usage
 * error's exit status after printing it. */
int dp_cli_take_limit(const dp_cli_command *cmd, const char *name, const char *arg);

/* Help lines for the two limit options. */
#define DP_CLI_LIMITS_HELP                                                                  \
  "  --max-voxels N        refuse any volume of more than N voxels, before\n"              \
  "                        allocating it (suffix K, M, G: times 1024...)\n"               \
  "  --max-memory SIZE     refuse work that would hold more than SIZE bytes of\n"          \
  "                        volumes at once (suffix K, M, G: KiB, MiB, GiB)\n"

/* Non-zero when path names a NIfTI file by its suffix (.nii or .nii.gz). */
int dp_cli_is_nifti_name(const char *path);

/* Installs a log callback printing library warnings as "dcmprep: warning: ..."
 * unless quiet. */
void dp_cli_setup_logging(int quiet);

#endif
