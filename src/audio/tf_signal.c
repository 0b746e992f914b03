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
 * Why double and FFTW: a windowed tone leaves bands 100+ dB below its peak; a float32 FFT's rounding (~1e-7 of
 * the frame's norm) would then move those bands' logs by 0.1 against a float64 reference, and the tests bound
 * the difference at 1e-3. FFTW plans are made once per object under a lock (planning is not thread-safe);
 * fftw_execute_dft_r2c on the object's own arrays is.
 *
 * Invariants: create precomputes the window, each band's bin range and weights, the DCT table, and allocates
 * all scratch, so compute never allocates; one object per thread. */
#include "audio/tf_signal_internal.h"

#include <fftw3.h>
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
    double *frame;    /* [fft_size] */
    fftw_complex *spec; /* [bins] */
    fftw_plan plan;
    double *mag;      /* [bins] */
    int *lo, *hi;     /* [num_bands] first and last bin with a weight (hi < lo: none) */
    double *w;        /* [num_bands][bins] mel weights */
    double *logmel;   /* [num_bands] */
    double *dct;      /* [num_coeffs][num_bands] */
};

static double mel_of(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

void qsnn_tf_signal_destroy(qsnn_tf_signal *t)
{
    if (!t)
        return;
    if (t->plan) {
#pragma omp critical(qsnn_fftw_plan)
        fftw_destroy_plan(t->plan);
    }
    fftw_free(t->frame);
    fftw_free(t->spec);
    free(t->hann);
    free(t->x);
    free(t->mag);
    free(t->lo);
    free(t->hi);
    free(t->w);
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
    t->frame = fftw_alloc_real((size_t)N);
    t->spec = fftw_alloc_complex((size_t)t->bins);
    t->mag = malloc((size_t)t->bins * sizeof *t->mag);
    t->lo = malloc((size_t)B * sizeof *t->lo);
    t->hi = malloc((size_t)B * sizeof *t->hi);
    t->w = calloc((size_t)B * (size_t)t->bins, sizeof *t->w);
    t->logmel = malloc((size_t)B * sizeof *t->logmel);
    t->dct = malloc((size_t)p->num_coeffs * (size_t)B * sizeof *t->dct);
    if (!t->hann || !t->x || !t->frame || !t->spec || !t->mag || !t->lo || !t->hi || !t->w || !t->logmel ||
        !t->dct) {
        qsnn_tf_signal_destroy(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "tf-signal: out of memory");
    }
#pragma omp critical(qsnn_fftw_plan)
    t->plan = fftw_plan_dft_r2c_1d(N, t->frame, t->spec, FFTW_ESTIMATE);
    if (!t->plan) {
        qsnn_tf_signal_destroy(t);
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "tf-signal: FFTW could not plan a %d-point transform", N);
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
                t->lo[b] = k < t->lo[b] ? k : t->lo[b];
                t->hi[b] = k;
            }
        }
    }
    for (int b = 0; b < B; b++)
        t->used = t->hi[b] + 1 > t->used ? t->hi[b] + 1 : t->used;
    const double s = sqrt(2.0 / B);
    for (int c = 0; c < p->num_coeffs; c++)
        for (int b = 0; b < B; b++)
            t->dct[(size_t)c * B + b] = s * cos(M_PI * c * (2.0 * b + 1.0) / (2.0 * B));
    memset(t->frame, 0, (size_t)N * sizeof *t->frame);
    *out = t;
    return QSNN_OK;
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
    for (int f = 0; f < t->frames; f++) {
        const double *xf = t->x + (size_t)f * p->stride;
        for (int j = 0; j < p->window; j++)
            t->frame[j] = xf[j] * t->hann[j];
        fftw_execute_dft_r2c(t->plan, t->frame, t->spec);
        for (int k = 0; k < t->used; k++) /* no overflow or underflow at these magnitudes: plain sqrt */
            t->mag[k] = sqrt(t->spec[k][0] * t->spec[k][0] + t->spec[k][1] * t->spec[k][1]);
        for (int b = 0; b < B; b++) {
            double acc = 0.0;
            const double *wb = t->w + (size_t)b * t->bins;
            for (int k = t->lo[b]; k <= t->hi[b]; k++)
                acc += wb[k] * t->mag[k];
            t->logmel[b] = log(acc + p->log_offset);
        }
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
