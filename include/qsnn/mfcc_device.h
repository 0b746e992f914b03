/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/mfcc_device.h: the keyword-spotting front end that a microcontroller can build: PCM -> TensorFlow's 49x10 MFCC
 * (docs/design.md s1.2-1.7) -> the tutorial's uint8 scaling (s1.9), in C11 with libc only, no allocation.
 *
 * It computes the same features as qsnn_mfcc (qsnn/audio.h, KissFFT and double precision) for the fixed Hello Edge
 * settings (16 kHz, window 640, stride 320, FFT 1024, 40 channels 20-4000 Hz, 10 coefficients), but with its own
 * radix-2 real FFT and everything after it in single precision, so that a Cortex-M4 (single-precision FPU) runs it
 * at full speed. Determinism: it uses only IEEE-754 +, -, *, / and sqrtf, in a fixed order, and computes its tables
 * (window, twiddles, filterbank, DCT) with its own cosine and logarithm; built without floating-point contraction
 * (-ffp-contract=off, and -fno-tree-vectorize: GCC 12's vectoriser emits fused vfmaddsub for complex multiplies
 * even under -ffp-contract=off on x86 with FMA; the build passes both), it gives the same bits on every IEEE
 * target. So a host
 * that runs this code computes exactly the features the device computes (`qsnn export --pcm` writes them as the
 * firmware's reference; examples/mcu compares them in QEMU).
 *
 * Differences from qsnn_mfcc: float rounding only (worst |difference| and uint8 off-by-one counts on real clips:
 * examples/mcu/README.md, bench/bench_mfcc_device.c); qsnn_mfcc's exact-DFT repair of frames with > ~100 dB of
 * spectral dynamic range (docs/design.md s1.8) is not done here. */
#ifndef QSNN_MFCC_DEVICE_H
#define QSNN_MFCC_DEVICE_H

#include "qsnn/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_MFCC_DEVICE_WINDOW 640   /* samples per frame (40 ms at 16 kHz) */
#define QSNN_MFCC_DEVICE_STRIDE 320   /* samples between frame starts (20 ms) */
#define QSNN_MFCC_DEVICE_FFT 1024     /* real FFT length: next power of two >= window */
#define QSNN_MFCC_DEVICE_CHANNELS 40  /* mel channels, 20..4000 Hz */
#define QSNN_MFCC_DEVICE_COEFFS 10    /* MFCC coefficients per frame */
#define QSNN_MFCC_DEVICE_BIN_LO 2     /* first FFT bin the filterbank uses (TF's start index) */
#define QSNN_MFCC_DEVICE_BIN_HI 256   /* last one (TF's end index) */
#define QSNN_MFCC_DEVICE_BINS (QSNN_MFCC_DEVICE_BIN_HI - QSNN_MFCC_DEVICE_BIN_LO + 1)

/* Tables and scratch; fill with qsnn_mfcc_device_init. 15,672 bytes; one object per thread (the scratch is inside).
 * The fields are not an API: read them only through the functions below. */
typedef struct {
    float window[QSNN_MFCC_DEVICE_WINDOW];            /* periodic Hann */
    float tw[QSNN_MFCC_DEVICE_FFT / 2][2];            /* exp(-2 pi i k / 1024): re, im */
    uint16_t bitrev[QSNN_MFCC_DEVICE_FFT / 2];        /* 9-bit reversal for the 512-point complex FFT */
    float weight[QSNN_MFCC_DEVICE_BINS];              /* falling-edge weight of each used bin */
    int8_t band[QSNN_MFCC_DEVICE_BINS];               /* channel of the falling edge, -1..39 */
    float dct[QSNN_MFCC_DEVICE_CHANNELS][QSNN_MFCC_DEVICE_COEFFS];
    float z[QSNN_MFCC_DEVICE_FFT / 2][2];             /* scratch: the complex FFT */
    float mag[QSNN_MFCC_DEVICE_BINS];                 /* scratch: magnitudes of the used bins */
} qsnn_mfcc_device;

/* Fill the tables (deterministic: the same bits on every IEEE target). Cannot fail. */
void qsnn_mfcc_device_init(qsnn_mfcc_device *fe);

/* The unnormalised real FFT of in[1024]: out[513][2] = re, im of X[k] = sum_j in[j] exp(-2 pi i j k / 1024),
 * k = 0..512 (what kiss_fftr computes). Uses fe's scratch. */
void qsnn_mfcc_device_rfft(qsnn_mfcc_device *fe, float (*out)[2], const float *in);

/* One frame: out[10] = the MFCC of x[640] (samples in [-1, 1), as qsnn_audio_read gives them). */
void qsnn_mfcc_device_frame(qsnn_mfcc_device *fe, float *out, const float *x);

/* The same from PCM16: x[j] = pcm[j] / 32768, exactly as docs/design.md s1.1 reads 16-bit audio. */
void qsnn_mfcc_device_frame_s16(qsnn_mfcc_device *fe, float *out, const int16_t *pcm);

/* FNV-1a (32 bits) of the bit patterns of one frame's out[10], little-endian bytes: a compact way to compare the
 * float features of two machines bit for bit (qsnn export --pcm writes them, examples/mcu checks them). */
uint32_t qsnn_mfcc_device_hash(const float *frame);

/* Frames t = 0, 1, ... while a whole window fits (docs/design.md s1.2): out[frames][10], frames =
 * qsnn_mfcc_device_num_frames(n); 16000 samples give 49 frames. NULL buffers with frames > 0: QSNN_ERR_ARG. */
size_t qsnn_mfcc_device_num_frames(size_t n);
qsnn_status qsnn_mfcc_device_compute(qsnn_mfcc_device *fe, float *out, const float *samples, size_t n);

/* The tutorial's uint8 scaling (docs/design.md s1.9): out[i] = clamp(trunc((in[i] - min) * 255 / (max - min)),
 * 0, 255) in float32, left to right; NaN and a degenerate range (max <= min) give 0. */
void qsnn_features_to_u8(uint8_t *out, const float *in, size_t n, float min, float max);

#ifdef __cplusplus
}
#endif

#endif
