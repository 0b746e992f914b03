/* SPDX-License-Identifier: Apache-2.0 */
/* fft_internal.h (private to src/audio): the one FFT interface of the front ends (mfcc.c, tf_signal.c), with its
 * backend chosen at build time (cmake/fft.cmake): KissFFT by default (BSD-3-Clause), FFTW with -DQSNN_FFTW=ON
 * (single precision, GPL-2.0-or-later: a binary built with it is under the GPL, see NOTICE). Both are single
 * precision, so the two backends' results differ by float rounding only; the exact double-precision DFT of a few
 * bins below is what callers use where that rounding would matter (frames with > ~100 dB of spectral range).
 *
 * A plan is a forward real FFT of one even length n >= 2 that owns its buffers: the caller writes the n real
 * inputs into qsnn_fft_in() (keeping zeros where a frame is zero-padded: the transform does not change them),
 * runs qsnn_fft_forward() and reads bins lo..hi of qsnn_fft_out() (n / 2 + 1 complex values; other bins are
 * unspecified). Unnormalised: X[k] = sum_j x[j] e^(-2 pi i j k / n). With KissFFT and n a power of two >= 8
 * (unless `plain`) only bins lo..hi are computed, from two complex transforms of n / 4 and one radix-4 step at
 * those bins (cheaper than kiss_fftr, whose post-processing computes every bin); `plain` asks for kiss_fftr (the
 * tests' reference).
 * FFTW computes the whole real transform either way (FFTW_ESTIMATE: the same plan, so the same bits, every run).
 * Plans are created and destroyed under a lock where the backend needs it (FFTW's planner); forward transforms of
 * different plans may run in parallel. One plan per thread. */
#ifndef QSNN_AUDIO_FFT_INTERNAL_H
#define QSNN_AUDIO_FFT_INTERNAL_H

#include "qsnn/core.h"

typedef struct {
    float r, i;
} qsnn_fft_cpx; /* the layout of kiss_fft_cpx (float build) and fftwf_complex */

typedef struct qsnn_dft_tab qsnn_dft_tab;

typedef struct {
    int n;      /* transform length, even, >= 2 */
    int lo, hi; /* the bins the caller reads, 0 <= lo <= hi <= n / 2 */
    int plain;  /* KissFFT: kiss_fftr for every bin (no quarter-length split); FFTW: no effect */
    const qsnn_dft_tab *tab; /* NULL, or the caller's table of n (below), which the split's twiddles then come from
                              * instead of a table of its own (the same values: creation only gets cheaper) */
} qsnn_fft_cfg;

typedef struct qsnn_fft qsnn_fft;

qsnn_status qsnn_fft_create(qsnn_fft **out, const qsnn_fft_cfg *cfg);
void qsnn_fft_destroy(qsnn_fft *f);
float *qsnn_fft_in(qsnn_fft *f);                 /* [n], zero after create */
const qsnn_fft_cpx *qsnn_fft_out(const qsnn_fft *f); /* [n / 2 + 1] */
void qsnn_fft_forward(qsnn_fft *f);
/* The same transform, giving power[k - lo] = |X_k|^2 (float: r * r + i * i) for k = lo..hi instead of the complex
 * bins (qsnn_fft_out is then unspecified): the KissFFT split writes them straight from its radix-4 step. */
void qsnn_fft_forward_power(qsnn_fft *f, float *power);
/* "kissfft" or "fftw3f" */
const char *qsnn_fft_backend(void);

/* Exact bins in double precision (the same for every backend). The table holds cos and sin of 2 pi j / n for a
 * power of two n (qsnn_dft_bins needs one), built from the first quadrant by symmetry (exact zeros and signs). */
struct qsnn_dft_tab {
    int n;
    double *cos_tab, *sin_tab; /* [n] each */
};

qsnn_status qsnn_dft_tab_init(qsnn_dft_tab *t, int n);
void qsnn_dft_tab_free(qsnn_dft_tab *t);
/* re[b] + i im[b] = sum_{j < len} x[j] e^(-2 pi i j k[b] / n) for the nb bins k[b] (len <= n), by a phasor per bin
 * advanced by its twiddle each sample and re-seeded from the exact table every 64 samples (drift ~1e-14).
 * scratch: [4 nb]. */
void qsnn_dft_bins(double *re, double *im, const double *x, int len, const int *k, int nb, const qsnn_dft_tab *t,
                   double *scratch);

#endif
