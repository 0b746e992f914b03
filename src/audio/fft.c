/* SPDX-License-Identifier: Apache-2.0 */
/* fft.c: the FFT behind fft_internal.h: KissFFT (default) or FFTW single precision (QSNN_HAVE_FFTW, set by
 * -DQSNN_FFTW=ON), and the exact double-precision DFT of selected bins that both front ends use for refinement.
 *
 * KissFFT's quarter-length split (n a power of two >= 8, not `plain`): with M = n / 4 and x_b[a] = x[4a + b],
 * X[k] = sum_b W^(bk) X_b[k mod M]. The four real length-M sequences go through two complex KissFFTs,
 * z0 = x_0 + i x_1 and z1 = x_2 + i x_3 (read from the input with a stride of two complex values), and are separated
 * with X_even[k] = (Z[k] + conj Z[M-k]) / 2, X_odd[k] = (Z[k] - conj Z[M-k]) / 2i; only bins lo..hi are combined.
 * Two length-256 transforms cost ~60% of KissFFT's real 1024 (whose post-processing also computes the unused
 * bins); tests/test_mfcc.c checks that both paths agree. */
#include "audio/fft_internal.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>

#ifdef QSNN_HAVE_FFTW
#include <fftw3.h>
#else
#include <kissfft/kiss_fft.h>
#include <kissfft/kiss_fftr.h>
#endif

/* ---- exact bins (every backend) ---- */

qsnn_status qsnn_dft_tab_init(qsnn_dft_tab *t, int n)
{
    t->n = n;
    t->cos_tab = malloc((size_t)n * sizeof *t->cos_tab);
    t->sin_tab = malloc((size_t)n * sizeof *t->sin_tab);
    if (!t->cos_tab || !t->sin_tab) {
        qsnn_dft_tab_free(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "fft: out of memory");
    }
    const double pi = 4.0 * atan(1.0);
    /* cos over the first quadrant, the rest by symmetry (exact), sin(x) = cos(x - pi / 2) */
    const int N = n, q = N / 4;
    if (N < 4) {
        for (int j = 0; j < N; j++) {
            t->cos_tab[j] = cos(2.0 * pi * j / N);
            t->sin_tab[j] = sin(2.0 * pi * j / N);
        }
    } else {
        for (int j = 0; j <= q; j++) {
            const double c = j == q ? 0.0 : cos(2.0 * pi * j / N);
            t->cos_tab[j] = c;
            t->cos_tab[(N - j) % N] = c;
            t->cos_tab[N / 2 - j] = -c;
            t->cos_tab[(N / 2 + j) % N] = -c;
        }
        for (int j = 0; j < N; j++)
            t->sin_tab[j] = t->cos_tab[(j - q + N) % N];
    }
    return QSNN_OK;
}

void qsnn_dft_tab_free(qsnn_dft_tab *t)
{
    free(t->cos_tab);
    free(t->sin_tab);
    t->cos_tab = t->sin_tab = NULL;
}

/* One sample v of the direct DFT for nb bins side by side (vectorisable): a += v * c, then c *= s (complex). */
static void dft_step(double *restrict ar, double *restrict ai, double *restrict cr, double *restrict ci,
                     const double *restrict sr, const double *restrict si, double v, int nb)
{
    for (int b = 0; b < nb; b++) {
        ar[b] += v * cr[b];
        ai[b] += v * ci[b];
        const double t = cr[b] * sr[b] - ci[b] * si[b];
        ci[b] = cr[b] * si[b] + ci[b] * sr[b];
        cr[b] = t;
    }
}

void qsnn_dft_bins(double *re, double *im, const double *x, int len, const int *k, int nb, const qsnn_dft_tab *t,
                   double *scratch)
{
    double *cr = scratch, *ci = cr + nb, *sr = ci + nb, *si = sr + nb;
    const unsigned mask = (unsigned)t->n - 1;
    for (int b = 0; b < nb; b++) {
        sr[b] = t->cos_tab[k[b]];
        si[b] = -t->sin_tab[k[b]];
        re[b] = 0.0;
        im[b] = 0.0;
    }
    for (int j0 = 0; j0 < len; j0 += 64) {
        for (int b = 0; b < nb; b++) {
            const unsigned idx = ((unsigned)j0 * (unsigned)k[b]) & mask;
            cr[b] = t->cos_tab[idx];
            ci[b] = -t->sin_tab[idx];
        }
        const int j1 = j0 + 64 < len ? j0 + 64 : len;
        for (int j = j0; j < j1; j++)
            dft_step(re, im, cr, ci, sr, si, x[j], nb);
    }
}

static qsnn_status check_cfg(const qsnn_fft_cfg *c)
{
    if (c->n < 2 || c->n % 2 || c->lo < 0 || c->hi < c->lo || c->hi > c->n / 2)
        return qsnn_fail(QSNN_ERR_ARG, "fft: length %d, bins %d..%d (need an even length >= 2, 0 <= lo <= hi <= n/2)",
                         c->n, c->lo, c->hi);
    return QSNN_OK;
}

/* power[k - lo] = |X_k|^2 from the complex output */
static void power_of(float *power, const qsnn_fft_cpx *X, int lo, int hi)
{
    for (int k = lo; k <= hi; k++)
        power[k - lo] = X[k].r * X[k].r + X[k].i * X[k].i;
}

#ifdef QSNN_HAVE_FFTW
/* ---- FFTW (single precision) ---- */

struct qsnn_fft {
    int n, lo, hi;
    float *in;
    fftwf_complex *out;
    fftwf_plan plan;
};

const char *qsnn_fft_backend(void) { return "fftw3f"; }

void qsnn_fft_destroy(qsnn_fft *f)
{
    if (!f)
        return;
    if (f->plan) {
#pragma omp critical(qsnn_fftw_plan)
        fftwf_destroy_plan(f->plan);
    }
    fftwf_free(f->in);
    fftwf_free(f->out);
    free(f);
}

qsnn_status qsnn_fft_create(qsnn_fft **out, const qsnn_fft_cfg *cfg)
{
    *out = NULL;
    qsnn_status st = check_cfg(cfg);
    if (st)
        return st;
    qsnn_fft *f = calloc(1, sizeof *f);
    if (!f)
        return qsnn_fail(QSNN_ERR_NOMEM, "fft: out of memory");
    f->n = cfg->n, f->lo = cfg->lo, f->hi = cfg->hi;
    f->in = fftwf_alloc_real((size_t)cfg->n);
    f->out = fftwf_alloc_complex((size_t)(cfg->n / 2 + 1));
    if (!f->in || !f->out) {
        qsnn_fft_destroy(f);
        return qsnn_fail(QSNN_ERR_NOMEM, "fft: out of memory");
    }
    /* FFTW's planner is not thread-safe; FFTW_ESTIMATE leaves the arrays alone and picks the same plan every run */
#pragma omp critical(qsnn_fftw_plan)
    f->plan = fftwf_plan_dft_r2c_1d(cfg->n, f->in, f->out, FFTW_ESTIMATE);
    if (!f->plan) {
        qsnn_fft_destroy(f);
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "fft: FFTW could not plan a %d-point transform", cfg->n);
    }
    memset(f->in, 0, (size_t)cfg->n * sizeof *f->in);
    *out = f;
    return QSNN_OK;
}

float *qsnn_fft_in(qsnn_fft *f) { return f->in; }
const qsnn_fft_cpx *qsnn_fft_out(const qsnn_fft *f) { return (const qsnn_fft_cpx *)(const void *)f->out; }
void qsnn_fft_forward(qsnn_fft *f) { fftwf_execute(f->plan); }

void qsnn_fft_forward_power(qsnn_fft *f, float *power)
{
    fftwf_execute(f->plan);
    power_of(power, qsnn_fft_out(f), f->lo, f->hi);
}

#else
/* ---- KissFFT ---- */

struct qsnn_fft {
    int n, lo, hi;
    float *in;          /* [n] */
    kiss_fft_cpx *out;  /* [n / 2 + 1] */
    kiss_fftr_cfg fftr; /* the plain path (NULL on the split path) */
    kiss_fft_cfg fft4;  /* the split path: complex FFT of n / 4 (NULL on the plain path) */
    kiss_fft_cpx *z;    /* [2][n / 4] the two quarter-length transforms */
    float *zs;          /* [4][n / 4] the same as re z0, im z0, re z1, im z1 */
    float *tw;          /* [6][hi - lo + 1] re W^k, im W^k, re W^2k, im W^2k, re W^3k, im W^3k */
};

const char *qsnn_fft_backend(void) { return "kissfft"; }

void qsnn_fft_destroy(qsnn_fft *f)
{
    if (!f)
        return;
    kiss_fftr_free(f->fftr);
    kiss_fft_free(f->fft4);
    free(f->in);
    free(f->out);
    free(f->z);
    free(f->zs);
    free(f->tw);
    free(f);
}

qsnn_status qsnn_fft_create(qsnn_fft **out, const qsnn_fft_cfg *cfg)
{
    *out = NULL;
    qsnn_status st = check_cfg(cfg);
    if (st)
        return st;
    qsnn_fft *f = calloc(1, sizeof *f);
    if (!f)
        return qsnn_fail(QSNN_ERR_NOMEM, "fft: out of memory");
    const int n = cfg->n, used = cfg->hi - cfg->lo + 1;
    f->n = n, f->lo = cfg->lo, f->hi = cfg->hi;
    f->in = calloc((size_t)n, sizeof *f->in);
    f->out = calloc((size_t)(n / 2 + 1), sizeof *f->out);
    int ok = f->in && f->out;
    if (ok && (cfg->plain || n < 8 || (n & (n - 1)))) { /* the split needs a power of two */
        ok = (f->fftr = kiss_fftr_alloc(n, 0, NULL, NULL)) != NULL;
    } else if (ok) {
        f->fft4 = kiss_fft_alloc(n / 4, 0, NULL, NULL);
        f->z = malloc((size_t)(n / 2) * sizeof *f->z);
        f->zs = malloc((size_t)n * sizeof *f->zs);
        f->tw = malloc((size_t)used * 6 * sizeof *f->tw);
        qsnn_dft_tab own = {0, NULL, NULL};
        const qsnn_dft_tab *t = cfg->tab && cfg->tab->n == n ? cfg->tab : &own;
        ok = f->fft4 && f->z && f->zs && f->tw && (t != &own || qsnn_dft_tab_init(&own, n) == QSNN_OK);
        /* twiddles W^(b k) = cos(2 pi bk / n) - i sin(2 pi bk / n), b = 1..3, for each used bin k */
        for (int i = 0; ok && i < used; i++)
            for (int b = 1; b <= 3; b++) {
                const int idx = (int)(((long)b * (cfg->lo + i)) % n);
                f->tw[(size_t)(2 * (b - 1)) * (size_t)used + (size_t)i] = (float)t->cos_tab[idx];
                f->tw[(size_t)(2 * (b - 1) + 1) * (size_t)used + (size_t)i] = (float)-t->sin_tab[idx];
            }
        qsnn_dft_tab_free(&own);
    }
    if (!ok) {
        qsnn_fft_destroy(f);
        return qsnn_fail(QSNN_ERR_NOMEM, "fft: out of memory (%d-point KissFFT)", n);
    }
    *out = f;
    return QSNN_OK;
}

float *qsnn_fft_in(qsnn_fft *f) { return f->in; }
const qsnn_fft_cpx *qsnn_fft_out(const qsnn_fft *f) { return (const qsnn_fft_cpx *)(const void *)f->out; }

/* X[k] for the n used bins from out + i0, whose k mod M runs k0, k0 + 1, ... (no wrap inside) and whose mirror
 * (M - k) mod M runs mk0, mk0 - 1, ... Straight-line contiguous loads so that the compiler can vectorise it. */
static inline __attribute__((always_inline)) void combine(kiss_fft_cpx *restrict out, float *restrict power,
                                                         const float *restrict zs, const float *restrict tw, int M,
                                                         int used, int n, int k0, int mk0)
{
    const float *z0r = zs + k0, *z0i = zs + M + k0, *z1r = zs + 2 * M + k0, *z1i = zs + 3 * M + k0;
    const float *q0r = zs + mk0, *q0i = zs + M + mk0, *q1r = zs + 2 * M + mk0, *q1i = zs + 3 * M + mk0;
    const float *t1r = tw, *t1i = tw + used, *t2r = tw + 2 * used, *t2i = tw + 3 * used;
    const float *t3r = tw + 4 * used, *t3i = tw + 5 * used;
    for (int j = 0; j < n; j++) {
        const float pr = z0r[j], pi = z0i[j], qr = q0r[-j], qi = q0i[-j];
        const float rr = z1r[j], ri = z1i[j], sr = q1r[-j], si = q1i[-j];
        /* 2 X_0 .. 2 X_3 at k: X_0, X_1 from z0 = x_0 + i x_1 and X_2, X_3 from z1 = x_2 + i x_3 */
        const float a0r = pr + qr, a0i = pi - qi, a1r = pi + qi, a1i = qr - pr;
        const float a2r = rr + sr, a2i = ri - si, a3r = ri + si, a3i = sr - rr;
        const float xr = a0r + (t1r[j] * a1r - t1i[j] * a1i) + (t2r[j] * a2r - t2i[j] * a2i) +
                         (t3r[j] * a3r - t3i[j] * a3i);
        const float xi = a0i + (t1r[j] * a1i + t1i[j] * a1r) + (t2r[j] * a2i + t2i[j] * a2r) +
                         (t3r[j] * a3i + t3i[j] * a3r);
        if (power) {
            power[j] = 0.25f * (xr * xr + xi * xi);
        } else {
            out[j].r = 0.5f * xr; /* exact: |X|^2 from these is 0.25 (xr^2 + xi^2) to the bit */
            out[j].i = 0.5f * xi;
        }
    }
}

/* the split path: complex bins lo..hi into f->out, or their power into power[] (power != NULL) */
static void split_forward(qsnn_fft *f, float *power)
{
    const int M = f->n / 4, used = f->hi - f->lo + 1;
    const kiss_fft_cpx *in = (const kiss_fft_cpx *)(const void *)f->in; /* kiss_fftr reads real data the same way */
    kiss_fft_stride(f->fft4, in, f->z, 2);
    kiss_fft_stride(f->fft4, in + 1, f->z + M, 2);
    /* split re / im so that combine() reads plain float arrays */
    float *zs = f->zs;
    const kiss_fft_cpx *z0 = f->z, *z1 = f->z + M;
    for (int a = 0; a < M; a++) {
        zs[a] = z0[a].r;
        zs[M + a] = z0[a].i;
        zs[2 * M + a] = z1[a].r;
        zs[3 * M + a] = z1[a].i;
    }
    /* split the used bins where k mod M wraps to 0 (that bin alone: its mirror is itself) */
    int i = 0;
    while (i < used) {
        const int k = (f->lo + i) & (M - 1);
        int n = k == 0 ? 1 : M - k;
        if (n > used - i)
            n = used - i;
        if (power)
            combine(NULL, power + i, zs, f->tw + i, M, used, n, k, k == 0 ? 0 : M - k);
        else
            combine(f->out + f->lo + i, NULL, zs, f->tw + i, M, used, n, k, k == 0 ? 0 : M - k);
        i += n;
    }
}

void qsnn_fft_forward(qsnn_fft *f)
{
    if (f->fftr)
        kiss_fftr(f->fftr, f->in, f->out);
    else
        split_forward(f, NULL);
}

void qsnn_fft_forward_power(qsnn_fft *f, float *power)
{
    if (f->fftr) {
        kiss_fftr(f->fftr, f->in, f->out);
        power_of(power, qsnn_fft_out(f), f->lo, f->hi);
    } else {
        split_forward(f, power);
    }
}
#endif
