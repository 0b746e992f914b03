/* SPDX-License-Identifier: Apache-2.0 */
/* snn_kernels.c: the integer kernels of the engine (libc only; AVX2 versions chosen at run time: qsnn/simd.h).
 *
 *   qsnn_snn_fire_s32[_ref], qsnn_snn_fire_pre   potentials -> activation levels, exact (qsnn/snn.h)
 *   qsnn_snn_gemv_{s16_s8,s16_s16,sparse_s16_s16}[_ref]  acc[j] += sum_k a[k] w[k][j], int16 inputs, weights
 *                               pair-interleaved (one kernel, gemv_rows, for the three)
 *   qsnn_snn_gemv2_s16_s16, qsnn_snn_gemv2_u8_s8[_ref]   two inputs per pass over the weights
 *
 * Invariant: the fast and _ref versions return identical integers for every input meeting the preconditions
 * (tests/test_snn.c checks random and boundary cases). Nothing here allocates.
 */
#include "qsnn/simd.h"
#include "snn/kernels_internal.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#if QSNN_SIMD_X86
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

/* qsnn_snn_fire_s32's outputs j0 <= j < n, one at a time (not inlined, as fire_pre_from) */
static __attribute__((noinline)) void fire_s32_from(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s,
                                                    int n, int f, int levels, int j0)
{
    const uint32_t mask = ((uint32_t)1 << f) - 1u;
    const int32_t L = levels;
    int j = j0;
    for (; j < n; j++) {
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

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* qsnn_snn_fire_s32: 8 lanes at a time, then the n % 8 last outputs one at a time */
static void fire_s32_avx2(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f, int levels)
{
    const uint32_t mask = ((uint32_t)1 << f) - 1u;
    const int32_t L = levels;
    int j = 0;
    /* the same operations as the scalar loop below, 8 lanes at a time (cvtt = C's truncating conversion) */
    const __m256i vmask = _mm256_set1_epi32((int32_t)mask), vl = _mm256_set1_epi32(L), one = _mm256_set1_epi32(1),
                  two = _mm256_set1_epi32(2), zero = _mm256_setzero_si256();
    const __m128i cnt = _mm_cvtsi32_si128(f);
    for (; j + 8 <= n; j += 8) {
        __m256i tj = _mm256_loadu_si256((const __m256i *)(t + j)), sj = _mm256_loadu_si256((const __m256i *)(s + j));
        __m256i pj = _mm256_loadu_si256((const __m256i *)(p + j));
        __m256i frac = _mm256_and_si256(tj, vmask), ti = _mm256_sra_epi32(tj, cnt);
        __m256i ls = _mm256_mullo_epi32(vl, sj);
        __m256i cap = _mm256_add_epi32(_mm256_sra_epi32(ls, cnt), two);
        __m256i pc = _mm256_min_epi32(_mm256_max_epi32(pj, ti), _mm256_add_epi32(ti, cap));
        __m256i dd = _mm256_sub_epi32(_mm256_sll_epi32(_mm256_sub_epi32(pc, ti), cnt), frac);
        dd = _mm256_min_epi32(dd, ls);
        __m256i dm = _mm256_sub_epi32(dd, one);
        /* estimate with the approximate reciprocal (|rel. error| < 2^-11): lanes that can fire have
         * 0 <= dm / s < L <= 15, so the estimate is within 0.01 of the quotient and one correction step is
         * exact; other lanes (dd <= 0) are masked to 0 below whatever q is */
        __m256i q = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(dm), _mm256_rcp_ps(_mm256_cvtepi32_ps(sj))));
        __m256i r = _mm256_sub_epi32(dm, _mm256_mullo_epi32(q, sj));
        q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(r, _mm256_sub_epi32(sj, one))); /* r >= s: +1 */
        q = _mm256_add_epi32(q, _mm256_cmpgt_epi32(zero, r));                     /* r < 0: -1 */
        __m256i lvl = _mm256_min_epi32(_mm256_add_epi32(q, one), vl);
        lvl = _mm256_and_si256(lvl, _mm256_cmpgt_epi32(dd, zero));
        __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(lvl), _mm256_extracti128_si256(lvl, 1));
        _mm_storel_epi64((__m128i *)(out + j), _mm_packus_epi16(w16, w16));
    }
    if (j < n)
        fire_s32_from(out, p, t, s, n, f, levels, j);
}
QSNN_AVX2_END
#endif

/* Exactness: with ti = floor(t / 2^f) and frac = t - ti 2^f, p 2^f - t = (p - ti) 2^f - frac. p is clamped to
 * [ti, ti + cap] with cap = floor(L s / 2^f) + 2, which cannot change the level (below ti: D <= 0; above:
 * D > L s) and keeps D = (p - ti) 2^f - frac within int32. D is then capped at L s (level L either way). For
 * 0 < D <= L s the level is ceil(D / s) = floor((D - 1) / s) + 1; the float quotient is within 3 ulp of the
 * exact one (<= 15), so truncation is off by at most one, which the integer remainder test corrects. */
void qsnn_snn_fire_s32(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f,
                       int levels)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        fire_s32_avx2(out, p, t, s, n, f, levels);
        return;
    }
#endif
    fire_s32_from(out, p, t, s, n, f, levels, 0);
}

void qsnn_snn_fire_pre_fill(double *pre, const int32_t *t, const int32_t *s, int n, int f)
{
    for (int j = 0; j < n; j++) {
        pre[j] = ldexp(1.0, f) / (double)s[j];
        /* (2t + 1 - 2s) / (2s): the numerator is an exact integer in double (|.| < 2^34), one rounding */
        pre[n + j] = (2.0 * (double)t[j] + 1.0 - 2.0 * (double)s[j]) / (2.0 * (double)s[j]);
    }
}

/* qsnn_snn_fire_pre's outputs j0 <= j < n, one at a time (not inlined: the dispatcher stays a load, a branch and a
 * jump, with no register saving for this loop) */
static __attribute__((noinline)) void fire_pre_from(uint8_t *out, const int32_t *p, const double *pre, int n, double top, int j0)
{
    for (int j = j0; j < n; j++) {
        double x = fma((double)p[j], pre[j], -pre[n + j]);
        out[j] = x < 1.0 ? 0 : (uint8_t)(x > top ? top : x);
    }
}

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* qsnn_snn_fire_pre: the same fma, 4 lanes at a time, then the n % 8 last outputs one at a time */
static void fire_pre_avx2(uint8_t *out, const int32_t *p, const double *pre, int n, double top)
{
    int j = 0;
    const __m256d vt = _mm256_set1_pd(top);
    for (; j + 8 <= n; j += 8) {
        __m256i pv = _mm256_loadu_si256((const __m256i *)(const void *)(p + j));
        __m256d x0 = _mm256_fmsub_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(pv)), _mm256_loadu_pd(pre + j),
                                     _mm256_loadu_pd(pre + n + j));
        __m256d x1 = _mm256_fmsub_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(pv, 1)), _mm256_loadu_pd(pre + j + 4),
                                     _mm256_loadu_pd(pre + n + j + 4));
        __m128i w16 = _mm_packs_epi32(_mm256_cvttpd_epi32(_mm256_min_pd(x0, vt)),
                                      _mm256_cvttpd_epi32(_mm256_min_pd(x1, vt)));
        _mm_storel_epi64((__m128i *)(void *)(out + j), _mm_packus_epi16(w16, w16));
    }
    if (j < n)
        fire_pre_from(out, p, pre, n, top, j);
}
QSNN_AVX2_END
#endif

/* x = p pre[j] - pre[n+j] = (p 2^f - t - 1/2) / s + 1 is never an integer (see qsnn/snn.h), so for x > 0 the
 * level ceil(x - 1) is trunc(x): C's truncating conversion (vcvttpd2dq) after a clamp to levels + 1/2 above; below
 * 1 the level is 0 (x in (0, 1) truncates to 0; x <= 0 becomes a negative int32, or INT32_MIN for huge |x|, which
 * the signed-to-unsigned saturating packs turn into 0). */
void qsnn_snn_fire_pre(uint8_t *out, const int32_t *p, const double *pre, int n, int levels)
{
    const double top = (double)levels + 0.5;
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        fire_pre_avx2(out, p, pre, n, top); /* a tail call: the dispatch costs a load and a branch */
        return;
    }
#endif
    fire_pre_from(out, p, pre, n, top, 0);
}


/* qsnn_snn_gemv2_s16_s16's outputs j0 <= j < n, one at a time (not inlined, as fire_pre_from) */
static __attribute__((noinline)) void gemv2_s16_s16_from(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1,
                                      const int16_t *w2, int kp, int n, int j0)
{
    for (int j = j0; j < n; j++) {
        int32_t s0 = 0, s1 = 0;
        for (int k = 0; k < kp; k++) {
            const int16_t *w = w2 + ((size_t)k * (size_t)n + (size_t)j) * 2;
            s0 += a0[2 * k] * w[0] + a0[2 * k + 1] * w[1];
            s1 += a1[2 * k] * w[0] + a1[2 * k + 1] * w[1];
        }
        o0[j] = s0, o1[j] = s1;
    }
}

/* Outputs j0 <= j < n of the uint8 x int8 GEMV, plainly (the reference, and the fast version's column tail; not
 * inlined, as fire_pre_from). */
static __attribute__((noinline)) void gemv2_u8_s8_cols(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                             const int32_t *bias, int kq, int n, int j0)
{
    for (int j = j0; j < n; j++) {
        int32_t s0 = bias[j], s1 = bias[j];
        for (int k = 0; k < 4 * kq; k++) {
            int32_t w = w4[((size_t)(k / 4) * (size_t)n + (size_t)j) * 4 + (size_t)(k % 4)];
            s0 += (int32_t)a0[k] * w;
            s1 += (int32_t)a1[k] * w;
        }
        o0[j] = s0, o1[j] = s1;
    }
}

static void gemv_rows_ref(int32_t *acc, const int16_t *a2, const int32_t *idx, int np, const void *w, int w8, int n,
                          int j0);

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* a[2k], a[2k+1] in every 32-bit lane: one 32-bit load + broadcast (little-endian: a[2k] in the low half, as
 * vpmaddwd pairs it with w[k][j][0]) */
static inline __m256i pair_bcast(const int16_t *a, int k)
{
    int32_t v;
    memcpy(&v, a + 2 * k, 4);
    return _mm256_set1_epi32(v);
}
/* the 4 bytes a[4k..4k+3] as one int32 (any alignment) */
static inline int32_t quad_at(const uint8_t *a, int k)
{
    int32_t v;
    memcpy(&v, a + 4 * k, 4);
    return v;
}

/* qsnn_snn_gemv2_s16_s16: 32- and 8-output blocks, then the n % 8 last outputs one at a time */
static void gemv2_s16_s16_avx2(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1, const int16_t *w2,
                              int kp, int n)
{
    int j = 0;
    const size_t rs = (size_t)n * 2;
#define LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(p), v)
    for (; j + 32 <= n; j += 32) {
        __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        const int16_t *wp = w2 + (size_t)j * 2;
        for (int k = 0; k < kp; k++, wp += rs) {
            __m256i b0 = pair_bcast(a0, k), b1 = pair_bcast(a1, k);
            __m256i w0 = LD(wp), w1 = LD(wp + 16), w2v = LD(wp + 32), w3 = LD(wp + 48);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(b0, w0));
            d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(b1, w0));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(b0, w1));
            d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(b1, w1));
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(b0, w2v));
            d2 = _mm256_add_epi32(d2, _mm256_madd_epi16(b1, w2v));
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(b0, w3));
            d3 = _mm256_add_epi32(d3, _mm256_madd_epi16(b1, w3));
        }
        ST(o0 + j, c0), ST(o0 + j + 8, c1), ST(o0 + j + 16, c2), ST(o0 + j + 24, c3);
        ST(o1 + j, d0), ST(o1 + j + 8, d1), ST(o1 + j + 16, d2), ST(o1 + j + 24, d3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256i c0 = _mm256_setzero_si256(), d0 = c0;
        const int16_t *wp = w2 + (size_t)j * 2;
        for (int k = 0; k < kp; k++, wp += rs) {
            __m256i w0 = LD(wp);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(pair_bcast(a0, k), w0));
            d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(pair_bcast(a1, k), w0));
        }
        ST(o0 + j, c0), ST(o1 + j, d0);
    }
#undef LD
#undef ST
    if (j < n)
        gemv2_s16_s16_from(o0, o1, a0, a1, w2, kp, n, j);
}

/* qsnn_snn_gemv2_u8_s8: 32- and 8-output blocks, then the n % 8 last outputs plainly */
static void gemv2_u8_s8_avx2(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                            const int32_t *bias, int kq, int n)
{
    int j = 0;
    const size_t rs = (size_t)n * 4; /* bytes per weight row quad */
    const __m256i ones = _mm256_set1_epi16(1);
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define B4(a, k) _mm256_set1_epi32(quad_at(a, k))
    /* 32 outputs: the int16 sums of 8 quads in 8 registers, the int32 sums in o0 / o1 (L1) */
    for (; j + 32 <= n; j += 32) {
        for (int i = 0; i < 32; i += 8) {
            _mm256_storeu_si256((__m256i *)(void *)(o0 + j + i), LD(bias + j + i));
            _mm256_storeu_si256((__m256i *)(void *)(o1 + j + i), LD(bias + j + i));
        }
        const int8_t *wp = w4 + (size_t)j * 4;
        for (int k0 = 0; k0 < kq; k0 += 8) {
            int k1 = k0 + 8 < kq ? k0 + 8 : kq;
            __m256i h0 = _mm256_setzero_si256(), h1 = h0, h2 = h0, h3 = h0, g0 = h0, g1 = h0, g2 = h0, g3 = h0;
            for (int k = k0; k < k1; k++, wp += rs) {
                __m256i b0 = B4(a0, k), b1 = B4(a1, k), w = LD(wp);
                h0 = _mm256_add_epi16(h0, _mm256_maddubs_epi16(b0, w));
                g0 = _mm256_add_epi16(g0, _mm256_maddubs_epi16(b1, w));
                w = LD(wp + 32);
                h1 = _mm256_add_epi16(h1, _mm256_maddubs_epi16(b0, w));
                g1 = _mm256_add_epi16(g1, _mm256_maddubs_epi16(b1, w));
                w = LD(wp + 64);
                h2 = _mm256_add_epi16(h2, _mm256_maddubs_epi16(b0, w));
                g2 = _mm256_add_epi16(g2, _mm256_maddubs_epi16(b1, w));
                w = LD(wp + 96);
                h3 = _mm256_add_epi16(h3, _mm256_maddubs_epi16(b0, w));
                g3 = _mm256_add_epi16(g3, _mm256_maddubs_epi16(b1, w));
            }
#define WIDEN(o, i, h) _mm256_storeu_si256((__m256i *)(void *)((o) + j + (i)),                                         \
                                           _mm256_add_epi32(LD((o) + j + (i)), _mm256_madd_epi16(h, ones)))
            WIDEN(o0, 0, h0), WIDEN(o0, 8, h1), WIDEN(o0, 16, h2), WIDEN(o0, 24, h3);
            WIDEN(o1, 0, g0), WIDEN(o1, 8, g1), WIDEN(o1, 16, g2), WIDEN(o1, 24, g3);
#undef WIDEN
        }
    }
    for (; j + 8 <= n; j += 8) {
        __m256i e0 = LD(bias + j), e1 = e0;
        const int8_t *wp = w4 + (size_t)j * 4;
        for (int k0 = 0; k0 < kq; k0 += 8) {
            int k1 = k0 + 8 < kq ? k0 + 8 : kq;
            __m256i h0 = _mm256_setzero_si256(), h1 = h0;
            for (int k = k0; k < k1; k++, wp += rs) {
                __m256i w0 = LD(wp);
                h0 = _mm256_add_epi16(h0, _mm256_maddubs_epi16(B4(a0, k), w0));
                h1 = _mm256_add_epi16(h1, _mm256_maddubs_epi16(B4(a1, k), w0));
            }
            e0 = _mm256_add_epi32(e0, _mm256_madd_epi16(h0, ones));
            e1 = _mm256_add_epi32(e1, _mm256_madd_epi16(h1, ones));
        }
        _mm256_storeu_si256((__m256i *)(void *)(o0 + j), e0);
        _mm256_storeu_si256((__m256i *)(void *)(o1 + j), e1);
    }
#undef B4
#undef LD
    if (j < n)
        gemv2_u8_s8_cols(o0, o1, a0, a1, w4, bias, kq, n, j);
}

/* 16 weights (8 outputs x 2 inputs) from element offset i, as int16 */
static inline __m256i wvec(const void *w, int w8, size_t i)
{
    return w8 ? _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)((const int8_t *)w + i)))
              : _mm256_loadu_si256((const __m256i *)(const void *)((const int16_t *)w + i));
}

/* gemv_rows_ref's sums on the 64-, 32- and 8-output blocks (returns the outputs done, n - n % 8); inlined with
 * idx and w8 constants into the three kernels below */
static inline __attribute__((always_inline)) int gemv_rows_avx2(int32_t *acc, const int16_t *a2, const int32_t *idx,
                                                                int np, const void *w, int w8, int n)
{
    int j = 0;
    const size_t rs = (size_t)n * 2; /* weights per row pair */
#define LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ROW(p) ((size_t)(idx ? idx[p] : (p)) * rs + (size_t)j * 2)
    for (; j + 64 <= n; j += 64) {
        __m256i c0 = LD(acc + j), c1 = LD(acc + j + 8), c2 = LD(acc + j + 16), c3 = LD(acc + j + 24);
        __m256i c4 = LD(acc + j + 32), c5 = LD(acc + j + 40), c6 = LD(acc + j + 48), c7 = LD(acc + j + 56);
        for (int p = 0; p < np; p++) {
            size_t r = ROW(p);
            __m256i av = pair_bcast(a2, p);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, wvec(w, w8, r)));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, wvec(w, w8, r + 16)));
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, wvec(w, w8, r + 32)));
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, wvec(w, w8, r + 48)));
            c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(av, wvec(w, w8, r + 64)));
            c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(av, wvec(w, w8, r + 80)));
            c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(av, wvec(w, w8, r + 96)));
            c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(av, wvec(w, w8, r + 112)));
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
        __m256i c0 = LD(acc + j), c1 = LD(acc + j + 8), c2 = LD(acc + j + 16), c3 = LD(acc + j + 24);
        for (int p = 0; p < np; p++) {
            size_t r = ROW(p);
            __m256i av = pair_bcast(a2, p);
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, wvec(w, w8, r)));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, wvec(w, w8, r + 16)));
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, wvec(w, w8, r + 32)));
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, wvec(w, w8, r + 48)));
        }
        _mm256_storeu_si256((__m256i *)(acc + j), c0);
        _mm256_storeu_si256((__m256i *)(acc + j + 8), c1);
        _mm256_storeu_si256((__m256i *)(acc + j + 16), c2);
        _mm256_storeu_si256((__m256i *)(acc + j + 24), c3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256i c0 = LD(acc + j);
        for (int p = 0; p < np; p++)
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(pair_bcast(a2, p), wvec(w, w8, ROW(p))));
        _mm256_storeu_si256((__m256i *)(acc + j), c0);
    }
#undef ROW
#undef LD
    return j;
}

static void gemv_s16_s8_avx2(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n)
{
    int j = gemv_rows_avx2(acc, a, NULL, kp, w2, 1, n);
    if (j < n)
        gemv_rows_ref(acc, a, NULL, kp, w2, 1, n, j);
}
static void gemv_s16_s16_avx2(int32_t *acc, const int16_t *a, const int16_t *w2, int kp, int n)
{
    int j = gemv_rows_avx2(acc, a, NULL, kp, w2, 0, n);
    if (j < n)
        gemv_rows_ref(acc, a, NULL, kp, w2, 0, n, j);
}
static void gemv_sparse_avx2(int32_t *acc, const int16_t *a2, const int32_t *idx, int np, const int16_t *w2, int n)
{
    int j = gemv_rows_avx2(acc, a2, idx, np, w2, 0, n);
    if (j < n)
        gemv_rows_ref(acc, a2, idx, np, w2, 0, n, j);
}
QSNN_AVX2_END
#endif

void qsnn_snn_gemv2_s16_s16_ref(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1, const int16_t *w2,
                                int kp, int n)
{
    memset(o0, 0, (size_t)n * 4);
    memset(o1, 0, (size_t)n * 4);
    qsnn_snn_gemv_s16_s16_ref(o0, a0, w2, kp, n);
    qsnn_snn_gemv_s16_s16_ref(o1, a1, w2, kp, n);
}

/* 32 outputs x 2 inputs per pass: 8 accumulators, each weight vector loaded once for both inputs (the one-input
 * kernel is bound by loads: a weight load per vpmaddwd). */
void qsnn_snn_gemv2_s16_s16(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1, const int16_t *w2, int kp,
                            int n)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        gemv2_s16_s16_avx2(o0, o1, a0, a1, w2, kp, n);
        return;
    }
#endif
    gemv2_s16_s16_from(o0, o1, a0, a1, w2, kp, n, 0);
}

void qsnn_snn_gemv2_u8_s8_ref(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                              const int32_t *bias, int kq, int n)
{
    gemv2_u8_s8_cols(o0, o1, a0, a1, w4, bias, kq, n, 0);
}

/* 32 (then 8) outputs x 2 inputs per pass. vpmaddubsw multiplies 4 activation bytes (broadcast) by each output's 4 weight
 * bytes and adds them in pairs into int16 lanes 2j, 2j+1 (one output each); |a w + a' w'| <= 2 * 255 * 8 = 4080,
 * so 8 quads add up to at most 32640 without saturating; vpmaddwd by ones then adds the output's two lanes into
 * its int32 accumulator. Every product is exact: the result equals the reference for any input. */
void qsnn_snn_gemv2_u8_s8(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                          const int32_t *bias, int kq, int n)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        gemv2_u8_s8_avx2(o0, o1, a0, a1, w4, bias, kq, n);
        return;
    }
#endif
    gemv2_u8_s8_cols(o0, o1, a0, a1, w4, bias, kq, n, 0);
}

/* The int16-input GEMV of every form: acc[j] += sum over p < np of a2[2p] w[r][j][0] + a2[2p+1] w[r][j][1], with
 * weight row pair r = p (dense: every pair of the input) or r = idx[p] (sparse: the listed non-zero pairs), and
 * the weights int16 (w8 = 0: the cached contexts' copy) or int8 (w8 = 1: the minimal contexts' per-layer unpack).
 * Inlined into the public kernels with idx and w8 constants, so each keeps its own straight loop. */
static inline int32_t wat(const void *w, int w8, size_t i)
{
    return w8 ? ((const int8_t *)w)[i] : ((const int16_t *)w)[i];
}

/* not inlined: the fast kernels' dispatchers stay a load, a branch and a jump (see fire_pre_from) */
static __attribute__((noinline)) void gemv_rows_ref(int32_t *acc, const int16_t *a2, const int32_t *idx, int np, const void *w, int w8,
                                 int n, int j0)
{
    for (int p = 0; p < np; p++) {
        int32_t a0 = a2[2 * p], a1 = a2[2 * p + 1];
        size_t row = (size_t)(idx ? idx[p] : p) * (size_t)n * 2;
        for (int j = j0; j < n; j++)
            acc[j] += a0 * wat(w, w8, row + 2 * (size_t)j) + a1 * wat(w, w8, row + 2 * (size_t)j + 1);
    }
}


void qsnn_snn_gemv_s16_s8_ref(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n)
{
    gemv_rows_ref(acc, a, NULL, kp, w2, 1, n, 0);
}

void qsnn_snn_gemv_s16_s8(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        gemv_s16_s8_avx2(acc, a, w2, kp, n);
        return;
    }
#endif
    gemv_rows_ref(acc, a, NULL, kp, w2, 1, n, 0);
}

void qsnn_snn_gemv_s16_s16_ref(int32_t *acc, const int16_t *a, const int16_t *w2, int kp, int n)
{
    gemv_rows_ref(acc, a, NULL, kp, w2, 0, n, 0);
}

void qsnn_snn_gemv_s16_s16(int32_t *acc, const int16_t *a, const int16_t *w2, int kp, int n)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        gemv_s16_s16_avx2(acc, a, w2, kp, n);
        return;
    }
#endif
    gemv_rows_ref(acc, a, NULL, kp, w2, 0, n, 0);
}

void qsnn_snn_gemv_sparse_s16_s16_ref(int32_t *acc, const int16_t *a2, const int32_t *idx, int np,
                                      const int16_t *w2, int n)
{
    gemv_rows_ref(acc, a2, idx, np, w2, 0, n, 0);
}

void qsnn_snn_gemv_sparse_s16_s16(int32_t *acc, const int16_t *a2, const int32_t *idx, int np, const int16_t *w2,
                                  int n)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        gemv_sparse_avx2(acc, a2, idx, np, w2, n);
        return;
    }
#endif
    gemv_rows_ref(acc, a2, idx, np, w2, 0, n, 0);
}

int qsnn_snn_argmax_s32(const int32_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}
