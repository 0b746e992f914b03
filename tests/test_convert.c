/* SPDX-License-Identifier: Apache-2.0 */
/* test_convert.c: conversion of a quantized float model into the integer engine.
 *  - agreement: a mobilenet_kws with random weights and random batch-norm statistics (calibrated so every
 *    level occurs, a quarter of the gammas negative, one gamma exactly 0, quant_acts = quant_weights = 1):
 *    per layer the engine's levels equal the float model's (qsnn_model_forward_trace, double precision) with no
 *    tie needed, equal the exact level of their own potential everywhere, argmax(potentials) == argmax(logits)
 *    and the full runs give the same class on every clip;
 *  - precisions: the double-precision evaluation forward against the float32 one on random models (float
 *    weights and ReLU6, quantized ReLU, quantized weights): levels equal except at a few float32 ties, logits and
 *    ReLU6 activations within 1e-4 (relative to the layer's largest magnitude) where no level differs;
 *  - top-logit ties: mathematically equal logits summed in different orders give class 0, as in the engine;
 *  - size: the converted mobilenet_kws is <= 16 KiB, its workspace <= 16 KiB;
 *  - summary: the tutorial's table layout (every column that does not depend on the weights);
 *  - refusals with the layer named: depthwise layer, float weights, activation bits, threshold overflow,
 *    batch norm on the last layer, unquantized model. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_shell.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "qsnn/convert.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/report.h"

static void random_inputs(uint8_t *x, size_t n, qsnn_rng *rng)
{
    /* smooth-ish random images: a random level per row plus noise, like MFCC rows */
    for (size_t s = 0; s < n / 490; s++)
        for (int r = 0; r < 49; r++) {
            double base = qsnn_rng_uniform(rng) * 200;
            for (int c = 0; c < 10; c++) {
                double v = base + (qsnn_rng_uniform(rng) - 0.5) * 120;
                x[s * 490 + (size_t)r * 10 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* Random but meaningful batch norm: measure each layer's pre-activation statistics with a probe BN
 * (y = 1e-3 x + 3 under ReLU6, so x is recovered exactly), then set mean/var around them, gamma of random sign. */
static void calibrate_bn(qsnn_model *m, qsnn_rng *rng)
{
    const qsnn_arch *a = &m->arch;
    enum { NS = 24 };
    uint8_t *x = malloc(490 * NS);
    random_inputs(x, 490 * NS, rng);
    float *acts[QSNN_MAX_LAYERS];
    for (int l = 0; l < a->num_layers; l++)
        acts[l] = malloc(sizeof(float) * qsnn_shape_count(a->layers[l].out));
    int qa = m->quant_acts;
    m->quant_acts = 0;
    for (int l = 0; l < a->num_layers; l++) {
        const qsnn_layer_desc *d = &a->layers[l];
        qsnn_layer_params *lp = &m->lp[l];
        if (!d->batch_norm)
            continue;
        int F = d->out.c;
        for (int f = 0; f < F; f++) {
            lp->gamma[f] = 1e-3f;
            lp->beta[f] = 3.0f;
            lp->moving_mean[f] = 0.0f;
            lp->moving_var[f] = 1.0f - m->bn_eps;
        }
        double *s1 = calloc((size_t)F, sizeof(double)), *s2 = calloc((size_t)F, sizeof(double));
        size_t cnt = 0, c = qsnn_shape_count(d->out);
        for (int s = 0; s < NS; s++) {
            assert_int_equal(qsnn_model_forward_trace(m, x + 490 * s, acts), QSNN_OK);
            for (size_t i = 0; i < c; i++) {
                double v = ((double)acts[l][i] - 3.0) / 1e-3;
                s1[i % (size_t)F] += v;
                s2[i % (size_t)F] += v * v;
            }
            cnt += c / (size_t)F;
        }
        for (int f = 0; f < F; f++) {
            double mu = s1[f] / (double)cnt, var = s2[f] / (double)cnt - mu * mu;
            double sd = sqrt(var > 1e-12 ? var : 1e-12);
            lp->moving_mean[f] = (float)(mu + (qsnn_rng_uniform(rng) - 0.5) * 0.6 * sd);
            double v2 = var * (0.5 + 1.5 * qsnn_rng_uniform(rng)) - m->bn_eps;
            lp->moving_var[f] = (float)(v2 > 0 ? v2 : 0);
            double g = 0.8 + 1.2 * qsnn_rng_uniform(rng);
            lp->gamma[f] = (float)(qsnn_rng_uniform(rng) < 0.25 ? -g : g);
            lp->beta[f] = (float)(0.5 + 2.5 * qsnn_rng_uniform(rng));
        }
        free(s1);
        free(s2);
    }
    m->lp[1].gamma[5] = 0.0f; /* a constant neuron */
    m->quant_acts = qa;
    for (int l = 0; l < a->num_layers; l++)
        free(acts[l]);
    free(x);
}

static void make_kws(qsnn_model *m, uint64_t seed)
{
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    assert_int_equal(qsnn_model_init(m, &a, seed), QSNN_OK);
    m->quant_acts = 1;
    m->quant_weights = 1;
    m->episode = 3;
    m->scale_min = -247.0f;
    m->scale_max = 30.0f;
    static const char *labels[12] = {"_silence_", "_unknown_", "down", "go", "left", "no",
                                     "off", "on", "right", "stop", "up", "yes"};
    m->num_labels = 12;
    for (int i = 0; i < 12; i++)
        snprintf(m->labels[i], sizeof m->labels[i], "%s", labels[i]);
    qsnn_rng rng;
    qsnn_rng_seed(&rng, seed + 1);
    calibrate_bn(m, &rng);
}

/* models/ds_cnn_akida.json (the MLPerf DS-CNN in Akida's layer set: 10x4 input convolution, separable layers, a
 * dense classifier), random weights with calibrated BN: converts, with the two hardware-rule reasons, and the
 * engine reproduces the quantized model's levels and classes (teacher-forced check, 20 random inputs). */
static void test_ds_cnn_akida_converts(void **state)
{
    (void)state;
    qsnn_arch a;
    if (qsnn_arch_load(&a, QSNN_SOURCE_DIR "/models/ds_cnn_akida.json") != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 4321), QSNN_OK);
    m.quant_acts = m.quant_weights = 1;
    m.episode = 3;
    m.scale_min = -247.0f;
    m.scale_max = 30.0f;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 4322);
    calibrate_bn(&m, &rng);
    unsigned char *img;
    size_t sz;
    if (qsnn_convert_model(&m, &img, &sz, NULL) != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    qsnn_snn_model sm;
    assert_int_equal(qsnn_snn_model_init(&sm, img, sz, "ds_cnn_akida"), QSNN_OK);
    assert_int_equal(sm.num_layers, 6);
    char why[512];
    assert_int_equal(qsnn_convert_hw_check(&sm, 0, why, sizeof why), 1);
    assert_non_null(strstr(why, "3x3, 5x5 or 7x7"));
    assert_int_equal(qsnn_convert_hw_check(&sm, 5, why, sizeof why), 1);
    assert_non_null(strstr(why, "1- or 2-bit input spikes"));
    assert_int_equal(qsnn_convert_hw_check(&sm, 2, why, sizeof why), 0);
    enum { N = 20 };
    uint8_t *x = malloc(490 * N);
    assert_non_null(x);
    random_inputs(x, 490 * N, &rng);
    qsnn_convert_check_result r;
    assert_int_equal(qsnn_convert_check(&m, &sm, x, N, &r), QSNN_OK);
    for (int l = 0; l + 1 < sm.num_layers; l++) {
        assert_true(r.neurons[l] > 0);
        assert_int_equal(r.mismatch[l] - r.ties[l], 0);
    }
    assert_int_equal(r.pred_agree, N);
    free(x);
    free(img);
    qsnn_model_free(&m);
}

static void test_agreement_random_kws(void **state)
{
    (void)state;
    qsnn_model m;
    make_kws(&m, 1234);
    unsigned char *img;
    size_t sz;
    qsnn_convert_info info;
    qsnn_status st = qsnn_convert_model(&m, &img, &sz, &info);
    if (st != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    assert_true(info.negated > 20); /* negative gammas were flipped */
    assert_int_equal(info.constant, 1);
    qsnn_convert_info_free(&info);
    qsnn_snn_model sm;
    assert_int_equal(qsnn_snn_model_init(&sm, img, sz, "kws"), QSNN_OK);
    enum { N = 60 };
    uint8_t *x = malloc(490 * N);
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 77);
    random_inputs(x, 490 * N, &rng);
    /* the comparison must be meaningful: levels of every layer spread over many values */
    float *acts[QSNN_MAX_LAYERS];
    for (int l = 0; l < m.arch.num_layers; l++)
        acts[l] = malloc(sizeof(float) * qsnn_shape_count(m.arch.layers[l].out));
    for (int l = 0; l + 1 < m.arch.num_layers; l++) {
        size_t hist[16] = {0}, c = qsnn_shape_count(m.arch.layers[l].out), tot = 0;
        for (int s = 0; s < 8; s++) {
            assert_int_equal(qsnn_model_forward_trace(&m, x + 490 * s, acts), QSNN_OK);
            for (size_t i = 0; i < c; i++) {
                long k = lrintf(acts[l][i] / 0.4f);
                assert_true(k >= 0 && k <= 15);
                hist[k]++;
                tot++;
            }
        }
        int distinct = 0;
        for (int k = 0; k < 16; k++)
            distinct += hist[k] > 0;
        fprintf(stderr, "layer %d levels:", l);
        for (int k = 0; k < 16; k++)
            fprintf(stderr, " %zu", hist[k]);
        fprintf(stderr, "\n");
        assert_true(distinct >= 8);
        assert_true(hist[0] > tot / 100 && hist[0] < tot * 19 / 20);
    }
    for (int l = 0; l < m.arch.num_layers; l++)
        free(acts[l]);
    qsnn_convert_check_result r;
    assert_int_equal(qsnn_convert_check(&m, &sm, x, N, &r), QSNN_OK);
    qsnn_convert_check_print(stderr, &sm, &r);
    assert_int_equal(r.samples, N);
    for (int l = 0; l + 1 < sm.num_layers; l++) {
        assert_true(r.neurons[l] > 0);
        assert_int_equal(r.exact_mismatch[l], 0);     /* the int32 2^-f thresholds lose nothing */
        assert_int_equal(r.mismatch[l] - r.ties[l], 0); /* differences only at rounding ties ... */
        assert_int_equal(r.ties[l], 0); /* ... and the double-precision float model meets none (float32 did: 4) */
    }
    assert_int_equal(r.last_argmax_agree, N);
    assert_int_equal(r.pred_agree, N); /* end to end: the same class for every clip */

    /* The same model with Akida's representation (integer threshold floor(T), integer step): the check must
     * see level differences that are not float ties (docs/design.md s4.6), so it can fail. */
    unsigned char *ak = malloc(sz);
    memcpy(ak, img, sz);
    for (int l = 0; l < sm.num_layers; l++) {
        qsnn_snn_layer *rec = (qsnn_snn_layer *)(void *)(ak + QSNN_SNN_HEADER_SIZE + (size_t)l * QSNN_SNN_RECORD_SIZE);
        if (!rec->act_bits)
            continue;
        int32_t *th = (int32_t *)(void *)(ak + rec->off_th);
        for (int j = 0; j < rec->out_c; j++) {
            th[j] = (int32_t)floor(ldexp((double)th[j], -rec->frac_bits));
            double step = nearbyint(ldexp((double)th[rec->out_c + j], -rec->frac_bits));
            th[rec->out_c + j] = (int32_t)(step < 1 ? 1 : step);
        }
        rec->frac_bits = 0;
    }
    memset(ak + 20, 0, 4);
    qsnn_put_u32le(ak + 20, qsnn_crc32(0, ak, sz));
    qsnn_snn_model am;
    assert_int_equal(qsnn_snn_model_init(&am, ak, sz, "akida-style"), QSNN_OK);
    qsnn_convert_check_result ra;
    assert_int_equal(qsnn_convert_check(&m, &am, x, 10, &ra), QSNN_OK);
    size_t other = 0;
    for (int l = 0; l + 1 < am.num_layers; l++)
        other += ra.mismatch[l] - ra.ties[l];
    fprintf(stderr, "floored thresholds: %zu level differences that are not float ties\n", other);
    assert_true(other > 0);
    free(ak);
    free(x);
    free(img);
    qsnn_model_free(&m);
}

/* QSNN_PREC_F64 against QSNN_PREC_F32 on calibrated random mobilenet_kws models, in the three training
 * configurations. The two compute the same function, so they may differ only by float32 rounding: a quantized
 * level only where float32 sits at a tie (rare), any real value by ~1e-6 relative. */
static void test_precisions_agree(void **state)
{
    (void)state;
    enum { N = 12 };
    const double TOL = 1e-4; /* relative to the largest magnitude of the layer's output in the clip */
    uint8_t *x = malloc(490 * N);
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 4242);
    random_inputs(x, 490 * N, &rng);
    for (int seed = 0; seed < 2; seed++) {
        qsnn_model m;
        make_kws(&m, 500 + (uint64_t)seed);
        const int L = m.arch.num_layers, K = m.arch.num_classes;
        float *a64[QSNN_MAX_LAYERS], *a32[QSNN_MAX_LAYERS];
        for (int l = 0; l < L; l++) {
            a64[l] = malloc(sizeof(float) * qsnn_shape_count(m.arch.layers[l].out));
            a32[l] = malloc(sizeof(float) * qsnn_shape_count(m.arch.layers[l].out));
        }
        float lg64[N * 12], lg32[N * 12];
        int32_t p64[N], p32[N];
        for (int cfg = 0; cfg < 3; cfg++) {
            m.quant_acts = cfg >= 1;
            m.quant_weights = cfg >= 2;
            assert_int_equal(qsnn_model_predict_prec(&m, x, N, lg64, p64, QSNN_PREC_F64), QSNN_OK);
            assert_int_equal(qsnn_model_predict_prec(&m, x, N, lg32, p32, QSNN_PREC_F32), QSNN_OK);
            size_t levels = 0, level_diff = 0, clips_compared = 0, same_class = 0;
            double worst = 0.0;
            for (int s = 0; s < N; s++) {
                assert_int_equal(qsnn_model_forward_trace_prec(&m, x + 490 * s, a64, QSNN_PREC_F64), QSNN_OK);
                assert_int_equal(qsnn_model_forward_trace_prec(&m, x + 490 * s, a32, QSNN_PREC_F32), QSNN_OK);
                for (int k = 0; k < K; k++) { /* the trace's last layer is predict's logits (float32: up to the
                                                  * GEMM's blocking, which depends on the batch size) */
                    assert_true(a64[L - 1][k] == lg64[s * K + k]);
                    assert_true(fabsf(a32[L - 1][k] - lg32[s * K + k]) <= 1e-5f * (1.0f + fabsf(lg32[s * K + k])));
                }
                int clip_diff = 0;
                for (int l = 0; l < L; l++) {
                    size_t c = qsnn_shape_count(m.arch.layers[l].out);
                    int quantized = m.quant_acts && m.arch.layers[l].activation;
                    double big = 1.0, d = 0.0;
                    for (size_t i = 0; i < c; i++) {
                        if (quantized) {
                            levels++;
                            if (lrintf(a64[l][i] / 0.4f) != lrintf(a32[l][i] / 0.4f)) {
                                /* count the first differing layer only: later ones inherit its difference */
                                level_diff += clip_diff == 0 || clip_diff == l + 1;
                                clip_diff = clip_diff ? clip_diff : l + 1;
                            } else {
                                assert_true(a64[l][i] == a32[l][i]); /* same level: the same float value */
                            }
                        }
                        big = fabs((double)a64[l][i]) > big ? fabs((double)a64[l][i]) : big;
                        double e = fabs((double)a64[l][i] - (double)a32[l][i]);
                        d = e > d ? e : d;
                    }
                    if (!clip_diff && d / big > worst)
                        worst = d / big;
                }
                clips_compared += !clip_diff;
                same_class += p64[s] == p32[s];
            }
            fprintf(stderr, "seed %d config %d: %zu / %zu levels differ (first layer), %zu clips without, "
                            "worst relative difference there %.2e, same class %zu / %d\n",
                    seed, cfg, level_diff, levels, clips_compared, worst, same_class, N);
            assert_true(level_diff * 10000 <= levels);       /* ties are rare (first differing layers) ... */
            assert_true(clips_compared >= N - 2);            /* ... so most clips are compared entirely */
            assert_true(worst <= TOL);
            assert_true(worst > 0.0 || cfg > 0);             /* float32 does round (the comparison is real) */
            assert_true(same_class >= (size_t)N - 2);
        }
        for (int l = 0; l < L; l++) {
            free(a64[l]);
            free(a32[l]);
        }
        qsnn_model_free(&m);
    }
    free(x);
}

/* Exact ties of the top logits resolve to the lowest index, as in the engine (qsnn_argmax_f64). A dense layer
 * with columns (p, q, r) and (r, q, p) on an input (c, d, c): the two logits are mathematically equal, but
 * double sums them in different orders, (pc + qd) + rc against (rc + qd) + pc, which differ in the last bit for
 * many values; qsnn_model_predict must still report class 0 (the float32 forward need not). */
static void test_top_logit_ties(void **state)
{
    (void)state;
    qsnn_arch a;
    const char *json = "{\"name\": \"tie\", \"input\": [1, 3, 1], \"classes\": 2, \"layers\": ["
                       "{\"name\": \"d\", \"op\": \"dense\", \"filters\": 2, \"weight_bits\": 0,"
                       " \"batch_norm\": false, \"activation\": false}]}";
    assert_int_equal(qsnn_arch_from_json(&a, json, "tie"), QSNN_OK);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 1), QSNN_OK);
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 9);
    int noisy = 0;
    for (int t = 0; t < 200; t++) {
        float p = (float)qsnn_rng_uniform(&rng), q = (float)qsnn_rng_uniform(&rng), r = (float)qsnn_rng_uniform(&rng);
        float *w = m.lp[0].w; /* [in][out] */
        w[0] = p, w[1] = r, w[2] = q, w[3] = q, w[4] = r, w[5] = p;
        uint8_t x[3];
        x[0] = x[2] = (uint8_t)(1 + qsnn_rng_uniform(&rng) * 254), x[1] = (uint8_t)(1 + qsnn_rng_uniform(&rng) * 254);
        float lg[2];
        int32_t pred;
        assert_int_equal(qsnn_model_predict(&m, x, 1, lg, &pred), QSNN_OK);
        assert_true(fabsf(lg[0] - lg[1]) <= 1e-6f * fabsf(lg[0]));
        assert_int_equal(pred, 0);
        /* the same sums in double, in the two orders: how often rounding alone would break the tie */
        double c = x[0] / 255.0, d = x[1] / 255.0;
        noisy += ((double)p * c + (double)q * d) + (double)r * c != ((double)r * c + (double)q * d) + (double)p * c;
    }
    fprintf(stderr, "top-logit ties: double rounding differs in %d of 200 cases\n", noisy);
    assert_true(noisy > 10); /* the test exercises the tie rule */
    qsnn_model_free(&m);
}

/* The tutorial's table, with the #Weights figure (which depends on the trained weights) masked. */
static const char *k_tutorial[] = {
    "-------------------------------------------------------------------------------------------------------------------------",
    "Layer (type)           HW  Input shape   Output shape  Kernel shape  Learning (#classes)       #InConn/#Weights/ThFire   ",
    "=========================================================================================================================",
    "conv_0 (InputConvoluti yes [10, 49, 1]   [5, 25, 32]   (5 x 5 x 1)   N/A                       25 / 24 / 0               ",
    "separable_1 (Separable yes [5, 25, 32]   [5, 25, 64]   (3 x 3 x 32)  N/A                       288 / 20 / 0              ",
    "separable_2 (Separable yes [5, 25, 64]   [5, 25, 64]   (3 x 3 x 64)  N/A                       576 / 30 / 0              ",
    "separable_3 (Separable yes [5, 25, 64]   [5, 25, 64]   (3 x 3 x 64)  N/A                       576 / 30 / 0              ",
    "separable_4 (Separable yes [5, 25, 64]   [5, 25, 64]   (3 x 3 x 64)  N/A                       576 / 30 / 0              ",
    "separable_5 (Separable yes [5, 25, 64]   [1, 1, 64]    (3 x 3 x 64)  N/A                       576 / 30 / 0              ",
    "separable_6 (Separable yes [1, 1, 64]    [1, 1, 12]    (3 x 3 x 64)  N/A                       576 / 15 / 0              ",
};

/* "a / b / 0   " -> "a / # / 0" padded the same */
static void mask_weights(char *line)
{
    char *p = strstr(line, " / ");
    if (!p)
        return;
    char *q = strstr(p + 3, " / ");
    if (!q)
        return;
    char tail[256];
    snprintf(tail, sizeof tail, "%s", q);
    sprintf(p + 3, "#%s", tail);
    size_t len = strlen(line);
    while (len < 121)
        line[len++] = ' ';
    line[len] = 0;
}

static void test_summary_layout_and_size(void **state)
{
    (void)state;
    qsnn_model m;
    make_kws(&m, 99);
    unsigned char *img;
    size_t sz;
    assert_int_equal(qsnn_convert_model(&m, &img, &sz, NULL), QSNN_OK);
    qsnn_snn_model sm;
    assert_int_equal(qsnn_snn_model_init(&sm, img, sz, "kws"), QSNN_OK);
    /* size targets */
    assert_true(sz <= 16384);
    assert_true(qsnn_snn_mem_size(&sm) <= 16384);
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    qsnn_report_snn_summary(f, &sm);
    fclose(f);
    char *lines[64];
    int nl = 0;
    for (char *s = strtok(buf, "\n"); s && nl < 64; s = strtok(NULL, "\n"))
        lines[nl++] = s;
    /* rule, header, rule, then row + rule per layer, then the size */
    assert_int_equal(nl, 3 + 2 * 7 + 1);
    for (int i = 0; i < 3; i++)
        assert_string_equal(lines[i], k_tutorial[i]);
    for (int l = 0; l < 7; l++) {
        char got[256], want[256];
        snprintf(got, sizeof got, "%s", lines[3 + 2 * l]);
        snprintf(want, sizeof want, "%s", k_tutorial[3 + l]);
        assert_int_equal(strlen(got), 121);
        mask_weights(got);
        mask_weights(want);
        assert_string_equal(got, want);
        assert_string_equal(lines[4 + 2 * l], k_tutorial[0]);
    }
    char want_size[64];
    snprintf(want_size, sizeof want_size, "Model size: %zu bytes", sz);
    assert_string_equal(lines[nl - 1], want_size);
    free(buf);
    free(img);
    qsnn_model_free(&m);
}

static void expect_refusal(qsnn_model *m, qsnn_status want, const char *needle1, const char *needle2)
{
    unsigned char *img = NULL;
    size_t sz = 0;
    qsnn_status st = qsnn_convert_model(m, &img, &sz, NULL);
    if (st != want)
        fail_msg("expected status %d, got %d (%s)", want, st, qsnn_last_error());
    assert_null(img);
    if (!strstr(qsnn_last_error(), needle1) || (needle2 && !strstr(qsnn_last_error(), needle2)))
        fail_msg("message '%s' lacks '%s' / '%s'", qsnn_last_error(), needle1, needle2 ? needle2 : "");
}

static void test_refusals(void **state)
{
    (void)state;
    qsnn_arch a;
    qsnn_model m;
    assert_int_equal(qsnn_arch_builtin(&a, "ds_cnn"), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m, &a, 1), QSNN_OK);
    m.quant_acts = m.quant_weights = 1;
    m.scale_min = -247;
    m.scale_max = 30;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "layer 1 'dw_1'", "unsupported layer");
    qsnn_model_free(&m);

    make_kws(&m, 5);
    m.quant_weights = 0;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "not fully quantized", NULL);
    m.quant_weights = 1;
    m.scale_max = m.scale_min;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "input scaling range", NULL);
    m.scale_max = 30;
    m.arch.layers[2].weight_bits = 0;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "layer 2 'separable_2'", "weight bit-width 0");
    m.arch.layers[2].weight_bits = 4;
    m.arch.layers[3].act_bits = 5;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "layer 3 'separable_3'", "activation bit-width 5");
    m.arch.layers[3].act_bits = 4;
    float keep = m.lp[4].moving_var[7];
    m.lp[4].moving_var[7] = 1e30f;
    expect_refusal(&m, QSNN_ERR_RANGE, "layer 4 'separable_4'", "threshold overflow");
    m.lp[4].moving_var[7] = keep;
    m.arch.layers[6].batch_norm = 1;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "layer 6 'separable_6'", "batch norm");
    m.arch.layers[6].batch_norm = 0;
    m.arch.layers[6].activation = 1;
    expect_refusal(&m, QSNN_ERR_UNSUPPORTED, "layer 6 'separable_6'", "no activation");
    m.arch.layers[6].activation = 0;
    unsigned char *img;
    size_t sz;
    assert_int_equal(qsnn_convert_model(&m, &img, &sz, NULL), QSNN_OK); /* restored: converts again */
    free(img);
    qsnn_model_free(&m);
}

/* `qsnn export`: the header holds the image byte for byte, the sizes the engine needs, and compiles as C11 with
 * the engine's header; bad input leaves no file behind. */
static void test_export_header(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        exe = QSNN_BINARY_DIR "/qsnn";
    char dir[] = "/tmp/qsnn_test_export_XXXXXX", snn[128], hdr[128], cmd[1024];
    assert_non_null(mkdtemp(dir));
    qsnn_model m;
    make_kws(&m, 5);
    unsigned char *img;
    size_t sz;
    assert_int_equal(qsnn_convert_model(&m, &img, &sz, NULL), QSNN_OK);
    qsnn_model_free(&m);
    qsnn_snn_model sm;
    assert_int_equal(qsnn_snn_model_init(&sm, img, sz, "kws"), QSNN_OK);
    snprintf(snn, sizeof snn, "%s/m.snn", dir);
    snprintf(hdr, sizeof hdr, "%s/kws_model.h", dir);
    assert_int_equal(qsnn_snn_save(snn, img, sz), QSNN_OK);
    snprintf(cmd, sizeof cmd, "'%s' export '%s' -o '%s' --name kws 2>/dev/null", exe, snn, hdr);
    assert_int_equal(test_system(cmd), 0);
    /* parse the array and the macros back */
    FILE *fp = fopen(hdr, "r");
    assert_non_null(fp);
    char line[512];
    size_t n = 0, msize = 0, wsize = 0;
    int in_array = 0, labels = 0;
    unsigned char *back = malloc(sz + 1);
    while (fgets(line, sizeof line, fp)) {
        sscanf(line, "#define KWS_MODEL_SIZE %zu", &msize);
        sscanf(line, "#define KWS_WORKSPACE_SIZE %zu", &wsize);
        if (strstr(line, "kws_labels[") && strstr(line, "\"_silence_\""))
            labels = 1;
        if (strstr(line, "kws_model[")) {
            in_array = 1;
            continue;
        }
        if (in_array) {
            if (line[0] == '}')
                break;
            for (char *p = strstr(line, "0x"); p; p = strstr(p + 2, "0x")) {
                assert_true(n < sz + 1);
                back[n++] = (unsigned char)strtoul(p, NULL, 16);
            }
        }
    }
    fclose(fp);
    assert_int_equal(n, sz);
    assert_memory_equal(back, img, sz);
    assert_int_equal(msize, sz);
    assert_int_equal(wsize, qsnn_snn_mem_size(&sm));
    assert_true(labels);
    /* it compiles as C11 together with the engine's header */
    snprintf(cmd, sizeof cmd,
             "printf '#include \"qsnn/snn.h\"\\n#include \"%s\"\\nint main(void){qsnn_snn_model m;"
             "return qsnn_snn_model_init(&m,kws_model,KWS_MODEL_SIZE,\"f\")!=QSNN_OK || !kws_labels[0];}\\n' | "
             "cc -std=c11 -Wall -Werror -fsyntax-only -I'%s/include' -x c - 2>/dev/null",
             hdr, QSNN_SOURCE_DIR);
    assert_int_equal(test_system(cmd), 0);
    /* refusals: not a .snn model (exit 1), a bad name (exit 2); neither leaves a header */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.h", dir);
    snprintf(cmd, sizeof cmd, "'%s' export '%s' -o '%s' 2>/dev/null", exe, hdr, bad);
    assert_int_equal(test_system(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' export '%s' -o '%s' --name 9x 2>/dev/null", exe, snn, bad);
    assert_int_equal(test_system(cmd), 2);
    FILE *none = fopen(bad, "r");
    assert_null(none);
    free(back);
    free(img);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(test_system(cmd), 0);
}

/* The firmware example (examples/mcu/run_qemu.sh): the device front end, the engine, the detector, the exported
 * model and a test vector from `qsnn export --pcm` built with arm-none-eabi-gcc for a Cortex-M4 and run in QEMU
 * (mps2-an386): from the PCM it computes the MFCC on the target, runs the engine and the score detector, prints
 * every window's class and score and every detection, and exits 0 only if every frame's float MFCC bits, uint8
 * feature, potential and class equal the host's. Then `qsnn stream --device --all` (the same front end, engine and
 * detector on the host) on the same samples must print the same window lines and the same detection lines, in
 * order; and there must be detections, so that "equal" is not "none on either side": the audio holds keywords.
 * With ../shared/data (QSNN_SHARED_DATA): a silence clip and five keyword clips of the real test subset (6 s, 51
 * windows); without it, the script's three synthetic words (3 s, 21 windows).
 * Skipped when the cross tools are not installed (scripts/bootstrap.sh test installs them). Also: --input and
 * --pcm refuse a missing clip and leave no header, --hop-ms must be a multiple of 20. */
static const char *shared_root(void)
{
    const char *e = getenv("QSNN_SHARED_DATA");
    return (e && e[0]) ? e : QSNN_SHARED_DATA;
}

/* Lines the target printed (those before the host's "host: qsnn stream" line): detections (detections = 1: lines
 * "   T.TTT s  LABEL  score S  (A-B s, decided at C s)") or lines starting with prefix. */
static long count_lines_with(const char *txt, const char *prefix, int detections)
{
    long n = 0;
    for (const char *l = txt; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, "host: qsnn stream", 17))
            break;
        if (detections) {
            const char *p = l;
            while (*p == ' ')
                p++;
            char *end;
            (void)strtod(p, &end);
            if (end != p && !strncmp(end, " s  ", 4) && strstr(l, " score ") && strstr(l, "decided at"))
                n++;
        } else if (!strncmp(l, prefix, strlen(prefix))) {
            n++;
        }
    }
    return n;
}

static void test_export_firmware_qemu(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        exe = QSNN_BINARY_DIR "/qsnn";
    char dir[] = "/tmp/qsnn_test_fw_XXXXXX", cmd[4096], out[256];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' convert '%s/models/mobilenet_kws_pretrained.qsnn' -o '%s/k.snn' >/dev/null 2>&1",
             exe, QSNN_SOURCE_DIR, dir);
    assert_int_equal(test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' export '%s/k.snn' -o '%s/k.h' --input '%s/missing.wav' 2>/dev/null", exe, dir,
             dir, dir);
    assert_int_equal(test_system(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' export '%s/k.snn' -o '%s/k.h' --pcm '%s/missing.wav' 2>/dev/null", exe, dir,
             dir, dir);
    assert_int_equal(test_system(cmd), 1);
    snprintf(cmd, sizeof cmd, "'%s' export '%s/k.snn' -o '%s/k.h' --pcm '%s/k.snn' --hop-ms 30 2>/dev/null", exe,
             dir, dir, dir);
    assert_int_equal(test_system(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s/k.h", dir);
    FILE *none = fopen(cmd, "r");
    assert_null(none);
    /* the build directory of this qsnn: the script takes BUILD_DIR/qsnn */
    char bdir[1024];
    snprintf(bdir, sizeof bdir, "%s", exe);
    char *slash = strrchr(bdir, '/');
    assert_non_null(slash);
    *slash = 0;
    /* the audio: real clips when the development data is here (the first clip of each folder, sorted) */
    char real[1024], audio[2048] = "", seconds[32] = "";
    snprintf(real, sizeof real, "%s/speech_commands_test_subset", shared_root());
    struct stat sb;
    const int have_real = stat(real, &sb) == 0 && S_ISDIR(sb.st_mode);
    long want_windows = 21;
    if (have_real) {
        static const char *const folders[] = {"_silence_", "yes", "no", "left", "right", "stop"};
        size_t len = 0;
        for (int i = 0; i < 6; i++)
            len += (size_t)snprintf(audio + len, sizeof audio - len, " \"$(ls '%s/%s'/*.wav | head -n 1)\"", real,
                                    folders[i]);
        snprintf(seconds, sizeof seconds, "PCM_SECONDS=6 ");
        want_windows = 51;
        printf("  firmware audio: %s/{_silence_,yes,no,left,right,stop}, the first clip of each\n", real);
    } else {
        printf("  %s not present: the firmware hears the script's three synthetic words\n", real);
    }
    snprintf(cmd, sizeof cmd, "%ssh '%s/examples/mcu/run_qemu.sh' '%s' '%s/k.snn'%s > '%s' 2>&1", seconds,
             QSNN_SOURCE_DIR, bdir, dir, audio, out);
    int rc = test_system(cmd);
    char *txt = NULL;
    assert_int_equal(qsnn_read_text_file(out, 1 << 20, &txt, NULL), QSNN_OK);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(test_system(cmd), 0);
    if (rc == 77) {
        free(txt);
        skip();
    }
    /* the host's summary "...: W windows and D detections, every line equal to the firmware's, in order", the
     * target's "kws: D detections (...)" and the lines the target printed must all agree, with D >= 1 */
    static const char host_line[] = "host: qsnn stream --device --all on the same audio: ";
    long hw = -1, hd = -1, fd = -1;
    const char *h = strstr(txt, host_line);
    if (h && sscanf(h + strlen(host_line), "%ld windows and %ld", &hw, &hd) != 2)
        hw = hd = -1;
    for (const char *k = strstr(txt, "\nkws: "); k && fd < 0; k = strstr(k + 1, "\nkws: "))
        if (sscanf(k + 6, "%ld detections", &fd) != 1)
            fd = -1;
    const long tw = count_lines_with(txt, "window ", 0), td = count_lines_with(txt, NULL, 1);
    char want[160];
    snprintf(want, sizeof want,
             "%ld windows from %ld PCM samples: float MFCC bits equal to, uint8 features equal to, potentials equal "
             "to, classes equal to the host's",
             want_windows, (want_windows + 9) * 1600);
    if (rc != 0 || !strstr(txt, want) ||
        !strstr(txt, "0 frames' float MFCC, 0 uint8 features, 0 windows' potentials, 0 classes differ") ||
        !strstr(txt, "window    2.000 s  ") || !strstr(txt, " detections (scores averaged over ") || !h ||
        !strstr(h, "every line equal to the firmware's, in order") || hw != want_windows || tw != hw || hd < 1 ||
        td != hd || fd != hd)
        fail_msg("run_qemu.sh exit %d; host %ld windows / %ld detections, target printed %ld / %ld (its count "
                 "%ld):\n%s", rc, hw, hd, tw, td, fd, txt);
    printf("%s", txt);
    free(txt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agreement_random_kws),
        cmocka_unit_test(test_ds_cnn_akida_converts),
        cmocka_unit_test(test_precisions_agree),
        cmocka_unit_test(test_top_logit_ties),
        cmocka_unit_test(test_summary_layout_and_size),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_export_header),
        cmocka_unit_test(test_export_firmware_qemu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
