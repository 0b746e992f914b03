/* SPDX-License-Identifier: Apache-2.0 */
/* stream_record.c: the labelled long recordings of qsnn/stream_eval.h: built from a dataset split (keyword clips
 * every 3-4 s, unknown words and noise between them; a keyword-free recording of unknown words), written as a
 * 16-bit WAV + a "label,time_ms" file, or read back from those.
 *
 * Invariants: every random choice comes from one qsnn_rng seeded with opts.seed (the same options give the same
 * samples); events are in time order; the audio stays in [-1, 1] (clips are mixed with a gain that keeps their
 * peak below 0.99 and the sum is clamped).
 */
#include "qsnn/stream_eval.h"

#include "qsnn/audio.h"
#include "qsnn/io.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SR QSNN_SAMPLE_RATE
#define CLIP QSNN_CLIP_SAMPLES
#define FADE (SR / 10) /* 100 ms crossfade between noise segments */

void qsnn_stream_default_build_opts(qsnn_stream_build_opts *o)
{
    o->snr_lo_db = 10.0;
    o->snr_hi_db = 20.0;
    o->gap_lo_s = 3.0;
    o->gap_hi_s = 4.0;
    o->free_minutes = 60.0;
    o->noise_dbfs = -45.0;
    o->seed = 1;
}

void qsnn_stream_recording_free(qsnn_stream_recording *r)
{
    if (!r)
        return;
    free(r->audio);
    free(r->ev);
    memset(r, 0, sizeof *r);
}

static double uniform(qsnn_rng *g, double lo, double hi) { return lo + (hi - lo) * qsnn_rng_uniform(g); }

/* The noise bed: n samples at RMS `rms`. */
static qsnn_status noise_bed(float *out, size_t n, const qsnn_dataset *ds, double rms, qsnn_rng *g)
{
    int nn = qsnn_dataset_num_noise(ds);
    if (nn == 0) { /* no recording (the released test layout): Gaussian white noise */
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(rms * qsnn_rng_normal(g));
        return QSNN_OK;
    }
    memset(out, 0, n * sizeof(float));
    size_t pos = 0;
    while (pos < n) {
        size_t len;
        const float *src = qsnn_dataset_noise(ds, (int)qsnn_rng_below(g, (uint64_t)nn), &len);
        size_t seg = (size_t)(uniform(g, 5.0, 15.0) * SR);
        if (seg > len)
            seg = len;
        size_t off = len > seg ? (size_t)qsnn_rng_below(g, (uint64_t)(len - seg + 1)) : 0;
        double e = 0;
        for (size_t i = 0; i < seg; i++)
            e += (double)src[off + i] * src[off + i];
        double gain = e > 0 ? rms / sqrt(e / (double)seg) : 0.0;
        /* the segment starts FADE samples before pos (fading in over the previous one's fade-out) */
        size_t start = pos >= FADE ? pos - FADE : 0;
        for (size_t i = 0; i < seg && start + i < n; i++) {
            double w = 1.0;
            if (start > 0 && i < FADE)
                w = (double)i / FADE;
            if (i + FADE >= seg)
                w *= (double)(seg - i) / FADE;
            out[start + i] += (float)(w * gain * src[off + i]);
        }
        pos = start + seg;
    }
    return QSNN_OK;
}

/* Active speech RMS of a clip: RMS over its 10 ms frames whose energy is within 30 dB of the loudest frame. */
static double active_rms(const float *x, size_t n)
{
    enum { F = SR / 100 };
    double emax = 0, fe[CLIP / F + 1];
    size_t nf = n / F;
    for (size_t f = 0; f < nf; f++) {
        double e = 0;
        for (size_t i = 0; i < F; i++)
            e += (double)x[f * F + i] * x[f * F + i];
        fe[f] = e / F;
        if (fe[f] > emax)
            emax = fe[f];
    }
    double s = 0;
    size_t k = 0;
    for (size_t f = 0; f < nf; f++)
        if (fe[f] >= emax * 1e-3) {
            s += fe[f];
            k++;
        }
    return k ? sqrt(s / (double)k) : 0.0;
}

/* End of the word in a clip (s from its start): the end of the last 10 ms frame within 30 dB of the loudest. */
static double word_end(const float *x, size_t n)
{
    enum { F = SR / 100 };
    double emax = 0, fe[CLIP / F + 1];
    size_t nf = n / F, last = 0;
    for (size_t f = 0; f < nf; f++) {
        double e = 0;
        for (size_t i = 0; i < F; i++)
            e += (double)x[f * F + i] * x[f * F + i];
        fe[f] = e;
        if (e > emax)
            emax = e;
    }
    for (size_t f = 0; f < nf; f++)
        if (fe[f] >= emax * 1e-3)
            last = f;
    return (double)(last + 1) / 100.0;
}

/* Mix entry i of split s at sample `at` with SNR snr_db over a bed of RMS rms; returns the word end (s after the
 * clip start). */
static double place(float *out, size_t n, size_t at, const qsnn_dataset *ds, qsnn_split s, size_t i, double rms,
                    double snr_db)
{
    const int16_t *pcm = qsnn_dataset_clip_pcm(ds, s, i);
    float x[CLIP];
    double peak = 0;
    for (size_t k = 0; k < CLIP; k++) {
        x[k] = pcm ? (float)pcm[k] / 32768.0f : 0.0f;
        if (fabs(x[k]) > peak)
            peak = fabs(x[k]);
    }
    double a = active_rms(x, CLIP);
    double gain = a > 0 ? rms * pow(10.0, snr_db / 20.0) / a : 0.0;
    if (peak * gain > 0.99)
        gain = 0.99 / peak;
    for (size_t k = 0; k < CLIP && at + k < n; k++) {
        float v = out[at + k] + (float)(gain * x[k]);
        out[at + k] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
    return word_end(x, CLIP);
}

typedef struct {
    size_t *kw, *unk;
    size_t nkw, nunk;
} split_lists;

static qsnn_status lists_of(split_lists *l, const qsnn_dataset *ds, qsnn_split s)
{
    size_t c = qsnn_dataset_count(ds, s);
    l->kw = malloc((c ? c : 1) * sizeof(size_t));
    l->unk = malloc((c ? c : 1) * sizeof(size_t));
    l->nkw = l->nunk = 0;
    if (!l->kw || !l->unk)
        return qsnn_fail(QSNN_ERR_NOMEM, "stream recordings: %zu entries", c);
    for (size_t i = 0; i < c; i++) {
        if (!qsnn_dataset_clip_pcm(ds, s, i))
            continue; /* generated silence */
        int lab = qsnn_dataset_label(ds, s, i);
        if (lab == QSNN_LABEL_UNKNOWN)
            l->unk[l->nunk++] = i;
        else if (lab != QSNN_LABEL_SILENCE)
            l->kw[l->nkw++] = i;
    }
    return QSNN_OK;
}

static qsnn_status alloc_rec(qsnn_stream_recording *r, double seconds, size_t max_ev, const qsnn_dataset *ds,
                             double rms, qsnn_rng *g)
{
    memset(r, 0, sizeof *r);
    r->n = (size_t)(seconds * SR);
    r->audio = malloc(r->n * sizeof(float));
    r->ev = malloc((max_ev ? max_ev : 1) * sizeof *r->ev);
    if (!r->audio || !r->ev) {
        qsnn_stream_recording_free(r);
        return qsnn_fail(QSNN_ERR_NOMEM, "stream recording: %.0f s", seconds);
    }
    qsnn_status st = noise_bed(r->audio, r->n, ds, rms, g);
    if (st != QSNN_OK)
        qsnn_stream_recording_free(r);
    return st;
}

static qsnn_status build_kw(qsnn_stream_recording *r, const qsnn_dataset *ds, qsnn_split s, const split_lists *l,
                            const qsnn_stream_build_opts *o, double rms, qsnn_rng *g)
{
    /* the schedule first (clip starts), then the audio of the right length */
    size_t n = l->nkw, *order = malloc(n * sizeof(size_t)), *unk = malloc(n * sizeof(size_t));
    double *at = malloc(n * sizeof(double)), *uat = malloc(n * sizeof(double));
    qsnn_status st = QSNN_OK;
    if (!order || !unk || !at || !uat)
        st = qsnn_fail(QSNN_ERR_NOMEM, "stream recording: %zu keywords", n);
    size_t nu = 0;
    double t = 0.5;
    if (st == QSNN_OK) {
        memcpy(order, l->kw, n * sizeof(size_t));
        qsnn_rng_shuffle_size(g, order, n);
        for (size_t k = 0; k < n; k++) {
            at[k] = t;
            double gap = uniform(g, o->gap_lo_s, o->gap_hi_s);
            if (l->nunk && gap >= 3.0 && qsnn_rng_uniform(g) < 0.5) {
                unk[nu] = l->unk[qsnn_rng_below(g, l->nunk)];
                uat[nu++] = t + 1.0 + uniform(g, 0.0, gap - 2.0);
            }
            t += gap;
        }
        st = alloc_rec(r, t + 0.5, n, ds, rms, g);
    }
    double ends = 0;
    for (size_t k = 0; st == QSNN_OK && k < n; k++) {
        double snr = uniform(g, o->snr_lo_db, o->snr_hi_db);
        ends += 1.0 - place(r->audio, r->n, (size_t)(at[k] * SR), ds, s, order[k], rms, snr);
        qsnn_stream_event *e = &r->ev[r->nev++];
        snprintf(e->name, sizeof e->name, "%s", qsnn_dataset_label_name(ds, qsnn_dataset_label(ds, s, order[k])));
        e->label = -1;
        e->start_s = (double)(size_t)(at[k] * SR) / SR;
    }
    for (size_t k = 0; st == QSNN_OK && k < nu; k++)
        place(r->audio, r->n, (size_t)(uat[k] * SR), ds, s, unk[k], rms, uniform(g, o->snr_lo_db, o->snr_hi_db));
    if (st == QSNN_OK) {
        r->words = n + nu;
        r->word_end_s = n ? ends / (double)n : 0.0;
    }
    free(order);
    free(unk);
    free(at);
    free(uat);
    return st;
}

static qsnn_status build_free(qsnn_stream_recording *r, const qsnn_dataset *ds, qsnn_split s, const split_lists *l,
                              const qsnn_stream_build_opts *o, double rms, qsnn_rng *g)
{
    double len = o->free_minutes * 60.0;
    qsnn_status st = alloc_rec(r, len, 0, ds, rms, g);
    if (st != QSNN_OK)
        return st;
    size_t *order = malloc(l->nunk * sizeof(size_t)), k = l->nunk;
    if (!order) {
        qsnn_stream_recording_free(r);
        return qsnn_fail(QSNN_ERR_NOMEM, "stream recording");
    }
    for (double t = 0.5; t + 1.0 <= len; t += uniform(g, 2.0, 3.0)) {
        if (k == l->nunk) { /* a new pass, reshuffled */
            memcpy(order, l->unk, l->nunk * sizeof(size_t));
            qsnn_rng_shuffle_size(g, order, l->nunk);
            k = 0;
        }
        place(r->audio, r->n, (size_t)(t * SR), ds, s, order[k++], rms, uniform(g, o->snr_lo_db, o->snr_hi_db));
        r->words++;
    }
    free(order);
    return QSNN_OK;
}

qsnn_status qsnn_stream_build(qsnn_stream_recording *kw, qsnn_stream_recording *kwfree, const qsnn_dataset *ds,
                              qsnn_split s, const qsnn_stream_build_opts *o)
{
    if (kw)
        memset(kw, 0, sizeof *kw);
    if (kwfree)
        memset(kwfree, 0, sizeof *kwfree);
    if (!(o->snr_lo_db <= o->snr_hi_db) || !isfinite(o->snr_lo_db) || !isfinite(o->snr_hi_db) ||
        !(o->gap_lo_s >= 2.0 && o->gap_lo_s <= o->gap_hi_s && o->gap_hi_s <= 60.0) ||
        !(o->free_minutes >= 0.1 && o->free_minutes <= 24 * 60.0) || !(o->noise_dbfs >= -120 && o->noise_dbfs <= -6))
        return qsnn_fail(QSNN_ERR_ARG,
                         "stream recordings: SNR %g..%g dB, gaps %g..%g s (2..60), %g minutes (0.1..1440), noise %g "
                         "dBFS (-120..-6)",
                         o->snr_lo_db, o->snr_hi_db, o->gap_lo_s, o->gap_hi_s, o->free_minutes, o->noise_dbfs);
    split_lists l;
    qsnn_status st = lists_of(&l, ds, s);
    if (st == QSNN_OK && kw && l.nkw == 0)
        st = qsnn_fail(QSNN_ERR_ARG, "stream recordings: the %s split has no keyword clips", qsnn_split_name(s));
    if (st == QSNN_OK && kwfree && l.nunk == 0)
        st = qsnn_fail(QSNN_ERR_ARG, "stream recordings: the %s split has no unknown-word clips", qsnn_split_name(s));
    double rms = pow(10.0, o->noise_dbfs / 20.0);
    qsnn_rng g;
    qsnn_rng_seed_stream(&g, o->seed, (uint64_t)s);
    if (st == QSNN_OK && kw)
        st = build_kw(kw, ds, s, &l, o, rms, &g);
    if (st == QSNN_OK && kwfree)
        st = build_free(kwfree, ds, s, &l, o, rms, &g);
    if (st != QSNN_OK) {
        qsnn_stream_recording_free(kw);
        qsnn_stream_recording_free(kwfree);
    }
    free(l.kw);
    free(l.unk);
    return st;
}

qsnn_status qsnn_stream_recording_write(const qsnn_stream_recording *r, const char *wav_path,
                                        const char *labels_path)
{
    qsnn_status st = qsnn_audio_write_wav16(wav_path, r->audio, r->n, SR);
    if (st != QSNN_OK || !labels_path)
        return st;
    size_t cap = 64 + r->nev * (QSNN_LABEL_MAX + 24), len = 0;
    char *txt = malloc(cap);
    if (!txt)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s", labels_path);
    for (size_t i = 0; i < r->nev; i++)
        len += (size_t)snprintf(txt + len, cap - len, "%s,%.0f\n", r->ev[i].name, r->ev[i].start_s * 1000.0);
    qsnn_atomic_file f;
    st = qsnn_atomic_open(&f, labels_path);
    if (st == QSNN_OK) {
        st = qsnn_atomic_write(&f, txt, len);
        st = st == QSNN_OK ? qsnn_atomic_commit(&f) : (qsnn_atomic_abort(&f), st);
    }
    free(txt);
    return st;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const qsnn_stream_event *)a)->start_s, y = ((const qsnn_stream_event *)b)->start_s;
    return x < y ? -1 : x > y;
}

static qsnn_status parse_labels(qsnn_stream_recording *r, const char *path, char *txt)
{
    size_t cap = 0;
    int line = 0;
    for (char *s = txt; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = 0;
        line++;
        char *p = s;
        s = nl ? nl + 1 : NULL;
        size_t L = strlen(p);
        while (L && isspace((unsigned char)p[L - 1]))
            p[--L] = 0;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *comma = strchr(p, ',');
        if (!comma || comma == p || (size_t)(comma - p) >= QSNN_LABEL_MAX)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s:%d: expected 'label,time_ms' with a label of 1..%d characters",
                             path, line, QSNN_LABEL_MAX - 1);
        char *end;
        errno = 0;
        double ms = strtod(comma + 1, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (*end || end == comma + 1 || errno || !(ms >= 0 && ms < 1e12))
            return qsnn_fail(QSNN_ERR_FORMAT, "%s:%d: time '%s' is not a number of milliseconds >= 0", path, line,
                             comma + 1);
        if (r->nev == cap) {
            size_t nc = cap ? 2 * cap : 256;
            qsnn_stream_event *q = realloc(r->ev, nc * sizeof *q);
            if (!q)
                return qsnn_fail(QSNN_ERR_NOMEM, "%s", path);
            r->ev = q;
            cap = nc;
        }
        qsnn_stream_event *e = &r->ev[r->nev++];
        memset(e, 0, sizeof *e);
        size_t nlen = (size_t)(comma - p);
        while (nlen && isspace((unsigned char)p[nlen - 1]))
            nlen--;
        memcpy(e->name, p, nlen);
        e->label = -1;
        e->start_s = ms / 1000.0;
    }
    if (r->nev)
        qsort(r->ev, r->nev, sizeof *r->ev, by_time);
    return QSNN_OK;
}

qsnn_status qsnn_stream_recording_read(qsnn_stream_recording *r, const char *wav_path, const char *labels_path)
{
    memset(r, 0, sizeof *r);
    qsnn_status st = qsnn_audio_read(wav_path, &r->audio, &r->n, NULL);
    if (st != QSNN_OK || !labels_path)
        return st;
    char *txt = NULL;
    size_t len = 0;
    st = qsnn_read_text_file(labels_path, 64u << 20, &txt, &len);
    if (st == QSNN_OK)
        st = parse_labels(r, labels_path, txt);
    free(txt);
    if (st != QSNN_OK)
        qsnn_stream_recording_free(r);
    return st;
}

size_t qsnn_stream_resolve(qsnn_stream_recording *r, const char *const *labels, int num_labels)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nev; i++) {
        r->ev[i].label = -1;
        for (int c = 0; c < num_labels; c++)
            if (labels[c] && labels[c][0] != '_' && !strcmp(labels[c], r->ev[i].name))
                r->ev[i].label = c;
        k += r->ev[i].label >= 0;
    }
    return k;
}
