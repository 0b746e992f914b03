/* SPDX-License-Identifier: Apache-2.0 */
/* augment.c: TensorFlow's training augmentation and the MFCC of dataset entries (qsnn_dataset_features).
 *
 * Per entry, as TF's input_data.py get_data (docs/design.md s2.4-2.6):
 *   - time shift (augment = 1 only): shift uniform in [-T, T) with T = int(time_shift_ms * 16000 / 1000) = 1600;
 *     a positive shift pads zeros at the front, a negative one drops the start and pads the end;
 *   - background noise, when noise recordings exist and (augment = 1 or the entry is generated silence): a random
 *     recording and a random offset in [0, len - 16000) (0 when len = 16000); silence entries use volume
 *     U(0, 1) in every split and foreground volume 0; other training entries volume U(0, background_volume) with
 *     probability background_frequency, else 0;
 *   - mix clip(fg * fg_volume + bg * volume, -1, 1) in float32 as TF does, then the 49 x 10 MFCC (or the
 *     features of another front end, qsnn_dataset_features_fe);
 *   - beyond TF, each off by default (qsnn_data_opts): speed perturbation and a level change of the foreground,
 *     and SpecAugment time / frequency masks on the 49 x 10 MFCC (not on another front end's features: a
 *     teacher hears the same clip unmasked).
 * Determinism: every random draw of entry i of split s comes from the RNG stream (seed, s << 48 | i), in a fixed
 * order (shift, noise file, offset, frequency test, volume), so results do not depend on the thread count or on
 * which other entries are computed. Validation and test silence entries are therefore fixed for a given seed.
 * Parallelism: OpenMP over entries, one qsnn_frontend per thread (it holds FFT scratch). */
#include "data/dataset_internal.h"

#include "qsnn/audio.h"
#include "qsnn/frontend.h"

#include <math.h>
#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

/* speed perturbation: y(t) = x(f t), resampled with libsamplerate (sinc, fastest) and centred in the 16000-sample
 * window (a slower clip is longer and cropped at both ends, a faster one zero-padded) */
static void speed_perturb(float *out, const float *in, double factor)
{
    enum { CAP = 2 * QSNN_CLIP_SAMPLES };
    float *tmp = malloc(CAP * sizeof *tmp);
    if (!tmp) /* no memory: the clip stays as it is (augmentation only) */
        return;
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = in;
    d.input_frames = QSNN_CLIP_SAMPLES;
    d.data_out = tmp;
    d.output_frames = CAP;
    d.src_ratio = 1.0 / factor;
    if (src_simple(&d, SRC_SINC_FASTEST, 1) != 0) {
        free(tmp);
        return;
    }
    const long n = d.output_frames_gen;
    const long off = (n - QSNN_CLIP_SAMPLES) / 2; /* > 0: crop both ends; < 0: pad */
    for (long j = 0; j < QSNN_CLIP_SAMPLES; j++) {
        long k = j + off;
        out[j] = k >= 0 && k < n ? tmp[k] : 0.0f;
    }
    free(tmp);
}

void qsnn_dataset_mix(const qsnn_dataset *ds, qsnn_split s, size_t i, int augment, uint64_t seed, float *out,
                      qsnn_mix_info *info)
{
    const qsnn_data_entry *e = &ds->entries[s][i];
    const qsnn_data_opts *o = &ds->opts;
    qsnn_rng r;
    qsnn_rng_seed_stream(&r, seed, ((uint64_t)s << 48) | (uint64_t)i);
    qsnn_mix_info mi = {.shift = 0, .noise_index = -1, .noise_offset = 0, .noise_volume = 0.0f,
                        .fg_volume = 1.0f};
    int silence = e->clip < 0;
    if (silence)
        mi.fg_volume = 0.0f;

    int t = (int)(o->time_shift_ms * QSNN_SAMPLE_RATE / 1000.0);
    if (augment && t > 0)
        mi.shift = (int)qsnn_rng_range(&r, -t, t);

    if (ds->num_noise > 0 && (augment || silence)) {
        mi.noise_index = (int)qsnn_rng_below(&r, (uint64_t)ds->num_noise);
        size_t len = ds->noise_len[mi.noise_index];
        mi.noise_offset = len > QSNN_CLIP_SAMPLES ? (size_t)qsnn_rng_below(&r, len - QSNN_CLIP_SAMPLES) : 0;
        if (silence) {
            mi.noise_volume = (float)qsnn_rng_uniform(&r);
        } else {
            double u = qsnn_rng_uniform(&r);
            double v = qsnn_rng_uniform(&r) * o->background_volume;
            mi.noise_volume = u < o->background_frequency ? (float)v : 0.0f;
        }
    }

    /* the further augmentations draw after TF's draws, only when enabled (off: TF's results, bit for bit) */
    double speed = 1.0;
    if (augment && !silence && o->speed_pct > 0)
        speed = 1.0 + (2.0 * qsnn_rng_uniform(&r) - 1.0) * o->speed_pct / 100.0;
    if (augment && !silence && o->level_db > 0)
        mi.fg_volume = (float)pow(10.0, (2.0 * qsnn_rng_uniform(&r) - 1.0) * o->level_db / 20.0);

    /* foreground, shifted: out[j] = fg[j - shift] (zero outside the clip) */
    if (silence) {
        memset(out, 0, QSNN_CLIP_SAMPLES * sizeof *out);
    } else {
        const int16_t *a = ds->audio + (size_t)e->clip * QSNN_CLIP_SAMPLES;
        float *fg = NULL;
        if (speed != 1.0 && (fg = malloc(2 * QSNN_CLIP_SAMPLES * sizeof *fg)) != NULL) {
            for (int j = 0; j < QSNN_CLIP_SAMPLES; j++)
                fg[QSNN_CLIP_SAMPLES + j] = (float)a[j] * (1.0f / 32768.0f);
            speed_perturb(fg, fg + QSNN_CLIP_SAMPLES, speed);
        }
        for (int j = 0; j < QSNN_CLIP_SAMPLES; j++) {
            int src = j - mi.shift;
            float v = fg ? (src >= 0 && src < QSNN_CLIP_SAMPLES ? fg[src] : 0.0f)
                         : (src >= 0 && src < QSNN_CLIP_SAMPLES ? (float)a[src] * (1.0f / 32768.0f) : 0.0f);
            out[j] = v * mi.fg_volume;
        }
        free(fg);
    }
    if (mi.noise_index >= 0) {
        const float *bg = ds->noise[mi.noise_index] + mi.noise_offset;
        for (int j = 0; j < QSNN_CLIP_SAMPLES; j++) {
            float v = bg[j] * mi.noise_volume + out[j];
            out[j] = v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
        }
    } else {
        for (int j = 0; j < QSNN_CLIP_SAMPLES; j++) {
            float v = out[j];
            out[j] = v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
        }
    }
    if (info)
        *info = mi;
}

/* Clean features (augment = 0) are a property of the dataset: the only randomness in them, the noise of the
 * generated silence entries, comes from the dataset's own seed, so that `qsnn train`, `qsnn features` and
 * `qsnn eval` see the same validation and test samples whatever seed their callers pass. */
static uint64_t clean_seed_or(const qsnn_dataset *ds, int augment, uint64_t seed)
{
    return augment ? seed : ds->opts.seed;
}

/* SpecAugment on one 49 x 10 feature tensor (frame-major): time masks set whole frames to the clip's mean vector,
 * frequency masks set coefficients to their mean over the clip; randomness from the stream (seed ^ salt, s, i),
 * separate from the waveform's so a teacher's audio does not depend on these options */
static void spec_augment(float *f, const qsnn_data_opts *o, uint64_t seed, qsnn_split s, size_t i)
{
    enum { T = QSNN_DATA_FRAMES, C = QSNN_DATA_COEFFS };
    if (!(o->time_masks > 0 && o->time_mask_max > 0) && !(o->freq_masks > 0 && o->freq_mask_max > 0))
        return;
    qsnn_rng r;
    qsnn_rng_seed_stream(&r, seed ^ 0x5bec0a06ULL, ((uint64_t)s << 48) | (uint64_t)i);
    float mean[C];
    for (int c = 0; c < C; c++) {
        double sum = 0;
        for (int t = 0; t < T; t++)
            sum += f[t * C + c];
        mean[c] = (float)(sum / T);
    }
    for (int k = 0; k < o->time_masks && o->time_mask_max > 0; k++) {
        int w = 1 + (int)qsnn_rng_below(&r, (uint64_t)o->time_mask_max);
        int t0 = (int)qsnn_rng_below(&r, (uint64_t)(T - w + 1));
        for (int t = t0; t < t0 + w; t++)
            memcpy(f + t * C, mean, sizeof mean);
    }
    for (int k = 0; k < o->freq_masks && o->freq_mask_max > 0; k++) {
        int w = 1 + (int)qsnn_rng_below(&r, (uint64_t)o->freq_mask_max);
        int c0 = (int)qsnn_rng_below(&r, (uint64_t)(C - w + 1));
        for (int t = 0; t < T; t++)
            for (int c = c0; c < c0 + w; c++)
                f[t * C + c] = mean[c];
    }
}

qsnn_status qsnn_dataset_features(const qsnn_dataset *ds, qsnn_split s, const size_t *idx, size_t count,
                                  int augment, uint64_t seed, float *out)
{
    return qsnn_dataset_features_fe(ds, s, idx, count, augment, seed, NULL, out);
}

qsnn_status qsnn_dataset_features_fe(const qsnn_dataset *ds, qsnn_split s, const size_t *idx, size_t count,
                                     int augment, uint64_t seed, const qsnn_frontend_params *fe, float *out)
{
    if (!ds || (int)s < 0 || s >= QSNN_SPLIT_COUNT || (count && (!idx || !out)))
        return qsnn_fail(QSNN_ERR_ARG, "dataset features: bad arguments");
    for (size_t k = 0; k < count; k++)
        if (idx[k] >= ds->count[s])
            return qsnn_fail(QSNN_ERR_RANGE, "dataset features: %s entry %zu out of range (%zu entries)",
                             qsnn_split_name(s), idx[k], ds->count[s]);
    if (count == 0)
        return QSNN_OK;
    qsnn_frontend_params fp;
    if (fe)
        fp = *fe;
    else
        qsnn_frontend_defaults(&fp, QSNN_FRONTEND_TF_AUDIO_OPS);
    qsnn_status first = qsnn_frontend_validate(&fp);
    if (first != QSNN_OK)
        return first;
    if (fp.clip_samples != QSNN_CLIP_SAMPLES)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "dataset features: clip_samples %d (dataset clips have %d)",
                         fp.clip_samples, QSNN_CLIP_SAMPLES);
    const size_t per = (size_t)qsnn_frontend_num_frames(&fp) * (size_t)fp.num_coeffs;
    char first_msg[512] = "";
#pragma omp parallel
    {
        qsnn_frontend *m = NULL;
        float *wave = malloc(QSNN_CLIP_SAMPLES * sizeof *wave);
        qsnn_status st = wave ? qsnn_frontend_create(&m, &fp) : qsnn_fail(QSNN_ERR_NOMEM, "features: out of memory");
        if (st != QSNN_OK) {
#pragma omp critical(qsnn_features_err)
            if (first == QSNN_OK) {
                first = st;
                snprintf(first_msg, sizeof first_msg, "%s", qsnn_last_error());
            }
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t k = 0; k < count; k++) {
            if (st != QSNN_OK)
                continue;
            qsnn_dataset_mix(ds, s, idx[k], augment, clean_seed_or(ds, augment, seed), wave, NULL);
            qsnn_status cs = qsnn_frontend_compute(m, out + k * per, wave, QSNN_CLIP_SAMPLES);
            if (cs == QSNN_OK && augment && !fe)
                spec_augment(out + k * per, &ds->opts, seed, s, idx[k]);
            if (cs != QSNN_OK) {
#pragma omp critical(qsnn_features_err)
                if (first == QSNN_OK) {
                    first = cs;
                    snprintf(first_msg, sizeof first_msg, "%s", qsnn_last_error());
                }
                st = cs;
            }
        }
        qsnn_frontend_destroy(m);
        free(wave);
    }
    if (first != QSNN_OK)
        return qsnn_fail(first, "%s", first_msg);
    return QSNN_OK;
}
