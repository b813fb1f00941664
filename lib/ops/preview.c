#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dcmprep/preview.h"
#include "dcmprep/warp.h"
#include "ops/ops_internal.h"

/* ---- font ----------------------------------------------------------------------- */

/* 5 x 7 glyphs of the six orientation letters; each row a 5-bit pattern,
 * bit 4 the leftmost dot. */
static const struct {
  char c;
  unsigned char rows[7];
} glyphs[] = {
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
};
enum { GLYPH_W = 5, GLYPH_H = 7 };

/* Draws letter c with its top-left corner at (x, y), clipped to the image. */
static void draw_letter(dp_image *img, char c, int x, int y) {
  const unsigned char *rows = NULL;
  for (size_t g = 0; g < sizeof glyphs / sizeof glyphs[0]; g++)
    if (glyphs[g].c == c) rows = glyphs[g].rows;
  if (!rows) return;
  const int s = DP_PREVIEW_FONT_SCALE;
  for (int gy = 0; gy < GLYPH_H * s; gy++)
    for (int gx = 0; gx < GLYPH_W * s; gx++) {
      if (!(rows[gy / s] >> (GLYPH_W - 1 - gx / s) & 1)) continue;
      int px = x + gx, py = y + gy;
      if (px < 0 || py < 0 || px >= img->width || py >= img->height) continue;
      memset(img->pixels + ((size_t)py * (size_t)img->width + (size_t)px) * (size_t)img->channels,
             255, (size_t)img->channels);
    }
}

/* ---- label colours ------------------------------------------------------------- */

static const unsigned char palette[12][3] = {
    {255, 0, 0},   {0, 255, 0},   {0, 0, 255},   {255, 255, 0}, {0, 255, 255}, {255, 0, 255},
    {255, 128, 0}, {128, 0, 255}, {0, 128, 255}, {255, 0, 128}, {128, 255, 0}, {0, 255, 128},
};

void dp_preview_label_colour(long long l, unsigned char rgb[3]) {
  long long i = l >= 1 ? (l - 1) % 12 : 0;
  memcpy(rgb, palette[i], 3);
}

/* ---- options and window ---------------------------------------------------------- */

static dp_status check_opts(const dp_preview_opts *o) {
  if (o->window_set && !(isfinite(o->window_center) && isfinite(o->window_width) &&
                         o->window_width > 0))
    return dp__error(DP_EINVAL, "preview window %g,%g: need a finite centre and a width > 0",
                     o->window_center, o->window_width);
  if (!(o->pct_lo >= 0 && o->pct_lo < o->pct_hi && o->pct_hi <= 100))
    return dp__error(DP_EINVAL, "preview percentiles %g,%g: need 0 <= low < high <= 100", o->pct_lo,
                     o->pct_hi);
  if (!(o->alpha >= 0 && o->alpha <= 1))
    return dp__error(DP_EINVAL, "preview label opacity %g: need 0..1", o->alpha);
  if (o->max_side < 1) return dp__error(DP_EINVAL, "preview max_side %d: need >= 1", o->max_side);
  if (!(o->pixel_mm <= 0 || isfinite(o->pixel_mm)))
    return dp__error(DP_EINVAL, "preview pixel size %g is not finite", o->pixel_mm);
  return DP_OK;
}

/* The first volume (t = 0) of v as a 3-D view sharing v's voxels. */
static dp_volume first_volume(const dp_volume *v) {
  dp_volume view = *v;
  view.dim[3] = 1;
  view.meta = NULL;
  return view;
}

enum { NBINS_FLOAT = 65536 };

typedef struct {
  const dp_volume *v;
  dp__load_fn load;
  int64_t n, nchunks;
  double lo, scale; /* bin = floor((x - lo) * scale), clamped */
  int64_t nbins;
  int64_t *hist;    /* nchunks x nbins, merged afterwards: exact for any thread count */
  double *cmin, *cmax;
} hist_ctx;

static dp_status minmax_task(void *vc, int64_t t) {
  hist_ctx *c = vc;
  int64_t a = c->n * t / c->nchunks, b = c->n * (t + 1) / c->nchunks;
  double mn = INFINITY, mx = -INFINITY;
  for (int64_t i = a; i < b; i++) {
    double x = c->load(c->v->data, i);
    if (!isfinite(x)) continue;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  c->cmin[t] = mn;
  c->cmax[t] = mx;
  return DP_OK;
}

static dp_status hist_task(void *vc, int64_t t) {
  hist_ctx *c = vc;
  int64_t a = c->n * t / c->nchunks, b = c->n * (t + 1) / c->nchunks;
  int64_t *h = c->hist + t * c->nbins;
  for (int64_t i = a; i < b; i++) {
    double x = c->load(c->v->data, i);
    if (!isfinite(x)) continue;
    int64_t k = (int64_t)floor((x - c->lo) * c->scale);
    h[k < 0 ? 0 : k >= c->nbins ? c->nbins - 1 : k]++;
  }
  return DP_OK;
}

/* The value of rank r (0-based, in sorted order) from the merged histogram:
 * exact when every bin holds one value; otherwise the r-th of the bin's
 * values spread evenly across it. */
static double rank_value(const hist_ctx *c, const int64_t *h, int64_t r, int exact) {
  int64_t seen = 0;
  for (int64_t k = 0; k < c->nbins; k++) {
    if (r < seen + h[k]) {
      if (exact) return c->lo + (double)k;
      double w = 1.0 / c->scale;
      return c->lo + w * ((double)k + ((double)(r - seen) + 0.5) / (double)h[k]);
    }
    seen += h[k];
  }
  return c->lo + (double)(c->nbins - 1) / c->scale;
}

/* Percentiles p0 < p1 (numpy's linear rule) over the finite voxels of v, or
 * min/max when those coincide.  *found = 0 when no voxel is finite. */
static dp_status percentiles(const dp_volume *v, double p0, double p1, int threads, double out[2],
                             int *found) {
  hist_ctx c;
  memset(&c, 0, sizeof c);
  c.v = v;
  c.load = dp__loader(v->dtype);
  c.n = v->dim[0] * v->dim[1] * v->dim[2];
  c.nchunks = c.n < 16 ? 1 : 16; /* fixed, so the counts never depend on the thread count */
  c.cmin = malloc(sizeof(double) * (size_t)c.nchunks);
  c.cmax = malloc(sizeof(double) * (size_t)c.nchunks);
  dp_status s = c.cmin && c.cmax ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  if (s == DP_OK) s = dp__parallel_for(c.nchunks, threads, minmax_task, &c);
  double mn = INFINITY, mx = -INFINITY;
  for (int64_t t = 0; s == DP_OK && t < c.nchunks; t++) {
    if (c.cmin[t] < mn) mn = c.cmin[t];
    if (c.cmax[t] > mx) mx = c.cmax[t];
  }
  free(c.cmin);
  free(c.cmax);
  *found = s == DP_OK && mn <= mx;
  if (s != DP_OK || !*found) return s;
  int exact = !dp_dtype_is_float(v->dtype) && mx - mn < NBINS_FLOAT;
  c.lo = mn;
  c.nbins = exact ? (int64_t)(mx - mn) + 1 : NBINS_FLOAT;
  c.scale = exact ? 1.0 : mx > mn ? (double)NBINS_FLOAT / (mx - mn) : 1.0;
  c.hist = calloc((size_t)(c.nchunks * c.nbins), sizeof(int64_t));
  if (!c.hist) return dp__error(DP_ENOMEM, "out of memory for a histogram");
  s = dp__parallel_for(c.nchunks, threads, hist_task, &c);
  int64_t total = 0;
  for (int64_t t = 1; t < c.nchunks; t++)
    for (int64_t k = 0; k < c.nbins; k++) c.hist[k] += c.hist[t * c.nbins + k];
  for (int64_t k = 0; k < c.nbins; k++) total += c.hist[k];
  const double p[2] = {p0, p1};
  for (int e = 0; e < 2 && s == DP_OK; e++) {
    double pos = p[e] / 100.0 * (double)(total - 1);
    int64_t r0 = (int64_t)floor(pos), r1 = r0 + 1 < total ? r0 + 1 : r0;
    double a = rank_value(&c, c.hist, r0, exact), b = rank_value(&c, c.hist, r1, exact);
    out[e] = a + (pos - (double)r0) * (b - a);
  }
  free(c.hist);
  if (s == DP_OK && !(out[1] > out[0])) {
    out[0] = mn;
    out[1] = mx;
  }
  return s;
}

dp_status dp_preview_window(const dp_volume *image, const dp_preview_opts *opts, double *center,
                            double *width) {
  dp_preview_opts o = DP_PREVIEW_OPTS_INIT;
  if (opts) o = *opts;
  dp_status s = check_opts(&o);
  if (s != DP_OK) return s;
  if (o.window_set) {
    *center = o.window_center;
    *width = o.window_width;
    return DP_OK;
  }
  dp_volume v = first_volume(image);
  double r[2] = {0, 0};
  int found = 0;
  s = percentiles(&v, o.pct_lo, o.pct_hi, o.threads, r, &found);
  if (s != DP_OK) return s;
  /* a constant (or all-NaN) volume has no range: any width shows it, as black */
  if (found && r[1] > r[0]) {
    *center = (r[0] + r[1]) / 2;
    *width = r[1] - r[0];
  } else { /* constant or all non-finite: a unit window starting at the value shows black */
    *center = (found ? r[0] : 0) + 0.5;
    *width = 1;
  }
  return DP_OK;
}

/* ---- geometry ---------------------------------------------------------------------- */

typedef struct {
  double centre[3]; /* world point of voxel (n - 1) / 2 */
  double extent[3]; /* RAS bounding box of the voxel extent, mm */
} fov;

static dp_status field_of_view(const dp_volume *v, fov *f) {
  dp_mat4 inv;
  dp_status s = dp_mat4_inverse(v->ijk_to_ras, &inv);
  if (s != DP_OK) return dp__error(DP_EGEOMETRY, "preview: the volume's affine is singular");
  double half[3];
  for (int d = 0; d < 3; d++) half[d] = ((double)v->dim[d] - 1) / 2;
  dp_mat4_apply(&v->ijk_to_ras, half, f->centre);
  for (int e = 0; e < 3; e++) {
    /* the bounding box of a parallelepiped: sum of |column| half-widths */
    double r = 0;
    for (int d = 0; d < 3; d++) r += fabs(v->ijk_to_ras.m[e][d]) * (double)v->dim[d] / 2;
    f->extent[e] = 2 * r;
  }
  return DP_OK;
}

static int pixels_for(double extent, double pixel) {
  double n = floor(extent / pixel + 0.5);
  return n < 1 ? 1 : n > 65535 ? 65535 : (int)n;
}

dp_status dp_preview_pixel_size(const dp_volume *image, const dp_preview_opts *opts,
                                double *pixel_mm) {
  dp_preview_opts o = DP_PREVIEW_OPTS_INIT;
  if (opts) o = *opts;
  dp_status s = check_opts(&o);
  fov f;
  if (s == DP_OK) s = field_of_view(image, &f);
  if (s != DP_OK) return s;
  double p = o.pixel_mm;
  if (!(p > 0)) {
    double sp[3];
    dp_volume_spacing(image, sp);
    p = fmin(sp[0], fmin(sp[1], sp[2]));
  }
  double big = fmax(f.extent[0], fmax(f.extent[1], f.extent[2]));
  if (big / p > o.max_side) p = big / o.max_side;
  *pixel_mm = p;
  return DP_OK;
}

/* The three planes: for each, which world axis runs along the columns and
 * the rows, the direction a step right or down takes along it, and the axis
 * held at the centre.  This table is the display convention. */
static const struct {
  int col_axis, col_sign, row_axis, row_sign, fixed_axis;
  char left, right, top, bottom;
} planes[3] = {
    {1, -1, 2, -1, 0, 'A', 'P', 'S', 'I'}, /* sagittal: anterior left, superior top */
    {0, -1, 2, -1, 1, 'R', 'L', 'S', 'I'}, /* coronal: patient's right on the left */
    {0, -1, 1, -1, 2, 'R', 'L', 'A', 'P'}, /* axial: right on the left, anterior top */
};

/* Samples plane q of v (image: trilinear, label: nearest) into a w x h float
 * raster, NaN outside the volume. */
static dp_status sample_plane(const dp_volume *v, const fov *f, double p, int q, int w, int h,
                              int nearest, int threads, dp_volume **out) {
  /* output grid (col, 0, row): the warp engine splits work over its third
   * axis, so putting rows there spreads one plane over the threads */
  dp_mat4 a = dp_mat4_identity();
  for (int e = 0; e < 3; e++) a.m[e][0] = a.m[e][1] = a.m[e][2] = 0;
  int ca = planes[q].col_axis, ra = planes[q].row_axis;
  a.m[ca][0] = planes[q].col_sign * p;
  a.m[ra][2] = planes[q].row_sign * p;
  /* the one-voxel-thick axis needs a non-zero step for the affine to be
   * invertible; it is never stepped along */
  a.m[planes[q].fixed_axis][1] = p;
  for (int e = 0; e < 3; e++) a.m[e][3] = f->centre[e];
  a.m[ca][3] -= planes[q].col_sign * p * (w - 1) / 2.0;
  a.m[ra][3] -= planes[q].row_sign * p * (h - 1) / 2.0;
  dp_mat4 inv;
  dp_status s = dp_mat4_inverse(v->ijk_to_ras, &inv);
  if (s != DP_OK) return dp__error(DP_EGEOMETRY, "preview: the affine is singular");
  dp_mat4 m = dp_mat4_mul(inv, a);
  dp_warp_opts wo = DP_WARP_OPTS_INIT;
  wo.interp = nearest ? DP_INTERP_NEAREST : DP_INTERP_LINEAR;
  wo.fill = DP_FILL_CONSTANT;
  wo.fill_value = nearest ? 0.0 : NAN;
  wo.dtype = DP_F64; /* keeps int32 values and large label numbers exact */
  wo.threads = threads;
  const int64_t dim[3] = {w, 1, h};
  return dp_warp(v, dim, &a, &m, &wo, out);
}

static unsigned char to_display(double x, double lo, double width) {
  if (!isfinite(x)) return 0;
  double y = floor(255.0 * (x - lo) / width + 0.5);
  return (unsigned char)(y < 0 ? 0 : y > 255 ? 255 : y);
}

typedef struct {
  int w[3], h[3]; /* panel sizes */
  int x[3], y[3]; /* panel top-left corners in the row */
  int width, height;
} layout;

static void make_layout(const fov *f, double p, layout *L) {
  const int m = DP_PREVIEW_MARGIN;
  int x = 0, hmax = 0;
  for (int q = 0; q < 3; q++) {
    L->w[q] = pixels_for(f->extent[planes[q].col_axis], p);
    L->h[q] = pixels_for(f->extent[planes[q].row_axis], p);
    if (L->h[q] > hmax) hmax = L->h[q];
  }
  for (int q = 0; q < 3; q++) {
    L->x[q] = x + m;
    L->y[q] = m + (hmax - L->h[q]) / 2;
    x += L->w[q] + 2 * m;
  }
  L->width = x;
  L->height = hmax + 2 * m;
}

static void draw_letters(dp_image *img, const layout *L, int q) {
  const int m = DP_PREVIEW_MARGIN, gw = GLYPH_W * DP_PREVIEW_FONT_SCALE,
            gh = GLYPH_H * DP_PREVIEW_FONT_SCALE;
  int x = L->x[q], y = L->y[q], w = L->w[q], h = L->h[q];
  int cx = x + w / 2 - gw / 2, cy = y + h / 2 - gh / 2;
  draw_letter(img, planes[q].left, x - m + (m - gw) / 2, cy);
  draw_letter(img, planes[q].right, x + w + (m - gw) / 2, cy);
  draw_letter(img, planes[q].top, cx, y - m + (m - gh) / 2);
  draw_letter(img, planes[q].bottom, cx, y + h + (m - gh) / 2);
}

/* Writes plane q (image raster g, optional label raster lab) into img. */
static void paint_panel(dp_image *img, const layout *L, int q, const dp_volume *g,
                        const dp_volume *lab, double lo, double width, double alpha) {
  const double *gv = g->data;
  const double *lv = lab ? lab->data : NULL;
  int w = L->w[q], h = L->h[q], ch = img->channels;
  for (int r = 0; r < h; r++) {
    unsigned char *dst = img->pixels + ((size_t)(L->y[q] + r) * (size_t)img->width + (size_t)L->x[q]) * (size_t)ch;
    for (int c = 0; c < w; c++, dst += ch) {
      size_t i = (size_t)r * (size_t)w + (size_t)c;
      unsigned char v = to_display(gv[i], lo, width);
      memset(dst, v, (size_t)ch);
      if (!lv || !isfinite(lv[i])) continue;
      double lr = floor(lv[i] + 0.5);
      if (lr < 1) continue;
      unsigned char rgb[3];
      /* (a float label beyond long long's range must not reach the cast) */
      dp_preview_label_colour(lr > 9e18 ? 1 : (long long)lr, rgb);
      for (int k = 0; k < 3; k++)
        dst[k] = (unsigned char)floor((1 - alpha) * v + alpha * rgb[k] + 0.5);
    }
  }
}

dp_status dp_preview_render(const dp_volume *image, const dp_volume *label,
                            const dp_preview_opts *opts, dp_image **out) {
  *out = NULL;
  dp_preview_opts o = DP_PREVIEW_OPTS_INIT;
  if (opts) o = *opts;
  dp_status s = check_opts(&o);
  if (s != DP_OK) return s;
  if (!image) return dp__error(DP_EINVAL, "preview: no image");
  dp_volume v = first_volume(image), lv = label ? first_volume(label) : v;
  double p, center, width;
  fov f;
  s = dp_preview_pixel_size(&v, &o, &p);
  if (s == DP_OK) s = field_of_view(&v, &f);
  if (s == DP_OK) s = dp_preview_window(&v, &o, &center, &width);
  if (label && s == DP_OK) {
    dp_mat4 tmp;
    if (dp_mat4_inverse(lv.ijk_to_ras, &tmp) != DP_OK)
      s = dp__error(DP_EGEOMETRY, "preview: the label's affine is singular");
  }
  if (s != DP_OK) return s;
  layout L;
  make_layout(&f, p, &L);
  dp_image *img = NULL;
  s = dp_image_new(L.width, L.height, label ? 3 : 1, &img);
  for (int q = 0; q < 3 && s == DP_OK; q++) {
    dp_volume *g = NULL, *lab = NULL;
    s = sample_plane(&v, &f, p, q, L.w[q], L.h[q], 0, o.threads, &g);
    if (s == DP_OK && label) s = sample_plane(&lv, &f, p, q, L.w[q], L.h[q], 1, o.threads, &lab);
    if (s == DP_OK) paint_panel(img, &L, q, g, lab, center - width / 2, width, o.alpha);
    if (s == DP_OK && o.letters) draw_letters(img, &L, q);
    dp_volume_free(g);
    dp_volume_free(lab);
  }
  if (s == DP_OK) s = dp_volume_check(image); /* drawn from a file that changed? */
  if (s == DP_OK && label) s = dp_volume_check(label);
  if (s != DP_OK) {
    dp_image_free(img);
    return s;
  }
  *out = img;
  return DP_OK;
}

dp_status dp_preview_stack(const dp_image *const *rows, int nrows, dp_image **out) {
  *out = NULL;
  if (nrows < 1 || !rows) return dp__error(DP_EINVAL, "preview: no rows to stack");
  int width = 0, height = 0, ch = 1;
  for (int r = 0; r < nrows; r++) {
    if (!rows[r] || !rows[r]->pixels) return dp__error(DP_EINVAL, "preview: row %d is empty", r);
    if (rows[r]->width > width) width = rows[r]->width;
    if (rows[r]->height > 65535 - height)
      return dp__error(DP_ELIMIT, "preview: the stacked picture is too tall");
    height += rows[r]->height;
    if (rows[r]->channels == 3) ch = 3;
  }
  dp_image *img = NULL;
  dp_status s = dp_image_new(width, height, ch, &img);
  int y0 = 0;
  for (int r = 0; r < nrows && s == DP_OK; r++) {
    const dp_image *src = rows[r];
    dp_image *conv = NULL;
    if (src->channels != ch) {
      s = dp_image_to_rgb(src, &conv);
      src = conv;
    }
    for (int y = 0; s == DP_OK && y < src->height; y++)
      memcpy(img->pixels + ((size_t)(y0 + y) * (size_t)width) * (size_t)ch,
             src->pixels + (size_t)y * (size_t)src->width * (size_t)ch,
             (size_t)src->width * (size_t)ch);
    if (s == DP_OK) y0 += src->height;
    dp_image_free(conv);
  }
  if (s != DP_OK) {
    dp_image_free(img);
    return s;
  }
  *out = img;
  return DP_OK;
}
