/* dcmprep batch: the plan (items from inputs or a manifest) and the run. */
#ifndef DCMPREP_TOOLS_BATCH_H
#define DCMPREP_TOOLS_BATCH_H

#include "cli/cli.h"

typedef struct batch_item {
  int index;             /* position in the whole plan (shards, log) */
  char *input;           /* NIfTI file, or DICOM folder/file */
  char *series;          /* manifest: series number to take, or NULL */
  const dp_dicom_set *set; /* positional DICOM: the scan it came from */
  int set_index;         /* ... and its series there (-1: scan at run time) */
  char *label;           /* label: NIfTI, RTSTRUCT/SEG file or folder, "auto", or NULL */
  char *output;          /* relative to the output root, with extension */
  char *label_output;    /* relative, or NULL when no label */
  char *error;           /* a problem found while planning: the item fails */
} batch_item;

typedef struct batch_plan {
  batch_item *items;
  int n, cap;
  dp_dicom_set **sets; /* scans of positional DICOM inputs (owned) */
  int nsets;
} batch_plan;

/* Items from positional inputs: a NIfTI file is one item (output: its
 * name); a DICOM folder or file gives one item per volume series (output:
 * <input name>/<number>_<description>).  Clashing outputs get _2, _3...
 * label_auto: a DICOM series that an RTSTRUCT or SEG of its input labels
 * gets that label ("auto", output NAME_label).
 * Returns 0 or an exit status after printing the error. */
int batch_plan_inputs(batch_plan *p, int n, char **inputs, const char *ext, int threads, int label_auto);

/* Items from a CSV (header row naming input, output, label, label_output,
 * series) or, for a .jsonl/.ndjson name, one JSON object per line with those
 * members.  Relative input and label paths are taken from the manifest's
 * folder.  Returns 0 or an exit status after printing the error (syntax
 * errors, unknown columns, two items writing one file). */
int batch_plan_manifest(batch_plan *p, const char *path, const char *ext);

void batch_plan_free(batch_plan *p);

/* Checks that rel is a relative name under the output root: components of
 * [A-Za-z0-9._-], none empty, "." or "..", none starting with a dot.
 * Returns NULL when it is, else a static reason. */
const char *batch_check_relative(const char *rel);

/* What every item of a run shares. */
typedef struct batch_run {
  const char *outroot;
  dp_pipeline *pipe; /* its text is part of the hash */
  int threads;       /* per item */
  int force;         /* redo up-to-date items */
  int fsync;         /* durable outputs */
  dp_cli_label_opts labels; /* for RTSTRUCT/SEG labels (part of the hash) */
} batch_run;

/* Runs one item (meant for a child process): hashes its inputs, label,
 * pipeline, output names and the version; returns 'S' when its outputs
 * carry that hash already (up to date), else loads, runs the pipeline and
 * writes the outputs with the hash in their sidecars: 'W', or 'F' with the
 * message in msg (nothing left behind). */
char batch_run_item(const batch_run *r, const batch_item *it, char *msg, size_t msgsize);

/* Removes the atomic writer's temporaries (".NAME.XXXXXX.tmp") of the
 * item's outputs and sidecars: only a killed writer leaves them. */
void batch_remove_item_temps(const char *outroot, const batch_item *it);

#endif
