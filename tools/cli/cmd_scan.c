/* dcmprep scan: list the series found under the given paths. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: dcmprep scan PATH... [--json] [--skipped]\n"
    "\n"
    "Reads the headers of every file under PATH (recursively) and prints one row\n"
    "per series: number, description, modality, kind (volume, localizer,\n"
    "secondary, no-geometry), dims (columns x rows x slices [x volumes]),\n"
    "spacing, orientation code, measured gantry tilt, missing slices and\n"
    "warnings.  Files that are not DICOM images are skipped with a reason\n"
    "(--skipped lists them).  Exit status is 0 even when some files are junk.\n"
    "\n"
    "options:\n"
    "  --json        machine-readable output\n"
    "  --skipped     also list skipped files and why\n"
    "  --threads N   worker threads\n"
    "  -h, --help    show this help\n";

static int print_json(const dp_dicom_set *set) {
  char *text;
  size_t len;
  dp_status st = dp_dicom_set_json(set, &text, &len);
  if (st != DP_OK) return dp_cli_fail_status(st, "json");
  fwrite(text, 1, len, stdout);
  dp_free(text);
  return DP_EXIT_OK;
}

static int run(int argc, char **argv) {
  static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
                                     {"skipped", no_argument, NULL, 's'},
                                     {"threads", required_argument, NULL, 't'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};
  int json = 0, skipped = 0, c;
  long threads = 0;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
      case 'j': json = 1; break;
      case 's': skipped = 1; break;
      case 't':
        if (dp_cli_parse_int(optarg, 1, 256, &threads))
          return dp_cli_usage_error(&dp_cli_scan, "--threads needs an integer 1..256");
        break;
      case 'h': fputs(usage, stdout); return DP_EXIT_OK;
      default: return dp_cli_usage_error(&dp_cli_scan, "invalid option");
    }
  }
  if (optind >= argc) return dp_cli_usage_error(&dp_cli_scan, "no PATH given");
  dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
  so.threads = (int)threads;
  dp_dicom_set *set = NULL;
  dp_status s = dp_dicom_scan((const char *const *)argv + optind, argc - optind, &so, &set);
  if (s != DP_OK) return dp_cli_fail_status(s, "scan");
  int rc = DP_EXIT_OK;
  if (json) {
    rc = print_json(set);
  } else {
    printf("%-4s %-6s %-28s %-4s %-11s %-20s %-22s %-4s %s\n", "#", "series", "description",
           "mod", "kind", "dims", "spacing (mm)", "orient", "notes");
    for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
      const dp_series_info *si = dp_dicom_set_series(set, i);
      char dims[64], sp[64];
      snprintf(dims, sizeof dims, "%lldx%lldx%lld%s", (long long)si->dim[0], (long long)si->dim[1],
               (long long)si->dim[2], si->dim[3] > 1 ? "xT" : "");
      if (si->dim[3] > 1)
        snprintf(dims, sizeof dims, "%lldx%lldx%lldx%lld", (long long)si->dim[0],
                 (long long)si->dim[1], (long long)si->dim[2], (long long)si->dim[3]);
      snprintf(sp, sizeof sp, "%.4g x %.4g x %.4g", si->spacing[0], si->spacing[1], si->spacing[2]);
      printf("%-4d %-6d %-28.28s %-4s %-11s %-20s %-22s %-6s %s\n", i + 1, si->number,
             si->description, si->modality, dp_series_kind_name(si->kind), dims, sp,
             si->orientation[0] ? si->orientation : "-", si->warnings);
    }
    printf("%d series, %d file(s) skipped\n", dp_dicom_set_series_count(set),
           dp_dicom_set_skipped_count(set));
    if (skipped)
      for (int i = 0; i < dp_dicom_set_skipped_count(set); i++) {
        const char *p, *r;
        dp_dicom_set_skipped(set, i, &p, &r);
        printf("skipped %s: %s\n", p, r);
      }
  }
  dp_dicom_set_free(set);
  return rc;
}

const dp_cli_command dp_cli_scan = {"scan", "list the DICOM series under folders or files", usage, run, NULL};
