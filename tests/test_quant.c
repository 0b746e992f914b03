/* SPDX-License-Identifier: Apache-2.0 */
/* test_quant.c: the quantizers produce exactly the levels of docs/design.md s3.3-3.4: weight codes in [-kmax, kmax]
 * with delta = kmax / (threshold * population std), round half to even, clipping and its straight-through mask;
 * ActivationDiscreteRelu levels {0, gamma, ..., relumax} with ties at t0 + n*gamma going down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsnn/core.h"
#include "qsnn/model.h"
#include "qsnn/nn.h"

static double pop_std(const float *w, size_t n)
{
    double m = 0, s = 0;
    for (size_t i = 0; i < n; i++)
        m += w[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        s += (w[i] - m) * (w[i] - m);
    return sqrt(s / (double)n);
}

/* Quantize a normal tensor; check delta, that every code is an integer in [-kmax, kmax], that the extreme codes
 * occur, and that -kmax-1 never does. */
static void check_weight_levels(int bits, int kmax, float threshold)
{
    enum { N = 20000 };
    float *w = malloc(N * sizeof *w), *wq = malloc(N * sizeof *wq);
    assert_non_null(w);
    assert_non_null(wq);
    qsnn_rng r;
    qsnn_rng_seed(&r, 1234 + (uint64_t)bits);
    for (int i = 0; i < N; i++)
        w[i] = (float)(0.05 * qsnn_rng_normal(&r) + 0.01);
    float delta = qsnn_quant_weights(wq, w, N, bits);
    float expect = (float)kmax / (threshold * (float)pop_std(w, N));
    if (fabsf(delta - expect) > 1e-6f * expect)
        fail_msg("bits %d: delta %.9g, expected kmax/(thr*std) = %.9g", bits, delta, expect);
    int seen_max = 0, seen_min = 0;
    for (int i = 0; i < N; i++) {
        float code = wq[i] * delta;
        float k = rintf(code);
        if (fabsf(code - k) > 1e-4f || k > kmax || k < -kmax)
            fail_msg("bits %d: element %d: w %.9g -> code %.9g is not an integer in [-%d, %d]", bits, i, w[i], code,
                     kmax, kmax);
        float want = rintf(w[i] * delta);
        want = want > kmax ? (float)kmax : (want < -kmax ? (float)-kmax : want);
        if (k != want)
            fail_msg("bits %d: element %d: code %g, expected %g", bits, i, k, want);
        seen_max |= k == kmax;
        seen_min |= k == -kmax;
    }
    assert_true(seen_max && seen_min);
    free(w);
    free(wq);
}

static void test_weights_4bit_levels(void **state)
{
    (void)state;
    check_weight_levels(4, 7, 3.0f);
}

static void test_weights_8bit_levels(void **state)
{
    (void)state;
    check_weight_levels(8, 127, 3.0f);
}

static void test_weights_2bit_threshold_1(void **state)
{
    (void)state;
    check_weight_levels(2, 1, 1.0f);
}

static void test_weights_round_half_even_and_clip(void **state)
{
    (void)state;
    const float w[] = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 6.5f, 7.49f, 7.5f, -9.0f, 0.49f};
    const float want[] = {0.0f, 2.0f, 2.0f, 4.0f, -0.0f, -2.0f, -2.0f, 6.0f, 7.0f, 7.0f, -7.0f, 0.0f};
    const float grad_mask[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1}; /* 7.5 rounds to 8: clipped */
    enum { N = sizeof w / sizeof w[0] };
    float wq[N], g[N], dw[N];
    qsnn_quant_weights_apply(wq, w, N, 4, 1.0f);
    for (int i = 0; i < N; i++) {
        if (wq[i] != want[i])
            fail_msg("w %.3g -> %.9g, expected %g (round half to even, clip at 7)", w[i], wq[i], want[i]);
        g[i] = 0.5f + (float)i;
    }
    qsnn_quant_weights_backward(dw, g, w, N, 4, 1.0f);
    for (int i = 0; i < N; i++)
        assert_true(dw[i] == g[i] * grad_mask[i]);
    /* with delta 2, 1.25 -> 2.5 -> 2 -> wq 1.0; 0.75 -> 1.5 -> 2 -> 1.0 */
    const float w2[] = {1.25f, 0.75f};
    float q2[2];
    qsnn_quant_weights_apply(q2, w2, 2, 4, 2.0f);
    assert_true(q2[0] == 1.0f && q2[1] == 1.0f);
}

static void test_weights_zero_tensor(void **state)
{
    (void)state;
    float w[8] = {0}, wq[8];
    for (int i = 0; i < 8; i++)
        wq[i] = 99.0f;
    assert_true(qsnn_quant_weights(wq, w, 8, 4) == 0.0f);
    for (int i = 0; i < 8; i++)
        assert_true(wq[i] == 0.0f);
    assert_true(qsnn_quant_weights_delta(w, 0, 4) == 0.0f);
    /* in place (wq aliases w) works */
    float v[4] = {1.0f, -1.0f, 1.0f, -1.0f};
    float d = qsnn_quant_weights(v, v, 4, 4); /* std 1: delta 7/3 */
    assert_true(fabsf(d - 7.0f / 3.0f) < 1e-6f);
    assert_true(fabsf(v[0] - 2.0f / d) < 1e-6f); /* 7/3 rounds to 2 */
}

static void test_qrelu_params(void **state)
{
    (void)state;
    qsnn_qrelu q = qsnn_qrelu_params(4);
    assert_int_equal(q.levels, 15);
    assert_true(q.relumax == 6.0f && fabsf(q.gamma - 0.4f) < 1e-7f && fabsf(q.t0 - 0.2f) < 1e-7f);
    assert_true(fabsf(q.step - 0.4f) < 1e-7f);
    q = qsnn_qrelu_params(2);
    assert_true(q.levels == 3 && q.relumax == 3.0f && q.gamma == 1.0f && q.t0 == 0.5f && q.step == 0.25f);
    q = qsnn_qrelu_params(1);
    assert_true(q.levels == 1 && q.relumax == 1.0f && q.gamma == 1.0f && q.t0 == 0.5f);
    q = qsnn_qrelu_params(8);
    assert_true(q.levels == 255 && q.relumax == 6.0f && fabsf(q.gamma - 6.0f / 255.0f) < 1e-8f);
}

static void test_qrelu_4bit_levels(void **state)
{
    (void)state;
    qsnn_qrelu q = qsnn_qrelu_params(4);
    int seen[16] = {0};
    enum { N = 20001 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = -2.0f + 10.0f * (float)i / (float)(N - 1);
    qsnn_qrelu_forward(y, x, N, &q);
    for (int i = 0; i < N; i++) {
        int k = qsnn_qrelu_level(&q, x[i]);
        assert_true(k >= 0 && k <= 15);
        if (y[i] != q.gamma * (float)k)
            fail_msg("x %.9g: y %.9g, expected level %d * 0.4", x[i], y[i], k);
        /* away from the boundaries, the level is the double-precision one */
        double u = (x[i] - 0.2) / 0.4;
        if (fabs(u - floor(u + 0.5)) > 1e-4) {
            int kd = (int)ceil(u);
            kd = kd < 0 ? 0 : (kd > 15 ? 15 : kd);
            if (kd != k)
                fail_msg("x %.9g: level %d, expected %d", x[i], k, kd);
        }
        seen[k] = 1;
    }
    for (int k = 0; k < 16; k++)
        assert_true(seen[k]);
    assert_true(y[N - 1] == 6.0f);
    /* gradient: 1 on (-0.2, 6.2], 0 outside */
    const float xs[] = {-0.3f, -0.19f, 0.0f, 3.0f, 6.1f, 6.19f, 6.3f, 100.0f};
    const float gm[] = {0, 1, 1, 1, 1, 1, 0, 0};
    float dy[8], dx[8];
    for (int i = 0; i < 8; i++)
        dy[i] = 2.0f;
    qsnn_qrelu_backward(dx, dy, xs, 8, &q);
    for (int i = 0; i < 8; i++)
        if (dx[i] != 2.0f * gm[i])
            fail_msg("qrelu grad at %g: %g", xs[i], dx[i]);
}

static void test_qrelu_ties_go_down(void **state)
{
    (void)state;
    qsnn_qrelu q = qsnn_qrelu_params(2); /* gamma 1, t0 0.5: exact arithmetic */
    const float xs[] = {0.5f, 0.5000001f, 1.5f, 1.5000001f, 2.5f, 2.5000002f, 3.5f, -1.0f};
    const int want[] = {0, 1, 1, 2, 2, 3, 3, 0};
    for (int i = 0; i < 8; i++)
        if (qsnn_qrelu_level(&q, xs[i]) != want[i])
            fail_msg("2-bit level(%.9g) = %d, expected %d", xs[i], qsnn_qrelu_level(&q, xs[i]), want[i]);
    /* 4 bits at ties that are exact in float32: x - 0.2f rounds to exactly n * 0.4f for these */
    qsnn_qrelu q4 = qsnn_qrelu_params(4);
    for (int n = 0; n < 15; n++) {
        float x = q4.t0 + (float)n * q4.gamma;
        if ((x - q4.t0) / q4.gamma == (float)n) {
            assert_int_equal(qsnn_qrelu_level(&q4, x), n);
            assert_int_equal(qsnn_qrelu_level(&q4, nextafterf(x, 100.0f)), n + 1);
        }
    }
    float nan_in = NAN;
    assert_int_equal(qsnn_qrelu_level(&q4, nan_in), 0);
}

static void test_relu6(void **state)
{
    (void)state;
    const float x[] = {-1.0f, 0.0f, 2.5f, 6.0f, 7.0f};
    float y[5], dx[5], dy[5] = {1, 1, 1, 1, 1};
    qsnn_relu6_forward(y, x, 5);
    assert_true(y[0] == 0.0f && y[1] == 0.0f && y[2] == 2.5f && y[3] == 6.0f && y[4] == 6.0f);
    qsnn_relu6_backward(dx, dy, x, 5);
    assert_true(dx[0] == 0.0f && dx[2] == 1.0f && dx[4] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_4bit_levels),
        cmocka_unit_test(test_weights_8bit_levels),
        cmocka_unit_test(test_weights_2bit_threshold_1),
        cmocka_unit_test(test_weights_round_half_even_and_clip),
        cmocka_unit_test(test_weights_zero_tensor),
        cmocka_unit_test(test_qrelu_params),
        cmocka_unit_test(test_qrelu_4bit_levels),
        cmocka_unit_test(test_qrelu_ties_go_down),
        cmocka_unit_test(test_relu6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
