/* SPDX-License-Identifier: Apache-2.0 */
/* test_distill.c: knowledge distillation in the trainer.
 *  - qsnn_softmax_kd_forward: the loss is (1 - a) CE + a T^2 KL (against a direct evaluation) and the gradient it
 *    hands to qsnn_softmax_xent_backward matches central finite differences of that loss;
 *  - a tiny teacher learns three synthetic classes; a student trained by pure distillation (weight 1) with every
 *    label wrong learns them from the teacher's probabilities alone, while the same run with the teacher replaced
 *    by a constant (uniform) one does not: the loss uses the teacher's outputs;
 *  - batch-norm re-estimation (qsnn_trainer_bn_stats with momentum k / (k + 1)) sets the moving statistics to the
 *    mean of the batch statistics.
 * Tiny sizes: well under a few seconds, also under ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsnn/qsnn.h"
#include "qsnn/train.h"

static const char *k_json =
    "{\"name\": \"small\", \"input\": [12, 8, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 8, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8},"
    "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 8, \"kernel\": 3, \"weight_bits\": 4, \"pool\": \"global_avg\"},"
    "{\"name\": \"d2\", \"op\": \"dense\", \"filters\": 3, \"weight_bits\": 4, \"batch_norm\": false,"
    " \"activation\": false}]}";

static void make_model(qsnn_model *m, uint64_t seed)
{
    qsnn_arch a;
    if (qsnn_arch_from_json(&a, k_json, "test") != QSNN_OK)
        fail_msg("arch: %s", qsnn_last_error());
    if (qsnn_model_init(m, &a, seed) != QSNN_OK)
        fail_msg("init: %s", qsnn_last_error());
}

static void test_kd_loss_gradient(void **state)
{
    (void)state;
    enum { N = 4, K = 5 };
    qsnn_rng r;
    qsnn_rng_seed(&r, 7);
    float z[N * K], q[N * K], probs[N * K], d[N * K];
    int32_t y[N] = {0, 3, 4, -1}; /* the last row has no label: distillation only */
    for (int s = 0; s < N; s++) {
        double sum = 0;
        for (int j = 0; j < K; j++) {
            z[s * K + j] = (float)(2.0 * qsnn_rng_normal(&r));
            sum += (q[s * K + j] = (float)(0.05 + qsnn_rng_uniform(&r)));
        }
        for (int j = 0; j < K; j++)
            q[s * K + j] = (float)(q[s * K + j] / sum);
    }
    for (int ai = 0; ai < 2; ai++) {
        const float a = ai ? 1.0f : 0.7f, T = 2.5f; /* a = 1: pure distillation, the labels must not matter */
        double loss = qsnn_softmax_kd_forward(probs, NULL, z, y, q, N, K, a, T);
        /* direct: per row (1 - a) CE + a T^2 sum q log(q / softmax(z / T)) */
        double want = 0;
        for (int s = 0; s < N; s++) {
            double lse = 0, lset = 0, mx = z[s * K];
            for (int j = 1; j < K; j++)
                mx = fmax(mx, z[s * K + j]);
            for (int j = 0; j < K; j++)
                lse += exp(z[s * K + j] - mx), lset += exp((z[s * K + j] - mx) / T);
            if (y[s] >= 0)
                want += (1 - a) * -((z[s * K + y[s]] - mx) - log(lse));
            for (int j = 0; j < K; j++)
                want += a * T * T * q[s * K + j] * (log(q[s * K + j]) - ((z[s * K + j] - mx) / T - log(lset)));
        }
        assert_true(fabs(loss - want) < 1e-4 * fabs(want));
        qsnn_softmax_xent_backward(d, probs, y, N, K, 1.0f);
        for (int i = 0; i < N * K; i++) {
            float zs = z[i], pp[N * K];
            const float eps = 1e-2f;
            z[i] = zs + eps;
            double lp = qsnn_softmax_kd_forward(pp, NULL, z, y, q, N, K, a, T);
            z[i] = zs - eps;
            double lm = qsnn_softmax_kd_forward(pp, NULL, z, y, q, N, K, a, T);
            z[i] = zs;
            double num = (lp - lm) / (2 * eps);
            if (fabs(num - d[i]) > 2e-3 + 1e-2 * fabs(num))
                fail_msg("a = %.1f, logit %d: analytic %.6f numeric %.6f", (double)a, i, d[i], num);
        }
    }
    /* a = 0 is the plain cross-entropy */
    double ce = qsnn_softmax_xent_forward(probs, NULL, z, y, N, K);
    assert_true(fabs(qsnn_softmax_kd_forward(probs, NULL, z, y, q, N, K, 0.0f, 2.0f) - ce) < 1e-9);
}

/* three classes: a bright horizontal band at rows 1-3, 5-7 or 9-11, plus noise */
static void synth(uint8_t *x, int32_t *y, size_t n, uint64_t seed)
{
    qsnn_rng r;
    qsnn_rng_seed(&r, seed);
    for (size_t s = 0; s < n; s++) {
        int c = (int)qsnn_rng_below(&r, 3);
        y[s] = c;
        for (int h = 0; h < 12; h++)
            for (int w = 0; w < 8; w++) {
                double v = 60 + 50 * qsnn_rng_uniform(&r);
                if (h >= 1 + 4 * c && h <= 3 + 4 * c)
                    v += 90;
                x[s * 96 + (size_t)h * 8 + w] = (uint8_t)v;
            }
    }
}

enum { NT = 300, NV = 90 };

typedef struct {
    const uint8_t *x;
    const qsnn_model *teacher; /* NULL: a constant, uniform teacher */
    float T;
} kd_ctx;

static qsnn_status copy_cb(void *ctx, uint64_t seed, uint8_t *out)
{
    (void)seed;
    memcpy(out, ((kd_ctx *)ctx)->x, NT * 96);
    return QSNN_OK;
}

static qsnn_status soft_cb(void *ctx, uint64_t seed, float *out)
{
    (void)seed;
    kd_ctx *c = ctx;
    if (!c->teacher) {
        for (int i = 0; i < NT * 3; i++)
            out[i] = 1.0f / 3.0f;
        return QSNN_OK;
    }
    float z[NT * 3];
    qsnn_status st = qsnn_model_predict_prec(c->teacher, c->x, NT, z, NULL, QSNN_PREC_F32);
    for (int s = 0; st == QSNN_OK && s < NT; s++) {
        double e[3], sum = 0;
        for (int j = 0; j < 3; j++)
            sum += (e[j] = exp(z[s * 3 + j] / c->T));
        for (int j = 0; j < 3; j++)
            out[s * 3 + j] = (float)(e[j] / sum);
    }
    return st;
}

/* the student's validation accuracy; *ptrue: its mean probability of the true class */
static double train_student(const kd_ctx *kc, const int32_t *wrong, const uint8_t *xv, const int32_t *yv,
                            float **params_out, size_t *np, double *ptrue)
{
    qsnn_model s;
    make_model(&s, 5);
    qsnn_train_data td = {0};
    td.train_labels = wrong, td.n_train = NT;
    td.augment = copy_cb, td.soft_targets = soft_cb, td.augment_ctx = (void *)kc;
    td.val_u8 = xv, td.val_labels = yv, td.n_val = NV;
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.num_episodes = 1;
    o.epochs[0] = 8;
    o.batch = 10;
    o.threads = 1;
    o.quiet = 1;
    o.kd_weight = 1.0f;
    o.kd_temperature = kc->T;
    qsnn_train_result res;
    if (qsnn_train_run(&s, &td, &o, &res) != QSNN_OK)
        fail_msg("student: %s", qsnn_last_error());
    double acc;
    assert_int_equal(qsnn_eval_float(&s, xv, yv, NV, &acc, NULL), QSNN_OK);
    float z[NV * 3];
    assert_int_equal(qsnn_model_predict_prec(&s, xv, NV, z, NULL, QSNN_PREC_F32), QSNN_OK);
    *ptrue = 0;
    for (int i = 0; i < NV; i++) {
        double e0 = exp(z[i * 3]), e1 = exp(z[i * 3 + 1]), e2 = exp(z[i * 3 + 2]);
        *ptrue += exp(z[i * 3 + yv[i]]) / (e0 + e1 + e2) / NV;
    }
    *np = s.num_params;
    *params_out = malloc(s.num_params * sizeof(float));
    memcpy(*params_out, s.params, s.num_params * sizeof(float));
    qsnn_model_free(&s);
    return acc;
}

static void test_student_learns_from_teacher(void **state)
{
    (void)state;
    static uint8_t xt[NT * 96], xv[NV * 96];
    static int32_t yt[NT], yv[NV], wrong[NT];
    synth(xt, yt, NT, 1);
    synth(xv, yv, NV, 2);
    for (int i = 0; i < NT; i++)
        wrong[i] = (yt[i] + 1) % 3; /* every label wrong: only the teacher can teach */
    qsnn_model teacher;
    make_model(&teacher, 9);
    qsnn_train_data td = {0};
    td.train_u8 = xt, td.train_labels = yt, td.n_train = NT;
    td.val_u8 = xv, td.val_labels = yv, td.n_val = NV;
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.num_episodes = 1;
    o.epochs[0] = 8;
    o.batch = 10;
    o.threads = 1;
    o.quiet = 1;
    qsnn_train_result res;
    if (qsnn_train_run(&teacher, &td, &o, &res) != QSNN_OK)
        fail_msg("teacher: %s", qsnn_last_error());
    if (res.best_val_acc[0] < 0.9)
        fail_msg("teacher: validation accuracy %.3f < 0.9", res.best_val_acc[0]);

    kd_ctx real = {xt, &teacher, 2.0f}, constant = {xt, NULL, 2.0f};
    float *p_real, *p_const;
    size_t np;
    double pt_real, pt_const;
    double acc_real = train_student(&real, wrong, xv, yv, &p_real, &np, &pt_real);
    double acc_const = train_student(&constant, wrong, xv, yv, &p_const, &np, &pt_const);
    if (getenv("QSNN_DEBUG_KD"))
        fprintf(stderr, "teacher: accuracy %.3f p(true) %.3f; constant: %.3f %.3f\n", acc_real, pt_real, acc_const,
                pt_const);
    if (acc_real < 0.9 || pt_real < 0.5)
        fail_msg("student taught by the teacher: validation accuracy %.3f < 0.9 or p(true) %.3f < 0.5", acc_real,
                 pt_real);
    if (pt_const > 0.4) /* uniform targets: every class near 1/3 whatever the argmax */
        fail_msg("student taught by a constant teacher: p(true class) %.3f > 0.4", pt_const);
    assert_true(memcmp(p_real, p_const, np * sizeof(float)) != 0);
    free(p_real);
    free(p_const);
    qsnn_model_free(&teacher);
}

static void test_bn_reestimation_is_the_mean(void **state)
{
    (void)state;
    static uint8_t x[40 * 96];
    static int32_t y[40];
    synth(x, y, 40, 3);
    qsnn_model m;
    make_model(&m, 4);
    qsnn_trainer *t;
    assert_int_equal(qsnn_trainer_create(&t, &m, 10, 1), QSNN_OK);
    /* the first layer's statistics see the raw input: its moving mean after 4 batches at momentum k / (k + 1) is
     * the mean of the 4 batch means, whatever it was before */
    const int c = m.arch.layers[0].out.c;
    for (int k = 0; k < c; k++)
        m.lp[0].moving_mean[k] = 1e3f;
    double want[64] = {0};
    for (int b = 0; b < 4; b++) {
        assert_int_equal(qsnn_trainer_bn_stats(t, x + b * 10 * 96, 10, 0.0f), QSNN_OK); /* momentum 0: batch b */
        for (int k = 0; k < c; k++)
            want[k] += m.lp[0].moving_mean[k] / 4.0;
    }
    for (int b = 0; b < 4; b++)
        assert_int_equal(qsnn_trainer_bn_stats(t, x + b * 10 * 96, 10, (float)b / (float)(b + 1)), QSNN_OK);
    for (int k = 0; k < c; k++)
        if (fabs(m.lp[0].moving_mean[k] - want[k]) > 1e-5 * (1 + fabs(want[k])))
            fail_msg("channel %d: moving mean %.7g, mean of the batch means %.7g", k, m.lp[0].moving_mean[k],
                     want[k]);
    assert_int_equal(qsnn_trainer_bn_stats(t, x, 10, 1.5f), QSNN_ERR_ARG);
    qsnn_trainer_free(t);
    qsnn_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kd_loss_gradient),
        cmocka_unit_test(test_student_learns_from_teacher),
        cmocka_unit_test(test_bn_reestimation_is_the_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
