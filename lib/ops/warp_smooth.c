/* Anti-aliased linear resampling onto an aligned grid without the smoothed
 * copy of the volume: the Gaussian prefilter (dp_gaussian) is computed one
 * input slice at a time, as the output slices need them, and each output
 * slice is then interpolated from its two smoothed input slices exactly as
 * dp__warp_aligned does.  The arithmetic is that of dp_gaussian followed by
 * dp__warp_aligned (float32 values after every pass, the same sums in the
 * same order), so the result is the same bytes; the memory is a few slices
 * per worker instead of a float32 volume the size of the input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/meta.h"
#include "ops/ops_internal.h"
#include "ops/warp_internal.h"

/* Half kernel k[0..r] of dp_gaussian for sigma (NULL, r 0 when sigma is 0). */
static dp_status half_kernel(double sigma, double **k, int64_t *r) {
  *k = NULL;
  *r = 0;
  if (!(sigma > 0)) return DP_OK;
  *r = (int64_t)(4.0 * sigma + 0.5);
  double *w = malloc((size_t)(*r + 1) * sizeof *w), sum = 0;
  if (!w) return dp__error(DP_ENOMEM, "out of memory");
  for (int64_t j = 0; j <= *r; j++) {
    w[j] = exp(-0.5 * (double)(j * j) / (sigma * sigma));
    sum += j ? 2 * w[j] : w[j];
  }
  for (int64_t j = 0; j <= *r; j++) w[j] /= sum;
  *k = w;
  return DP_OK;
}

typedef struct {
  int64_t key; /* input slice, -1: empty */
  float *p;
} plane;

typedef struct {
  const dp_volume *in;
  dp_volume *out;
  dp__axis_tab tab[3];
  double fill;
  double *k[3];
  int64_t r[3];
  int64_t nranges; /* output slices are split into this many contiguous ranges */
  int ncache;      /* planes smoothed in-plane kept per task (z smoothing) */
} sm_ctx;

/* One line of n values at src (stride apart), convolved as dp_gaussian's
 * block(): mirrored ends, k[0] b + sum k[j] (b[+j] + b[-j]), into dst. */
static void conv_line(const float *src, int64_t stride, int64_t n, const double *k, int64_t r, double *buf,
                      float *dst, int64_t dstride) {
  for (int64_t x = -r; x < n + r; x++) buf[x + r] = (double)src[dp__mirror(x, n) * stride];
  for (int64_t x = 0; x < n; x++) {
    const double *b = buf + x + r;
    double o = k[0] * b[0];
    for (int64_t j = 1; j <= r; j++) o += k[j] * (b[j] + b[-j]);
    dst[x * dstride] = (float)o;
  }
}

/* Input slice z of volume t as float32, smoothed along i and j. */
static void plane_ij(const sm_ctx *c, int64_t t, int64_t z, float *dst, double *buf, float *line) {
  const int64_t nx = c->in->dim[0], ny = c->in->dim[1], np = nx * ny;
  const int64_t off = (t * c->in->dim[2] + z) * np;
  dp__convert cv = {.src = (dp__elem)c->in->dtype, .slope = 1, .dst = DP_F32};
  dp__convert_chunk(&cv, (const char *)c->in->data + (size_t)off * dp_dtype_size(c->in->dtype), dst,
                    (size_t)np, NULL);
  if (c->k[0])
    for (int64_t y = 0; y < ny; y++) {
      memcpy(line, dst + y * nx, (size_t)nx * sizeof *line);
      conv_line(line, 1, nx, c->k[0], c->r[0], buf, dst + y * nx, 1);
    }
  if (c->k[1])
    for (int64_t x = 0; x < nx; x++) {
      for (int64_t y = 0; y < ny; y++) line[y] = dst[y * nx + x];
      conv_line(line, 1, ny, c->k[1], c->r[1], buf, dst + x, nx);
    }
}

/* The cached plane of key z, or NULL. */
static float *cached(plane *cache, int n, int64_t z) {
  for (int q = 0; q < n; q++)
    if (cache[q].key == z) return cache[q].p;
  return NULL;
}

/* A slot of cache whose key is not in keep[0..nkeep). */
static plane *free_slot(plane *cache, int n, const int64_t *keep, int nkeep) {
  for (int q = 0; q < n; q++) {
    int kept = 0;
    for (int u = 0; u < nkeep && !kept; u++) kept = cache[q].key == keep[u];
    if (!kept) return &cache[q];
  }
  return &cache[0];
}

/* The fully smoothed input slice z (i, j, then k) into dst. */
static void plane_full(const sm_ctx *c, int64_t t, int64_t z, float *dst, plane *ij, double *buf,
                       float *line) {
  if (!c->k[2]) {
    plane_ij(c, t, z, dst, buf, line);
    return;
  }
  const int64_t nz = c->in->dim[2], np = c->in->dim[0] * c->in->dim[1], r = c->r[2];
  int64_t need[2 * 64 + 1];
  int nneed = 0;
  for (int64_t j = -r; j <= r; j++) need[nneed++] = dp__mirror(z + j, nz);
  for (int u = 0; u < nneed; u++)
    if (!cached(ij, c->ncache, need[u])) {
      plane *sl = free_slot(ij, c->ncache, need, nneed);
      plane_ij(c, t, need[u], sl->p, buf, line);
      sl->key = need[u];
    }
  const float *b0 = cached(ij, c->ncache, z);
  for (int64_t i = 0; i < np; i++) {
    double o = c->k[2][0] * (double)b0[i];
    for (int64_t j = 1; j <= r; j++)
      o += c->k[2][j] * ((double)cached(ij, c->ncache, dp__mirror(z + j, nz))[i] +
                         (double)cached(ij, c->ncache, dp__mirror(z - j, nz))[i]);
    dst[i] = (float)o;
  }
}

static dp_status range_task(void *vctx, int64_t task) {
  const sm_ctx *c = vctx;
  const int64_t *od = c->out->dim, *id = c->in->dim;
  const int64_t t = task / c->nranges, q = task % c->nranges;
  const int64_t k0 = od[2] * q / c->nranges, k1 = od[2] * (q + 1) / c->nranges;
  const int64_t np = id[0] * id[1], nmax = id[0] > id[1] ? id[0] : id[1];
  const int64_t rmax = c->r[0] > c->r[1] ? c->r[0] : c->r[1];
  const size_t esize = dp_dtype_size(c->out->dtype);
  plane s[2] = {{-1, NULL}, {-1, NULL}}, ij[130];
  int nij = c->k[2] ? c->ncache : 0;
  double *buf = malloc((size_t)(nmax + 2 * rmax + 2) * sizeof *buf), *row = malloc((size_t)od[0] * sizeof *row);
  float *line = malloc((size_t)nmax * sizeof *line);
  dp_status st = buf && row && line ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int u = 0; u < 2 && st == DP_OK; u++)
    if (!(s[u].p = malloc((size_t)np * sizeof(float)))) st = dp__error(DP_ENOMEM, "out of memory");
  for (int u = 0; u < nij; u++) ij[u].key = -1, ij[u].p = NULL;
  for (int u = 0; u < nij && st == DP_OK; u++)
    if (!(ij[u].p = malloc((size_t)np * sizeof(float)))) st = dp__error(DP_ENOMEM, "out of memory");
  const dp__axis_tab *tx = &c->tab[0], *ty = &c->tab[1], *tz = &c->tab[2];
  for (int64_t k = k0; k < k1 && st == DP_OK; k++) {
    char *dst = (char *)c->out->data + (size_t)((t * od[2] + k) * od[1] * od[0]) * esize;
    const float *p0 = NULL, *p1 = NULL;
    if (tz->in[k]) {
      int64_t want[2] = {tz->i0[k], tz->i1[k]};
      for (int u = 0; u < 2; u++)
        if (!cached(s, 2, want[u])) {
          plane *sl = free_slot(s, 2, want, 2);
          plane_full(c, t, want[u], sl->p, ij, buf, line);
          sl->key = want[u];
        }
      p0 = cached(s, 2, want[0]);
      p1 = cached(s, 2, want[1]);
    }
    for (int64_t j = 0; j < od[1]; j++, dst += (size_t)od[0] * esize) {
      if (!ty->in[j] || !tz->in[k]) {
        for (int64_t i = 0; i < od[0]; i++) row[i] = c->fill;
      } else { /* dp__warp_aligned's linear row on float32 (lin_F32) */
        const float *a = p0 + ty->i0[j] * id[0], *b = p0 + ty->i1[j] * id[0];
        const float *cc = p1 + ty->i0[j] * id[0], *d = p1 + ty->i1[j] * id[0];
        const double wy = ty->w[j], wz = tz->w[k];
        for (int64_t i = 0; i < od[0]; i++) {
          if (!tx->in[i]) {
            row[i] = c->fill;
            continue;
          }
          int64_t x0 = tx->i0[i], x1 = tx->i1[i];
          double wx = tx->w[i];
          double v00 = (double)a[x0] + wx * ((double)a[x1] - (double)a[x0]);
          double v01 = (double)b[x0] + wx * ((double)b[x1] - (double)b[x0]);
          double v10 = (double)cc[x0] + wx * ((double)cc[x1] - (double)cc[x0]);
          double v11 = (double)d[x0] + wx * ((double)d[x1] - (double)d[x0]);
          double v0 = v00 + wy * (v01 - v00), v1 = v10 + wy * (v11 - v10);
          row[i] = v0 + wz * (v1 - v0);
        }
      }
      dp__store_row(row, od[0], c->out->dtype, dst);
    }
  }
  for (int u = 0; u < 2; u++) free(s[u].p);
  for (int u = 0; u < nij; u++) free(ij[u].p);
  free(buf);
  free(row);
  free(line);
  return st;
}

int dp__warp_smooth_applies(const dp_volume *in, const dp_mat4 *m, const double sigma[3]) {
  return in->dtype != DP_F64 && dp__warp_is_aligned(m) && (int64_t)(4.0 * sigma[2] + 0.5) <= 64;
}

dp_status dp__warp_smooth(const dp_volume *in, const int64_t dim[3], const dp_mat4 *out_affine,
                          const dp_mat4 *m, const double sigma[3], dp_fill fill, double fill_value,
                          dp_dtype dtype, int threads, dp_volume **out) {
  *out = NULL;
  int64_t od[4] = {dim[0], dim[1], dim[2], in->dim[3]};
  dp_volume *v = NULL;
  dp_status s = dp__volume_new_uninit(od, dtype, out_affine, &v);
  if (s != DP_OK) return s;
  v->t_step = in->t_step;
  sm_ctx c;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.out = v;
  c.fill = fill_value;
  for (int d = 0; d < 3 && s == DP_OK; d++) {
    s = dp__axis_tab_make(&c.tab[d], od[d], in->dim[d], m->m[d][d], m->m[d][3], DP_INTERP_LINEAR, fill);
    if (s == DP_OK) s = half_kernel(sigma[d], &c.k[d], &c.r[d]);
  }
  c.ncache = (int)(2 * c.r[2] + 2);
  int nt = dp__threads(threads);
  c.nranges = od[2] < 3 * nt ? od[2] : 3 * nt;
  if (s == DP_OK) s = dp__parallel_for(c.nranges * od[3], threads, range_task, &c);
  for (int d = 0; d < 3; d++) {
    dp__axis_tab_free(&c.tab[d]);
    free(c.k[d]);
  }
  if (s == DP_OK) s = dp__meta_copy(in, v);
  if (s != DP_OK) {
    dp_volume_free(v);
    return s;
  }
  *out = v;
  return DP_OK;
}
