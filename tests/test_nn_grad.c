/* SPDX-License-Identifier: Apache-2.0 */
/* test_nn_grad.c: every layer's backward against central finite differences of its forward, evaluated in
 * double (loss = sum_i r_i * out_i with fixed random r), on tiny random shapes. Inputs are kept away from kinks
 * (ReLU6 at 0 and 6). For the quantizers the straight-through gradient is checked against finite differences of
 * the straight-through surrogate (identity inside the unclipped range, constant outside), and the forward is
 * checked to stay within half a step of that surrogate. Fast kernels are compared with their _ref twins.
 * A failure prints the worst element. */
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
#include "qsnn/nn.h"

typedef double (*loss_fn)(void *ctx);

static qsnn_rng g_rng;

static float *rand_vec(size_t n, float scale)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(scale * qsnn_rng_normal(&g_rng));
    return v;
}

static double dot(const float *a, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)r[i];
    return s;
}

/* Compare analytic[i] with (L(x + eps e_i) - L(x - eps e_i)) / 2 eps for every element of x. */
static void check_grad(const char *what, float *x, size_t n, const float *analytic, loss_fn loss, void *ctx,
                       float eps, double tol)
{
    double worst = 0;
    size_t wi = 0;
    double wnum = 0, wana = 0;
    for (size_t i = 0; i < n; i++) {
        float save = x[i];
        x[i] = save + eps;
        double lp = loss(ctx);
        x[i] = save - eps;
        double lm = loss(ctx);
        x[i] = save;
        double num = (lp - lm) / (2.0 * (double)eps);
        double err = fabs(num - analytic[i]) / fmax(1.0, fmax(fabs(num), fabs(analytic[i])));
        if (err > worst) {
            worst = err;
            wi = i;
            wnum = num;
            wana = analytic[i];
        }
    }
    if (worst > tol)
        fail_msg("%s: gradient mismatch, worst element %zu: analytic %.8g, numeric %.8g (rel err %.3g > %.3g)", what,
                 wi, wana, wnum, worst, tol);
}

/* ---- conv2d ---- */
typedef struct {
    qsnn_conv_cfg c;
    size_t n;
    float *in, *wt, *out, *r;
    int depthwise;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *k = p;
    if (k->depthwise)
        qsnn_depthwise_forward(k->out, k->in, k->wt, k->n, &k->c);
    else
        qsnn_conv2d_forward(k->out, k->in, k->wt, k->n, &k->c);
    return dot(k->out, k->r, k->n * (size_t)k->c.oh * k->c.ow * k->c.cout);
}

static void run_conv_check(int depthwise, int h, int w, int cin, int cout, int kh, int kw, int s, int same)
{
    conv_ctx k;
    memset(&k, 0, sizeof k);
    k.depthwise = depthwise;
    k.n = 2;
    assert_int_equal(qsnn_conv_cfg_make(&k.c, h, w, cin, depthwise ? cin : cout, kh, kw, s, s, same), QSNN_OK);
    size_t nin = k.n * (size_t)h * w * cin, nout = k.n * (size_t)k.c.oh * k.c.ow * k.c.cout;
    size_t nw = depthwise ? (size_t)kh * kw * cin : (size_t)kh * kw * cin * cout;
    k.in = rand_vec(nin, 1.0f);
    k.wt = rand_vec(nw, 0.5f);
    k.out = rand_vec(nout, 1.0f);
    k.r = rand_vec(nout, 1.0f);
    float *din = calloc(nin, sizeof *din), *dw = calloc(nw, sizeof *dw);
    assert_true(din && dw);
    if (depthwise)
        qsnn_depthwise_backward(din, dw, k.r, k.in, k.wt, k.n, &k.c);
    else
        qsnn_conv2d_backward(din, dw, k.r, k.in, k.wt, k.n, &k.c);
    char name[96];
    snprintf(name, sizeof name, "%s %dx%dx%d k%dx%d s%d %s: d_in", depthwise ? "depthwise" : "conv2d", h, w, cin, kh,
             kw, s, same ? "same" : "valid");
    check_grad(name, k.in, nin, din, conv_loss, &k, 1e-2f, 2e-3);
    snprintf(name + strlen(name) - 4, 5, "d_w");
    check_grad(name, k.wt, nw, dw, conv_loss, &k, 1e-2f, 2e-3);
    /* backward accumulates into dw: a second call doubles it */
    float *dw2 = calloc(nw, sizeof *dw2);
    assert_non_null(dw2);
    memcpy(dw2, dw, nw * sizeof *dw2);
    if (depthwise)
        qsnn_depthwise_backward(NULL, dw2, k.r, k.in, k.wt, k.n, &k.c);
    else
        qsnn_conv2d_backward(NULL, dw2, k.r, k.in, k.wt, k.n, &k.c);
    for (size_t i = 0; i < nw; i++)
        assert_true(fabsf(dw2[i] - 2.0f * dw[i]) <= 1e-5f * (1.0f + fabsf(dw[i])));
    free(k.in), free(k.wt), free(k.out), free(k.r), free(din), free(dw), free(dw2);
}

static void test_conv2d_grad(void **state)
{
    (void)state;
    run_conv_check(0, 9, 6, 1, 4, 5, 5, 2, 1); /* conv_0-like: pads 2/2 rows, 1/2 cols */
    run_conv_check(0, 5, 4, 3, 2, 3, 3, 1, 1);
    run_conv_check(0, 7, 5, 2, 3, 3, 2, 2, 0);
    run_conv_check(0, 9, 6, 1, 8, 5, 5, 2, 1); /* AVX2 fast forward (cout % 8 == 0) */
}

static void test_depthwise_grad(void **state)
{
    (void)state;
    run_conv_check(1, 5, 4, 3, 3, 3, 3, 1, 1);
    run_conv_check(1, 6, 5, 4, 4, 3, 3, 2, 1);
    run_conv_check(1, 1, 1, 5, 5, 3, 3, 1, 1); /* separable_6: 1x1 input, only the centre tap */
    run_conv_check(1, 5, 4, 8, 8, 3, 3, 1, 1);  /* AVX2 fast paths (channels % 8 == 0) */
    run_conv_check(1, 1, 1, 16, 16, 3, 3, 1, 1);
    run_conv_check(1, 6, 5, 8, 8, 3, 3, 2, 1);
}

/* fast kernels against their _ref twins on mobilenet-like shapes */
static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double w = 0, s = 1e-6;
    for (size_t i = 0; i < n; i++)
        s = fmax(s, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs(a[i] - b[i]) / s);
    return w;
}

static void fast_vs_ref(int depthwise, int h, int w, int cin, int cout, int k, int st)
{
    qsnn_conv_cfg c;
    assert_int_equal(qsnn_conv_cfg_make(&c, h, w, cin, depthwise ? cin : cout, k, k, st, st, 1), QSNN_OK);
    size_t n = 3, nin = n * (size_t)h * w * cin, nout = n * (size_t)c.oh * c.ow * c.cout;
    size_t nw = depthwise ? (size_t)k * k * cin : (size_t)k * k * cin * cout;
    float *x = rand_vec(nin, 1), *wt = rand_vec(nw, 1), *g = rand_vec(nout, 1);
    float *o1 = rand_vec(nout, 1), *o2 = rand_vec(nout, 1), *d1 = rand_vec(nin, 1), *d2 = rand_vec(nin, 1);
    float *w1 = calloc(nw, sizeof *w1), *w2 = calloc(nw, sizeof *w2);
    if (depthwise) {
        qsnn_depthwise_forward(o1, x, wt, n, &c);
        qsnn_depthwise_forward_ref(o2, x, wt, n, &c);
        qsnn_depthwise_backward(d1, w1, g, x, wt, n, &c);
        qsnn_depthwise_backward_ref(d2, w2, g, x, wt, n, &c);
    } else {
        qsnn_conv2d_forward(o1, x, wt, n, &c);
        qsnn_conv2d_forward_ref(o2, x, wt, n, &c);
        qsnn_conv2d_backward(NULL, w1, g, x, wt, n, &c); /* the first layer's form (no input gradient) */
        qsnn_conv2d_backward_ref(NULL, w2, g, x, wt, n, &c);
        double e0 = max_rel_diff(w1, w2, nw);
        memset(w1, 0, nw * sizeof *w1), memset(w2, 0, nw * sizeof *w2);
        qsnn_conv2d_backward(d1, w1, g, x, wt, n, &c); /* and with it */
        qsnn_conv2d_backward_ref(d2, w2, g, x, wt, n, &c);
        if (e0 > 1e-5)
            fail_msg("conv2d %dx%dx%d->%d k%d s%d: fast vs _ref without din: dw %.3g", h, w, cin, cout, k, st, e0);
    }
    double e1 = max_rel_diff(o1, o2, nout), e2 = max_rel_diff(d1, d2, nin),
           e3 = max_rel_diff(w1, w2, nw);
    if (e1 > 1e-5 || e2 > 1e-5 || e3 > 1e-5)
        fail_msg("%s %dx%dx%d->%d k%d s%d: fast vs _ref: out %.3g din %.3g dw %.3g", depthwise ? "depthwise" : "conv2d",
                 h, w, cin, cout, k, st, e1, e2, e3);
    free(x), free(wt), free(g), free(o1), free(o2), free(d1), free(d2), free(w1), free(w2);
}

static void test_fast_kernels_match_ref(void **state)
{
    (void)state;
    fast_vs_ref(0, 49, 10, 1, 32, 5, 2); /* conv_0 */
    fast_vs_ref(0, 25, 5, 64, 64, 1, 1); /* ds_cnn's pw layers: 1x1 conv2d as a pointwise GEMM */
    fast_vs_ref(0, 4, 3, 12, 20, 1, 1);  /* 1x1 with sizes the GEMM kernels do not take */
    fast_vs_ref(0, 9, 7, 40, 16, 3, 1);  /* a later 3x3 conv: fast input gradient (cin % 8 == 0), 32 + 8 blocks */
    fast_vs_ref(0, 8, 6, 8, 24, 5, 2);   /* stride 2, 5x5: taps reaching only some output pixels */
    fast_vs_ref(0, 8, 6, 8, 48, 5, 2);   /* im2col + GEMM path (K = 200, cout 48): stride 2, padding taps */
    fast_vs_ref(0, 25, 5, 32, 64, 3, 1); /* im2col + GEMM, 125 pixels: blocks of 32 and a remainder of 29 */
    fast_vs_ref(0, 9, 7, 3, 40, 3, 1);
    fast_vs_ref(0, 9, 7, 3, 32, 3, 1);   /* padded path: 3 input channels, odd width */
    fast_vs_ref(0, 8, 6, 2, 32, 5, 2);   /* padded path: stride 2, even sizes */
    fast_vs_ref(1, 25, 5, 64, 64, 3, 1); /* separable_2..5 depthwise */
    fast_vs_ref(1, 25, 5, 32, 32, 3, 1);
    fast_vs_ref(1, 1, 1, 64, 64, 3, 1);  /* separable_6 */
    fast_vs_ref(1, 6, 9, 8, 8, 3, 1);    /* 3x3 stride-1 path: rows of 4 + remainder, borders on every side */
    fast_vs_ref(1, 2, 3, 16, 16, 3, 1);  /* 3x3 stride-1 path: image smaller than a row group */
    fast_vs_ref(1, 4, 8, 16, 16, 3, 1);  /* 3x3 'same', rows of <= 8 in registers: widest row */
    fast_vs_ref(1, 7, 2, 8, 8, 3, 1);    /* 3x3 'same': narrow rows */
    fast_vs_ref(1, 3, 1, 24, 24, 3, 1);  /* 3x3 'same': one column */
    fast_vs_ref(1, 9, 8, 24, 24, 3, 2);  /* stride 2: fast forward and weight gradient, _ref input gradient */
}

static void test_conv_same_padding_geometry(void **state)
{
    (void)state;
    qsnn_conv_cfg c;
    assert_int_equal(qsnn_conv_cfg_make(&c, 49, 10, 1, 32, 5, 5, 2, 2, 1), QSNN_OK);
    assert_true(c.oh == 25 && c.ow == 5 && c.pad_t == 2 && c.pad_l == 1);
    assert_int_equal(qsnn_conv_cfg_make(&c, 2, 2, 1, 1, 5, 5, 1, 1, 0), QSNN_ERR_SHAPE);
    assert_int_equal(qsnn_conv_cfg_make(&c, 0, 2, 1, 1, 1, 1, 1, 1, 1), QSNN_ERR_SHAPE);
}

/* ---- pointwise / dense ---- */
typedef struct {
    size_t m;
    int cin, cout;
    float *in, *wt, *out, *r;
} pw_ctx;

static double pw_loss(void *p)
{
    pw_ctx *k = p;
    qsnn_pointwise_forward(k->out, k->in, k->wt, k->m, k->cin, k->cout);
    return dot(k->out, k->r, k->m * (size_t)k->cout);
}

static void test_pointwise_grad(void **state)
{
    (void)state;
    pw_ctx k = {.m = 7, .cin = 5, .cout = 4};
    k.in = rand_vec(35, 1), k.wt = rand_vec(20, 1), k.out = rand_vec(28, 1), k.r = rand_vec(28, 1);
    float din[35], dw[20] = {0};
    qsnn_pointwise_backward(din, dw, k.r, k.in, k.wt, k.m, k.cin, k.cout);
    check_grad("pointwise d_in", k.in, 35, din, pw_loss, &k, 1e-2f, 1e-3);
    check_grad("pointwise d_w", k.wt, 20, dw, pw_loss, &k, 1e-2f, 1e-3);
    free(k.in), free(k.wt), free(k.out), free(k.r);
}

static void pw_fast_vs_ref(size_t m, int ci, int co)
{
    float *in = rand_vec(m * ci, 1), *wt = rand_vec((size_t)ci * co, 1), *g = rand_vec(m * co, 1);
    float *o1 = rand_vec(m * co, 1), *o2 = rand_vec(m * co, 1);
    float *d1 = rand_vec(m * ci, 1), *d2 = rand_vec(m * ci, 1);
    float *w1 = calloc((size_t)ci * co, sizeof *w1), *w2 = calloc((size_t)ci * co, sizeof *w2);
    qsnn_pointwise_forward(o1, in, wt, m, ci, co);
    qsnn_pointwise_forward_ref(o2, in, wt, m, ci, co);
    qsnn_pointwise_backward(d1, w1, g, in, wt, m, ci, co);
    qsnn_pointwise_backward_ref(d2, w2, g, in, wt, m, ci, co);
    double worst = 0;
    for (size_t i = 0; i < m * co; i++)
        worst = fmax(worst, fabs(o1[i] - o2[i]));
    for (size_t i = 0; i < m * ci; i++)
        worst = fmax(worst, fabs(d1[i] - d2[i]));
    for (size_t i = 0; i < (size_t)ci * co; i++)
        worst = fmax(worst, fabs(w1[i] - w2[i]) / 20.0); /* sums over 301 rows */
    if (worst > 1e-3)
        fail_msg("pointwise %zux%d->%d fast vs _ref: worst abs difference %.3g", m, ci, co, worst);
    free(in), free(wt), free(g), free(o1), free(o2), free(d1), free(d2), free(w1), free(w2);
}

static void test_pointwise_fast_matches_ref(void **state)
{
    (void)state;
    pw_fast_vs_ref(301, 64, 48);
    pw_fast_vs_ref(125, 32, 64); /* separable_1: k = 32 = 4 x 6 + 2 x 4 */
    pw_fast_vs_ref(7, 64, 64);
    pw_fast_vs_ref(13, 64, 12); /* separable_6: OpenBLAS / loops */
    pw_fast_vs_ref(5, 20, 16);
    /* every remainder of the 6-row blocks (rows % 6 = 1 and 5 above): a chunk of 4 samples of 125 rows, and its
     * backward's last 96-row block of 20 rows (2); the pooled layer's 4 rows (4); 3 */
    pw_fast_vs_ref(500, 64, 64);
    pw_fast_vs_ref(4, 64, 64);
    pw_fast_vs_ref(99, 32, 16);
}

/* ---- bias, average pooling ---- */
typedef struct {
    size_t n;
    int hw, c;
    float *in, *bias, *out, *r;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *k = p;
    qsnn_avgpool_forward(k->out, k->in, k->n, k->hw, k->c);
    qsnn_bias_forward(k->out, k->bias, k->n, k->c);
    return dot(k->out, k->r, k->n * (size_t)k->c);
}

static void test_avgpool_bias_grad(void **state)
{
    (void)state;
    pool_ctx k = {.n = 3, .hw = 6, .c = 4};
    k.in = rand_vec(72, 1), k.bias = rand_vec(4, 1), k.out = rand_vec(12, 1), k.r = rand_vec(12, 1);
    float din[72], db[4] = {0};
    qsnn_avgpool_backward(din, k.r, k.n, k.hw, k.c);
    qsnn_bias_backward(db, k.r, k.n, k.c);
    check_grad("avgpool d_in", k.in, 72, din, pool_loss, &k, 1e-2f, 1e-3);
    check_grad("bias d_b", k.bias, 4, db, pool_loss, &k, 1e-2f, 1e-3);
    free(k.in), free(k.bias), free(k.out), free(k.r);
}

/* ---- batch norm (training statistics) ---- */
typedef struct {
    size_t m;
    int c;
    float *x, *gamma, *beta, *y, *r, *mean, *invstd;
    qsnn_bn_cfg cfg;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *k = p;
    qsnn_batchnorm_forward_train(k->y, k->mean, k->invstd, NULL, NULL, k->x, k->gamma, k->beta, k->m, k->c, &k->cfg);
    return dot(k->y, k->r, k->m * (size_t)k->c);
}

static void test_batchnorm_grad(void **state)
{
    (void)state;
    bn_ctx k = {.m = 12, .c = 3, .cfg = {1e-3f, 0.99f}};
    k.x = rand_vec(36, 2.0f), k.gamma = rand_vec(3, 1), k.beta = rand_vec(3, 1);
    k.y = rand_vec(36, 1), k.r = rand_vec(36, 1), k.mean = rand_vec(3, 1), k.invstd = rand_vec(3, 1);
    for (int j = 0; j < 3; j++)
        k.x[j] += 3.0f; /* non-zero means */
    bn_loss(&k);
    float dx[36], dg[3] = {0}, dbt[3] = {0};
    qsnn_batchnorm_backward(dx, dg, dbt, k.r, k.x, k.mean, k.invstd, k.gamma, k.m, k.c);
    check_grad("batchnorm d_x", k.x, 36, dx, bn_loss, &k, 5e-3f, 5e-3);
    check_grad("batchnorm d_gamma", k.gamma, 3, dg, bn_loss, &k, 5e-3f, 5e-3);
    check_grad("batchnorm d_beta", k.beta, 3, dbt, bn_loss, &k, 5e-3f, 5e-3);
    /* statistics and moving averages */
    float mm[3] = {0, 0, 0}, mv[3] = {1, 1, 1};
    qsnn_batchnorm_forward_train(k.y, k.mean, k.invstd, mm, mv, k.x, k.gamma, k.beta, k.m, k.c, &k.cfg);
    for (int j = 0; j < 3; j++) {
        double s = 0, ss = 0;
        for (size_t r = 0; r < k.m; r++)
            s += k.x[r * 3 + j];
        s /= (double)k.m;
        for (size_t r = 0; r < k.m; r++)
            ss += (k.x[r * 3 + j] - s) * (k.x[r * 3 + j] - s);
        assert_true(fabs(k.mean[j] - s) < 1e-5);
        assert_true(fabs(k.invstd[j] - 1.0 / sqrt(ss / (double)k.m + 1e-3)) < 1e-4);
        assert_true(fabs(mm[j] - 0.01 * s) < 1e-6);
        assert_true(fabs(mv[j] - (0.99 + 0.01 * ss / (double)(k.m - 1))) < 1e-5);
    }
    /* inference mode with moving stats equal to the batch statistics reproduces the training output */
    float y2[36], mvb[3];
    for (int j = 0; j < 3; j++)
        mvb[j] = 1.0f / (k.invstd[j] * k.invstd[j]) - 1e-3f;
    qsnn_batchnorm_forward_infer(y2, k.x, k.gamma, k.beta, k.mean, mvb, k.m, k.c, 1e-3f);
    for (int i = 0; i < 36; i++)
        assert_true(fabsf(y2[i] - k.y[i]) < 1e-3f);
    free(k.x), free(k.gamma), free(k.beta), free(k.y), free(k.r), free(k.mean), free(k.invstd);
}

/* the fused BN + activation kernels equal BN followed by the activation: outputs and masks bit for bit, sums up to
 * float rounding */
static void test_bn_act_fused(void **state)
{
    (void)state;
    enum { M = 37, C = 24 };
    for (int kind = 0; kind < 3; kind++) {
        qsnn_act act = {(qsnn_act_kind)kind, qsnn_qrelu_params(4)};
        float *x = rand_vec(M * C, 3), *g = rand_vec(M * C, 1), *gamma = rand_vec(C, 1), *beta = rand_vec(C, 1);
        float mean[C], invstd[C], y[M * C], a1[M * C], a2[M * C], g1[M * C], g2[M * C];
        for (int j = 0; j < C; j++)
            mean[j] = 0.1f * (float)j, invstd[j] = 0.5f + 0.05f * (float)j, beta[j] += 2.0f;
        /* channels 0..7 with the identity BN and inputs on, just below and just above every level threshold
         * t0 + k * gamma (k = -2..levels + 1): the quantized ReLU's ties and near-ties */
        for (int j = 0; j < 8; j++)
            mean[j] = 0.0f, invstd[j] = 1.0f, gamma[j] = 1.0f, beta[j] = 0.0f;
        for (int r = 0; r < M; r++)
            for (int j = 0; j < 8; j++) {
                const int i = r * 8 + j, k = i / 3 % (act.q.levels + 4) - 2;
                const float th = act.q.t0 + (float)k * act.q.gamma;
                x[r * C + j] = i % 3 == 0 ? th : i % 3 == 1 ? nextafterf(th, -INFINITY) : nextafterf(th, INFINITY);
            }
        qsnn_bn_apply(y, x, mean, invstd, gamma, beta, M, C);
        if (kind == QSNN_ACT_RELU6)
            qsnn_relu6_forward(a1, y, M * C);
        else if (kind == QSNN_ACT_QRELU)
            qsnn_qrelu_forward(a1, y, M * C, &act.q);
        else
            memcpy(a1, y, sizeof y);
        qsnn_bn_act_forward(a2, x, mean, invstd, gamma, beta, M, C, &act);
        assert_int_equal(memcmp(a1, a2, sizeof a1), 0);
        memcpy(g1, g, sizeof g1);
        memcpy(g2, g, sizeof g2);
        if (kind == QSNN_ACT_RELU6)
            qsnn_relu6_backward(g1, g1, y, M * C);
        else if (kind == QSNN_ACT_QRELU)
            qsnn_qrelu_backward(g1, g1, y, M * C, &act.q);
        double s1[2 * C] = {0}, s2[2 * C] = {0};
        qsnn_bn_backward_sums(s1, s1 + C, g1, x, mean, invstd, M, C);
        qsnn_bn_act_backward_sums(g2, s2, s2 + C, x, mean, invstd, gamma, beta, M, C, &act);
        assert_int_equal(memcmp(g1, g2, sizeof g1), 0);
        /* sums: float partials of 8 rows in the fused kernel, double here; the float error is relative to the sum
         * of the terms' magnitudes (cancelling terms leave a small sum with the same absolute error) */
        for (int j = 0; j < C; j++) {
            double ab = 0, ag = 0;
            for (int i = 0; i < M; i++) {
                ab += fabs(g1[i * C + j]);
                ag += fabs(g1[i * C + j] * (x[i * C + j] - mean[j]) * invstd[j]);
            }
            assert_true(fabs(s1[j] - s2[j]) <= 1e-6 * (1 + ab));
            assert_true(fabs(s1[C + j] - s2[C + j]) <= 1e-6 * (1 + ag));
        }
        free(x), free(g), free(gamma), free(beta);
    }
}

/* ---- activations and quantizers ---- */
typedef struct {
    size_t n;
    float *x, *y, *r;
    int kind; /* 0 relu6, 1 qrelu surrogate, 2 weight quantizer surrogate, 3 softmax xent */
    qsnn_qrelu q;
    float delta;
    int bits;
    int32_t *labels;
    int k;
} act_ctx;

static double act_loss(void *p)
{
    act_ctx *c = p;
    if (c->kind == 0) {
        qsnn_relu6_forward(c->y, c->x, c->n);
    } else if (c->kind == 1) { /* surrogate of the quantized ReLU: clip(x, t0 - gamma, t0 + levels*gamma) */
        float lo = c->q.t0 - c->q.gamma, hi = c->q.t0 + (float)c->q.levels * c->q.gamma;
        for (size_t i = 0; i < c->n; i++)
            c->y[i] = c->x[i] < lo ? lo : (c->x[i] > hi ? hi : c->x[i]);
    } else if (c->kind == 2) { /* surrogate of the weight quantizer at fixed delta */
        float lim = ((float)((1 << (c->bits - 1)) - 1) + 0.5f) / c->delta;
        for (size_t i = 0; i < c->n; i++)
            c->y[i] = c->x[i] < -lim ? -lim : (c->x[i] > lim ? lim : c->x[i]);
    } else {
        return qsnn_softmax_xent_forward(c->y, NULL, c->x, c->labels, c->n / (size_t)c->k, c->k) /
               (double)(c->n / (size_t)c->k);
    }
    return dot(c->y, c->r, c->n);
}

/* inputs away from the points in kinks[] by at least 3*eps */
static void avoid(float *x, size_t n, const float *kinks, int nk, float eps)
{
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < nk; j++)
            if (fabsf(x[i] - kinks[j]) < 3 * eps)
                x[i] = kinks[j] + (x[i] >= kinks[j] ? 3.5f : -3.5f) * eps;
}

static void test_relu6_grad(void **state)
{
    (void)state;
    act_ctx c = {.n = 64, .kind = 0};
    c.x = rand_vec(64, 4), c.y = rand_vec(64, 1), c.r = rand_vec(64, 1);
    for (int i = 0; i < 64; i++)
        c.x[i] += 3.0f;
    const float kinks[] = {0.0f, 6.0f};
    avoid(c.x, 64, kinks, 2, 1e-2f);
    float dx[64];
    qsnn_relu6_backward(dx, c.r, c.x, 64);
    check_grad("relu6 d_x", c.x, 64, dx, act_loss, &c, 1e-2f, 1e-3);
    free(c.x), free(c.y), free(c.r);
}

static void test_qrelu_ste_grad(void **state)
{
    (void)state;
    for (int bits = 1; bits <= 8; bits++) {
        act_ctx c = {.n = 200, .kind = 1, .q = qsnn_qrelu_params(bits)};
        c.x = rand_vec(200, 4), c.y = rand_vec(200, 1), c.r = rand_vec(200, 1);
        for (int i = 0; i < 200; i++)
            c.x[i] += 3.0f;
        const float kinks[] = {c.q.t0 - c.q.gamma, c.q.t0 + (float)c.q.levels * c.q.gamma};
        avoid(c.x, 200, kinks, 2, 1e-3f);
        float dx[200], yq[200];
        qsnn_qrelu_backward(dx, c.r, c.x, 200, &c.q);
        char name[48];
        snprintf(name, sizeof name, "qrelu %d-bit STE d_x", bits);
        check_grad(name, c.x, 200, dx, act_loss, &c, 1e-3f, 1e-3);
        /* the forward is within half a step of the surrogate */
        act_loss(&c);
        qsnn_qrelu_forward(yq, c.x, 200, &c.q);
        for (int i = 0; i < 200; i++) {
            float lo = 0.0f, hi = c.q.relumax, s = c.y[i] < lo ? lo : (c.y[i] > hi ? hi : c.y[i]);
            if (fabsf(yq[i] - s) > c.q.gamma * 0.5f + 1e-5f)
                fail_msg("%d-bit qrelu(%g) = %g, surrogate %g", bits, c.x[i], yq[i], s);
        }
        free(c.x), free(c.y), free(c.r);
    }
}

static void test_weight_quant_ste_grad(void **state)
{
    (void)state;
    const int bits_list[] = {2, 4, 8};
    for (int b = 0; b < 3; b++) {
        act_ctx c = {.n = 300, .kind = 2, .bits = bits_list[b]};
        c.x = rand_vec(300, 0.1f), c.y = rand_vec(300, 1), c.r = rand_vec(300, 1);
        c.delta = qsnn_quant_weights_delta(c.x, 300, c.bits);
        float lim = ((float)((1 << (c.bits - 1)) - 1) + 0.5f) / c.delta;
        const float kinks[] = {-lim, lim};
        avoid(c.x, 300, kinks, 2, 1e-4f);
        float dw[300], wq[300];
        qsnn_quant_weights_backward(dw, c.r, c.x, 300, c.bits, c.delta);
        char name[48];
        snprintf(name, sizeof name, "weights %d-bit STE d_w", c.bits);
        check_grad(name, c.x, 300, dw, act_loss, &c, 1e-4f, 1e-3);
        act_loss(&c);
        qsnn_quant_weights_apply(wq, c.x, 300, c.bits, c.delta);
        float kmax_w = (float)((1 << (c.bits - 1)) - 1) / c.delta;
        for (int i = 0; i < 300; i++) {
            float s = c.y[i] < -kmax_w ? -kmax_w : (c.y[i] > kmax_w ? kmax_w : c.y[i]);
            if (fabsf(wq[i] - s) > 0.5f / c.delta + 1e-6f)
                fail_msg("%d-bit weight %g -> %g, surrogate %g", c.bits, c.x[i], wq[i], s);
        }
        free(c.x), free(c.y), free(c.r);
    }
}

static void test_softmax_xent_grad(void **state)
{
    (void)state;
    enum { N = 5, K = 4 };
    int32_t labels[N] = {0, 3, 2, 2, 1};
    act_ctx c = {.n = N * K, .kind = 3, .labels = labels, .k = K};
    c.x = rand_vec(N * K, 2), c.y = rand_vec(N * K, 1), c.r = NULL;
    act_loss(&c);
    float d[N * K];
    qsnn_softmax_xent_backward(d, c.y, labels, N, K, 1.0f / N);
    check_grad("softmax xent d_logits", c.x, N * K, d, act_loss, &c, 1e-3f, 1e-3);
    /* loss of uniform logits is log K; argmax hits counted */
    float z[K] = {0, 0, 0, 0}, p[K];
    int32_t lab = 2;
    int correct = 0;
    double l = qsnn_softmax_xent_forward(p, &correct, z, &lab, 1, K);
    assert_true(fabs(l - log(4.0)) < 1e-6);
    assert_int_equal(correct, 0); /* ties go to index 0 */
    free(c.x), free(c.y);
}

int main(void)
{
    qsnn_rng_seed(&g_rng, 42);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_same_padding_geometry),
        cmocka_unit_test(test_conv2d_grad),
        cmocka_unit_test(test_depthwise_grad),
        cmocka_unit_test(test_fast_kernels_match_ref),
        cmocka_unit_test(test_pointwise_grad),
        cmocka_unit_test(test_pointwise_fast_matches_ref),
        cmocka_unit_test(test_avgpool_bias_grad),
        cmocka_unit_test(test_batchnorm_grad),
        cmocka_unit_test(test_bn_act_fused),
        cmocka_unit_test(test_relu6_grad),
        cmocka_unit_test(test_qrelu_ste_grad),
        cmocka_unit_test(test_weight_quant_ste_grad),
        cmocka_unit_test(test_softmax_xent_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
