/* SPDX-License-Identifier: Apache-2.0 */
/* tf_signal.c: the tf.signal MFCC front end of the MLPerf Tiny KWS training scripts (qsnn/frontend.h,
 * docs/frontends.md), in double precision with FFTW.
 *
 * Per clip: the samples (cropped or zero-padded to clip_samples) divided by their signed peak (the largest value
 * among the given samples; a negative peak divides by that negative number; a peak of 0 leaves the clip as it
 * is); frames of `window` samples every `stride` while a whole window fits (tf.signal.stft, pad_end=False);
 * periodic Hann window; real DFT of fft_size (zero-padded); magnitudes; the mel matrix of
 * tf.signal.linear_to_mel_weight_matrix; ln(mel + log_offset); DCT-II times sqrt(2 / num_bands).
 *
 * Precision: everything in double but the FFT, which is single precision (fft_internal.h: KissFFT, or FFTW with
 * -DQSNN_FFTW=ON). A windowed tone leaves bands 100+ dB below its peak; the float FFT's rounding (~1e-7 of the
 * frame's norm on every bin) would move those bands' logs by up to 0.1 against the float64 reference (the tests
 * bound the difference at 1e-3), so a band whose sum that rounding could move by more than REFINE_REL has its bins
 * recomputed with the exact double DFT (qsnn_dft_bins), as mfcc.c does.
 *
 * Invariants: create precomputes the window, each band's bin range and weights, the DCT table, and allocates
 * all scratch, so compute never allocates; one object per thread. */
#include "audio/fft_internal.h"
#include "audio/tf_signal_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct qsnn_tf_signal {
    qsnn_frontend_params p;
    int frames, bins;
    int used;         /* bins [0, used) carry a mel weight: only their magnitudes are computed */
    double *hann;     /* [window] */
    double *x;        /* [clip_samples] the normalised clip */
    double *frame;    /* [window] the windowed frame in double */
    qsnn_fft *fft;    /* real FFT of fft_size, bins 0..used-1 */
    qsnn_dft_tab tab; /* the exact DFT's table */
    double *mag;      /* [bins] */
    int *lo, *hi;     /* [num_bands] first and last bin with a weight (hi < lo: none) */
    double *w;        /* [num_bands][bins] mel weights */
    double *w2;       /* [num_bands] sqrt of the sum of the squared weights (the rounding estimate) */
    double *acc;      /* [num_bands] the mel sums of the current frame */
    unsigned char *redo; /* [used] bins to recompute exactly */
    int *rk;          /* [used] their numbers */
    double *rbuf;     /* [6][used] the exact DFT's sums and scratch */
    double *logmel;   /* [num_bands] */
    double *dct;      /* [num_coeffs][num_bands] */
};

static double mel_of(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

void qsnn_tf_signal_destroy(qsnn_tf_signal *t)
{
    if (!t)
        return;
    qsnn_fft_destroy(t->fft);
    qsnn_dft_tab_free(&t->tab);
    free(t->frame);
    free(t->hann);
    free(t->x);
    free(t->mag);
    free(t->lo);
    free(t->hi);
    free(t->w);
    free(t->w2);
    free(t->acc);
    free(t->redo);
    free(t->rk);
    free(t->rbuf);
    free(t->logmel);
    free(t->dct);
    free(t);
}

qsnn_status qsnn_tf_signal_create(qsnn_tf_signal **out, const qsnn_frontend_params *p)
{
    *out = NULL;
    qsnn_tf_signal *t = calloc(1, sizeof *t);
    if (!t)
        return qsnn_fail(QSNN_ERR_NOMEM, "tf-signal: out of memory");
    t->p = *p;
    const int B = p->num_bands, N = p->fft_size;
    t->frames = qsnn_frontend_num_frames(p);
    t->bins = N / 2 + 1;
    t->hann = malloc((size_t)p->window * sizeof *t->hann);
    t->x = malloc((size_t)p->clip_samples * sizeof *t->x);
    t->frame = malloc((size_t)p->window * sizeof *t->frame);
    t->mag = malloc((size_t)t->bins * sizeof *t->mag);
    t->lo = malloc((size_t)B * sizeof *t->lo);
    t->hi = malloc((size_t)B * sizeof *t->hi);
    t->w = calloc((size_t)B * (size_t)t->bins, sizeof *t->w);
    t->w2 = calloc((size_t)B, sizeof *t->w2);
    t->acc = malloc((size_t)B * sizeof *t->acc);
    t->redo = malloc((size_t)t->bins);
    t->rk = malloc((size_t)t->bins * sizeof *t->rk);
    t->rbuf = malloc((size_t)t->bins * 6 * sizeof *t->rbuf);
    t->logmel = malloc((size_t)B * sizeof *t->logmel);
    t->dct = malloc((size_t)p->num_coeffs * (size_t)B * sizeof *t->dct);
    if (!t->hann || !t->x || !t->frame || !t->mag || !t->lo || !t->hi || !t->w || !t->w2 || !t->acc || !t->redo ||
        !t->rk || !t->rbuf || !t->logmel || !t->dct || qsnn_dft_tab_init(&t->tab, N) != QSNN_OK) {
        qsnn_tf_signal_destroy(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "tf-signal: out of memory");
    }
    for (int j = 0; j < p->window; j++) /* tf.signal.hann_window(periodic=True) */
        t->hann[j] = 0.5 - 0.5 * cos(2.0 * M_PI * j / p->window);
    /* linear_to_mel_weight_matrix: bins 1..bins-1 at k * nyquist / (bins - 1); bin 0 (DC) weighs 0 */
    const double nyq = p->sample_rate / 2.0, m0 = mel_of(p->lower_hz), m1 = mel_of(p->upper_hz);
    for (int b = 0; b < B; b++) {
        double lower = m0 + (m1 - m0) * b / (B + 1), center = m0 + (m1 - m0) * (b + 1) / (B + 1),
               upper = m0 + (m1 - m0) * (b + 2) / (B + 1);
        t->lo[b] = t->bins;
        t->hi[b] = -1;
        for (int k = 1; k < t->bins; k++) {
            double mk = mel_of(k * nyq / (t->bins - 1));
            double a = (mk - lower) / (center - lower), d = (upper - mk) / (upper - center);
            double v = a < d ? a : d;
            if (v > 0.0) {
                t->w[(size_t)b * t->bins + k] = v;
                t->w2[b] += v * v;
                t->lo[b] = k < t->lo[b] ? k : t->lo[b];
                t->hi[b] = k;
            }
        }
    }
    for (int b = 0; b < B; b++) {
        t->used = t->hi[b] + 1 > t->used ? t->hi[b] + 1 : t->used;
        t->w2[b] = sqrt(t->w2[b]);
    }
    if (t->used < 1)
        t->used = 1;
    qsnn_fft_cfg fc = {N, 0, t->used - 1, 0, &t->tab};
    qsnn_status st = qsnn_fft_create(&t->fft, &fc);
    if (st) {
        qsnn_tf_signal_destroy(t);
        return st;
    }
    const double s = sqrt(2.0 / B);
    for (int c = 0; c < p->num_coeffs; c++)
        for (int b = 0; b < B; b++)
            t->dct[(size_t)c * B + b] = s * cos(M_PI * c * (2.0 * b + 1.0) / (2.0 * B));
    *out = t;
    return QSNN_OK;
}

/* acc[b] = sum of the band's weighted magnitudes */
static void mel_sums(qsnn_tf_signal *t)
{
    for (int b = 0; b < t->p.num_bands; b++) {
        double acc = 0.0;
        const double *wb = t->w + (size_t)b * t->bins;
        for (int k = t->lo[b]; k <= t->hi[b]; k++)
            acc += wb[k] * t->mag[k];
        t->acc[b] = acc;
    }
}

/* The float FFT leaves an error of about FFT_ERR * ||frame||_2 on every bin (mfcc.c measured the rms at 1.3e-7
 * for KissFFT at 1024 points); a band whose sum (plus log_offset) that error could move by more than REFINE_REL
 * (relative) has its bins recomputed with the exact double DFT (the constants of mfcc.c: the golden tests' worst
 * difference is then 1.7e-5, tolerance 1e-3, and recorded speech rarely needs it). Returns whether any was. */
#define FFT_ERR 2e-7
#define REFINE_REL 1e-4

static int refine(qsnn_tf_signal *t, double frame_norm)
{
    const int used = t->used;
    int any = 0;
    memset(t->redo, 0, (size_t)used);
    for (int b = 0; b < t->p.num_bands; b++)
        if (t->hi[b] >= t->lo[b] && FFT_ERR * frame_norm * t->w2[b] > REFINE_REL * (t->acc[b] + t->p.log_offset)) {
            memset(t->redo + t->lo[b], 1, (size_t)(t->hi[b] - t->lo[b] + 1));
            any = 1;
        }
    if (!any)
        return 0;
    int nb = 0;
    for (int k = 0; k < used; k++)
        if (t->redo[k])
            t->rk[nb++] = k;
    double *re = t->rbuf, *im = re + used;
    qsnn_dft_bins(re, im, t->frame, t->p.window, t->rk, nb, &t->tab, im + used);
    for (int b = 0; b < nb; b++)
        t->mag[t->rk[b]] = sqrt(re[b] * re[b] + im[b] * im[b]);
    return 1;
}

qsnn_status qsnn_tf_signal_compute(qsnn_tf_signal *t, float *out, const float *samples, size_t n)
{
    const qsnn_frontend_params *p = &t->p;
    const size_t L = (size_t)p->clip_samples, m = n < L ? n : L;
    /* the signed peak, in 8 independent lanes (one running maximum is a 16,000-long dependency chain: a third
     * of this function's time); the maximum of floats is exact in any order */
    float lane[8];
    for (int k = 0; k < 8; k++)
        lane[k] = m ? samples[0] : 0.0f;
    size_t i8 = 0;
    for (; i8 + 8 <= m; i8 += 8)
        for (int k = 0; k < 8; k++)
            lane[k] = samples[i8 + k] > lane[k] ? samples[i8 + k] : lane[k];
    for (; i8 < m; i8++)
        lane[0] = samples[i8] > lane[0] ? samples[i8] : lane[0];
    double peak = lane[0];
    for (int k = 1; k < 8; k++)
        peak = lane[k] > peak ? lane[k] : peak;
    const double scale = p->peak_normalize && peak != 0.0 ? 1.0 / peak : 1.0;
    for (size_t i = 0; i < m; i++)
        t->x[i] = samples[i] * scale;
    for (size_t i = m; i < L; i++)
        t->x[i] = 0.0;
    const int B = p->num_bands, C = p->num_coeffs;
    float *in = qsnn_fft_in(t->fft); /* [fft_size]: zero past the window */
    const qsnn_fft_cpx *X = qsnn_fft_out(t->fft);
    for (int f = 0; f < t->frames; f++) {
        const double *xf = t->x + (size_t)f * p->stride;
        double norm2 = 0.0;
        for (int j = 0; j < p->window; j++) {
            const double v = xf[j] * t->hann[j];
            t->frame[j] = v;
            in[j] = (float)v;
            norm2 += v * v;
        }
        qsnn_fft_forward(t->fft);
        for (int k = 0; k < t->used; k++) /* no overflow or underflow at these magnitudes: plain sqrt */
            t->mag[k] = sqrt((double)X[k].r * X[k].r + (double)X[k].i * X[k].i);
        mel_sums(t);
        if (refine(t, sqrt(norm2)))
            mel_sums(t);
        for (int b = 0; b < B; b++)
            t->logmel[b] = log(t->acc[b] + p->log_offset);
        for (int c = 0; c < C; c++) {
            double acc = 0.0;
            const double *dc = t->dct + (size_t)c * B;
            for (int b = 0; b < B; b++)
                acc += dc[b] * t->logmel[b];
            out[(size_t)f * C + c] = (float)acc;
        }
    }
    return QSNN_OK;
}
