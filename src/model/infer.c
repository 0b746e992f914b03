/* SPDX-License-Identifier: Apache-2.0 */
/* infer.c: qsnn_model_predict, qsnn_model_forward_trace and qsnn_eval_float: the float/quantized model as
 * trained (BN with moving statistics, ReLU6 or quantized ReLU per quant_acts, weights quantized once per call
 * per quant_weights), on uint8 inputs seen as x / 255.
 * Two precisions of the same function: QSNN_PREC_F64 (default; infer_ref.c, scalar double, one sample at a
 * time) and QSNN_PREC_F32 (plan.c, float32 BLAS kernels over chunks of samples).
 * Threads over samples (OpenMP); each thread owns its buffers, allocated once per call. Per-sample results do
 * not depend on the thread count. */
#include "qsnn/model.h"

#include "qsnn/plan.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 50

/* Argmax, lowest index on ties, as the integer engine. A tie is two logits within 1e-9 of the largest |logit|:
 * the double forward is exact to about 1e-13 relative, so logits closer than that are equal in exact arithmetic
 * (the engine's last-layer potentials, integers proportional to the logits with one scale for every class, are
 * then equal too: two different integer potentials differ by >= 1/|p| >= 1e-6 relative). Without the tolerance,
 * double rounding noise would break exact ties at random. */
int qsnn_argmax_f64(const double *v, int k)
{
    double big = 0;
    for (int i = 0; i < k; i++)
        big = fabs(v[i]) > big ? fabs(v[i]) : big;
    const double tol = 1e-9 * big;
    int b = 0;
    for (int i = 1; i < k; i++)
        if (v[i] > v[b] + tol)
            b = i;
    return b;
}

static qsnn_status predict_f64(const qsnn_plan *pp, const qsnn_model *m, const uint8_t *x, size_t n,
                               float *logits, int32_t *pred)
{
    const qsnn_plan p = *pp;
    int T = omp_get_max_threads();
    if ((size_t)T > n)
        T = (int)n;
    const size_t per_thread = 2 * p.max_act + p.max_t + (size_t)p.max_c + (size_t)p.classes;
    double *ws = malloc((size_t)T * per_thread * sizeof *ws);
    double *Wd = malloc((m->num_params ? m->num_params : 1) * sizeof *Wd);
    qsnn_status st = ws && Wd ? qsnn_plan_weights_f64(&p, m, Wd)
                              : qsnn_fail(QSNN_ERR_NOMEM, "predict: out of memory");
    if (st == QSNN_OK) {
#pragma omp parallel for num_threads(T) schedule(dynamic, 8)
        for (size_t s = 0; s < n; s++) {
            double *bufA = ws + (size_t)omp_get_thread_num() * per_thread, *bufB = bufA + p.max_act,
                   *bufT = bufB + p.max_act, *sig = bufT + p.max_t, *lg = sig + p.max_c;
            qsnn_plan_infer_f64(&p, m, Wd, x + s * p.in_sz, bufA, bufB, bufT, sig, lg, NULL);
            if (logits)
                for (int k = 0; k < p.classes; k++)
                    logits[s * (size_t)p.classes + (size_t)k] = (float)lg[k];
            if (pred)
                pred[s] = qsnn_argmax_f64(lg, p.classes);
        }
    }
    free(ws);
    free(Wd);
    return st;
}

qsnn_status qsnn_model_predict(const qsnn_model *m, const uint8_t *x, size_t n, float *logits, int32_t *pred)
{
    return qsnn_model_predict_prec(m, x, n, logits, pred, QSNN_PREC_F64);
}

qsnn_status qsnn_model_predict_prec(const qsnn_model *m, const uint8_t *x, size_t n, float *logits, int32_t *pred,
                                    qsnn_precision prec)
{
    if (!m || !x)
        return qsnn_fail(QSNN_ERR_ARG, "predict: NULL model or input");
    if (prec != QSNN_PREC_F64 && prec != QSNN_PREC_F32)
        return qsnn_fail(QSNN_ERR_ARG, "predict: unknown precision %d", (int)prec);
    if (m->arch.features.input == QSNN_INPUT_FLOAT)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "model '%s' takes float features, not uint8 (qsnn_model_predict_float)",
                         m->arch.name);
    if (n == 0)
        return QSNN_OK;
    qsnn_plan p;
    qsnn_status st = qsnn_plan_build(&p, m);
    if (st != QSNN_OK)
        return st;
    if (prec == QSNN_PREC_F64)
        return predict_f64(&p, m, x, n, logits, pred);
    int T = omp_get_max_threads();
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    if ((size_t)T > chunks)
        T = (int)chunks;
    const size_t per_thread = CHUNK * (2 * p.max_act + p.max_t + p.in_sz + (size_t)p.classes);
    float *ws = malloc((size_t)T * per_thread * sizeof *ws);
    float *wq = m->quant_weights ? malloc(m->num_params * sizeof *wq) : NULL;
    if (!ws || (m->quant_weights && !wq)) {
        free(ws);
        free(wq);
        return qsnn_fail(QSNN_ERR_NOMEM, "predict: out of memory");
    }
    float deltas[2 * QSNN_MAX_LAYERS];
    const float *W = qsnn_plan_weights(&p, m, wq, deltas);
    qsnn_nn_blas_single_thread();
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (size_t ch = 0; ch < chunks; ch++) {
        float *w0 = ws + (size_t)omp_get_thread_num() * per_thread;
        float *bufA = w0, *bufB = bufA + CHUNK * p.max_act, *bufT = bufB + CHUNK * p.max_act;
        float *xin = bufT + CHUNK * p.max_t, *lg = xin + CHUNK * p.in_sz;
        size_t s0 = ch * CHUNK, ns = n - s0 < CHUNK ? n - s0 : CHUNK;
        for (size_t i = 0; i < ns * p.in_sz; i++)
            xin[i] = (float)x[s0 * p.in_sz + i] / 255.0f;
        qsnn_plan_infer(&p, m, W, xin, ns, bufA, bufB, bufT, lg, NULL);
        if (logits)
            memcpy(logits + s0 * (size_t)p.classes, lg, ns * (size_t)p.classes * sizeof *lg);
        if (pred)
            qsnn_argmax_rows(pred + s0, lg, ns, p.classes);
    }
    free(ws);
    free(wq);
    return QSNN_OK;
}

qsnn_status qsnn_model_forward_trace(const qsnn_model *m, const uint8_t *x, float *const *acts)
{
    return qsnn_model_forward_trace_prec(m, x, acts, QSNN_PREC_F64);
}

qsnn_status qsnn_model_forward_trace_prec(const qsnn_model *m, const uint8_t *x, float *const *acts,
                                          qsnn_precision prec)
{
    if (!m || !x || !acts)
        return qsnn_fail(QSNN_ERR_ARG, "forward_trace: NULL argument");
    if (prec != QSNN_PREC_F64 && prec != QSNN_PREC_F32)
        return qsnn_fail(QSNN_ERR_ARG, "forward_trace: unknown precision %d", (int)prec);
    qsnn_plan p;
    qsnn_status st = qsnn_plan_build(&p, m);
    if (st != QSNN_OK)
        return st;
    if (prec == QSNN_PREC_F64) {
        double *ws = malloc((2 * p.max_act + p.max_t + (size_t)p.max_c + (size_t)p.classes) * sizeof *ws);
        double *Wd = malloc((m->num_params ? m->num_params : 1) * sizeof *Wd);
        st = ws && Wd ? qsnn_plan_weights_f64(&p, m, Wd) : qsnn_fail(QSNN_ERR_NOMEM, "forward_trace: out of memory");
        if (st == QSNN_OK) {
            double *bufA = ws, *bufB = bufA + p.max_act, *bufT = bufB + p.max_act, *sig = bufT + p.max_t,
                   *lg = sig + p.max_c;
            qsnn_plan_infer_f64(&p, m, Wd, x, bufA, bufB, bufT, sig, lg, acts);
        }
        free(ws);
        free(Wd);
        return st;
    }
    float *ws = malloc((2 * p.max_act + p.max_t + p.in_sz + (size_t)p.classes) * sizeof *ws);
    float *wq = m->quant_weights ? malloc(m->num_params * sizeof *wq) : NULL;
    if (!ws || (m->quant_weights && !wq)) {
        free(ws);
        free(wq);
        return qsnn_fail(QSNN_ERR_NOMEM, "forward_trace: out of memory");
    }
    float deltas[2 * QSNN_MAX_LAYERS];
    const float *W = qsnn_plan_weights(&p, m, wq, deltas);
    float *bufA = ws, *bufB = bufA + p.max_act, *bufT = bufB + p.max_act, *xin = bufT + p.max_t,
          *lg = xin + p.in_sz;
    for (size_t i = 0; i < p.in_sz; i++)
        xin[i] = (float)x[i] / 255.0f;
    qsnn_plan_infer(&p, m, W, xin, 1, bufA, bufB, bufT, lg, acts);
    free(ws);
    free(wq);
    return QSNN_OK;
}

qsnn_status qsnn_eval_float(const qsnn_model *m, const uint8_t *x, const int32_t *labels, size_t n,
                            double *accuracy, int64_t *confusion)
{
    int32_t *pred = malloc((n ? n : 1) * sizeof *pred);
    if (!pred)
        return qsnn_fail(QSNN_ERR_NOMEM, "eval: out of memory");
    qsnn_status st = qsnn_model_predict(m, x, n, NULL, pred);
    if (st != QSNN_OK) {
        free(pred);
        return st;
    }
    const int K = m->arch.num_classes;
    if (confusion)
        memset(confusion, 0, (size_t)K * (size_t)K * sizeof *confusion);
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        hit += pred[i] == labels[i];
        if (confusion && labels[i] >= 0 && labels[i] < K)
            confusion[(size_t)labels[i] * (size_t)K + (size_t)pred[i]]++;
    }
    if (accuracy)
        *accuracy = n ? (double)hit / (double)n : 0.0;
    free(pred);
    return QSNN_OK;
}
