/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/audio.h: audio input/output and TensorFlow's MFCC.
 *
 * Input is read through libsndfile (WAV, FLAC, OGG...). Samples are float in [-1, 1): PCM16 is scaled by 1/32768
 * exactly as TensorFlow's DecodeWav; other sample formats are converted by libsndfile; multi-channel audio is
 * mixed down by averaging; other sample rates are resampled to 16 kHz with libsamplerate (a notice is logged).
 *
 * MFCC: TensorFlow's AudioSpectrogram + Mfcc ops (docs/design.md s1): periodic Hann window, FFT to the next
 * power of two, |X|^2, mel filterbank on the magnitude, ln(max(x, 1e-12)), DCT-II scaled sqrt(2/channels).
 * Defaults: 16 kHz, window 640, stride 320, 40 channels from 20 to 4000 Hz, 10 coefficients -> 49 x 10 for one
 * second. Output is frame-major (row = frame), i.e. NHWC with H = frames, W = coefficients, C = 1.
 */
#ifndef QSNN_AUDIO_H
#define QSNN_AUDIO_H

#include "qsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_SAMPLE_RATE 16000
#define QSNN_CLIP_SAMPLES 16000

/* Read a whole file as 16 kHz mono float. *samples is malloc'ed (caller frees); *n is its length.
 * *orig_rate (may be NULL) receives the file's own sample rate. Errors name the file and the reason (missing,
 * empty, truncated, not audio, zero channels...). */
qsnn_status qsnn_audio_read(const char *path, float **samples, size_t *n, int *orig_rate);

/* qsnn_audio_read of at most the first max_samples samples (at 16 kHz), decoding only what they need: a file
 * that declares hours costs a one-second reader one second of decoding. */
qsnn_status qsnn_audio_read_first(const char *path, size_t max_samples, float **samples, size_t *n, int *orig_rate);

/* Read a file and crop or zero-pad it to exactly `want` samples (TF's desired_samples) into out[want]; decodes
 * only the frames those samples need. */
qsnn_status qsnn_audio_read_clip(const char *path, float *out, size_t want);

/* An audio file as a stream of 16 kHz mono float samples in bounded memory (one block of decoding and the
 * resampler's state): the same samples as qsnn_audio_read, in pieces. Float samples that are not finite or
 * beyond +-1000 are refused naming the file and the frame. */
typedef struct qsnn_audio_stream qsnn_audio_stream;
qsnn_status qsnn_audio_stream_open(qsnn_audio_stream **s, const char *path, int *orig_rate);
/* Samples the whole file gives at 16 kHz (round(frames * 16000 / rate)). */
size_t qsnn_audio_stream_length(const qsnn_audio_stream *s);
/* The next min(want, what is left) samples into x; *got < want only at the end of the file. */
qsnn_status qsnn_audio_stream_read(qsnn_audio_stream *s, float *x, size_t want, size_t *got);
void qsnn_audio_stream_close(qsnn_audio_stream *s);

/* Write mono float samples as 16-bit PCM WAV at `rate`, atomically. Values are clipped to [-1, 1) and
 * scaled by 32768 with rounding (the inverse of DecodeWav). */
qsnn_status qsnn_audio_write_wav16(const char *path, const float *x, size_t n, int rate);

/* Resampling (libsamplerate's sinc converters): out[*out_n] (malloc'ed, caller frees) from x[n], at `ratio` =
 * output rate / input rate (libsamplerate takes 1/256..256). want > 0: exactly `want` samples (zero-filled past
 * what the converter made); want = 0: as many as it made (ratio 1 then copies). qsnn_audio_read uses MEDIUM to
 * 16 kHz; the synthetic speech generator FASTEST (97 dB SNR, flat far above the MFCC's 4 kHz). */
typedef enum { QSNN_RESAMPLE_FASTEST = 0, QSNN_RESAMPLE_MEDIUM = 1 } qsnn_resample_quality;
qsnn_status qsnn_audio_resample(const float *x, size_t n, double ratio, qsnn_resample_quality q, size_t want,
                                float **out, size_t *out_n);

typedef struct {
    int sample_rate;     /* 16000 */
    int window;          /* samples per frame, 640 */
    int stride;          /* samples between frames, 320 */
    int num_channels;    /* mel channels, 40 */
    int num_coeffs;      /* DCT coefficients kept, 10 */
    double lower_hz;     /* 20 */
    double upper_hz;     /* 4000 */
} qsnn_mfcc_params;

void qsnn_mfcc_default_params(qsnn_mfcc_params *p);

/* Opaque: Hann window, mel weights, DCT table, FFT plan and scratch. One object per thread. */
typedef struct qsnn_mfcc qsnn_mfcc;

qsnn_status qsnn_mfcc_create(qsnn_mfcc **out, const qsnn_mfcc_params *p);
void qsnn_mfcc_destroy(qsnn_mfcc *m);
/* 1 + (n - window) / stride, or 0 when n < window. */
int qsnn_mfcc_num_frames(const qsnn_mfcc *m, size_t num_samples);
int qsnn_mfcc_num_coeffs(const qsnn_mfcc *m);
/* out[num_frames * num_coeffs], frame-major. */
qsnn_status qsnn_mfcc_compute(qsnn_mfcc *m, float *out, const float *samples, size_t n);

#ifdef __cplusplus
}
#endif
#endif
