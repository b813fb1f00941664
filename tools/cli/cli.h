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

/* Labels from RTSTRUCT/SEG (cli_labels.c): --roi, --labels,
 * --contour-tolerance, --seg-threshold. */
typedef struct dp_cli_label_opts {
  const char *rois;       /* --roi NAME,... (NULL: all) */
  dp_label_layout layout; /* --labels multi|onehot|separate */
  int off;                /* --labels none */
  double tolerance;       /* --contour-tolerance (slices) */
  double threshold;       /* --seg-threshold */
} dp_cli_label_opts;
#define DP_CLI_LABEL_OPTS_INIT {NULL, DP_LABELS_MULTI, 0, 0.5, 0.5}

/* Help lines for the label options (layout: with --labels). */
#define DP_CLI_LABEL_HELP                                                                   \
  "  --roi NAME,...        RTSTRUCT/SEG labels: these ROIs or segments, in this\n"          \
  "                        order (value = position); #N names number N\n"                   \
  "  --contour-tolerance T RTSTRUCT: draw a contour on the nearest slice when it\n"         \
  "                        is within T slices of it (0 < T <= 0.5, default 0.5)\n"          \
  "  --seg-threshold F     FRACTIONAL SEG: voxel in when value/max >= F (0.5)\n"
#define DP_CLI_LABEL_LAYOUT_HELP                                                            \
  "  --labels LAYOUT       multi (default): NAME_label, value = ROI position,\n"           \
  "                        the later ROI wins overlaps (reported); onehot: a 4-D\n"        \
  "                        u8 volume, a channel per ROI; separate: a 0/1 file per\n"       \
  "                        ROI (NAME_label_ROI); none: no labels\n"

/* Inside a getopt loop, for the long option `name` with `arg`: takes it when
 * it is a label option (layout only when allow_layout), returning 1 and
 * setting *rc to the usage error when the value is bad; 0 otherwise. */
int dp_cli_take_label_option(const dp_cli_command *cmd, const char *name, const char *arg, int allow_layout,
                             dp_cli_label_opts *o, int *rc);

/* dp_label_rasterize with the CLI's options. */
dp_status dp_cli_rasterize(const dp_label_object *obj, const dp_volume *img, const dp_cli_label_opts *o,
                           int threads, dp_volume ***out, int *nout);

/* prep, augment, batch: the label volume for img from `label`: a NIfTI file
 * (read as it is), an RTSTRUCT or SEG file, a folder holding one label object
 * for img's series, or "auto" (the label object of image_input, a DICOM
 * folder, that labels img's series).  RTSTRUCT/SEG are drawn on img's grid
 * (multi layout).  The caller frees *out. */
dp_status dp_cli_load_label(const char *label, const char *image_input, const dp_volume *img,
                            const dp_cli_label_opts *o, int threads, dp_volume **out);

/* 1 when label names a label input that is not a NIfTI file (RTSTRUCT, SEG,
 * folder or "auto"). */
int dp_cli_is_dicom_label(const char *label);

typedef struct dp_cli_dicom_opts {
  const char *output, *name, *series;
  int all, gz, level, nifti2, no_sidecar, quiet;
  int durable;   /* --fsync */
  int overwrite; /* rewrite up-to-date outputs; replace any file at the name */
  dp_dicom_load_opts load;
  dp_cli_label_opts labels;
} dp_cli_dicom_opts;

/* convert's labels (convert_labels.c): created per run, told of every image
 * written, then finished (SEGs without an image on their own grid, notes
 * for the rest).  Failures are printed and counted. */
typedef struct dp_cli_label_run dp_cli_label_run;
dp_cli_label_run *dp_cli_label_run_new(const dp_dicom_set *set);
int dp_cli_label_run_image(dp_cli_label_run *r, int series, const dp_volume *img, const char *path,
                           const dp_cli_dicom_opts *o);
/* Adds what it wrote to *written and what failed to *failed, then frees r. */
void dp_cli_label_run_finish(dp_cli_label_run *r, const dp_cli_dicom_opts *o, int *written, int *failed);
/* For reruns (convert_slot.h): adds to h the contents of the label objects
 * that label series i and the label options (nothing with --labels none). */
struct dp_cli_hash;
dp_status dp_cli_label_run_hash(const dp_cli_label_run *r, int series, const dp_cli_dicom_opts *o,
                                struct dp_cli_hash *h);
/* 1 when every label object of series i has an output beside the image at
 * candidate name cand (or there are none, or --labels none). */
int dp_cli_label_run_present(const dp_cli_label_run *r, int series, const dp_cli_dicom_opts *o, const char *cand);

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
/* The sidecar of the NIfTI file at path, written from v's metadata; on
 * failure the NIfTI file is removed (never one without the other). */
dp_status dp_cli_write_sidecar(const dp_volume *v, const char *path, int durable);
/* The same, with scl_slope/scl_inter in the header (0, 0: none). */
dp_status dp_cli_write_volume_scaled(const dp_volume *v, const char *path, int sidecar, int threads, int durable,
                                     double scl_slope, double scl_inter);

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
