/* The step table: one row per word a pipeline is written in (command line,
 * pipeline files, Python), steps and settings alike, in the order of the
 * help text.  A row gives the word's description (name, argument, help), the
 * step kind it makes (or that it is a setting), the function that parses its
 * argument and the one that runs the step (NULL for settings, and for the
 * spatial augmentation steps, which run together as chains: see
 * dp_pipeline_run).  The CLI's options and help, the docs' step list and
 * Python's dcmprep.steps come from it.  Adding a step: a row here and its
 * parse and run functions in the file of its family (steps_geometry.c,
 * steps_intensity.c, augment_parse.c and augment_steps.c), plus its kind in
 * include/dcmprep/pipeline.h. */
#include <pthread.h>
#include <string.h>

#include "pipeline/pipeline_internal.h"

const dp__step_def dp__steps[] = {
    {{"reorient", 1, "CODE",
     "reorder/flip the voxel axes to CODE (any of the 48: RAS, LPS, LAS, PIR,\n"
     "...); exact, no interpolation", 0},
     DP_STEP_REORIENT, dp__parse_geometry, dp__run_reorient},
    {{"canonical", 0, NULL, "reorient to the closest RAS", 0},
     DP_STEP_CANONICAL, dp__parse_geometry, dp__run_reorient},
    {{"spacing", 1, "X,Y,Z",
     "resample to this spacing in mm per voxel axis (\"keep\" keeps an axis;\n"
     "one number for all); size round(extent / spacing), centre of the field\n"
     "of view kept",
     0},
     DP_STEP_SPACING, dp__parse_geometry, dp__run_resample},
    {{"shape", 1, "I,J,K", "resample to this many voxels per axis (extent kept)", 0},
     DP_STEP_SHAPE, dp__parse_geometry, dp__run_resample},
    {{"like", 1, "REF.nii", "resample onto the grid of REF (dims and affine; oblique allowed)", 0},
     DP_STEP_LIKE, dp__parse_geometry, dp__run_resample},
    {{"crop-or-pad", 1, "I,J,K", "centred crop or pad to this size (pad with the fill)", 0},
     DP_STEP_CROP_OR_PAD, dp__parse_geometry, dp__run_crop},
    {{"crop-foreground", 2, "THRESH",
     "crop to the bounding box of the label > 0 (with --label), else of the\n"
     "voxels above THRESH (default: above the image minimum); see --margin",
     0},
     DP_STEP_CROP_FOREGROUND, dp__parse_geometry, dp__run_crop},
    {{"interp", 1, "MODE", "image interpolator: nearest | linear (default) | cubic (B-spline)", 1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"label-interp", 1, "MODE", "label interpolator: nearest (default) | onehot", 1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"fill", 1, "MODE", "image fill outside the field: min (default) | edge | a number", 1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"no-antialias", 0, NULL, "no Gaussian prefilter when downsampling", 1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"margin", 1, "MM", "margin around the foreground box (mm, default 0)", 1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"window", 1, "C,W|PRESET|dicom",
     "CT window: [C - W/2, C + W/2] mapped linearly onto [0, 1], clamped\n"
     "(DICOM LINEAR_EXACT); PRESET: brain subdural stroke temporal-bone\n"
     "soft-tissue lung mediastinum abdomen liver bone; dicom: the header's\n"
     "first WindowCenter/WindowWidth; see --window-out",
     0},
     DP_STEP_WINDOW, dp__parse_intensity, dp__run_intensity},
    {{"window-out", 1, "unit|u8|hu",
     "window output: unit (float32 0..1, default), u8 (0..255) or hu (the\n"
     "input type, clamped to the window)",
     1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"clip", 1, "LO,HI", "clamp values to [LO, HI] (type kept; integers: [ceil LO, floor HI])", 0},
     DP_STEP_CLIP, dp__parse_intensity, dp__run_intensity},
    {{"clip-percentile", 1, "PLO,PHI",
     "clamp to the PLO and PHI percentiles of the voxels in --mask (default\n"
     "all), exactly as numpy.percentile (linear)",
     0},
     DP_STEP_CLIP_PERCENTILE, dp__parse_intensity, dp__run_intensity},
    {{"normalize", 1, "MODE",
     "zscore (over --mask, default nonzero) | zscore:mean=M,std=S | minmax\n"
     "([0,1], --mask default all) | range:A,B; float32 output; the\n"
     "statistics used go to the sidecar",
     0},
     DP_STEP_NORMALIZE, dp__parse_intensity, dp__run_intensity},
    {{"mask", 1, "all|nonzero|label|above:T",
     "voxels the statistics of clip-percentile and normalize come from\n"
     "(label: the --label volume > 0)",
     1},
     DP__SETTING, dp__parse_setting, NULL},
    {{"dtype", 1, "u8|i16|f32",
     "cast the image (also u16, i32, f64): rounded half away from zero,\n"
     "clamped to the type's range, never wrapped",
     0},
     DP_STEP_DTYPE, dp__parse_intensity, dp__run_intensity},
    {{"flip", 1, "AXES",
     "mirror the content along these axes: i, j, k (voxel axes) or x, y, z\n"
     "(the voxel axis closest to world R-L, A-P, S-I), e.g. i or x,z; grid kept.\n"
     "Augmentation steps (flip ... rand-offset) take an optional @P: applied\n"
     "with probability P, e.g. --rand-rotate 15@0.5; see docs/augmentation.md",
     0},
     DP_STEP_FLIP, dp__parse_augment, NULL},
    {{"rand-flip", 2, "AXES", "flip each listed axis (default i,j,k) with probability 0.5", 0},
     DP_STEP_RAND_FLIP, dp__parse_augment, NULL},
    {{"rand-rotate", 1, "DEG|DX,DY,DZ",
     "rotate about the world x, y, z axes through the volume centre by angles\n"
     "uniform in [-D, D] degrees (or LO:HI), one value for all three axes",
     0},
     DP_STEP_RAND_ROTATE, dp__parse_augment, NULL},
    {{"rand-zoom", 1, "MIN,MAX",
     "zoom about the centre by a factor uniform in [MIN, MAX] (> 1 magnifies);\n"
     "one factor for all axes unless --anisotropic",
     0},
     DP_STEP_RAND_ZOOM, dp__parse_augment, NULL},
    {{"anisotropic", 0, NULL, "rand-zoom draws one factor per voxel axis", 1},
     DP__SETTING, dp__parse_augment_setting, NULL},
    {{"rand-shift", 1, "MM|F%",
     "move the content along each voxel axis by a shift uniform in [-MM, MM]\n"
     "mm (or [-F, F] % of the extent; one or three values, or LO:HI)",
     0},
     DP_STEP_RAND_SHIFT, dp__parse_augment, NULL},
    {{"rand-elastic", 1, "ALPHA,SIGMA",
     "elastic deformation (Simard/U-Net): per axis ALPHA x uniform noise in\n"
     "[-1, 1] smoothed by a Gaussian of SIGMA, in voxels (or ALPHAmm,SIGMAmm)",
     0},
     DP_STEP_RAND_ELASTIC, dp__parse_augment, NULL},
    {{"rand-crop", 1, "I,J,K", "crop to I,J,K voxels at a uniformly drawn origin", 0},
     DP_STEP_RAND_CROP, dp__parse_augment, NULL},
    {{"rand-crop-label", 1, "I,J,K[,POS]",
     "crop to I,J,K centred on a random label voxel with probability POS\n"
     "(default 1), else anywhere; needs --label",
     0},
     DP_STEP_RAND_CROP_LABEL, dp__parse_augment, NULL},
    {{"rand-noise", 1, "STD", "add Gaussian noise of standard deviation STD (image only)", 0},
     DP_STEP_RAND_NOISE, dp__parse_augment, dp__run_augment_intensity},
    {{"rand-gamma", 1, "LO,HI",
     "gamma contrast, gamma uniform in [LO, HI]: min + range ((x - min) / range)^gamma", 0},
     DP_STEP_RAND_GAMMA, dp__parse_augment, dp__run_augment_intensity},
    {{"rand-scale", 1, "LO,HI", "multiply the image by a factor uniform in [LO, HI]", 0},
     DP_STEP_RAND_SCALE, dp__parse_augment, dp__run_augment_intensity},
    {{"rand-offset", 1, "LO,HI", "add an offset uniform in [LO, HI] to the image", 0},
     DP_STEP_RAND_OFFSET, dp__parse_augment, dp__run_augment_intensity},
    {{"seed", 1, "S",
     "seed of the random steps (integer in [0, 2^53), default 0); draws depend\n"
     "only on the seed, the input's file name, the variant and the step's place",
     1},
     DP__SETTING, dp__parse_augment_setting, NULL},
    {{NULL, 0, NULL, NULL, 0}, DP__SETTING, NULL, NULL}};

enum { NWORDS = (int)(sizeof dp__steps / sizeof dp__steps[0]) - 1 };

const dp__step_def *dp__step_find(const char *name) {
  for (int i = 0; name && i < NWORDS; i++)
    if (!strcmp(dp__steps[i].desc.name, name)) return &dp__steps[i];
  return NULL;
}

const dp__step_def *dp__step_of_kind(dp_step_kind kind) {
  for (int i = 0; i < NWORDS; i++)
    if (dp__steps[i].kind == (int)kind) return &dp__steps[i];
  return NULL;
}

/* The public view: the rows' descriptions as one array (dp_step_table). */
static dp_step_desc descs[NWORDS + 1];
static pthread_once_t descs_once = PTHREAD_ONCE_INIT;

static void descs_make(void) {
  for (int i = 0; i <= NWORDS; i++) descs[i] = dp__steps[i].desc;
}

const dp_step_desc *dp_step_table(void) {
  pthread_once(&descs_once, descs_make);
  return descs;
}

const char *dp_step_word(int i, int *arg, int *is_setting, const char **metavar, const char **help) {
  if (i < 0 || i >= NWORDS) return NULL;
  const dp_step_desc *d = &dp__steps[i].desc;
  if (arg) *arg = d->arg;
  if (is_setting) *is_setting = d->is_setting;
  if (metavar) *metavar = d->metavar;
  if (help) *help = d->help;
  return d->name;
}
