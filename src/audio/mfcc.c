/* SPDX-License-Identifier: Apache-2.0 */
/* mfcc.c: TensorFlow's AudioSpectrogram + Mfcc ops (docs/design.md s1.2-1.8), with the FFT of fft_internal.h
 * (KissFFT, or FFTW with -DQSNN_FFTW=ON).
 *
 * Per frame (starts 0, stride, 2*stride... while a whole window fits; no padding):
 *   x[j] * hann[j] (periodic, divisor = window) -> zero-padded real FFT of fft_len = next power of two >= window
 *   -> power |X|^2 (float, as the AudioSpectrogram op outputs) -> for bins start..end: v = sqrt(power) goes to
 *   channel band[i] with weight w[i] and to band[i] + 1 with weight (1 - w[i]) (TF's MfccMelFilterbank, on the
 *   magnitude, un-normalised triangles) -> ln(max(., 1e-12)) -> DCT-II scaled sqrt(2 / channels).
 *
 * Invariants: qsnn_mfcc_create precomputes everything (window, band map and weights, DCT table, FFT plans,
 * twiddles) and allocates all scratch, so qsnn_mfcc_compute never allocates; one object per thread (the scratch is
 * inside). The band map and weights are computed in double exactly as TF's MfccMelFilterbank::Initialize does;
 * the filterbank sum, log and DCT run in double in TF's order, as in TF's Mfcc::Compute. The FFT is single
 * precision (fft_internal.h: with KissFFT the used bins only, from two quarter-length complex transforms, or
 * kiss_fftr on the _ref path; with FFTW its real transform). Where float rounding could matter (> ~100 dB of
 * spectral dynamic range), refine_channels() recomputes the affected bins with an exact double DFT. tests/test_mfcc.c bounds the end-to-end
 * difference against a float64 reference (worst 2.7e-5 over all fixtures; tolerance 1e-3).
 */
#include "audio/fft_internal.h"
#include "audio/mfcc_internal.h"
#include "qsnn/audio.h"
#include "qsnn/simd.h"

#if QSNN_SIMD_X86
#include <immintrin.h>
#endif
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FILTERBANK_FLOOR 1e-12
#define MAX_WINDOW (1 << 20)
#define MAX_CHANNELS 1024

struct qsnn_mfcc {
    qsnn_mfcc_params p;
    int fft_len;       /* next power of two >= window */
    int num_bins;      /* fft_len / 2 + 1 */
    int start, end;    /* used spectrum bins, inclusive (TF's start_index_, end_index_) */
    qsnn_fft *fft;     /* forward real FFT of fft_len, bins start..end (its input: the windowed frame, zero past
                        * the window) */
    qsnn_fft *fft_ref; /* the same, plain (the _ref path) */
    float *window;     /* [window] periodic Hann */
    int used;          /* end - start + 1 */
    float *power;      /* [used] |X_k|^2 of the current frame, float32 like the AudioSpectrogram op output */
    int *band;         /* [end - start + 1] channel of the falling edge, -1..channels-1 */
    double *weight;    /* [end - start + 1] falling-edge weight */
    double *dct_t;     /* [channels][coeffs] DCT-II table, transposed */
    double *dct_acc;   /* [coeffs] */
    double *mel;       /* [channels] filterbank output, then its log */
    /* exact-bin fallback (see refine_channels) */
    double *window_d;  /* [window] the Hann window in double */
    double *xd;        /* [window] the windowed frame in double */
    qsnn_dft_tab tab;  /* cos, sin of 2 pi j / fft_len */
    double *mag;       /* [used] |X_i| of the current frame */
    int *chan_lo;      /* [channels] first used-bin index feeding the channel (or -1) */
    int *chan_hi;      /* [channels] last used-bin index feeding the channel */
    double *chan_w2;   /* [channels] sqrt of the sum of squared weights of its bins (error estimate) */
    unsigned char *redo; /* [used] bins to recompute exactly */
    int *rk;           /* [used] their bin numbers */
    double *rbuf;      /* [6][used] sums, phasors and steps of the exact DFT */
};

void qsnn_mfcc_default_params(qsnn_mfcc_params *p)
{
    p->sample_rate = QSNN_SAMPLE_RATE;
    p->window = 640;
    p->stride = 320;
    p->num_channels = 40;
    p->num_coeffs = 10;
    p->lower_hz = 20.0;
    p->upper_hz = 4000.0;
}

static double hz_to_mel(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

static qsnn_status check_params(const qsnn_mfcc_params *p)
{
    if (p->sample_rate <= 0)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: sample_rate %d must be positive", p->sample_rate);
    if (p->window < 2 || p->window > MAX_WINDOW)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: window %d not in [2, %d]", p->window, MAX_WINDOW);
    if (p->stride < 1)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: stride %d must be >= 1", p->stride);
    if (p->num_channels < 1 || p->num_channels > MAX_CHANNELS)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: channels %d not in [1, %d]", p->num_channels, MAX_CHANNELS);
    if (p->num_coeffs < 1 || p->num_coeffs > p->num_channels)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: coefficients %d not in [1, channels = %d]", p->num_coeffs,
                         p->num_channels);
    if (!(p->lower_hz >= 0.0) || !(p->upper_hz > p->lower_hz))
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: need 0 <= lower_hz (%g) < upper_hz (%g)", p->lower_hz, p->upper_hz);
    if (p->upper_hz > 0.5 * p->sample_rate)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: upper_hz %g is above the Nyquist frequency %g", p->upper_hz,
                         0.5 * p->sample_rate);
    return QSNN_OK;
}

/* TF's MfccMelFilterbank::Initialize: centres, start/end bins, band map and weights. */
static qsnn_status build_filterbank(qsnn_mfcc *m)
{
    const int nch = m->p.num_channels;
    const double mel_lo = hz_to_mel(m->p.lower_hz);
    const double mel_hi = hz_to_mel(m->p.upper_hz);
    const double spacing = (mel_hi - mel_lo) / (double)(nch + 1);
    double *centre = malloc((size_t)(nch + 1) * sizeof *centre);
    if (!centre)
        return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
    for (int i = 0; i < nch + 1; i++)
        centre[i] = mel_lo + spacing * (i + 1);

    const double hz_per_bin = 0.5 * m->p.sample_rate / (double)(m->num_bins - 1);
    m->start = (int)(1.5 + m->p.lower_hz / hz_per_bin);
    m->end = (int)(m->p.upper_hz / hz_per_bin);
    if (m->end > m->num_bins - 1 || m->start > m->end) {
        free(centre);
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: %g..%g Hz selects no usable FFT bins (start %d, end %d of %d)",
                         m->p.lower_hz, m->p.upper_hz, m->start, m->end, m->num_bins);
    }
    const int used = m->end - m->start + 1;
    m->used = used;
    m->band = malloc((size_t)used * sizeof *m->band);
    m->weight = malloc((size_t)used * sizeof *m->weight);
    m->mag = malloc((size_t)used * sizeof *m->mag);
    m->redo = malloc((size_t)used);
    m->power = malloc((size_t)used * sizeof *m->power);
    m->rk = malloc((size_t)used * sizeof *m->rk);
    m->rbuf = malloc((size_t)used * 6 * sizeof *m->rbuf);
    if (!m->band || !m->weight || !m->mag || !m->redo || !m->power || !m->rk || !m->rbuf) {
        free(centre);
        return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
    }
    int channel = 0;
    for (int i = m->start; i <= m->end; i++) {
        const double melf = hz_to_mel(i * hz_per_bin);
        while (channel < nch && centre[channel] < melf)
            channel++;
        const int ch = channel - 1; /* may be -1: the rising edge of channel 0 only */
        m->band[i - m->start] = ch;
        if (ch >= 0)
            m->weight[i - m->start] = (centre[ch + 1] - melf) / (centre[ch + 1] - centre[ch]);
        else
            m->weight[i - m->start] = (centre[0] - melf) / (centre[0] - mel_lo);
    }
    free(centre);
    /* which bins feed each channel, and their squared weights (for the error estimate of refine_channels) */
    for (int c = 0; c < nch; c++) {
        m->chan_lo[c] = -1;
        m->chan_hi[c] = -1;
        m->chan_w2[c] = 0.0;
    }
    for (int i = 0; i < used; i++) {
        const int ch = m->band[i];
        const double w = m->weight[i];
        for (int side = 0; side < 2; side++) {
            const int c = ch + side;
            if (c < 0 || c >= nch)
                continue;
            if (m->chan_lo[c] < 0)
                m->chan_lo[c] = i;
            m->chan_hi[c] = i;
            m->chan_w2[c] += side ? (1.0 - w) * (1.0 - w) : w * w;
        }
    }
    for (int c = 0; c < nch; c++)
        m->chan_w2[c] = sqrt(m->chan_w2[c]);
    qsnn_fft_cfg fc = {m->fft_len, m->start, m->end, 0, &m->tab};
    qsnn_status st = qsnn_fft_create(&m->fft, &fc);
    fc.plain = 1;
    if (!st)
        st = qsnn_fft_create(&m->fft_ref, &fc);
    return st;
}

qsnn_status qsnn_mfcc_create(qsnn_mfcc **out, const qsnn_mfcc_params *p)
{
    if (!out || !p)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: NULL argument");
    *out = NULL;
    qsnn_status st = check_params(p);
    if (st)
        return st;
    qsnn_mfcc *m = calloc(1, sizeof *m);
    if (!m)
        return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
    m->p = *p;
    m->fft_len = 2;
    while (m->fft_len < p->window)
        m->fft_len *= 2;
    m->num_bins = m->fft_len / 2 + 1;
    const int nch = p->num_channels, nk = p->num_coeffs;

    m->window = malloc((size_t)p->window * sizeof *m->window);
    m->dct_t = malloc((size_t)nk * (size_t)nch * sizeof *m->dct_t);
    m->dct_acc = malloc((size_t)nk * sizeof *m->dct_acc);
    m->mel = malloc((size_t)nch * sizeof *m->mel);
    m->window_d = malloc((size_t)p->window * sizeof *m->window_d);
    m->xd = malloc((size_t)p->window * sizeof *m->xd);
    m->chan_lo = malloc((size_t)nch * sizeof *m->chan_lo);
    m->chan_hi = malloc((size_t)nch * sizeof *m->chan_hi);
    m->chan_w2 = malloc((size_t)nch * sizeof *m->chan_w2);
    if (!m->window || !m->dct_t || !m->dct_acc || !m->mel || !m->window_d || !m->xd || !m->chan_lo || !m->chan_hi ||
        !m->chan_w2 || qsnn_dft_tab_init(&m->tab, m->fft_len) != QSNN_OK) {
        qsnn_mfcc_destroy(m);
        return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
    }
    const double pi = 4.0 * atan(1.0);
    for (int i = 0; i < p->window; i++) {
        m->window_d[i] = 0.5 - 0.5 * cos(2.0 * pi * i / p->window);
        m->window[i] = (float)m->window_d[i];
    }
    const double fnorm = sqrt(2.0 / nch);
    for (int k = 0; k < nk; k++)
        for (int j = 0; j < nch; j++)
            m->dct_t[j * nk + k] = fnorm * cos(k * (pi / nch) * (j + 0.5));
    st = build_filterbank(m);
    if (st) {
        qsnn_mfcc_destroy(m);
        return st;
    }
    *out = m;
    return QSNN_OK;
}

void qsnn_mfcc_destroy(qsnn_mfcc *m)
{
    if (!m)
        return;
    qsnn_fft_destroy(m->fft);
    qsnn_fft_destroy(m->fft_ref);
    free(m->power);
    free(m->window);
    free(m->band);
    free(m->weight);
    free(m->dct_t);
    free(m->dct_acc);
    free(m->mel);
    free(m->window_d);
    free(m->xd);
    qsnn_dft_tab_free(&m->tab);
    free(m->mag);
    free(m->chan_lo);
    free(m->chan_hi);
    free(m->chan_w2);
    free(m->redo);
    free(m->rk);
    free(m->rbuf);
    free(m);
}

int qsnn_mfcc_num_frames(const qsnn_mfcc *m, size_t num_samples)
{
    if (num_samples < (size_t)m->p.window)
        return 0;
    size_t f = 1 + (num_samples - (size_t)m->p.window) / (size_t)m->p.stride;
    return f > (size_t)INT_MAX ? -1 : (int)f;
}

int qsnn_mfcc_num_coeffs(const qsnn_mfcc *m) { return m->p.num_coeffs; }

/* Sum of the filterbank for bins' magnitudes mag[used] (TF's MfccMelFilterbank::Compute). */
static void filterbank(const qsnn_mfcc *m, double *mel, const double *mag)
{
    const int nch = m->p.num_channels, used = m->end - m->start + 1;
    for (int c = 0; c < nch; c++)
        mel[c] = 0.0;
    /* TF adds each bin's two contributions straight into the output; the band map is non-decreasing, so two
     * running sums (falling edge of channel ch, rising edge of ch + 1) give the same additions in the same order
     * without a store-to-load chain through mel[]. */
    int ch = m->band[0];
    double fall = 0.0, rise = 0.0;
    for (int i = 0; i < used; i++) {
        if (m->band[i] != ch) {
            if (ch >= 0)
                mel[ch] = fall;
            if (m->band[i] == ch + 1) {
                fall = rise;
            } else {
                if (ch + 1 < nch)
                    mel[ch + 1] = rise;
                fall = 0.0;
            }
            rise = 0.0;
            ch = m->band[i];
        }
        const double v = mag[i];
        const double weighted = v * m->weight[i];
        fall += weighted; /* falling edge of channel ch (unused when ch == -1) */
        rise += v - weighted; /* rising edge of channel ch + 1 (unused when ch + 1 == channels) */
    }
    if (ch >= 0)
        mel[ch] = fall;
    if (ch + 1 < nch)
        mel[ch + 1] = rise;
}

/* Single-precision FFT rounding leaves an error of about FFT_ERR * ||frame||_2 on every bin (measured rms
 * 1.3e-7 for KissFFT float at 1024 points, on noise, tones, chirps and speech). A channel whose magnitude sum is
 * so small that this error would exceed REFINE_REL of it (only in frames with > ~100 dB of spectral dynamic
 * range: pure tones, clean chirps, far-out-of-band energy; not in recorded speech, which carries a noise floor) has
 * its bins recomputed with a direct double-precision DFT, as TF's double-precision spectrogram would give them.
 * Without this, a full-scale tone or chirp's MFCC differs from TF's by up to 1.5e-2; with it, by < 4e-5 (the
 * estimate is conservative). On real Speech Commands clips about 0.2% of frames take the fallback. */
#define FFT_ERR 2e-7
#define REFINE_REL 1e-4

static int refine_channels(qsnn_mfcc *m, const float *x, double frame_norm)
{
    const int nch = m->p.num_channels, used = m->end - m->start + 1;
    int any = 0;
    memset(m->redo, 0, (size_t)used);
    for (int c = 0; c < nch; c++) {
        if (m->chan_lo[c] < 0)
            continue;
        if (FFT_ERR * frame_norm * m->chan_w2[c] > REFINE_REL * m->mel[c]) {
            memset(m->redo + m->chan_lo[c], 1, (size_t)(m->chan_hi[c] - m->chan_lo[c] + 1));
            any = 1;
        }
    }
    if (!any)
        return 0;
    /* Direct DFT of the flagged bins in double (qsnn_dft_bins) */
    int nb = 0;
    for (int i = 0; i < used; i++)
        if (m->redo[i])
            m->rk[nb++] = m->start + i;
    const int win = m->p.window;
    for (int j = 0; j < win; j++)
        m->xd[j] = (double)x[j] * m->window_d[j];
    double *ar = m->rbuf, *ai = ar + used;
    qsnn_dft_bins(ar, ai, m->xd, win, m->rk, nb, &m->tab, ai + used);
    for (int b = 0; b < nb; b++) {
        const float power = (float)(ar[b] * ar[b] + ai[b] * ai[b]); /* the op's float32 output */
        m->mag[m->rk[b] - m->start] = sqrt((double)power);
    }
    return 1;
}

/* mag[i] = sqrt((double)power[i]) (TF's Mfcc op: double sqrt of the float spectrogram). The scalar sqrt() keeps
 * an errno branch that stops the compiler from vectorising, so where the AVX2 kernels run the (identical,
 * correctly rounded) vector square root does the first n - n % 4. */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static int magnitudes_avx2(double *mag, const float *power, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(mag + i, _mm256_sqrt_pd(_mm256_cvtps_pd(_mm_loadu_ps(power + i))));
    return i;
}
QSNN_AVX2_END
#endif

static void magnitudes(double *mag, const float *power, int n)
{
    int i = 0;
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2())
        i = magnitudes_avx2(mag, power, n);
#endif
    for (; i < n; i++)
        mag[i] = sqrt((double)power[i]);
}

/* One frame: samples[window] -> out[coeffs]. */
static void mfcc_frame(qsnn_mfcc *m, float *out, const float *x, int ref)
{
    const int win = m->p.window, nch = m->p.num_channels, nk = m->p.num_coeffs;
    /* eight partial sums so that the compiler can vectorise without reassociating a float reduction */
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    qsnn_fft *fft = ref ? m->fft_ref : m->fft;
    float *frame = qsnn_fft_in(fft); /* [fft_len]: [window, fft_len) stays zero */
    int j = 0;
    for (; j + 8 <= win; j += 8)
        for (int l = 0; l < 8; l++) {
            const float v = x[j + l] * m->window[j + l];
            frame[j + l] = v;
            part[l] += v * v;
        }
    for (; j < win; j++) {
        const float v = x[j] * m->window[j];
        frame[j] = v;
        part[0] += v * v;
    }
    const float norm2 = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    qsnn_fft_forward_power(fft, m->power); /* |X_k|^2 of the used bins, float32 like the AudioSpectrogram op */
    const int used = m->end - m->start + 1;
    magnitudes(m->mag, m->power, used);
    double *mel = m->mel;
    filterbank(m, mel, m->mag);
    if (norm2 > 0.0f && refine_channels(m, x, sqrt((double)norm2)))
        filterbank(m, mel, m->mag);
    for (int c = 0; c < nch; c++)
        mel[c] = log(mel[c] < FILTERBANK_FLOOR ? FILTERBANK_FLOOR : mel[c]);
    /* DCT, channel-major so that the coefficients are summed side by side (each in channel order, as TF) */
    double *dct_acc = m->dct_acc;
    for (int k = 0; k < nk; k++)
        dct_acc[k] = 0.0;
    for (int c = 0; c < nch; c++) {
        const double *col = m->dct_t + (size_t)c * (size_t)nk;
        const double l = mel[c];
        for (int k = 0; k < nk; k++)
            dct_acc[k] += col[k] * l;
    }
    for (int k = 0; k < nk; k++)
        out[k] = (float)dct_acc[k];
}

static qsnn_status compute(qsnn_mfcc *m, float *out, const float *samples, size_t n, int ref)
{
    if (!m)
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: NULL object");
    int frames = qsnn_mfcc_num_frames(m, n);
    if (frames < 0)
        return qsnn_fail(QSNN_ERR_RANGE, "mfcc: %zu samples give more than %d frames", n, INT_MAX);
    if (frames > 0 && (!out || !samples))
        return qsnn_fail(QSNN_ERR_ARG, "mfcc: NULL buffer");
    const size_t stride = (size_t)m->p.stride, nk = (size_t)m->p.num_coeffs;
    for (int t = 0; t < frames; t++)
        mfcc_frame(m, out + (size_t)t * nk, samples + (size_t)t * stride, ref);
    return QSNN_OK;
}

qsnn_status qsnn_mfcc_compute(qsnn_mfcc *m, float *out, const float *samples, size_t n)
{
    return compute(m, out, samples, n, 0);
}

qsnn_status qsnn_mfcc_compute_ref(qsnn_mfcc *m, float *out, const float *samples, size_t n)
{
    return compute(m, out, samples, n, 1);
}
