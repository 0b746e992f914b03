/* SPDX-License-Identifier: Apache-2.0 */
/* test_import.c: the TFLite importer on the MLPerf Tiny teacher (models/teachers; the reference outputs and
 * clips come from ../shared, and that test is skipped without them):
 * architecture and parameter count, its tf-signal features and probabilities on the five clips of
 * reference_outputs.json (an independent float64 implementation: features within 1e-3, probabilities within
 * 1e-4), the label mapping and the saved model file. Other operators and malformed flatbuffers:
 * tests/test_import_ops.c. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include "qsnn/audio.h"
#include "qsnn/data.h"
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_shell.h"

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

/* the teacher ships in the repository (models/teachers); its reference outputs and clips are in ../shared */
static qsnn_status import_teacher(qsnn_model *m)
{
    char path[600];
    snprintf(path, sizeof path, "%s/models/teachers/mlperf_tiny_kws/kws_ref_model_float32.tflite", QSNN_SOURCE_DIR);
    qsnn_frontend_params fe;
    qsnn_frontend_defaults(&fe, QSNN_FRONTEND_TF_SIGNAL);
    qsnn_import_opts o = {.labels = TEACHER_LABELS, .features = &fe, .name = "mlperf_ds_cnn"};
    return qsnn_import_tflite(m, path, &o);
}

static void test_teacher_architecture(void **state)
{
    (void)state;
    qsnn_model m;
    assert_int_equal(import_teacher(&m), QSNN_OK);
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
    if (!teacher_path(ref, sizeof ref, "reference_outputs.json"))
        skip();
    assert_int_equal(import_teacher(&m), QSNN_OK);
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
    /* the thread count does not change a bit */
    qsnn_infer *inf1;
    float lg1[5 * 12];
    assert_int_equal(qsnn_infer_create(&inf1, &m, 1), QSNN_OK);
    assert_int_equal(qsnn_infer_run(inf1, x, 5, lg1), QSNN_OK);
    assert_memory_equal(lg, lg1, sizeof lg);
    qsnn_infer_destroy(inf1);
    /* the one-shot entry point gives the same logits */
    float lg2[5 * 12];
    assert_int_equal(qsnn_model_predict_float(&m, x, 5, lg2, NULL), QSNN_OK);
    assert_memory_equal(lg, lg2, sizeof lg);
    qsnn_infer_destroy(inf);
    qsnn_frontend_destroy(fe);
    cJSON_Delete(root);
    qsnn_model_free(&m);
}

/* what `qsnn eval teacher.qsnn ../shared/data/speech_commands_test_subset` computes: 521 of 555 (93.87 %) */
static void test_teacher_eval_subset(void **state)
{
    (void)state;
    char dir[600];
    struct stat sb;
    teacher_path(dir, sizeof dir, "README.md");
    snprintf(dir, sizeof dir, "%s/speech_commands_test_subset", g_shared);
    if (stat(dir, &sb) != 0)
        skip();
    qsnn_model m;
    assert_int_equal(import_teacher(&m), QSNN_OK);
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    qsnn_featureset fs;
    assert_int_equal(qsnn_data_load_split_fe(dir, QSNN_SPLIT_TEST, &m.arch.features, &o, &fs), QSNN_OK);
    assert_int_equal(fs.n, 555);
    assert_int_equal(fs.h * fs.w, 490);
    const char *ml[12], *dl[12];
    for (int i = 0; i < 12; i++) {
        ml[i] = m.labels[i];
        dl[i] = fs.labels[i];
    }
    int map[12];
    assert_int_equal(qsnn_labels_map(map, ml, 12, dl, 12), QSNN_OK);
    assert_int_equal(map[10], 0); /* the model's _silence_ is the dataset's label 0 */
    int32_t *pred = malloc(fs.n * sizeof *pred);
    assert_int_equal(qsnn_model_predict_float(&m, fs.f32, fs.n, NULL, pred), QSNN_OK);
    size_t hit = 0;
    for (size_t i = 0; i < fs.n; i++)
        hit += map[pred[i]] == fs.label[i];
    print_message("teacher on speech_commands_test_subset: %zu of %zu\n", hit, fs.n);
    assert_int_equal(hit, 521);
    free(pred);
    qsnn_featureset_free(&fs);
    qsnn_model_free(&m);
}

/* the commands: qsnn import writes the model, qsnn summary shows 22,604 parameters and the front end, qsnn eval
 * prints 93.87 % (521 of 555) on the test subset (when ../shared is there), bad input fails with status 1/2 */
static void test_commands(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE") ? getenv("QSNN_EXE") : QSNN_BINARY_DIR "/qsnn";
    char dir[] = "/tmp/qsnn_test_import_XXXXXX", cmd[2048], out[256];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/teacher.qsnn", dir);
    snprintf(cmd, sizeof cmd,
             "%s import %s/models/teachers/mlperf_tiny_kws/kws_ref_model_float32.tflite --frontend tf-signal "
             "--labels %s -o %s > %s/import.txt", exe, QSNN_SOURCE_DIR, TEACHER_LABELS, out, dir);
    assert_int_equal(test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s summary %s > %s/summary.txt", exe, out, dir);
    assert_int_equal(test_system(cmd), 0);
    char path[300], *txt;
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &txt, NULL), QSNN_OK);
    assert_non_null(strstr(txt, "Total params: 22,604"));
    assert_non_null(strstr(txt, "pw_8_pool (AveragePooling2D)"));
    assert_non_null(strstr(txt, "Features: tf-signal"));
    free(txt);
    char data[600];
    struct stat sb;
    teacher_path(data, sizeof data, "README.md");
    snprintf(data, sizeof data, "%s/speech_commands_test_subset", g_shared);
    if (stat(data, &sb) == 0) {
        snprintf(cmd, sizeof cmd, "%s eval %s %s > %s/eval.txt 2>/dev/null", exe, out, data, dir);
        assert_int_equal(test_system(cmd), 0);
        snprintf(path, sizeof path, "%s/eval.txt", dir);
        assert_int_equal(qsnn_read_text_file(path, 1 << 20, &txt, NULL), QSNN_OK);
        assert_non_null(strstr(txt, "Accuracy: 93.87%"));
        assert_non_null(strstr(txt, "(521 of 555 clips"));
        free(txt);
    }
    /* usage and input errors */
    snprintf(cmd, sizeof cmd, "%s import %s/tflite/bad_unknown_op.tflite -o %s/x.qsnn 2> %s/err.txt", exe,
             QSNN_TEST_DATA, dir, dir);
    assert_int_equal(test_system(cmd), 1);
    snprintf(path, sizeof path, "%s/err.txt", dir);
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &txt, NULL), QSNN_OK);
    assert_non_null(strstr(txt, "operator 1 (LSTM"));
    free(txt);
    snprintf(path, sizeof path, "%s/x.qsnn", dir);
    assert_int_not_equal(stat(path, &sb), 0); /* nothing written */
    snprintf(cmd, sizeof cmd, "%s import %s/tflite/ops_a.tflite --frontend librosa -o %s/x.qsnn 2>/dev/null", exe,
             QSNN_TEST_DATA, dir);
    assert_int_equal(test_system(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s import %s/tflite/ops_a.tflite --labels a,b -o %s/x.qsnn 2>/dev/null", exe,
             QSNN_TEST_DATA, dir);
    assert_int_equal(test_system(cmd), 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(test_system(cmd), 0);
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
        cmocka_unit_test(test_teacher_eval_subset),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
