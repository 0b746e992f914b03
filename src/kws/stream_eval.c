/* SPDX-License-Identifier: Apache-2.0 */
/* stream_eval.c: the measurement half of qsnn/stream_eval.h: every window's scores of a recording (engine once),
 * detections at any decision parameters (cheap: scores are reused), event scoring, the DET sweep and the
 * calibration choice.
 *
 * The windows are the library spotter's (qsnn/kws.h: the incremental MFCC, the energy gate, the engine, the
 * scores), exactly what `qsnn stream` runs; only the decisions are replayed here from the stored scores.
 */
#include "qsnn/stream_eval.h"

#include "qsnn/audio.h"
#include "qsnn/kws.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void qsnn_stream_windows_free(qsnn_stream_windows *w)
{
    if (!w)
        return;
    free(w->scores);
    memset(w, 0, sizeof *w);
}

typedef struct {
    qsnn_stream_windows *w;
    size_t cap;
    qsnn_progress *pr;
} collect;

static void on_window(void *user, const qsnn_kws_window *win)
{
    collect *c = user;
    if (win->index < c->cap && win->scores)
        memcpy(c->w->scores + win->index * (size_t)c->w->classes, win->scores, sizeof(float) * (size_t)c->w->classes);
    if ((win->index & 1023) == 0)
        qsnn_progress_update(c->pr, win->index + 1, NULL);
}

qsnn_status qsnn_stream_run(qsnn_stream_windows *w, const qsnn_snn_model *m, float logit_scale, const float *audio,
                            size_t n, int hop_ms, double gate_db)
{
    memset(w, 0, sizeof *w);
    if (!(logit_scale > 0.0f))
        return qsnn_fail(QSNN_ERR_ARG, "stream: logit scale %g (> 0)", (double)logit_scale);
    qsnn_kws_opts o;
    qsnn_kws_default_opts(&o);
    o.hop_ms = hop_ms;
    o.gate = gate_db > -200.0;
    o.gate_db = o.gate ? gate_db : -80.0;
    o.decision = QSNN_KWS_RUNS; /* its detections are not used: the scores are */
    o.logit_scale = logit_scale;
    size_t hop = (size_t)hop_ms * QSNN_SAMPLE_RATE / 1000;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / (hop ? hop : 1);
    w->classes = m->num_classes;
    w->hop_ms = hop_ms;
    w->scores = malloc(sizeof(float) * nwin * (size_t)m->num_classes);
    if (!w->scores)
        return qsnn_fail(QSNN_ERR_NOMEM, "stream: %zu windows", nwin);
    qsnn_progress pr;
    collect c = {w, nwin, &pr};
    qsnn_kws_spotter *sp = NULL;
    qsnn_status st = qsnn_kws_spotter_create(&sp, m, &o, on_window, &c);
    qsnn_progress_begin(&pr, "windows", "windows", nwin);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_feed(sp, audio, n);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_finish(sp);
    if (st == QSNN_OK) {
        qsnn_kws_summary sum;
        qsnn_kws_spotter_summary(sp, &sum);
        qsnn_progress_end(&pr, sum.windows, NULL);
        if (sum.windows != nwin)
            st = qsnn_fail(QSNN_ERR_ARG, "stream: %zu windows, expected %zu", sum.windows, nwin);
        w->nwin = sum.windows;
        w->gated = sum.gated_windows;
        w->front_s = sum.front_s;
        w->engine_s = sum.engine_s;
        w->decide_s = sum.decide_s;
    }
    qsnn_kws_spotter_free(sp);
    w->audio_s = (double)n / QSNN_SAMPLE_RATE;
    if (st != QSNN_OK)
        qsnn_stream_windows_free(w);
    return st;
}

qsnn_status qsnn_stream_detect_runs(const qsnn_snn_model *m, const float *audio, size_t n, int hop_ms, double gate_db,
                                    int smooth, qsnn_detection **det, size_t *ndet)
{
    *det = NULL;
    *ndet = 0;
    qsnn_kws_opts o;
    qsnn_kws_default_opts(&o);
    o.hop_ms = hop_ms;
    o.gate = gate_db > -200.0;
    o.gate_db = o.gate ? gate_db : -80.0;
    o.decision = QSNN_KWS_RUNS;
    o.smooth = smooth;
    qsnn_kws_spotter *sp = NULL;
    qsnn_status st = qsnn_kws_spotter_create(&sp, m, &o, NULL, NULL);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_feed(sp, audio, n);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_finish(sp);
    const qsnn_kws_detection *k = NULL;
    size_t nk = st == QSNN_OK ? qsnn_kws_spotter_detections(sp, &k) : 0;
    qsnn_detection *d = st == QSNN_OK ? calloc(nk ? nk : 1, sizeof *d) : NULL;
    if (st == QSNN_OK && !d)
        st = qsnn_fail(QSNN_ERR_NOMEM, "stream: %zu detections", nk);
    for (size_t i = 0; st == QSNN_OK && i < nk; i++) {
        d[i].label = k[i].label;
        d[i].score = k[i].score;
        d[i].time_s = k[i].detected_s;
        d[i].start_s = k[i].time_s;
        d[i].end_s = k[i].end_s;
        d[i].window = (int64_t)lround((k[i].detected_s - 1.0) * 1000.0 / hop_ms);
    }
    qsnn_kws_spotter_free(sp);
    if (st != QSNN_OK) {
        free(d);
        return st;
    }
    *det = d;
    *ndet = nk;
    return QSNN_OK;
}

qsnn_status qsnn_stream_detect(const qsnn_stream_windows *w, const qsnn_detect_params *p, const uint8_t *is_keyword,
                               qsnn_detection **det, size_t *ndet, double *seconds)
{
    *det = NULL;
    *ndet = 0;
    if (p->hop_ms != w->hop_ms)
        return qsnn_fail(QSNN_ERR_ARG, "stream detect: detector hop %d ms, windows every %d ms", p->hop_ms,
                         w->hop_ms);
    size_t ms = qsnn_detect_mem_size(p, w->classes), cap = 64, n = 0;
    if (!ms)
        return qsnn_detect_check_params(p) != QSNN_OK
                   ? qsnn_fail_context(QSNN_ERR_ARG, "stream detect")
                   : qsnn_fail(QSNN_ERR_ARG, "stream detect: %d classes", w->classes);
    void *mem = malloc(ms);
    qsnn_detection *d = malloc(cap * sizeof *d);
    qsnn_detector *dt = NULL;
    qsnn_status st = mem && d ? qsnn_detect_init(&dt, p, w->classes, is_keyword, mem, ms)
                              : qsnn_fail(QSNN_ERR_NOMEM, "stream detect");
    double t0 = qsnn_time_now();
    for (size_t k = 0; k < w->nwin && st == QSNN_OK; k++) {
        if (n == cap) {
            qsnn_detection *q = realloc(d, 2 * cap * sizeof *q);
            if (!q) {
                st = qsnn_fail(QSNN_ERR_NOMEM, "stream detect");
                break;
            }
            d = q;
            cap *= 2;
        }
        n += (size_t)qsnn_detect_feed(dt, w->scores + k * (size_t)w->classes, &d[n]);
    }
    if (seconds)
        *seconds = qsnn_time_now() - t0;
    free(mem);
    if (st != QSNN_OK) {
        free(d);
        return st;
    }
    *det = d;
    *ndet = n;
    return QSNN_OK;
}

qsnn_status qsnn_stream_score_events(qsnn_stream_score *out, const qsnn_stream_recording *r,
                                     const qsnn_detection *det, size_t ndet, double tolerance_s)
{
    memset(out, 0, sizeof *out);
    if (!(tolerance_s >= 0 && tolerance_s <= 60))
        return qsnn_fail(QSNN_ERR_ARG, "stream score: tolerance %g s not in 0..60", tolerance_s);
    out->hours = (double)r->n / QSNN_SAMPLE_RATE / 3600.0;
    /* state per event: 0 open, 1 hit, 2 wrong; per detection: 1 when used */
    unsigned char *ev = calloc(r->nev ? r->nev : 1, 1), *used = calloc(ndet ? ndet : 1, 1);
    if (!ev || !used) {
        free(ev);
        free(used);
        return qsnn_fail(QSNN_ERR_NOMEM, "stream score");
    }
    double reach = 1.0 + tolerance_s; /* a detection at t belongs to events starting in [t - reach, t] */
    size_t lo = 0;
    for (size_t j = 0; j < ndet; j++) { /* same-label matches, in time order */
        double t = det[j].time_s;
        while (lo < r->nev && r->ev[lo].start_s + reach < t)
            lo++;
        for (size_t i = lo; i < r->nev && r->ev[i].start_s <= t; i++)
            if (ev[i] == 0 && r->ev[i].label >= 0 && r->ev[i].label == det[j].label) {
                ev[i] = 1;
                used[j] = 1;
                out->hits++;
                out->delay_sum_s += t - (r->ev[i].start_s + 1.0);
                break;
            }
    }
    lo = 0;
    for (size_t j = 0; j < ndet; j++) { /* the rest: a wrong label for an event without a hit, or a false accept */
        if (used[j])
            continue;
        double t = det[j].time_s;
        while (lo < r->nev && r->ev[lo].start_s + reach < t)
            lo++;
        int claimed = 0;
        for (size_t i = lo; i < r->nev && r->ev[i].start_s <= t; i++)
            if (ev[i] == 0 && r->ev[i].label >= 0) {
                ev[i] = 2;
                out->wrong++;
                claimed = 1;
                break;
            }
        out->false_accepts += !claimed;
    }
    for (size_t i = 0; i < r->nev; i++)
        out->keywords += r->ev[i].label >= 0;
    out->misses = out->keywords - out->hits;
    free(ev);
    free(used);
    return QSNN_OK;
}

double qsnn_stream_miss_rate(const qsnn_stream_score *s)
{
    return s->keywords ? (double)s->misses / (double)s->keywords : 0.0;
}
double qsnn_stream_fa_per_hour(const qsnn_stream_score *s)
{
    return s->hours > 0 ? (double)s->false_accepts / s->hours : 0.0;
}
double qsnn_stream_mean_delay(const qsnn_stream_score *s) { return s->hits ? s->delay_sum_s / (double)s->hits : 0.0; }

static qsnn_status score_at(qsnn_stream_score *out, const qsnn_detect_params *p, const qsnn_stream_recording *r,
                            const qsnn_stream_windows *w, const uint8_t *is_kw, double tol)
{
    qsnn_detection *d;
    size_t nd;
    qsnn_status st = qsnn_stream_detect(w, p, is_kw, &d, &nd, NULL);
    if (st == QSNN_OK)
        st = qsnn_stream_score_events(out, r, d, nd, tol);
    if (st == QSNN_OK)
        free(d);
    return st;
}

qsnn_status qsnn_stream_det(qsnn_det_point *out, const qsnn_detect_params *base, const int *spans, int nspan,
                            const float *th, int nth, const qsnn_stream_recording *kw,
                            const qsnn_stream_windows *kw_w, const qsnn_stream_recording *kwfree,
                            const qsnn_stream_windows *kwfree_w, const uint8_t *is_keyword, double tolerance_s)
{
    qsnn_status st = QSNN_OK;
    for (int a = 0; a < nspan && st == QSNN_OK; a++)
        for (int t = 0; t < nth && st == QSNN_OK; t++) {
            qsnn_det_point *pt = &out[(size_t)a * (size_t)nth + (size_t)t];
            memset(pt, 0, sizeof *pt);
            qsnn_detect_params p = *base;
            p.threshold = th[t];
            p.average_ms = spans[a];
            pt->threshold = th[t];
            pt->average_ms = spans[a];
            st = score_at(&pt->kw, &p, kw, kw_w, is_keyword, tolerance_s);
            if (st == QSNN_OK && kwfree)
                st = score_at(&pt->kwfree, &p, kwfree, kwfree_w, is_keyword, tolerance_s);
        }
    return st;
}

int qsnn_stream_calibrate(const qsnn_det_point *pts, size_t n, double budget)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const qsnn_det_point *p = &pts[i];
        if (qsnn_stream_fa_per_hour(&p->kwfree) > budget)
            continue;
        if (best >= 0) {
            const qsnn_det_point *b = &pts[best];
            /* fewest misses, then fewer false accepts (keyword-free, then keyword recording), then the higher
             * threshold */
            long d[] = {(long)p->kw.misses - (long)b->kw.misses,
                        (long)p->kwfree.false_accepts - (long)b->kwfree.false_accepts,
                        (long)p->kw.false_accepts - (long)b->kw.false_accepts};
            int better = 0, decided = 0;
            for (int k = 0; k < 3 && !decided; k++)
                if (d[k]) {
                    better = d[k] < 0;
                    decided = 1;
                }
            if (!decided)
                better = p->threshold > b->threshold;
            if (!better)
                continue;
        }
        best = (int)i;
    }
    return best;
}
