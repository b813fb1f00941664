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

/* Bilinear sample of input slice z (volume t) at in-plane (u, v) voxels;
 * NAN outside the slice. */
static double bilinear(const rctx *c, int z, int t, double u, double v) {
  const dp_volume *in = c->in;
  int64_t nx = in->dim[0], ny = in->dim[1];
  if (u < -1e-6 || v < -1e-6 || u > (double)(nx - 1) + 1e-6 || v > (double)(ny - 1) + 1e-6) return NAN;
  int64_t x0 = (int64_t)floor(u), y0 = (int64_t)floor(v);
  if (x0 >= nx - 1) x0 = nx > 1 ? nx - 2 : 0;
  if (y0 >= ny - 1) y0 = ny > 1 ? ny - 2 : 0;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  double fx = nx > 1 ? u - (double)x0 : 0, fy = ny > 1 ? v - (double)y0 : 0;
  int64_t x1 = nx > 1 ? x0 + 1 : x0, y1 = ny > 1 ? y0 + 1 : y0;
  int64_t base = ((int64_t)t * in->dim[2] + z) * nx * ny;
  double a = dp_volume_get(in, base + y0 * nx + x0), b = dp_volume_get(in, base + y0 * nx + x1);
  double cc = dp_volume_get(in, base + y1 * nx + x0), d = dp_volume_get(in, base + y1 * nx + x1);
  return (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy;
}

static void put(dp_volume *v, int64_t i, double x) {
  switch (v->dtype) {
    case DP_U8: ((uint8_t *)v->data)[i] = (uint8_t)x; break;
    case DP_I16: ((int16_t *)v->data)[i] = (int16_t)x; break;
    case DP_U16: ((uint16_t *)v->data)[i] = (uint16_t)x; break;
    case DP_I32: ((int32_t *)v->data)[i] = (int32_t)x; break;
    case DP_F32: ((float *)v->data)[i] = (float)x; break;
    default: ((double *)v->data)[i] = x; break;
  }
}

/* One output slice (all t). */
static dp_status do_slice(void *vctx, int64_t k) {
  rctx *c = vctx;
  dp_volume *o = c->out;
  int64_t nx = o->dim[0], ny = o->dim[1], nz = o->dim[2];
  int za = c->zlo[k], zb = za + 1 < c->z1 ? za + 1 : za;
  double w = c->w[k];
  int ncols = c->z1 - c->z0;
  double dua = c->du[k * ncols + (za - c->z0)], dva = c->dv[k * ncols + (za - c->z0)];
  double dub = c->du[k * ncols + (zb - c->z0)], dvb = c->dv[k * ncols + (zb - c->z0)];
  for (int64_t t = 0; t < o->dim[3]; t++)
    for (int64_t j = 0; j < ny; j++)
      for (int64_t i = 0; i < nx; i++) {
        double a = bilinear(c, za, (int)t, (double)i + dua, (double)j + dva);
        double b = w > 0 ? bilinear(c, zb, (int)t, (double)i + dub, (double)j + dvb) : 0;
        double x;
        if (isnan(a) || isnan(b)) x = c->fill;
        else x = a * (1 - w) + b * w;
        if (c->is_int) {
          x = x < 0 ? -floor(-x + 0.5) : floor(x + 0.5);
          x = x < c->lo ? c->lo : x > c->hi ? c->hi : x;
        }
        put(o, ((t * nz + k) * ny + j) * nx + i, x);
      }
  return DP_OK;
}

dp_status dp__restack(const dp_volume *stack, const dp__group *g, const dp__slice *sl, int z0,
                      int z1, int reslice_tilt, int threads, dp_volume **out) {
  *out = NULL;
  const dp__slice *f = &sl[g->idx[0]];
  int nt = g->nt;
  const double *ipp0 = sl[g->idx[z0 * nt]].ipp;
  double d0 = g->pos[z0], d1 = g->pos[z1 - 1];
  /* uniform step: the median step, adjusted so that both ends are kept */
  int nk = 1;
  double step = g->step > 0 ? g->step : 1.0;
  if (z1 - z0 > 1) {
    nk = (int)lround((d1 - d0) / step) + 1;
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
