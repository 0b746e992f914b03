/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: keyword spotting on a microcontroller with qsnn's front end and integer engine, as a firmware does it.
 *
 * kws_model.h comes from `qsnn export kws.snn -o kws_model.h --pcm AUDIO...`: the model image (in flash, used in
 * place), the workspace size, the labels, the input scaling, and a test vector that starts from PCM: a few
 * seconds of 16 kHz PCM16 (kws_pcm) and what the host computed from them with the same front end
 * (src/audio/mfcc_device.c) and engine: every 20 ms frame's uint8 MFCC, every window's potentials and class.
 *
 * The firmware streams the PCM as a microphone would deliver it: for each one-second window every KWS_PCM_HOP
 * samples it computes only the frames the window has not seen yet (5 per 100 ms hop; every frame depends on its own
 * 640 samples only), scales them to uint8 with KWS_SCALE_MIN/MAX, slides them into the engine's 49x10 input, runs
 * the engine in a static workspace of KWS_WORKSPACE_SIZE bytes (no heap) and prints the window's class. It
 * compares every frame's float MFCC (a hash of its bits), every uint8 feature, potential and class with the host's
 * and returns 0 only if all are equal.
 * With `--input CLIP` instead (kws_test_input: features computed on the host), it checks the engine alone.
 *
 * Cycles: board_ticks() (startup_m4.c: SysTick on the processor clock) around the front end and the engine. Under
 * QEMU's -icount shift=0 every instruction advances the clock by 1 ns, so ticks count instructions (40 per tick at
 * the AN386's 25 MHz); the firmware calibrates this with a loop of known instruction count and prints instructions.
 * Board glue (console, exit, ticks) is board_*: startup_m4.c implements it for QEMU's mps2-an386. */
#define KWS_MODEL_IMPLEMENTATION /* the model arrays are defined here (single-header pattern) */
#include "kws_model.h"
#include "qsnn/mfcc_device.h"
#include "qsnn/snn.h"
#ifdef KWS_LOGIT_SCALE /* the model has a logit scale: class scores and the keyword detector (qsnn/detect.h) */
#include "qsnn/detect.h"
#endif

#include <stdio.h>
#include <string.h>

void board_puts(const char *s);
uint32_t board_ticks(void);           /* a free-running down-counter, 24 bits */
uint32_t board_insns_per_tick_x16(void); /* instructions per tick * 16, measured */

static _Alignas(16) unsigned char work[KWS_WORKSPACE_SIZE];

static uint32_t elapsed(uint32_t t0, uint32_t t1) { return (t0 - t1) & 0xFFFFFFu; } /* down-counter */

#ifdef KWS_PCM_SAMPLES
#define FRAMES (KWS_INPUT_H)                       /* 49 frames of a one-second window */
#define SHIFT (KWS_PCM_HOP / QSNN_MFCC_DEVICE_STRIDE) /* new frames per window */
#define K QSNN_MFCC_DEVICE_COEFFS

static qsnn_mfcc_device fe;
static uint8_t x[FRAMES * K]; /* the engine's input: the window's frames, oldest first */
#ifdef KWS_LOGIT_SCALE
static _Alignas(16) unsigned char det_mem[2048]; /* the detector's memory (qsnn_detect_mem_size: ~300 bytes) */
#endif

static int run_pcm(qsnn_snn_ctx *ctx)
{
    char line[160];
    long bad_feat = 0, bad_float = 0, bad_pot = 0, bad_class = 0;
    uint32_t hash[FRAMES];
    uint64_t fe_ticks = 0, engine_ticks = 0;
    uint32_t fe_frames = 0;
#ifdef KWS_LOGIT_SCALE
    /* the detector as `qsnn stream` runs it: the model's (calibrated or default) parameters, keywords = labels
     * not starting with '_' */
    const qsnn_detect_params dp = {KWS_DETECT_THRESHOLD, KWS_DETECT_AVERAGE_MS, KWS_DETECT_SUPPRESS_MS,
                                   KWS_PCM_HOP / 16, 1000};
    uint8_t is_kw[KWS_NUM_CLASSES];
    for (int c = 0; c < KWS_NUM_CLASSES; c++)
        is_kw[c] = kws_labels[c][0] != '_';
    qsnn_detector *det = NULL;
    if (qsnn_detect_init(&det, &dp, KWS_NUM_CLASSES, is_kw, det_mem, sizeof det_mem) != QSNN_OK) {
        snprintf(line, sizeof line, "kws: %s\n", qsnn_last_error());
        board_puts(line);
        return 2;
    }
    int ndet = 0;
#endif
    for (int w = 0; w < KWS_PCM_WINDOWS; w++) {
        const int first = w == 0 ? 0 : FRAMES - SHIFT; /* frames of this window to compute */
        if (w > 0)
            memmove(x, x + SHIFT * K, (size_t)(FRAMES - SHIFT) * K);
        uint32_t t0 = board_ticks();
        for (int t = first; t < FRAMES; t++) {
            float c[K];
            const long frame = (long)w * SHIFT + t; /* index in the whole audio */
            qsnn_mfcc_device_frame_s16(&fe, c, kws_pcm + frame * QSNN_MFCC_DEVICE_STRIDE);
            qsnn_features_to_u8(x + t * K, c, K, KWS_SCALE_MIN, KWS_SCALE_MAX);
            hash[t] = qsnn_mfcc_device_hash(c);
            fe_frames++;
        }
        uint32_t t1 = board_ticks();
        for (int t = first; t < FRAMES; t++)
            bad_float += hash[t] != kws_pcm_mfcc_hash[(long)w * SHIFT + t];
        for (int t = first; t < FRAMES; t++)
            for (int k = 0; k < K; k++)
                bad_feat += x[t * K + k] != kws_pcm_features[((long)w * SHIFT + t) * K + k];
        int32_t pot[KWS_NUM_CLASSES], pred = -1;
        uint32_t t2 = board_ticks();
        if (qsnn_snn_run(ctx, x, pot, &pred, NULL) != QSNN_OK) {
            snprintf(line, sizeof line, "kws: %s\n", qsnn_last_error());
            board_puts(line);
            return 2;
        }
        uint32_t t3 = board_ticks();
        fe_ticks += elapsed(t0, t1);
        engine_ticks += elapsed(t2, t3);
        int same = !memcmp(pot, kws_pcm_potentials + (long)w * KWS_NUM_CLASSES, sizeof pot);
        bad_pot += !same;
        bad_class += pred != kws_pcm_classes[w];
        const long ms = (long)w * KWS_PCM_HOP / 16; /* the window's start; printed as `qsnn stream --all` does */
#ifdef KWS_LOGIT_SCALE
        float scores[KWS_NUM_CLASSES];
        qsnn_detect_scores(scores, pot, KWS_NUM_CLASSES, KWS_LOGIT_SCALE);
        snprintf(line, sizeof line, "window %4ld.%03ld s  %-12s %.4f%s\n", ms / 1000, ms % 1000, kws_labels[pred],
                 (double)scores[pred], same && pred == kws_pcm_classes[w] ? "" : "  DIFFERS from the host");
        board_puts(line);
        qsnn_detection d;
        if (qsnn_detect_feed(det, scores, &d)) { /* the line `qsnn stream` prints for a detection */
            snprintf(line, sizeof line, "%8.3f s  %-12s score %.4f  (%.3f-%.3f s, decided at %.3f s)\n", d.start_s,
                     kws_labels[d.label], (double)d.score, d.start_s, d.end_s, d.time_s);
            board_puts(line);
            ndet++;
        }
#else
        snprintf(line, sizeof line, "window %4ld.%03ld s  %s%s\n", ms / 1000, ms % 1000, kws_labels[pred],
                 same && pred == kws_pcm_classes[w] ? "" : "  DIFFERS from the host");
        board_puts(line);
#endif
    }
#ifdef KWS_LOGIT_SCALE
    snprintf(line, sizeof line, "kws: %d detections (scores averaged over %d ms >= %.4f, suppression %d ms)\n", ndet,
             KWS_DETECT_AVERAGE_MS, (double)KWS_DETECT_THRESHOLD, KWS_DETECT_SUPPRESS_MS);
    board_puts(line);
#endif
    const uint32_t ipt16 = board_insns_per_tick_x16();
    snprintf(line, sizeof line,
             "kws: %d windows from %ld PCM samples: float MFCC bits %s, uint8 features %s, potentials %s, classes %s "
             "the host's\n",
             KWS_PCM_WINDOWS, (long)KWS_PCM_SAMPLES, bad_float ? "DIFFER from" : "equal to",
             bad_feat ? "DIFFER from" : "equal to", bad_pot ? "DIFFER from" : "equal to",
             bad_class ? "DIFFER from" : "equal to");
    board_puts(line);
    snprintf(line, sizeof line, "kws: %ld frames' float MFCC, %ld uint8 features, %ld windows' potentials, %ld classes "
             "differ\n", bad_float, bad_feat, bad_pot, bad_class);
    board_puts(line);
    snprintf(line, sizeof line,
             "kws: instructions (QEMU -icount; %lu.%02lu per tick): front end %lu per frame, engine %lu per window, "
             "%lu per %d ms hop\n",
             (unsigned long)(ipt16 / 16), (unsigned long)(ipt16 % 16 * 100 / 16),
             (unsigned long)(fe_ticks * ipt16 / 16 / fe_frames),
             (unsigned long)(engine_ticks * ipt16 / 16 / KWS_PCM_WINDOWS),
             (unsigned long)((fe_ticks * ipt16 / 16 / fe_frames) * SHIFT + engine_ticks * ipt16 / 16 / KWS_PCM_WINDOWS),
             KWS_PCM_HOP / 16);
    board_puts(line);
    return bad_float || bad_feat || bad_pot || bad_class;
}
#endif

int main(void)
{
    char line[160];
    qsnn_snn_model m;
    qsnn_snn_ctx *ctx;
    if (qsnn_snn_model_init(&m, kws_model, KWS_MODEL_SIZE, "flash") != QSNN_OK ||
        qsnn_snn_init(&ctx, &m, work, sizeof work) != QSNN_OK) {
        snprintf(line, sizeof line, "kws: %s\n", qsnn_last_error());
        board_puts(line);
        return 2;
    }
    snprintf(line, sizeof line, "kws: model %d bytes, workspace %d bytes\n", (int)KWS_MODEL_SIZE, (int)sizeof work);
    board_puts(line);
    int status = 0;
#ifdef KWS_TEST_CLASS
    int32_t pot[KWS_NUM_CLASSES], pred = -1;
    if (qsnn_snn_run(ctx, kws_test_input, pot, &pred, NULL) != QSNN_OK) {
        snprintf(line, sizeof line, "kws: %s\n", qsnn_last_error());
        board_puts(line);
        return 2;
    }
    int same = pred == KWS_TEST_CLASS && !memcmp(pot, kws_test_potentials, sizeof pot);
    snprintf(line, sizeof line, "kws: test input: class %ld (%s), potentials %s the host's\n", (long)pred,
             kws_labels[pred], same ? "equal to" : "DIFFER from");
    board_puts(line);
    status |= !same;
#endif
#ifdef KWS_PCM_SAMPLES
    qsnn_mfcc_device_init(&fe);
    status |= run_pcm(ctx);
#endif
    return status;
}
