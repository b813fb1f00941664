#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dicom/restack.h"

static double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  const dp__group *g;
  const dp__slice *sl;
  int z0, z1;
  double *du, *dv;      /* per output slice and input slice: see below */
  int *zlo;             /* per output slice: lower input slice */
  double *w;            /* per output slice: weight of the upper slice */
  double origin_u0, origin_v0;
  double fill, lo, hi;
  int is_int;
} rctx;

/* Where the output voxels of one output slice sample one input slice.  The
 * in-plane shift (du, dv) is the same for the whole output slice, so offsets
 * and weights depend on the column i (or the row j) alone and are tabulated
 * once per (output slice, input slice).  Each entry is computed with the very
 * expressions a per-voxel bilinear lookup uses (u = i + du, clamp, floor,
 * fraction), so the results are the same bits. */
typedef struct {
  int64_t *x0, *x1; /* per column: left and right input column */
  double *fx, *gx;  /* per column: weight of x1, and 1 - fx (of x0) */
  int64_t *y0, *y1; /* per row: upper and lower input row */
  double *fy, *gy;
} tab;

/* The output voxels of one output slice inside the acquired field: columns
 * [ilo, ihi), and the rows flagged in yok. */
typedef struct {
  int64_t ilo, ihi;
  unsigned char *yok;
} field;

/* Inside the footprint of n pixels, [-0.5, n - 0.5] (pixel edges, as ITK's
 * inside-buffer test), up to a rounding slack for positions on its edge. */
static int inside(double u, int64_t n) {
  return !(u < -0.5 - 1e-6 || u > (double)n - 0.5 + 1e-6);
}

/* Bilinear cell of position u along n samples.  Positions beyond the outer
 * sample centres (inside the footprint, or inside the field but past this
 * slice's own edge) take the nearest edge sample: the clamp. */
static void cell(double u, int64_t n, int64_t *a, int64_t *b, double *f, double *g) {
  if (u < 0) u = 0;
  if (u > (double)(n - 1)) u = (double)(n - 1);
  int64_t x0 = (int64_t)floor(u);
  if (x0 >= n - 1) x0 = n > 1 ? n - 2 : 0;
  *a = x0;
  *b = n > 1 ? x0 + 1 : x0;
  *f = n > 1 ? u - (double)x0 : 0;
  *g = 1 - *f;
}

static void tab_fill(tab *t, int64_t nx, int64_t ny, double du, double dv) {
  for (int64_t i = 0; i < nx; i++) cell((double)i + du, nx, &t->x0[i], &t->x1[i], &t->fx[i], &t->gx[i]);
  for (int64_t j = 0; j < ny; j++) cell((double)j + dv, ny, &t->y0[j], &t->y1[j], &t->fy[j], &t->gy[j]);
}

/* The field at an output slice between two input slices: their footprints
 * swept from one to the other, i.e. the footprint at the in-plane shift
 * interpolated between theirs (du, dv). */
static void field_fill(field *fd, int64_t nx, int64_t ny, double du, double dv) {
  fd->ilo = fd->ihi = 0;
  int seen = 0;
  for (int64_t i = 0; i < nx; i++) {
    if (!inside((double)i + du, nx)) continue; /* u grows with i: the inside columns are one run */
    if (!seen) fd->ilo = i;
    seen = 1;
    fd->ihi = i + 1;
  }
  for (int64_t j = 0; j < ny; j++) fd->yok[j] = (unsigned char)inside((double)j + dv, ny);
}

/* One kernel per voxel type T (input and output share it).  ROUND: values of
 * integer types are rounded half away from zero and clamped, as
 * x < 0 ? -floor(-x + 0.5) : floor(x + 0.5) would; the argument of floor is
 * positive there, so truncation through the integer type R (wide enough for
 * T's range) gives the same value without a library call.  FLOATING: NaN
 * input values (floating types only) give the fill value. */
#define DP__RESLICE_KERNEL(NAME, T, ROUND, R, FLOATING)                                          \
  static void NAME(const rctx *c, const T *sa, const T *sb, const tab *ta, const tab *tb,       \
                   const field *fd, double w, int use_b, T *out, int64_t nx, int64_t ny) {       \
    double x = c->fill;                                                                           \
    if (ROUND) {                                                                                  \
      x = x < 0 ? -(double)(R)(-x + 0.5) : (double)(R)(x + 0.5);                                  \
      x = x < c->lo ? c->lo : x > c->hi ? c->hi : x;                                              \
    }                                                                                             \
    const T fillv = (T)x;                                                                         \
    const double lo = c->lo, hi = c->hi, fill = c->fill, wa = 1 - w;                              \
    for (int64_t j = 0; j < ny; j++) {                                                            \
      T *o = out + j * nx;                                                                        \
      const int64_t i0 = fd->yok[j] ? fd->ilo : 0, i1 = fd->yok[j] ? fd->ihi : 0;                 \
      for (int64_t i = 0; i < i0; i++) o[i] = fillv;                                              \
      for (int64_t i = i1; i < nx; i++) o[i] = fillv;                                             \
      if (i0 == i1) continue;                                                                     \
      const T *a0 = sa + ta->y0[j] * nx, *a1 = sa + ta->y1[j] * nx;                               \
      const double afy = ta->fy[j], agy = ta->gy[j];                                              \
      const T *b0 = use_b ? sb + tb->y0[j] * nx : a0, *b1 = use_b ? sb + tb->y1[j] * nx : a1;     \
      const double bfy = use_b ? tb->fy[j] : 0, bgy = use_b ? tb->gy[j] : 0;                      \
      const int64_t *ax0 = ta->x0, *ax1 = ta->x1, *bx0 = tb->x0, *bx1 = tb->x1;                   \
      const double *afx = ta->fx, *agx = ta->gx, *bfx = tb->fx, *bgx = tb->gx;                    \
      for (int64_t i = i0; i < i1; i++) {                                                         \
        double a = ((double)a0[ax0[i]] * agx[i] + (double)a0[ax1[i]] * afx[i]) * agy +            \
                   ((double)a1[ax0[i]] * agx[i] + (double)a1[ax1[i]] * afx[i]) * afy;             \
        double b = 0;                                                                             \
        if (use_b)                                                                                \
          b = ((double)b0[bx0[i]] * bgx[i] + (double)b0[bx1[i]] * bfx[i]) * bgy +                 \
              ((double)b1[bx0[i]] * bgx[i] + (double)b1[bx1[i]] * bfx[i]) * bfy;                  \
        double v;                                                                                 \
        if (FLOATING && (isnan(a) || isnan(b))) v = fill;                                         \
        else v = a * wa + b * w;                                                                  \
        if (ROUND) {                                                                              \
          v = v < 0 ? -(double)(R)(-v + 0.5) : (double)(R)(v + 0.5);                             \
          v = v < lo ? lo : v > hi ? hi : v;                                                      \
        }                                                                                         \
        o[i] = (T)v;                                                                              \
      }                                                                                           \
    }                                                                                             \
  }

DP__RESLICE_KERNEL(reslice_u8, uint8_t, 1, int32_t, 0)
DP__RESLICE_KERNEL(reslice_i16, int16_t, 1, int32_t, 0)
DP__RESLICE_KERNEL(reslice_u16, uint16_t, 1, int32_t, 0)
DP__RESLICE_KERNEL(reslice_i32, int32_t, 1, int64_t, 0)
DP__RESLICE_KERNEL(reslice_f32, float, 0, int32_t, 1)
DP__RESLICE_KERNEL(reslice_f64, double, 0, int32_t, 1)

/* One output slice (all t). */
static dp_status do_slice(void *vctx, int64_t k) {
  rctx *c = vctx;
  dp_volume *o = c->out;
  const dp_volume *in = c->in;
  int64_t nx = o->dim[0], ny = o->dim[1], nz = o->dim[2];
  int za = c->zlo[k], zb = za + 1 < c->z1 ? za + 1 : za;
  double w = c->w[k];
  int use_b = w > 0; /* a zero weight never reads the second slice */
  int ncols = c->z1 - c->z0;
  size_t n = ((size_t)(nx > ny ? nx : ny) + 7) & ~(size_t)7; /* keeps the next table aligned */
  /* two tables of 4 index/weight arrays per axis, plus the field's row flags */
  size_t per = 2 * n * sizeof(int64_t) + 2 * n * sizeof(double);
  unsigned char *mem = malloc(2 * 2 * per + n);
  if (!mem) return dp__error(DP_ENOMEM, "out of memory");
  tab t[2];
  unsigned char *p = mem;
  for (int s = 0; s < 2; s++) {
    t[s].x0 = (int64_t *)p, p += n * sizeof(int64_t);
    t[s].x1 = (int64_t *)p, p += n * sizeof(int64_t);
    t[s].y0 = (int64_t *)p, p += n * sizeof(int64_t);
    t[s].y1 = (int64_t *)p, p += n * sizeof(int64_t);
    t[s].fx = (double *)p, p += n * sizeof(double);
    t[s].gx = (double *)p, p += n * sizeof(double);
    t[s].fy = (double *)p, p += n * sizeof(double);
    t[s].gy = (double *)p, p += n * sizeof(double);
  }
  field fd;
  fd.yok = p;
  double dua = c->du[k * ncols + (za - c->z0)], dva = c->dv[k * ncols + (za - c->z0)];
  double dub = c->du[k * ncols + (zb - c->z0)], dvb = c->dv[k * ncols + (zb - c->z0)];
  tab_fill(&t[0], nx, ny, dua, dva);
  if (use_b) tab_fill(&t[1], nx, ny, dub, dvb);
  if (use_b) field_fill(&fd, nx, ny, dua * (1 - w) + dub * w, dva * (1 - w) + dvb * w);
  else field_fill(&fd, nx, ny, dua, dva);
  size_t es = dp_dtype_size(o->dtype);
  int64_t plane = nx * ny;
  for (int64_t tt = 0; tt < o->dim[3]; tt++) {
    const char *sa = (const char *)in->data + (size_t)((tt * in->dim[2] + za) * plane) * es;
    const char *sb = (const char *)in->data + (size_t)((tt * in->dim[2] + zb) * plane) * es;
    char *dst = (char *)o->data + (size_t)((tt * nz + k) * plane) * es;
#define DP__RESLICE(fn, T) fn(c, (const T *)sa, (const T *)sb, &t[0], &t[1], &fd, w, use_b, (T *)dst, nx, ny)
    switch (o->dtype) {
      case DP_U8: DP__RESLICE(reslice_u8, uint8_t); break;
      case DP_I16: DP__RESLICE(reslice_i16, int16_t); break;
      case DP_U16: DP__RESLICE(reslice_u16, uint16_t); break;
      case DP_I32: DP__RESLICE(reslice_i32, int32_t); break;
      case DP_F32: DP__RESLICE(reslice_f32, float); break;
      default: DP__RESLICE(reslice_f64, double); break;
    }
#undef DP__RESLICE
  }
  free(mem);
  return DP_OK;
}

dp_status dp__restack(const dp_volume *stack, const dp__group *g, const dp__slice *sl, int z0,
                      int z1, int reslice_tilt, int threads, dp_volume **out) {
  *out = NULL;
  const dp__slice *f = &sl[g->idx[0]];
  int nt = g->nt;
  const double *ipp0 = sl[g->idx[z0 * nt]].ipp;
  double d0 = g->pos[z0], d1 = g->pos[z1 - 1];
  /* uniform step: the median step, adjusted so that both ends are kept; a
   * run of equal steps (split) keeps every slice at its own step */
  int nk = 1;
  double step = g->step > 0 ? g->step : 1.0;
  if (z1 - z0 > 1) {
    nk = z0 > 0 || z1 < g->nz ? z1 - z0 : (int)lround((d1 - d0) / step) + 1;
    if (nk < 2) nk = 2;
    step = (d1 - d0) / (nk - 1);
  }
  double su = reslice_tilt ? 0 : g->shear[0], sv = reslice_tilt ? 0 : g->shear[1];
  /* in-plane origin of output slice 0 (relative to ipp0, in mm along r, c) */
  double bu = 0, bv = 0;
  if (reslice_tilt) { /* centre the grid on the mean in-plane position */
    for (int z = z0; z < z1; z++) {
      const double *p = sl[g->idx[z * nt]].ipp;
      double e[3] = {p[0] - ipp0[0], p[1] - ipp0[1], p[2] - ipp0[2]};
      bu += dot3(e, g->r);
      bv += dot3(e, g->c);
    }
    bu /= (z1 - z0);
    bv /= (z1 - z0);
  }
  dp_mat4 lps = dp_mat4_identity();
  for (int a = 0; a < 3; a++) {
    lps.m[a][0] = g->r[a] * f->spacing[1];
    lps.m[a][1] = g->c[a] * f->spacing[0];
    lps.m[a][2] = step * (g->nrm[a] + su * g->r[a] + sv * g->c[a]);
    lps.m[a][3] = ipp0[a] + bu * g->r[a] + bv * g->c[a] + (d0 - dot3(ipp0, g->nrm)) * g->nrm[a];
  }
  dp_mat4 ras = lps;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 4; b++) ras.m[a][b] = -lps.m[a][b];
  int64_t dim[4] = {stack->dim[0], stack->dim[1], nk, nt};
  dp_volume *o = NULL;
  dp_status s = dp_volume_new(dim, stack->dtype, &ras, &o);
  if (s != DP_OK) return s;
  rctx c;
  memset(&c, 0, sizeof c);
  c.in = stack;
  c.out = o;
  c.g = g;
  c.sl = sl;
  c.z0 = z0;
  c.z1 = z1;
  c.fill = strcmp(f->modality, "CT") == 0 ? -1024 : 0;
  dp_dtype_range(o->dtype, &c.lo, &c.hi);
  c.is_int = !dp_dtype_is_float(o->dtype);
  if (c.fill < c.lo) c.fill = c.lo;
  int ncols = z1 - z0;
  c.du = malloc((size_t)nk * ncols * sizeof *c.du);
  c.dv = malloc((size_t)nk * ncols * sizeof *c.dv);
  c.zlo = malloc((size_t)nk * sizeof *c.zlo);
  c.w = malloc((size_t)nk * sizeof *c.w);
  if (!c.du || !c.dv || !c.zlo || !c.w) s = dp__error(DP_ENOMEM, "out of memory");
  for (int k = 0; s == DP_OK && k < nk; k++) {
    double d = d0 + k * step;
    int z = z0;
    while (z + 1 < z1 - 0 && g->pos[z + 1] < d - 1e-9) z++;
    if (z + 1 >= z1) z = z1 > z0 + 1 ? z1 - 2 : z0;
    double w = z + 1 < z1 ? (d - g->pos[z]) / (g->pos[z + 1] - g->pos[z]) : 0;
    if (w < 0) w = 0;
    if (w > 1) w = 1;
    c.zlo[k] = z;
    c.w[k] = w;
    /* output slice origin O_k in world, relative to each input slice's IPP */
    double ok[3];
    for (int a = 0; a < 3; a++) ok[a] = lps.m[a][3] + k * lps.m[a][2];
    for (int zz = z0; zz < z1; zz++) {
      const double *p = sl[g->idx[zz * nt]].ipp;
      double e[3] = {ok[0] - p[0], ok[1] - p[1], ok[2] - p[2]};
      c.du[k * ncols + (zz - z0)] = dot3(e, g->r) / f->spacing[1];
      c.dv[k * ncols + (zz - z0)] = dot3(e, g->c) / f->spacing[0];
    }
  }
  if (s == DP_OK) s = dp__parallel_for(nk, threads, do_slice, &c);
  free(c.du);
  free(c.dv);
  free(c.zlo);
  free(c.w);
  if (s != DP_OK) {
    dp_volume_free(o);
    return s;
  }
  *out = o;
  return DP_OK;
}

dp_status dp__restack_split(const dp_volume *stack, const dp__group *g, const dp__slice *sl,
                            int reslice_tilt, int threads, dp_volume ***out, int *nout) {
  *out = NULL;
  *nout = 0;
  double tol = fmax(0.02, 0.01 * g->step);
  int cap = g->nz, n = 0;
  dp_volume **v = calloc((size_t)cap, sizeof *v);
  if (!v) return dp__error(DP_ENOMEM, "out of memory");
  dp_status s = DP_OK;
  for (int z0 = 0; z0 < g->nz && s == DP_OK;) {
    int z1 = z0 + 1;
    if (z1 < g->nz) {
      double st = g->pos[z1] - g->pos[z0];
      while (z1 + 1 < g->nz && fabs(g->pos[z1 + 1] - g->pos[z1] - st) <= tol) z1++;
      z1++;
    }
    s = dp__restack(stack, g, sl, z0, z1, reslice_tilt, threads, &v[n]);
    if (s == DP_OK) n++;
    z0 = z1;
  }
  if (s != DP_OK) {
    for (int i = 0; i < n; i++) dp_volume_free(v[i]);
    free(v);
    return s;
  }
  *out = v;
  *nout = n;
  return DP_OK;
}
