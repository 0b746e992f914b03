/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_audio.c: the audio path of every command (libsndfile's WAV/FLAC/... decoders behind qsnn's checks, the
 * resampler, the stream): whole-file read, one-second clip, and the stream in pieces; a decoded clip goes
 * through the MFCC, which must give finite features. */
#include "fuzz_common.h"
#include "qsnn/audio.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".wav");
    if (!path)
        return 0;
    static float clip[QSNN_CLIP_SAMPLES];
    if (qsnn_audio_read_clip(path, clip, QSNN_CLIP_SAMPLES) == QSNN_OK) {
        qsnn_mfcc_params p;
        qsnn_mfcc_default_params(&p);
        qsnn_mfcc *m = NULL;
        if (qsnn_mfcc_create(&m, &p) == QSNN_OK) {
            static float feat[49 * 10];
            if (qsnn_mfcc_num_frames(m, QSNN_CLIP_SAMPLES) * qsnn_mfcc_num_coeffs(m) <= 490 &&
                qsnn_mfcc_compute(m, feat, clip, QSNN_CLIP_SAMPLES) == QSNN_OK)
                for (int i = 0; i < 490; i++)
                    if (!isfinite(feat[i]))
                        abort(); /* the reader let through samples that poison the features */
            qsnn_mfcc_destroy(m);
        }
    }
    qsnn_audio_stream *s;
    if (qsnn_audio_stream_open(&s, path, NULL) == QSNN_OK) {
        static float buf[1600];
        size_t got = 0, total = 0;
        while (qsnn_audio_stream_read(s, buf, sizeof buf / sizeof buf[0], &got) == QSNN_OK && got > 0 &&
               total < 10 * QSNN_CLIP_SAMPLES)
            total += got;
        qsnn_audio_stream_close(s);
    }
    return 0;
}
