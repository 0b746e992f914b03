/* test_import.c: the TFLite importer on the MLPerf Tiny teacher (../shared/teachers; skipped without it):
 * architecture and parameter count, its tf-signal features and probabilities on the five clips of
 * reference_outputs.json (an independent float64 implementation: features within 1e-3, probabilities within
 * 1e-4), the label mapping and the saved model file; and malformed flatbuffers (tests/test_import_bad.c). */
#include "qsnn/audio.h"
#include "qsnn/import.h"
#include "qsnn/infer.h"
#include "qsnn/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define TEACHER_LABELS "down,go,left,no,off,on,right,stop,up,yes,_silence_,_unknown_"

static char g_shared[400];

static int teacher_path(char *out, size_t cap, const char *file)
{
    const char *root = getenv("QSNN_SHARED_DATA") ? getenv("QSNN_SHARED_DATA") : QSNN_SHARED_DATA;
    snprintf(g_shared, sizeof g_shared, "%s", root);
    snprintf(out, cap, "%s/../teachers/mlperf_tiny_kws/%s", root, file);
    struct stat sb;
    return stat(out, &sb) == 0;
}

static qsnn_status import_teacher(qsnn_model *m)
{
    char path[600];
    if (!teacher_path(path, sizeof path, "kws_ref_model_float32.tflite"))
        return QSNN_ERR_IO;
    qsnn_frontend_params fe;
    qsnn_frontend_defaults(&fe, QSNN_FRONTEND_TF_SIGNAL);
    qsnn_import_opts o = {.labels = TEACHER_LABELS, .features = &fe, .name = "mlperf_ds_cnn"};
    return qsnn_import_tflite(m, path, &o);
}

static void test_teacher_architecture(void **state)
{
    (void)state;
    qsnn_model m;
    if (import_teacher(&m) == QSNN_ERR_IO)
        skip();
    size_t trainable, total = qsnn_arch_param_count(&m.arch, &trainable);
    assert_int_equal(total, 22604);
    assert_int_equal(m.arch.num_layers, 10);
    assert_int_equal(m.arch.num_classes, 12);
    const qsnn_layer_desc *c0 = &m.arch.layers[0];
    assert_int_equal(c0->op, QSNN_OP_CONV2D);
    assert_int_equal(c0->kh, 10);
    assert_int_equal(c0->kw, 4);
    assert_int_equal(c0->stride_h, 2);
    assert_true(c0->act_relu && c0->use_bias && !c0->batch_norm);
    assert_int_equal(m.arch.layers[1].op, QSNN_OP_DEPTHWISE);
    assert_int_equal(m.arch.layers[8].pool_after, QSNN_POOL_AVG);
    assert_int_equal(m.arch.layers[8].pool_kh, 25);
    assert_int_equal(m.arch.layers[8].pool_kw, 5);
    assert_int_equal(m.arch.layers[9].op, QSNN_OP_DENSE);
    assert_false(m.arch.layers[9].activation);
    assert_string_equal(m.labels[10], "_silence_");
    assert_int_equal(m.arch.features.kind, QSNN_FRONTEND_TF_SIGNAL);
    assert_int_equal(m.arch.features.input, QSNN_INPUT_FLOAT);
    /* the saved file reads back the same (arch JSON with the new fields, features, labels, weights) */
    char out[256];
    snprintf(out, sizeof out, "%s/test_import_teacher.qsnn", QSNN_BINARY_DIR);
    assert_int_equal(qsnn_model_save(&m, out), QSNN_OK);
    qsnn_model r;
    assert_int_equal(qsnn_model_load(&r, out), QSNN_OK);
    assert_int_equal(r.num_params, m.num_params);
    assert_memory_equal(r.params, m.params, m.num_params * sizeof *m.params);
    assert_true(qsnn_frontend_same(&r.arch.features, &m.arch.features));
    assert_int_equal(r.arch.layers[8].pool_after, QSNN_POOL_AVG);
    assert_int_equal(r.arch.layers[0].act_relu, 1);
    assert_string_equal(r.labels[11], "_unknown_");
    /* the uint8 entry point refuses a float-input model */
    uint8_t u[490] = {0};
    assert_int_equal(qsnn_model_predict(&r, u, 1, NULL, NULL), QSNN_ERR_UNSUPPORTED);
    qsnn_model_free(&r);
    unlink(out);
    qsnn_model_free(&m);
}

static void test_teacher_reference_outputs(void **state)
{
    (void)state;
    qsnn_model m;
    char ref[600];
    if (import_teacher(&m) == QSNN_ERR_IO || !teacher_path(ref, sizeof ref, "reference_outputs.json"))
        skip();
    char *txt = NULL;
    assert_int_equal(qsnn_read_text_file(ref, 1 << 22, &txt, NULL), QSNN_OK);
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    assert_non_null(root);
    const cJSON *order = cJSON_GetObjectItem(root, "class_order"), *clips = cJSON_GetObjectItem(root, "clips");
    assert_int_equal(cJSON_GetArraySize(order), 12);
    for (int k = 0; k < 12; k++)
        assert_string_equal(cJSON_GetArrayItem(order, k)->valuestring, m.labels[k]);
    qsnn_frontend *fe;
    assert_int_equal(qsnn_frontend_create(&fe, &m.arch.features), QSNN_OK);
    qsnn_infer *inf;
    assert_int_equal(qsnn_infer_create(&inf, &m, 2), QSNN_OK);
    const cJSON *clip;
    int n = 0;
    double worst_f = 0, worst_p = 0;
    float x[5 * 490], lg[5 * 12], pr[5 * 12];
    const cJSON *probs[5];
    cJSON_ArrayForEach(clip, clips)
    {
        assert_true(n < 5);
        char wav[800];
        snprintf(wav, sizeof wav, "%s/speech_commands_test_subset/%s", g_shared, clip->string);
        float *pcm;
        size_t len;
        assert_int_equal(qsnn_audio_read(wav, &pcm, &len, NULL), QSNN_OK);
        assert_int_equal(qsnn_model_input_from_pcm(&m, fe, x + n * 490, pcm, len), QSNN_OK);
        free(pcm);
        const cJSON *mf = cJSON_GetObjectItem(clip, "mfcc_49x10");
        assert_int_equal(cJSON_GetArraySize(mf), 49);
        for (int f = 0; f < 49; f++)
            for (int c = 0; c < 10; c++) {
                double d = fabs(cJSON_GetArrayItem(cJSON_GetArrayItem(mf, f), c)->valuedouble - x[n * 490 + f * 10 + c]);
                worst_f = d > worst_f ? d : worst_f;
            }
        probs[n++] = cJSON_GetObjectItem(clip, "probabilities");
    }
    assert_int_equal(n, 5);
    assert_int_equal(qsnn_infer_run(inf, x, 5, lg), QSNN_OK);
    qsnn_softmax_rows(pr, lg, 5, 12, 1.0f);
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 12; k++) {
            double d = fabs(cJSON_GetArrayItem(probs[i], k)->valuedouble - pr[i * 12 + k]);
            worst_p = d > worst_p ? d : worst_p;
        }
    print_message("reference clips: worst feature difference %.3g, worst probability difference %.3g\n", worst_f,
                  worst_p);
    assert_true(worst_f <= 1e-3);
    assert_true(worst_p <= 1e-4);
    /* the one-shot entry point gives the same logits */
    float lg2[5 * 12];
    assert_int_equal(qsnn_model_predict_float(&m, x, 5, lg2, NULL), QSNN_OK);
    assert_memory_equal(lg, lg2, sizeof lg);
    qsnn_infer_destroy(inf);
    qsnn_frontend_destroy(fe);
    cJSON_Delete(root);
    qsnn_model_free(&m);
}

static void test_labels(void **state)
{
    (void)state;
    char l[4][QSNN_LABEL_MAX];
    assert_int_equal(qsnn_labels_parse(l, 3, "a,b,c"), QSNN_OK);
    assert_string_equal(l[2], "c");
    assert_int_equal(qsnn_labels_parse(l, 3, "a,b"), QSNN_ERR_ARG);
    assert_int_equal(qsnn_labels_parse(l, 3, "a,b,c,d"), QSNN_ERR_ARG);
    assert_int_equal(qsnn_labels_parse(l, 3, "a,,c"), QSNN_ERR_ARG);
    assert_int_equal(qsnn_labels_parse(l, 3, "a,b,a"), QSNN_ERR_ARG);
    assert_int_equal(qsnn_labels_parse(l, 3, "a,b c,d"), QSNN_ERR_ARG);
    const char *from[3] = {"yes", "_silence_", "no"}, *to[3] = {"_silence_", "no", "yes"}, *bad[3] = {"a", "b", "c"};
    int map[3];
    assert_int_equal(qsnn_labels_map(map, from, 3, to, 3), QSNN_OK);
    assert_int_equal(map[0], 2);
    assert_int_equal(map[1], 0);
    assert_int_equal(map[2], 1);
    assert_int_equal(qsnn_labels_map(map, from, 3, bad, 3), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "'yes'"));
    assert_int_equal(qsnn_labels_map(map, from, 3, to, 2), QSNN_ERR_SHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_teacher_architecture),
        cmocka_unit_test(test_teacher_reference_outputs),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
