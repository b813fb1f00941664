/* dcmprep stats: per-image and pooled intensity statistics of a cohort. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "io/json.h"

static const char usage[] =
    "usage: dcmprep stats INPUT.nii[.gz]... [--mask M] [--label L]... [--json]\n"
    "\n"
    "Intensity statistics of each image and of all of them pooled (as if their\n"
    "masked voxels were one array): voxel count, min, max, mean, standard\n"
    "deviation (population) and percentiles, by default 0.5 and 99.5, the\n"
    "values nnU-Net clips CT to before normalising with the pooled mean and std.\n"
    "Percentiles are exactly numpy.percentile's (linear interpolation).  Use\n"
    "the pooled numbers for a whole cohort, e.g.\n"
    "  dcmprep prep ct.nii.gz -o out.nii.gz --clip LO,HI --normalize zscore:mean=M,std=S\n"
    "Values are real values (scl_slope/scl_inter applied); NaN and infinite\n"
    "voxels are never counted.  Every input stays in memory until the pooled\n"
    "statistics are done.\n"
    "\n"
    "options:\n"
    "  --mask M             all | nonzero | label | above:T: the voxels counted\n"
    "                       (default: label with --label, else all)\n"
    "  --label L            a label volume on the grid of the image at the same\n"
    "                       position (give one per INPUT, in order); label = L > 0\n"
    "  --percentiles P,...  percentiles in [0, 100] (default 0.5,99.5)\n"
    "  --json               print one JSON object\n"
    "  --threads N          worker threads (default: all cores, or $DCMPREP_THREADS)\n"
    "  -h, --help           show this help\n";

extern const dp_cli_command dp_cli_stats;

enum { MAXQ = 64 };

typedef struct {
  dp_masked_stats st;
  double p[MAXQ];
} result;

static int parse_q(const char *arg, double *q, int *nq) {
  const char *p = arg;
  *nq = 0;
  for (;;) {
    char *end = NULL;
    double v = strtod(p, &end);
    if (end == p || !(v >= 0 && v <= 100) || *nq >= MAXQ) return -1;
    q[(*nq)++] = v;
    if (*end == '\0') return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

static void json_result(dp__json *j, const result *r, const double *q, int nq) {
  dp__json_int(j, "count", r->st.count);
  dp__json_num(j, "min", r->st.min);
  dp__json_num(j, "max", r->st.max);
  dp__json_num(j, "mean", r->st.mean);
  dp__json_num(j, "std", r->st.std);
  dp__json_begin_object(j, "percentiles");
  for (int i = 0; i < nq; i++) {
    char key[32];
    snprintf(key, sizeof key, "%g", q[i]);
    dp__json_num(j, key, r->p[i]);
  }
  dp__json_end_object(j);
}

static void text_result(const char *name, const result *r, int nq) {
  printf("%-40s %12lld %10.6g %10.6g %12.6g %12.6g", name, (long long)r->st.count, r->st.min,
         r->st.max, r->st.mean, r->st.std);
  for (int i = 0; i < nq; i++) printf(" %10.6g", r->p[i]);
  putchar('\n');
}

static int same_grid(const dp_volume *a, const dp_volume *b) {
  for (int d = 0; d < 3; d++)
    if (a->dim[d] != b->dim[d]) return 0;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      if (fabs(a->ijk_to_ras.m[r][c] - b->ijk_to_ras.m[r][c]) > 1e-3) return 0;
  return 1;
}

static int report(int n, char **inputs, char **labels, const dp_mask *masks, const result *res,
                  const result *pooled, const double *q, int nq, int json) {
  char mname[64];
  dp_mask_format(&masks[0], mname, sizeof mname);
  if (!json) {
    printf("mask: %s\n%-40s %12s %10s %10s %12s %12s", mname, "image", "count", "min", "max", "mean", "std");
    for (int i = 0; i < nq; i++) printf("      p%-4g", q[i]);
    putchar('\n');
    for (int i = 0; i < n; i++) text_result(inputs[i], &res[i], nq);
    text_result("(pooled)", pooled, nq);
    return DP_EXIT_OK;
  }
  dp__json j;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "mask", mname);
  dp__json_begin_array(&j, "images");
  for (int i = 0; i < n; i++) {
    dp__json_begin_object(&j, NULL);
    dp__json_str(&j, "file", inputs[i]);
    if (labels[i]) dp__json_str(&j, "label", labels[i]);
    json_result(&j, &res[i], q, nq);
    dp__json_end_object(&j);
  }
  dp__json_end_array(&j);
  dp__json_begin_object(&j, "pooled");
  dp__json_int(&j, "images", n);
  json_result(&j, pooled, q, nq);
  dp__json_end_object(&j);
  dp__json_end_object(&j);
  char *text = NULL;
  size_t len = 0;
  if (dp__json_finish(&j, &text, &len) != DP_OK) return dp_cli_fail("out of memory");
  fwrite(text, 1, len, stdout);
  free(text);
  return DP_EXIT_OK;
}

static int run(int argc, char **argv) {
  enum { OPT_MASK = 1000, OPT_LABEL, OPT_Q, OPT_JSON, OPT_THREADS };
  static const struct option lo[] = {{"mask", required_argument, NULL, OPT_MASK},
                                     {"label", required_argument, NULL, OPT_LABEL},
                                     {"percentiles", required_argument, NULL, OPT_Q},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"threads", required_argument, NULL, OPT_THREADS},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};
  double q[MAXQ] = {0.5, 99.5};
  int nq = 2, json = 0, threads = 0, has_mask = 0, nlab = 0, c;
  dp_mask mask = DP_MASK_INIT;
  long v;
  char **labels = calloc((size_t)argc + 1, sizeof *labels);
  if (!labels) return dp_cli_fail("out of memory");
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    int bad = 0;
    switch (c) {
      case OPT_MASK:
        bad = dp_mask_parse(optarg, &mask) != DP_OK;
        has_mask = 1;
        break;
      case OPT_LABEL: labels[nlab++] = optarg; break;
      case OPT_Q: bad = parse_q(optarg, q, &nq) != 0; break;
      case OPT_JSON: json = 1; break;
      case OPT_THREADS:
        bad = dp_cli_parse_int(optarg, 1, 256, &v) != 0;
        threads = (int)v;
        break;
      case 'h':
        fputs(usage, stdout);
        free(labels);
        return DP_EXIT_OK;
      default: bad = 1; break;
    }
    if (bad) {
      free(labels);
      return dp_cli_usage_error(&dp_cli_stats, "bad option%s%s%s", optarg ? " value '" : "",
                                optarg ? optarg : "", optarg ? "'" : "");
    }
  }
  int n = argc - optind;
  char **inputs = argv + optind;
  int rc = 0;
  if (n < 1) rc = dp_cli_usage_error(&dp_cli_stats, "give at least one INPUT");
  else if (nlab && nlab != n) rc = dp_cli_usage_error(&dp_cli_stats, "%d --label for %d inputs: give one per input", nlab, n);
  else if (!has_mask) mask.kind = nlab ? DP_MASK_LABEL : DP_MASK_ALL;
  if (!rc && mask.kind == DP_MASK_LABEL && !nlab) rc = dp_cli_usage_error(&dp_cli_stats, "--mask label needs --label");
  for (int i = 0; !rc && i < n; i++)
    if (!dp_cli_is_nifti_name(inputs[i])) rc = dp_cli_usage_error(&dp_cli_stats, "'%s' is not a .nii or .nii.gz file", inputs[i]);
  if (rc) {
    free(labels);
    return rc;
  }
  size_t nn = (size_t)(n > 0 ? n : 1);
  dp_volume **vols = calloc(nn, sizeof *vols), **labs = calloc(nn, sizeof *labs);
  dp_mask *masks = calloc(nn, sizeof *masks);
  result *res = calloc(nn, sizeof *res);
  result pooled;
  memset(&pooled, 0, sizeof pooled);
  if (!vols || !labs || !masks || !res) rc = dp_cli_fail("out of memory");
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1;
  ro.threads = threads;
  for (int i = 0; !rc && i < n; i++) {
    dp_status s = dp_nifti_read(inputs[i], &ro, &vols[i], NULL);
    if (s != DP_OK) {
      rc = dp_cli_fail_status(s, inputs[i]);
      break;
    }
    masks[i] = mask;
    if (nlab) {
      s = dp_nifti_read(labels[i], NULL, &labs[i], NULL);
      if (s != DP_OK) {
        rc = dp_cli_fail_status(s, labels[i]);
        break;
      }
      if (!same_grid(vols[i], labs[i])) {
        rc = dp_cli_fail("%s: not on the grid of %s (resample it with prep --like)", labels[i], inputs[i]);
        break;
      }
      masks[i].label = labs[i];
    }
    s = dp_masked_stats_compute(vols[i], &masks[i], threads, &res[i].st);
    if (s == DP_OK && res[i].st.count)
      s = dp_percentiles((const dp_volume *const *)&vols[i], &masks[i], 1, q, nq, threads, res[i].p, NULL);
    else
      for (int k = 0; k < nq; k++) res[i].p[k] = NAN;
    if (s != DP_OK) rc = dp_cli_fail_status(s, inputs[i]);
    else pooled.st = i ? dp_masked_stats_merge(pooled.st, res[i].st) : res[i].st;
  }
  if (!rc) {
    dp_status s = DP_OK;
    if (pooled.st.count)
      s = dp_percentiles((const dp_volume *const *)vols, masks, n, q, nq, threads, pooled.p, NULL);
    else
      for (int k = 0; k < nq; k++) pooled.p[k] = NAN;
    if (s != DP_OK) rc = dp_cli_fail_status(s, "pooled percentiles");
  }
  for (int i = 0; !rc && i < n; i++) { /* inputs mapped from files that changed meanwhile */
    dp_status s = dp_volume_check(vols[i]);
    if (s == DP_OK && labs[i]) s = dp_volume_check(labs[i]);
    if (s != DP_OK) rc = dp_cli_fail_status(s, inputs[i]);
  }
  if (!rc) rc = report(n, inputs, labels, masks, res, &pooled, q, nq, json);
  for (int i = 0; i < n; i++) {
    if (vols) dp_volume_free(vols[i]);
    if (labs) dp_volume_free(labs[i]);
  }
  free(vols);
  free(labs);
  free(masks);
  free(res);
  free(labels);
  return rc;
}

const dp_cli_command dp_cli_stats = {"stats", "per-image and pooled intensity statistics and percentiles",
                                     usage, run, NULL};
