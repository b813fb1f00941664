/* dcmprep prep: load a NIfTI file or a DICOM series, run steps in the order
 * written, write NIfTI + sidecar (and the label, moved in lockstep). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char intro[] =
    "usage: dcmprep prep INPUT -o OUT.nii[.gz] [--label L --label-out LO] STEP...\n"
    "\n"
    "INPUT is a NIfTI file or a DICOM folder/file (one volume series, or pick it\n"
    "with --series N).  Steps run in the order written, like c3d, e.g.\n"
    "  dcmprep prep ct/ -o ct.nii.gz --reorient RAS --spacing 1,1,1 --interp cubic\n"
    "Settings (--interp, --label-interp, --fill, --no-antialias, --margin) apply\n"
    "to every step wherever they are written.  A label volume (segmentation)\n"
    "given with --label must be on the image's grid; it goes through every\n"
    "spatial step with the same mapping, label-safe interpolation (nearest or\n"
    "onehot: linear per label value, then the largest), fill 0, never smoothed.\n"
    "A sidecar JSON next to OUT records every step with its resolved parameters\n"
    "(PrepSteps).  Outputs are written atomically; if one fails, none is kept.\n"
    "Integer data stay integer (spatial steps round and clamp to the input type;\n"
    "window to unit, normalize and the random intensity steps give float32; see\n"
    "docs/design.md).  Without a step (and without --preview) a NIfTI INPUT is\n"
    "copied as it is stored: the same values, type and scl_slope/scl_inter.\n"
    "\n"
    "steps and settings:\n";

static const char outro[] =
    "\n"
    "options:\n"
    "  -o, --output OUT      output NIfTI (.nii or .nii.gz), required\n"
    "  --label L             label volume: a NIfTI (integer type) on INPUT's grid,\n"
    "                        or an RTSTRUCT or SEG file (or a folder holding one)\n"
    "                        drawn on INPUT's grid, or auto: the RTSTRUCT/SEG in\n"
    "                        the DICOM INPUT folder that labels its series\n"
    DP_CLI_LABEL_HELP
    "  --label-out LO        where the transformed label goes (required with --label;\n"
    "                        its sidecar holds the label map for RTSTRUCT/SEG)\n"
    "  --series N            DICOM input: the series number to use\n"
    "  --pipeline FILE       the steps and settings written in FILE, here (one per\n"
    "                        line, as on the command line; see docs/scale.md)\n"
    "  --save-pipeline FILE  write the steps and settings given to FILE (then run\n"
    "                        them, if INPUT and -o are given)\n"
    "  --no-sidecar          do not write the .json sidecar\n"
    "  --preview PNG         also write a PNG of the three mid-slices before (top\n"
    "                        row) and after (bottom row) the steps, at one scale\n"
    "                        (see dcmprep help preview)\n"
    "  --fsync               sync the outputs (and their folders) to disk: they\n"
    "                        survive a power loss (default: atomic, not synced)\n"
    DP_CLI_LIMITS_HELP
    "  --threads N           worker threads (default: all cores, or $DCMPREP_THREADS)\n"
    "  -q, --quiet           no messages\n"
    "  -h, --help            show this help\n"
    "\n"
    "Downsampling anti-aliasing: Gaussian of sigma = (f - 1) / 2 input voxels on an\n"
    "axis whose spacing grows by f > 1 (scikit-image's rule), images only.\n";

static void print_help(FILE *f) {
  fputs(intro, f);
  dp_cli_print_steps(f);
  fputs(outro, f);
}

extern const dp_cli_command dp_cli_prep;

typedef struct {
  const char *output, *label, *label_out, *series, *preview;
  int no_sidecar, threads, quiet, fsync;
  const char *save_pipeline;
  dp_pipeline *pipe; /* every step and setting, in order */
  dp_cli_label_opts labels;
} prep_opts;

enum { OPT_BASE = 1000, OPT_LABEL = 900, OPT_LABEL_OUT, OPT_SERIES, OPT_NO_SIDECAR, OPT_THREADS, OPT_FSYNC, OPT_PREVIEW, OPT_PIPELINE, OPT_SAVE_PIPELINE, OPT_MAX_VOXELS, OPT_MAX_MEMORY, OPT_LABEL_OPT };

static int parse(int argc, char **argv, prep_opts *o) {
  int ntab = 0;
  struct option *lo = dp_cli_step_options(OPT_BASE, 20, &ntab);
  (void)argc;
  if (!lo || dp_pipeline_new(&o->pipe) != DP_OK) {
    free(lo);
    return dp_cli_fail("out of memory");
  }
  int k = ntab;
  lo[k++] = (struct option){"output", required_argument, NULL, 'o'};
  lo[k++] = (struct option){"label", required_argument, NULL, OPT_LABEL};
  lo[k++] = (struct option){"label-out", required_argument, NULL, OPT_LABEL_OUT};
  lo[k++] = (struct option){"series", required_argument, NULL, OPT_SERIES};
  lo[k++] = (struct option){"no-sidecar", no_argument, NULL, OPT_NO_SIDECAR};
  lo[k++] = (struct option){"fsync", no_argument, NULL, OPT_FSYNC};
  lo[k++] = (struct option){"preview", required_argument, NULL, OPT_PREVIEW};
  lo[k++] = (struct option){"threads", required_argument, NULL, OPT_THREADS};
  lo[k++] = (struct option){"pipeline", required_argument, NULL, OPT_PIPELINE};
  lo[k++] = (struct option){"max-voxels", required_argument, NULL, OPT_MAX_VOXELS};
  lo[k++] = (struct option){"max-memory", required_argument, NULL, OPT_MAX_MEMORY};
  lo[k++] = (struct option){"save-pipeline", required_argument, NULL, OPT_SAVE_PIPELINE};
  lo[k++] = (struct option){"quiet", no_argument, NULL, 'q'};
  lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
  lo[k++] = (struct option){"roi", required_argument, NULL, OPT_LABEL_OPT};
  lo[k++] = (struct option){"contour-tolerance", required_argument, NULL, OPT_LABEL_OPT};
  lo[k++] = (struct option){"seg-threshold", required_argument, NULL, OPT_LABEL_OPT};
  lo[k] = (struct option){NULL, 0, NULL, 0};
  int c, rc = 0, li = 0;
  o->labels = (dp_cli_label_opts)DP_CLI_LABEL_OPTS_INIT;
  long v;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:qh", lo, &li)) != -1) {
    if (dp_cli_take_step(&dp_cli_prep, c, OPT_BASE, ntab, o->pipe, &rc)) continue;
    switch (c) {
      case 'o': o->output = optarg; break;
      case OPT_LABEL: o->label = optarg; break;
      case OPT_LABEL_OUT: o->label_out = optarg; break;
      case OPT_SERIES: o->series = optarg; break;
      case OPT_NO_SIDECAR: o->no_sidecar = 1; break;
      case OPT_FSYNC: o->fsync = 1; break;
      case OPT_PREVIEW: o->preview = optarg; break;
      case OPT_PIPELINE: rc = dp_cli_take_pipeline_file(&dp_cli_prep, o->pipe, optarg); break;
      case OPT_MAX_VOXELS: rc = dp_cli_take_limit(&dp_cli_prep, "max-voxels", optarg); break;
      case OPT_MAX_MEMORY: rc = dp_cli_take_limit(&dp_cli_prep, "max-memory", optarg); break;
      case OPT_SAVE_PIPELINE: o->save_pipeline = optarg; break;
      case OPT_THREADS:
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          rc = dp_cli_usage_error(&dp_cli_prep, "--threads needs an integer 1..256, not '%s'", optarg);
        o->threads = (int)v;
        break;
      case OPT_LABEL_OPT: dp_cli_take_label_option(&dp_cli_prep, lo[li].name, optarg, 0, &o->labels, &rc); break;
      case 'q': o->quiet = 1; break;
      case 'h': print_help(stdout); rc = -1; break;
      default: rc = dp_cli_usage_error(&dp_cli_prep, "invalid option"); break;
    }
  }
  free(lo);
  if (rc) return rc;
  if (o->save_pipeline && !o->output && optind == argc) return 0; /* only saving it */
  if (!o->output) return dp_cli_usage_error(&dp_cli_prep, "-o OUT is required");
  if (!dp_cli_is_nifti_name(o->output))
    return dp_cli_usage_error(&dp_cli_prep, "OUT '%s' must end in .nii or .nii.gz", o->output);
  if (optind != argc - 1) return dp_cli_usage_error(&dp_cli_prep, "give exactly one INPUT");
  if (!o->label != !o->label_out)
    return dp_cli_usage_error(&dp_cli_prep, "--label and --label-out go together");
  if (o->label_out && !dp_cli_is_nifti_name(o->label_out))
    return dp_cli_usage_error(&dp_cli_prep, "--label-out '%s' must end in .nii or .nii.gz", o->label_out);
  if (o->label_out && strcmp(o->label_out, o->output) == 0)
    return dp_cli_usage_error(&dp_cli_prep, "--label-out and -o name the same file");
  if (o->preview && (strcmp(o->preview, o->output) == 0 ||
                     (o->label_out && strcmp(o->preview, o->label_out) == 0)))
    return dp_cli_usage_error(&dp_cli_prep, "--preview and an output name the same file");
  return 0;
}

static int run(int argc, char **argv) {
  prep_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse(argc, argv, &o);
  if (!rc && o.save_pipeline) {
    dp_status ss = dp_pipeline_save(o.pipe, o.save_pipeline);
    if (ss != DP_OK) rc = dp_cli_fail_status(ss, o.save_pipeline);
    else if (!o.output) rc = -1; /* nothing else asked for */
  }
  if (rc) {
    dp_pipeline_free(o.pipe);
    return rc < 0 ? DP_EXIT_OK : rc;
  }
  dp_pipeline_settings_of(o.pipe)->threads = o.threads;
  dp_cli_setup_logging(o.quiet);
  const char *input = argv[optind];
  char name[1024];
  dp_input_name(input, name, sizeof name); /* keys the random steps, as augment's variant 0 */
  dp_pipeline_settings_of(o.pipe)->name_hash = dp_rng_hash_str(name);
  dp_volume *img = NULL, *lab = NULL;
  /* Without a step (nor a preview) the output is the input's values: a
   * NIfTI input is then copied with its stored values and their scaling
   * (scl_slope, scl_inter), as convert does, instead of being converted
   * and written back. */
  int nsteps0 = 0;
  dp_pipeline_steps(o.pipe, &nsteps0);
  double scl[2] = {0, 0};
  int as_stored = nsteps0 == 0 && !o.preview && dp_is_nifti_name(input);
  dp_status s;
  if (as_stored) {
    dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
    ro.threads = o.threads;
    dp_nifti_info ni;
    s = dp_nifti_read(input, &ro, &img, &ni);
    if (s == DP_OK && dp_volume_meta_get(img, "nifti_scl_slope", NULL)) {
      scl[0] = ni.scl_slope;
      scl[1] = ni.scl_inter;
      dp_volume_meta_remove(img, "nifti_scl_slope"); /* in the header, not the sidecar */
      dp_volume_meta_remove(img, "nifti_scl_inter");
    }
  } else {
    s = dp_load_input(input, o.series, o.threads, &img);
  }
  if (s != DP_OK) {
    dp_pipeline_free(o.pipe);
    return dp_cli_fail_status(s, input);
  }
  if (o.label) {
    s = dp_cli_load_label(o.label, input, img, &o.labels, o.threads, &lab);
    if (s != DP_OK) {
      dp_volume_free(img);
      dp_pipeline_free(o.pipe);
      return dp_cli_fail_status(s, o.label);
    }
  }
  /* the "before" row is drawn now: the pipeline consumes the input */
  dp_image *rows[2] = {NULL, NULL}, *picture = NULL;
  dp_preview_opts po = DP_PREVIEW_OPTS_INIT;
  po.threads = o.threads;
  if (o.preview) {
    s = dp_preview_pixel_size(img, &po, &po.pixel_mm); /* both rows at the input's scale */
    if (s == DP_OK) s = dp_preview_render(img, lab, &po, &rows[0]);
    if (s != DP_OK) rc = dp_cli_fail_status(s, o.preview);
  }
  /* Without a preview, which needs the final image, the image is written by
   * the pipeline: a last voxel-wise step is then computed as it is written */
  int written_by_pipeline = 0;
  dp_dtype written = DP_DTYPE_NONE;
  if (!rc) {
    int nsteps = 0;
    const dp_step *steps = dp_pipeline_steps(o.pipe, &nsteps);
    if (!o.preview && nsteps > 0) {
      dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
      wo.threads = o.threads;
      wo.durable = o.fsync;
      s = dp_pipeline_run_write(steps, nsteps, dp_pipeline_settings_of(o.pipe), &img, o.label ? &lab : NULL,
                                o.output, &wo, &written);
      written_by_pipeline = 1;
    } else {
      s = dp_pipeline_run(steps, nsteps, dp_pipeline_settings_of(o.pipe), &img, o.label ? &lab : NULL);
    }
    if (s != DP_OK) rc = dp_cli_fail_status(s, input); /* (write errors name the output themselves) */
  }
  dp_pipeline_free(o.pipe);
  if (!rc && o.preview) {
    s = dp_preview_render(img, lab, &po, &rows[1]);
    if (s == DP_OK) s = dp_preview_stack((const dp_image *const *)rows, 2, &picture);
    if (s != DP_OK) rc = dp_cli_fail_status(s, o.preview);
  }
  dp_image_free(rows[0]);
  dp_image_free(rows[1]);
  if (!rc && written_by_pipeline) {
    if (!o.no_sidecar && (s = dp_cli_write_sidecar(img, o.output, o.fsync)) != DP_OK)
      rc = dp_cli_fail_status(s, o.output);
  } else if (!rc) {
    s = dp_cli_write_volume_scaled(img, o.output, !o.no_sidecar, o.threads, o.fsync, scl[0], scl[1]);
    if (s != DP_OK) rc = dp_cli_fail_status(s, o.output);
    written = img->dtype;
  }
  if (!rc && lab) {
    const char *steps = dp_volume_meta_get(img, "PrepSteps", NULL);
    if (steps) dp_volume_meta_set_json(lab, "PrepSteps", steps);
    s = dp_cli_write_volume(lab, o.label_out, !o.no_sidecar, o.threads, o.fsync);
    if (s != DP_OK) {
      rc = dp_cli_fail_status(s, o.label_out);
      dp_cli_remove_volume(o.output); /* never one without the other */
    }
  }
  if (!rc && picture) {
    dp_png_write_opts pw = DP_PNG_WRITE_OPTS_INIT;
    pw.durable = o.fsync;
    s = dp_png_write(picture, o.preview, &pw);
    if (s != DP_OK) {
      rc = dp_cli_fail_status(s, o.preview);
      dp_cli_remove_volume(o.output);
      if (lab) dp_cli_remove_volume(o.label_out);
    }
  }
  dp_image_free(picture);
  if (!rc && !o.quiet) {
    char code[4] = "";
    double sp[3];
    dp_volume_axcodes(img, code);
    dp_volume_spacing(img, sp);
    fprintf(stderr, "dcmprep: wrote %s (%lld x %lld x %lld, %.4g x %.4g x %.4g mm, %s, %s)\n", o.output,
            (long long)img->dim[0], (long long)img->dim[1], (long long)img->dim[2], sp[0], sp[1], sp[2],
            code, dp_dtype_name(written));
    if (o.preview) fprintf(stderr, "dcmprep: wrote %s\n", o.preview);
  }
  dp_volume_free(img);
  dp_volume_free(lab);
  return rc;
}

const dp_cli_command dp_cli_prep = {"prep", "steps in the order written: reorient, resample, crop, window, normalise, augment",
                                    NULL, run, print_help};
