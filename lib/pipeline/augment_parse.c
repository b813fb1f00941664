/* Parsing the augmentation steps and settings from their command-line words
 * (their rows are in the step table, step_table.c). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "pipeline/pipeline_internal.h"

int dp_step_is_spatial_augment(dp_step_kind k) {
  return k == DP_STEP_FLIP || k == DP_STEP_RAND_FLIP || k == DP_STEP_RAND_ROTATE ||
         k == DP_STEP_RAND_ZOOM || k == DP_STEP_RAND_SHIFT || k == DP_STEP_RAND_ELASTIC ||
         k == DP_STEP_RAND_CROP || k == DP_STEP_RAND_CROP_LABEL;
}

static int number(const char **p, double *v) {
  char *end = NULL;
  errno = 0;
  *v = strtod(*p, &end);
  if (end == *p || errno || !isfinite(*v)) return 0;
  *p = end;
  return 1;
}

/* Up to three comma-separated items, each V (the range [-V, V], V >= 0) or
 * LO:HI, optionally each followed by `unit` (all or none: *has_unit).  One
 * item applies to all three axes. */
static dp_status parse_ranges(const char *opt, const char *arg, const char *unit, double lo[3],
                              double hi[3], int *has_unit) {
  const char *p = arg;
  int n = 0, units = 0;
  size_t ul = unit ? strlen(unit) : 0;
  while (n < 3) {
    double a, b;
    if (!number(&p, &a)) goto bad;
    if (*p == ':') {
      p++;
      if (!number(&p, &b) || b < a) goto bad;
    } else {
      if (a < 0) goto bad;
      b = a;
      a = -a;
    }
    if (ul && strncmp(p, unit, ul) == 0) {
      p += ul;
      units++;
    }
    lo[n] = a;
    hi[n++] = b;
    if (*p == '\0') break;
    if (*p++ != ',') goto bad;
  }
  if (*p != '\0' || n == 2 || (units && units != n)) goto bad;
  if (n == 1)
    for (int d = 1; d < 3; d++) {
      lo[d] = lo[0];
      hi[d] = hi[0];
    }
  if (has_unit) *has_unit = units > 0;
  return DP_OK;
bad:
  return dp__error(DP_EINVAL, "--%s %s: expected V or LO:HI (LO <= HI), one or three%s%s", opt, arg,
                   unit ? ", all or none followed by " : "", unit ? unit : "");
}

/* "A,B" with A <= B (and A > 0 when positive) */
static dp_status parse_pair(const char *opt, const char *arg, int positive, double *a, double *b) {
  const char *p = arg;
  if (!number(&p, a) || *p++ != ',' || !number(&p, b) || *p || *a > *b || (positive && !(*a > 0)))
    return dp__error(DP_EINVAL, "--%s %s: expected LO,HI with %sLO <= HI", opt, arg,
                     positive ? "0 < " : "");
  return DP_OK;
}

/* i, j, k (voxel axes) and x, y, z (world axes), with or without commas */
static dp_status parse_axes(const char *opt, const char *arg, int *axes) {
  *axes = 0;
  for (const char *p = arg; *p; p++) {
    const char *letters = "ijkxyz", *q = strchr(letters, tolower((unsigned char)*p));
    if (*p == ',') continue;
    if (!q) return dp__error(DP_EINVAL, "--%s %s: axes are i, j, k (voxel) or x, y, z (world)", opt, arg);
    *axes |= 1 << (q - letters);
  }
  if (!*axes) return dp__error(DP_EINVAL, "--%s: name at least one axis (i, j, k, x, y, z)", opt);
  return DP_OK;
}

static dp_status parse_crop(const char *opt, const char *arg, dp_step *step) {
  const char *p = arg;
  double v[4];
  int n = 0;
  while (n < 4) {
    if (!number(&p, &v[n])) break;
    n++;
    if (*p != ',') break;
    p++;
  }
  int want_ratio = step->kind == DP_STEP_RAND_CROP_LABEL;
  if (*p || (n != 3 && !(want_ratio && n == 4))) goto bad;
  for (int d = 0; d < 3; d++) {
    if (!(v[d] >= 1) || v[d] != floor(v[d]) || v[d] > 2147483647.0) goto bad;
    step->n[d] = (int64_t)v[d];
  }
  step->v[0] = n == 4 ? v[3] : 1.0;
  if (!(step->v[0] >= 0 && step->v[0] <= 1)) goto bad;
  return DP_OK;
bad:
  return dp__error(DP_EINVAL, "--%s %s: expected I,J,K%s (whole voxels >= 1)", opt, arg,
                   want_ratio ? "[,POS_RATIO] (ratio in [0, 1])" : "");
}

static dp_status parse_elastic(const char *arg, dp_step *step) {
  const char *p = arg;
  int mm[2] = {0, 0};
  for (int n = 0; n < 2; n++) {
    if (!number(&p, &step->v[n])) goto bad;
    if (strncmp(p, "mm", 2) == 0) {
      mm[n] = 1;
      p += 2;
    }
    if (*p++ != (n ? '\0' : ',')) goto bad;
  }
  if (mm[0] != mm[1] || !(step->v[0] >= 0) || !(step->v[1] > 0)) goto bad;
  step->mode = mm[0];
  return DP_OK;
bad:
  return dp__error(DP_EINVAL, "--rand-elastic %s: expected ALPHA,SIGMA in voxels or ALPHAmm,SIGMAmm "
                   "(ALPHA >= 0, SIGMA > 0)", arg);
}

static dp_status parse_body(const char *name, const char *a, dp_step *step) {
  double v;
  const char *p = a;
  switch (step->kind) {
    case DP_STEP_FLIP: return parse_axes(name, a, &step->axes);
    case DP_STEP_RAND_FLIP:
      if (!*a) {
        step->axes = 7; /* all three voxel axes */
        return DP_OK;
      }
      return parse_axes(name, a, &step->axes);
    case DP_STEP_RAND_ROTATE: return parse_ranges(name, a, NULL, step->lo, step->hi, NULL);
    case DP_STEP_RAND_SHIFT: return parse_ranges(name, a, "%", step->lo, step->hi, &step->mode);
    case DP_STEP_RAND_ZOOM: return parse_pair(name, a, 1, &step->lo[0], &step->hi[0]);
    case DP_STEP_RAND_ELASTIC: return parse_elastic(a, step);
    case DP_STEP_RAND_CROP:
    case DP_STEP_RAND_CROP_LABEL: return parse_crop(name, a, step);
    case DP_STEP_RAND_NOISE:
      if (!number(&p, &v) || *p || v < 0)
        return dp__error(DP_EINVAL, "--rand-noise %s: a standard deviation >= 0", a);
      step->v[0] = v;
      return DP_OK;
    case DP_STEP_RAND_GAMMA: return parse_pair(name, a, 1, &step->lo[0], &step->hi[0]);
    default: return parse_pair(name, a, 0, &step->lo[0], &step->hi[0]);
  }
}

dp_status dp__parse_augment(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st) {
  (void)st; /* step->kind is the table's */
  char a[256];
  if (strlen(arg ? arg : "") >= sizeof a) return dp__error(DP_EINVAL, "--%s: argument too long", name);
  snprintf(a, sizeof a, "%s", arg ? arg : "");
  step->prob = 1.0;
  char *at = strrchr(a, '@');
  if (at) {
    const char *p = at + 1;
    if (!number(&p, &step->prob) || *p || !(step->prob >= 0 && step->prob <= 1))
      return dp__error(DP_EINVAL, "--%s %s: the probability after @ must be in [0, 1]", name, arg);
    if (step->kind == DP_STEP_RAND_CROP || step->kind == DP_STEP_RAND_CROP_LABEL)
      return dp__error(DP_EINVAL, "--%s %s: crops always apply (they set the output size); no @P",
                       name, arg);
    *at = '\0';
  }
  if (!*a && step->kind != DP_STEP_RAND_FLIP) return dp__error(DP_EINVAL, "--%s needs a value", name);
  return parse_body(name, a, step);
}

dp_status dp__parse_augment_setting(const char *name, const char *arg, dp_step *step,
                                    dp_pipeline_settings *st) {
  (void)step;
  if (!strcmp(name, "anisotropic")) {
    st->anisotropic = 1;
    return DP_OK;
  }
  if (!strcmp(name, "seed")) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(arg ? arg : "", &end, 10);
    /* 2^53: seeds and the elastic seeds drawn from them are exact JSON numbers */
    if (!arg || !isdigit((unsigned char)*arg) || *end || errno || v >= (1ULL << 53))
      return dp__error(DP_EINVAL, "--seed %s: an integer in [0, 2^53)", arg ? arg : "");
    st->seed = v;
    return DP_OK;
  }
  return dp__error(DP_EINVAL, "unknown step --%s", name);
}
