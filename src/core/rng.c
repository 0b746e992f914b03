/* SPDX-License-Identifier: Apache-2.0 */
/* rng.c: xoshiro256** (Blackman & Vigna) seeded with splitmix64. Deterministic across platforms: only 64-bit
 * integer arithmetic; doubles are built from the top 53 bits. */
#include "qsnn/core.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void qsnn_rng_seed(qsnn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

void qsnn_rng_seed_stream(qsnn_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    uint64_t mixed = splitmix64(&x);
    qsnn_rng_seed(r, mixed ^ stream);
}

uint64_t qsnn_rng_u64(qsnn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double qsnn_rng_uniform(qsnn_rng *r) { return (double)(qsnn_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t qsnn_rng_below(qsnn_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t limit = (uint64_t)0 - ((uint64_t)0 - n) % n; /* largest multiple of n, or 0 meaning 2^64 */
    for (;;) {
        uint64_t x = qsnn_rng_u64(r);
        if (limit == 0 || x < limit)
            return x % n;
    }
}

int64_t qsnn_rng_range(qsnn_rng *r, int64_t lo, int64_t hi_exclusive)
{
    if (hi_exclusive <= lo)
        return lo;
    return lo + (int64_t)qsnn_rng_below(r, (uint64_t)(hi_exclusive - lo));
}

double qsnn_rng_normal(qsnn_rng *r)
{
    /* Box-Muller; one value per call keeps the stream position simple to reason about. */
    double u1 = qsnn_rng_uniform(r);
    double u2 = qsnn_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

void qsnn_rng_shuffle_size(qsnn_rng *r, size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)qsnn_rng_below(r, i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
