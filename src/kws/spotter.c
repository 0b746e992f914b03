/* SPDX-License-Identifier: Apache-2.0 */
/* spotter.c: the streaming keyword spotter of qsnn/kws.h: one window of samples (slid by a hop), the
 * incremental MFCC, the energy gate, the engine, the window's class scores, and the decision: the score detector
 * (qsnn/detect.h) or the runs of predictions. */
#include "kws/kws_internal.h"

#include "qsnn/mfcc_device.h"
#include "qsnn/snn_meta.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The per-window state: features, engine, energy gate, runs of predictions, detections so far. */
struct qsnn_kws_spotter {
    const qsnn_snn_model *m;
    qsnn_snn_ctx *ctx;
    void *mem; /* the engine's workspace (cached context) */
    qsnn_mfcc *mf;          /* the host's front end; also the geometry of both */
    qsnn_mfcc_device *dev;  /* QSNN_KWS_FRONTEND_DEVICE: the device's front end (its tables and scratch) */
    float *win;  /* [QSNN_CLIP_SAMPLES] the samples of the window being filled */
    size_t fill; /* samples of win filled */
    float *feat; /* the last window's MFCC (frame-major), kept for the next window */
    uint8_t *x;
    size_t in_n, hop, samples;
    int frames, coeffs, stride, window; /* MFCC geometry of one window */
    int shift;                          /* frames per hop when hop is a whole number of strides, else 0 */
    int have_prev;                      /* feat holds the window one hop before the next one */
    int smooth, sil, finished;
    double gate_ms;
    int run_label, run_len;
    size_t run_start;
    long cur; /* the detection the current run produced, if any */
    int decision;
    float logit_scale;      /* > 0: scores are computed */
    qsnn_detector *detector; /* QSNN_KWS_SCORES, in detector_mem */
    void *detector_mem;
    float *scores;           /* [num_classes] the last window's */
    double front_s, engine_s, decide_s;
    qsnn_kws_detection *det;
    size_t ndet, det_cap;
    size_t nwin, ngated;
    qsnn_kws_window_cb cb;
    void *user;
};

void qsnn_kws_default_opts(qsnn_kws_opts *o)
{
    o->hop_ms = 100;
    o->smooth = 3;
    o->gate = 1;
    o->gate_db = -80.0;
    o->decision = QSNN_KWS_SCORES;
    qsnn_detect_default_params(&o->detect);
    o->detect.hop_ms = o->hop_ms;
    o->logit_scale = 0.0f;
    o->frontend = QSNN_KWS_FRONTEND_HOST;
}

void qsnn_kws_model_opts(qsnn_kws_opts *o, const qsnn_snn_model *m, int *calibrated)
{
    qsnn_kws_default_opts(o);
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(m, &meta);
    if (calibrated)
        *calibrated = 0;
    if (!(meta.flags & QSNN_SNN_META_SCALE)) {
        o->decision = QSNN_KWS_RUNS;
        return;
    }
    o->logit_scale = meta.logit_scale;
    if (meta.flags & QSNN_SNN_META_DETECT) {
        o->detect.threshold = meta.threshold;
        o->detect.average_ms = (int)meta.average_ms;
        o->detect.suppress_ms = (int)meta.suppress_ms;
        if (calibrated)
            *calibrated = 1;
    }
}

static qsnn_status grow(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
    if (need <= *cap)
        return QSNN_OK;
    size_t nc = *cap ? 2 * *cap : 256;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", what);
    *p = q;
    *cap = nc;
    return QSNN_OK;
}

qsnn_status qsnn_kws_spotter_create(qsnn_kws_spotter **out, const qsnn_snn_model *m, const qsnn_kws_opts *o,
                                    qsnn_kws_window_cb cb, void *user)
{
    *out = NULL;
    qsnn_kws_opts d;
    if (!o) {
        qsnn_kws_model_opts(&d, m, NULL);
        o = &d;
    }
    if (o->hop_ms < 10 || o->hop_ms > 1000)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: hop %d ms out of range (10..1000)", o->hop_ms);
    if (o->smooth < 1 || o->smooth > 100)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: smooth %d out of range (1..100)", o->smooth);
    if (o->gate && !(o->gate_db >= -200.0 && o->gate_db <= 0.0))
        return qsnn_fail(QSNN_ERR_ARG, "spotter: gate %g dBFS out of range (-200..0)", o->gate_db);
    if (o->decision != QSNN_KWS_SCORES && o->decision != QSNN_KWS_RUNS)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: decision %d unknown", o->decision);
    if (o->frontend != QSNN_KWS_FRONTEND_HOST && o->frontend != QSNN_KWS_FRONTEND_DEVICE)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: front end %d unknown", o->frontend);
    if (!(o->logit_scale >= 0.0f) || !isfinite(o->logit_scale))
        return qsnn_fail(QSNN_ERR_ARG, "spotter: logit scale %g invalid", (double)o->logit_scale);
    float scale = o->logit_scale;
    if (scale == 0.0f) { /* the model's */
        qsnn_snn_meta meta;
        qsnn_snn_meta_get(m, &meta);
        scale = meta.flags & QSNN_SNN_META_SCALE ? meta.logit_scale : 0.0f;
    }
    if (o->decision == QSNN_KWS_SCORES && scale == 0.0f)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: the score decision needs a logit scale (a model converted before "
                                       "the .snn metadata block has none: convert it again, or decide by runs)");
    qsnn_detect_params dp = o->detect;
    dp.hop_ms = o->hop_ms;
    if (o->decision == QSNN_KWS_SCORES) {
        qsnn_status pst = qsnn_detect_check_params(&dp);
        if (pst != QSNN_OK)
            return qsnn_fail_context(pst, "spotter");
    }
    qsnn_kws_spotter *s = calloc(1, sizeof *s);
    if (!s)
        return qsnn_fail(QSNN_ERR_NOMEM, "spotter: out of memory");
    s->m = m;
    s->cb = cb;
    s->user = user;
    s->in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    s->hop = (size_t)o->hop_ms * QSNN_SAMPLE_RATE / 1000;
    s->smooth = o->smooth;
    s->run_label = -1;
    s->cur = -1;
    s->sil = -1; /* the gate's label */
    for (int k = 0; k < m->num_classes && o->gate; k++)
        if (!strcmp(m->labels[k], "_silence_"))
            s->sil = k;
    /* mean square below which a window is gated: 10 log10(ms) < gate_db */
    s->gate_ms = s->sil >= 0 ? pow(10.0, o->gate_db / 10.0) : -1.0;
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    size_t ms = qsnn_snn_mem_size_cached(m);
    s->mem = malloc(ms);
    s->win = calloc(QSNN_CLIP_SAMPLES, sizeof(float));
    s->x = malloc(s->in_n ? s->in_n : 1);
    s->feat = malloc(sizeof(float) * (s->in_n ? s->in_n : 1));
    s->scores = malloc(sizeof(float) * (size_t)m->num_classes);
    s->dev = o->frontend == QSNN_KWS_FRONTEND_DEVICE ? malloc(sizeof *s->dev) : NULL;
    s->decision = o->decision;
    s->logit_scale = scale;
    size_t dms = o->decision == QSNN_KWS_SCORES ? qsnn_detect_mem_size(&dp, m->num_classes) : 0;
    s->detector_mem = dms ? malloc(dms) : NULL;
    qsnn_status st = QSNN_OK;
    if (!s->mem || !s->win || !s->x || !s->feat || !s->scores || (dms && !s->detector_mem) ||
        (o->frontend == QSNN_KWS_FRONTEND_DEVICE && !s->dev))
        st = qsnn_fail(QSNN_ERR_NOMEM, "spotter: out of memory");
    if (st == QSNN_OK && dms) {
        uint8_t is_kw[QSNN_SNN_MAX_CLASSES];
        for (int k = 0; k < m->num_classes; k++)
            is_kw[k] = m->labels[k][0] != '_';
        st = qsnn_detect_init(&s->detector, &dp, m->num_classes, is_kw, s->detector_mem, dms);
    }
    if (st == QSNN_OK)
        st = qsnn_mfcc_create(&s->mf, &mp);
    if (st == QSNN_OK)
        st = qsnn_kws_check_input(m, s->mf, "spotter");
    if (st == QSNN_OK && s->dev) { /* the device's fixed geometry is the host's default one */
        if (mp.window != QSNN_MFCC_DEVICE_WINDOW || mp.stride != QSNN_MFCC_DEVICE_STRIDE ||
            qsnn_mfcc_num_coeffs(s->mf) != QSNN_MFCC_DEVICE_COEFFS)
            st = qsnn_fail(QSNN_ERR_SHAPE, "spotter: the device front end computes %d coefficients every %d samples",
                           QSNN_MFCC_DEVICE_COEFFS, QSNN_MFCC_DEVICE_STRIDE);
        else
            qsnn_mfcc_device_init(s->dev);
    }
    if (st == QSNN_OK)
        st = qsnn_snn_init(&s->ctx, m, s->mem, ms);
    if (st != QSNN_OK) {
        qsnn_kws_spotter_free(s);
        return st;
    }
    s->frames = qsnn_mfcc_num_frames(s->mf, QSNN_CLIP_SAMPLES);
    s->coeffs = qsnn_mfcc_num_coeffs(s->mf);
    s->stride = mp.stride;
    s->window = mp.window;
    if (s->hop % (size_t)mp.stride == 0 && s->hop / (size_t)mp.stride < (size_t)s->frames)
        s->shift = (int)(s->hop / (size_t)mp.stride);
    *out = s;
    return QSNN_OK;
}

void qsnn_kws_spotter_free(qsnn_kws_spotter *s)
{
    if (!s)
        return;
    qsnn_mfcc_destroy(s->mf);
    free(s->dev);
    free(s->feat);
    free(s->scores);
    free(s->detector_mem);
    free(s->det);
    free(s->x);
    free(s->win);
    free(s->mem);
    free(s);
}

static qsnn_status add_detection(qsnn_kws_spotter *s, const qsnn_kws_detection *d)
{
    qsnn_status st = grow((void **)&s->det, &s->det_cap, s->ndet + 1, sizeof *s->det, "spotter");
    if (st == QSNN_OK) {
        /* field by field into zeroed memory: the padding bytes of what callers read are zero, not stack garbage */
        qsnn_kws_detection *x = &s->det[s->ndet++];
        memset(x, 0, sizeof *x);
        x->time_s = d->time_s;
        x->label = d->label;
        x->windows = d->windows;
        x->score = d->score;
        x->end_s = d->end_s;
        x->detected_s = d->detected_s;
    }
    return st;
}

/* The runs of predictions: a keyword when `smooth` consecutive windows predict it. Returns the detection index
 * this window started, or -1 (in *started). */
static qsnn_status decide_runs(qsnn_kws_spotter *s, size_t w, int32_t pred, long *started)
{
    if (pred == s->run_label) {
        s->run_len++;
    } else {
        s->run_label = pred;
        s->run_len = 1;
        s->run_start = w;
        s->cur = -1;
    }
    if (s->m->labels[pred][0] != '_' && s->run_len == s->smooth) {
        float sc = s->logit_scale > 0 ? s->scores[pred] : 0.0f;
        double t = (double)s->run_start * (double)s->hop / QSNN_SAMPLE_RATE;
        qsnn_kws_detection d = {t, pred, 0, sc, t + 1.0, (double)w * (double)s->hop / QSNN_SAMPLE_RATE + 1.0};
        qsnn_status st = add_detection(s, &d);
        if (st != QSNN_OK)
            return st;
        s->cur = (long)s->ndet - 1;
        *started = s->cur;
    }
    if (s->cur >= 0)
        s->det[s->cur].windows = s->run_len;
    return QSNN_OK;
}

/* The MFCC frames of n samples, with the spotter's front end. */
static qsnn_status front_end(qsnn_kws_spotter *s, float *out, const float *x, size_t n)
{
    if (s->dev)
        return qsnn_mfcc_device_compute(s->dev, out, x, n);
    return qsnn_mfcc_compute(s->mf, out, x, n);
}

/* One window of QSNN_CLIP_SAMPLES samples (window index s->nwin): predict, score, decide. */
static qsnn_status spot_window(qsnn_kws_spotter *s, const float *win)
{
    const qsnn_snn_model *m = s->m;
    double t0 = qsnn_time_now(), t1, e = 0;
    for (size_t i = 0; i < QSNN_CLIP_SAMPLES; i++)
        e += (double)win[i] * (double)win[i];
    int32_t pred, pot[QSNN_SNN_MAX_CLASSES];
    qsnn_status st;
    int gated = 0;
    if (e / QSNN_CLIP_SAMPLES < s->gate_ms) {
        pred = s->sil;
        s->ngated++;
        s->have_prev = 0;
        gated = 1;
        t1 = qsnn_time_now();
        s->front_s += t1 - t0;
    } else {
        if (s->have_prev && s->shift) {
            /* incremental: the window moved by shift whole frames; every frame depends on its own samples only,
             * so the kept frames are the same numbers: slide them and compute the new ones */
            int keep = s->frames - s->shift;
            memmove(s->feat, s->feat + (size_t)s->shift * (size_t)s->coeffs,
                    sizeof(float) * (size_t)keep * (size_t)s->coeffs);
            st = front_end(s, s->feat + (size_t)keep * (size_t)s->coeffs, win + (size_t)keep * s->stride,
                           (size_t)s->window + (size_t)(s->shift - 1) * (size_t)s->stride);
        } else {
            st = front_end(s, s->feat, win, QSNN_CLIP_SAMPLES);
        }
        if (st != QSNN_OK)
            return st;
        s->have_prev = 1;
        qsnn_features_to_u8(s->x, s->feat, s->in_n, m->scale_min, m->scale_max);
        double tf = qsnn_time_now();
        s->front_s += tf - t0;
        if ((st = qsnn_snn_run(s->ctx, s->x, pot, &pred, NULL)) != QSNN_OK)
            return st;
        t1 = qsnn_time_now();
        s->engine_s += t1 - tf;
    }
    if (s->logit_scale > 0) {
        if (gated)
            for (int k = 0; k < m->num_classes; k++)
                s->scores[k] = k == s->sil ? 1.0f : 0.0f;
        else
            qsnn_detect_scores(s->scores, pot, m->num_classes, s->logit_scale);
    }
    size_t w = s->nwin++;
    long started = -1;
    if (s->decision == QSNN_KWS_RUNS) {
        if ((st = decide_runs(s, w, pred, &started)) != QSNN_OK)
            return st;
    } else {
        qsnn_detection d;
        if (qsnn_detect_feed(s->detector, s->scores, &d)) {
            qsnn_kws_detection k = {d.start_s, d.label, 0, d.score, d.end_s, d.time_s};
            if ((st = add_detection(s, &k)) != QSNN_OK)
                return st;
            started = (long)s->ndet - 1;
        }
    }
    s->decide_s += qsnn_time_now() - t1;
    if (s->cb) {
        qsnn_kws_window wr = {w, (double)(w * s->hop) / QSNN_SAMPLE_RATE, pred, gated, started,
                              s->logit_scale > 0 ? s->scores : NULL};
        s->cb(s->user, &wr);
    }
    return QSNN_OK;
}

qsnn_status qsnn_kws_spotter_feed(qsnn_kws_spotter *s, const float *x, size_t n)
{
    if (s->finished)
        return qsnn_fail(QSNN_ERR_ARG, "spotter: samples fed after the end of the input");
    while (n > 0) {
        size_t k = QSNN_CLIP_SAMPLES - s->fill < n ? QSNN_CLIP_SAMPLES - s->fill : n;
        memcpy(s->win + s->fill, x, k * sizeof(float));
        s->fill += k;
        s->samples += k;
        x += k;
        n -= k;
        if (s->fill == QSNN_CLIP_SAMPLES) {
            qsnn_status st = spot_window(s, s->win);
            if (st != QSNN_OK)
                return st;
            memmove(s->win, s->win + s->hop, (QSNN_CLIP_SAMPLES - s->hop) * sizeof(float));
            s->fill = QSNN_CLIP_SAMPLES - s->hop;
        }
    }
    return QSNN_OK;
}

qsnn_status qsnn_kws_spotter_finish(qsnn_kws_spotter *s)
{
    if (s->finished)
        return QSNN_OK;
    s->finished = 1;
    if (s->nwin > 0)
        return QSNN_OK;
    memset(s->win + s->fill, 0, (QSNN_CLIP_SAMPLES - s->fill) * sizeof(float));
    return spot_window(s, s->win);
}

size_t qsnn_kws_spotter_detections(const qsnn_kws_spotter *s, const qsnn_kws_detection **out)
{
    *out = s->det;
    return s->ndet;
}

void qsnn_kws_spotter_summary(const qsnn_kws_spotter *s, qsnn_kws_summary *out)
{
    out->windows = s->nwin;
    out->gated_windows = s->ngated;
    out->samples = s->samples;
    out->hop = s->hop;
    out->gate_active = s->sil >= 0;
    out->front_s = s->front_s;
    out->engine_s = s->engine_s;
    out->decide_s = s->decide_s;
}
