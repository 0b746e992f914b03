/* SPDX-License-Identifier: Apache-2.0 */
/* noise.c: coloured background noise for the synthetic dataset's _background_noise_ folder.
 *
 * White: Gaussian. Pink: Paul Kellett's refined 7-pole filter of white noise (-3 dB/octave within 0.05 dB from
 * 9 Hz up at 44.1 kHz; near enough at 16 kHz). Brown: leaky integrator y = 0.995 y + w (-6 dB/octave above ~13 Hz),
 * DC removed. The filters run 8192 samples before the first output so that no start-up transient is kept.
 * Output: RMS `rms`, then the rare samples beyond +-0.99 are clipped there (as in the released white_noise.wav and
 * pink_noise.wav: RMS 0.33, peak 1.0). Deterministic per seed. */
#include "synth/synth_internal.h"

#include <math.h>
#include <stdlib.h>

qsnn_status qsnn_noise_generate(float *out, size_t n, qsnn_noise_color color, double rms, uint64_t seed)
{
    if (!out && n)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_noise_generate: NULL output");
    if (!(rms > 0.0 && rms < 1.0))
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_noise_generate: rms %g outside (0, 1)", rms);
    if (color != QSNN_NOISE_WHITE && color != QSNN_NOISE_PINK && color != QSNN_NOISE_BROWN)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_noise_generate: unknown colour %d", (int)color);
    if (n == 0)
        return QSNN_OK;
    double *y = malloc(n * sizeof *y);
    if (!y)
        return qsnn_fail(QSNN_ERR_NOMEM, "noise: %zu samples", n);
    qsnn_rng r;
    qsnn_rng_seed_stream(&r, seed, 0x6e6f697365ULL + (uint64_t)color);
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, br = 0;
    const size_t warm = 8192;
    for (size_t i = 0; i < n + warm; i++) {
        double w = qsnn_rng_normal(&r), v;
        switch (color) {
        case QSNN_NOISE_PINK:
            b0 = 0.99886 * b0 + w * 0.0555179;
            b1 = 0.99332 * b1 + w * 0.0750759;
            b2 = 0.96900 * b2 + w * 0.1538520;
            b3 = 0.86650 * b3 + w * 0.3104856;
            b4 = 0.55000 * b4 + w * 0.5329522;
            b5 = -0.7616 * b5 - w * 0.0168980;
            v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
            b6 = w * 0.115926;
            break;
        case QSNN_NOISE_BROWN:
            br = 0.995 * br + w;
            v = br;
            break;
        default:
            v = w;
            break;
        }
        if (i >= warm)
            y[i - warm] = v;
    }
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        y[i] -= mean;
        ss += y[i] * y[i];
    }
    double cur = sqrt(ss / (double)n);
    double g = cur > 0.0 ? rms / cur : 0.0;
    for (size_t i = 0; i < n; i++)
        out[i] = (float)fmax(-0.99, fmin(0.99, y[i] * g));
    free(y);
    return QSNN_OK;
}
