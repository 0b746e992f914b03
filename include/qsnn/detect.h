/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/detect.h: keyword decisions on a stream of windows: class scores from the engine's potentials, averaged
 * over a time span, a threshold, and a per-keyword suppression time (TFLM micro_speech's RecognizeCommands idea,
 * with scores and times on every detection). Pure code (libc + libm), caller memory, no allocation: it runs on a
 * device as it does on the host.
 *
 * Per window w (window w covers [w * hop_ms, w * hop_ms + window_ms) of the stream):
 *   1. scores = softmax(potentials * logit_scale) (qsnn_detect_scores; logit_scale is the converter's, stored in
 *      the .snn metadata: the float model's logits are potentials * logit_scale);
 *   2. the average of each class's score over the last n = max(1, round(average_ms / hop_ms)) windows (windows
 *      before the first count as 0, so nothing fires on a half-filled span);
 *   3. the keyword (a class whose mask entry is 1) with the highest average is detected when that average is
 *      >= threshold, the keyword is armed, and at least suppress_ms have passed since its last detection;
 *      a detection disarms its keyword until the keyword's average falls below the threshold again (one
 *      detection per crossing, however long the word is held).
 * A detection carries the averaged score, the time it was made (end of window w) and the span where the word
 * most likely is: the intersection of the windows of the averaging span whose own score for the keyword is
 * >= threshold (all n windows when none is). */
#ifndef QSNN_DETECT_H
#define QSNN_DETECT_H

#include "qsnn/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_DETECT_MAX_CLASSES 64
#define QSNN_DETECT_MAX_SPAN 200 /* windows in the averaging span */

/* Defaults for a model that was not calibrated, measured with `qsnn eval-stream` on the validation split of the
 * development data with the shipped model (docs/stream.md): the fewest misses at <= 10 false accepts per hour on
 * the keyword-free recording over the sweep (0.95 / 300 ms: 67.8 % missed, 9 per hour); the suppression takes the
 * repeats out of the keyword recording (there 9.25 false accepts per hour with it, 32.4 without). */
#define QSNN_DETECT_DEFAULT_THRESHOLD 0.95f
#define QSNN_DETECT_DEFAULT_AVERAGE_MS 300
#define QSNN_DETECT_DEFAULT_SUPPRESS_MS 1500

typedef struct {
    float threshold; /* averaged score needed, (0, 1] */
    int average_ms;  /* averaging span, >= hop_ms (one window) .. QSNN_DETECT_MAX_SPAN windows */
    int suppress_ms; /* a keyword is not reported again within this time of its last detection, >= 0 */
    int hop_ms;      /* the spotter's window step, 1..10000 */
    int window_ms;   /* window length, 1000 for the one-second KWS windows */
} qsnn_detect_params;

typedef struct {
    int label;      /* class index */
    float score;    /* averaged score when detected, [0, 1] */
    double time_s;  /* when detected: end of the window that triggered it */
    double start_s; /* likely span of the word (see above) */
    double end_s;
    int64_t window; /* index of the triggering window */
} qsnn_detection;

typedef struct qsnn_detector qsnn_detector;

void qsnn_detect_default_params(qsnn_detect_params *p);
/* Checks p (ranges above); QSNN_ERR_ARG naming the field otherwise. */
qsnn_status qsnn_detect_check_params(const qsnn_detect_params *p);

/* Softmax of potentials[n] * logit_scale into scores[n] (max subtracted first: no overflow). n >= 1. */
void qsnn_detect_scores(float *scores, const int32_t *potentials, int n, float logit_scale);

/* Bytes of caller memory for a detector of num_classes classes with parameters p (0 if p is invalid). */
size_t qsnn_detect_mem_size(const qsnn_detect_params *p, int num_classes);
/* Place a detector in mem[size]. is_keyword[num_classes]: 1 for the classes that can be detected (copied).
 * Errors: QSNN_ERR_ARG (parameters, num_classes outside 1..QSNN_DETECT_MAX_CLASSES, memory too small). */
qsnn_status qsnn_detect_init(qsnn_detector **d, const qsnn_detect_params *p, int num_classes,
                             const uint8_t *is_keyword, void *mem, size_t size);
/* Back to the state after init (window 0, nothing detected). */
void qsnn_detect_reset(qsnn_detector *d);
/* Feed the next window's scores[num_classes]; returns 1 and fills *out on a detection, else 0. */
int qsnn_detect_feed(qsnn_detector *d, const float *scores, qsnn_detection *out);
/* The current averaged scores (after the last feed) into avg[num_classes]. */
void qsnn_detect_average(const qsnn_detector *d, float *avg);

#ifdef __cplusplus
}
#endif
#endif
