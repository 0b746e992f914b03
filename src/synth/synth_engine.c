/* SPDX-License-Identifier: Apache-2.0 */
/* synth_engine.c: the two speech synthesizers behind `qsnn synth`, through their C libraries.
 *
 * espeak-ng (libespeak-ng, data in the espeak-ng-data package): synchronous output, samples collected by the synth
 * callback at espeak_ng_GetSampleRate() Hz (22050). flite (libflite and its cmu_us_* voice libraries): waves at the
 * voice's own rate (8 kHz for kal, 16 kHz for the others).
 *
 * Invariant: synth_engines_init runs in the parent and never speaks; synth_speak runs in forked clip processes.
 * Both libraries keep state between utterances (pitch flutter, filter memories, rand()), so a clip made in a
 * fresh fork of a never-used state is the same whatever was spoken before: determinism and resumability rest on
 * this. espeak_ng_Terminate is never called: re-initialising espeak-ng in one process can hang. */
#include "synth/synth_internal.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <flite/flite.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);

static int g_espeak_ready;
static int g_espeak_rate;
static int g_flite_ready;
static struct {
    const char *name;
    cst_voice *(*reg)(const char *);
    cst_voice *voice;
} g_flite[] = {{"kal", register_cmu_us_kal, NULL},
               {"kal16", register_cmu_us_kal16, NULL},
               {"awb", register_cmu_us_awb, NULL},
               {"rms", register_cmu_us_rms, NULL},
               {"slt", register_cmu_us_slt, NULL}};

/* Samples collected by the espeak-ng callback (clip process only). */
static struct {
    short *s;
    size_t n, cap;
    int failed;
} g_pcm;

static int espeak_cb(short *wav, int num, espeak_EVENT *ev)
{
    (void)ev;
    if (!wav || num <= 0)
        return 0;
    if (g_pcm.n + (size_t)num > g_pcm.cap) {
        size_t cap = (g_pcm.n + (size_t)num) * 2 + 4096;
        short *p = realloc(g_pcm.s, cap * sizeof *p);
        if (!p) {
            g_pcm.failed = 1;
            return 1; /* abort synthesis */
        }
        g_pcm.s = p;
        g_pcm.cap = cap;
    }
    memcpy(g_pcm.s + g_pcm.n, wav, (size_t)num * sizeof *wav);
    g_pcm.n += (size_t)num;
    return 0;
}

qsnn_status synth_engines_init(const char *espeak_data)
{
    if (espeak_data) {
        /* espeak-ng silently falls back to its built-in folder when given a wrong one: check it ourselves. Once
         * espeak-ng runs in this process, its folder stays the one of the first call. */
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/phontab", espeak_data);
        if (stat(p, &st) != 0)
            return qsnn_fail(QSNN_ERR_DEPENDENCY,
                             "espeak-ng data not found in %s (no phontab): install the Debian package "
                             "espeak-ng-data (apt-get install espeak-ng-data libespeak-ng1)",
                             espeak_data);
    }
    if (!g_espeak_ready) {
        espeak_ng_InitializePath(espeak_data);
        espeak_ng_ERROR_CONTEXT ctx = NULL;
        espeak_ng_STATUS s = espeak_ng_Initialize(&ctx);
        if (s != ENS_OK) {
            char msg[256];
            espeak_ng_GetStatusCodeMessage(s, msg, sizeof msg);
            espeak_ng_ClearErrorContext(&ctx);
            return qsnn_fail(QSNN_ERR_DEPENDENCY,
                             "espeak-ng cannot start (%s): install the Debian packages espeak-ng-data and "
                             "libespeak-ng1 (apt-get install espeak-ng-data libespeak-ng1)",
                             msg);
        }
        s = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
        if (s != ENS_OK) {
            char msg[256];
            espeak_ng_GetStatusCodeMessage(s, msg, sizeof msg);
            return qsnn_fail(QSNN_ERR_DEPENDENCY, "espeak-ng: cannot set up synchronous output: %s", msg);
        }
        espeak_SetSynthCallback(espeak_cb);
        /* Fill espeak-ng's voice list and load the English dictionary once, here: otherwise every clip process
         * would scan and stat the whole voices folder and read en_dict again (measured: a third of the time per
         * clip). The state stays the same for every clip (nothing is spoken), so determinism is kept. */
        (void)espeak_ListVoices(NULL);
        if (espeak_ng_SetVoiceByName("en") != ENS_OK)
            return qsnn_fail(QSNN_ERR_DEPENDENCY,
                             "espeak-ng has no English voice: install the Debian package espeak-ng-data");
        g_espeak_rate = espeak_ng_GetSampleRate();
        if (g_espeak_rate < 8000 || g_espeak_rate > 96000)
            return qsnn_fail(QSNN_ERR_DEPENDENCY, "espeak-ng: unexpected sample rate %d", g_espeak_rate);
        g_espeak_ready = 1;
    }
    if (!g_flite_ready) {
        flite_init();
        for (size_t i = 0; i < sizeof g_flite / sizeof g_flite[0]; i++) {
            g_flite[i].voice = g_flite[i].reg(NULL);
            if (!g_flite[i].voice)
                return qsnn_fail(QSNN_ERR_DEPENDENCY,
                                 "flite voice cmu_us_%s cannot be loaded: install the Debian package flite1-dev "
                                 "(libflite1)",
                                 g_flite[i].name);
        }
        g_flite_ready = 1;
    }
    return QSNN_OK;
}

static qsnn_status speak_espeak(const qsnn_synth_voice *v, const char *word, const synth_utt *u, float **out,
                                size_t *n, int *rate)
{
    espeak_ng_STATUS s = espeak_ng_SetVoiceByName(v->name);
    if (s != ENS_OK)
        return qsnn_fail(QSNN_ERR_DEPENDENCY,
                         "espeak-ng voice '%s' not found: install the Debian package espeak-ng-data", v->name);
    double wpm = v->rate * u->rate_mul;
    double pitch = v->pitch * u->pitch_mul;
    double range = v->pitch_range * u->range_mul;
    wpm = wpm < espeakRATE_MINIMUM ? espeakRATE_MINIMUM : wpm > espeakRATE_MAXIMUM ? espeakRATE_MAXIMUM : wpm;
    pitch = pitch < 0 ? 0 : pitch > 100 ? 100 : pitch;
    range = range < 0 ? 0 : range > 100 ? 100 : range;
    espeak_ng_SetParameter(espeakRATE, (int)(wpm + 0.5), 0);
    espeak_ng_SetParameter(espeakPITCH, (int)(pitch + 0.5), 0);
    espeak_ng_SetParameter(espeakRANGE, (int)(range + 0.5), 0);
    espeak_ng_SetParameter(espeakVOLUME, 100, 0);
    g_pcm.n = 0;
    g_pcm.failed = 0;
    srand(u->rand_seed);
    s = espeak_ng_Synthesize(word, strlen(word) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
    if (s != ENS_OK || g_pcm.failed) {
        char msg[256] = "out of memory";
        if (s != ENS_OK)
            espeak_ng_GetStatusCodeMessage(s, msg, sizeof msg);
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "espeak-ng voice %s, word '%s': %s", v->name, word, msg);
    }
    if (g_pcm.n == 0)
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "espeak-ng voice %s, word '%s': no audio", v->name, word);
    float *x = malloc(g_pcm.n * sizeof *x);
    if (!x)
        return qsnn_fail(QSNN_ERR_NOMEM, "espeak-ng: %zu samples", g_pcm.n);
    for (size_t i = 0; i < g_pcm.n; i++)
        x[i] = (float)g_pcm.s[i] * (1.0f / 32768.0f);
    *out = x;
    *n = g_pcm.n;
    *rate = g_espeak_rate;
    return QSNN_OK;
}

static qsnn_status speak_flite(const qsnn_synth_voice *v, const char *word, const synth_utt *u, float **out,
                               size_t *n, int *rate)
{
    cst_voice *fv = NULL;
    for (size_t i = 0; i < sizeof g_flite / sizeof g_flite[0]; i++)
        if (!strcmp(g_flite[i].name, v->name))
            fv = g_flite[i].voice;
    if (!fv)
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "flite voice '%s' is not available", v->name);
    feat_set_float(fv->features, "duration_stretch", (float)(v->rate / u->rate_mul));
    feat_set_float(fv->features, "int_f0_target_mean", (float)(v->pitch * u->pitch_mul));
    feat_set_float(fv->features, "int_f0_target_stddev", (float)(v->pitch_range * u->range_mul));
    srand(u->rand_seed);
    cst_wave *w = flite_text_to_wave(word, fv);
    if (!w || w->num_samples <= 0 || !w->samples) {
        if (w)
            delete_wave(w);
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "flite voice %s, word '%s': no audio", v->name, word);
    }
    size_t m = (size_t)w->num_samples;
    float *x = malloc(m * sizeof *x);
    if (!x) {
        delete_wave(w);
        return qsnn_fail(QSNN_ERR_NOMEM, "flite: %zu samples", m);
    }
    for (size_t i = 0; i < m; i++)
        x[i] = (float)w->samples[i] * (1.0f / 32768.0f);
    *rate = w->sample_rate;
    delete_wave(w);
    *out = x;
    *n = m;
    return QSNN_OK;
}

qsnn_status synth_speak(const qsnn_synth_voice *v, const char *word, const synth_utt *u, float **out, size_t *n,
                        int *rate)
{
    if (v->engine == QSNN_SYNTH_ESPEAK) {
        if (!g_espeak_ready)
            return qsnn_fail(QSNN_ERR_DEPENDENCY, "espeak-ng is not initialised");
        return speak_espeak(v, word, u, out, n, rate);
    }
    if (!g_flite_ready)
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "flite is not initialised");
    return speak_flite(v, word, u, out, n, rate);
}
