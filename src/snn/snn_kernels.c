/* snn_kernels.c: the integer kernels of the engine (libc only; AVX2 intrinsics when the compiler targets it).
 *
 *   qsnn_snn_fire_s32[_ref]     potentials -> activation levels, exact (see qsnn/snn.h for the preconditions)
 *   qsnn_snn_gemv_s16_s8[_ref]  acc[j] += sum_k a[k] * w[k][j], weights pair-interleaved int8
 *
 * Invariant: the fast and _ref versions return identical integers for every input meeting the preconditions
 * (tests/test_snn.c checks random and boundary cases). Nothing here allocates.
 */
#include "qsnn/snn.h"

#include <assert.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* The fast fire kernel relies on arithmetic right shifts of negative int32 (what every C11 compiler for two's
 * complement targets does; C11 leaves it implementation-defined). */
static_assert((-8 >> 1) == -4, "arithmetic right shift required");

void qsnn_snn_fire_s32_ref(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f,
                           int levels)
{
    for (int j = 0; j < n; j++) {
        int64_t d = (int64_t)p[j] * ((int64_t)1 << f) - t[j];
        int lvl = 0;
        for (int k = 1; k <= levels; k++)
            if (d > (int64_t)(k - 1) * s[j])
                lvl = k;
        out[j] = (uint8_t)lvl;
    }
}

/* Exactness: with ti = floor(t / 2^f) and frac = t - ti 2^f, p 2^f - t = (p - ti) 2^f - frac. p is clamped to
 * [ti, ti + cap] with cap = floor(L s / 2^f) + 2, which cannot change the level (below ti: D <= 0; above:
 * D > L s) and keeps D = (p - ti) 2^f - frac within int32. D is then capped at L s (level L either way). For
 * 0 < D <= L s the level is ceil(D / s) = floor((D - 1) / s) + 1; the float quotient is within 3 ulp of the
 * exact one (<= 15), so truncation is off by at most one, which the integer remainder test corrects. */
void qsnn_snn_fire_s32(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f,
                       int levels)
{
    const uint32_t mask = ((uint32_t)1 << f) - 1u;
    const int32_t L = levels;
    for (int j = 0; j < n; j++) {
        int32_t tj = t[j], sj = s[j];
        int32_t frac = (int32_t)((uint32_t)tj & mask);
        int32_t ti = tj >> f;
        int32_t ls = L * sj;
        int32_t cap = (ls >> f) + 2;
        int32_t pc = p[j] < ti ? ti : p[j];
        pc = pc > ti + cap ? ti + cap : pc;
        int32_t dd = ((pc - ti) << f) - frac;
        dd = dd > ls ? ls : dd;
        int32_t dm = dd - 1;
        int32_t q = (int32_t)((float)dm / (float)sj);
        int32_t r = dm - q * sj;
        q += (r >= sj) - (r < 0);
        int32_t lvl = dd > 0 ? q + 1 : 0;
        out[j] = (uint8_t)(lvl > L ? L : lvl);
    }
}

void qsnn_snn_gemv_s16_s8_ref(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n)
{
    for (int k = 0; k < kp; k++) {
        int32_t a0 = a[2 * k], a1 = a[2 * k + 1];
        const int8_t *row = w2 + (size_t)k * (size_t)n * 2;
        for (int j = 0; j < n; j++)
            acc[j] += a0 * row[2 * j] + a1 * row[2 * j + 1];
    }
}

#if defined(__AVX2__)
static inline __m256i pair_bcast(const int16_t *a, int k)
{
    uint32_t lo = (uint16_t)a[2 * k], hi = (uint16_t)a[2 * k + 1];
    return _mm256_set1_epi32((int32_t)(lo | (hi << 16)));
}
static inline __m256i wload(const int8_t *p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p)); }
#endif

void qsnn_snn_gemv_s16_s8(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n)
{
    int j = 0;
#if defined(__AVX2__)
    const size_t rs = (size_t)n * 2; /* bytes per weight row (one input pair) */
    for (; j + 64 <= n; j += 64) {
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(acc + j)), c1 = _mm256_loadu_si256((const __m256i *)(acc + j + 8));
        __m256i c2 = _mm256_loadu_si256((const __m256i *)(acc + j + 16)), c3 = _mm256_loadu_si256((const __m256i *)(acc + j + 24));
        __m256i c4 = _mm256_loadu_si256((const __m256i *)(acc + j + 32)), c5 = _mm256_loadu_si256((const __m256i *)(acc + j + 40));
        __m256i c6 = _mm256_loadu_si256((const __m256i *)(acc + j + 48)), c7 = _mm256_loadu_si256((const __m256i *)(acc + j + 56));
        const int8_t *wp = w2 + (size_t)j * 2;
        for (int k = 0; k < kp; k++, wp += rs) {
            __m256i av = pair_bcast(a, k);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, wload(wp)));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, wload(wp + 16)));
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, wload(wp + 32)));
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, wload(wp + 48)));
            c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(av, wload(wp + 64)));
            c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(av, wload(wp + 80)));
            c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(av, wload(wp + 96)));
            c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(av, wload(wp + 112)));
        }
        _mm256_storeu_si256((__m256i *)(acc + j), c0);
        _mm256_storeu_si256((__m256i *)(acc + j + 8), c1);
        _mm256_storeu_si256((__m256i *)(acc + j + 16), c2);
        _mm256_storeu_si256((__m256i *)(acc + j + 24), c3);
        _mm256_storeu_si256((__m256i *)(acc + j + 32), c4);
        _mm256_storeu_si256((__m256i *)(acc + j + 40), c5);
        _mm256_storeu_si256((__m256i *)(acc + j + 48), c6);
        _mm256_storeu_si256((__m256i *)(acc + j + 56), c7);
    }
    for (; j + 32 <= n; j += 32) {
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(acc + j)), c1 = _mm256_loadu_si256((const __m256i *)(acc + j + 8));
        __m256i c2 = _mm256_loadu_si256((const __m256i *)(acc + j + 16)), c3 = _mm256_loadu_si256((const __m256i *)(acc + j + 24));
        const int8_t *wp = w2 + (size_t)j * 2;
        for (int k = 0; k < kp; k++, wp += rs) {
            __m256i av = pair_bcast(a, k);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, wload(wp)));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, wload(wp + 16)));
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, wload(wp + 32)));
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, wload(wp + 48)));
        }
        _mm256_storeu_si256((__m256i *)(acc + j), c0);
        _mm256_storeu_si256((__m256i *)(acc + j + 8), c1);
        _mm256_storeu_si256((__m256i *)(acc + j + 16), c2);
        _mm256_storeu_si256((__m256i *)(acc + j + 24), c3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(acc + j));
        const int8_t *wp = w2 + (size_t)j * 2;
        for (int k = 0; k < kp; k++, wp += rs)
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(pair_bcast(a, k), wload(wp)));
        _mm256_storeu_si256((__m256i *)(acc + j), c0);
    }
#endif
    if (j < n) {
        for (int k = 0; k < kp; k++) {
            int32_t a0 = a[2 * k], a1 = a[2 * k + 1];
            const int8_t *row = w2 + (size_t)k * (size_t)n * 2;
            for (int jj = j; jj < n; jj++)
                acc[jj] += a0 * row[2 * jj] + a1 * row[2 * jj + 1];
        }
    }
}

int qsnn_snn_argmax_s32(const int32_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}
