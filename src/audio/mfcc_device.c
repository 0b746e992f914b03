/* SPDX-License-Identifier: Apache-2.0 */
/* mfcc_device.c: TensorFlow's AudioSpectrogram + Mfcc (docs/design.md s1.2-1.7) and the uint8 scaling (s1.9) for the
 * fixed Hello Edge settings, in C11 with libc only and no allocation: the front end a microcontroller builds
 * (examples/mcu) and that the host runs too, so that both compute the same bits (include/qsnn/mfcc_device.h).
 *
 * Per frame: x[j] * hann[j] -> real FFT of 1024 (zero-padded) as one 512-point complex radix-2 FFT of
 * z[n] = x[2n] + i x[2n+1] and the split X[k] = E[k] + W^k O[k] -> power re^2 + im^2 of bins 2..256 -> magnitude
 * sqrtf -> TF's un-normalised triangles (two running sums, TF's order) -> log(max(., 1e-12)) -> DCT-II scaled
 * sqrt(2 / 40), all float32 (the DCT's sums compensated).
 *
 * Invariants: only +, -, *, / and sqrtf (correctly rounded by IEEE-754) in a fixed order; the tables come from
 * cos_2pi() and log_d() below (Taylor / atanh series in double, no libm transcendental, whose last bit differs
 * between C libraries); CMakeLists.txt and examples/mcu/run_qemu.sh compile this file with -ffp-contract=off and
 * -fno-tree-vectorize so that no multiply-add is fused on a target that has FMA (the Cortex-M4 has VFMA; GCC 12 -O3
 * -mfma vectorised fft512's complex multiplies into vfmaddsub despite -ffp-contract=off: measured). Then every IEEE
 * target gives the same bits, which tests/test_convert.c checks on a Cortex-M4 in QEMU. */
#include "qsnn/mfcc_device.h"

#include <math.h>
#include <string.h>

#define PI_D 3.14159265358979323846
#define LN2_D 0.69314718055994530942
#define LN2_F 0.693147180559945309f
#define LOG_FLOOR 1e-12f
#define HALF (QSNN_MFCC_DEVICE_FFT / 2) /* 512: the complex FFT */

/* sin(x) and cos(x) for |x| <= pi / 4 by their Taylor series in double (terms below 1e-20 dropped). */
static double sin_small(double x)
{
    const double x2 = x * x;
    double s = 1.0 / 6227020800.0; /* 1/13! */
    s = 1.0 / 39916800.0 - x2 * s;
    s = 1.0 / 362880.0 - x2 * s;
    s = 1.0 / 5040.0 - x2 * s;
    s = 1.0 / 120.0 - x2 * s;
    s = 1.0 / 6.0 - x2 * s;
    return x - x * x2 * s;
}

static double cos_small(double x)
{
    const double x2 = x * x;
    double c = 1.0 / 87178291200.0; /* 1/14! */
    c = 1.0 / 479001600.0 - x2 * c;
    c = 1.0 / 3628800.0 - x2 * c;
    c = 1.0 / 40320.0 - x2 * c;
    c = 1.0 / 720.0 - x2 * c;
    c = 1.0 / 24.0 - x2 * c;
    c = 0.5 - x2 * c;
    return 1.0 - x2 * c;
}

/* cos(2 pi i / n) for n a positive multiple of 4: exact integer reduction to an angle in [0, pi / 4]. */
static double cos_2pi(long i, long n)
{
    i %= n;
    if (i < 0)
        i += n;
    if (2 * i > n) /* cos(2 pi (n - i) / n) */
        i = n - i;
    double sign = 1.0;
    if (4 * i > n) { /* cos(pi - a) = -cos(a) */
        i = n / 2 - i;
        sign = -1.0;
    }
    /* now 0 <= i <= n / 4 */
    if (8 * i <= n)
        return sign * cos_small(2.0 * PI_D * (double)i / (double)n);
    return sign * sin_small(2.0 * PI_D * (double)(n / 4 - i) / (double)n); /* cos(a) = sin(pi / 2 - a) */
}

/* ln(x) for x > 0 in double: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1). */
static double log_d(double x)
{
    int e;
    double m = frexp(x, &e); /* exact */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e--;
    }
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 25.0;
    for (int k = 11; k >= 0; k--)
        p = 1.0 / (double)(2 * k + 1) + s2 * p;
    return (double)e * LN2_D + 2.0 * s * p;
}

/* ln(x) for normal x > 0 in float, the same way (|s| <= 0.1716: five terms reach float precision); the exponent
 * and mantissa straight from the IEEE-754 bits (exact, and no library call on the device). */
static float log_f(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 23) - 126;          /* x = m 2^e, m in [0.5, 1) */
    bits = (bits & 0x007FFFFFu) | 0x3F000000u; /* m */
    float m;
    memcpy(&m, &bits, sizeof m);
    if (m < 0.707106781f) {
        m *= 2.0f;
        e--;
    }
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    const float p = 1.0f + s2 * (1.0f / 3.0f + s2 * (1.0f / 5.0f + s2 * (1.0f / 7.0f + s2 * (1.0f / 9.0f))));
    return (float)e * LN2_F + 2.0f * s * p;
}

static double hz_to_mel(double hz) { return 1127.0 * log_d(1.0 + hz / 700.0); }

void qsnn_mfcc_device_init(qsnn_mfcc_device *fe)
{
    memset(fe, 0, sizeof *fe);
    for (int i = 0; i < QSNN_MFCC_DEVICE_WINDOW; i++)
        fe->window[i] = (float)(0.5 - 0.5 * cos_2pi(i, QSNN_MFCC_DEVICE_WINDOW));
    for (int k = 0; k < HALF; k++) {
        fe->tw[k][0] = (float)cos_2pi(k, QSNN_MFCC_DEVICE_FFT);
        fe->tw[k][1] = (float)-cos_2pi(k - QSNN_MFCC_DEVICE_FFT / 4, QSNN_MFCC_DEVICE_FFT); /* -sin */
        unsigned r = 0;
        for (int b = 0; b < 9; b++)
            r |= (((unsigned)k >> b) & 1u) << (8 - b);
        fe->bitrev[k] = (uint16_t)r;
    }
    /* TF's MfccMelFilterbank::Initialize in double (docs/design.md s1.5), with log_d for the mel scale */
    const int nch = QSNN_MFCC_DEVICE_CHANNELS;
    const double mel_lo = hz_to_mel(20.0), mel_hi = hz_to_mel(4000.0);
    const double spacing = (mel_hi - mel_lo) / (double)(nch + 1);
    double centre[QSNN_MFCC_DEVICE_CHANNELS + 1];
    for (int i = 0; i < nch + 1; i++)
        centre[i] = mel_lo + spacing * (i + 1);
    const double hz_per_bin = 0.5 * 16000.0 / (double)(HALF);
    int channel = 0;
    for (int i = QSNN_MFCC_DEVICE_BIN_LO; i <= QSNN_MFCC_DEVICE_BIN_HI; i++) {
        const double melf = hz_to_mel(i * hz_per_bin);
        while (channel < nch && centre[channel] < melf)
            channel++;
        const int ch = channel - 1;
        const int u = i - QSNN_MFCC_DEVICE_BIN_LO;
        fe->band[u] = (int8_t)ch;
        fe->weight[u] = ch >= 0 ? (float)((centre[ch + 1] - melf) / (centre[ch + 1] - centre[ch]))
                                : (float)((centre[0] - melf) / (centre[0] - mel_lo));
    }
    /* DCT-II: sqrt(2 / C) cos(k (pi / C) (j + 0.5)) = sqrt(2 / C) cos(2 pi k (2j + 1) / (4 C)); sqrt is exact */
    const double fnorm = sqrt(2.0 / nch);
    for (int j = 0; j < nch; j++)
        for (int k = 0; k < QSNN_MFCC_DEVICE_COEFFS; k++)
            fe->dct[j][k] = (float)(fnorm * cos_2pi((long)k * (2 * j + 1), 4L * nch));
}

/* In-place radix-2 decimation-in-time FFT of fe->z[512] (input already in bit-reversed order: pack*). The first
 * stage's twiddle is 1 (no multiplies); later stages run twiddle-major, each twiddle loaded once per stage. */
static void fft512(qsnn_mfcc_device *fe)
{
    float *restrict z = &fe->z[0][0];
    const float *restrict tw = &fe->tw[0][0];
    for (int i = 0; i < 2 * HALF; i += 4) {
        const float ar = z[i], ai = z[i + 1], br = z[i + 2], bi = z[i + 3];
        z[i] = ar + br;
        z[i + 1] = ai + bi;
        z[i + 2] = ar - br;
        z[i + 3] = ai - bi;
    }
    for (int len = 4, step = HALF / 2; len <= HALF; len *= 2, step /= 2) { /* step = 1024 / len */
        const int half = len / 2;
        for (int j = 0; j < half; j++) {
            const float wr = tw[2 * j * step], wi = tw[2 * j * step + 1]; /* W_len^j = W1024^(j step) */
            for (int i = j; i < HALF; i += len) {
                float *a = z + 2 * i, *b = z + 2 * (i + half);
                const float ar = a[0], ai = a[1], br = b[0], bi = b[1]; /* all loads before any store */
                const float tr = wr * br - wi * bi;
                const float ti = wr * bi + wi * br;
                b[0] = ar - tr;
                b[1] = ai - ti;
                a[0] = ar + tr;
                a[1] = ai + ti;
            }
        }
    }
}

/* fe->z in bit-reversed order from z[n] = in[2n] + i in[2n+1], n < 512 (then fft512 gives the packed transform). */
static void pack(qsnn_mfcc_device *fe, const float *in)
{
    for (int n = 0; n < HALF; n++) {
        const int r = fe->bitrev[n];
        fe->z[r][0] = in[2 * n];
        fe->z[r][1] = in[2 * n + 1];
    }
}

/* The same for a windowed frame, straight from the samples (float, or PCM16 scaled by 2^-15, which is exact, so
 * both give the same bits); z[n] = 0 from n = 320 on (the zero padding). */
static void pack_window(qsnn_mfcc_device *fe, const float *x, const int16_t *pcm)
{
    const float *w = fe->window;
    const uint16_t *rev = fe->bitrev;
    if (pcm)
        for (int n = 0; n < QSNN_MFCC_DEVICE_WINDOW / 2; n++) {
            fe->z[rev[n]][0] = (float)pcm[2 * n] * (1.0f / 32768.0f) * w[2 * n];
            fe->z[rev[n]][1] = (float)pcm[2 * n + 1] * (1.0f / 32768.0f) * w[2 * n + 1];
        }
    else
        for (int n = 0; n < QSNN_MFCC_DEVICE_WINDOW / 2; n++) {
            fe->z[rev[n]][0] = x[2 * n] * w[2 * n];
            fe->z[rev[n]][1] = x[2 * n + 1] * w[2 * n + 1];
        }
    for (int n = QSNN_MFCC_DEVICE_WINDOW / 2; n < HALF; n++)
        fe->z[rev[n]][0] = fe->z[rev[n]][1] = 0.0f;
}

/* X[k] from the packed transform: E = (Z[k] + conj Z[512-k]) / 2, O = (Z[k] - conj Z[512-k]) / 2i,
 * X[k] = E + W1024^k O, for 0 <= k <= 512 (Z[512] = Z[0]; W^512 = -1). */
static void split(const qsnn_mfcc_device *fe, float *re, float *im, int k)
{
    const float *a = fe->z[k & (HALF - 1)], *b = fe->z[(HALF - k) & (HALF - 1)];
    const float er = 0.5f * (a[0] + b[0]), ei = 0.5f * (a[1] - b[1]);
    const float or_ = 0.5f * (a[1] + b[1]), oi = 0.5f * (b[0] - a[0]);
    const float wr = k < HALF ? fe->tw[k][0] : -1.0f, wi = k < HALF ? fe->tw[k][1] : 0.0f;
    *re = er + (wr * or_ - wi * oi);
    *im = ei + (wr * oi + wi * or_);
}

void qsnn_mfcc_device_rfft(qsnn_mfcc_device *fe, float (*out)[2], const float *in)
{
    pack(fe, in);
    fft512(fe);
    for (int k = 0; k <= HALF; k++)
        split(fe, &out[k][0], &out[k][1], k);
}

/* out[10] from the windowed frame packed in fe->z. */
static void frame_packed(qsnn_mfcc_device *fe, float *out)
{
    fft512(fe);
    for (int u = 0; u < QSNN_MFCC_DEVICE_BINS; u++) {
        float re, im;
        split(fe, &re, &im, u + QSNN_MFCC_DEVICE_BIN_LO);
        fe->mag[u] = sqrtf(re * re + im * im);
    }
    /* TF's MfccMelFilterbank::Compute: each bin adds v * w to its band's falling edge and v - v * w to the next
     * band's rising edge; the band map is non-decreasing, so two running sums keep TF's order (as src/audio/mfcc.c) */
    const int nch = QSNN_MFCC_DEVICE_CHANNELS;
    float mel[QSNN_MFCC_DEVICE_CHANNELS] = {0};
    int ch = fe->band[0];
    float fall = 0.0f, rise = 0.0f;
    for (int u = 0; u < QSNN_MFCC_DEVICE_BINS; u++) {
        if (fe->band[u] != ch) {
            if (ch >= 0)
                mel[ch] = fall;
            if (fe->band[u] == ch + 1) {
                fall = rise;
            } else {
                if (ch + 1 < nch)
                    mel[ch + 1] = rise;
                fall = 0.0f;
            }
            rise = 0.0f;
            ch = fe->band[u];
        }
        const float v = fe->mag[u], weighted = v * fe->weight[u];
        fall += weighted;
        rise += v - weighted;
    }
    if (ch >= 0)
        mel[ch] = fall;
    if (ch + 1 < nch)
        mel[ch + 1] = rise;
    for (int c = 0; c < nch; c++)
        mel[c] = log_f(mel[c] < LOG_FLOOR ? LOG_FLOOR : mel[c]);
    /* DCT with Kahan-compensated float sums: a plain float sum of 40 terms of ~6 drifts by up to 3e-4 on
     * coefficient 0 (an all-zero frame), compensated it stays within the products' own rounding; double sums would
     * be soft-float on a Cortex-M4 (about 40 % of the frame's instructions). */
    float acc[QSNN_MFCC_DEVICE_COEFFS] = {0}, comp[QSNN_MFCC_DEVICE_COEFFS] = {0};
    for (int c = 0; c < nch; c++)
        for (int k = 0; k < QSNN_MFCC_DEVICE_COEFFS; k++) {
            const float y = fe->dct[c][k] * mel[c] - comp[k];
            const float t = acc[k] + y;
            comp[k] = (t - acc[k]) - y;
            acc[k] = t;
        }
    for (int k = 0; k < QSNN_MFCC_DEVICE_COEFFS; k++)
        out[k] = acc[k];
}

void qsnn_mfcc_device_frame(qsnn_mfcc_device *fe, float *out, const float *x)
{
    pack_window(fe, x, NULL);
    frame_packed(fe, out);
}

void qsnn_mfcc_device_frame_s16(qsnn_mfcc_device *fe, float *out, const int16_t *pcm)
{
    pack_window(fe, NULL, pcm);
    frame_packed(fe, out);
}

uint32_t qsnn_mfcc_device_hash(const float *frame)
{
    uint32_t h = 2166136261u;
    for (int k = 0; k < QSNN_MFCC_DEVICE_COEFFS; k++) {
        uint32_t bits;
        memcpy(&bits, &frame[k], sizeof bits);
        for (int b = 0; b < 4; b++) {
            h ^= (bits >> (8 * b)) & 0xFFu;
            h *= 16777619u;
        }
    }
    return h;
}

size_t qsnn_mfcc_device_num_frames(size_t n)
{
    return n < QSNN_MFCC_DEVICE_WINDOW ? 0 : 1 + (n - QSNN_MFCC_DEVICE_WINDOW) / QSNN_MFCC_DEVICE_STRIDE;
}

qsnn_status qsnn_mfcc_device_compute(qsnn_mfcc_device *fe, float *out, const float *samples, size_t n)
{
    const size_t frames = qsnn_mfcc_device_num_frames(n);
    if (frames > 0 && (!fe || !out || !samples))
        return qsnn_fail(QSNN_ERR_ARG, "mfcc_device: NULL argument");
    for (size_t t = 0; t < frames; t++)
        qsnn_mfcc_device_frame(fe, out + t * QSNN_MFCC_DEVICE_COEFFS, samples + t * QSNN_MFCC_DEVICE_STRIDE);
    return QSNN_OK;
}

void qsnn_features_to_u8(uint8_t *out, const float *in, size_t n, float min, float max)
{
    float range = max - min;
    if (!(range > 0.0f)) {
        memset(out, 0, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float v = (in[i] - min) * 255.0f / range;
        if (!(v > 0.0f))
            out[i] = 0;
        else if (v >= 255.0f)
            out[i] = 255;
        else
            out[i] = (uint8_t)v; /* C conversion truncates toward zero, as numpy's astype */
    }
}
