/* SPDX-License-Identifier: Apache-2.0 */
/* infer_batch.c: batched float32 inference on float network inputs (qsnn/infer.h), the front end to network
 * input step, and the softmax with temperature. The forward is qsnn_plan_infer (plan.c): the training graph's
 * kernels (im2col + register-blocked GEMM convolutions, GEMM pointwise and dense layers) on chunks of samples,
 * one chunk per thread at a time.
 *
 * Invariants: qsnn_infer_create allocates every buffer (per-thread chunk workspaces, quantized weights) once;
 * qsnn_infer_run allocates nothing. */
#include "qsnn/infer.h"

#include "qsnn/plan.h"
#include "qsnn/data.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16

struct qsnn_infer {
    const qsnn_model *m;
    qsnn_plan plan;
    int threads;
    size_t per_thread; /* floats of one thread's workspace */
    float *ws;         /* [threads][per_thread] */
    float *wq;         /* quantized weights (quant_weights) */
    const float *W;    /* the weights the forward reads */
};

size_t qsnn_model_input_size(const qsnn_model *m) { return qsnn_shape_count(m->arch.input); }

void qsnn_model_input_from_features(const qsnn_model *m, float *x, const float *feat, size_t n)
{
    const size_t cnt = n * qsnn_model_input_size(m);
    if (m->arch.features.input == QSNN_INPUT_FLOAT) {
        if (x != feat)
            memmove(x, feat, cnt * sizeof *x);
        return;
    }
    const float lo = m->scale_min, range = m->scale_max - m->scale_min;
    for (size_t i = 0; i < cnt; i++) { /* qsnn_features_to_u8, one value at a time */
        float v = range > 0.0f ? (feat[i] - lo) * 255.0f / range : 0.0f;
        uint8_t u = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
        x[i] = (float)u / 255.0f;
    }
}

qsnn_status qsnn_model_input_from_pcm(const qsnn_model *m, qsnn_frontend *fe, float *x, const float *samples,
                                      size_t n)
{
    if (!m || !fe || !x)
        return qsnn_fail(QSNN_ERR_ARG, "model input: NULL argument");
    const qsnn_frontend_params *p = qsnn_frontend_params_of(fe);
    if (!qsnn_frontend_same(p, &m->arch.features) ||
        (size_t)qsnn_frontend_num_frames(p) * (size_t)p->num_coeffs != qsnn_model_input_size(m))
        return qsnn_fail(QSNN_ERR_ARG, "model input: the front end (%s) is not the model's (%s, %dx%d input)",
                         qsnn_frontend_name(p->kind), qsnn_frontend_name(m->arch.features.kind), m->arch.input.h,
                         m->arch.input.w);
    qsnn_status st = qsnn_frontend_compute(fe, x, samples, n);
    if (st == QSNN_OK)
        qsnn_model_input_from_features(m, x, x, 1);
    return st;
}

void qsnn_infer_destroy(qsnn_infer *inf)
{
    if (!inf)
        return;
    free(inf->ws);
    free(inf->wq);
    free(inf);
}

qsnn_status qsnn_infer_create(qsnn_infer **out, const qsnn_model *m, int threads)
{
    if (!out || !m)
        return qsnn_fail(QSNN_ERR_ARG, "infer: NULL argument");
    *out = NULL;
    qsnn_infer *inf = calloc(1, sizeof *inf);
    if (!inf)
        return qsnn_fail(QSNN_ERR_NOMEM, "infer: out of memory");
    inf->m = m;
    qsnn_status st = qsnn_plan_build(&inf->plan, m);
    if (st != QSNN_OK) {
        free(inf);
        return st;
    }
    const qsnn_plan *p = &inf->plan;
    inf->threads = threads > 0 ? threads : omp_get_max_threads();
    inf->per_thread = CHUNK * (2 * p->max_act + p->max_t);
    inf->ws = malloc((size_t)inf->threads * inf->per_thread * sizeof *inf->ws);
    inf->wq = m->quant_weights ? malloc(m->num_params * sizeof *inf->wq) : NULL;
    if (!inf->ws || (m->quant_weights && !inf->wq)) {
        qsnn_infer_destroy(inf);
        return qsnn_fail(QSNN_ERR_NOMEM, "infer: out of memory");
    }
    float deltas[2 * QSNN_MAX_LAYERS];
    inf->W = qsnn_plan_weights(p, m, inf->wq, deltas);
    *out = inf;
    return QSNN_OK;
}

qsnn_status qsnn_infer_run(qsnn_infer *inf, const float *x, size_t n, float *logits)
{
    if (!inf || (n && (!x || !logits)))
        return qsnn_fail(QSNN_ERR_ARG, "infer: NULL argument");
    const qsnn_plan *p = &inf->plan;
    const size_t chunks = (n + CHUNK - 1) / CHUNK;
    int T = inf->threads;
    if ((size_t)T > chunks)
        T = (int)chunks;
    if (T < 1)
        return QSNN_OK;
    qsnn_nn_blas_single_thread();
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (size_t ch = 0; ch < chunks; ch++) {
        float *bufA = inf->ws + (size_t)omp_get_thread_num() * inf->per_thread, *bufB = bufA + CHUNK * p->max_act,
              *bufT = bufB + CHUNK * p->max_act;
        const size_t s0 = ch * CHUNK, ns = n - s0 < CHUNK ? n - s0 : CHUNK;
        qsnn_plan_infer(p, inf->m, inf->W, x + s0 * p->in_sz, ns, bufA, bufB, bufT, logits + s0 * p->classes, NULL);
    }
    return QSNN_OK;
}

qsnn_status qsnn_model_predict_float(const qsnn_model *m, const float *x, size_t n, float *logits, int32_t *pred)
{
    if (!m || (n && !x))
        return qsnn_fail(QSNN_ERR_ARG, "predict: NULL argument");
    if (n == 0)
        return QSNN_OK;
    const int K = m->arch.num_classes;
    float *lg = logits ? logits : malloc(n * (size_t)K * sizeof *lg);
    if (!lg)
        return qsnn_fail(QSNN_ERR_NOMEM, "predict: out of memory");
    qsnn_infer *inf = NULL;
    qsnn_status st = qsnn_infer_create(&inf, m, 0);
    if (st == QSNN_OK)
        st = qsnn_infer_run(inf, x, n, lg);
    if (st == QSNN_OK && pred)
        qsnn_argmax_rows(pred, lg, n, K);
    qsnn_infer_destroy(inf);
    if (lg != logits)
        free(lg);
    return st;
}

void qsnn_softmax_rows(float *probs, const float *logits, size_t n, int k, float temperature)
{
    const double inv_t = temperature > 0.0f ? 1.0 / temperature : 1.0;
    for (size_t r = 0; r < n; r++) {
        const float *z = logits + r * (size_t)k;
        float *o = probs + r * (size_t)k;
        float mx = z[0];
        for (int j = 1; j < k; j++)
            mx = z[j] > mx ? z[j] : mx;
        double sum = 0.0;
        for (int j = 0; j < k; j++) {
            double e = exp(((double)z[j] - mx) * inv_t);
            o[j] = (float)e;
            sum += e;
        }
        for (int j = 0; j < k; j++)
            o[j] = (float)(o[j] / sum);
    }
}
