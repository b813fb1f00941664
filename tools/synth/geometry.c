/* Slice geometry and phantom rendering of dcmprep-synth. */
#include "geometry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phantom.h"

double synth_ds(char out[17], double x) {
  if (fabs(x) < 1e-12) x = 0; /* no "-0" or 6.1e-17 noise in the files */
  char tmp[40];
  for (int prec = 15; prec > 1; prec--)
    if (snprintf(tmp, sizeof tmp, "%.*g", prec, x) <= 16) break;
  memcpy(out, tmp, strlen(tmp) + 1); /* the loop ensured at most 16 characters */
  return strtod(out, NULL);
}

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void cross(const double *a, const double *b, double *out) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

static int normalise(double *v) {
  double len = sqrt(dot(v, v));
  if (len < 1e-6) return 0;
  for (int i = 0; i < 3; i++) v[i] /= len;
  return 1;
}

/* Row and column directions from the requested IOP: unit, orthogonal, the
 * column direction tilted about the row direction, and rounded to DS text. */
static int orientation(synth_geometry *g, const synth_opts *o, char *err, size_t errsize) {
  double r[3], c[3], n0[3];
  char buf[17];
  memcpy(r, o->iop, sizeof r);
  memcpy(c, o->iop + 3, sizeof c);
  if (!normalise(r) || !normalise(c)) {
    snprintf(err, errsize, "--iop: row and column directions must not be zero");
    return 1;
  }
  double d = dot(r, c);
  if (fabs(d) > 0.01) {
    snprintf(err, errsize, "--iop: row and column directions are not orthogonal (cos %.3g)", d);
    return 1;
  }
  for (int i = 0; i < 3; i++) c[i] -= d * r[i];
  normalise(c);
  cross(r, c, n0);
  normalise(n0);
  double t = o->tilt * 3.14159265358979323846 / 180.0;
  for (int i = 0; i < 3; i++) {
    g->r[i] = synth_ds(buf, r[i]);
    g->c[i] = synth_ds(buf, c[i] * cos(t) - n0[i] * sin(t));
    g->stack[i] = n0[i];
  }
  cross(g->r, g->c, g->n);
  normalise(g->n);
  return 0;
}

int synth_geometry_init(synth_geometry *g, const synth_opts *o, char *err, size_t errsize) {
  char buf[17];
  memset(g, 0, sizeof *g);
  if (orientation(g, o, err, errsize)) return 1;
  g->ps[0] = synth_ds(buf, o->ps[0]);
  g->ps[1] = synth_ds(buf, o->ps[1]);
  g->slope = synth_ds(buf, o->slope);
  g->inter = synth_ds(buf, o->inter);
  g->lo = o->is_signed ? -ldexp(1, o->bits_stored - 1) : 0;
  g->hi = o->is_signed ? ldexp(1, o->bits_stored - 1) - 1 : ldexp(1, o->bits_stored) - 1;
  int n = g->nslices = o->slices;
  g->pos = calloc((size_t)n, sizeof *g->pos);
  g->ipp = calloc((size_t)n, sizeof *g->ipp);
  g->dropped = calloc((size_t)n, 1);
  if (!g->pos || !g->ipp || !g->dropped) {
    snprintf(err, errsize, "out of memory");
    synth_geometry_free(g);
    return 1;
  }
  for (int i = 0; i < o->ndrops; i++) g->dropped[o->drops[i]] = 1;
  for (int k = 1; k < n; k++)
    g->pos[k] = g->pos[k - 1] + (o->ngaps ? o->gaps[k - 1 < o->ngaps ? k - 1 : o->ngaps - 1] : o->step);
  g->regular = o->ngaps == 0 && o->ndrops == 0;
  for (int i = 0; i < o->ngaps; i++)
    if (o->gaps[i] != o->gaps[0]) g->regular = 0;
  double half = g->pos[n - 1] / 2;
  for (int k = 0; k < n; k++)
    for (int a = 0; a < 3; a++)
      g->ipp[k][a] = synth_ds(buf, o->center[a] - (o->cols - 1) / 2.0 * g->ps[1] * g->r[a] -
                                       (o->rows - 1) / 2.0 * g->ps[0] * g->c[a] +
                                       (g->pos[k] - half) * g->stack[a]);
  /* The grid of a correct loader: i along r, j along c, k along the stack
   * from the first written slice; RAS = diag(-1, -1, 1) LPS. */
  int first = 0, last = n - 1;
  while (g->dropped[first]) first++;
  while (g->dropped[last]) last--;
  double step = o->ngaps ? o->gaps[0] : o->step;
  for (int a = 0; a < 3; a++) {
    double sgn = a < 2 ? -1 : 1;
    g->ijk_to_ras[a][0] = sgn * g->r[a] * g->ps[1];
    g->ijk_to_ras[a][1] = sgn * g->c[a] * g->ps[0];
    g->ijk_to_ras[a][2] = sgn * (g->regular && last > first
                                     ? (g->ipp[last][a] - g->ipp[first][a]) / (last - first)
                                     : g->stack[a] * step);
    g->ijk_to_ras[a][3] = sgn * g->ipp[first][a];
  }
  g->ijk_to_ras[3][3] = 1;
  return 0;
}

void synth_geometry_free(synth_geometry *g) {
  free(g->pos);
  free(g->ipp);
  free(g->dropped);
  memset(g, 0, sizeof *g);
}

size_t synth_render(const synth_geometry *g, const synth_opts *o, int k, uint16_t *px) {
  size_t clamped = 0;
  for (int j = 0; j < o->rows; j++)
    for (int i = 0; i < o->cols; i++) {
      double p[3];
      for (int a = 0; a < 3; a++)
        p[a] = g->ipp[k][a] + i * g->ps[1] * g->r[a] + j * g->ps[0] * g->c[a];
      double v = phantom_value(o->phantom, o->mr, p[0], p[1], p[2]);
      double s = round((v - g->inter) / g->slope);
      if (s < g->lo || s > g->hi) {
        clamped++;
        s = s < g->lo ? g->lo : g->hi;
      }
      /* two's complement of signed values: sign-extended to 16 bits */
      px[(size_t)j * o->cols + i] = (uint16_t)(int32_t)s;
    }
  return clamped;
}
