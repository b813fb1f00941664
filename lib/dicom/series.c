#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dicom/series.h"

/* Tolerances: orientation cosines that differ by less than 1e-4 are the same
 * plane (scanners round IOP to 5-6 decimals); spacings within 1e-4 relative. */
#define IOP_TOL 1e-4
#define SPACING_TOL 1e-4

static int kind_of(const dp__slice *s) {
  if (strncmp(s->sop_class, "1.2.840.10008.5.1.4.1.1.7", 25) == 0 || s->samples != 1 ||
      strstr(s->image_type, "SCREEN SAVE") || strstr(s->image_type, "SCREENSHOT"))
    return DP_SERIES_SECONDARY;
  if (strstr(s->image_type, "LOCALIZER")) return DP_SERIES_LOCALIZER;
  if (!s->has_ipp || !s->has_iop || !s->has_spacing) return DP_SERIES_NO_GEOMETRY;
  return DP_SERIES_VOLUME;
}

/* ImageType from its third value on (after ORIGINAL/DERIVED and
 * PRIMARY/SECONDARY): what the pixels are, e.g. "M\FFE", "P", "FIELD_MAP". */
static const char *flavour(const dp__slice *s) {
  const char *p = strchr(s->image_type, '\\');
  p = p ? strchr(p + 1, '\\') : NULL;
  return p ? p + 1 : "";
}

/* MR series may interleave magnitude, phase, real/imaginary or field-map
 * images of the same positions (e.g. Philips enhanced B0 maps): those are
 * different volumes, told apart by ImageType (FrameType for enhanced
 * objects).  CT is not split this way: the LOCALIZER/secondary kinds suffice
 * and per-slice differences must not break a volume. */
static int same_flavour(const dp__slice *a, const dp__slice *b) {
  if (strcmp(a->modality, "MR") != 0) return 1;
  return strcmp(flavour(a), flavour(b)) == 0;
}

static int same_group(const dp__slice *a, const dp__slice *b) {
  if (strcmp(a->series_uid, b->series_uid) != 0) return 0;
  if (!same_flavour(a, b)) return 0;
  if (a->rows != b->rows || a->cols != b->cols || a->echo_number != b->echo_number) return 0;
  if (kind_of(a) != kind_of(b) || a->samples != b->samples) return 0;
  if (a->has_iop != b->has_iop || a->has_spacing != b->has_spacing) return 0;
  for (int i = 0; a->has_iop && i < 6; i++)
    if (fabs(a->iop[i] - b->iop[i]) > IOP_TOL) return 0;
  for (int i = 0; a->has_spacing && i < 2; i++)
    if (fabs(a->spacing[i] - b->spacing[i]) > SPACING_TOL * fmax(1.0, a->spacing[i])) return 0;
  return 1;
}

void dp__groups_free(dp__group *g, int n) {
  for (int i = 0; g && i < n; i++) {
    free(g[i].idx);
    free(g[i].pos);
  }
  free(g);
}

typedef struct {
  const dp__slice *s;
  const dp__group *g;
} group_sort_ctx;

static const dp__slice *first(const dp__slice *s, const dp__group *g) { return &s[g->idx[0]]; }

static void warn(dp__group *g, const char *fmt, ...) DP__PRINTF(2, 3);

/* A series split because its images changed orientation or size midway is
 * reported on every part, so that a reader of the scan knows the parts
 * belong together. */
static void flag_splits(dp__group *g, int ng, const dp__slice *s) {
  for (int a = 0; a < ng; a++) {
    const dp__slice *x = first(s, &g[a]);
    int orient = 0, size = 0;
    for (int b = 0; b < ng; b++) {
      const dp__slice *y = first(s, &g[b]);
      if (a == b || strcmp(x->series_uid, y->series_uid) != 0 || kind_of(x) != kind_of(y)) continue;
      if (x->rows != y->rows || x->cols != y->cols) {
        size++;
        continue;
      }
      for (int i = 0; x->has_iop && y->has_iop && i < 6; i++)
        if (fabs(x->iop[i] - y->iop[i]) > IOP_TOL) {
          orient++;
          break;
        }
    }
    if (orient) warn(&g[a], "orientation changes within the series (%d other part%s)", orient, orient > 1 ? "s" : "");
    if (size) warn(&g[a], "image size changes within the series (%d other part%s)", size, size > 1 ? "s" : "");
  }
}

dp_status dp__series_group(const dp__slice *s, int n, dp__group **groups, int *ngroups) {
  *groups = NULL;
  *ngroups = 0;
  dp__group *g = NULL;
  int ng = 0, cap = 0;
  int *caps = NULL;
  for (int i = 0; i < n; i++) {
    int k = ng - 1;
    /* the previous image's group is the likely one: try it first */
    if (k < 0 || !same_group(first(s, &g[k]), &s[i]))
      for (k = 0; k < ng; k++)
        if (same_group(first(s, &g[k]), &s[i])) break;
    if (k == ng) {
      if (ng == cap) {
        cap = cap ? cap * 2 : 16;
        dp__group *ng_ = realloc(g, (size_t)cap * sizeof *g);
        int *nc = realloc(caps, (size_t)cap * sizeof *caps);
        if (!ng_ || !nc) {
          dp__groups_free(ng_ ? ng_ : g, ng);
          free(nc ? nc : caps);
          return dp__error(DP_ENOMEM, "out of memory grouping images");
        }
        g = ng_;
        caps = nc;
      }
      memset(&g[ng], 0, sizeof *g);
      caps[ng] = 0;
      ng++;
    }
    if (g[k].n == caps[k]) {
      caps[k] = caps[k] ? caps[k] * 2 : 64;
      int *ni = realloc(g[k].idx, (size_t)caps[k] * sizeof(int));
      if (!ni) {
        dp__groups_free(g, ng);
        free(caps);
        return dp__error(DP_ENOMEM, "out of memory grouping images");
      }
      g[k].idx = ni;
    }
    g[k].idx[g[k].n++] = i;
  }
  free(caps);
  /* Stable order: series number, then UID, then kind, then echo. */
  for (int a = 1; a < ng; a++) {
    dp__group t = g[a];
    int b = a - 1;
    while (b >= 0) {
      const dp__slice *x = first(s, &g[b]), *y = first(s, &t);
      int c = x->series_number != y->series_number
                  ? (x->series_number > y->series_number ? 1 : -1)
                  : strcmp(x->series_uid, y->series_uid);
      if (c == 0) c = kind_of(x) - kind_of(y);
      if (c == 0) c = x->echo_number > y->echo_number ? 1 : x->echo_number < y->echo_number ? -1 : 0;
      if (c <= 0) break;
      g[b + 1] = g[b];
      b--;
    }
    g[b + 1] = t;
  }
  for (int k = 0; k < ng; k++) g[k].kind = kind_of(first(s, &g[k]));
  flag_splits(g, ng, s);
  *groups = g;
  *ngroups = ng;
  return DP_OK;
}

static void cross(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}
static double dot(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
static int normalise(double v[3]) {
  double n = sqrt(dot(v, v));
  if (!(n > 1e-6)) return -1;
  for (int i = 0; i < 3; i++) v[i] /= n;
  return 0;
}

/* Sort key: position along the normal, then temporal index, acquisition,
 * instance number, frame (the t order of repeated positions). */
typedef struct {
  double d;
  int t1, t2, t3, t4;
  int idx;
} key;

static int cmp_int(int a, int b) { return a < b ? -1 : a > b; }

static int cmp_key(const void *pa, const void *pb) {
  const key *a = pa, *b = pb;
  if (a->d != b->d) return a->d < b->d ? -1 : 1;
  int c = cmp_int(a->t1, b->t1);
  if (!c) c = cmp_int(a->t2, b->t2);
  if (!c) c = cmp_int(a->t3, b->t3);
  if (!c) c = cmp_int(a->t4, b->t4);
  return c ? c : cmp_int(a->idx, b->idx);
}

static void warn(dp__group *g, const char *fmt, ...) {
  size_t len = strlen(g->warnings);
  if (len + 3 >= sizeof g->warnings) return;
  if (len) {
    memcpy(g->warnings + len, "; ", 3);
    len += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->warnings + len, sizeof g->warnings - len, fmt, ap);
  va_end(ap);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmp_instance(const void *pa, const void *pb) {
  const key *a = pa, *b = pb;
  int c = cmp_int(a->t3, b->t3);
  if (!c) c = cmp_int(a->t4, b->t4);
  return c ? c : cmp_int(a->idx, b->idx);
}

/* Without usable geometry the only order left is InstanceNumber, then frame
 * (such a series is loaded only on request, on a nominal grid). */
static dp_status sort_by_instance(dp__group *g, const dp__slice *s) {
  key *k = malloc((size_t)g->n * sizeof *k);
  if (!k) return dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; i < g->n; i++) {
    k[i].t3 = s[g->idx[i]].instance_number;
    k[i].t4 = s[g->idx[i]].frame;
    k[i].idx = g->idx[i];
  }
  qsort(k, (size_t)g->n, sizeof *k, cmp_instance);
  for (int i = 0; i < g->n; i++) g->idx[i] = k[i].idx;
  free(k);
  return DP_OK;
}

/* Plausible geometry: a pixel between 10 nm and 100 m, positions within
 * 10 km of the origin (float32 NIfTI affines hold them exactly enough). */
#define DP__MIN_SPACING_MM 1e-5
#define DP__MAX_SPACING_MM 1e5
#define DP__MAX_POSITION_MM 1e7

dp_status dp__series_analyse(dp__group *g, const dp__slice *s) {
  if (g->n < 1) return dp__error(DP_EINVAL, "empty series");
  const dp__slice *f = &s[g->idx[0]];
  g->nz = g->n;
  g->nt = 1;
  g->geometry_ok = 0;
  if (!f->has_ipp || !f->has_iop || !f->has_spacing) {
    warn(g, "no geometry (%s missing)", !f->has_ipp ? "ImagePositionPatient"
                                        : !f->has_iop ? "ImageOrientationPatient"
                                                      : "PixelSpacing");
    return sort_by_instance(g, s);
  }
  for (int i = 0; i < 3; i++) {
    g->r[i] = f->iop[i];
    g->c[i] = f->iop[3 + i];
  }
  if (normalise(g->r) || normalise(g->c)) {
    warn(g, "ImageOrientationPatient is degenerate");
    return sort_by_instance(g, s);
  }
  cross(g->r, g->c, g->nrm);
  if (normalise(g->nrm) || fabs(dot(g->r, g->c)) > 1e-3) {
    warn(g, "ImageOrientationPatient vectors are not orthogonal");
    return sort_by_instance(g, s);
  }
  if (!(f->spacing[0] > 0) || !(f->spacing[1] > 0) || !isfinite(f->spacing[0]) ||
      !isfinite(f->spacing[1])) {
    warn(g, "PixelSpacing %g\\%g is not positive", f->spacing[0], f->spacing[1]);
    return sort_by_instance(g, s);
  }
  /* a spacing or position no scanner makes: refused here, naming the
   * attribute, rather than as a singular or infinite affine later */
  if (!(f->spacing[0] >= DP__MIN_SPACING_MM && f->spacing[0] <= DP__MAX_SPACING_MM &&
        f->spacing[1] >= DP__MIN_SPACING_MM && f->spacing[1] <= DP__MAX_SPACING_MM)) {
    warn(g, "PixelSpacing %g\\%g is outside [%g, %g] mm", f->spacing[0], f->spacing[1], DP__MIN_SPACING_MM,
         DP__MAX_SPACING_MM);
    return sort_by_instance(g, s);
  }
  for (int i = 0; i < g->n; i++) {
    const double *p = s[g->idx[i]].ipp;
    if (!(fabs(p[0]) <= DP__MAX_POSITION_MM && fabs(p[1]) <= DP__MAX_POSITION_MM &&
          fabs(p[2]) <= DP__MAX_POSITION_MM)) {
      warn(g, "ImagePositionPatient %g\\%g\\%g of %s is beyond %g mm", p[0], p[1], p[2], s[g->idx[i]].path,
           DP__MAX_POSITION_MM);
      return sort_by_instance(g, s);
    }
  }
  key *k = malloc((size_t)g->n * sizeof *k);
  if (!k) return dp__error(DP_ENOMEM, "out of memory");
  for (int i = 0; i < g->n; i++) {
    const dp__slice *x = &s[g->idx[i]];
    k[i].d = dot(x->ipp, g->nrm);
    k[i].t1 = x->temporal_index;
    k[i].t2 = x->acquisition_number;
    k[i].t3 = x->instance_number;
    k[i].t4 = x->frame;
    k[i].idx = g->idx[i];
  }
  qsort(k, (size_t)g->n, sizeof *k, cmp_key);
  for (int i = 0; i < g->n; i++) g->idx[i] = k[i].idx;

  /* Unique positions (within 1 micron + 0.1 % of the typical step). */
  double span = k[g->n - 1].d - k[0].d;
  double tol = 1e-3 + (g->n > 1 ? 1e-3 * span / (g->n - 1) : 0);
  size_t nn = (size_t)(unsigned)g->n;
  g->pos = malloc(nn * sizeof *g->pos);
  int *mult = calloc(nn, sizeof *mult);
  if (!g->pos || !mult) {
    free(k);
    free(mult);
    return dp__error(DP_ENOMEM, "out of memory");
  }
  int nz = 0;
  for (int i = 0; i < g->n; i++) {
    if (nz == 0 || k[i].d - g->pos[nz - 1] > tol) g->pos[nz++] = k[i].d;
    mult[nz - 1]++;
  }
  free(k);
  int regular = 1;
  for (int z = 1; z < nz; z++) regular &= mult[z] == mult[0];
  g->nz = nz;
  if (regular) {
    g->nt = mult[0]; /* every position equally often: volumes along t */
  } else {
    int d = 0;
    for (int z = 0; z < nz; z++) d += mult[z] > 1;
    g->dups = d;
    warn(g, "%d positions repeat unequally (duplicate images?)", d);
  }
  free(mult);

  /* Steps and their regularity. */
  if (g->nz > 1) {
    double *st = malloc((size_t)(g->nz - 1) * sizeof *st);
    if (!st) return dp__error(DP_ENOMEM, "out of memory");
    for (int z = 0; z + 1 < g->nz; z++) st[z] = g->pos[z + 1] - g->pos[z];
    qsort(st, (size_t)(g->nz - 1), sizeof *st, cmp_double);
    g->step = st[(g->nz - 1) / 2];
    double lo = st[0], hi = st[g->nz - 2];
    free(st);
    double etol = fmax(0.02, 0.01 * g->step);
    if (hi - lo > etol) {
      g->uneven = 1;
      int missing = 0, other = 0;
      for (int z = 0; z + 1 < g->nz; z++) {
        double q = (g->pos[z + 1] - g->pos[z]) / g->step;
        long m = lround(q);
        if (m >= 2 && fabs(q - (double)m) * g->step <= etol * (double)m)
          missing += (int)(m - 1);
        else if (fabs(q - 1.0) * g->step > etol)
          other++;
      }
      g->missing = missing;
      if (missing) warn(g, "%d missing slice%s (gaps of whole steps)", missing, missing > 1 ? "s" : "");
      if (other) warn(g, "variable slice spacing %.4g to %.4g mm", lo, hi);
    }
  }
  /* Tilt: in-plane drift of the positions along the stack (least squares
   * against the normal position), which a rectangular grid would not have. */
  if (g->nz > 1) {
    double sdd = 0, sdu = 0, sdv = 0, dm = 0, um = 0, vm = 0;
    int cnt = 0;
    const double *o = s[g->idx[0]].ipp;
    for (int i = 0; i < g->n; i++) {
      const double *p = s[g->idx[i]].ipp;
      double e[3] = {p[0] - o[0], p[1] - o[1], p[2] - o[2]};
      dm += dot(e, g->nrm);
      um += dot(e, g->r);
      vm += dot(e, g->c);
      cnt++;
    }
    dm /= cnt;
    um /= cnt;
    vm /= cnt;
    for (int i = 0; i < g->n; i++) {
      const double *p = s[g->idx[i]].ipp;
      double e[3] = {p[0] - o[0], p[1] - o[1], p[2] - o[2]};
      double d = dot(e, g->nrm) - dm;
      sdd += d * d;
      sdu += d * (dot(e, g->r) - um);
      sdv += d * (dot(e, g->c) - vm);
    }
    if (sdd > 0) {
      g->shear[0] = sdu / sdd;
      g->shear[1] = sdv / sdd;
    }
    double sh = sqrt(g->shear[0] * g->shear[0] + g->shear[1] * g->shear[1]);
    double drift = sh * (g->pos[g->nz - 1] - g->pos[0]);
    if (drift > 0.01 && atan(sh) * 180.0 / DP__PI > 0.01) {
      g->tilt_deg = atan(sh) * 180.0 / DP__PI;
      warn(g, "gantry tilt %.2f degrees (slices shifted in-plane along the stack)", g->tilt_deg);
    } else {
      g->shear[0] = g->shear[1] = 0;
    }
  }
  g->geometry_ok = g->dups == 0;
  return DP_OK;
}

void dp__series_lps_affine(const dp__group *g, const dp__slice *s, double m[4][4]) {
  const dp__slice *f = &s[g->idx[0]];
  const dp__slice *l = &s[g->idx[g->n - 1]];
  memset(m, 0, 16 * sizeof(double));
  double step[3];
  if (g->nz > 1) {
    for (int i = 0; i < 3; i++) step[i] = (l->ipp[i] - f->ipp[i]) / (g->nz - 1);
  } else {
    double t = f->thickness > 0 ? f->thickness : 1.0;
    for (int i = 0; i < 3; i++) step[i] = g->nrm[i] * t;
  }
  for (int i = 0; i < 3; i++) {
    m[i][0] = g->r[i] * f->spacing[1]; /* along a row: column spacing */
    m[i][1] = g->c[i] * f->spacing[0]; /* down a column: row spacing */
    m[i][2] = step[i];
    m[i][3] = f->ipp[i];
  }
  m[3][3] = 1;
}

void dp__series_ras_affine(const dp__group *g, const dp__slice *s, dp_mat4 *out) {
  double m[4][4];
  dp__series_lps_affine(g, s, m);
  *out = dp_mat4_identity();
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) out->m[i][j] = (i < 2 ? -1.0 : 1.0) * m[i][j] + 0.0;
}
