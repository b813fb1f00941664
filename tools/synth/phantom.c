#include "phantom.h"

double phantom_value(phantom_kind kind, int mr, double x, double y, double z) {
  if (kind == PHANTOM_RAMP) return 100.0 + 2.0 * x + 3.0 * y + 5.0 * z;
  double e = (x / 120.0) * (x / 120.0) + (y / 90.0) * (y / 90.0);
  if (e >= 1.0) return mr ? 0.0 : -1000.0;
  double dx = x - 60.0;
  if (dx * dx + y * y + z * z < 20.0 * 20.0) return 1000.0;
  double inner = (x / 110.0) * (x / 110.0) + (y / 80.0) * (y / 80.0);
  if (inner >= 1.0) return mr ? 100.0 : 700.0;
  return (mr ? 400.0 : 40.0) + 0.5 * z;
}
