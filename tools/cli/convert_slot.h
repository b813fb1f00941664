/* dcmprep convert, DICOM input: where a series' outputs go in the output
 * folder, and whether they are up to date there.
 *
 * A series' outputs are NAME.nii.gz (NAME_part1, _part2, ... when it loads
 * as several volumes) with sidecars.  Candidate names are NAME, NAME_2,
 * NAME_3, ... and a series takes the first candidate, not taken by an
 * earlier series of the same run, that is free or holds this series'
 * outputs; another series' file is never replaced (unless --overwrite).  A
 * sidecar records ConvertHash, the hash of the series' file contents, the
 * settings that shape the output and the version (uptodate.h): outputs that
 * carry the hash a run would give are up to date and left alone. */
#ifndef DCMPREP_TOOLS_CONVERT_SLOT_H
#define DCMPREP_TOOLS_CONVERT_SLOT_H

#include "cli/cli.h"
#include "cli/uptodate.h"

/* Names taken by the series of this run. */
typedef struct convert_names {
  char **v;
  int n, cap;
} convert_names;

int convert_name_taken(const convert_names *u, const char *name);
/* Records name; -1 when out of memory. */
int convert_name_take(convert_names *u, const char *name);
void convert_names_free(convert_names *u);

/* Candidate sfx (1, 2, ...) of base: base, base_2, base_3, ... */
void convert_candidate(const char *base, int sfx, char *out, size_t size);

/* The path of the output part (0: the single output, k >= 1: _partK) of
 * candidate cand.  -1 when it does not fit. */
int convert_path(const dp_cli_dicom_opts *o, const char *cand, int part, char *out, size_t size);

/* 1 when something holds the candidate's name: its single output or its
 * first part exists (as any kind of file). */
int convert_occupied(const dp_cli_dicom_opts *o, const char *cand);

/* The hash of series i (contents, settings, version, and the RTSTRUCT/SEG
 * objects that label it with the label options), into hex. */
dp_status convert_series_hash(const dp_cli_dicom_opts *o, const dp_dicom_set *set, int i,
                              const dp_cli_label_run *labels, char hex[DP_CLI_HASH_HEX]);

/* 1 when the outputs at cand (the single one, or parts 1..n as recorded
 * by the first) all carry hex. */
int convert_up_to_date(const dp_cli_dicom_opts *o, const char *cand, const char *hex);

/* 1 when the output at cand was written by dcmprep from the same series as
 * v: same SeriesInstanceUID, image type, orientation and echo time in its
 * sidecar.  Such an output is this series' own, out of date: it is
 * replaced. */
int convert_same_series(const dp_cli_dicom_opts *o, const char *cand, const dp_volume *v);

/* After nv outputs of v were written at cand: removes the outputs of the
 * same series at cand that they did not replace (a single output that is
 * now in parts, parts beyond nv, parts that are now one output). */
void convert_remove_leftovers(const dp_cli_dicom_opts *o, const char *cand, int nv, const dp_volume *v);

#endif
