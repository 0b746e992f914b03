/* SPDX-License-Identifier: Apache-2.0 */
/* export_pcm.h: the PCM test vector of `qsnn export --pcm`: audio as PCM16 and what this host computes from it
 * with the device's front end (qsnn/mfcc_device.h) and the engine, window by window, for a firmware to reproduce
 * exactly (examples/mcu). */
#ifndef QSNN_TOOLS_EXPORT_PCM_H
#define QSNN_TOOLS_EXPORT_PCM_H

#include "qsnn/io.h"
#include "qsnn/snn.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int16_t *pcm;      /* [n] the audio files joined, cut to the length asked, zero-padded to one second */
    size_t n;
    size_t frames;     /* MFCC frames of the whole audio */
    uint8_t *feat;     /* [frames][10] uint8 features (qsnn_mfcc_device + the model's scaling) */
    uint32_t *hash;    /* [frames] FNV-1a of each frame's 10 float features' bits (qsnn_mfcc_device_hash) */
    size_t windows;    /* one-second windows every hop */
    int hop;           /* samples between windows, a multiple of the MFCC stride */
    int32_t *pot;      /* [windows][classes] the engine's potentials */
    int32_t *pred;     /* [windows] its class */
    size_t u8_diff;    /* uint8 values where qsnn_mfcc (KissFFT, the host's default) gives another value */
    int u8_maxdiff;    /* ... the largest such difference */
    size_t pred_diff;  /* windows where qsnn_mfcc's features give another class */
} export_pcm;

/* Read paths[npaths] (any format qsnn_audio_read takes), join them, keep at most `seconds`, and compute the
 * reference. Frees nothing on failure but leaves v safe for export_pcm_free. */
qsnn_status export_pcm_build(export_pcm *v, const qsnn_snn_model *m, const char *const *paths, int npaths,
                             double seconds, int hop);

/* The printf-like writer of cmd_export.c: returns the first failure. */
typedef qsnn_status (*export_put_fn)(qsnn_atomic_file *f, qsnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Into the header's declarations: the comment, NAME_PCM_* and the extern declarations of NAME_pcm* (name
 * lower-case, up its upper-case form; QSNN_EXPORT_DECL, cmd_export.c). */
qsnn_status export_pcm_write_decl(const export_pcm *v, const qsnn_snn_model *m, export_put_fn put,
                                  qsnn_atomic_file *f, qsnn_status st, const char *name, const char *up);
/* Into its implementation part (NAME_MODEL_IMPLEMENTATION): the definitions of NAME_pcm* (QSNN_EXPORT_DEF). */
qsnn_status export_pcm_write(const export_pcm *v, const qsnn_snn_model *m, export_put_fn put, qsnn_atomic_file *f,
                             qsnn_status st, const char *name);

/* The joined samples v->pcm[v->n] as a 16 kHz 16-bit WAV (so that `qsnn stream` can run on the same audio). */
qsnn_status export_pcm_write_wav(const export_pcm *v, const char *path);

void export_pcm_free(export_pcm *v);

#endif
