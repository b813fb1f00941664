/* Counter-based random numbers for reproducible augmentation.
 *
 * There is no generator state: every number is a pure function of a key and
 * a draw index, hash(key, draw), so draws are the same whatever the thread
 * count or the order in which variants, steps or voxels are computed, and
 * any one of them can be regenerated alone.  A key is made from the user's
 * seed, a hash of the input's name, the variant index and the step index
 * (dp_rng_key); sub-streams (e.g. one normal number per voxel) take a key
 * derived from a step's key (dp_rng_subkey).
 *
 * The hash is SplitMix64's finaliser (Steele, Lea and Flood 2014; the
 * mixing constants of Stafford's "Mix13") applied to the key combined with
 * the draw index times the golden-ratio increment, then mixed once more
 * with the key (the SplitMix64 sequence itself passes BigCrush): sound for
 * sampling augmentation parameters and noise, not for cryptography.
 *
 * All functions are pure and reentrant.
 */
#ifndef DCMPREP_RNG_H
#define DCMPREP_RNG_H

#include <stdint.h>
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 64-bit FNV-1a hash of a NUL-terminated string (NULL hashes as ""). */
DP_API uint64_t dp_rng_hash_str(const char *s);

/* The key of one step of one variant: (seed, name_hash, variant, step) are
 * mixed in that order, so changing any of them gives an unrelated stream. */
DP_API uint64_t dp_rng_key(uint64_t seed, uint64_t name_hash, uint64_t variant, uint64_t step);

/* A key derived from key for sub-stream `stream` (e.g. per-voxel noise). */
DP_API uint64_t dp_rng_subkey(uint64_t key, uint64_t stream);

/* Draw number `draw` of the stream `key`: 64 uniform random bits. */
DP_API uint64_t dp_rng_u64(uint64_t key, uint64_t draw);

/* Uniform in [0, 1) with 53 random bits. */
DP_API double dp_rng_uniform(uint64_t key, uint64_t draw);

/* Uniform in [lo, hi] (lo when hi <= lo). */
DP_API double dp_rng_range(uint64_t key, uint64_t draw, double lo, double hi);

/* Uniform integer in [lo, hi] (lo when hi <= lo), without modulo bias
 * beyond 2^-53. */
DP_API int64_t dp_rng_int(uint64_t key, uint64_t draw, int64_t lo, int64_t hi);

/* Standard normal number from draws 2*draw and 2*draw + 1 (Box-Muller). */
DP_API double dp_rng_normal(uint64_t key, uint64_t draw);

#ifdef __cplusplus
}
#endif
#endif
