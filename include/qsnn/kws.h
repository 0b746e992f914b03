/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/kws.h: the keyword pipeline as a library: audio in, the model's uint8 input, the integer engine, keywords
 * out. What `qsnn stream` and `qsnn export --input` run, for anyone who embeds qsnn on a host.
 *
 * Features of one clip: the first second of the audio (cropped or zero-padded to QSNN_CLIP_SAMPLES), TensorFlow's
 * 49x10 MFCC (qsnn/audio.h defaults: the features the models are trained on), scaled to uint8 with the model's
 * recorded training range, (x - scale_min) * 255 / (scale_max - scale_min) (qsnn_features_to_u8).
 *
 * Spotter: a one-second window every hop_ms milliseconds through the engine (a cached context); each window's
 * potentials become class scores, softmax(potentials * logit_scale) (the converter's scale, stored in the .snn's
 * metadata block). Two decision rules for a keyword (a label not starting with '_'):
 *   QSNN_KWS_SCORES (the default): the score detector of qsnn/detect.h: scores averaged over a span, a threshold,
 *     re-arming and a per-keyword suppression; qsnn_kws_model_opts takes the model's calibrated parameters
 *     (`qsnn eval-stream --calibrate`), or qsnn's defaults; each detection carries its averaged score, the time it
 *     was made and the likely span of the word (docs/stream.md);
 *   QSNN_KWS_RUNS (the earlier rule, and the fallback for a model without a logit scale): `smooth` consecutive
 *     windows predict it; it is reported once, at the start of the first of those windows, and not again until
 *     the run of predictions is broken.
 *   Windows: samples are fed in pieces of any size (a file at once, a microphone 10 ms at a time); a window
 *   starts every hop once a second is buffered, so the windows of a stream are those of a file holding the same
 *   samples; at the end of the input no partial window is made, except that input shorter than one second gives
 *   one zero-padded window (qsnn_kws_spotter_finish).
 *   Energy gate: a window whose RMS level is below gate_db dBFS is predicted `_silence_` without running the model
 *   (when the model has that label). The models never see digital silence in training (the pipeline's silence is
 *   background noise at a random volume, docs/design.md s2.5), and the log-mel floor of an all-zero window is far
 *   from anything they were trained on: the shipped model calls it _unknown_ (the one before it: "go"). The
 *   default, -80 dBFS, is below every real recording of the development data (the quietest of the 4,120 clips of
 *   speech_commands_subset is -74.3 dBFS, the quietest test `_silence_` clip -66.0), so it only catches digital
 *   silence and near-silence.
 *   Incremental MFCC: when the hop is a whole number of MFCC strides (20 ms; the default 100 ms is 5), a window
 *   keeps the previous window's frames that it shares (every frame depends only on its own 640 samples: the same
 *   numbers) and computes only the new ones, 5 instead of 49 at the default hop.
 *
 * Memory: the spotter allocates once, at creation (engine workspace, MFCC plan, one window of samples and
 * features); feeding allocates only to grow the list of detections. Not thread-safe: one spotter per thread.
 */
#ifndef QSNN_KWS_H
#define QSNN_KWS_H

#include "qsnn/core.h"
#include "qsnn/detect.h"
#include "qsnn/snn.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one clip ---- */

/* The model's input from one second of audio: out[in_h * in_w * in_c] from clip[QSNN_CLIP_SAMPLES] (float samples
 * in [-1, 1), 16 kHz). QSNN_ERR_SHAPE when the model's input is not a one-second MFCC. */
qsnn_status qsnn_kws_clip_u8(uint8_t *out, const qsnn_snn_model *m, const float *clip);
/* The same from an audio file (any format qsnn_audio_read takes): its first second, cropped or zero-padded. */
qsnn_status qsnn_kws_file_u8(uint8_t *out, const qsnn_snn_model *m, const char *path);

/* ---- the streaming spotter ---- */

typedef enum { QSNN_KWS_SCORES = 0, QSNN_KWS_RUNS = 1 } qsnn_kws_decision;

/* The MFCC the spotter computes: the host's (qsnn_mfcc of qsnn/audio.h: KissFFT, double precision; what the models
 * are trained on) or the device's (qsnn_mfcc_device of qsnn/mfcc_device.h: float32, libc only, what examples/mcu
 * computes on a Cortex-M4, the same bits on every IEEE target). They differ by float rounding only, but a uint8
 * feature off by one can change a window's class; with the device front end a host spotter reproduces the
 * firmware's windows, scores and detections exactly. */
typedef enum { QSNN_KWS_FRONTEND_HOST = 0, QSNN_KWS_FRONTEND_DEVICE = 1 } qsnn_kws_frontend;

typedef struct {
    int hop_ms;     /* window step, 10..1000 (default 100) */
    int smooth;     /* QSNN_KWS_RUNS: consecutive windows a detection needs, 1..100 (default 3) */
    int gate;       /* 1: energy gate on (default; needs a _silence_ label in the model), 0: off */
    double gate_db; /* the gate's level in dBFS (RMS over the window), -200..0 (default -80) */
    int decision;   /* qsnn_kws_decision (default QSNN_KWS_SCORES) */
    qsnn_detect_params detect; /* QSNN_KWS_SCORES: threshold, average_ms, suppress_ms (hop_ms: the spotter's) */
    float logit_scale;         /* softmax scale of the potentials; 0: the model's (its metadata block), if any */
    int frontend;              /* qsnn_kws_frontend (default QSNN_KWS_FRONTEND_HOST) */
} qsnn_kws_opts;

/* qsnn's defaults: scores with QSNN_DETECT_DEFAULT_* and the model's logit scale (the spotter refuses the score
 * decision for a model without one). */
void qsnn_kws_default_opts(qsnn_kws_opts *o);
/* The defaults for model m: its metadata block's logit scale and calibrated detector parameters when it has them
 * (*calibrated, may be NULL, is set to 1 then); a model without a logit scale (converted before the block
 * existed) gets QSNN_KWS_RUNS. */
void qsnn_kws_model_opts(qsnn_kws_opts *o, const qsnn_snn_model *m, int *calibrated);

typedef struct {
    double time_s;     /* where the word starts: RUNS, the first window of the run; SCORES, the detection's start_s */
    int32_t label;     /* class index (a keyword: its label does not start with '_') */
    int windows;       /* RUNS: windows in the run so far (>= smooth; grows while the run goes on); SCORES: 0 */
    float score;       /* SCORES: the averaged score that passed the threshold; RUNS: the window's score (or 0) */
    double end_s;      /* SCORES: end of the likely span of the word; RUNS: end of the run's first window */
    double detected_s; /* when it was decided: the end of the window that completed it */
} qsnn_kws_detection;

/* What one window gave, passed to the callback as soon as the window is done. */
typedef struct {
    size_t index;    /* window number; the window starts at index * hop samples */
    double time_s;   /* its start, seconds */
    int32_t label;   /* its predicted class */
    int gated;       /* 1: below the energy gate, predicted _silence_ without the model */
    long detection;  /* index of the detection this window completed, or -1 */
    const float *scores; /* [num_classes] the window's class scores (a gated window: 1 for _silence_), or NULL
                          * without a logit scale; valid during the callback */
} qsnn_kws_window;

typedef void (*qsnn_kws_window_cb)(void *user, const qsnn_kws_window *w);

typedef struct qsnn_kws_spotter qsnn_kws_spotter;

/* A spotter over model m (not copied: it must outlive the spotter); o NULL: qsnn_kws_model_opts. cb (may be NULL)
 * is called for every window, from inside qsnn_kws_spotter_feed / _finish. Errors: QSNN_ERR_ARG (an option out of
 * range, the score decision without a logit scale), QSNN_ERR_SHAPE (the model's input is not a one-second MFCC),
 * QSNN_ERR_NOMEM. */
qsnn_status qsnn_kws_spotter_create(qsnn_kws_spotter **out, const qsnn_snn_model *m, const qsnn_kws_opts *o,
                                    qsnn_kws_window_cb cb, void *user);
void qsnn_kws_spotter_free(qsnn_kws_spotter *s);
/* Feed n samples (16 kHz mono float in [-1, 1)); runs every window they complete. */
qsnn_status qsnn_kws_spotter_feed(qsnn_kws_spotter *s, const float *x, size_t n);
/* End of input: when less than one second was fed, the one zero-padded window. Feeding after it is an error. */
qsnn_status qsnn_kws_spotter_finish(qsnn_kws_spotter *s);

/* The detections so far (*out valid until the next feed): returns their number. */
size_t qsnn_kws_spotter_detections(const qsnn_kws_spotter *s, const qsnn_kws_detection **out);

typedef struct {
    size_t windows;       /* windows run so far */
    size_t gated_windows; /* of which decided by the energy gate */
    size_t samples;       /* samples fed */
    size_t hop;           /* samples between windows */
    int gate_active;      /* the gate is on and the model has a _silence_ label */
    double front_s, engine_s, decide_s; /* wall time in the MFCC and scaling, the engine, scores and decisions */
} qsnn_kws_summary;

void qsnn_kws_spotter_summary(const qsnn_kws_spotter *s, qsnn_kws_summary *out);

#ifdef __cplusplus
}
#endif
#endif
