/* dcmprep preview: the three orthogonal mid-slices of a volume as a PNG. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: dcmprep preview INPUT -o OUT.png [--window C,W] [--label L]\n"
    "\n"
    "INPUT is a NIfTI file or a DICOM folder/file (one volume series, or pick it\n"
    "with --series N).  Writes one PNG row: the sagittal, coronal and axial planes\n"
    "through the centre of the volume, resampled from its world geometry, so the\n"
    "picture is the same for any voxel order; an oblique volume is shown in the\n"
    "RAS-aligned planes through its centre.  Square pixels in mm (true aspect).\n"
    "\n"
    "Display convention (radiological):\n"
    "  axial     patient's right on the image's left, anterior at the top\n"
    "  coronal   patient's right on the image's left, superior at the top\n"
    "  sagittal  anterior on the image's left, superior at the top\n"
    "Letters at the edges (R/L, A/P, S/I) name the patient side each edge faces.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.png  the picture, required (written atomically)\n"
    "  --window C,W          display window: centre and width in volume units\n"
    "                        (default: the 0.5 and 99.5 percentiles of the volume)\n"
    "  --label L             label volume (NIfTI, any grid): label > 0 tinted by\n"
    "                        value (12-colour table); the PNG is then RGB\n"
    "  --alpha A             label tint opacity 0..1 (default 0.5)\n"
    "  --pixel MM            display pixel side in mm (default: the smallest voxel\n"
    "                        spacing; raised so no panel exceeds 512 pixels)\n"
    "  --series N            DICOM input: the series number to use\n"
    "  --fsync               sync the PNG (and its folder) to disk\n"
    "  --threads N           worker threads (default: all cores, or $DCMPREP_THREADS)\n"
    "  -q, --quiet           no messages\n"
    "  -h, --help            show this help\n";

extern const dp_cli_command dp_cli_preview;

/* Parses "A,B" into two finite numbers; returns 0 on success. */
static int parse_pair(const char *s, double out[2]) {
  char *end = NULL;
  errno = 0;
  out[0] = strtod(s, &end);
  if (errno || end == s || *end != ',') return -1;
  const char *b = end + 1;
  out[1] = strtod(b, &end);
  if (errno || end == b || *end != '\0') return -1;
  return isfinite(out[0]) && isfinite(out[1]) ? 0 : -1;
}

static int parse_number(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  *out = strtod(s, &end);
  return errno || end == s || *end != '\0' || !isfinite(*out) ? -1 : 0;
}

typedef struct {
  const char *output, *label, *series;
  int quiet, fsync, threads;
  dp_preview_opts po;
} preview_opts;

enum { OPT_WINDOW = 900, OPT_LABEL, OPT_ALPHA, OPT_PIXEL, OPT_SERIES, OPT_FSYNC, OPT_THREADS };

static int parse(int argc, char **argv, preview_opts *o) {
  static const struct option lo[] = {
      {"output", required_argument, NULL, 'o'},       {"window", required_argument, NULL, OPT_WINDOW},
      {"label", required_argument, NULL, OPT_LABEL},  {"alpha", required_argument, NULL, OPT_ALPHA},
      {"pixel", required_argument, NULL, OPT_PIXEL},  {"series", required_argument, NULL, OPT_SERIES},
      {"fsync", no_argument, NULL, OPT_FSYNC},        {"threads", required_argument, NULL, OPT_THREADS},
      {"quiet", no_argument, NULL, 'q'},              {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const dp_cli_command *cmd = &dp_cli_preview;
  int c;
  long v;
  double w[2];
  while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
    switch (c) {
      case 'o': o->output = optarg; break;
      case OPT_WINDOW:
        if (parse_pair(optarg, w) || !(w[1] > 0))
          return dp_cli_usage_error(cmd, "--window needs C,W with W > 0, not '%s'", optarg);
        o->po.window_set = 1;
        o->po.window_center = w[0];
        o->po.window_width = w[1];
        break;
      case OPT_LABEL: o->label = optarg; break;
      case OPT_ALPHA:
        if (parse_number(optarg, &o->po.alpha) || o->po.alpha < 0 || o->po.alpha > 1)
          return dp_cli_usage_error(cmd, "--alpha needs a number 0..1, not '%s'", optarg);
        break;
      case OPT_PIXEL:
        if (parse_number(optarg, &o->po.pixel_mm) || !(o->po.pixel_mm > 0))
          return dp_cli_usage_error(cmd, "--pixel needs a size in mm > 0, not '%s'", optarg);
        break;
      case OPT_SERIES: o->series = optarg; break;
      case OPT_FSYNC: o->fsync = 1; break;
      case OPT_THREADS:
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          return dp_cli_usage_error(cmd, "--threads needs an integer 1..256, not '%s'", optarg);
        o->threads = o->po.threads = (int)v;
        break;
      case 'q': o->quiet = 1; break;
      case 'h': fputs(usage, stdout); return -1;
      default: return dp_cli_usage_error(cmd, "invalid option");
    }
  }
  if (!o->output) return dp_cli_usage_error(cmd, "-o OUT.png is required");
  if (optind != argc - 1) return dp_cli_usage_error(cmd, "give exactly one INPUT");
  return 0;
}

static int run(int argc, char **argv) {
  preview_opts o;
  memset(&o, 0, sizeof o);
  o.po = (dp_preview_opts)DP_PREVIEW_OPTS_INIT;
  int rc = parse(argc, argv, &o);
  if (rc) return rc < 0 ? DP_EXIT_OK : rc;
  dp_cli_setup_logging(o.quiet);
  const char *input = argv[optind];
  dp_volume *img = NULL, *lab = NULL;
  dp_image *pic = NULL;
  dp_status s = dp_load_input(input, o.series, o.threads, &img);
  if (s != DP_OK) return dp_cli_fail_status(s, input);
  if (o.label) {
    s = dp_nifti_read(o.label, NULL, &lab, NULL);
    if (s != DP_OK) rc = dp_cli_fail_status(s, o.label);
  }
  if (!rc) {
    s = dp_preview_render(img, lab, &o.po, &pic);
    if (s != DP_OK) rc = dp_cli_fail_status(s, input);
  }
  if (!rc) {
    dp_png_write_opts pw = DP_PNG_WRITE_OPTS_INIT;
    pw.durable = o.fsync;
    s = dp_png_write(pic, o.output, &pw);
    if (s != DP_OK) rc = dp_cli_fail_status(s, o.output);
  }
  if (!rc && !o.quiet)
    fprintf(stderr, "dcmprep: wrote %s (%d x %d, %s)\n", o.output, pic->width, pic->height,
            pic->channels == 3 ? "RGB" : "gray");
  dp_image_free(pic);
  dp_volume_free(img);
  dp_volume_free(lab);
  return rc;
}

const dp_cli_command dp_cli_preview = {"preview", "PNG of the three mid-slices (RAS, true aspect)",
                                       usage, run, NULL};
