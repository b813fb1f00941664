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
    "warnings.  Then the label objects found (RT Structure Sets and DICOM\n"
    "Segmentations): their ROIs or segments (number, name, colour, type,\n"
    "contours or frames) and the image series each one labels, found by its\n"
    "referenced SeriesInstanceUID, else by its referenced images, else as the\n"
    "only volume series in its frame of reference.  Other files that are not\n"
    "DICOM images are skipped with a reason (--skipped lists them).  Exit\n"
    "status is 0 even when some files are junk.\n"
    "\n"
    "options:\n"
    "  --json        machine-readable output\n"
    "  --skipped     also list skipped files and why\n"
    "  --threads N   worker threads\n"
    "  -h, --help    show this help\n";

/* A name from a file, for the terminal: printable ASCII only. */
static void printable(const char *in, char *out, size_t size) {
  size_t n = 0;
  for (; in && *in && n + 1 < size; in++) out[n++] = (unsigned char)*in >= 32 && (unsigned char)*in < 127 ? *in : '?';
  out[n] = '\0';
}


static void print_labels(const dp_dicom_set *set) {
  int n = dp_dicom_set_label_count(set);
  if (n) printf("\n%-4s %-8s %-28s %-28s %s\n", "#", "kind", "file", "label", "labels");
  for (int i = 0; i < n; i++) {
    const dp_label_info *l = dp_dicom_set_label(set, i);
    const dp_series_info *si = dp_dicom_set_series(set, l->image_series);
    const char *base = strrchr(l->path, '/');
    char file[64], lab[64], ref[96];
    printable(base ? base + 1 : l->path, file, sizeof file);
    printable(l->label, lab, sizeof lab);
    if (si) snprintf(ref, sizeof ref, "series %d (#%d, by %s)", si->number, l->image_series + 1, l->match);
    else snprintf(ref, sizeof ref, "no image series found");
    printf("L%-3d %-8s %-28.28s %-28.28s %s; %d %s\n", i + 1, dp_label_kind_name(l->kind), file, lab, ref,
           l->nrois, l->kind == DP_LABEL_SEG ? "segment(s)" : "ROI(s)");
    for (int r = 0; r < l->nrois; r++) {
      const dp_label_roi *ro = &l->rois[r];
      char name[64], type[64], col[16] = "-";
      printable(ro->name, name, sizeof name);
      printable(ro->type, type, sizeof type);
      if (ro->has_colour) snprintf(col, sizeof col, "#%02x%02x%02x", ro->rgb[0], ro->rgb[1], ro->rgb[2]);
      if (l->kind == DP_LABEL_SEG)
        printf("       %4d  %-28.28s %-8s %-16.16s %d frame(s)\n", ro->number, name, col, type, ro->ncontours);
      else
        printf("       %4d  %-28.28s %-8s %-16.16s %d contour(s), %d closed\n", ro->number, name, col, type,
               ro->ncontours, ro->nclosed);
    }
    if (l->warnings[0]) {
      char w[512];
      printable(l->warnings, w, sizeof w);
      printf("       note: %s\n", w);
    }
  }
}

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
    print_labels(set);
    printf("%d series, %d label object(s), %d file(s) skipped\n", dp_dicom_set_series_count(set),
           dp_dicom_set_label_count(set), dp_dicom_set_skipped_count(set));
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
