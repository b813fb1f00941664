/* The settings of a pipeline: words that apply to every step, wherever
 * they are written (interp, label-interp, fill, no-antialias, margin,
 * window-out, mask; seed and anisotropic are in augment_parse.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "pipeline/pipeline_internal.h"

dp_status dp__parse_setting(const char *name, const char *arg, dp_step *step, dp_pipeline_settings *st) {
  (void)step;
  if (!strcmp(name, "window-out")) {
    if (arg && !strcmp(arg, "unit")) st->window_out = DP_WINDOW_UNIT;
    else if (arg && !strcmp(arg, "u8")) st->window_out = DP_WINDOW_U8;
    else if (arg && !strcmp(arg, "hu")) st->window_out = DP_WINDOW_HU;
    else return dp__error(DP_EINVAL, "--window-out %s: unit, u8 or hu", arg ? arg : "");
    return DP_OK;
  }
  if (!strcmp(name, "mask")) {
    dp_status s = dp_mask_parse(arg, &st->mask);
    if (s == DP_OK) st->has_mask = 1;
    return s;
  }
  if (!strcmp(name, "interp")) {
    dp_status s = dp_interp_parse(arg, &st->interp);
    if (s == DP_OK && st->interp == DP_INTERP_ONEHOT)
      return dp__error(DP_EINVAL, "--interp onehot is for labels (--label-interp onehot)");
    return s;
  }
  if (!strcmp(name, "label-interp")) {
    dp_status s = dp_interp_parse(arg, &st->label_interp);
    if (s == DP_OK && st->label_interp != DP_INTERP_NEAREST && st->label_interp != DP_INTERP_ONEHOT)
      return dp__error(DP_EINVAL, "--label-interp %s: labels take nearest or onehot", arg);
    return s;
  }
  if (!strcmp(name, "fill")) {
    if (arg && !strcmp(arg, "min")) st->fill = DP_FILL_MIN;
    else if (arg && !strcmp(arg, "edge")) st->fill = DP_FILL_EDGE;
    else {
      char *end = NULL;
      double v = arg ? strtod(arg, &end) : 0;
      if (!arg || end == arg || *end || !isfinite(v))
        return dp__error(DP_EINVAL, "--fill %s: min, edge or a number", arg ? arg : "");
      st->fill = DP_FILL_CONSTANT;
      st->fill_value = v;
    }
    return DP_OK;
  }
  if (!strcmp(name, "no-antialias")) {
    st->antialias = 0;
    return DP_OK;
  }
  if (!strcmp(name, "margin")) {
    char *end = NULL;
    double v = arg ? strtod(arg, &end) : -1;
    if (!arg || end == arg || *end || !(v >= 0) || !isfinite(v))
      return dp__error(DP_EINVAL, "--margin %s: a non-negative number of mm", arg ? arg : "");
    st->margin_mm = v;
    return DP_OK;
  }
  return dp__error(DP_EINVAL, "unknown step --%s", name);
}
