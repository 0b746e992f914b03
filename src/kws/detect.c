/* SPDX-License-Identifier: Apache-2.0 */
/* detect.c: keyword decisions from per-window class scores (qsnn/detect.h): softmax, a ring of the last n
 * windows' scores, the average, a threshold, arming and a per-keyword suppression time.
 *
 * Invariants: the ring holds the last min(fed, n) windows' scores, the slots of windows not yet fed are zero (so
 * the average divides by n from the start); last[k] is the window of keyword k's last detection (or "never").
 * Everything lives in the caller's memory block: the struct, then ring[n][C], then the mask.
 */
#include "qsnn/detect.h"

#include <math.h>
#include <string.h>

struct qsnn_detector {
    qsnn_detect_params p;
    int classes, span, suppress_w; /* span: windows averaged; suppress_w: windows of suppression */
    int64_t fed;                   /* windows fed so far */
    float *ring;                   /* [span][classes], slot fed % span is the oldest */
    uint8_t *is_kw, *armed;
    int64_t last[QSNN_DETECT_MAX_CLASSES];
};

#define NEVER INT64_MIN

void qsnn_detect_default_params(qsnn_detect_params *p)
{
    p->threshold = QSNN_DETECT_DEFAULT_THRESHOLD;
    p->average_ms = QSNN_DETECT_DEFAULT_AVERAGE_MS;
    p->suppress_ms = QSNN_DETECT_DEFAULT_SUPPRESS_MS;
    p->hop_ms = 100;
    p->window_ms = 1000;
}

qsnn_status qsnn_detect_check_params(const qsnn_detect_params *p)
{
    if (!(p->threshold > 0.0f && p->threshold <= 1.0f))
        return qsnn_fail(QSNN_ERR_ARG, "detector: threshold %g not in (0, 1]", (double)p->threshold);
    if (p->hop_ms < 1 || p->hop_ms > 10000)
        return qsnn_fail(QSNN_ERR_ARG, "detector: hop %d ms not in 1..10000", p->hop_ms);
    if (p->window_ms < 1 || p->window_ms > 100000)
        return qsnn_fail(QSNN_ERR_ARG, "detector: window %d ms not in 1..100000", p->window_ms);
    if (p->average_ms < p->hop_ms || p->average_ms > QSNN_DETECT_MAX_SPAN * p->hop_ms)
        return qsnn_fail(QSNN_ERR_ARG, "detector: averaging span %d ms not in %d..%d (one to %d windows)",
                         p->average_ms, p->hop_ms, QSNN_DETECT_MAX_SPAN * p->hop_ms, QSNN_DETECT_MAX_SPAN);
    if (p->suppress_ms < 0 || p->suppress_ms > 3600000)
        return qsnn_fail(QSNN_ERR_ARG, "detector: suppression %d ms not in 0..3600000", p->suppress_ms);
    return QSNN_OK;
}

void qsnn_detect_scores(float *scores, const int32_t *potentials, int n, float logit_scale)
{
    int32_t mx = potentials[0];
    for (int i = 1; i < n; i++)
        if (potentials[i] > mx)
            mx = potentials[i];
    double sum = 0;
    for (int i = 0; i < n; i++) {
        /* (p - max) in double: the int32 difference can overflow int32 */
        double e = exp(((double)potentials[i] - (double)mx) * (double)logit_scale);
        scores[i] = (float)e;
        sum += e;
    }
    for (int i = 0; i < n; i++)
        scores[i] = (float)((double)scores[i] / sum);
}

static int span_of(const qsnn_detect_params *p)
{
    int n = (int)lround((double)p->average_ms / (double)p->hop_ms);
    return n < 1 ? 1 : n;
}

size_t qsnn_detect_mem_size(const qsnn_detect_params *p, int num_classes)
{
    if (qsnn_detect_check_params(p) != QSNN_OK || num_classes < 1 || num_classes > QSNN_DETECT_MAX_CLASSES)
        return 0;
    size_t ring = sizeof(float) * (size_t)span_of(p) * (size_t)num_classes;
    return sizeof(struct qsnn_detector) + ring + 2 * (size_t)num_classes;
}

void qsnn_detect_reset(qsnn_detector *d)
{
    d->fed = 0;
    memset(d->ring, 0, sizeof(float) * (size_t)d->span * (size_t)d->classes);
    for (int k = 0; k < d->classes; k++) {
        d->last[k] = NEVER;
        d->armed[k] = 1;
    }
}

qsnn_status qsnn_detect_init(qsnn_detector **d, const qsnn_detect_params *p, int num_classes,
                             const uint8_t *is_keyword, void *mem, size_t size)
{
    *d = NULL;
    qsnn_status st = qsnn_detect_check_params(p);
    if (st != QSNN_OK)
        return st;
    if (num_classes < 1 || num_classes > QSNN_DETECT_MAX_CLASSES)
        return qsnn_fail(QSNN_ERR_ARG, "detector: %d classes not in 1..%d", num_classes, QSNN_DETECT_MAX_CLASSES);
    size_t need = qsnn_detect_mem_size(p, num_classes);
    if (!mem || size < need || ((uintptr_t)mem % _Alignof(struct qsnn_detector)))
        return qsnn_fail(QSNN_ERR_ARG, "detector: memory %zu bytes (need %zu, aligned to %zu)", size, need,
                         (size_t)_Alignof(struct qsnn_detector));
    struct qsnn_detector *x = mem;
    memset(x, 0, sizeof *x);
    x->p = *p;
    x->classes = num_classes;
    x->span = span_of(p);
    /* windows within suppress_ms of a detection: window w2 may fire again when (w2 - w) * hop >= suppress_ms */
    x->suppress_w = (p->suppress_ms + p->hop_ms - 1) / p->hop_ms;
    x->ring = (float *)(void *)(x + 1);
    x->is_kw = (uint8_t *)(x->ring + (size_t)x->span * (size_t)num_classes);
    x->armed = x->is_kw + num_classes;
    memcpy(x->is_kw, is_keyword, (size_t)num_classes);
    qsnn_detect_reset(x);
    *d = x;
    return QSNN_OK;
}

void qsnn_detect_average(const qsnn_detector *d, float *avg)
{
    for (int k = 0; k < d->classes; k++) {
        double s = 0;
        for (int i = 0; i < d->span; i++)
            s += d->ring[(size_t)i * (size_t)d->classes + (size_t)k];
        avg[k] = (float)(s / d->span);
    }
}

int qsnn_detect_feed(qsnn_detector *d, const float *scores, qsnn_detection *out)
{
    int C = d->classes;
    int64_t w = d->fed++;
    memcpy(d->ring + (size_t)(w % d->span) * (size_t)C, scores, sizeof(float) * (size_t)C);
    float avg[QSNN_DETECT_MAX_CLASSES];
    qsnn_detect_average(d, avg);
    int best = -1;
    for (int k = 0; k < C; k++) {
        if (avg[k] < d->p.threshold)
            d->armed[k] = 1; /* re-armed once its average falls below the threshold */
        if (d->is_kw[k] && (best < 0 || avg[k] > avg[best]))
            best = k;
    }
    if (best < 0 || avg[best] < d->p.threshold || !d->armed[best])
        return 0;
    if (d->last[best] != NEVER && w - d->last[best] < d->suppress_w)
        return 0;
    d->last[best] = w;
    d->armed[best] = 0;
    /* the word's likely span: the intersection of the span's windows that score it >= threshold */
    int64_t first = -1, lastw = -1, oldest = w - d->span + 1 < 0 ? 0 : w - d->span + 1;
    for (int64_t v = oldest; v <= w; v++)
        if (d->ring[(size_t)(v % d->span) * (size_t)C + (size_t)best] >= d->p.threshold) {
            if (first < 0)
                first = v;
            lastw = v;
        }
    if (first < 0) {
        first = oldest;
        lastw = w;
    }
    double hop = d->p.hop_ms / 1000.0, win = d->p.window_ms / 1000.0;
    out->label = best;
    out->score = avg[best];
    out->window = w;
    out->time_s = (double)w * hop + win;
    out->start_s = (double)lastw * hop;
    out->end_s = (double)first * hop + win;
    if (out->end_s < out->start_s) /* windows further apart than one window length: no common part */
        out->end_s = out->start_s;
    return 1;
}
