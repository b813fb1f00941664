/* The even-odd fill, its tie rule, spans and self-intersection
 * (lib/labels/raster.c). */
#include <math.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"
#include "labels/raster.h"
#include "testutil.h"

/* Fills into a dense nx x ny grid (index i + nx * j). */
static void dense(const double *const *pts, const int *np, int npoly, int nx, int ny, uint8_t *grid) {
  dp__spans s = {0};
  memset(grid, 0, (size_t)nx * ny);
  ck_assert_int_eq(dp__fill_polygons(pts, np, npoly, nx, ny, &s), DP_OK);
  for (int q = 0; q < s.n; q++) {
    ck_assert_int_lt(s.v[q].i0, s.v[q].i1);
    if (q) ck_assert(s.v[q - 1].j < s.v[q].j || s.v[q - 1].i1 < s.v[q].i0); /* sorted, disjoint, not touching */
    for (int i = s.v[q].i0; i < s.v[q].i1; i++) grid[i + nx * s.v[q].j] = 1;
  }
  free(s.v);
}

/* The rule, voxel by voxel (as labels.h states it). */
static int pnpoly(const double *const *pts, const int *np, int npoly, double i, double j) {
  int in = 0;
  for (int p = 0; p < npoly; p++)
    for (int q = 0; q < np[p]; q++) {
      const double *a = pts[p] + 2 * q, *b = pts[p] + 2 * ((q + 1) % np[p]);
      if ((a[1] > j) != (b[1] > j) && i < (b[0] - a[0]) * (j - a[1]) / (b[1] - a[1]) + a[0]) in = !in;
    }
  return in;
}

static void same_as_rule(const double *const *pts, const int *np, int npoly, int nx, int ny) {
  uint8_t *g = malloc((size_t)nx * ny);
  dense(pts, np, npoly, nx, ny, g);
  for (int j = 0; j < ny; j++)
    for (int i = 0; i < nx; i++) ck_assert_int_eq(g[i + nx * j], pnpoly(pts, np, npoly, i, j));
  free(g);
}

START_TEST(square_on_centres_tie_rule) {
  /* corners on voxel centres: the +i/+j sides are in, so [2, 5) x [1, 4) */
  double sq[] = {2, 1, 5, 1, 5, 4, 2, 4};
  const double *p[] = {sq};
  int n[] = {4};
  uint8_t g[64];
  dense(p, n, 1, 8, 8, g);
  int count = 0;
  for (int j = 0; j < 8; j++)
    for (int i = 0; i < 8; i++) {
      int want = i >= 2 && i < 5 && j >= 1 && j < 4;
      ck_assert_int_eq(g[i + 8 * j], want);
      count += g[i + 8 * j];
    }
  ck_assert_int_eq(count, 9);
  /* the same square drawn the other way round gives the same voxels */
  double rev[] = {2, 4, 5, 4, 5, 1, 2, 1};
  const double *pr[] = {rev};
  uint8_t h[64];
  dense(pr, n, 1, 8, 8, h);
  ck_assert_int_eq(memcmp(g, h, 64), 0);
}
END_TEST

START_TEST(shared_edge_claimed_once) {
  /* two squares sharing the edge x = 4: its voxels belong to the right one only */
  double a[] = {1, 1, 4, 1, 4, 5, 1, 5}, b[] = {4, 1, 7, 1, 7, 5, 4, 5};
  const double *pa[] = {a}, *pb[] = {b};
  int n[] = {4};
  uint8_t ga[100], gb[100];
  dense(pa, n, 1, 10, 10, ga);
  dense(pb, n, 1, 10, 10, gb);
  int both = 0, total = 0;
  for (int k = 0; k < 100; k++) {
    both += ga[k] && gb[k];
    total += ga[k] + gb[k];
  }
  ck_assert_int_eq(both, 0);
  ck_assert_int_eq(total, 6 * 4); /* [1, 7) x [1, 5) exactly */
}
END_TEST

START_TEST(holes_and_islands) {
  /* outer square, a hole, an island in the hole: even-odd over all three */
  double outer[] = {0.5, 0.5, 19.5, 0.5, 19.5, 19.5, 0.5, 19.5};
  double hole[] = {4.5, 4.5, 15.5, 4.5, 15.5, 15.5, 4.5, 15.5};
  double island[] = {8.5, 8.5, 11.5, 8.5, 11.5, 11.5, 8.5, 11.5};
  const double *p[] = {outer, hole, island};
  int n[] = {4, 4, 4};
  uint8_t g[400];
  dense(p, n, 3, 20, 20, g);
  ck_assert_int_eq(g[2 + 20 * 2], 1);   /* ring */
  ck_assert_int_eq(g[6 + 20 * 6], 0);   /* hole */
  ck_assert_int_eq(g[10 + 20 * 10], 1); /* island */
  ck_assert_int_eq(g[0], 0);            /* outside */
  int count = 0;
  for (int k = 0; k < 400; k++) count += g[k];
  ck_assert_int_eq(count, 19 * 19 - 11 * 11 + 3 * 3);
  same_as_rule(p, n, 3, 20, 20);
}
END_TEST

START_TEST(keyhole_equals_hole) {
  /* one contour with a cut to its hole (a keyhole) fills as outer + hole */
  double key[] = {0.5, 0.5, 9.5, 0.5, 9.5, 9.5, 5.2, 9.5, 5.2, 7.5, 7.5, 7.5, 7.5, 2.5, 2.5, 2.5, 2.5, 7.5, 5.2, 7.5,
                  5.2, 9.5, 0.5, 9.5};
  double outer[] = {0.5, 0.5, 9.5, 0.5, 9.5, 9.5, 0.5, 9.5}, hole[] = {2.5, 2.5, 7.5, 2.5, 7.5, 7.5, 2.5, 7.5};
  const double *pk[] = {key}, *ph[] = {outer, hole};
  int nk[] = {12}, nh[] = {4, 4};
  uint8_t a[100], b[100];
  dense(pk, nk, 1, 10, 10, a);
  dense(ph, nh, 2, 10, 10, b);
  ck_assert_int_eq(memcmp(a, b, 100), 0);
}
END_TEST

START_TEST(random_polygons_match_the_rule) {
  /* stars and random polygons (self-intersecting too), partly off the grid */
  uint64_t st = 12345;
  for (int t = 0; t < 200; t++) {
    double pts[2 * 40];
    int n = 3 + (int)(t % 37);
    for (int q = 0; q < n; q++) {
      st = st * 6364136223846793005ULL + 1442695040888963407ULL;
      double r = 2 + (double)(st >> 40) / (double)(1 << 24) * 14;
      double a = 2 * M_PI * q / n;
      pts[2 * q] = 12 + r * cos(a) + (t % 5 == 0 ? (double)(st >> 60) : 0);
      pts[2 * q + 1] = 10 + r * sin(a * (t % 3 == 0 ? 3 : 1));
      if (t % 7 == 0) { /* coordinates on voxel centres: ties */
        pts[2 * q] = floor(pts[2 * q]);
        pts[2 * q + 1] = floor(pts[2 * q + 1]);
      }
    }
    const double *p[] = {pts};
    int np[] = {n};
    same_as_rule(p, np, 1, 24, 20);
  }
}
END_TEST

START_TEST(degenerate_and_far_away) {
  double line[] = {1, 1, 5, 5, 1, 1};
  double far[] = {-1e5, -1e5, 1e5, -1e5, 1e5, 1e5, -1e5, 1e5};
  double two[] = {1, 1, 3, 3};
  const double *p[] = {line}, *f[] = {far}, *t[] = {two};
  int n3[] = {3}, n4[] = {4}, n2[] = {2};
  uint8_t g[64];
  dense(p, n3, 1, 8, 8, g);
  for (int k = 0; k < 64; k++) ck_assert_int_eq(g[k], 0);
  dense(t, n2, 1, 8, 8, g);
  for (int k = 0; k < 64; k++) ck_assert_int_eq(g[k], 0);
  dense(f, n4, 1, 8, 8, g); /* covers the grid: every voxel, clipped */
  for (int k = 0; k < 64; k++) ck_assert_int_eq(g[k], 1);
}
END_TEST

START_TEST(spans_union) {
  dp__spans s = {0};
  dp__spans_push(&s, 2, 5, 8);
  dp__spans_push(&s, 1, 0, 3);
  dp__spans_push(&s, 2, 1, 5); /* touches [5, 8) */
  dp__spans_push(&s, 2, 10, 12);
  dp__spans_push(&s, 2, 11, 14);
  dp__spans_normalize(&s);
  ck_assert_int_eq(s.n, 3);
  ck_assert_int_eq(s.v[0].j, 1);
  ck_assert_int_eq(s.v[1].i0, 1);
  ck_assert_int_eq(s.v[1].i1, 8);
  ck_assert_int_eq(s.v[2].i0, 10);
  ck_assert_int_eq(s.v[2].i1, 14);
  ck_assert_int_eq(dp__spans_voxels(&s), 3 + 7 + 4);
  free(s.v);
}
END_TEST

START_TEST(self_intersection) {
  double bowtie[] = {0, 0, 4, 4, 4, 0, 0, 4};
  double square[] = {0, 0, 4, 0, 4, 4, 0, 4};
  double closed[] = {0, 0, 4, 0, 4, 4, 0, 4, 0, 0}; /* first point repeated */
  double dup[] = {0, 0, 4, 0, 4, 0, 4, 4, 0, 4};    /* a repeated point */
  double touch[] = {0, 0, 6, 0, 6, 6, 3, 0.0, 0, 6}; /* a vertex on another edge */
  ck_assert_int_eq(dp__polygon_self_intersects(bowtie, 4), 1);
  ck_assert_int_eq(dp__polygon_self_intersects(square, 4), 0);
  ck_assert_int_eq(dp__polygon_self_intersects(closed, 5), 0);
  ck_assert_int_eq(dp__polygon_self_intersects(dup, 5), 0);
  ck_assert_int_eq(dp__polygon_self_intersects(touch, 5), 1);
  double circle[2 * 256];
  for (int q = 0; q < 256; q++) {
    circle[2 * q] = 50 + 40 * cos(2 * M_PI * q / 256);
    circle[2 * q + 1] = 50 + 40 * sin(2 * M_PI * q / 256);
  }
  ck_assert_int_eq(dp__polygon_self_intersects(circle, 256), 0);
  double star[2 * 5]; /* a pentagram crosses itself five times */
  for (int q = 0; q < 5; q++) {
    star[2 * q] = cos(4 * M_PI * q / 5);
    star[2 * q + 1] = sin(4 * M_PI * q / 5);
  }
  ck_assert_int_eq(dp__polygon_self_intersects(star, 5), 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("raster");
  TCase *tc = tcase_create("fill");
  tcase_add_test(tc, square_on_centres_tie_rule);
  tcase_add_test(tc, shared_edge_claimed_once);
  tcase_add_test(tc, holes_and_islands);
  tcase_add_test(tc, keyhole_equals_hole);
  tcase_add_test(tc, random_polygons_match_the_rule);
  tcase_add_test(tc, degenerate_and_far_away);
  tcase_add_test(tc, spans_union);
  tcase_add_test(tc, self_intersection);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
