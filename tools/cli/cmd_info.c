/* dcmprep info: describe a volume file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "io/json.h"

static const char usage[] =
    "usage: dcmprep info FILE [--json]\n"
    "\n"
    "Describes a NIfTI file (.nii or .nii.gz): dimensions, data type, voxel\n"
    "spacing (mm), orientation code (the RAS+ direction each voxel axis points\n"
    "toward, as nibabel's aff2axcodes), the voxel-to-world affine (RAS+ mm; sform\n"
    "when set, else qform) and value statistics after scl_slope/scl_inter.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object instead of text\n"
    "  -h, --help   show this help\n";

static void print_text(const char *path, const dp_nifti_info *ni, const dp_volume *v,
                       const dp_volume_stats *st) {
  double sp[3];
  char code[4];
  dp_volume_spacing(v, sp);
  dp_volume_axcodes(v, code);
  printf("file:        %s\n", path);
  printf("format:      NIfTI-%d, %s-endian%s\n", ni->version, ni->big_endian ? "big" : "little",
         ni->gzipped ? ", gzip" : "");
  printf("dims:        %lld x %lld x %lld", (long long)v->dim[0], (long long)v->dim[1],
         (long long)v->dim[2]);
  if (v->dim[3] > 1) printf(" x %lld", (long long)v->dim[3]);
  printf("\ndtype:       %s", dp_dtype_name(ni->dtype));
  if (ni->scl_slope != 0 && (ni->scl_slope != 1 || ni->scl_inter != 0))
    printf(" (scaled: slope %g, intercept %g)", ni->scl_slope, ni->scl_inter);
  printf("\nspacing:     %.6g x %.6g x %.6g mm\n", sp[0], sp[1], sp[2]);
  printf("orientation: %s\n", code);
  printf("affine:      (%s)\n", ni->sform_code > 0 ? "sform" : ni->qform_code > 0 ? "qform" : "pixdim");
  for (int r = 0; r < 4; r++)
    printf("  %12.6f %12.6f %12.6f %12.6f\n", v->ijk_to_ras.m[r][0], v->ijk_to_ras.m[r][1],
           v->ijk_to_ras.m[r][2], v->ijk_to_ras.m[r][3]);
  printf("values:      min %.6g, max %.6g, mean %.6g, std %.6g", st->min, st->max, st->mean, st->std);
  if (st->nan_count) printf(", %lld non-finite", (long long)st->nan_count);
  putchar('\n');
}

static int print_json(const char *path, const dp_nifti_info *ni, const dp_volume *v,
                      const dp_volume_stats *st) {
  double sp[3];
  char code[4];
  dp_volume_spacing(v, sp);
  dp_volume_axcodes(v, code);
  dp__json j;
  dp__json_init(&j, 1);
  dp__json_begin_object(&j, NULL);
  dp__json_str(&j, "file", path);
  dp__json_str(&j, "format", "nifti");
  dp__json_int(&j, "nifti_version", ni->version);
  dp__json_bool(&j, "big_endian", ni->big_endian);
  dp__json_bool(&j, "gzip", ni->gzipped);
  dp__json_begin_array(&j, "dims");
  for (int d = 0; d < 4; d++) dp__json_int(&j, NULL, v->dim[d]);
  dp__json_end_array(&j);
  dp__json_str(&j, "dtype", dp_dtype_name(ni->dtype));
  dp__json_num(&j, "scl_slope", ni->scl_slope);
  dp__json_num(&j, "scl_inter", ni->scl_inter);
  dp__json_begin_array(&j, "spacing");
  for (int d = 0; d < 3; d++) dp__json_num(&j, NULL, sp[d]);
  dp__json_end_array(&j);
  dp__json_str(&j, "orientation", code);
  dp__json_str(&j, "affine_source",
               ni->sform_code > 0 ? "sform" : ni->qform_code > 0 ? "qform" : "pixdim");
  dp__json_mat4(&j, "affine", &v->ijk_to_ras);
  dp__json_num(&j, "min", st->min);
  dp__json_num(&j, "max", st->max);
  dp__json_num(&j, "mean", st->mean);
  dp__json_num(&j, "std", st->std);
  dp__json_int(&j, "nonfinite", st->nan_count);
  dp__json_end_object(&j);
  char *text;
  dp_status s = dp__json_finish(&j, &text, NULL);
  if (s != DP_OK) return dp_cli_fail_status(s, path);
  fputs(text, stdout);
  free(text);
  return DP_EXIT_OK;
}

static int run(int argc, char **argv) {
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int json = 0, c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
      case 'j': json = 1; break;
      case 'h': fputs(usage, stdout); return DP_EXIT_OK;
      default: return dp_cli_usage_error(&dp_cli_info, "invalid option");
    }
  }
  if (optind != argc - 1) return dp_cli_usage_error(&dp_cli_info, "expected exactly one FILE");
  const char *path = argv[optind];
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = 1;
  dp_nifti_info ni;
  dp_volume *v = NULL;
  dp_status s = dp_nifti_read(path, &ro, &v, &ni);
  if (s != DP_OK) return dp_cli_fail_status(s, path);
  dp_volume_stats st;
  s = dp_volume_compute_stats(v, &st);
  int rc;
  if (s != DP_OK)
    rc = dp_cli_fail_status(s, path);
  else if (json)
    rc = print_json(path, &ni, v, &st);
  else {
    print_text(path, &ni, v, &st);
    rc = DP_EXIT_OK;
  }
  dp_volume_free(v);
  return rc;
}

const dp_cli_command dp_cli_info = {"info", "describe a NIfTI file (dims, spacing, orientation, values)",
                                    usage, run, NULL};
