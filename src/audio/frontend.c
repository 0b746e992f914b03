/* SPDX-License-Identifier: Apache-2.0 */
/* frontend.c: front ends as data (qsnn/frontend.h): parameters, their JSON form, and one object that computes
 * either front end (tf-audio-ops through qsnn_mfcc, tf-signal through tf_signal.c).
 *
 * Invariants: a qsnn_frontend holds validated parameters and all scratch (the clip buffer for cropping and
 * padding), so qsnn_frontend_compute never allocates. */
#include "qsnn/frontend.h"

#include "audio/tf_signal_internal.h"
#include "qsnn/audio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct qsnn_frontend {
    qsnn_frontend_params p;
    qsnn_mfcc *mfcc;     /* tf-audio-ops */
    qsnn_tf_signal *tfs; /* tf-signal */
    float *clip;         /* [clip_samples] */
};

void qsnn_frontend_defaults(qsnn_frontend_params *p, qsnn_frontend_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->sample_rate = QSNN_SAMPLE_RATE;
    p->clip_samples = QSNN_CLIP_SAMPLES;
    p->stride = 320;
    p->num_bands = 40;
    p->num_coeffs = 10;
    p->lower_hz = 20.0;
    p->upper_hz = 4000.0;
    if (kind == QSNN_FRONTEND_TF_SIGNAL) {
        p->window = 480;
        p->fft_size = 512;
        p->log_offset = 1e-6;
        p->peak_normalize = 1;
        p->input = QSNN_INPUT_FLOAT;
    } else {
        p->window = 640;
        p->input = QSNN_INPUT_U8;
    }
}

const char *qsnn_frontend_name(qsnn_frontend_kind kind)
{
    return kind == QSNN_FRONTEND_TF_SIGNAL ? "tf-signal" : kind == QSNN_FRONTEND_TF_AUDIO_OPS ? "tf-audio-ops" : "?";
}

qsnn_status qsnn_frontend_parse(const char *name, qsnn_frontend_kind *out)
{
    if (name && !strcmp(name, "tf-audio-ops"))
        *out = QSNN_FRONTEND_TF_AUDIO_OPS;
    else if (name && !strcmp(name, "tf-signal"))
        *out = QSNN_FRONTEND_TF_SIGNAL;
    else
        return qsnn_fail(QSNN_ERR_ARG, "unknown front end '%.40s' (tf-audio-ops, tf-signal)", name ? name : "");
    return QSNN_OK;
}

int qsnn_frontend_num_frames(const qsnn_frontend_params *p)
{
    if (p->clip_samples < p->window || p->stride <= 0)
        return 0;
    return 1 + (p->clip_samples - p->window) / p->stride;
}

qsnn_status qsnn_frontend_validate(const qsnn_frontend_params *p)
{
    const char *nm = qsnn_frontend_name(p->kind);
    if (p->kind != QSNN_FRONTEND_TF_AUDIO_OPS && p->kind != QSNN_FRONTEND_TF_SIGNAL)
        return qsnn_fail(QSNN_ERR_ARG, "features: unknown front end %d", (int)p->kind);
    if (p->sample_rate != QSNN_SAMPLE_RATE)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "features: sample_rate %d (only %d)", p->sample_rate,
                         QSNN_SAMPLE_RATE);
    if (p->clip_samples < 16 || p->clip_samples > 1 << 22)
        return qsnn_fail(QSNN_ERR_RANGE, "features: clip_samples %d out of range 16..%d", p->clip_samples, 1 << 22);
    if (p->window < 16 || p->window > p->clip_samples || p->window > 1 << 16)
        return qsnn_fail(QSNN_ERR_RANGE, "features: window %d out of range 16..min(clip_samples, 65536)",
                         p->window);
    if (p->stride < 1 || p->stride > p->window)
        return qsnn_fail(QSNN_ERR_RANGE, "features: stride %d out of range 1..window (%d)", p->stride, p->window);
    if (p->num_bands < 1 || p->num_bands > 1024)
        return qsnn_fail(QSNN_ERR_RANGE, "features: bands %d out of range 1..1024", p->num_bands);
    if (p->num_coeffs < 1 || p->num_coeffs > p->num_bands)
        return qsnn_fail(QSNN_ERR_RANGE, "features: coefficients %d out of range 1..bands (%d)", p->num_coeffs,
                         p->num_bands);
    if (!(p->lower_hz >= 0.0) || !(p->upper_hz > p->lower_hz) || !(p->upper_hz <= p->sample_rate / 2.0))
        return qsnn_fail(QSNN_ERR_RANGE, "features: band edges %g..%g Hz (need 0 <= lower < upper <= %g)",
                         p->lower_hz, p->upper_hz, p->sample_rate / 2.0);
    if (p->input != QSNN_INPUT_U8 && p->input != QSNN_INPUT_FLOAT)
        return qsnn_fail(QSNN_ERR_ARG, "features: input %d is not u8 or float", (int)p->input);
    if (p->kind == QSNN_FRONTEND_TF_SIGNAL) {
        if (p->fft_size < p->window || p->fft_size > 1 << 17 || (p->fft_size & (p->fft_size - 1)))
            return qsnn_fail(QSNN_ERR_RANGE, "features: %s fft_size %d must be a power of two >= window (%d)", nm,
                             p->fft_size, p->window);
        if (!(p->log_offset > 0.0) || !(p->log_offset < 1.0))
            return qsnn_fail(QSNN_ERR_RANGE, "features: %s log_offset %g out of range (0, 1)", nm, p->log_offset);
        if (p->peak_normalize != 0 && p->peak_normalize != 1)
            return qsnn_fail(QSNN_ERR_RANGE, "features: peak_normalize %d is not 0 or 1", p->peak_normalize);
    } else if (p->fft_size != 0 || p->log_offset != 0.0 || p->peak_normalize != 0) {
        return qsnn_fail(QSNN_ERR_ARG, "features: %s takes no fft_size, log_offset or peak_normalize", nm);
    }
    return QSNN_OK;
}

int qsnn_frontend_same(const qsnn_frontend_params *a, const qsnn_frontend_params *b)
{
    return a->kind == b->kind && a->sample_rate == b->sample_rate && a->clip_samples == b->clip_samples &&
           a->window == b->window && a->stride == b->stride && a->fft_size == b->fft_size &&
           a->num_bands == b->num_bands && a->num_coeffs == b->num_coeffs && a->lower_hz == b->lower_hz &&
           a->upper_hz == b->upper_hz && a->log_offset == b->log_offset && a->peak_normalize == b->peak_normalize;
}

/* ---------------------------------------------------------------- JSON */

qsnn_status qsnn_frontend_to_json(const qsnn_frontend_params *p, cJSON *o)
{
    if (!cJSON_AddStringToObject(o, "frontend", qsnn_frontend_name(p->kind)) ||
        !cJSON_AddStringToObject(o, "input", p->input == QSNN_INPUT_FLOAT ? "float" : "u8") ||
        !cJSON_AddNumberToObject(o, "clip_samples", p->clip_samples) ||
        !cJSON_AddNumberToObject(o, "window", p->window) || !cJSON_AddNumberToObject(o, "stride", p->stride) ||
        !cJSON_AddNumberToObject(o, "bands", p->num_bands) ||
        !cJSON_AddNumberToObject(o, "coefficients", p->num_coeffs) ||
        !cJSON_AddNumberToObject(o, "lower_hz", p->lower_hz) || !cJSON_AddNumberToObject(o, "upper_hz", p->upper_hz))
        return qsnn_fail(QSNN_ERR_NOMEM, "features: out of memory");
    if (p->kind == QSNN_FRONTEND_TF_SIGNAL &&
        (!cJSON_AddNumberToObject(o, "fft_size", p->fft_size) ||
         !cJSON_AddNumberToObject(o, "log_offset", p->log_offset) ||
         !cJSON_AddBoolToObject(o, "peak_normalize", p->peak_normalize)))
        return qsnn_fail(QSNN_ERR_NOMEM, "features: out of memory");
    return QSNN_OK;
}

static qsnn_status num(const cJSON *it, double lo, double hi, int integer, double *out, const char *origin)
{
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi) ||
        (integer && it->valuedouble != floor(it->valuedouble)))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: features: %s must be %s in %g..%g", origin, it->string,
                         integer ? "an integer" : "a number", lo, hi);
    *out = it->valuedouble;
    return QSNN_OK;
}

qsnn_status qsnn_frontend_from_json(qsnn_frontend_params *p, const cJSON *obj, const char *origin)
{
    if (!cJSON_IsObject(obj))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: features must be an object", origin);
    const cJSON *fe = cJSON_GetObjectItemCaseSensitive(obj, "frontend");
    qsnn_frontend_kind kind = QSNN_FRONTEND_TF_AUDIO_OPS;
    if (fe && (!cJSON_IsString(fe) || qsnn_frontend_parse(fe->valuestring, &kind) != QSNN_OK))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: features: frontend must be \"tf-audio-ops\" or \"tf-signal\"", origin);
    qsnn_frontend_defaults(p, kind);
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        const char *k = it->string ? it->string : "";
        double v = 0;
        qsnn_status st = QSNN_OK;
        if (!strcmp(k, "frontend")) {
            continue;
        } else if (!strcmp(k, "input")) {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, "u8"))
                p->input = QSNN_INPUT_U8;
            else if (cJSON_IsString(it) && !strcmp(it->valuestring, "float"))
                p->input = QSNN_INPUT_FLOAT;
            else
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: features: input must be \"u8\" or \"float\"", origin);
        } else if (!strcmp(k, "peak_normalize")) {
            if (!cJSON_IsBool(it))
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: features: peak_normalize must be true or false", origin);
            p->peak_normalize = cJSON_IsTrue(it);
        } else if (!strcmp(k, "clip_samples") || !strcmp(k, "window") || !strcmp(k, "stride") ||
                   !strcmp(k, "bands") || !strcmp(k, "coefficients") || !strcmp(k, "fft_size")) {
            st = num(it, 0, 1 << 22, 1, &v, origin);
            int *dst = !strcmp(k, "clip_samples") ? &p->clip_samples
                       : !strcmp(k, "window")     ? &p->window
                       : !strcmp(k, "stride")     ? &p->stride
                       : !strcmp(k, "bands")      ? &p->num_bands
                       : !strcmp(k, "fft_size")   ? &p->fft_size
                                                  : &p->num_coeffs;
            *dst = (int)v;
        } else if (!strcmp(k, "lower_hz") || !strcmp(k, "upper_hz")) {
            st = num(it, 0, 1e6, 0, &v, origin);
            *(!strcmp(k, "lower_hz") ? &p->lower_hz : &p->upper_hz) = v;
        } else if (!strcmp(k, "log_offset")) {
            st = num(it, 0, 1, 0, &v, origin);
            p->log_offset = v;
        } else {
            return qsnn_fail(QSNN_ERR_FORMAT,
                             "%s: features: unknown field '%.40s' (frontend, input, clip_samples, window, stride, "
                             "bands, coefficients, lower_hz, upper_hz, fft_size, log_offset, peak_normalize)",
                             origin, k);
        }
        if (st != QSNN_OK)
            return st;
    }
    qsnn_status st = qsnn_frontend_validate(p);
    return st == QSNN_OK ? st : qsnn_fail_context(st, "%s", origin);
}

/* ---------------------------------------------------------------- computation */

void qsnn_frontend_destroy(qsnn_frontend *f)
{
    if (!f)
        return;
    if (f->mfcc)
        qsnn_mfcc_destroy(f->mfcc);
    qsnn_tf_signal_destroy(f->tfs);
    free(f->clip);
    free(f);
}

qsnn_status qsnn_frontend_create(qsnn_frontend **out, const qsnn_frontend_params *p)
{
    if (!out || !p)
        return qsnn_fail(QSNN_ERR_ARG, "frontend: NULL argument");
    *out = NULL;
    qsnn_status st = qsnn_frontend_validate(p);
    if (st != QSNN_OK)
        return st;
    qsnn_frontend *f = calloc(1, sizeof *f);
    if (!f || !(f->clip = malloc((size_t)p->clip_samples * sizeof *f->clip))) {
        free(f);
        return qsnn_fail(QSNN_ERR_NOMEM, "frontend: out of memory");
    }
    f->p = *p;
    if (p->kind == QSNN_FRONTEND_TF_SIGNAL) {
        st = qsnn_tf_signal_create(&f->tfs, p);
    } else {
        qsnn_mfcc_params mp;
        qsnn_mfcc_default_params(&mp);
        mp.sample_rate = p->sample_rate;
        mp.window = p->window;
        mp.stride = p->stride;
        mp.num_channels = p->num_bands;
        mp.num_coeffs = p->num_coeffs;
        mp.lower_hz = p->lower_hz;
        mp.upper_hz = p->upper_hz;
        st = qsnn_mfcc_create(&f->mfcc, &mp);
    }
    if (st != QSNN_OK) {
        qsnn_frontend_destroy(f);
        return st;
    }
    *out = f;
    return QSNN_OK;
}

const qsnn_frontend_params *qsnn_frontend_params_of(const qsnn_frontend *f) { return &f->p; }

qsnn_status qsnn_frontend_compute(qsnn_frontend *f, float *out, const float *samples, size_t n)
{
    if (!f || !out || (n && !samples))
        return qsnn_fail(QSNN_ERR_ARG, "frontend: NULL argument");
    if (f->tfs)
        return qsnn_tf_signal_compute(f->tfs, out, samples, n);
    const size_t L = (size_t)f->p.clip_samples;
    if (n == L)
        return qsnn_mfcc_compute(f->mfcc, out, samples, n);
    size_t m = n < L ? n : L;
    memcpy(f->clip, samples, m * sizeof *f->clip);
    memset(f->clip + m, 0, (L - m) * sizeof *f->clip);
    return qsnn_mfcc_compute(f->mfcc, out, f->clip, L);
}
