#include "dcmprep/rng.h"

#include <math.h>

#include "core/internal.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t dp_rng_hash_str(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t dp_rng_key(uint64_t seed, uint64_t name_hash, uint64_t variant, uint64_t step) {
  /* chained, not xor-ed together: (1, 2) and (2, 1) must give different keys */
  uint64_t k = mix(seed + GOLDEN);
  k = mix(k ^ mix(name_hash + 2 * GOLDEN));
  k = mix(k ^ mix(variant + 3 * GOLDEN));
  return mix(k ^ mix(step + 4 * GOLDEN));
}

uint64_t dp_rng_subkey(uint64_t key, uint64_t stream) { return mix(key ^ mix(stream + 5 * GOLDEN)); }

uint64_t dp_rng_u64(uint64_t key, uint64_t draw) {
  /* SplitMix64 at position draw + 1 of the sequence started at key, mixed
   * once more with the key so that nearby keys do not give shifted copies
   * of one sequence */
  return mix(mix(key + (draw + 1) * GOLDEN) ^ key);
}

double dp_rng_uniform(uint64_t key, uint64_t draw) {
  return (double)(dp_rng_u64(key, draw) >> 11) * 0x1.0p-53;
}

double dp_rng_range(uint64_t key, uint64_t draw, double lo, double hi) {
  if (!(hi > lo)) return lo;
  double v = lo + (hi - lo) * dp_rng_uniform(key, draw);
  return v > hi ? hi : v;
}

int64_t dp_rng_int(uint64_t key, uint64_t draw, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  double n = (double)hi - (double)lo + 1.0;
  int64_t v = lo + (int64_t)floor(dp_rng_uniform(key, draw) * n);
  return v > hi ? hi : v;
}

double dp_rng_normal(uint64_t key, uint64_t draw) {
  /* 1 - u lies in (0, 1]: the logarithm is finite */
  double u1 = 1.0 - dp_rng_uniform(key, 2 * draw), u2 = dp_rng_uniform(key, 2 * draw + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * DP__PI * u2);
}
