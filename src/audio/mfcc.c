/* mfcc.c: TensorFlow's AudioSpectrogram + Mfcc ops (docs/design.md s1.2-1.8), with KissFFT.
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
 * precision (KissFFT float): power_fast() (two quarter-length complex transforms + one radix-4 step at the used
 * bins) or power_ref() (kiss_fftr). Where float rounding could matter (> ~100 dB of spectral dynamic range),
 * refine_channels() recomputes the affected bins with an exact double DFT. tests/test_mfcc.c bounds the end-to-end
 * difference against a float64 reference (worst 2.7e-5 over all fixtures; tolerance 1e-3).
 */
#include "audio/mfcc_internal.h"
#include "qsnn/audio.h"

#include "qsnn/simd.h"

#include <kissfft/kiss_fftr.h>
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
    kiss_fftr_cfg fft; /* forward real FFT plan of fft_len (the _ref path) */
    kiss_fft_cfg fft4; /* forward complex FFT of fft_len / 4 (the fast path; NULL when fft_len < 8) */
    float *window;     /* [window] periodic Hann */
    float *frame;      /* [fft_len] windowed frame; [window, fft_len) stays zero */
    kiss_fft_cpx *spec;   /* [num_bins] (_ref path) */
    kiss_fft_cpx *z;      /* [2][fft_len / 4] the two quarter-length transforms (fast path) */
    float *zs;         /* [4][fft_len / 4] the same as re z0, im z0, re z1, im z1 */
    int used;          /* end - start + 1 */
    float *tw;         /* [6][used] re W^k, im W^k, re W^2k, im W^2k, re W^3k, im W^3k (fast path) */
    float *power;      /* [used] |X_k|^2 of the current frame, float32 like the AudioSpectrogram op output */
    int *band;         /* [end - start + 1] channel of the falling edge, -1..channels-1 */
    double *weight;    /* [end - start + 1] falling-edge weight */
    double *dct_t;     /* [channels][coeffs] DCT-II table, transposed */
    double *dct_acc;   /* [coeffs] */
    double *mel;       /* [channels] filterbank output, then its log */
    /* exact-bin fallback (see refine_channels) */
    double *window_d;  /* [window] the Hann window in double */
    double *cos_tab;   /* [fft_len] cos(2 pi j / fft_len) */
    double *sin_tab;   /* [fft_len] sin(2 pi j / fft_len) */
    double *mag;       /* [used] |X_i| of the current frame */
    int *chan_lo;      /* [channels] first used-bin index feeding the channel (or -1) */
    int *chan_hi;      /* [channels] last used-bin index feeding the channel */
    double *chan_w2;   /* [channels] sqrt of the sum of squared weights of its bins (error estimate) */
    unsigned char *redo; /* [used] bins to recompute exactly */
    int *rk;           /* [used] their bin numbers */
    double *rbuf;      /* [6][used] phasors, steps and sums of the exact DFT */
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
    m->tw = malloc((size_t)used * 6 * sizeof *m->tw);
    if (!m->band || !m->weight || !m->mag || !m->redo || !m->power || !m->tw || !m->rk || !m->rbuf) {
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
    /* fast-path twiddles W^(b k) = cos(2 pi bk / N) - i sin(2 pi bk / N), b = 1..3, for each used bin k */
    for (int i = 0; i < used; i++)
        for (int b = 1; b <= 3; b++) {
            const int idx = (int)(((long)b * (m->start + i)) % m->fft_len);
            m->tw[(size_t)(2 * (b - 1)) * (size_t)used + (size_t)i] = (float)m->cos_tab[idx];
            m->tw[(size_t)(2 * (b - 1) + 1) * (size_t)used + (size_t)i] = (float)-m->sin_tab[idx];
        }
    return QSNN_OK;
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

    m->fft = kiss_fftr_alloc(m->fft_len, 0, NULL, NULL);
    m->window = malloc((size_t)p->window * sizeof *m->window);
    m->frame = calloc((size_t)m->fft_len, sizeof *m->frame);
    m->spec = malloc((size_t)m->num_bins * sizeof *m->spec);
    if (m->fft_len >= 8) {
        m->fft4 = kiss_fft_alloc(m->fft_len / 4, 0, NULL, NULL);
        m->z = malloc((size_t)(m->fft_len / 2) * sizeof *m->z);
        m->zs = malloc((size_t)m->fft_len * sizeof *m->zs);
        if (!m->fft4 || !m->z || !m->zs) {
            qsnn_mfcc_destroy(m);
            return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
        }
    }
    m->dct_t = malloc((size_t)nk * (size_t)nch * sizeof *m->dct_t);
    m->dct_acc = malloc((size_t)nk * sizeof *m->dct_acc);
    m->mel = malloc((size_t)nch * sizeof *m->mel);
    m->window_d = malloc((size_t)p->window * sizeof *m->window_d);
    m->cos_tab = malloc((size_t)m->fft_len * sizeof *m->cos_tab);
    m->sin_tab = malloc((size_t)m->fft_len * sizeof *m->sin_tab);
    m->chan_lo = malloc((size_t)nch * sizeof *m->chan_lo);
    m->chan_hi = malloc((size_t)nch * sizeof *m->chan_hi);
    m->chan_w2 = malloc((size_t)nch * sizeof *m->chan_w2);
    if (!m->fft || !m->window || !m->frame || !m->spec || !m->dct_t || !m->dct_acc || !m->mel || !m->window_d || !m->cos_tab ||
        !m->sin_tab || !m->chan_lo || !m->chan_hi || !m->chan_w2) {
        qsnn_mfcc_destroy(m);
        return qsnn_fail(QSNN_ERR_NOMEM, "mfcc: out of memory");
    }
    const double pi = 4.0 * atan(1.0);
    for (int i = 0; i < p->window; i++) {
        m->window_d[i] = 0.5 - 0.5 * cos(2.0 * pi * i / p->window);
        m->window[i] = (float)m->window_d[i];
    }
    /* cos over the first quadrant, the rest by symmetry (exact), sin(x) = cos(x - pi / 2) */
    const int N = m->fft_len, q = N / 4;
    if (N < 4) {
        for (int j = 0; j < N; j++) {
            m->cos_tab[j] = cos(2.0 * pi * j / N);
            m->sin_tab[j] = sin(2.0 * pi * j / N);
        }
    } else {
        for (int j = 0; j <= q; j++) {
            const double c = j == q ? 0.0 : cos(2.0 * pi * j / N);
            m->cos_tab[j] = c;
            m->cos_tab[(N - j) % N] = c;
            m->cos_tab[N / 2 - j] = -c;
            m->cos_tab[(N / 2 + j) % N] = -c;
        }
        for (int j = 0; j < N; j++)
            m->sin_tab[j] = m->cos_tab[(j - q + N) % N];
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
    kiss_fftr_free(m->fft);
    kiss_fft_free(m->fft4);
    free(m->z);
    free(m->zs);
    free(m->tw);
    free(m->power);
    free(m->window);
    free(m->frame);
    free(m->spec);
    free(m->band);
    free(m->weight);
    free(m->dct_t);
    free(m->dct_acc);
    free(m->mel);
    free(m->window_d);
    free(m->cos_tab);
    free(m->sin_tab);
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
    /* Direct DFT of the flagged bins in double: a phasor per bin advanced by W^k each sample and re-seeded from
     * the exact tables every 64 samples, so that its drift stays ~1e-14. */
    int nb = 0;
    for (int i = 0; i < used; i++)
        if (m->redo[i])
            m->rk[nb++] = m->start + i;
    double *cr = m->rbuf, *ci = cr + used, *sr = ci + used, *si = sr + used, *ar = si + used, *ai = ar + used;
    const unsigned mask = (unsigned)m->fft_len - 1;
    for (int b = 0; b < nb; b++) {
        sr[b] = m->cos_tab[m->rk[b]];
        si[b] = -m->sin_tab[m->rk[b]];
        ar[b] = 0.0;
        ai[b] = 0.0;
    }
    const int win = m->p.window;
    for (int j0 = 0; j0 < win; j0 += 64) {
        for (int b = 0; b < nb; b++) {
            const unsigned idx = ((unsigned)j0 * (unsigned)m->rk[b]) & mask;
            cr[b] = m->cos_tab[idx];
            ci[b] = -m->sin_tab[idx];
        }
        const int j1 = j0 + 64 < win ? j0 + 64 : win;
        for (int j = j0; j < j1; j++)
            dft_step(ar, ai, cr, ci, sr, si, (double)x[j] * m->window_d[j], nb);
    }
    for (int b = 0; b < nb; b++) {
        const float power = (float)(ar[b] * ar[b] + ai[b] * ai[b]); /* the op's float32 output */
        m->mag[m->rk[b] - m->start] = sqrt((double)power);
    }
    return 1;
}

/* m->power[used] of the windowed m->frame with KissFFT's real FFT of fft_len: the plain path. */
static void power_ref(qsnn_mfcc *m)
{
    kiss_fftr(m->fft, m->frame, m->spec);
    const int used = m->end - m->start + 1;
    const kiss_fft_cpx *s = m->spec + m->start;
    for (int i = 0; i < used; i++)
        m->power[i] = s[i].r * s[i].r + s[i].i * s[i].i;
}

/* The same through one radix-4 decimation-in-time step evaluated only at the used bins (k <= fft_len / 2):
 * with M = fft_len / 4 and x_b[a] = x[4a + b], X[k] = sum_b W^(bk) X_b[k mod M]. The four real length-M
 * sequences go through two complex KissFFTs, z0 = x_0 + i x_1 and z1 = x_2 + i x_3 (read from the frame with a
 * stride of two complex values), and are separated with X_even[k] = (Z[k] + conj Z[M-k]) / 2,
 * X_odd[k] = (Z[k] - conj Z[M-k]) / 2i. Two length-256 transforms cost ~60% of KissFFT's real 1024 (whose
 * post-processing also computes the 257 unused bins); test_mfcc checks both paths agree. */
/* power[i] for the n used bins i0.. whose k mod M runs k0, k0 + 1, ... (no wrap inside) and whose mirror
 * (M - k) mod M runs mk0, mk0 - 1, ... Straight-line contiguous loads so that the compiler can vectorise it. */
static void combine(float *restrict power, const float *restrict zs, const float *restrict tw, int M, int used,
                    int n, int k0, int mk0)
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
        power[j] = 0.25f * (xr * xr + xi * xi);
    }
}

static void power_fast(qsnn_mfcc *m)
{
    const int M = m->fft_len / 4;
    const kiss_fft_cpx *in = (const kiss_fft_cpx *)m->frame; /* kiss_fftr reads real data the same way */
    kiss_fft_stride(m->fft4, in, m->z, 2);
    kiss_fft_stride(m->fft4, in + 1, m->z + M, 2);
    /* split re / im so that combine() reads plain float arrays */
    float *zs = m->zs;
    const kiss_fft_cpx *z0 = m->z, *z1 = m->z + M;
    for (int a = 0; a < M; a++) {
        zs[a] = z0[a].r;
        zs[M + a] = z0[a].i;
        zs[2 * M + a] = z1[a].r;
        zs[3 * M + a] = z1[a].i;
    }
    /* split the used bins where k mod M wraps to 0 (that bin alone: its mirror is itself) */
    int i = 0;
    while (i < m->used) {
        const int k = (m->start + i) & (M - 1);
        int n = k == 0 ? 1 : M - k;
        if (n > m->used - i)
            n = m->used - i;
        combine(m->power + i, m->zs, m->tw + i, M, m->used, n, k, k == 0 ? 0 : M - k);
        i += n;
    }
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
    int j = 0;
    for (; j + 8 <= win; j += 8)
        for (int l = 0; l < 8; l++) {
            const float v = x[j + l] * m->window[j + l];
            m->frame[j + l] = v;
            part[l] += v * v;
        }
    for (; j < win; j++) {
        const float v = x[j] * m->window[j];
        m->frame[j] = v;
        part[0] += v * v;
    }
    const float norm2 = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    if (ref || !m->fft4)
        power_ref(m);
    else
        power_fast(m);
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
