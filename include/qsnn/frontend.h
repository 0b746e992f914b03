/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/frontend.h: front ends as data: the features a model expects, computed from a clip's samples.
 *
 * A model records its front end (the "features" object of its architecture JSON, docs/frontends.md) so that
 * `qsnn eval`, `qsnn features`, `qsnn mfcc --frontend` and a distilling trainer compute the features it was
 * trained on. Two front ends:
 *   QSNN_FRONTEND_TF_AUDIO_OPS  TensorFlow's AudioSpectrogram + Mfcc ops (the Akida tutorial's; qsnn_mfcc of
 *                               qsnn/audio.h): |X|^2, mel on the magnitude, ln(max(x, 1e-12)), DCT. Default.
 *   QSNN_FRONTEND_TF_SIGNAL     tf.signal as the MLPerf Tiny KWS training scripts use it: samples divided by
 *                               the clip's signed peak (its largest sample value, not magnitude), stft with a
 *                               periodic Hann window zero-padded to fft_size, magnitude |X|,
 *                               linear_to_mel_weight_matrix (HTK mel 1127 ln(1 + f/700), num_bands + 2 edges
 *                               equally spaced in mel, triangles on the bins' mel values, not area-normalised,
 *                               DC weight 0), ln(mel + log_offset), DCT-II scaled sqrt(2 / num_bands) for every
 *                               coefficient (mfccs_from_log_mel_spectrograms).
 * Both take samples as float in [-1, 1) (qsnn_audio_read), 16 kHz, one clip of clip_samples (cropped or
 * zero-padded), and give frames x coefficients, frame-major (NHWC with H = frames, W = coefficients, C = 1).
 *
 * What the model's input tensor holds is a separate choice (`input`):
 *   QSNN_INPUT_U8     the tutorial's uint8 scaling with the model's training range (scale_min, scale_max), the
 *                     network seeing u8 / 255 (models qsnn trains; default);
 *   QSNN_INPUT_FLOAT  the features themselves (imported TFLite models).
 */
#ifndef QSNN_FRONTEND_H
#define QSNN_FRONTEND_H

#include "qsnn/core.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { QSNN_FRONTEND_TF_AUDIO_OPS = 0, QSNN_FRONTEND_TF_SIGNAL = 1 } qsnn_frontend_kind;
typedef enum { QSNN_INPUT_U8 = 0, QSNN_INPUT_FLOAT = 1 } qsnn_input_kind;

typedef struct {
    qsnn_frontend_kind kind;
    int sample_rate;   /* 16000 (the only rate; input is resampled to it) */
    int clip_samples;  /* 16000: one second, cropped or zero-padded */
    int window;        /* samples per frame: tf-audio-ops 640, tf-signal 480 */
    int stride;        /* samples between frames: 320 */
    int fft_size;      /* tf-signal: 512 (>= window, a power of two); tf-audio-ops: 0 (next power of two) */
    int num_bands;     /* mel bands: 40 */
    int num_coeffs;    /* DCT coefficients kept: 10 */
    double lower_hz;   /* 20 */
    double upper_hz;   /* 4000 */
    double log_offset; /* tf-signal: 1e-6 added before the log (tf-audio-ops clamps at 1e-12 instead) */
    int peak_normalize;/* tf-signal: 1 = divide by the signed peak (MLPerf), 0 = samples as they are */
    qsnn_input_kind input;
} qsnn_frontend_params;

/* Defaults of a front end (the values above); input = QSNN_INPUT_U8 for tf-audio-ops, FLOAT for tf-signal. */
void qsnn_frontend_defaults(qsnn_frontend_params *p, qsnn_frontend_kind kind);
/* "tf-audio-ops" / "tf-signal" <-> kind. Parse fails with QSNN_ERR_ARG naming the known front ends. */
const char *qsnn_frontend_name(qsnn_frontend_kind kind);
qsnn_status qsnn_frontend_parse(const char *name, qsnn_frontend_kind *out);
/* Ranges: window 16..65536, stride 1..window... (messages name the field). */
qsnn_status qsnn_frontend_validate(const qsnn_frontend_params *p);
/* Whether two parameter sets give the same features (input kind ignored). */
int qsnn_frontend_same(const qsnn_frontend_params *a, const qsnn_frontend_params *b);
/* Frames of one clip: 1 + (clip_samples - window) / stride (49 for both defaults). */
int qsnn_frontend_num_frames(const qsnn_frontend_params *p);

/* JSON (cJSON objects; the "features" object of an architecture): every field written; when reading, absent
 * fields take the defaults of the named front end ("frontend" first) and unknown fields are errors
 * "<origin>: features: unknown field 'x'". */
struct cJSON;
qsnn_status qsnn_frontend_to_json(const qsnn_frontend_params *p, struct cJSON *obj);
qsnn_status qsnn_frontend_from_json(qsnn_frontend_params *p, const struct cJSON *obj, const char *origin);

/* A front end's precomputed tables and scratch. Opaque, one object per thread; compute never allocates. */
typedef struct qsnn_frontend qsnn_frontend;
qsnn_status qsnn_frontend_create(qsnn_frontend **out, const qsnn_frontend_params *p);
void qsnn_frontend_destroy(qsnn_frontend *f);
const qsnn_frontend_params *qsnn_frontend_params_of(const qsnn_frontend *f);
/* Features of one clip: samples[n] (float, [-1, 1)), cropped or zero-padded to clip_samples, into
 * out[num_frames * num_coeffs]. A clip of zeros under peak normalisation is left unscaled (its features are
 * then ln(log_offset) terms: TensorFlow would divide by 0). */
qsnn_status qsnn_frontend_compute(qsnn_frontend *f, float *out, const float *samples, size_t n);

#ifdef __cplusplus
}
#endif
#endif
