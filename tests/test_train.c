/* SPDX-License-Identifier: Apache-2.0 */
/* test_train.c: the training graph and loop.
 *  - whole-model gradients (conv2d, separable with pooling, BN, ReLU6, bias, dense) against central finite
 *    differences of the training-mode loss, in double, on a tiny model;
 *  - 2 threads give the same gradients as 1 (batch-norm partial sums, per-thread accumulators, chunks shared
 *    between the threads), and bit-identical gradients from one run to the next;
 *  - a short three-episode run on three separable synthetic classes reaches high validation accuracy and the saved
 *    model predicts what the run reported;
 *  - a run stopped after 3 epochs and resumed from its checkpoint ends with bit-identical parameters (1 thread);
 *    resuming with other options is refused.
 * Sizes are tiny so the program stays well under 30 s also under ASan. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fonts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsnn/qsnn.h"
#include "qsnn/train.h"


#include <cairo.h>
#include <cjson/cJSON.h>

static const char *k_tiny_json =
    "{\"name\": \"tiny\", \"input\": [8, 6, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8},"
    "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 5, \"kernel\": 3, \"use_bias\": true, \"weight_bits\": 4},"
    "{\"name\": \"s2\", \"op\": \"separable\", \"filters\": 6, \"kernel\": 3, \"weight_bits\": 4, \"pool\": \"global_avg\"},"
    "{\"name\": \"d3\", \"op\": \"dense\", \"filters\": 3, \"use_bias\": true, \"weight_bits\": 4,"
    " \"batch_norm\": false, \"activation\": false}]}";

/* a separable layer with pooling whose depthwise runs on window sums (graph.c, pool_first) with a bias: 3x3
 * stride 1 'same' on 16 channels (the 3x3 register path), then a [3, 2] kernel stride 2 'valid' on 12 channels (the
 * generic path: one 8-channel block and 4 more); conv_0 without activation: no ReLU6 kinks in front of it for the
 * finite differences */
static const char *k_pool_json[2] = {
    "{\"name\": \"pool1\", \"input\": [8, 6, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 16, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8,"
    " \"activation\": false},"
    "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 6, \"kernel\": 3, \"use_bias\": true, \"weight_bits\": 4,"
    " \"pool\": \"global_avg\"},"
    "{\"name\": \"d2\", \"op\": \"dense\", \"filters\": 3, \"weight_bits\": 4, \"batch_norm\": false, \"activation\": false}]}",
    "{\"name\": \"pool2\", \"input\": [16, 12, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8,"
    " \"activation\": false},"
    "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 5, \"kernel\": [3, 2], \"stride\": 2,"
    " \"padding\": \"valid\", \"use_bias\": true, \"weight_bits\": 4, \"pool\": \"global_avg\"},"
    "{\"name\": \"d2\", \"op\": \"dense\", \"filters\": 3, \"weight_bits\": 4, \"batch_norm\": false, \"activation\": false}]}"};

static const char *k_small_json =
    "{\"name\": \"small\", \"input\": [12, 8, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 8, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8},"
    "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 16, \"kernel\": 3, \"weight_bits\": 4},"
    "{\"name\": \"s2\", \"op\": \"separable\", \"filters\": 16, \"kernel\": 3, \"weight_bits\": 4, \"pool\": \"global_avg\"},"
    "{\"name\": \"s3\", \"op\": \"separable\", \"filters\": 3, \"kernel\": 3, \"weight_bits\": 4,"
    " \"batch_norm\": false, \"activation\": false}]}";

static void make_model(qsnn_model *m, const char *json, uint64_t seed)
{
    qsnn_arch a;
    if (qsnn_arch_from_json(&a, json, "test") != QSNN_OK)
        fail_msg("arch: %s", qsnn_last_error());
    if (qsnn_model_init(m, &a, seed) != QSNN_OK)
        fail_msg("init: %s", qsnn_last_error());
}

typedef struct {
    qsnn_trainer *t;
    const float *x;
    const int32_t *y;
    size_t n;
} fd_ctx;

static double loss_at(fd_ctx *c)
{
    double loss;
    assert_int_equal(qsnn_trainer_forward_backward_f32(c->t, c->x, c->y, c->n, &loss, NULL), QSNN_OK);
    return loss;
}

static void model_gradients_fd(const char *json)
{
    qsnn_model m;
    make_model(&m, json, 3);
    qsnn_rng r;
    qsnn_rng_seed(&r, 11);
    for (size_t i = 0; i < m.num_params; i++) /* non-trivial BN and bias values */
        m.params[i] += (float)(0.05 * qsnn_rng_normal(&r));
    enum { N = 6 };
    const size_t in = qsnn_shape_count(m.arch.input);
    float *x = malloc(N * in * sizeof *x);
    int32_t y[N];
    for (size_t i = 0; i < N * in; i++)
        x[i] = (float)qsnn_rng_uniform(&r) * 2.0f;
    for (int i = 0; i < N; i++)
        y[i] = i % 3;
    qsnn_trainer *t;
    assert_int_equal(qsnn_trainer_create(&t, &m, N, 1), QSNN_OK);
    fd_ctx c = {t, x, y, N};
    loss_at(&c);
    float *ana = malloc(m.num_params * sizeof *ana);
    memcpy(ana, qsnn_trainer_grads(t), m.num_params * sizeof *ana);
    double worst = 0;
    size_t wi = 0, checked = 0;
    double wn = 0, wa = 0;
    for (int l = 0; l < m.arch.num_layers; l++) {
        qsnn_layer_params *lp = &m.lp[l];
        float *parts[5] = {lp->w, lp->dw, lp->bias, lp->gamma, lp->beta};
        size_t lens[5] = {lp->n_w, lp->n_dw, lp->n_bias, lp->n_bn, lp->n_bn};
        for (int k = 0; k < 5; k++)
            for (size_t i = 0; parts[k] && i < lens[k]; i++) {
                float *p = parts[k] + i;
                size_t idx = (size_t)(p - m.params);
                const float eps = 2e-4f; /* small enough to avoid ReLU6 kinks and BN curvature, large enough for float noise */
                float save = *p;
                *p = save + eps;
                double lp_ = loss_at(&c);
                *p = save - eps;
                double lm = loss_at(&c);
                *p = save;
                double num = (lp_ - lm) / (2.0 * eps);
                double err = fabs(num - ana[idx]) / (2e-3 + 0.05 * fabs(ana[idx]));
                checked++;
                if (getenv("QSNN_DEBUG_FD") && err > 1.0)
                    fprintf(stderr, "layer %d part %d idx %zu ana %.6g num %.6g\n", l, k, i, ana[idx], num);
                if (err > worst)
                    worst = err, wi = idx, wn = num, wa = ana[idx];
            }
    }
    if (getenv("QSNN_DEBUG_FD"))
        fprintf(stderr, "worst normalised error %.3f\n", worst);
    if (worst > 1.0)
        fail_msg("%s: model gradient mismatch at parameter %zu: analytic %.7g numeric %.7g", m.arch.name, wi, wa,
                 wn);
    assert_true(checked > 200);
    free(ana);
    free(x);
    qsnn_trainer_free(t);
    qsnn_model_free(&m);
}

static void test_model_gradients_fd(void **state)
{
    (void)state;
    model_gradients_fd(k_tiny_json);
    model_gradients_fd(k_pool_json[0]);
    model_gradients_fd(k_pool_json[1]);
}

static void test_threads_agree(void **state)
{
    (void)state;
    /* N = 9: one or two chunks per thread; N = 40: five per thread, the last two shared between the threads */
    for (int run = 0; run < 6; run++) {
        const int ep = run % 3 + 1, N = run < 3 ? 9 : 40;
        qsnn_model m1, m2;
        make_model(&m1, k_small_json, 5);
        make_model(&m2, k_small_json, 5);
        m1.quant_acts = m2.quant_acts = ep >= 2;
        m1.quant_weights = m2.quant_weights = ep >= 3;
        uint8_t x[40 * 96];
        int32_t y[40];
        qsnn_rng r;
        qsnn_rng_seed(&r, 21);
        for (int i = 0; i < N * 96; i++)
            x[i] = (uint8_t)qsnn_rng_below(&r, 256);
        for (int i = 0; i < N; i++)
            y[i] = i % 3;
        qsnn_trainer *t1, *t2;
        assert_int_equal(qsnn_trainer_create(&t1, &m1, N, 1), QSNN_OK);
        assert_int_equal(qsnn_trainer_create(&t2, &m2, N, 2), QSNN_OK);
        double l1, l2;
        int c1, c2;
        assert_int_equal(qsnn_trainer_forward_backward(t1, x, y, N, &l1, &c1), QSNN_OK);
        assert_int_equal(qsnn_trainer_forward_backward(t2, x, y, N, &l2, &c2), QSNN_OK);
        assert_true(fabs(l1 - l2) < 1e-5);
        const float *g1 = qsnn_trainer_grads(t1), *g2 = qsnn_trainer_grads(t2);
        double worst = 0, gmax = 0;
        for (size_t i = 0; i < m1.num_params; i++) {
            worst = fmax(worst, fabs(g1[i] - g2[i]));
            gmax = fmax(gmax, fabs(g1[i]));
        }
        if (worst > 1e-4 * gmax + 1e-7)
            fail_msg("episode %d, batch %d: 1 vs 2 threads gradients differ by %.3g (max |g| %.3g)", ep, N, worst,
                     gmax);
        for (size_t i = 0; i < m1.num_params; i++) /* moving statistics updated identically */
            assert_true(fabsf(m1.params[i] - m2.params[i]) < 1e-5f);
        /* 2 threads again: bit-identical (which thread runs a shared chunk depends on timing, the sums do not) */
        float *g2a = malloc(m2.num_params * sizeof *g2a);
        assert_non_null(g2a);
        memcpy(g2a, g2, m2.num_params * sizeof *g2a);
        for (int again = 0; again < 4; again++) {
            double l2b;
            int c2b;
            assert_int_equal(qsnn_trainer_forward_backward(t2, x, y, (size_t)N, &l2b, &c2b), QSNN_OK);
            assert_true(l2b == l2 && c2b == c2);
            assert_int_equal(memcmp(g2a, qsnn_trainer_grads(t2), m2.num_params * sizeof *g2a), 0);
        }
        free(g2a);
        qsnn_trainer_free(t1);
        qsnn_trainer_free(t2);
        qsnn_model_free(&m1);
        qsnn_model_free(&m2);
    }
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

typedef struct {
    uint8_t *xt, *xv;
    int32_t *yt, *yv;
    size_t nt, nv;
} synth_data;

static void synth_make(synth_data *d)
{
    d->nt = 300, d->nv = 90;
    d->xt = malloc(d->nt * 96), d->xv = malloc(d->nv * 96);
    d->yt = malloc(d->nt * sizeof(int32_t)), d->yv = malloc(d->nv * sizeof(int32_t));
    synth(d->xt, d->yt, d->nt, 1);
    synth(d->xv, d->yv, d->nv, 2);
}

static void synth_free(synth_data *d) { free(d->xt), free(d->xv), free(d->yt), free(d->yv); }

static qsnn_train_data as_train_data(const synth_data *d)
{
    qsnn_train_data td = {0};
    td.train_u8 = d->xt, td.train_labels = d->yt, td.n_train = d->nt;
    td.val_u8 = d->xv, td.val_labels = d->yv, td.n_val = d->nv;
    return td;
}

static void tmpdir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "%s/test_train_%s_%d", QSNN_BINARY_DIR, tag, (int)getpid());
}

static void test_three_episodes_learn(void **state)
{
    (void)state;
    synth_data d;
    synth_make(&d);
    qsnn_train_data td = as_train_data(&d);
    qsnn_model m;
    make_model(&m, k_small_json, 9);
    char dir[512], out[600], logp[600], plot[600];
    tmpdir(dir, sizeof dir, "learn");
    snprintf(out, sizeof out, "%s_model.qsnn", dir);
    snprintf(logp, sizeof logp, "%s_log.json", dir);
    snprintf(plot, sizeof plot, "%s_plot.png", dir);
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    /* 480 steps per episode, so the BN moving averages (momentum 0.99, variance initialised to 1) forget their
     * initial values: the pooled BN sees variances far below 1 */
    o.epochs[0] = o.epochs[1] = o.epochs[2] = 16;
    o.batch = 10;
    o.threads = 1;
    o.quiet = !getenv("QSNN_TEST_VERBOSE");
    if (getenv("QSNN_TEST_SCHED"))
        o.sched = (qsnn_sched_kind)atoi(getenv("QSNN_TEST_SCHED"));
    o.out_path = out;
    o.log_path = logp;
    qsnn_train_result res;
    /* a plot name that is neither .png nor .svg: refused before the first epoch, naming the file */
    o.plot_path = "curves.jpg";
    assert_int_equal(qsnn_train_run(&m, &td, &o, &res), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "curves.jpg"));
    assert_int_equal(res.num_records, 0);
    o.plot_path = plot;
    if (qsnn_train_run(&m, &td, &o, &res) != QSNN_OK)
        fail_msg("train: %s", qsnn_last_error());
    assert_int_equal(res.num_records, 48);
    for (int e = 0; e < 3; e++)
        if (res.best_val_acc[e] < 0.9)
            fail_msg("episode %d: best validation accuracy %.3f < 0.9", e + 1, res.best_val_acc[e]);
    assert_int_equal(m.episode, 3);
    assert_true(m.quant_acts && m.quant_weights);
    qsnn_model back;
    assert_int_equal(qsnn_model_load(&back, out), QSNN_OK);
    double acc;
    assert_int_equal(qsnn_eval_float(&back, d.xv, d.yv, d.nv, &acc, NULL), QSNN_OK);
    assert_true(fabs(acc - res.best_val_acc[2]) < 1e-9);
    /* trace: the last layer's output are the logits of predict */
    float *acts[QSNN_MAX_LAYERS] = {0};
    for (int l = 0; l < back.arch.num_layers; l++)
        acts[l] = malloc(qsnn_shape_count(back.arch.layers[l].out) * sizeof(float));
    float logits[3];
    assert_int_equal(qsnn_model_forward_trace(&back, d.xv, acts), QSNN_OK);
    assert_int_equal(qsnn_model_predict(&back, d.xv, 1, logits, NULL), QSNN_OK);
    for (int k = 0; k < 3; k++)
        assert_true(fabsf(logits[k] - acts[back.arch.num_layers - 1][k]) < 1e-5f);
    /* quantized ReLU outputs are multiples of 0.4 */
    for (size_t i = 0; i < qsnn_shape_count(back.arch.layers[0].out); i++) {
        float k = acts[0][i] / 0.4f;
        assert_true(fabsf(k - rintf(k)) < 1e-4f && acts[0][i] >= 0.0f && acts[0][i] <= 6.0f + 1e-6f);
    }
    for (int l = 0; l < back.arch.num_layers; l++)
        free(acts[l]);
    assert_int_equal(access(logp, R_OK), 0);
    assert_int_equal(access(plot, R_OK), 0);
    char ep1[700];
    snprintf(ep1, sizeof ep1, "%s_model.ep1.qsnn", dir);
    assert_int_equal(access(ep1, R_OK), 0);
    unlink(out), unlink(logp), unlink(plot), unlink(ep1);
    snprintf(ep1, sizeof ep1, "%s_model.ep2.qsnn", dir), unlink(ep1);
    snprintf(ep1, sizeof ep1, "%s_model.ep3.qsnn", dir), unlink(ep1);
    qsnn_model_free(&back);
    qsnn_model_free(&m);
    synth_free(&d);
}

static void rm_ckpt(const char *dir)
{
    char p[700];
    snprintf(p, sizeof p, "%s/state.qsnnckpt", dir), unlink(p);
    snprintf(p, sizeof p, "%s/model.qsnn", dir), unlink(p);
    rmdir(dir);
}

static void test_resume_bit_exact(void **state)
{
    (void)state;
    synth_data d;
    synth_make(&d);
    qsnn_train_data td = as_train_data(&d);
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.epochs[0] = o.epochs[1] = o.epochs[2] = 2;
    o.batch = 50;
    o.threads = 1;
    o.quiet = 1;
    o.seed = 77;
    char da[512], db[512];
    tmpdir(da, sizeof da, "ckA");
    tmpdir(db, sizeof db, "ckB");
    qsnn_train_result ra, rb;
    /* A: uninterrupted */
    qsnn_model ma;
    make_model(&ma, k_small_json, 4);
    o.ckpt_dir = da;
    assert_int_equal(qsnn_train_run(&ma, &td, &o, &ra), QSNN_OK);
    /* B: killed after 3 epochs (mid-episode 2), then resumed into a fresh process-like model */
    qsnn_model mb;
    make_model(&mb, k_small_json, 4);
    o.ckpt_dir = db;
    o.stop_after_epochs = 3;
    assert_int_equal(qsnn_train_run(&mb, &td, &o, &rb), QSNN_OK);
    assert_true(rb.stopped_early);
    qsnn_model_free(&mb);
    make_model(&mb, k_small_json, 123); /* different init: everything must come from the checkpoint */
    o.stop_after_epochs = 0;
    o.resume = 1;
    assert_int_equal(qsnn_train_run(&mb, &td, &o, &rb), QSNN_OK);
    assert_int_equal(rb.num_records, ra.num_records);
    assert_int_equal(memcmp(ma.params, mb.params, ma.num_params * sizeof(float)), 0);
    assert_int_equal(mb.episode, 3);
    for (size_t i = 0; i < ra.num_records; i++)
        assert_true(ra.records[i].loss == rb.records[i].loss && ra.records[i].val_acc == rb.records[i].val_acc);
    /* other options: refused with a message */
    o.seed = 78;
    qsnn_status st = qsnn_train_run(&mb, &td, &o, &rb);
    assert_int_equal(st, QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "different training options"));
    /* a corrupt checkpoint is refused */
    char p[700];
    snprintf(p, sizeof p, "%s/state.qsnnckpt", db);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_SET);
    fputc('X', f);
    fclose(f);
    o.seed = 77;
    st = qsnn_train_run(&mb, &td, &o, &rb);
    assert_int_equal(st, QSNN_ERR_FORMAT);
    rm_ckpt(da);
    rm_ckpt(db);
    qsnn_model_free(&ma);
    qsnn_model_free(&mb);
    synth_free(&d);
}

/* A checkpoint is never trusted: each field that says where training stands, the counts, the values and the bytes
 * are corrupted one at a time (the checksum recomputed, so that the field's own check is what refuses it) and
 * each refusal names the field and says how to start over; the intact checkpoint still resumes. */
static void write_at(const char *p, long off, const void *v, size_t n, int fix_crc)
{
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fwrite(v, 1, n, f), n);
    if (fix_crc) {
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        long len = ftell(f);
        unsigned char *b = malloc((size_t)len);
        assert_int_equal(fseek(f, 0, SEEK_SET), 0);
        assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
        uint32_t crc = qsnn_crc32(0, b, (size_t)len - 4);
        assert_int_equal(fseek(f, len - 4, SEEK_SET), 0);
        assert_int_equal(fwrite(&crc, 1, 4, f), 4);
        free(b);
    }
    fclose(f);
}

static void test_checkpoint_corruption(void **state)
{
    (void)state;
    synth_data d;
    synth_make(&d);
    qsnn_train_data td = as_train_data(&d);
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.epochs[0] = o.epochs[1] = o.epochs[2] = 2;
    o.batch = 50;
    o.threads = 1;
    o.quiet = 1;
    o.seed = 5;
    char dir[512], p[700], good[700], cmd[1600];
    tmpdir(dir, sizeof dir, "ckC");
    qsnn_train_result res;
    qsnn_model m;
    make_model(&m, k_small_json, 4);
    o.ckpt_dir = dir;
    o.stop_after_epochs = 3; /* episode index 1, next epoch 1, 3 records */
    assert_int_equal(qsnn_train_run(&m, &td, &o, &res), QSNN_OK);
    o.stop_after_epochs = 1;
    o.resume = 1;
    snprintf(p, sizeof p, "%s/state.qsnnckpt", dir);
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p, good);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, p);
    const int32_t ep3 = 3, ep_neg = -1, epoch_big = 1000000, nrec0 = 0;
    const float nan = NAN, neg = -1.0f;
    const double dnan = NAN;
    const long hdr = 52, rec = 56, arrays = hdr + 3 * rec;
    const size_t np = m.num_params;
    struct {
        long off;
        const void *v;
        size_t n;
        int fix_crc;
        const char *msg;
    } cases[] = {
        {16, &ep3, 4, 1, "episode index 3 out of range"},
        {16, &ep_neg, 4, 1, "episode index -1 out of range"},
        {20, &epoch_big, 4, 1, "epoch 1000000 out of range"},
        {48, &nrec0, 4, 1, "0 epoch records"},
        {hdr + 8, &dnan, 8, 1, "epoch record 0"}, /* the first record's loss */
        {arrays, &nan, 4, 1, "parameters[0] = nan"},
        {arrays + (long)(np * 4 + 8), &nan, 4, 1, "best parameters[2]"},
        {arrays + (long)(np * 12 + 4), &neg, 4, 1, "Adam second moment[1] = -1"},
        {arrays + 100, &neg, 4, 0, "checksum mismatch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(system(cmd), 0);
        write_at(p, cases[i].off, cases[i].v, cases[i].n, cases[i].fix_crc);
        qsnn_status st = qsnn_train_run(&m, &td, &o, &res);
        if (st == QSNN_OK || !strstr(qsnn_last_error(), cases[i].msg) || !strstr(qsnn_last_error(), "start over"))
            fail_msg("case %zu (%s): status %d, message: %s", i, cases[i].msg, st, qsnn_last_error());
    }
    /* truncated anywhere: refused */
    snprintf(cmd, sizeof cmd, "head -c 300 '%s' > '%s'", good, p);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(qsnn_train_run(&m, &td, &o, &res), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "truncated"));
    /* the intact one resumes */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, p);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(qsnn_train_run(&m, &td, &o, &res), QSNN_OK);
    unlink(good);
    rm_ckpt(dir);
    qsnn_model_free(&m);
    synth_free(&d);
}

/* the command: usage errors, a tiny end-to-end run on a feature file with a small architecture */
static int run_cmd(const char *args)
{
    const char *exe = getenv("QSNN_EXE");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", exe ? exe : QSNN_BINARY_DIR "/qsnn", args);
    int rc = system(cmd);
    return rc == -1 ? -1 : (rc >> 8) & 0xff;
}

static void test_train_command(void **state)
{
    (void)state;
    char base[512], feat[600], arch[600], model[600], args[3000], ep3[700];
    tmpdir(base, sizeof base, "cmd");
    snprintf(feat, sizeof feat, "%s.qfeat", base);
    snprintf(arch, sizeof arch, "%s_arch.json", base);
    snprintf(model, sizeof model, "%s.qsnn", base);
    assert_int_equal(run_cmd("train --help"), 0);
    assert_int_equal(run_cmd("train"), 2);
    assert_int_equal(run_cmd("train x.qfeat -o m.qsnn --episodes 4"), 2);
    assert_int_equal(run_cmd("train x.qfeat -o m.qsnn --epochs 1,2"), 2);
    snprintf(args, sizeof args, "train %s/does-not-exist.qfeat -o %s", QSNN_BINARY_DIR, model);
    assert_int_equal(run_cmd(args), 1);
    /* 12 classes of 49x10 patterns: a bright band at a class-dependent frame */
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    fs.n = 240, fs.h = 49, fs.w = 10, fs.num_labels = 12, fs.is_u8 = 1;
    fs.u8 = malloc(fs.n * 490);
    fs.label = malloc(fs.n * sizeof(int32_t));
    fs.split = malloc(fs.n);
    fs.source = calloc(fs.n, sizeof(char *));
    fs.scale_min = -10, fs.scale_max = 10;
    for (int k = 0; k < 12; k++)
        snprintf(fs.labels[k], QSNN_LABEL_MAX, "w%d", k);
    qsnn_rng r;
    qsnn_rng_seed(&r, 3);
    for (size_t i = 0; i < fs.n; i++) {
        int c = (int)(i % 12);
        fs.label[i] = c;
        fs.split[i] = i < 144 ? QSNN_SPLIT_TRAIN : i < 192 ? QSNN_SPLIT_VALIDATION : QSNN_SPLIT_TEST;
        fs.source[i] = (char *)"synthetic.wav";
        for (int h = 0; h < 49; h++)
            for (int w = 0; w < 10; w++)
                fs.u8[i * 490 + (size_t)h * 10 + w] =
                    (uint8_t)(40 + qsnn_rng_below(&r, 40) + (h / 4 == c ? 150 : 0));
    }
    if (qsnn_featureset_save(&fs, feat) != QSNN_OK)
        fail_msg("featureset_save: %s", qsnn_last_error());
    free(fs.u8), free(fs.label), free(fs.split), free(fs.source);
    FILE *f = fopen(arch, "w");
    assert_non_null(f);
    fputs("{\"name\": \"mini\", \"input\": [49, 10, 1], \"classes\": 12, \"layers\": ["
          "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 8, \"kernel\": 5, \"stride\": 4, \"weight_bits\": 8},"
          "{\"name\": \"s1\", \"op\": \"separable\", \"filters\": 16, \"kernel\": 3, \"weight_bits\": 4,"
          " \"pool\": \"global_avg\"},"
          "{\"name\": \"d2\", \"op\": \"dense\", \"filters\": 12, \"weight_bits\": 4, \"batch_norm\": false,"
          " \"activation\": false}]}", f);
    fclose(f);
    snprintf(args, sizeof args, "train %s -o %s --arch %s --epochs 2 --batch 16 --threads 2 --no-checkpoint -q --json",
             feat, model, arch);
    assert_int_equal(run_cmd(args), 0);
    qsnn_model m;
    assert_int_equal(qsnn_model_load(&m, model), QSNN_OK);
    assert_int_equal(m.episode, 3);
    assert_string_equal(m.labels[5], "w5");
    assert_true(m.scale_min == -10.0f && m.scale_max == 10.0f);
    qsnn_model_free(&m);
    /* --json is real JSON whatever the output path holds (a quote, a backslash, a control character) */
    char qmodel[700], jout[700], *txt = NULL;
    snprintf(qmodel, sizeof qmodel, "%s_q\"\\\x01.qsnn", base);
    snprintf(jout, sizeof jout, "%s.json", base);
    const char *exe = getenv("QSNN_EXE");
    snprintf(args, sizeof args, "'%s' train %s -o '%s' --arch %s --epochs 1 --batch 16 --threads 1 --no-checkpoint "
             "-q --json > %s", exe ? exe : QSNN_BINARY_DIR "/qsnn", feat, qmodel, arch, jout);
    assert_int_equal(system(args), 0);
    assert_int_equal(qsnn_read_text_file(jout, 1 << 20, &txt, NULL), QSNN_OK);
    cJSON *j = cJSON_Parse(txt);
    if (!j || !cJSON_IsString(cJSON_GetObjectItem(j, "model")) ||
        strcmp(cJSON_GetObjectItem(j, "model")->valuestring, qmodel) != 0)
        fail_msg("train --json with -o '%s' is not JSON naming it: %s", qmodel, txt);
    cJSON_Delete(j);
    free(txt);
    unlink(qmodel), unlink(jout);
    for (int e = 1; e <= 3; e++) {
        snprintf(ep3, sizeof ep3, "%.*s.ep%d.qsnn", (int)strlen(qmodel) - 5, qmodel, e);
        unlink(ep3);
    }
    /* a missing architecture file: exit 1 */
    snprintf(args, sizeof args, "train %s -o %s --no-checkpoint -q --arch %s/does-not-exist.json", feat, model,
             QSNN_BINARY_DIR);
    assert_int_equal(run_cmd(args), 1);
    unlink(feat), unlink(arch), unlink(model);
    for (int e = 1; e <= 3; e++) {
        snprintf(ep3, sizeof ep3, "%s.ep%d.qsnn", base, e);
        unlink(ep3);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    qsnn_sched s = {QSNN_SCHED_CYCLIC, 2e-3, 5e-6, 10, 0};
    assert_true(fabs(qsnn_sched_lr(&s, 0) - 5e-6) < 1e-12);
    assert_true(fabs(qsnn_sched_lr(&s, 10) - 2e-3) < 1e-12);
    assert_true(fabs(qsnn_sched_lr(&s, 5) - (5e-6 + 0.5 * (2e-3 - 5e-6))) < 1e-12);
    assert_true(fabs(qsnn_sched_lr(&s, 20) - 5e-6) < 1e-12);
    qsnn_sched c = {QSNN_SCHED_COSINE, 1e-3, 0, 0, 100};
    assert_true(fabs(qsnn_sched_lr(&c, 0) - 1e-3) < 1e-12);
    assert_true(fabs(qsnn_sched_lr(&c, 50) - 5e-4) < 1e-12);
    assert_true(fabs(qsnn_sched_lr(&c, 100)) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_model_gradients_fd),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_three_episodes_learn),
        cmocka_unit_test(test_resume_bit_exact),
        cmocka_unit_test(test_checkpoint_corruption),
        cmocka_unit_test(test_train_command),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_release_font_caches(); /* so that LeakSanitizer reports only our leaks */
    return rc;
}
