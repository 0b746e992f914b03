/* SPDX-License-Identifier: Apache-2.0 */
/* snn_dense.c: the dense path: gather with the SIMD gemv kernels (im2col for convolutions,
 * depthwise in int16 or uint8 tap pairs then pointwise for separable), and the pixel-pair kernels of cached
 * contexts that qsnn_snn_run_mt splits between workers (libc only). */
#include "snn/engine_internal.h"

static void unpack_row(int16_t *restrict dst, const uint8_t *restrict in, int u8, size_t start, size_t n)
{
    if (u8) {
        for (size_t i = 0; i < n; i++)
            dst[i] = in[start + i];
    } else if (!(start & 1) && !(n & 1)) {
        const uint8_t *b = in + start / 2;
        for (size_t i = 0; i < n / 2; i++) {
            dst[2 * i] = (int16_t)(b[i] & 15);
            dst[2 * i + 1] = (int16_t)(b[i] >> 4);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = (int16_t)qsnn_snn_nibble_u4(in, start + i);
    }
}

/* Row k of a weight matrix w[k][F] as int8 (4-bit: sign-extended nibbles; 8-bit: bytes). */
static void weight_row(int8_t *dst, const run_state *r, size_t k, int F)
{
    size_t start = k * (size_t)F;
    if (r->l->weight_bits > 4) {
        memcpy(dst, r->wb + start, (size_t)F);
    } else if (!(start & 1) && !(F & 1)) {
        const uint8_t *b = r->wb + start / 2;
        for (int i = 0; i < F / 2; i++) {
            dst[2 * i] = (int8_t)(((b[i] & 15) ^ 8) - 8);
            dst[2 * i + 1] = (int8_t)(((b[i] >> 4) ^ 8) - 8);
        }
    } else {
        for (int i = 0; i < F; i++)
            dst[i] = (int8_t)qsnn_snn_nibble_s4(r->wb, start + (size_t)i);
    }
}

/* w2[k/2][f][k%2] from w[k][f] (k < K, zero row when K is odd). row: F bytes of scratch. */
static void pack_pairs(run_state *r, int8_t *w2, int8_t *row, size_t K, int F)
{
    int8_t *restrict r0 = row, *restrict r1 = row + F;
    for (size_t k = 0; k < K; k += 2) {
        weight_row(r0, r, k, F);
        if (k + 1 < K)
            weight_row(r1, r, k + 1, F);
        else
            memset(r1, 0, (size_t)F);
        int8_t *restrict o = w2 + (k / 2) * (size_t)F * 2;
        for (int f = 0; f < F; f++) {
            o[2 * f] = r0[f];
            o[2 * f + 1] = r1[f];
        }
    }
}

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* dw_rect_s16 on the 64- and 16-channel blocks (returns the channels done, C - C % 16; *bad as dw_rect_s16's
 * range test for them) */
static int dw_rect_s16_avx2(int16_t *restrict out, uint8_t *restrict u8, const uint8_t *a, size_t rs,
                            const int16_t *w, int kw, int ny, int nx, int C, unsigned *bad)
{
    int c = 0;
#define LA(p) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define LW(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
    const __m256i off = _mm256_set1_epi16(128);
    __m256i seen = _mm256_setzero_si256(); /* OR of every out + 128: a bit above the low byte = out of range */
    for (; c + 64 <= C; c += 64) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++) {
                const uint8_t *pa = a + ((size_t)ky * rs + (size_t)kx) * (size_t)C + c;
                const int16_t *pw = w + ((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + c;
                a0 = _mm256_add_epi16(a0, _mm256_mullo_epi16(LA(pa), LW(pw)));
                a1 = _mm256_add_epi16(a1, _mm256_mullo_epi16(LA(pa + 16), LW(pw + 16)));
                a2 = _mm256_add_epi16(a2, _mm256_mullo_epi16(LA(pa + 32), LW(pw + 32)));
                a3 = _mm256_add_epi16(a3, _mm256_mullo_epi16(LA(pa + 48), LW(pw + 48)));
            }
        ST(out + c, a0), ST(out + c + 16, a1), ST(out + c + 32, a2), ST(out + c + 48, a3);
        if (u8) {
            a0 = _mm256_add_epi16(a0, off), a1 = _mm256_add_epi16(a1, off);
            a2 = _mm256_add_epi16(a2, off), a3 = _mm256_add_epi16(a3, off);
            seen = _mm256_or_si256(seen, _mm256_or_si256(_mm256_or_si256(a0, a1), _mm256_or_si256(a2, a3)));
            ST(u8 + c, _mm256_permute4x64_epi64(_mm256_packus_epi16(a0, a1), 0xD8));
            ST(u8 + c + 32, _mm256_permute4x64_epi64(_mm256_packus_epi16(a2, a3), 0xD8));
        }
    }
    for (; c + 16 <= C; c += 16) {
        __m256i acc = _mm256_setzero_si256();
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++)
                acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(LA(a + ((size_t)ky * rs + (size_t)kx) * (size_t)C + c),
                                                               LW(w + ((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + c)));
        ST(out + c, acc);
        if (u8) {
            acc = _mm256_add_epi16(acc, off);
            seen = _mm256_or_si256(seen, acc);
            _mm_storeu_si128((__m128i *)(void *)(u8 + c),
                             _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(acc, acc), 0xD8)));
        }
    }
    *bad = !_mm256_testz_si256(seen, _mm256_set1_epi16((short)0xFF00));
#undef LA
#undef LW
#undef ST
    return c;
}
QSNN_AVX2_END
#endif

/* Depthwise of one output pixel in int16: out[c] = sum over the ny x nx in-bounds taps (i, j) of
 * a[(i rs + j) C + c] * w[(i kw + j) C + c] (a and w point at the first in-bounds tap; rs = pixels per input row).
 * Exact: |sums| <= 32767 (dw_fits_s16). Accumulators stay in registers across the taps. With u8 != NULL also
 * u8[c] = out[c] + 128 (then 128, a zero sum, up to the next multiple of 4), and the return value says whether
 * every out[c] is in [-128, 127] (if not, u8 is unusable); without u8 it returns 0. avx2: the AVX2 kernels run
 * (qsnn_simd_avx2(), read once per layer by the callers). */
static inline __attribute__((always_inline)) int dw_rect_s16(int16_t *restrict out, uint8_t *restrict u8,
                                                             const uint8_t *a, size_t rs, const int16_t *w, int kw,
                                                             int ny, int nx, int C, const int avx2)
{
    int c = 0;
    unsigned bad = 0;
#if QSNN_SIMD_X86
    if (avx2)
        c = dw_rect_s16_avx2(out, u8, a, rs, w, kw, ny, nx, C, &bad);
#else
    (void)avx2;
#endif
    for (; c < C; c++) {
        int acc = 0;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++)
                acc += a[((size_t)ky * rs + (size_t)kx) * (size_t)C + (size_t)c] *
                       w[((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + (size_t)c];
        out[c] = (int16_t)acc;
        if (u8) {
            bad |= (unsigned)(acc + 128) > 255u;
            u8[c] = (uint8_t)(acc + 128);
        }
    }
    if (!u8)
        return 0;
    for (; c & 3; c++)
        u8[c] = 128;
    return !bad;
}

/* Input values [start, start + n) as uint8 (levels or the uint8 input). */
static void unpack_row_u8(uint8_t *restrict dst, const uint8_t *restrict in, int u8, size_t start, size_t n)
{
    if (u8) {
        memcpy(dst, in + start, n);
    } else if (!(start & 1) && !(n & 1)) {
        const uint8_t *b = in + start / 2;
        for (size_t i = 0; i < n / 2; i++) {
            dst[2 * i] = (uint8_t)(b[i] & 15);
            dst[2 * i + 1] = (uint8_t)(b[i] >> 4);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = (uint8_t)qsnn_snn_nibble_u4(in, start + i);
    }
}

/* In-bounds taps of output pixel (y, x): ky0 <= ky < ky1, kx0 <= kx < kx1 (input row y sh - pt + ky). */
static void tap_range(const qsnn_snn_layer *l, int y, int x, int *ky0, int *ky1, int *kx0, int *kx1)
{
    int iy0 = y * l->stride_h - l->pad_top, ix0 = x * l->stride_w - l->pad_left;
    *ky0 = iy0 < 0 ? -iy0 : 0;
    *ky1 = l->in_h - iy0 < l->kh ? l->in_h - iy0 : l->kh;
    *kx0 = ix0 < 0 ? -ix0 : 0;
    *kx1 = l->in_w - ix0 < l->kw ? l->in_w - ix0 : l->kw;
}

/* This worker's next pixels [*pb, *pe) of np (whole pairs; *it counts the calls, from 0); 0 when there are no
 * more. One worker: all of them at once. Several (qsnn_snn_run_mt): first a static share, 3/4 of the pairs split
 * evenly, then the last quarter claimed two pairs at a time from the layer's shared counter, so that a worker the
 * machine slows down hands its tail over instead of making the others wait at the layer's barrier (the results
 * do not depend on who computes which pixel). */
static int next_pairs(run_state *r, int np, int *it, int *pb, int *pe)
{
    int npairs = (np + 1) / 2, k = (*it)++, a, b;
    if (r->parts == 1) {
        *pb = 0, *pe = np;
        return k == 0;
    }
#if defined(QSNN_SNN_HAVE_MT)
    int share = r->claim ? npairs * 3 / 4 / r->parts : 0;
#else
    int share = 0;
#endif
    if (k == 0 && !share) { /* static split of everything */
        a = (int)((long)npairs * r->part / r->parts), b = (int)((long)npairs * (r->part + 1) / r->parts);
    } else if (k == 0) {
        a = r->part * share, b = a + share;
    } else {
#if defined(QSNN_SNN_HAVE_MT)
        a = share ? r->parts * share + 2 * atomic_fetch_add_explicit(r->claim, 1, memory_order_relaxed) : npairs;
#else
        a = npairs;
#endif
        if (a >= npairs)
            return 0;
        b = a + 2 < npairs ? a + 2 : npairs;
    }
    *pb = 2 * a;
    *pe = 2 * b < np ? 2 * b : np;
    return 1;
}

/* The layer's byte input copied into the zero-padded map r->s.padded (padded_h x padded_w pixels): every tap of
 * every output pixel in bounds. */
static void fill_padded(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int hp = padded_h(l), wp = padded_w(l);
    size_t C = (size_t)l->in_c;
    uint8_t *pad = r->s.padded;
    memset(pad, 0, (size_t)hp * (size_t)wp * C + IM2COL_SLACK);
    for (int iy = 0; iy < l->in_h; iy++) {
        int yy = iy + l->pad_top, xx = l->pad_left, n = l->in_w;
        if (yy >= hp)
            break;
        if (xx + n > wp)
            n = wp - xx;
        if (n > 0)
            memcpy(pad + ((size_t)yy * (size_t)wp + (size_t)xx) * C, r->in + (size_t)iy * (size_t)l->in_w * C,
                   (size_t)n * C);
    }
}

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* Depthwise of one output pixel from the zero-padded map, taps in pairs: a points at the window's top-left,
 * toff[t] is tap t's byte offset from it (T taps), dwp the paired weights (fill_dwp). The two taps' activation
 * vectors are interleaved byte by byte (vpunpck{l,h}bw) and multiplied by the paired weights with vpmaddubsw:
 * |pair| <= 2 * 255 * 8, and every partial sum is a partial depthwise sum, within int16 (dw_fits_s16). Writes
 * out[c] (int16, channel order restored with two lane permutes) and u8[c] = out[c] + 128 as dw_rect_s16 does;
 * returns whether every out[c] is in [-128, 127]. */
static int dw_pairs_u8(int16_t *restrict out, uint8_t *restrict u8, const uint8_t *a, const int32_t *toff, int T,
                       const int8_t *dwp, int C)
{
    const __m256i off = _mm256_set1_epi16(128), zero = _mm256_setzero_si256();
    __m256i seen = zero;
    int G = C / 32, np = T / 2;
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
    for (int g = 0; g < G; g++) {
        const uint8_t *ag = a + 32 * g;
        const int8_t *wv = dwp + (size_t)g * 64;
        __m256i lo = zero, hi = zero;
        for (int i = 0; i < np; i++, wv += (size_t)G * 64) {
            __m256i x0 = LD(ag + toff[2 * i]), x1 = LD(ag + toff[2 * i + 1]);
            lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_unpacklo_epi8(x0, x1), LD(wv)));
            hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_unpackhi_epi8(x0, x1), LD(wv + 32)));
        }
        if (T & 1) {
            __m256i x0 = LD(ag + toff[T - 1]);
            lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_unpacklo_epi8(x0, zero), LD(wv)));
            hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_unpackhi_epi8(x0, zero), LD(wv + 32)));
        }
        /* lo holds channels 0-7 | 16-23 of the block, hi 8-15 | 24-31 */
        _mm256_storeu_si256((__m256i *)(void *)(out + 32 * g), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(out + 32 * g + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
        lo = _mm256_add_epi16(lo, off), hi = _mm256_add_epi16(hi, off);
        seen = _mm256_or_si256(seen, _mm256_or_si256(lo, hi));
        _mm256_storeu_si256((__m256i *)(void *)(u8 + 32 * g), _mm256_packus_epi16(lo, hi)); /* in channel order */
    }
#undef LD
    return _mm256_testz_si256(seen, _mm256_set1_epi16((short)0xFF00));
}

/* one kernel row of the im2col copy: dst[i] = src[i] for i < n rounded up to 16 (IM2COL_SLACK) */
static void widen_row_avx2(int16_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i += 16)
        _mm256_storeu_si256((__m256i *)(void *)(dst + i),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
}
QSNN_AVX2_END
#endif

/* Separable layer, byte-map input, cached int16 weights: pixels in pairs (depthwise of both, then one pointwise
 * pass for the two), in raster order. A pooled layer sums the depthwise outputs over its pixels instead and runs
 * the pointwise once on the sum (pool_pointwise): the pointwise is linear, so the pooled potentials are the same
 * integers, for 1/(pixels) of the pointwise work. */
static void pool_pointwise(run_state *r, int C, int F)
{
    const int32_t *d = r->s.dwsum;
    int32_t *gap = r->s.gap;
    for (int c = 0; c < C; c += 2) {
        int32_t a0 = d[c], a1 = c + 1 < C ? d[c + 1] : 0;
        const int16_t *row = r->w16 + (size_t)(c / 2) * (size_t)F * 2;
        for (int j = 0; j < F; j++) /* within int32: |partial sums| <= the model's validated potential bound */
            gap[j] += a0 * row[2 * j] + a1 * row[2 * j + 1];
    }
}

static inline __attribute__((always_inline)) void sep_pairs(run_state *r, const int16_t *dwq, size_t k2,
                                                            const int avx2)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c, np = l->conv_h * l->conv_w;
    int16_t *col[2] = {r->s.col, r->s.col2};
    uint8_t *ucol[2] = {r->s.ucol, r->s.ucol2};
    int32_t *pot[2] = {r->s.pot, r->s.pot2};
    col[0][k2 - 1] = col[1][k2 - 1] = 0;
    if (l->pool)
        memset(r->s.dwsum, 0, (size_t)C * 4);
#if QSNN_SIMD_X86 /* r->dwp: only where the AVX2 kernels run (has_dwp), so only in layer_sep_pairs_avx2 */
    int32_t toff[MAX_TAPS];
    int T = l->kh * l->kw;
    size_t wpad = (size_t)padded_w(l);
    if (avx2 && r->dwp) { /* the padded map and the taps' offsets in it */
        fill_padded(r);
        for (int t = 0; t < T; t++)
            toff[t] = (int32_t)(((size_t)(t / l->kw) * wpad + (size_t)(t % l->kw)) * (size_t)C);
    }
#endif
    int pb, pe, it = 0;
    while (next_pairs(r, np, &it, &pb, &pe)) /* (y, x): raster position of pixel p */
    for (int p = pb, y = pb / l->conv_w, x = pb % l->conv_w; p < pe; p += 2) {
        int nq = p + 1 < np ? 2 : 1, y0 = y, x0 = x, fit = r->w8q != NULL;
        for (int q = 0; q < nq; q++) {
            int iy0 = y * l->stride_h - l->pad_top, ix0 = x * l->stride_w - l->pad_left, ky0, ky1, kx0, kx1;
            tap_range(l, y, x, &ky0, &ky1, &kx0, &kx1);
#if QSNN_SIMD_X86
            if (avx2 && r->dwp) {
                const uint8_t *a = r->s.padded + ((size_t)(y * l->stride_h) * wpad + (size_t)(x * l->stride_w)) * (size_t)C;
                fit &= dw_pairs_u8(col[q], ucol[q], a, toff, T, r->dwp, C);
            } else
#endif
            if (ky1 > ky0 && kx1 > kx0) {
                const uint8_t *a = r->in + ((size_t)(iy0 + ky0) * (size_t)l->in_w + (size_t)(ix0 + kx0)) * (size_t)C;
                const int16_t *w = dwq + ((size_t)ky0 * (size_t)l->kw + (size_t)kx0) * (size_t)C;
                fit &= dw_rect_s16(col[q], fit ? ucol[q] : NULL, a, (size_t)l->in_w, w, l->kw, ky1 - ky0, kx1 - kx0, C,
                                   avx2);
            } else {
                memset(col[q], 0, (size_t)C * 2);
                if (fit)
                    memset(ucol[q], 128, quads(C) * 4);
            }
            if (++x == l->conv_w)
                x = 0, y++;
        }
        if (l->pool) {
            for (int q = 0; q < nq; q++)
                for (int c = 0; c < C; c++)
                    r->s.dwsum[c] += col[q][c];
            continue;
        }
        if (fit)
            qsnn_snn_gemv2_u8_s8(pot[0], pot[1], ucol[0], ucol[nq - 1], r->w8q, r->bias8, (int)quads(C), F);
        else
            qsnn_snn_gemv2_s16_s16(pot[0], pot[1], col[0], col[nq - 1], r->w16, (int)(k2 / 2), F);
        emit_pair(r, pot[0], nq == 2 ? pot[1] : NULL, y0, x0);
    }
    if (l->pool)
        pool_pointwise(r, C, F);
}

/* The pair path of separable layers twice: compiled for AVX2 (dw_pairs_u8 and the AVX2 depthwise inlined: the
 * per-pixel calls cost 8 % of a clip otherwise) and for the baseline; the integer code is the same. */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static void layer_sep_pairs_avx2(run_state *r, const int16_t *dwq, size_t k2) { sep_pairs(r, dwq, k2, 1); }
QSNN_AVX2_END
#endif

static void layer_sep_pairs(run_state *r, const int16_t *dwq, size_t k2)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        layer_sep_pairs_avx2(r, dwq, k2);
        return;
    }
#endif
    sep_pairs(r, dwq, k2, 0);
}

/* Convolution, byte input, cached int16 weights: the input copied once into a zero-padded map, then pixels in
 * pairs: im2col of both (16 values per copy, the spill past a kernel row overwritten by the next row, the tail
 * of col zeroed), one pointwise pass for the two. */
static void layer_conv_pairs(run_state *r, size_t K, size_t k2)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, np = l->conv_h * l->conv_w, wp = padded_w(l);
    size_t C = (size_t)l->in_c, rowv = (size_t)l->kw * C; /* values per kernel row */
    uint8_t *pad = r->s.padded;
    fill_padded(r);
    int16_t *col[2] = {r->s.col, r->s.col2};
    int32_t *pot[2] = {r->s.pot, r->s.pot2};
#if QSNN_SIMD_X86
    const int avx2 = qsnn_simd_avx2();
#endif
    int pb, pe, it = 0;
    while (next_pairs(r, np, &it, &pb, &pe))
    for (int p = pb, y = pb / l->conv_w, x = pb % l->conv_w; p < pe; p += 2) {
        int nq = p + 1 < np ? 2 : 1, y0 = y, x0 = x;
        for (int q = 0; q < nq; q++) {
            int16_t *c = col[q];
            for (int ky = 0; ky < l->kh; ky++) {
                const uint8_t *src = pad + ((size_t)(y * l->stride_h + ky) * (size_t)wp + (size_t)(x * l->stride_w)) * C;
                int16_t *dst = c + (size_t)ky * rowv;
#if QSNN_SIMD_X86
                if (avx2) {
                    widen_row_avx2(dst, src, rowv);
                    continue;
                }
#endif
                for (size_t i = 0; i < rowv; i += 16)
                    for (size_t j = i; j < i + 16; j++)
                        dst[j] = src[j];
            }
            for (size_t k = K; k < k2; k++)
                c[k] = 0;
            if (++x == l->conv_w)
                x = 0, y++;
        }
        qsnn_snn_gemv2_s16_s16(pot[0], pot[1], col[0], col[nq - 1], r->w16, (int)(k2 / 2), F);
        emit_pair(r, pot[0], nq == 2 ? pot[1] : NULL, y0, x0);
    }
}

/* The layer runs the pixel-pair kernels (byte input, cached weights): the part that qsnn_snn_run_mt splits. */
int qsnn_snn_pair_path(const run_state *r)
{
    if (!r->in_u8 || !r->w16)
        return 0;
    return r->l->type == QSNN_SNN_SEPARABLE ? r->dw16 != NULL : r->s.padded != NULL;
}

void qsnn_snn_layer_dense(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    int sep = l->type == QSNN_SNN_SEPARABLE;
    size_t K = sep ? (size_t)C : (size_t)l->kh * (size_t)l->kw * (size_t)C;
    size_t k2 = (K + 1) & ~(size_t)1;
    if (!r->w16)
        pack_pairs(r, r->s.w2, (int8_t *)r->s.lv, K, F);
    int16_t *col = r->s.col;
    col[k2 - 1] = 0;
    const int16_t *dwq = r->dw16 ? r->dw16 : r->s.dw16;
    if (qsnn_snn_pair_path(r)) {
        if (sep)
            layer_sep_pairs(r, r->dw16, k2);
        else
            layer_conv_pairs(r, K, k2);
        if (r->parts > 1)
            return; /* pooling: the partial sums are combined by qsnn_snn_run_mt */
    } else if (sep) {
        size_t kk = (size_t)l->kh * (size_t)l->kw;
        if (r->dw16) {
            /* cached */
        } else if (l->weight_bits <= 4) {
            size_t n = kk * (size_t)C, i = 0;
            for (; i + 1 < n; i += 2) {
                uint8_t b = r->dwb[i / 2];
                r->s.dw16[i] = (int16_t)(((b & 15) ^ 8) - 8);
                r->s.dw16[i + 1] = (int16_t)(((b >> 4) ^ 8) - 8);
            }
            for (; i < n; i++)
                r->s.dw16[i] = (int16_t)dwget(r, i);
        } else {
            for (size_t i = 0; i < kk * (size_t)C; i++)
                r->s.dw16[i] = (int16_t)(int8_t)r->dwb[i];
        }
        size_t rowlen = (size_t)l->in_w * (size_t)C;
#if QSNN_SIMD_X86
        const int avx2 = qsnn_simd_avx2();
#else
        const int avx2 = 0;
#endif
        for (int y = 0; y < l->conv_h; y++) {
            /* the kernel's input rows: the byte map itself, or unpacked into scratch (row ky of rows = input
             * row y sh - pt + ky) */
            int iyb = y * l->stride_h - l->pad_top;
            if (!r->in_u8)
                for (int ky = 0; ky < l->kh; ky++)
                    if (iyb + ky >= 0 && iyb + ky < l->in_h)
                        unpack_row_u8(r->s.rows + (size_t)ky * rowlen, r->in, 0, (size_t)(iyb + ky) * rowlen, rowlen);
            for (int x = 0; x < l->conv_w; x++) {
                int ix0 = x * l->stride_w - l->pad_left, ky0, ky1, kx0, kx1;
                tap_range(l, y, x, &ky0, &ky1, &kx0, &kx1);
                if (ky1 > ky0 && kx1 > kx0) {
                    const uint8_t *a = r->in_u8 ? r->in + (size_t)(iyb + ky0) * rowlen : r->s.rows + (size_t)ky0 * rowlen;
                    dw_rect_s16(col, NULL, a + (size_t)(ix0 + kx0) * (size_t)C, (size_t)l->in_w,
                                dwq + ((size_t)ky0 * (size_t)l->kw + (size_t)kx0) * (size_t)C, l->kw, ky1 - ky0,
                                kx1 - kx0, C, avx2);
                } else {
                    memset(col, 0, (size_t)C * 2);
                }
                memset(r->s.pot, 0, (size_t)F * 4);
                if (r->w16)
                    qsnn_snn_gemv_s16_s16(r->s.pot, col, r->w16, (int)(k2 / 2), F);
                else
                    qsnn_snn_gemv_s16_s8(r->s.pot, col, r->s.w2, (int)(k2 / 2), F);
                emit(r, r->s.pot, y, x, 0);
            }
        }
    } else {
        for (int y = 0; y < l->conv_h; y++)
            for (int x = 0; x < l->conv_w; x++) {
                size_t k = 0;
                for (int ky = 0; ky < l->kh; ky++) {
                    int iy = y * l->stride_h - l->pad_top + ky;
                    int x0 = x * l->stride_w - l->pad_left;
                    if (iy < 0 || iy >= l->in_h) {
                        memset(col + k, 0, (size_t)l->kw * (size_t)C * 2);
                        k += (size_t)l->kw * (size_t)C;
                        continue;
                    }
                    if (r->in_u8 && x0 >= 0 && x0 + l->kw <= l->in_w) {
                        /* the whole kernel row inside the map: kw * C consecutive uint8 values */
                        const uint8_t *src = r->in + ((size_t)iy * (size_t)l->in_w + (size_t)x0) * (size_t)C;
                        size_t n = (size_t)l->kw * (size_t)C;
                        for (size_t i = 0; i < n; i++)
                            col[k + i] = src[i];
                        k += n;
                        continue;
                    }
                    for (int kx = 0; kx < l->kw; kx++, k += (size_t)C) {
                        int ix = x0 + kx;
                        if (ix < 0 || ix >= l->in_w)
                            memset(col + k, 0, (size_t)C * 2);
                        else if (r->in_u8 && C == 1)
                            col[k] = r->in[(size_t)iy * (size_t)l->in_w + (size_t)ix];
                        else
                            unpack_row(col + k, r->in, r->in_u8,
                                       ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C, (size_t)C);
                    }
                }
                memset(r->s.pot, 0, (size_t)F * 4);
                if (r->w16)
                    qsnn_snn_gemv_s16_s16(r->s.pot, col, r->w16, (int)(k2 / 2), F);
                else
                    qsnn_snn_gemv_s16_s8(r->s.pot, col, r->s.w2, (int)(k2 / 2), F);
                emit(r, r->s.pot, y, x, 0);
            }
    }
    finish_pool(r, 0);
}
