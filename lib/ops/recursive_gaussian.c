/* Deriche's fourth-order recursive Gaussian (elastic.h has the contract and
 * the references).  The causal part of the impulse response,
 *     h(n) = sum_k alpha_k exp(-lambda_k n / sigma) / (sqrt(2 pi) sigma),
 * n >= 0, is two complex-conjugate pole pairs, i.e. two real second-order
 * sections, multiplied out here into one fourth-order recursion
 *     y+(n) = sum_{k<4} b_k x(n - k) - sum_{k=1..4} a_k y+(n - k);
 * the anticausal part is its mirror image without the n = 0 sample,
 *     y-(n) = sum_{k=1..4} b'_k x(n + k) - sum_{k=1..4} a_k y-(n + k),
 * b'_k = b_k - b_0 a_k, and the result is y+ + y-.  Zeros outside the line
 * make the zero initial state exact.
 *
 * Lines are processed LB at a time, interleaved ([x * LB + l]) in double
 * precision, so that strided axes are read in contiguous runs of LB floats
 * and the recursion vectorises across lines (it cannot along a line).  With
 * sigma up to a few hundred the poles stay below 0.995 and the recursion is
 * well conditioned in double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/elastic.h"
#include "ops/recursive_gaussian.h"

#define LB DP__RG_LB
#define PAD DP__RG_PAD

/* Deriche's K = 4 fit (Getreuer's table): alpha_k = a +- ib,
 * lambda_k = l +- iw for the two pole pairs. */
static const double RG_A[2] = {0.84, -0.34015}, RG_B[2] = {1.8675, -0.1299};
static const double RG_L[2] = {1.783, 1.723}, RG_W[2] = {0.6318, 1.997};

void dp__rg_coefs(double sigma, dp__rg_coef *c) {
  /* pair k as a second-order section (n0 + n1 z^-1) / (1 + d1 z^-1 + d2 z^-2):
   * alpha/(1 - beta z^-1) + conj, beta = exp(-(l + iw)/sigma) */
  double n0[2], n1[2], d1[2], d2[2];
  for (int k = 0; k < 2; k++) {
    double r = exp(-RG_L[k] / sigma), th = RG_W[k] / sigma;
    n0[k] = 2 * RG_A[k];
    n1[k] = -2 * r * (RG_A[k] * cos(th) - RG_B[k] * sin(th));
    d1[k] = -2 * r * cos(th);
    d2[k] = r * r;
  }
  double *a = c->a, *b = c->b;
  a[0] = 1;
  a[1] = d1[0] + d1[1];
  a[2] = d2[0] + d1[0] * d1[1] + d2[1];
  a[3] = d1[0] * d2[1] + d2[0] * d1[1];
  a[4] = d2[0] * d2[1];
  b[0] = n0[0] + n0[1];
  b[1] = n1[0] + n0[0] * d1[1] + n1[1] + n0[1] * d1[0];
  b[2] = n0[0] * d2[1] + n1[0] * d1[1] + n0[1] * d2[0] + n1[1] * d1[0];
  b[3] = n1[0] * d2[1] + n1[1] * d2[0];
  /* normalise the whole response (causal sum B(1)/A(1), twice, minus the
   * shared n = 0 sample) to 1, so that constants are kept away from borders */
  double sa = 1 + a[1] + a[2] + a[3] + a[4], sb = b[0] + b[1] + b[2] + b[3];
  double total = 2 * sb / sa - b[0];
  for (int k = 0; k < 4; k++) b[k] /= total;
  c->ba[0] = 0;
  for (int k = 1; k <= 3; k++) c->ba[k] = b[k] - b[0] * a[k];
  c->ba[4] = -b[0] * a[4];
}

/* One step of a fourth-order recursion on LB lanes: o = p0 x0 + p1 x1 +
 * p2 x2 + p3 x3 - (a4 y4 + a3 y3 + a2 y2 + a1 y1), where the x and y are the
 * LB-lane samples 1 to 4 steps back (or ahead, for the anticausal pass). */
static inline void rg_step(double *restrict o, const double *x0, const double *x1,
                           const double *x2, const double *x3, const double *y1,
                           const double *y2, const double *y3, const double *y4,
                           const double p[4], const double a[5]) {
  for (int l = 0; l < LB; l++)
    o[l] = p[0] * x0[l] + p[1] * x1[l] + p[2] * x2[l] + p[3] * x3[l] -
           (a[4] * y4[l] + a[3] * y3[l] + a[2] * y2[l] + a[1] * y1[l]);
}

/* Wider vectors where the processor has them (the same IEEE operations in
 * the same order, no contraction into fused multiply-adds: identical
 * results on every path). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void dp__rg_lines(const dp__rg_coef *c, const double *x, double *yc, double *ya, int64_t n) {
  memset(yc, 0, PAD * LB * sizeof *yc);
  memset(ya + (n + PAD) * LB, 0, PAD * LB * sizeof *ya);
  for (int64_t q = PAD; q < n + PAD; q++) {
    const double *xi = x + q * LB;
    double *o = yc + q * LB;
    rg_step(o, xi, xi - LB, xi - 2 * LB, xi - 3 * LB, o - LB, o - 2 * LB, o - 3 * LB, o - 4 * LB,
            c->b, c->a);
  }
  for (int64_t q = n + PAD - 1; q >= PAD; q--) {
    const double *xi = x + q * LB;
    double *o = ya + q * LB;
    rg_step(o, xi + LB, xi + 2 * LB, xi + 3 * LB, xi + 4 * LB, o + LB, o + 2 * LB, o + 3 * LB,
            o + 4 * LB, c->ba + 1, c->a);
    double *r = yc + q * LB;
    for (int l = 0; l < LB; l++) r[l] += o[l];
  }
}

typedef struct {
  float *data;
  const int64_t *dim; /* 4 */
  int axis;
  dp__rg_coef c;
} rg_ctx;

/* One task: axes 0 and 1 work within slice `task` (t * n2 + k), axis 2
 * within row `task` (t * n1 + j).  Lines: LB at a time, start + l * lstride
 * (l < nl), elements `stride` apart. */
static dp_status rg_task(void *vctx, int64_t task) {
  rg_ctx *c = vctx;
  const int64_t *d = c->dim;
  int64_t n = d[c->axis], len = (n + 2 * PAD) * LB;
  double *x = malloc((size_t)len * 3 * sizeof *x);
  if (!x) return dp__error(DP_ENOMEM, "out of memory");
  double *yc = x + len, *ya = yc + len;
  memset(x, 0, PAD * LB * sizeof *x);
  memset(x + (n + PAD) * LB, 0, PAD * LB * sizeof *x);
  int64_t plane = d[0] * d[1], vol = plane * d[2], base, nlines, lstride, stride;
  if (c->axis == 2) {
    base = (task / d[1]) * vol + (task % d[1]) * d[0];
    nlines = d[0], lstride = 1, stride = plane;
  } else {
    base = (task / d[2]) * vol + (task % d[2]) * plane;
    nlines = c->axis == 0 ? d[1] : d[0];
    lstride = c->axis == 0 ? d[0] : 1;
    stride = c->axis == 0 ? 1 : d[0];
  }
  for (int64_t l0 = 0; l0 < nlines; l0 += LB) {
    int nl = nlines - l0 < LB ? (int)(nlines - l0) : LB;
    float *src = c->data + base + l0 * lstride;
    if (nl < LB) memset(x + PAD * LB, 0, (size_t)n * LB * sizeof *x);
    for (int64_t q = 0; q < n; q++) {
      const float *s = src + q * stride;
      double *b = x + (q + PAD) * LB;
      for (int l = 0; l < nl; l++) b[l] = (double)s[l * lstride];
    }
    dp__rg_lines(&c->c, x, yc, ya, n);
    for (int64_t q = 0; q < n; q++) {
      float *s = src + q * stride;
      const double *r = yc + (q + PAD) * LB;
      for (int l = 0; l < nl; l++) s[l * lstride] = (float)r[l];
    }
  }
  free(x);
  return DP_OK;
}

dp_status dp_gaussian_recursive(float *data, const int64_t dim[4], const double sigma[3],
                                int threads) {
  if (!data || !dim || !sigma) return dp__error(DP_EINVAL, "dp_gaussian_recursive: missing argument");
  for (int a = 0; a < 4; a++)
    if (dim[a] < 1) return dp__error(DP_EINVAL, "dp_gaussian_recursive: dim[%d] = %lld", a, (long long)dim[a]);
  for (int a = 0; a < 3; a++)
    if (!(sigma[a] >= 0) || !isfinite(sigma[a]))
      return dp__error(DP_EINVAL, "Gaussian sigma %g is not a non-negative number", sigma[a]);
  dp_status s = DP_OK;
  for (int a = 0; a < 3 && s == DP_OK; a++) {
    if (sigma[a] == 0) continue;
    rg_ctx c = {data, dim, a, {{0}, {0}, {0}}};
    dp__rg_coefs(sigma[a], &c.c);
    int64_t ntasks = (a == 2 ? dim[1] : dim[2]) * dim[3];
    s = dp__parallel_for(ntasks, threads, rg_task, &c);
  }
  return s;
}
