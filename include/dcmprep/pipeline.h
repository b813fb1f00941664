/* Pipelines: an ordered list of steps applied to an image and, optionally, a
 * label volume on the same grid.  Spatial steps move the label with exactly
 * the same mapping as the image (label-safe interpolation, fill 0, never
 * smoothed).  Every step appends its resolved parameters to the image's
 * metadata key "PrepSteps" (a JSON array), which lands in the sidecar.
 *
 * Steps are described by one table (dp_step_table) from which the command
 * line, the help text and the documentation are made, and parsed from the
 * same words the command line uses (dp_step_parse), so that a pipeline file
 * can hold them too.
 */
#ifndef DCMPREP_PIPELINE_H
#define DCMPREP_PIPELINE_H

#include <stdint.h>
#include "export.h"
#include "status.h"
#include "volume.h"
#include "warp.h"
#include "intensity.h"
#include "nifti.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dp_step_kind {
  DP_STEP_REORIENT = 0,     /* --reorient CODE */
  DP_STEP_CANONICAL,        /* --canonical: closest to RAS */
  DP_STEP_SPACING,          /* --spacing X,Y,Z (mm; "keep" keeps an axis) */
  DP_STEP_SHAPE,            /* --shape I,J,K */
  DP_STEP_LIKE,             /* --like REF.nii: onto a reference grid */
  DP_STEP_CROP_OR_PAD,      /* --crop-or-pad I,J,K */
  DP_STEP_CROP_FOREGROUND,  /* --crop-foreground[=THRESH] */
  DP_STEP_WINDOW,           /* --window C,W | PRESET | dicom (see --window-out) */
  DP_STEP_CLIP,             /* --clip LO,HI */
  DP_STEP_CLIP_PERCENTILE,  /* --clip-percentile PLO,PHI (see --mask) */
  DP_STEP_NORMALIZE,        /* --normalize zscore | minmax | range:A,B | zscore:mean=M,std=S */
  DP_STEP_DTYPE,            /* --dtype TYPE: final cast, rounded and clamped */
  /* augmentation (augment.h, docs/augmentation.md); each may end in @P */
  DP_STEP_FLIP,             /* --flip AXES */
  DP_STEP_RAND_FLIP,        /* --rand-flip[=AXES] */
  DP_STEP_RAND_ROTATE,      /* --rand-rotate DEG | DX,DY,DZ (each D or LO:HI) */
  DP_STEP_RAND_ZOOM,        /* --rand-zoom MIN,MAX (see --anisotropic) */
  DP_STEP_RAND_SHIFT,       /* --rand-shift MM | F% (one or three) */
  DP_STEP_RAND_ELASTIC,     /* --rand-elastic ALPHA,SIGMA (voxels, or both in mm) */
  DP_STEP_RAND_CROP,        /* --rand-crop I,J,K */
  DP_STEP_RAND_CROP_LABEL,  /* --rand-crop-label I,J,K[,POS_RATIO] */
  DP_STEP_RAND_NOISE,       /* --rand-noise STD */
  DP_STEP_RAND_GAMMA,       /* --rand-gamma LO,HI */
  DP_STEP_RAND_SCALE,       /* --rand-scale LO,HI */
  DP_STEP_RAND_OFFSET       /* --rand-offset LO,HI */
} dp_step_kind;

/* Non-zero for the augmentation steps that move voxels (flip, rand-flip,
 * rotate, zoom, shift, elastic, crops): adjacent ones are applied together,
 * with one interpolation. */
DP_API int dp_step_is_spatial_augment(dp_step_kind kind);

/* How --window names its values (dp_step.mode for DP_STEP_WINDOW). */
enum { DP_WINDOW_FROM_VALUES = 0, DP_WINDOW_FROM_PRESET = 1, DP_WINDOW_FROM_DICOM = 2 };

typedef struct dp_step {
  dp_step_kind kind;
  char code[4];       /* reorient */
  double v[3];        /* spacing (<= 0: keep) */
  int64_t n[3];       /* shape, crop-or-pad */
  int has_threshold;  /* crop-foreground */
  double threshold;
  char path[4096];    /* like */
  /* intensity steps (images only): v[0], v[1] hold window C,W; clip LO,HI;
   * percentiles PLO,PHI; range A,B or fixed mean, std */
  int mode;           /* window: DP_WINDOW_FROM_*; normalize: dp_norm_mode */
  int fixed;          /* normalize zscore:mean=M,std=S */
  char name[32];      /* window preset */
  dp_dtype dtype;     /* dtype */
  /* augmentation: lo[d], hi[d] are the range drawn from per axis (rotate
   * degrees; zoom factors; shift mm, or percent of the extent when mode is
   * 1; gamma, scale, offset in lo[0], hi[0]); elastic: v[0] alpha, v[1]
   * sigma (mode 1: mm); crops: n[3] and v[0] the positive ratio; noise:
   * v[0]; flips: axes (bits 0-2 voxel axes i, j, k; bits 3-5 world x, y, z) */
  double lo[3], hi[3];
  int axes;
  double prob;        /* probability the step is applied (1 unless @P) */
} dp_step;

/* Settings that apply to every step of a pipeline, wherever they are written. */
typedef struct dp_pipeline_settings {
  dp_interp interp;       /* image interpolator (default linear) */
  dp_interp label_interp; /* nearest (default) or onehot */
  dp_fill fill;           /* image fill outside the field (default min) */
  double fill_value;      /* for DP_FILL_CONSTANT */
  int antialias;          /* default 1 */
  double margin_mm;       /* crop-foreground margin (default 0) */
  int threads;
  dp_window_out window_out; /* window output (default unit) */
  int has_mask;             /* 0: each step's default mask (clip-percentile and
                               minmax/range: all; zscore: nonzero) */
  dp_mask mask;             /* --mask (kind and threshold; the label is the
                               pipeline's label volume) */
  /* random steps: draw d of step s (its index in the list) is
   * dp_rng_u64(dp_rng_key(seed, name_hash, variant, s), d) (rng.h) */
  uint64_t seed;            /* --seed (default 0) */
  uint64_t name_hash;       /* dp_rng_hash_str of the input's file name */
  uint64_t variant;         /* which variant (dcmprep augment -n, --variant) */
  int anisotropic;          /* --anisotropic: one zoom factor per axis */
} dp_pipeline_settings;
#define DP_PIPELINE_SETTINGS_INIT                                                                  \
  {DP_INTERP_LINEAR, DP_INTERP_NEAREST, DP_FILL_MIN, 0.0, 1, 0.0, 0, DP_WINDOW_UNIT, 0, DP_MASK_INIT, \
   0, 0, 0, 0}

/* One command-line word of the table: a step or a setting. */
typedef struct dp_step_desc {
  const char *name;    /* long option name without "--" */
  int arg;             /* 0: none, 1: required, 2: optional ("--name=ARG") */
  const char *metavar; /* for help, or NULL */
  const char *help;    /* one or more lines, no trailing newline */
  int is_setting;      /* 1: a setting (see dp_pipeline_settings) */
} dp_step_desc;

/* The table, terminated by an entry with name NULL.  Static storage. */
DP_API const dp_step_desc *dp_step_table(void);

/* The i-th word of the table (0-based): its name, and through the non-NULL
 * pointers its dp_step_desc fields.  NULL when i is out of range.  For
 * callers that cannot use the struct (language bindings).  Static storage. */
DP_API const char *dp_step_word(int i, int *arg, int *is_setting, const char **metavar,
                                const char **help);

/* Parses one word of the table with its argument (NULL when none): a step
 * goes to *step (and *is_step = 1), a setting into *settings (*is_step = 0).
 * DP_EINVAL with a message naming the option and the value otherwise. */
DP_API dp_status dp_step_parse(const char *name, const char *arg, dp_step *step, int *is_step,
                               dp_pipeline_settings *settings);

/* Runs steps in order on *image (and *label when label is not NULL and
 * *label is not NULL).  Intensity steps (window, clip, clip-percentile,
 * normalize, dtype, and the random noise, gamma, scale and offset) change
 * the image only; the label may serve as their mask (--mask label).  A run
 * of adjacent spatial augmentation steps is composed into one mapping and
 * resampled once (one record "augment" in PrepSteps lists what each drew);
 * draws depend only on the settings' seed, name_hash and variant and on the
 * step's index, never on the thread count.  Each step replaces the volumes: the old ones are
 * freed, so the caller passes ownership in and gets ownership of the results
 * back.  The label must be on the image's grid (same dims and affine within
 * 1e-3 mm): DP_EGEOMETRY otherwise, before any step runs.  On failure the
 * volumes are left as they were before the failing step (steps that keep
 * the type, such as clip, may work in the image's own buffer: they fail,
 * if at all, before changing it).  An input mapped from a file
 * (dp_volume_is_mapped) is never written to. */
DP_API dp_status dp_pipeline_run(const dp_step *steps, int nsteps,
                                 const dp_pipeline_settings *settings, dp_volume **image,
                                 dp_volume **label);

/* dp_pipeline_run, then the image written to path as dp_nifti_write does
 * (opts as there, NULL for defaults).  When the last step is voxel-wise
 * (window, clip, clip-percentile, normalize) and path is an uncompressed
 * .nii, that step is computed piece by piece as the file is written, so
 * its output never exists whole in memory (a float32 window of an int16 CT
 * costs no 4-byte-per-voxel buffer); the file is the same bytes.  *image is
 * then the volume before that step, its metadata already those of the
 * written image (the step's record appended to PrepSteps, so that
 * dp_sidecar_write of *image writes its sidecar).  *written receives the
 * type written (*image's type when nothing was streamed).  On failure
 * nothing is written and the volumes are as dp_pipeline_run leaves them. */
DP_API dp_status dp_pipeline_run_write(const dp_step *steps, int nsteps,
                                       const dp_pipeline_settings *settings, dp_volume **image,
                                       dp_volume **label, const char *path,
                                       const dp_nifti_write_opts *opts, dp_dtype *written);

/* A pipeline as written: the words of the table (steps and settings) in
 * order, kept both parsed and as text.  Its text form, one word per line,
 * is the pipeline file format (docs/scale.md):
 *
 *   # comments and blank lines are ignored
 *   --canonical
 *   --spacing 1,1,1
 *   interp cubic                 (the "--" is optional)
 *   --crop-foreground=-500       ("=" or spaces before the value)
 *
 * A value runs to the end of its line (leading and trailing blanks removed),
 * so a path may hold spaces.  Relative paths (--like) are taken as given,
 * from the folder the command runs in. */
typedef struct dp_pipeline dp_pipeline;

/* An empty pipeline with default settings.  DP_ENOMEM on failure. */
DP_API dp_status dp_pipeline_new(dp_pipeline **out);
DP_API void dp_pipeline_free(dp_pipeline *p);

/* Appends one word (name without "--", arg NULL when it has none) after
 * checking it with dp_step_parse.  DP_EINVAL with a message otherwise. */
DP_API dp_status dp_pipeline_add(dp_pipeline *p, const char *name, const char *arg);

/* Appends every line of text (the file format above); `origin` names it in
 * messages ("pipe.txt line 3: ...").  On failure p is left as it was. */
DP_API dp_status dp_pipeline_parse(dp_pipeline *p, const char *text, const char *origin);

/* Reads and parses a pipeline file (at most 1 MiB). */
DP_API dp_status dp_pipeline_load(dp_pipeline *p, const char *path);

/* The steps, their count, and the settings (writable, e.g. for threads or
 * the random key's name_hash). */
DP_API const dp_step *dp_pipeline_steps(const dp_pipeline *p, int *nsteps);
DP_API dp_pipeline_settings *dp_pipeline_settings_of(dp_pipeline *p);

/* The canonical text: a header comment, then "--name" or "--name value" per
 * line, in the order added.  Parsing it gives the same pipeline.  Owned by
 * p, valid until the next change. */
DP_API const char *dp_pipeline_text(const dp_pipeline *p);

/* Runs p's steps on copies of image and label (label may be NULL), leaving
 * the inputs untouched, with p's settings except for the random key's
 * name_hash and variant and the thread count (0 = dp_default_threads()),
 * given here so that one pipeline can serve many threads at once.  As
 * dp_pipeline_run otherwise; in addition the label's "PrepSteps" is set to
 * the image's (as `dcmprep prep` and `augment` write it).  *out_image (and
 * *out_label when label is given) receive new volumes the caller frees; on
 * failure they are NULL.  p is only read: safe to call from several threads
 * on one pipeline. */
DP_API dp_status dp_pipeline_apply(const dp_pipeline *p, const dp_volume *image,
                                   const dp_volume *label, uint64_t name_hash, uint64_t variant,
                                   int threads, dp_volume **out_image, dp_volume **out_label);

/* Writes the canonical text to path atomically. */
DP_API dp_status dp_pipeline_save(const dp_pipeline *p, const char *path);

#ifdef __cplusplus
}
#endif
#endif
