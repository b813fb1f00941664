/* Row spans and the even-odd polygon fill.  This file is compiled with
 * floating-point contraction off (lib/CMakeLists.txt): the crossing formula
 * of labels.h is evaluated exactly as written, so that any other
 * implementation of the rule in IEEE double precision gives the same voxels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "labels/raster.h"

dp_status dp__spans_push(dp__spans *s, int32_t j, int32_t i0, int32_t i1) {
  if (s->n == s->cap) {
    int cap = s->cap ? s->cap * 2 : 64;
    dp__span *v = realloc(s->v, (size_t)cap * sizeof *v);
    if (!v) return dp__error(DP_ENOMEM, "out of memory for label spans");
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (dp__span){j, i0, i1};
  return DP_OK;
}

static int cmp_span(const void *a, const void *b) {
  const dp__span *x = a, *y = b;
  if (x->j != y->j) return x->j < y->j ? -1 : 1;
  return x->i0 < y->i0 ? -1 : x->i0 > y->i0;
}

void dp__spans_normalize(dp__spans *s) {
  if (s->n < 2) return;
  int sorted = 1;
  for (int k = 1; k < s->n && sorted; k++) sorted = cmp_span(&s->v[k - 1], &s->v[k]) <= 0;
  if (!sorted) qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_span);
  int w = 0;
  for (int k = 1; k < s->n; k++) {
    dp__span *last = &s->v[w], *cur = &s->v[k];
    if (cur->j == last->j && cur->i0 <= last->i1) {
      if (cur->i1 > last->i1) last->i1 = cur->i1;
    } else {
      s->v[++w] = *cur;
    }
  }
  s->n = w + 1;
}

int64_t dp__spans_voxels(const dp__spans *s) {
  int64_t n = 0;
  for (int k = 0; k < s->n; k++) n += s->v[k].i1 - s->v[k].i0;
  return n;
}

dp_status dp__mask_init(dp__mask *m, int nz) {
  m->nz = nz;
  m->slices = calloc((size_t)(nz > 0 ? nz : 1), sizeof *m->slices);
  return m->slices ? DP_OK : dp__error(DP_ENOMEM, "out of memory for a label mask");
}

void dp__mask_free(dp__mask *m) {
  for (int k = 0; m->slices && k < m->nz; k++) free(m->slices[k].v);
  free(m->slices);
  m->slices = NULL;
}

/* ---- the fill -------------------------------------------------------------- */

typedef struct {
  double x0, y0, x1, y1; /* in contour order: the crossing formula uses it */
  int jlo, jhi;          /* rows it crosses: jlo <= j <= jhi */
} edge;

static int cmp_edge(const void *a, const void *b) {
  const edge *x = a, *y = b;
  return x->jlo < y->jlo ? -1 : x->jlo > y->jlo;
}

/* ceil(x) clamped into [lo, hi] (x may be huge or far outside) */
static int32_t ceil_clamp(double x, int32_t lo, int32_t hi) {
  if (!(x > lo)) return lo;
  if (!(x < hi)) return hi;
  return (int32_t)ceil(x);
}

dp_status dp__fill_polygons(const double *const *pts, const int *npts, int npoly, int nx, int ny,
                            dp__spans *out) {
  size_t ne = 0;
  for (int p = 0; p < npoly; p++) ne += npts[p] >= 3 ? (size_t)npts[p] : 0;
  if (!ne) return DP_OK;
  edge *e = malloc(ne * sizeof *e);
  int *active = malloc(ne * sizeof *active);
  double *xs = malloc(ne * sizeof *xs);
  if (!e || !active || !xs) {
    free(e);
    free(active);
    free(xs);
    return dp__error(DP_ENOMEM, "out of memory filling contours");
  }
  size_t m = 0;
  for (int p = 0; p < npoly; p++) {
    int n = npts[p];
    for (int q = 0; n >= 3 && q < n; q++) {
      const double *a = pts[p] + 2 * q, *b = pts[p] + 2 * ((q + 1) % n);
      if (a[1] == b[1]) continue; /* horizontal: crosses no row */
      double lo = fmin(a[1], b[1]), hi = fmax(a[1], b[1]);
      /* rows with lo <= j < hi */
      edge ed = {a[0], a[1], b[0], b[1], ceil_clamp(lo, -1, ny), ceil_clamp(hi, -1, ny) - 1};
      if (ed.jlo < 0) ed.jlo = 0;
      if (ed.jhi > ny - 1) ed.jhi = ny - 1;
      if (ed.jlo <= ed.jhi) e[m++] = ed;
    }
  }
  qsort(e, m, sizeof *e, cmp_edge);
  size_t next = 0, na = 0;
  dp_status s = DP_OK;
  int j = m ? e[0].jlo : 0, jend = -1;
  for (size_t k = 0; k < m; k++) jend = e[k].jhi > jend ? e[k].jhi : jend;
  for (; m && j <= jend && s == DP_OK; j++) {
    while (next < m && e[next].jlo <= j) active[na++] = (int)next++;
    size_t w = 0, nc = 0;
    for (size_t a = 0; a < na; a++) {
      const edge *ed = &e[active[a]];
      if (ed->jhi < j) continue;
      active[w++] = active[a];
      double y = (double)j;
      double x = (ed->x1 - ed->x0) * (y - ed->y0) / (ed->y1 - ed->y0) + ed->x0;
      size_t i = nc++; /* insertion sort: few crossings per row */
      while (i > 0 && xs[i - 1] > x) {
        xs[i] = xs[i - 1];
        i--;
      }
      xs[i] = x;
    }
    na = w;
    for (size_t c = 0; c + 1 < nc && s == DP_OK; c += 2) {
      /* inside: c_{2m} <= i < c_{2m+1}, i.e. i in [ceil(c_{2m}), ceil(c_{2m+1})) */
      int32_t i0 = ceil_clamp(xs[c], 0, nx), i1 = ceil_clamp(xs[c + 1], 0, nx);
      if (i1 > i0) s = dp__spans_push(out, j, i0, i1);
    }
  }
  free(e);
  free(active);
  free(xs);
  if (s == DP_OK) dp__spans_normalize(out);
  return s;
}

/* ---- self-intersection ------------------------------------------------------ */

static double orient(const double *a, const double *b, const double *c) {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

static int on_box(const double *a, const double *b, const double *c) {
  return c[0] >= fmin(a[0], b[0]) && c[0] <= fmax(a[0], b[0]) && c[1] >= fmin(a[1], b[1]) &&
         c[1] <= fmax(a[1], b[1]);
}

static int segments_meet(const double *a, const double *b, const double *c, const double *d) {
  double o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return 1;
  return (o1 == 0 && on_box(a, b, c)) || (o2 == 0 && on_box(a, b, d)) || (o3 == 0 && on_box(c, d, a)) ||
         (o4 == 0 && on_box(c, d, b));
}

typedef struct {
  double ylo, yhi;
  int q; /* edge from point q to q + 1 (mod n) */
} sweep_edge;

static int cmp_sweep(const void *a, const void *b) {
  const sweep_edge *x = a, *y = b;
  return x->ylo < y->ylo ? -1 : x->ylo > y->ylo;
}

int dp__polygon_self_intersects(const double *pts, int n) {
  /* repeated points (and a closing copy of the first) make no edges */
  double *p = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *p);
  sweep_edge *e = malloc((size_t)(n > 0 ? n : 1) * sizeof *e);
  int *act = malloc((size_t)(n > 0 ? n : 1) * sizeof *act);
  int m = 0, found = 0;
  if (!p || !e || !act) goto done;
  for (int q = 0; q < n; q++)
    if (m == 0 || pts[2 * q] != p[2 * (m - 1)] || pts[2 * q + 1] != p[2 * (m - 1) + 1]) {
      p[2 * m] = pts[2 * q];
      p[2 * m + 1] = pts[2 * q + 1];
      m++;
    }
  while (m > 1 && p[0] == p[2 * (m - 1)] && p[1] == p[2 * (m - 1) + 1]) m--;
  if (m < 4) goto done; /* a triangle cannot cross itself */
  for (int q = 0; q < m; q++) {
    const double *a = p + 2 * q, *b = p + 2 * ((q + 1) % m);
    e[q] = (sweep_edge){fmin(a[1], b[1]), fmax(a[1], b[1]), q};
  }
  qsort(e, (size_t)m, sizeof *e, cmp_sweep);
  int na = 0;
  for (int k = 0; k < m && !found; k++) {
    int w = 0;
    for (int a = 0; a < na; a++)
      if (e[act[a]].yhi >= e[k].ylo) act[w++] = act[a];
    na = w;
    int q = e[k].q;
    for (int a = 0; a < na && !found; a++) {
      int r = e[act[a]].q;
      int d = abs(q - r);
      if (d == 1 || d == m - 1) continue; /* neighbours share a point */
      found = segments_meet(p + 2 * q, p + 2 * ((q + 1) % m), p + 2 * r, p + 2 * ((r + 1) % m));
    }
    act[na++] = k;
  }
done:
  free(p);
  free(e);
  free(act);
  return found;
}
