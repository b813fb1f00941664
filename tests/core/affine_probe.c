/* Test helper: reads affines (12 numbers per line: the top three rows) from
 * stdin and prints, per line: axcodes, spacing x3, shear angle, the nearest
 * rotation (9 numbers, row-major) and the inverse (12 numbers). */
#include <stdio.h>

#include "dcmprep/dcmprep.h"

int main(void) {
  double a[12];
  while (1) {
    for (int i = 0; i < 12; i++)
      if (scanf("%lf", &a[i]) != 1) return 0;
    dp_mat4 m = dp_mat4_identity();
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++) m.m[r][c] = a[r * 4 + c];
    char code[4];
    double sp[3], rot[3][3];
    dp_mat4 inv = dp_mat4_identity();
    dp_affine_axcodes(&m, code);
    dp_affine_spacing(&m, sp);
    dp_affine_rotation(&m, rot);
    dp_mat4_inverse(m, &inv);
    printf("%s %.17g %.17g %.17g %.17g", code, sp[0], sp[1], sp[2], dp_affine_shear_deg(&m));
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) printf(" %.17g", rot[r][c]);
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++) printf(" %.17g", inv.m[r][c]);
    putchar('\n');
  }
}
