/* SPDX-License-Identifier: Apache-2.0 */
/* export_pcm.c: the PCM test vector of `qsnn export --pcm` (tools/export_pcm.h).
 *
 * The host computes the reference exactly as the firmware does: PCM16 -> qsnn_mfcc_device_frame_s16 (the libc-only
 * front end that examples/mcu builds for the Cortex-M4; the same bits on both, mfcc_device.h) -> the model's uint8
 * scaling, once per 20 ms frame; each one-second window every hop (a multiple of 20 ms: its frames are the frames
 * of the whole audio from hop / 320 * w on, as qsnn stream's incremental MFCC) -> the engine. It also runs the
 * host's default front end (qsnn_mfcc, KissFFT) on the same samples and counts where its uint8 features and
 * classes differ, so that the export says what the device's front end changes. */
#include "export_pcm.h"

#include "qsnn/audio.h"
#include "qsnn/data.h"
#include "qsnn/mfcc_device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K QSNN_MFCC_DEVICE_COEFFS

static qsnn_status read_pcm(export_pcm *v, const char *const *paths, int npaths, size_t cap)
{
    size_t n = 0;
    v->pcm = calloc(cap > QSNN_CLIP_SAMPLES ? cap : QSNN_CLIP_SAMPLES, sizeof *v->pcm);
    if (!v->pcm)
        return qsnn_fail(QSNN_ERR_NOMEM, "export --pcm: out of memory");
    for (int p = 0; p < npaths && n < cap; p++) {
        float *x = NULL;
        size_t len = 0;
        qsnn_status st = qsnn_audio_read(paths[p], &x, &len, NULL);
        if (st != QSNN_OK)
            return st;
        for (size_t i = 0; i < len && n < cap; i++) { /* 16-bit audio comes back exactly (docs/design.md s1.1) */
            float s = nearbyintf(x[i] * 32768.0f);
            v->pcm[n++] = (int16_t)(s > 32767.0f ? 32767.0f : s < -32768.0f ? -32768.0f : s);
        }
        free(x);
    }
    v->n = n < QSNN_CLIP_SAMPLES ? QSNN_CLIP_SAMPLES : n; /* shorter than a second: one zero-padded window */
    return QSNN_OK;
}

qsnn_status export_pcm_build(export_pcm *v, const qsnn_snn_model *m, const char *const *paths, int npaths,
                             double seconds, int hop)
{
    memset(v, 0, sizeof *v);
    const int frames_per_window = 1 + (QSNN_CLIP_SAMPLES - QSNN_MFCC_DEVICE_WINDOW) / QSNN_MFCC_DEVICE_STRIDE;
    const size_t in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    if (in_n != (size_t)frames_per_window * K)
        return qsnn_fail(QSNN_ERR_SHAPE, "export --pcm: the model's input is %dx%dx%d, not a one-second MFCC "
                         "(%dx%d)", m->in_h, m->in_w, m->in_c, frames_per_window, K);
    if (hop <= 0 || hop % QSNN_MFCC_DEVICE_STRIDE)
        return qsnn_fail(QSNN_ERR_ARG, "export --pcm: hop %d samples is not a multiple of %d", hop,
                         QSNN_MFCC_DEVICE_STRIDE);
    v->hop = hop;
    qsnn_status st = read_pcm(v, paths, npaths, (size_t)(seconds * QSNN_SAMPLE_RATE));
    if (st != QSNN_OK)
        return st;
    v->frames = qsnn_mfcc_device_num_frames(v->n);
    v->windows = 1 + (v->n - QSNN_CLIP_SAMPLES) / (size_t)hop;
    const int nc = m->num_classes;
    qsnn_mfcc_device *fe = malloc(sizeof *fe);
    float *f = malloc(v->frames * K * sizeof *f), *g = malloc(v->frames * K * sizeof *g);
    float *xf = malloc(v->n * sizeof *xf);
    uint8_t *gu = malloc(v->frames * K);
    void *mem = malloc(qsnn_snn_mem_size(m));
    v->feat = malloc(v->frames * K);
    v->hash = malloc(v->frames * sizeof *v->hash);
    v->pot = malloc(v->windows * (size_t)nc * sizeof *v->pot);
    v->pred = malloc(v->windows * sizeof *v->pred);
    qsnn_mfcc *mf = NULL;
    qsnn_snn_ctx *ctx = NULL;
    if (!fe || !f || !g || !xf || !gu || !mem || !v->feat || !v->hash || !v->pot || !v->pred)
        st = qsnn_fail(QSNN_ERR_NOMEM, "export --pcm: out of memory");
    if (st == QSNN_OK) {
        qsnn_mfcc_device_init(fe);
        for (size_t t = 0; t < v->frames; t++) /* the device's path, frame by frame from PCM16 */
            qsnn_mfcc_device_frame_s16(fe, f + t * K, v->pcm + t * QSNN_MFCC_DEVICE_STRIDE);
        qsnn_features_to_u8(v->feat, f, v->frames * K, m->scale_min, m->scale_max);
        for (size_t t = 0; t < v->frames; t++)
            v->hash[t] = qsnn_mfcc_device_hash(f + t * K);
        for (size_t i = 0; i < v->n; i++)
            xf[i] = (float)v->pcm[i] / 32768.0f;
        qsnn_mfcc_params mp;
        qsnn_mfcc_default_params(&mp);
        st = qsnn_mfcc_create(&mf, &mp);
    }
    if (st == QSNN_OK)
        st = qsnn_mfcc_compute(mf, g, xf, v->n); /* the host's default path, for the counts */
    if (st == QSNN_OK) {
        qsnn_features_to_u8(gu, g, v->frames * K, m->scale_min, m->scale_max);
        for (size_t i = 0; i < v->frames * K; i++) {
            int d = abs((int)v->feat[i] - (int)gu[i]);
            v->u8_diff += d != 0;
            v->u8_maxdiff = d > v->u8_maxdiff ? d : v->u8_maxdiff;
        }
        st = qsnn_snn_init(&ctx, m, mem, qsnn_snn_mem_size(m));
    }
    const size_t shift = (size_t)hop / QSNN_MFCC_DEVICE_STRIDE * K;
    for (size_t w = 0; w < v->windows && st == QSNN_OK; w++) {
        int32_t other;
        st = qsnn_snn_run(ctx, v->feat + w * shift, v->pot + w * (size_t)nc, &v->pred[w], NULL);
        if (st == QSNN_OK)
            st = qsnn_snn_run(ctx, gu + w * shift, NULL, &other, NULL);
        if (st == QSNN_OK)
            v->pred_diff += other != v->pred[w];
    }
    qsnn_mfcc_destroy(mf);
    free(mem);
    free(gu);
    free(xf);
    free(g);
    free(f);
    free(fe);
    return st;
}

qsnn_status export_pcm_write_decl(const export_pcm *v, const qsnn_snn_model *m, export_put_fn put,
                                  qsnn_atomic_file *f, qsnn_status st, const char *name, const char *up)
{
    const int nc = m->num_classes;
    st = put(f, st, "\n/* PCM test vector (qsnn export --pcm): %zu samples of 16 kHz PCM16; this host's reference\n"
                    " * from them with the device's front end (qsnn_mfcc_device) and the engine: %zu frames of uint8\n"
                    " * MFCC, a one-second window every %d samples: %zu windows of potentials and classes. The\n"
                    " * host's default front end (qsnn_mfcc) differs in %zu uint8 values (by at most %d) and %zu\n"
                    " * classes. */\n",
             v->n, v->frames, v->hop, v->windows, v->u8_diff, v->u8_maxdiff, v->pred_diff);
    st = put(f, st, "#define %s_PCM_SAMPLES %zu\n#define %s_PCM_FRAMES %zu\n#define %s_PCM_HOP %d\n"
                    "#define %s_PCM_WINDOWS %zu\n",
             up, v->n, up, v->frames, up, v->hop, up, v->windows);
    st = put(f, st, "QSNN_EXPORT_DECL const int16_t %s_pcm[%zu];\n", name, v->n);
    st = put(f, st, "QSNN_EXPORT_DECL const unsigned char %s_pcm_features[%zu];\n", name, v->frames * K);
    st = put(f, st, "/* qsnn_mfcc_device_hash of each frame's float MFCC: its bits, not only the uint8 values */\n"
                    "QSNN_EXPORT_DECL const uint32_t %s_pcm_mfcc_hash[%zu];\n", name, v->frames);
    st = put(f, st, "QSNN_EXPORT_DECL const int32_t %s_pcm_potentials[%zu];\n", name, v->windows * (size_t)nc);
    return put(f, st, "QSNN_EXPORT_DECL const int16_t %s_pcm_classes[%zu];\n", name, v->windows);
}

qsnn_status export_pcm_write(const export_pcm *v, const qsnn_snn_model *m, export_put_fn put, qsnn_atomic_file *f,
                             qsnn_status st, const char *name)
{
    const int nc = m->num_classes;
    st = put(f, st, "QSNN_EXPORT_DEF const int16_t %s_pcm[%zu] = {", name, v->n);
    for (size_t i = 0; i < v->n; i++)
        st = put(f, st, "%s%d%s", i % 16 ? "" : "\n    ", v->pcm[i], i + 1 < v->n ? "," : "");
    st = put(f, st, "\n};\nQSNN_EXPORT_DEF const unsigned char %s_pcm_features[%zu] = {", name, v->frames * K);
    for (size_t i = 0; i < v->frames * K; i++)
        st = put(f, st, "%s%u%s", i % K ? "" : "\n    ", (unsigned)v->feat[i], i + 1 < v->frames * K ? "," : "");
    st = put(f, st, "\n};\nQSNN_EXPORT_DEF const uint32_t %s_pcm_mfcc_hash[%zu] = {", name, v->frames);
    for (size_t i = 0; i < v->frames; i++)
        st = put(f, st, "%s0x%08lx%s", i % 8 ? "" : "\n    ", (unsigned long)v->hash[i],
                 i + 1 < v->frames ? "," : "");
    st = put(f, st, "\n};\nQSNN_EXPORT_DEF const int32_t %s_pcm_potentials[%zu] = {", name, v->windows * (size_t)nc);
    for (size_t i = 0; i < v->windows * (size_t)nc; i++)
        st = put(f, st, "%s%ld%s", i % (size_t)nc ? "" : "\n    ", (long)v->pot[i],
                 i + 1 < v->windows * (size_t)nc ? "," : "");
    st = put(f, st, "\n};\nQSNN_EXPORT_DEF const int16_t %s_pcm_classes[%zu] = {", name, v->windows);
    for (size_t i = 0; i < v->windows; i++)
        st = put(f, st, "%s%d%s", i % 20 ? "" : "\n    ", (int)v->pred[i], i + 1 < v->windows ? "," : "");
    return put(f, st, "\n};\n");
}

qsnn_status export_pcm_write_wav(const export_pcm *v, const char *path)
{
    float *x = malloc(v->n * sizeof *x);
    if (!x)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < v->n; i++)
        x[i] = (float)v->pcm[i] / 32768.0f; /* written back as the same PCM16 (docs/design.md s1.1) */
    qsnn_status st = qsnn_audio_write_wav16(path, x, v->n, QSNN_SAMPLE_RATE);
    free(x);
    return st;
}

void export_pcm_free(export_pcm *v)
{
    free(v->pcm);
    free(v->feat);
    free(v->hash);
    free(v->pot);
    free(v->pred);
    memset(v, 0, sizeof *v);
}
