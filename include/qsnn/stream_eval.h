/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/stream_eval.h: keyword spotting measured on long recordings, as the field reports it (docs/stream.md):
 * labelled recordings built from a dataset split or read from a WAV + a label file (TensorFlow's streaming test
 * format), every window's scores from the engine, detections (qsnn/detect.h), event scoring with a time
 * tolerance, the DET curve over the threshold range, and the calibration of threshold and averaging span for a
 * false-accept budget.
 *
 * Recordings (qsnn_stream_build, seeded, deterministic):
 *   - the keyword recording: every keyword clip of the split once, in a shuffled order, starting every
 *     U(gap_lo, gap_hi) seconds (3-4 s); in each gap, with probability 1/2, one of the split's unknown-word clips
 *     (drawn with replacement), otherwise only noise;
 *   - the keyword-free recording: the split's unknown-word clips (each pass over them reshuffled) every U(2, 3) s
 *     for at least free_minutes;
 *   - both over a continuous bed of the dataset's background noise (segments of 5-15 s of a random recording at a
 *     random offset, each scaled to the bed's RMS level, 100 ms crossfades), or Gaussian white noise when the
 *     dataset has none; every clip is scaled so that its active speech level (RMS over its 10 ms frames within
 *     30 dB of its loudest) is U(snr_lo, snr_hi) dB above the bed's RMS (a gain limited to keep the peak below 0.99).
 * Events are the keyword clips: label and clip start (the label file's "label,time_ms" lines); a keyword's end is
 * the end of its one-second clip. Unknown words are not events: a detection on one is a false accept.
 *
 * Scoring (qsnn_stream_score): a detection made at time t (qsnn_detection.time_s) can belong to an event whose
 * clip starts at s when s <= t <= s + 1 s + tolerance. Same-label detections are matched first, each event to at
 * most one, in time order: hits (delay = t - (s + 1 s)); every other detection inside the window of an event
 * without a hit makes that event (once) a wrong-label event; all remaining detections, including repeats of a
 * hit, are false accepts. misses = events without a hit (the wrong-label events among them).
 */
#ifndef QSNN_STREAM_EVAL_H
#define QSNN_STREAM_EVAL_H

#include "qsnn/core.h"
#include "qsnn/data.h"
#include "qsnn/detect.h"
#include "qsnn/snn.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[QSNN_LABEL_MAX]; /* the label as written in the label file */
    int label;                 /* class index in the model, -1 when the model does not know it as a keyword */
    double start_s;            /* clip start in the recording */
} qsnn_stream_event;

typedef struct {
    float *audio;          /* [n] 16 kHz mono, malloc'ed */
    size_t n;
    qsnn_stream_event *ev; /* [nev] in time order, malloc'ed */
    size_t nev;
    size_t words;          /* clips placed (keywords and unknown words) */
    double word_end_s;     /* built recordings: mean (clip end - end of the word) of the keyword clips; else 0 */
} qsnn_stream_recording;

typedef struct {
    double snr_lo_db, snr_hi_db; /* 10, 20: speech level over the noise bed */
    double gap_lo_s, gap_hi_s;   /* 3, 4: between keyword starts */
    double free_minutes;         /* 60: length of the keyword-free recording (>= 0.1) */
    double noise_dbfs;           /* -45: RMS of the noise bed */
    uint64_t seed;               /* 1 */
} qsnn_stream_build_opts;

void qsnn_stream_default_build_opts(qsnn_stream_build_opts *o);
/* Build the keyword recording and the keyword-free recording of split s (either may be NULL). The split needs
 * keyword clips (for kw) and unknown-word clips; open the dataset with unknown_pct = 10000 to have all of them.
 * Event labels are the dataset's label names (resolve them against a model with qsnn_stream_resolve). */
qsnn_status qsnn_stream_build(qsnn_stream_recording *kw, qsnn_stream_recording *kwfree, const qsnn_dataset *ds,
                              qsnn_split s, const qsnn_stream_build_opts *o);
void qsnn_stream_recording_free(qsnn_stream_recording *r);
/* Write audio as a 16-bit WAV and, when labels_path is not NULL, the events as "label,time_ms" lines; both
 * atomically. */
qsnn_status qsnn_stream_recording_write(const qsnn_stream_recording *r, const char *wav_path,
                                        const char *labels_path);
/* Read any audio libsndfile reads (resampled to 16 kHz mono) and, when labels_path is not NULL, a label file:
 * "label,time_ms" lines (TensorFlow's format; blank lines and lines starting with '#' are skipped; bad lines are
 * an error naming the file and line; events are sorted by time). */
qsnn_status qsnn_stream_recording_read(qsnn_stream_recording *r, const char *wav_path, const char *labels_path);
/* Set every event's label to the model class of that name when it is a keyword (not starting with '_'), else -1;
 * returns the number of events with a keyword label. */
size_t qsnn_stream_resolve(qsnn_stream_recording *r, const char *const *labels, int num_labels);

/* Every window's class scores: one-second windows every hop_ms through the engine (the incremental MFCC and the
 * energy gate of `qsnn stream`), then softmax(potentials * logit_scale); a window below gate_db dBFS (RMS) is
 * _silence_ with score 1 without running the engine (gate_db <= -200: no gate; no _silence_ label: no gate). */
typedef struct {
    size_t nwin;
    int classes, hop_ms;
    float *scores;     /* [nwin][classes], malloc'ed */
    size_t gated;      /* windows the gate decided */
    double audio_s;    /* seconds of audio */
    double front_s;    /* wall time in the MFCC and the uint8 scaling */
    double engine_s;   /* wall time in the engine */
    double decide_s;   /* wall time in softmax (qsnn_stream_detect adds the detector's) */
} qsnn_stream_windows;

qsnn_status qsnn_stream_run(qsnn_stream_windows *w, const qsnn_snn_model *m, float logit_scale, const float *audio,
                            size_t n, int hop_ms, double gate_db);
void qsnn_stream_windows_free(qsnn_stream_windows *w);

/* The detections of the scores w with parameters p (p->hop_ms must equal w->hop_ms) and the keyword mask
 * is_keyword[classes]; *det malloc'ed (free()). *seconds (may be NULL) receives the detector's wall time. */
qsnn_status qsnn_stream_detect(const qsnn_stream_windows *w, const qsnn_detect_params *p, const uint8_t *is_keyword,
                               qsnn_detection **det, size_t *ndet, double *seconds);

/* The earlier decision for comparison: the library spotter's runs of `smooth` windows (qsnn/kws.h,
 * QSNN_KWS_RUNS) over audio[n]; each detection's time_s is when the run reached `smooth` windows (the end of that
 * window), start_s the run's first window. *det malloc'ed (free()). */
qsnn_status qsnn_stream_detect_runs(const qsnn_snn_model *m, const float *audio, size_t n, int hop_ms, double gate_db,
                                    int smooth, qsnn_detection **det, size_t *ndet);

typedef struct {
    size_t keywords;      /* events with a keyword label */
    size_t hits, misses;  /* hits + misses = keywords */
    size_t wrong;         /* misses with a detection of another keyword in their window */
    size_t false_accepts;
    double delay_sum_s;   /* over the hits: detection time - clip end */
    double hours;         /* audio duration */
} qsnn_stream_score;

/* Score detections det[ndet] (time order) against r's events (resolved) with tolerance_s (>= 0). */
qsnn_status qsnn_stream_score_events(qsnn_stream_score *out, const qsnn_stream_recording *r,
                                     const qsnn_detection *det, size_t ndet, double tolerance_s);
double qsnn_stream_miss_rate(const qsnn_stream_score *s);     /* misses / keywords (0 without keywords) */
double qsnn_stream_fa_per_hour(const qsnn_stream_score *s);   /* false accepts / hours */
double qsnn_stream_mean_delay(const qsnn_stream_score *s);    /* seconds, 0 without hits */

/* One point of a DET curve: the keyword recording's score and the keyword-free recording's at one setting. */
typedef struct {
    float threshold;
    int average_ms;
    qsnn_stream_score kw, kwfree;
} qsnn_det_point;

/* Sweep the thresholds th[nth] at each averaging span spans[nspan] (other parameters from base) over the two
 * recordings' scores (kwfree may be NULL): out[nspan * nth], span-major. */
qsnn_status qsnn_stream_det(qsnn_det_point *out, const qsnn_detect_params *base, const int *spans, int nspan,
                            const float *th, int nth, const qsnn_stream_recording *kw,
                            const qsnn_stream_windows *kw_w, const qsnn_stream_recording *kwfree,
                            const qsnn_stream_windows *kwfree_w, const uint8_t *is_keyword, double tolerance_s);
/* Calibration: among pts[n], those whose keyword-free false accepts per hour are <= budget, the fewest misses on
 * the keyword recording (ties: fewer keyword-free false accepts, then fewer on the keyword recording, then the
 * higher threshold). Returns the index, or -1 when no point meets the budget. */
int qsnn_stream_calibrate(const qsnn_det_point *pts, size_t n, double fa_per_hour_budget);

/* The DET curve (miss rate against false accepts per hour on the keyword-free recording, log x axis), one line
 * per averaging span, the chosen point (may be < 0 for none) marked; PNG or SVG by the path's extension. */
qsnn_status qsnn_stream_det_plot(const qsnn_det_point *pts, const int *spans, int nspan, int nth, int chosen,
                                 double budget, const char *title, const char *path);

#ifdef __cplusplus
}
#endif
#endif
