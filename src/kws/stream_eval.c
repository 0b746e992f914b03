/* stream_eval.c: the measurement half of qsnn/stream_eval.h: every window's scores of a recording (engine once),
 * detections at any decision parameters (cheap: scores are reused), event scoring, the DET sweep and the
 * calibration choice.
 *
 * The window loop is `qsnn stream`'s (tools/cmd_stream.c): one-second windows every hop, the MFCC of the frames a
 * window shares with the previous one kept (hop a whole number of 20 ms strides; every frame depends only on its
 * own samples), the energy gate, the uint8 scaling with the model's range, the engine on a cached context.
 */
#include "qsnn/stream_eval.h"

#include "qsnn/audio.h"

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

qsnn_status qsnn_stream_run(qsnn_stream_windows *w, const qsnn_snn_model *m, float logit_scale, const float *audio,
                            size_t n, int hop_ms, double gate_db)
{
    memset(w, 0, sizeof *w);
    if (hop_ms < 10 || hop_ms > 1000 || !(logit_scale > 0.0f))
        return qsnn_fail(QSNN_ERR_ARG, "stream: hop %d ms (10..1000), logit scale %g (> 0)", hop_ms,
                         (double)logit_scale);
    int C = m->num_classes, sil = -1;
    for (int k = 0; k < C && gate_db > -200.0; k++)
        if (!strcmp(m->labels[k], "_silence_"))
            sil = k;
    double gate_ms = sil >= 0 ? pow(10.0, gate_db / 10.0) : -1.0;
    size_t hop = (size_t)hop_ms * QSNN_SAMPLE_RATE / 1000, in_n = (size_t)m->in_h * m->in_w * m->in_c;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / hop;
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *mf = NULL;
    size_t ms = qsnn_snn_mem_size_cached(m);
    void *mem = malloc(ms);
    float *feat = malloc(sizeof(float) * in_n), *win = malloc(sizeof(float) * QSNN_CLIP_SAMPLES);
    uint8_t *x = malloc(in_n);
    int32_t pot[QSNN_SNN_MAX_CLASSES];
    w->scores = malloc(sizeof(float) * nwin * (size_t)C);
    qsnn_status st = QSNN_OK;
    if (!mem || !feat || !win || !x || !w->scores)
        st = qsnn_fail(QSNN_ERR_NOMEM, "stream: %zu windows", nwin);
    if (st == QSNN_OK)
        st = qsnn_mfcc_create(&mf, &mp);
    int frames = mf ? qsnn_mfcc_num_frames(mf, QSNN_CLIP_SAMPLES) : 0, coeffs = mf ? qsnn_mfcc_num_coeffs(mf) : 0;
    if (st == QSNN_OK && (size_t)frames * (size_t)coeffs != in_n)
        st = qsnn_fail(QSNN_ERR_SHAPE, "stream: model input %dx%dx%d, but a one-second MFCC is %dx%d", m->in_h,
                       m->in_w, m->in_c, frames, coeffs);
    qsnn_snn_ctx *ctx = NULL;
    if (st == QSNN_OK)
        st = qsnn_snn_init(&ctx, m, mem, ms);
    int shift = hop % (size_t)mp.stride == 0 && hop / (size_t)mp.stride < (size_t)frames ? (int)(hop / mp.stride) : 0;
    int have_prev = 0;
    qsnn_progress pr;
    qsnn_progress_begin(&pr, "windows", "windows", nwin);
    for (size_t k = 0; k < nwin && st == QSNN_OK; k++) {
        size_t s0 = k * hop, len = n - s0 < QSNN_CLIP_SAMPLES ? n - s0 : QSNN_CLIP_SAMPLES;
        memcpy(win, audio + s0, len * sizeof(float));
        memset(win + len, 0, (QSNN_CLIP_SAMPLES - len) * sizeof(float));
        float *sc = w->scores + k * (size_t)C;
        double t0 = qsnn_time_now(), e = 0;
        for (size_t i = 0; i < QSNN_CLIP_SAMPLES; i++)
            e += (double)win[i] * win[i];
        if (e / QSNN_CLIP_SAMPLES < gate_ms) {
            for (int c = 0; c < C; c++)
                sc[c] = c == sil ? 1.0f : 0.0f;
            w->gated++;
            have_prev = 0;
            w->front_s += qsnn_time_now() - t0;
            continue;
        }
        if (have_prev && shift) {
            int keep = frames - shift;
            memmove(feat, feat + (size_t)shift * coeffs, sizeof(float) * (size_t)keep * coeffs);
            st = qsnn_mfcc_compute(mf, feat + (size_t)keep * coeffs, win + (size_t)keep * mp.stride,
                                   (size_t)mp.window + (size_t)(shift - 1) * mp.stride);
        } else {
            st = qsnn_mfcc_compute(mf, feat, win, QSNN_CLIP_SAMPLES);
        }
        if (st != QSNN_OK)
            break;
        have_prev = 1;
        qsnn_features_to_u8(x, feat, in_n, m->scale_min, m->scale_max);
        double t1 = qsnn_time_now();
        st = qsnn_snn_run(ctx, x, pot, NULL, NULL);
        double t2 = qsnn_time_now();
        qsnn_detect_scores(sc, pot, C, logit_scale);
        double t3 = qsnn_time_now();
        w->front_s += t1 - t0;
        w->engine_s += t2 - t1;
        w->decide_s += t3 - t2;
        if ((k & 1023) == 0)
            qsnn_progress_update(&pr, k + 1, NULL);
    }
    if (st == QSNN_OK)
        qsnn_progress_end(&pr, nwin, NULL);
    qsnn_mfcc_destroy(mf);
    free(mem);
    free(feat);
    free(win);
    free(x);
    w->nwin = nwin;
    w->classes = C;
    w->hop_ms = hop_ms;
    w->audio_s = (double)n / QSNN_SAMPLE_RATE;
    if (st != QSNN_OK)
        qsnn_stream_windows_free(w);
    return st;
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
