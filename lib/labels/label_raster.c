/* dp_label_rasterize: options, the ROI selection, the frame-of-reference
 * check, drawing, and the notes of what drawing met. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "labels/raster.h"

/* Index of the ROI an entry names, or a negative status (message set). */
static int pick(const dp__label_obj *obj, const char *want) {
  if (want[0] == '#') {
    char *end = NULL;
    long n = strtol(want + 1, &end, 10);
    for (int i = 0; end && end != want + 1 && !*end && i < obj->nrois; i++)
      if (obj->rois[i].pub.number == n) return i;
  }
  int exact = -1, nexact = 0, ci = -1, nci = 0;
  for (int i = 0; i < obj->nrois; i++) {
    const char *name = obj->rois[i].pub.name;
    if (!strcmp(name, want)) {
      if (exact < 0) exact = i;
      nexact++;
    } else if (!strcasecmp(name, want)) {
      if (ci < 0) ci = i;
      nci++;
    }
  }
  char p[80];
  dp__label_printable(want, p, sizeof p);
  if (nexact > 1 || (!nexact && nci > 1))
    return dp__error(DP_EINVAL, "%s: %d ROIs are named '%s': choose one by number (#N)", obj->path,
                     nexact > 1 ? nexact : nci, p);
  if (exact >= 0) return exact;
  if (ci >= 0) return ci;
  char list[1024] = "";
  for (int i = 0; i < obj->nrois && strlen(list) < sizeof list - 100; i++) {
    char one[96];
    dp__label_printable(obj->rois[i].pub.name, one, 80);
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s#%d '%s'", i ? ", " : "",
             obj->rois[i].pub.number, one);
  }
  return dp__error(DP_ENOTFOUND, "%s: no ROI '%s' (there are: %s)", obj->path, p, obj->nrois ? list : "none");
}

static dp_status select_rois(const dp__label_obj *obj, const dp_label_opts *o, int **sel, int *nsel) {
  int n = o->nrois > 0 ? o->nrois : obj->nrois;
  *sel = malloc((size_t)(n ? n : 1) * sizeof **sel);
  if (!*sel) return dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    int r = o->nrois > 0 ? pick(obj, o->rois[i] ? o->rois[i] : "") : i;
    if (r < 0) return (dp_status)r;
    for (int k = 0; k < i; k++)
      if ((*sel)[k] == r) {
        char p[80];
        dp__label_printable(obj->rois[r].pub.name, p, sizeof p);
        return dp__error(DP_EINVAL, "%s: ROI '%s' is selected twice", obj->path, p);
      }
    (*sel)[i] = r;
  }
  *nsel = n;
  return n ? DP_OK : dp__error(DP_ENOTFOUND, "%s: the %s holds no ROI", obj->path, dp_label_kind_name(obj->info.kind));
}

/* Every selected ROI must lie in the image's frame of reference. */
static dp_status check_frame(const dp__label_obj *obj, const int *sel, int nsel, const dp_volume *img,
                             dp__notes *notes) {
  const char *want = dp_volume_meta_get(img, "FrameOfReferenceUID", NULL);
  if (!want || !*want) {
    dp__note(notes, "the image has no FrameOfReferenceUID (e.g. a NIfTI input): the %s's frame of reference "
             "is not checked", dp_label_kind_name(obj->info.kind));
    return DP_OK;
  }
  for (int s = 0; s < nsel; s++) {
    const dp__roi *r = &obj->rois[sel[s]];
    char p[80];
    dp__label_printable(r->pub.name, p, sizeof p);
    if (!r->for_uid[0]) {
      dp__note(notes, "'%s' names no frame of reference: assumed to be the image's", p);
      continue;
    }
    if (strcmp(r->for_uid, want) != 0)
      return dp__error(DP_EGEOMETRY, "%s: '%s' is in frame of reference %s, the image in %s: its %s would be "
                       "misplaced (not drawn)", obj->path, p, r->for_uid, want,
                       obj->info.kind == DP_LABEL_SEG ? "frames" : "contours");
  }
  return DP_OK;
}

static void stats_notes(const dp__label_obj *obj, const dp__roi *r, const dp__roi_stats *st, double tol,
                        dp__notes *n) {
  char p[80];
  dp__label_printable(r->pub.name, p, sizeof p);
  if (st->not_closed)
    dp__note(n, "'%s': %d POINT/OPEN contour(s) ignored (only CLOSED_PLANAR contours are filled)", p, st->not_closed);
  if (st->degenerate) dp__note(n, "'%s': %d closed contour(s) of fewer than 3 points ignored", p, st->degenerate);
  if (st->nonparallel)
    dp__note(n, "'%s': %d contour(s) not parallel to the image slices (spanning more than %g slices) not drawn", p,
             st->nonparallel, DP_LABEL_PLANAR_TOL);
  if (st->between)
    dp__note(n, "'%s': %d contour plane(s) farther than %g slices from every image slice not drawn", p, st->between, tol);
  if (st->outside) dp__note(n, "'%s': %d contour plane(s) outside the image's slices not drawn", p, st->outside);
  if (st->self_intersect)
    dp__note(n, "'%s': %d self-intersecting contour(s) (first near slice %d) filled by the even-odd rule", p,
             st->self_intersect, st->first_si_slice);
  if (st->beyond_fov) dp__note(n, "'%s': %d contour(s) reach beyond the image's field of view (cut there)", p, st->beyond_fov);
  if (st->duplicate_frames) dp__note(n, "'%s': %d frame(s) at a position already covered (united)", p, st->duplicate_frames);
  if (st->gaps)
    dp__note(n, "'%s': drawn on %d slices with %d empty slice(s) between them (%s are not interpolated)", p,
             st->slices, st->gaps, obj->info.kind == DP_LABEL_SEG ? "frames" : "contours");
}

static dp_status check_opts(const dp_label_opts *o, const dp_volume *img) {
  if (!(o->slice_tolerance > 0 && o->slice_tolerance <= 0.5))
    return dp__error(DP_EINVAL, "slice tolerance %g: want 0 < t <= 0.5 slices", o->slice_tolerance);
  if (!(o->fraction_threshold > 0 && o->fraction_threshold <= 1))
    return dp__error(DP_EINVAL, "fraction threshold %g: want 0 < t <= 1", o->fraction_threshold);
  if (o->layout != DP_LABELS_MULTI && o->layout != DP_LABELS_ONEHOT && o->layout != DP_LABELS_SEPARATE)
    return dp__error(DP_EINVAL, "unknown label layout %d", (int)o->layout);
  if (!img || img->dim[0] > 0x7fffffff || img->dim[1] > 0x7fffffff || img->dim[2] > 0x7fffffff)
    return dp__error(DP_EINVAL, "no image grid, or one too large to label");
  return DP_OK;
}

dp_status dp_label_rasterize(const dp_label_object *obj, const dp_volume *image, const dp_label_opts *opts,
                             dp_volume ***out, int *nout) {
  *out = NULL;
  *nout = 0;
  dp_label_opts o = DP_LABEL_OPTS_INIT;
  if (opts) o = *opts;
  dp_status s = check_opts(&o, image);
  if (s != DP_OK) return s;
  int *sel = NULL, nsel = 0;
  dp__notes notes = {0};
  s = select_rois(obj, &o, &sel, &nsel);
  if (s == DP_OK) s = check_frame(obj, sel, nsel, image, &notes);
  dp__mask *masks = NULL;
  dp__roi_stats *stats = NULL;
  if (s == DP_OK) {
    masks = calloc((size_t)nsel, sizeof *masks);
    stats = calloc((size_t)nsel, sizeof *stats);
    if (!masks || !stats) s = dp__error(DP_ENOMEM, "out of memory");
  }
  for (int i = 0; s == DP_OK && i < nsel; i++) s = dp__mask_init(&masks[i], (int)image->dim[2]);
  if (s == DP_OK && obj->warnings && obj->warnings[0]) dp__note(&notes, "%s", obj->warnings);
  if (s == DP_OK) {
    s = obj->info.kind == DP_LABEL_SEG
            ? dp__draw_seg(obj, sel, nsel, image, o.fraction_threshold, o.threads, masks, stats)
            : dp__draw_rtstruct(obj, sel, nsel, image, o.slice_tolerance, o.threads, masks, stats);
    if (s != DP_OK) dp__error_prefix(s, obj->path);
  }
  for (int i = 0; s == DP_OK && i < nsel; i++) stats_notes(obj, &obj->rois[sel[i]], &stats[i], o.slice_tolerance, &notes);
  if (s == DP_OK) s = dp__label_volumes(obj, sel, nsel, masks, image, &o, &notes, out, nout);
  for (int i = 0; masks && i < nsel; i++) dp__mask_free(&masks[i]);
  free(masks);
  free(stats);
  free(sel);
  dp__notes_free(&notes);
  return s;
}
