/* dcmprep convert: write a volume as NIfTI (+ JSON sidecar). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/uptodate.h"

static const char usage[] =
    "usage: dcmprep convert DICOM_PATH... -o DIR [options]\n"
    "       dcmprep convert INPUT.nii[.gz] -o OUTPUT [options]\n"
    "\n"
    "DICOM: scans the files and folders given (recursively), and writes one NIfTI\n"
    "+ JSON sidecar per volume series into DIR (created if missing).  Localizers,\n"
    "secondary captures and images without geometry are listed but skipped\n"
    "unless --all.  Gantry tilt and uneven slice spacing are detected from the\n"
    "slice positions and, by default, resampled (one linear interpolation from\n"
    "the true positions); see --tilt and --uneven.  Output names come from\n"
    "--name with every field reduced to [A-Za-z0-9._-]; they never leave DIR.\n"
    "\n"
    "Reruns behave like a build tool: each sidecar records ConvertHash, a hash\n"
    "of the series' file contents, the settings that shape the output and the\n"
    "dcmprep version.  Converting a series into a folder that holds its\n"
    "up-to-date outputs does nothing; outputs of the same series that are out\n"
    "of date (another setting, changed files) are replaced.  A name held by\n"
    "another series, or by a file dcmprep did not write, is never replaced:\n"
    "the series gets NAME_2, NAME_3, ... (the first free one, deciding series\n"
    "by series in scan order, so a rerun finds each at the same name).\n"
    "--overwrite rewrites outputs even when they are up to date and replaces\n"
    "whatever file holds the name.  Without sidecars nothing records what\n"
    "made a file: existing files then count as another series'.\n"
    "\n"
    "NIfTI: re-encodes (.nii <-> .nii.gz, NIfTI-1 <-> NIfTI-2).  OUTPUT is a file\n"
    "name ending in .nii or .nii.gz, or a folder (an existing one, whatever its\n"
    "name ends with, or a name ending in /).  Voxel values, type and affine are\n"
    "kept exactly; scl_slope/scl_inter are carried over unless --apply-scaling.\n"
    "An output whose sidecar records the ConvertHash this run would give is up\n"
    "to date and left alone (unless --overwrite); otherwise it is replaced.\n"
    "\n"
    "Outputs are written to a temporary file and renamed, so an interrupted run\n"
    "never leaves a partial file.  They are not synced to disk (as dcm2niix):\n"
    "after a power loss or OS crash recent outputs may be missing; --fsync\n"
    "makes each one durable before it is reported written.\n"
    "\n"
    "DICOM options:\n"
    "  --name TEMPLATE       output name from {number} {description} {modality}\n"
    "                        {index} {uid} (default {number}_{description})\n"
    "  --series LIST         only these series (comma-separated series numbers)\n"
    "  --all                 also convert localizers, secondary captures and\n"
    "                        images without geometry (on a nominal 1 mm grid,\n"
    "                        GeometryNominal in the sidecar); colour images\n"
    "                        become luminance (ColourConverted)\n"
    "  --tilt MODE           reslice (default): rectangular grid; keep: sheared\n"
    "                        affine in the sform (qform = nearest rigid)\n"
    "  --uneven MODE         resample (default) | split | error\n"
    "  --keep-phi            record patient name, ID and birth date in the sidecar\n"
    "\n"
    "Labels: each RT Structure Set or DICOM SEG in the input is drawn on the grid\n"
    "of the image series it labels (see dcmprep scan) and written next to it as\n"
    "NAME_label.nii.gz (NAME_label2... for more objects) with NAME_label.json,\n"
    "the label map (value -> ROI name, number, colour, algorithm, type, voxels;\n"
    "overlaps and notes), written even with --no-sidecar.  u8 up to 255 ROIs,\n"
    "else u16.  A SEG whose images are not in the input is written on its own\n"
    "grid.  Contours are filled by the even-odd rule at voxel centres and matched\n"
    "to slices by position; see docs/labels.md.\n"
    DP_CLI_LABEL_LAYOUT_HELP
    DP_CLI_LABEL_HELP
    "\n"
    "options:\n"
    "  -o, --output PATH     output file or folder (required); an existing folder\n"
    "                        is a folder whatever its name ends with\n"
    "  --overwrite           write even when the outputs are up to date, and\n"
    "                        replace any file that holds an output's name\n"
    "  --no-gz               write .nii (only when OUTPUT is a folder)\n"
    "  --level N             gzip level 1..12 (libdeflate's scale; default 4,\n"
    "                        7 on highly compressible blocks, 2 on noisy ones)\n"
    "  --nifti2              write NIfTI-2 (default: NIfTI-1 unless a dimension\n"
    "                        exceeds 32767)\n"
    "  --apply-scaling       apply scl_slope/scl_inter and store float32 values\n"
    "  --no-sidecar          do not write the .json sidecar\n"
    "  --fsync               sync every output (and its folder) to disk before\n"
    "                        going on: survives a power loss; slower\n"
    DP_CLI_LIMITS_HELP
    "  --threads N           worker threads (default: all cores, or\n"
    "                        $DCMPREP_THREADS)\n"
    "  -q, --quiet           no progress messages\n"
    "  -h, --help            show this help\n";

typedef struct {
  const char *output;
  int no_gz, level, nifti2, apply_scaling, no_sidecar, threads, quiet, fsync, overwrite;
  dp_cli_dicom_opts dicom;
} convert_opts;

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A folder: one that exists, whatever its name ends with, or a name ending
 * in '/'. */
static int is_folder_name(const char *p) {
  size_t n = strlen(p);
  return is_dir(p) || (n > 0 && p[n - 1] == '/');
}

/* OUTPUT folder + INPUT's file name with its NIfTI suffix replaced. */
static int output_name(const char *input, const convert_opts *o, char *out, size_t size) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  size_t n = strlen(base);
  if (n >= 7 && strcmp(base + n - 7, ".nii.gz") == 0) n -= 7;
  else if (n >= 4 && strcmp(base + n - 4, ".nii") == 0) n -= 4;
  int w = snprintf(out, size, "%s/%.*s%s", o->output, (int)n, base, o->no_gz ? ".nii" : ".nii.gz");
  return w > 0 && (size_t)w < size ? 0 : -1;
}

/* The hash of a NIfTI conversion: the input's contents and what shapes the
 * output (its kind from the name, version, level, scaling). */
static dp_status nifti_hash(const char *input, const char *out, const convert_opts *o, char hex[DP_CLI_HASH_HEX]) {
  char text[128];
  size_t n = strlen(out);
  int gz = n >= 3 && strcmp(out + n - 3, ".gz") == 0;
  snprintf(text, sizeof text, "gz %d nifti2 %d level %d scaling %d", gz, o->nifti2, o->level, o->apply_scaling);
  dp_cli_hash h;
  dp_cli_hash_init(&h);
  dp_cli_hash_str(&h, "dcmprep convert nifti");
  dp_cli_hash_str(&h, dp_version());
  dp_cli_hash_str(&h, text);
  dp_status s = dp_cli_hash_file(&h, input);
  dp_cli_hash_hex(&h, hex);
  return s;
}

static int parse(int argc, char **argv, convert_opts *o) {
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'}, {"no-gz", no_argument, NULL, 'z'},
      {"level", required_argument, NULL, 'l'},  {"nifti2", no_argument, NULL, '2'},
      {"apply-scaling", no_argument, NULL, 'a'}, {"no-sidecar", no_argument, NULL, 's'},
      {"threads", required_argument, NULL, 't'}, {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},         {"name", required_argument, NULL, 'N'},
      {"series", required_argument, NULL, 'S'}, {"all", no_argument, NULL, 'A'},
      {"tilt", required_argument, NULL, 'T'},   {"uneven", required_argument, NULL, 'U'},
      {"keep-phi", no_argument, NULL, 'K'},     {"fsync", no_argument, NULL, 'F'},
      {"max-voxels", required_argument, NULL, 'V'}, {"max-memory", required_argument, NULL, 'M'},
      {"roi", required_argument, NULL, 'L'},    {"labels", required_argument, NULL, 'L'},
      {"contour-tolerance", required_argument, NULL, 'L'}, {"seg-threshold", required_argument, NULL, 'L'},
      {"overwrite", no_argument, NULL, 'W'},    {NULL, 0, NULL, 0}};
  int li = 0;
  long v;
  int c;
  while ((c = getopt_long(argc, argv, "o:qh", longopts, &li)) != -1) {
    switch (c) {
      case 'L': {
        int rc = 0;
        dp_cli_take_label_option(&dp_cli_convert, longopts[li].name, optarg, 1, &o->dicom.labels, &rc);
        if (rc) return rc;
        break;
      }
      case 'o': o->output = optarg; break;
      case 'z': o->no_gz = 1; break;
      case 'l':
        if (dp_cli_parse_int(optarg, 1, 12, &v))
          return dp_cli_usage_error(&dp_cli_convert, "--level needs an integer 1..12, not '%s'", optarg);
        o->level = (int)v;
        break;
      case '2': o->nifti2 = 1; break;
      case 'a': o->apply_scaling = 1; break;
      case 's': o->no_sidecar = 1; break;
      case 't':
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          return dp_cli_usage_error(&dp_cli_convert, "--threads needs an integer 1..256, not '%s'", optarg);
        o->threads = (int)v;
        break;
      case 'q': o->quiet = 1; break;
      case 'N': o->dicom.name = optarg; break;
      case 'S': o->dicom.series = optarg; break;
      case 'A':
        o->dicom.all = 1;
        o->dicom.load.nominal_geometry = 1;
        break;
      case 'T':
        if (!strcmp(optarg, "reslice")) o->dicom.load.tilt = DP_TILT_RESLICE;
        else if (!strcmp(optarg, "keep")) o->dicom.load.tilt = DP_TILT_KEEP;
        else return dp_cli_usage_error(&dp_cli_convert, "--tilt is reslice or keep, not '%s'", optarg);
        break;
      case 'U':
        if (!strcmp(optarg, "resample")) o->dicom.load.uneven = DP_UNEVEN_RESAMPLE;
        else if (!strcmp(optarg, "split")) o->dicom.load.uneven = DP_UNEVEN_SPLIT;
        else if (!strcmp(optarg, "error")) o->dicom.load.uneven = DP_UNEVEN_ERROR;
        else return dp_cli_usage_error(&dp_cli_convert, "--uneven is resample, split or error, not '%s'", optarg);
        break;
      case 'K': o->dicom.load.keep_phi = 1; break;
      case 'F': o->fsync = 1; break;
      case 'W': o->overwrite = 1; break;
      case 'V':
      case 'M': {
        int r = dp_cli_take_limit(&dp_cli_convert, c == 'V' ? "max-voxels" : "max-memory", optarg);
        if (r) return r;
        break;
      }
      case 'h': fputs(usage, stdout); return -1;
      default: return dp_cli_usage_error(&dp_cli_convert, "invalid option");
    }
  }
  if (!o->output) return dp_cli_usage_error(&dp_cli_convert, "-o OUTPUT is required");
  if (optind >= argc) return dp_cli_usage_error(&dp_cli_convert, "no INPUT given");
  if (optind != argc - 1 || !dp_cli_is_nifti_name(argv[optind])) {
    if (!is_folder_name(o->output) && dp_cli_is_nifti_name(o->output))
      return dp_cli_usage_error(&dp_cli_convert, "DICOM input needs an output folder, not '%s'", o->output);
    return 1; /* DICOM mode */
  }
  if (!is_folder_name(o->output) && !dp_cli_is_nifti_name(o->output))
    return dp_cli_usage_error(&dp_cli_convert, "OUTPUT '%s' is neither a folder nor a .nii/.nii.gz name", o->output);
  if (o->no_gz && !is_folder_name(o->output))
    return dp_cli_usage_error(&dp_cli_convert, "--no-gz applies when OUTPUT is a folder; name the file .nii instead");
  return 0;
}

static int write_outputs(const dp_volume *v, const dp_nifti_info *ni, const char *out,
                         const convert_opts *o) {
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.version = o->nifti2 ? 2 : 0;
  wo.level = o->level;
  wo.threads = o->threads;
  wo.durable = o->fsync;
  if (!o->apply_scaling) {
    wo.scl_slope = ni->scl_slope;
    wo.scl_inter = ni->scl_inter;
  }
  wo.cal_min = ni->cal_min;
  wo.cal_max = ni->cal_max;
  dp_status s = dp_nifti_write(v, out, &wo);
  if (s != DP_OK) return dp_cli_fail_status(s, out);
  if (!o->no_sidecar) {
    char side[4096];
    dp_sidecar_write_opts so = DP_SIDECAR_WRITE_OPTS_INIT;
    so.durable = o->fsync;
    s = dp_sidecar_path(out, side, sizeof side);
    if (s == DP_OK) s = dp_sidecar_write_with(v, side, &so);
    if (s != DP_OK) return dp_cli_fail_status(s, side);
  }
  if (!o->quiet) fprintf(stderr, "dcmprep: wrote %s\n", out);
  return DP_EXIT_OK;
}

static int run(int argc, char **argv) {
  convert_opts o = {0};
  o.dicom.load = (dp_dicom_load_opts)DP_DICOM_LOAD_OPTS_INIT;
  o.dicom.labels = (dp_cli_label_opts)DP_CLI_LABEL_OPTS_INIT;
  int rc = parse(argc, argv, &o);
  if (rc < 0) return DP_EXIT_OK; /* --help */
  if (rc > 1) return rc; /* usage error */
  dp_cli_setup_logging(o.quiet);
  int folder = rc == 1 || is_folder_name(o.output);
  char outdir[4096];
  size_t dn = strlen(o.output);
  while (dn > 1 && o.output[dn - 1] == '/') dn--; /* "out/" names the folder "out" */
  if (folder && dn < sizeof outdir) {
    snprintf(outdir, sizeof outdir, "%.*s", (int)dn, o.output);
    o.output = outdir;
  }
  if (rc == 1) {
    o.dicom.output = o.output;
    o.dicom.gz = !o.no_gz;
    o.dicom.level = o.level;
    o.dicom.nifti2 = o.nifti2;
    o.dicom.no_sidecar = o.no_sidecar;
    o.dicom.durable = o.fsync;
    o.dicom.quiet = o.quiet;
    o.dicom.overwrite = o.overwrite;
    o.dicom.load.threads = o.threads;
    return dp_cli_convert_dicom(argc - optind, argv + optind, &o.dicom);
  }
  const char *input = argv[optind];
  char out[4096], hex[DP_CLI_HASH_HEX] = "";
  if (folder) {
    if (mkdir(o.output, 0777) != 0 && errno != EEXIST)
      return dp_cli_fail("cannot create output folder %s: %s", o.output, strerror(errno));
    if (output_name(input, &o, out, sizeof out)) return dp_cli_fail("output path too long");
  } else {
    snprintf(out, sizeof out, "%s", o.output);
  }
  if (!o.no_sidecar && nifti_hash(input, out, &o, hex) != DP_OK) hex[0] = '\0'; /* the read says why */
  if (hex[0] && !o.overwrite && dp_cli_up_to_date(out, "ConvertHash", hex)) {
    if (!o.quiet) fprintf(stderr, "dcmprep: %s is up to date\n", out);
    return DP_EXIT_OK;
  }
  dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
  ro.apply_scaling = o.apply_scaling;
  ro.threads = o.threads;
  dp_nifti_info ni;
  dp_volume *v = NULL;
  dp_status s = dp_nifti_read(input, &ro, &v, &ni);
  if (s != DP_OK) return dp_cli_fail_status(s, input);
  /* The header's scaling either travels in the header or was applied: either
   * way it is not sidecar metadata. */
  dp_volume_meta_remove(v, "nifti_scl_slope");
  dp_volume_meta_remove(v, "nifti_scl_inter");
  if (hex[0]) s = dp_volume_meta_set_str(v, "ConvertHash", hex);
  if (s != DP_OK) {
    dp_volume_free(v);
    return dp_cli_fail_status(s, input);
  }
  rc = write_outputs(v, &ni, out, &o);
  dp_volume_free(v);
  return rc;
}

const dp_cli_command dp_cli_convert = {"convert", "write a volume as NIfTI (.nii/.nii.gz) with a JSON sidecar",
                                       usage, run, NULL};
