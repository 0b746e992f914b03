/* SPDX-License-Identifier: Apache-2.0 */
/* optimizer.c: Adam (Keras form) over the trainable parameter parts of the trainer's model. */
#include "qsnn/simd.h"
#include "train/graph_internal.h"

#include <math.h>
#include <string.h>
#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

void qsnn_trainer_adam_reset(qsnn_trainer *t)
{
    memset(t->adam_m, 0, t->np * sizeof(float));
    memset(t->adam_v, 0, t->np * sizeof(float));
    t->adam_t = 0;
}

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* the loop of adam_range, 8 at a time (vsqrtps and vdivps round as sqrtf and / do; mul and add, never fused):
 * the first n - n % 8 parameters; returns that count */
static size_t adam_avx2(float *p, const float *g, float *mm, float *vs, size_t n, float lr_t, float b1, float b2,
                        float eps)
{
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), c1 = _mm256_set1_ps(1.0f - b1),
                 c2 = _mm256_set1_ps(1.0f - b2), ve = _mm256_set1_ps(eps), vl = _mm256_set1_ps(lr_t);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gv = _mm256_loadu_ps(g + i);
        const __m256 mv = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(mm + i)), _mm256_mul_ps(c1, gv));
        const __m256 vv =
            _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(vs + i)), _mm256_mul_ps(_mm256_mul_ps(c2, gv), gv));
        _mm256_storeu_ps(mm + i, mv);
        _mm256_storeu_ps(vs + i, vv);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(vl, mv), _mm256_add_ps(_mm256_sqrt_ps(vv), ve));
        _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), step));
    }
    return i;
}
QSNN_AVX2_END
#endif

static void adam_range(float *p, const float *g, float *mm, float *vs, size_t n, float lr_t, const qsnn_adam_cfg *c)
{
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    size_t i = 0;
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2())
        i = adam_avx2(p, g, mm, vs, n, lr_t, b1, b2, eps);
#endif
    for (; i < n; i++) {
        mm[i] = b1 * mm[i] + (1.0f - b1) * g[i];
        vs[i] = b2 * vs[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= lr_t * mm[i] / (sqrtf(vs[i]) + eps);
    }
}

void qsnn_trainer_adam_step(qsnn_trainer *t, float lr, const qsnn_adam_cfg *cfg)
{
    qsnn_adam_cfg c = cfg ? *cfg : (qsnn_adam_cfg){0.9f, 0.999f, 1e-7f};
    t->adam_t++;
    double bc1 = 1.0 - pow((double)c.beta1, (double)t->adam_t), bc2 = 1.0 - pow((double)c.beta2, (double)t->adam_t);
    float lr_t = (float)(lr * sqrt(bc2) / bc1);
    qsnn_model *m = t->m;
    for (int l = 0; l < t->plan.num_layers; l++) {
        const qsnn_plan_layer *L = &t->plan.L[l];
        const qsnn_layer_params *lp = &m->lp[l];
        size_t offs[5] = {L->off_w, L->off_dw, L->off_bias, L->off_gamma, L->off_beta};
        size_t lens[5] = {lp->n_w, lp->n_dw, lp->n_bias, lp->n_bn, lp->n_bn};
        for (int k = 0; k < 5; k++)
            if (offs[k] != QSNN_NO_OFF && lens[k])
                adam_range(m->params + offs[k], t->grad + offs[k], t->adam_m + offs[k], t->adam_v + offs[k],
                           lens[k], lr_t, &c);
    }
}
