/* SPDX-License-Identifier: Apache-2.0 */
/* synth_post.c: from a synthesizer's utterance to one Speech Commands clip.
 *
 * speak -> resample to 16 kHz (libsamplerate's SRC_SINC_FASTEST: 97 dB SNR, flat to well above the 4 kHz the MFCC
 * uses) -> trim the synthesizer's silence -> if longer than 0.95 s, speak
 * again faster (up to 3 times), then time-compress as a last resort -> light room reverberation on part of the
 * clips (Freeverb-style combs and allpasses, random room) -> peak level (varied per clip) -> placed at a random
 * offset with the whole word inside the second -> a very low Gaussian noise floor (-75..-55 dBFS RMS, as real
 * recordings have; a digital-zero background would give MFCC frames at log(1e-12)) -> PCM16 WAV.
 *
 * Invariants: the word (trimmed speech with 15 ms around it, reverberation tail included) is never cut; the peak stays below 0.9 of
 * full scale, so PCM16 never clips; every random choice comes from the stream (seed, word, voice id, n). */
#include "synth/synth_internal.h"

#include "qsnn/audio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FS QSNN_SAMPLE_RATE
#define CLIP QSNN_CLIP_SAMPLES
#define WORD_MAX 15200  /* 0.95 s: the longest word we place */
#define MARGIN 240      /* 15 ms kept around the speech */

void synth_trim_bounds(const float *x, size_t n, size_t margin, size_t *b, size_t *e)
{
    const size_t fr = 80; /* 5 ms */
    size_t nf = (n + fr - 1) / fr;
    double emax = 0.0;
    for (size_t f = 0; f < nf; f++) {
        double s = 0.0;
        size_t i1 = (f + 1) * fr < n ? (f + 1) * fr : n;
        for (size_t i = f * fr; i < i1; i++)
            s += (double)x[i] * x[i];
        s /= (double)(i1 - f * fr);
        if (s > emax)
            emax = s;
    }
    *b = *e = 0;
    if (emax <= 1e-12)
        return;
    double thr = emax * pow(10.0, -35.0 / 10.0);
    size_t first = nf, last = 0;
    for (size_t f = 0; f < nf; f++) {
        double s = 0.0;
        size_t i1 = (f + 1) * fr < n ? (f + 1) * fr : n;
        for (size_t i = f * fr; i < i1; i++)
            s += (double)x[i] * x[i];
        s /= (double)(i1 - f * fr);
        if (s > thr) {
            if (first == nf)
                first = f;
            last = f;
        }
    }
    size_t bb = first * fr, ee = (last + 1) * fr < n ? (last + 1) * fr : n;
    *b = bb > margin ? bb - margin : 0;
    *e = ee + margin < n ? ee + margin : n;
}

/* Freeverb-style room: 4 parallel damped combs, 2 series allpasses. y[n_out] must hold n + tail samples. */
static void reverb(float *y, size_t n_out, const float *x, size_t n, qsnn_rng *r)
{
    static const double comb_ms[4] = {29.7, 37.1, 41.1, 43.7};
    static const double ap_ms[2] = {5.0, 1.7};
    double room = 0.6 + 0.6 * qsnn_rng_uniform(r);    /* delay scale */
    double rt60 = 0.15 + 0.30 * qsnn_rng_uniform(r);  /* seconds */
    double damp = 0.2 + 0.3 * qsnn_rng_uniform(r);
    double wet = 0.08 + 0.22 * qsnn_rng_uniform(r);
    float *w = calloc(n_out, sizeof *w);
    if (!w) { /* reverberation is optional: leave the dry word */
        memcpy(y, x, n * sizeof *y);
        memset(y + n, 0, (n_out - n) * sizeof *y);
        return;
    }
    for (int c = 0; c < 4; c++) {
        size_t d = (size_t)(comb_ms[c] * room * FS / 1000.0);
        double g = pow(10.0, -3.0 * (double)d / (rt60 * FS));
        double *buf = calloc(d, sizeof *buf);
        if (!buf)
            continue;
        double store = 0.0;
        size_t k = 0;
        for (size_t i = 0; i < n_out; i++) {
            double in = i < n ? x[i] : 0.0;
            double o = buf[k];
            store = o * (1.0 - damp) + store * damp;
            buf[k] = in + store * g;
            k = k + 1 == d ? 0 : k + 1;
            w[i] += (float)o;
        }
        free(buf);
    }
    for (int a = 0; a < 2; a++) {
        size_t d = (size_t)(ap_ms[a] * FS / 1000.0);
        double *buf = calloc(d, sizeof *buf);
        if (!buf)
            continue;
        size_t k = 0;
        for (size_t i = 0; i < n_out; i++) {
            double bo = buf[k];
            double in = w[i];
            buf[k] = in + bo * 0.5;
            w[i] = (float)(bo - in);
            k = k + 1 == d ? 0 : k + 1;
        }
        free(buf);
    }
    double ed = 0.0, ew = 0.0;
    for (size_t i = 0; i < n; i++)
        ed += (double)x[i] * x[i];
    for (size_t i = 0; i < n_out; i++)
        ew += (double)w[i] * w[i];
    double gw = ew > 0.0 ? wet * sqrt(ed / ew) : 0.0;
    for (size_t i = 0; i < n_out; i++)
        y[i] = (float)((i < n ? x[i] : 0.0) + gw * w[i]);
    free(w);
}

qsnn_status synth_make_clip(const char *path, const qsnn_synth_voice *v, const char *word, int rep, uint64_t seed)
{
    qsnn_rng r;
    uint64_t stream = synth_hash_str(word, synth_hash_str(v->id, 0)) ^ ((uint64_t)rep * 0x9e3779b97f4a7c15ULL);
    qsnn_rng_seed_stream(&r, seed, stream);
    synth_utt u;
    u.rate_mul = 0.85 + 0.35 * qsnn_rng_uniform(&r);
    u.pitch_mul = 0.85 + 0.30 * qsnn_rng_uniform(&r);
    u.range_mul = 0.7 + 0.6 * qsnn_rng_uniform(&r);
    u.rand_seed = (unsigned)(qsnn_rng_u64(&r) >> 33);
    int do_reverb = qsnn_rng_uniform(&r) < 0.35;
    int wide_level = qsnn_rng_uniform(&r) < 0.4;
    double level_db = wide_level ? -24.0 + 21.0 * qsnn_rng_uniform(&r) : -8.0 + 7.0 * qsnn_rng_uniform(&r);
    double floor_db = -75.0 + 20.0 * qsnn_rng_uniform(&r);
    uint64_t place = qsnn_rng_u64(&r);

    float *x16 = NULL, *word_buf = NULL, *clip = NULL;
    size_t n16 = 0, b = 0, e = 0;
    qsnn_status st = QSNN_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        float *raw = NULL;
        size_t nraw = 0;
        int rate = 0;
        st = synth_speak(v, word, &u, &raw, &nraw, &rate);
        if (st)
            return st;
        free(x16);
        x16 = NULL;
        st = qsnn_audio_resample(raw, nraw, (double)FS / rate, QSNN_RESAMPLE_FASTEST, 0, &x16, &n16);
        free(raw);
        if (st)
            return st;
        synth_trim_bounds(x16, n16, 0, &b, &e);
        if (e == b) {
            free(x16);
            return qsnn_fail(QSNN_ERR_DEPENDENCY, "%s: voice %s said nothing for '%s'", path, v->name, word);
        }
        if (e - b + 2 * MARGIN <= WORD_MAX)
            break;
        /* Too long: speak faster, by a little more than the excess. */
        double f = (double)(e - b + 2 * MARGIN) / WORD_MAX * 1.08;
        u.rate_mul *= f > 1.6 ? 1.6 : f;
    }
    /* The speech [b, e) with MARGIN samples on each side: the synthesizer's own lead-in and tail where it has
     * them, zeros where it has none (a word that starts at its first sample gets a 2 ms fade-in, not a click). */
    size_t len = e - b + 2 * MARGIN;
    float *padded = calloc(len, sizeof *padded);
    if (!padded) {
        free(x16);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: word buffer", path);
    }
    size_t lead = b < MARGIN ? b : MARGIN, trail = n16 - e < MARGIN ? n16 - e : MARGIN;
    memcpy(padded + (MARGIN - lead), x16 + b - lead, (e - b + lead + trail) * sizeof *padded);
    const size_t ramp = 32;
    for (size_t i = 0; i < ramp && i < e - b; i++) {
        float g = 0.5f - 0.5f * cosf(3.14159265f * (float)i / (float)ramp);
        if (lead == 0)
            padded[MARGIN + i] *= g;
        if (trail == 0)
            padded[MARGIN + (e - b) - 1 - i] *= g;
    }
    free(x16);
    x16 = padded;
    b = 0;
    if (len > WORD_MAX) { /* last resort: time-compress (raises the pitch a little) */
        float *c = NULL;
        size_t nc = 0;
        st = qsnn_audio_resample(x16 + b, len, (double)(WORD_MAX - 64) / (double)len, QSNN_RESAMPLE_FASTEST, 0, &c,
                                     &nc);
        free(x16);
        if (st)
            return st;
        x16 = c;
        b = 0;
        len = nc < WORD_MAX ? nc : WORD_MAX;
    }
    size_t wlen = len;
    if (do_reverb) {
        size_t tail = (size_t)(0.25 * FS);
        wlen = len + tail < CLIP ? len + tail : CLIP;
    }
    word_buf = malloc(wlen * sizeof *word_buf);
    clip = malloc(CLIP * sizeof *clip);
    if (!word_buf || !clip) {
        free(x16);
        free(word_buf);
        free(clip);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: clip buffers", path);
    }
    if (do_reverb) {
        reverb(word_buf, wlen, x16 + b, len, &r);
        /* 10 ms fade at the end of the tail so that cutting it never clicks. */
        size_t fade = 160;
        for (size_t i = 0; i < fade; i++)
            word_buf[wlen - 1 - i] *= (float)i / (float)fade;
    } else {
        memcpy(word_buf, x16 + b, len * sizeof *word_buf);
    }
    free(x16);
    double peak = 0.0;
    for (size_t i = 0; i < wlen; i++)
        peak = fmax(peak, fabs((double)word_buf[i]));
    double gain = peak > 0.0 ? pow(10.0, level_db / 20.0) / peak : 0.0;
    size_t off = (size_t)(place % (uint64_t)(CLIP - wlen + 1));
    double sigma = pow(10.0, floor_db / 20.0);
    for (size_t i = 0; i < CLIP; i++) {
        double s = sigma * qsnn_rng_normal(&r);
        if (i >= off && i < off + wlen)
            s += gain * word_buf[i - off];
        clip[i] = (float)s;
    }
    free(word_buf);
    st = qsnn_audio_write_wav16(path, clip, CLIP, FS);
    free(clip);
    return st;
}
