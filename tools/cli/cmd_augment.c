/* dcmprep augment: N reproducible random variants of an image (and its
 * label), each with a sidecar recording what was drawn. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/json.h"

static const char intro[] =
    "usage: dcmprep augment INPUT -o DIR -n N [--seed S] [--label L] [--variant K] STEP...\n"
    "\n"
    "Writes N variants of INPUT (a NIfTI file or a DICOM series) into DIR, each\n"
    "made by running the steps (any prep step; typically the random ones) in the\n"
    "order written, e.g.\n"
    "  dcmprep augment ct.nii.gz --label seg.nii.gz -o aug/ -n 20 --seed 7 \\\n"
    "          --rand-flip=x --rand-rotate 0,0,15@0.5 --rand-zoom 0.9,1.1 \\\n"
    "          --rand-crop-label 96,96,64,0.7 --rand-gamma 0.8,1.25\n"
    "Variant k is DIR/NAME_augK.nii.gz (K zero-padded; NAME is INPUT's name\n"
    "without .nii/.nii.gz), its label DIR/NAME_augK_label.nii.gz, each with a\n"
    "sidecar (.json) whose PrepSteps list every draw (angles, zooms, shifts,\n"
    "flips, crop origin, the composed 4x4 mapping, the elastic field's seed).\n"
    "Draws are keyed by (seed, INPUT's file name, k, step position), never by\n"
    "the thread count or order: --variant K rewrites variant K alone, the same\n"
    "bytes as in the batch.  Adjacent spatial steps are composed and resampled\n"
    "once (image: --interp; label: --label-interp); random intensity steps\n"
    "change the image only.  See docs/augmentation.md.\n"
    "\n"
    "steps and settings:\n";

static const char outro[] =
    "\n"
    "options:\n"
    "  -o, --output DIR      output folder (created if missing), required\n"
    "  -n, --count N         number of variants (1..1000000), required\n"
    "  --variant K           write only variant K (0 <= K < N)\n"
    "  --label L             label volume: a NIfTI (integer type) on INPUT's grid,\n"
    "                        or an RTSTRUCT or SEG file (or a folder holding one)\n"
    "                        drawn on INPUT's grid, or auto: the RTSTRUCT/SEG in\n"
    "                        the DICOM INPUT folder that labels its series\n"
    DP_CLI_LABEL_HELP
    "  --series N            DICOM input: the series number to use\n"
    "  --fsync               sync the outputs to disk (default: atomic, not synced)\n"
    "  --pipeline FILE       the steps and settings written in FILE, here (one per\n"
    "                        line, as on the command line; see docs/scale.md)\n"
    DP_CLI_LIMITS_HELP
    "  --threads N           worker threads (default: all cores, or $DCMPREP_THREADS)\n"
    "  -q, --quiet           no messages\n"
    "  -h, --help            show this help\n";

static void print_help(FILE *f) {
  fputs(intro, f);
  dp_cli_print_steps(f);
  fputs(outro, f);
}

typedef struct {
  const char *output, *label, *series;
  long count, variant;
  int threads, quiet, fsync;
  dp_pipeline *pipe; /* the steps and settings as given */
  const dp_step *steps;
  int nsteps;
  dp_pipeline_settings st;
  dp_cli_label_opts labels;
} aug_opts;

enum { OPT_BASE = 1000, OPT_LABEL = 900, OPT_SERIES, OPT_THREADS, OPT_FSYNC, OPT_VARIANT, OPT_PIPELINE, OPT_MAX_VOXELS, OPT_MAX_MEMORY, OPT_LABEL_OPT };

static int parse(int argc, char **argv, aug_opts *o) {
  int ntab = 0;
  struct option *lo = dp_cli_step_options(OPT_BASE, 20, &ntab);
  if (!lo || dp_pipeline_new(&o->pipe) != DP_OK) {
    free(lo);
    return dp_cli_fail("out of memory");
  }
  int k = ntab;
  lo[k++] = (struct option){"output", required_argument, NULL, 'o'};
  lo[k++] = (struct option){"count", required_argument, NULL, 'n'};
  lo[k++] = (struct option){"variant", required_argument, NULL, OPT_VARIANT};
  lo[k++] = (struct option){"label", required_argument, NULL, OPT_LABEL};
  lo[k++] = (struct option){"series", required_argument, NULL, OPT_SERIES};
  lo[k++] = (struct option){"fsync", no_argument, NULL, OPT_FSYNC};
  lo[k++] = (struct option){"threads", required_argument, NULL, OPT_THREADS};
  lo[k++] = (struct option){"pipeline", required_argument, NULL, OPT_PIPELINE};
  lo[k++] = (struct option){"max-voxels", required_argument, NULL, OPT_MAX_VOXELS};
  lo[k++] = (struct option){"max-memory", required_argument, NULL, OPT_MAX_MEMORY};
  lo[k++] = (struct option){"quiet", no_argument, NULL, 'q'};
  lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
  lo[k++] = (struct option){"roi", required_argument, NULL, OPT_LABEL_OPT};
  lo[k++] = (struct option){"contour-tolerance", required_argument, NULL, OPT_LABEL_OPT};
  lo[k++] = (struct option){"seg-threshold", required_argument, NULL, OPT_LABEL_OPT};
  lo[k] = (struct option){NULL, 0, NULL, 0};
  int c, rc = 0, li = 0;
  o->labels = (dp_cli_label_opts)DP_CLI_LABEL_OPTS_INIT;
  long v;
  o->variant = -1;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:n:qh", lo, &li)) != -1) {
    if (dp_cli_take_step(&dp_cli_augment, c, OPT_BASE, ntab, o->pipe, &rc)) continue;
    switch (c) {
      case 'o': o->output = optarg; break;
      case 'n':
        if (dp_cli_parse_int(optarg, 1, 1000000, &o->count))
          rc = dp_cli_usage_error(&dp_cli_augment, "-n needs an integer 1..1000000, not '%s'", optarg);
        break;
      case OPT_VARIANT:
        if (dp_cli_parse_int(optarg, 0, 999999, &o->variant))
          rc = dp_cli_usage_error(&dp_cli_augment, "--variant needs an integer >= 0, not '%s'", optarg);
        break;
      case OPT_LABEL: o->label = optarg; break;
      case OPT_SERIES: o->series = optarg; break;
      case OPT_FSYNC: o->fsync = 1; break;
      case OPT_PIPELINE: rc = dp_cli_take_pipeline_file(&dp_cli_augment, o->pipe, optarg); break;
      case OPT_MAX_VOXELS: rc = dp_cli_take_limit(&dp_cli_augment, "max-voxels", optarg); break;
      case OPT_MAX_MEMORY: rc = dp_cli_take_limit(&dp_cli_augment, "max-memory", optarg); break;
      case OPT_THREADS:
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          rc = dp_cli_usage_error(&dp_cli_augment, "--threads needs an integer 1..256, not '%s'", optarg);
        o->threads = (int)v;
        break;
      case OPT_LABEL_OPT: dp_cli_take_label_option(&dp_cli_augment, lo[li].name, optarg, 0, &o->labels, &rc); break;
      case 'q': o->quiet = 1; break;
      case 'h': print_help(stdout); rc = -1; break;
      default: rc = dp_cli_usage_error(&dp_cli_augment, "invalid option"); break;
    }
  }
  free(lo);
  if (rc) return rc;
  o->steps = dp_pipeline_steps(o->pipe, &o->nsteps);
  o->st = *dp_pipeline_settings_of(o->pipe);
  o->st.threads = o->threads;
  if (!o->output) return dp_cli_usage_error(&dp_cli_augment, "-o DIR is required");
  if (!o->count) return dp_cli_usage_error(&dp_cli_augment, "-n N is required");
  if (o->variant >= o->count)
    return dp_cli_usage_error(&dp_cli_augment, "--variant %ld: variants are 0..%ld", o->variant, o->count - 1);
  if (optind != argc - 1) return dp_cli_usage_error(&dp_cli_augment, "give exactly one INPUT");
  return 0;
}

/* The draw's key goes into the sidecar, then the volume is written. */
static dp_status write_one(dp_volume *v, const char *path, const char *augment, const aug_opts *o) {
  dp_status s = dp_volume_meta_set_json(v, "Augment", augment);
  return s == DP_OK ? dp_cli_write_volume(v, path, 1, o->threads, o->fsync) : s;
}

static int one_variant(const aug_opts *o, const dp_volume *img0, const dp_volume *lab0, long k,
                       const char *stem, int width) {
  char ipath[4096], lpath[4096];
  int ni = snprintf(ipath, sizeof ipath, "%s/%s_aug%0*ld.nii.gz", o->output, stem, width, k);
  int nl = snprintf(lpath, sizeof lpath, "%s/%s_aug%0*ld_label.nii.gz", o->output, stem, width, k);
  if (ni < 0 || nl < 0 || (size_t)ni >= sizeof ipath || (size_t)nl >= sizeof lpath)
    return dp_cli_fail("%s: output names too long", o->output);
  dp_pipeline_settings st = o->st;
  st.variant = (uint64_t)k;
  /* the draw's key, as JSON (the name escaped: it comes from a file name) */
  char hash[17], seed[24], *augment = NULL;
  size_t alen = 0;
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)st.name_hash);
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)st.seed); /* all 64 bits */
  dp__json_raw(&j, "seed", seed);
  dp__json_int(&j, "variant", k);
  dp__json_int(&j, "variants", o->count);
  dp__json_str(&j, "name", stem);
  dp__json_str(&j, "name_hash", hash);
  dp__json_end_object(&j);
  if (dp__json_finish(&j, &augment, &alen) != DP_OK) return dp_cli_fail("out of memory");
  while (alen > 0 && augment[alen - 1] == '\n') augment[--alen] = '\0';
  dp_volume *img = NULL, *lab = NULL;
  dp_status s = dp_volume_copy(img0, &img);
  if (s == DP_OK && lab0) s = dp_volume_copy(lab0, &lab);
  if (s == DP_OK) s = dp_pipeline_run(o->steps, o->nsteps, &st, &img, lab0 ? &lab : NULL);
  int rc = 0;
  if (s != DP_OK) rc = dp_cli_fail_status(s, "augment");
  if (!rc && (s = write_one(img, ipath, augment, o)) != DP_OK) rc = dp_cli_fail_status(s, ipath);
  if (!rc && lab) {
    const char *steps = dp_volume_meta_get(img, "PrepSteps", NULL);
    if (steps) dp_volume_meta_set_json(lab, "PrepSteps", steps);
    if ((s = write_one(lab, lpath, augment, o)) != DP_OK) {
      rc = dp_cli_fail_status(s, lpath);
      dp_cli_remove_volume(ipath); /* never an image without its label */
    }
  }
  if (!rc && !o->quiet) fprintf(stderr, "dcmprep: wrote %s%s\n", ipath, lab ? " and its label" : "");
  dp_volume_free(img);
  dp_volume_free(lab);
  free(augment);
  return rc;
}

static int run(int argc, char **argv) {
  aug_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse(argc, argv, &o);
  if (rc) {
    dp_pipeline_free(o.pipe);
    return rc < 0 ? DP_EXIT_OK : rc;
  }
  dp_cli_setup_logging(o.quiet);
  const char *input = argv[optind];
  char stem[1024];
  dp_input_name(input, stem, sizeof stem);
  o.st.name_hash = dp_rng_hash_str(stem);
  dp_volume *img = NULL, *lab = NULL;
  dp_status s = dp_load_input(input, o.series, o.threads, &img);
  if (s != DP_OK) rc = dp_cli_fail_status(s, input);
  if (!rc && o.label && (s = dp_cli_load_label(o.label, input, img, &o.labels, o.threads, &lab)) != DP_OK)
    rc = dp_cli_fail_status(s, o.label);
  if (!rc && mkdir(o.output, 0777) != 0 && errno != EEXIST)
    rc = dp_cli_fail("%s: cannot create the folder: %s", o.output, strerror(errno));
  int width = 3;
  for (long n = 1000; n < o.count; n *= 10) width++;
  for (long k = o.variant >= 0 ? o.variant : 0; !rc && k < (o.variant >= 0 ? o.variant + 1 : o.count); k++)
    rc = one_variant(&o, img, lab, k, stem, width);
  dp_pipeline_free(o.pipe);
  dp_volume_free(img);
  dp_volume_free(lab);
  return rc;
}

const dp_cli_command dp_cli_augment = {"augment", "N reproducible random variants of an image and its label",
                                       NULL, run, print_help};
