/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_export.c: `qsnn export MODEL.snn -o FILE.h [--name NAME]`: a .snn model as a C header for firmware, so the
 * image lives in flash and the libc-only engine (src/snn + src/core) reads it in place:
 *
 *   NAME_model[]           the validated .snn image, 16-byte aligned (the engine reads int32 fields in place)
 *   NAME_MODEL_SIZE        its size in bytes
 *   NAME_WORKSPACE_SIZE    qsnn_snn_mem_size: the minimal caller memory for qsnn_snn_init
 *   NAME_INPUT_H/_W/_C, NAME_NUM_CLASSES, NAME_SCALE_MIN/_MAX (the uint8 input scaling), NAME_labels[]
 *   with --input AUDIO, a test vector for the firmware: NAME_test_input[] (the first second of AUDIO as the
 *   model's uint8 input), NAME_test_potentials[] and NAME_TEST_CLASS (what this host's engine computes from it)
 *   with --pcm AUDIO (repeatable), a test vector that starts from PCM: tools/export_pcm.c
 *
 * The header compiles as C11 and C++11 and follows the single-header pattern: everything above is declared
 * (extern, C linkage) wherever it is included, and defined once, in the one file that defines
 * NAME_MODEL_IMPLEMENTATION before including it (16-byte alignment: _Alignas in C, alignas in C++).
 *
 * The image is validated (qsnn_snn_load) before anything is written; the header is written atomically. */
#include "cli.h"
#include "export_pcm.h"

#include "qsnn/audio.h"
#include "qsnn/detect.h"
#include "qsnn/io.h"
#include "qsnn/kws.h"
#include "qsnn/mfcc_device.h"
#include "qsnn/snn.h"
#include "qsnn/snn_meta.h"
#include "qsnn/version.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "export"

static void print_help(void)
{
    printf("Usage: qsnn export MODEL.snn -o FILE.h [options]\n"
           "\n"
           "Write an integer model (from `qsnn convert`) as a C header for a microcontroller build: the image as a\n"
           "16-byte aligned const array that the engine (src/snn and src/core/status.c, C11, libc only) uses in\n"
           "place, and its sizes (examples/mcu is a complete Cortex-M4 firmware around it):\n"
           "\n"
           "  #define NAME_MODEL_IMPLEMENTATION   /* in exactly one .c/.cpp file: the arrays are defined there */\n"
           "  #include \"FILE.h\"\n"
           "  static unsigned char work[NAME_WORKSPACE_SIZE];\n"
           "  qsnn_snn_model m;  qsnn_snn_ctx *ctx;  int32_t pred;\n"
           "  qsnn_snn_model_init(&m, NAME_model, NAME_MODEL_SIZE, \"flash\");\n"
           "  qsnn_snn_init(&ctx, &m, work, sizeof work);\n"
           "  qsnn_snn_run(ctx, mfcc_u8, NULL, &pred, NULL);   /* NAME_labels[pred] */\n"
           "\n"
           "Other files include FILE.h without the #define and see the same arrays (extern). It compiles as C11\n"
           "and C++11 (Arduino, mbed, ESP-IDF), with C linkage. NAME is upper-case in macros (KWS_MODEL_SIZE).\n"
           "The header also carries the keyword detector's parameters (NAME_DETECT_*: calibrated ones when the model\n"
           "went through `qsnn eval-stream --calibrate`) and the softmax scale of the potentials (NAME_LOGIT_SCALE).\n"
           "\n"
           "Options:\n"
           "  -o, --output FILE.h  header to write (required)\n"
           "  --name NAME          prefix of the symbols (default: kws); letters, digits and _, not starting with a\n"
           "                       digit\n"
           "  --input AUDIO        also write a test vector: the first second of AUDIO (any format libsndfile reads)\n"
           "                       as the model's uint8 input (NAME_test_input), and the potentials and class this\n"
           "                       host's engine computes from it (NAME_test_potentials, NAME_TEST_CLASS): the\n"
           "                       firmware must reproduce them exactly (examples/mcu does, on a Cortex-M4 in QEMU)\n"
           "  --pcm AUDIO          also a test vector that starts from audio (repeatable: the files are joined):\n"
           "                       the samples as PCM16 (NAME_pcm), and what this host computes from them with the\n"
           "                       device's front end (qsnn/mfcc_device.h, libc-only: examples/mcu builds it) and the\n"
           "                       engine: the uint8 MFCC of every 20 ms frame (NAME_pcm_features), the potentials\n"
           "                       and class of a one-second window every --hop-ms (NAME_pcm_potentials,\n"
           "                       NAME_pcm_classes); prints how many uint8 values and classes qsnn_mfcc (the\n"
           "                       host's default front end) would give differently\n"
           "  --pcm-seconds S      keep at most S seconds of the --pcm audio, 1..60 (default 4)\n"
           "  --pcm-wav FILE.wav   also write the --pcm samples (joined, cut, padded) as a WAV, e.g. for qsnn stream\n"
           "  --hop-ms MS          window step of the --pcm vector, a multiple of 20 in 20..1000 (default 100)\n"
           "  --json               print what was written as JSON on stdout (output, sizes, test class, PCM\n"
           "                       vector; null for what was not asked) instead of the note on stderr\n"
           "  -q, --quiet          no note on stderr\n"
           "  -h, --help           this help\n"
           "\n"
           "Exit status: 0 ok, 1 the model is unreadable or invalid or the header cannot be written, 2 usage error.\n");
}

static int valid_name(const char *s)
{
    if (!*s || isdigit((unsigned char)*s) || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* Text from outside (paths, labels) for inside a C comment: printable ASCII only (others '?'), and no comment end:
 * a '*' followed by '/' becomes "*\/". Truncated to the buffer. */
static const char *c_comment(char *dst, size_t cap, const char *src)
{
    size_t k = 0;
    for (const char *p = src; *p && k + 3 < cap; p++) {
        char c = isprint((unsigned char)*p) ? *p : '?';
        dst[k++] = c;
        if (c == '*' && p[1] == '/')
            dst[k++] = '\\';
    }
    dst[k] = 0;
    return dst;
}

/* Text for inside a C string literal: letters, digits and " _.+-" as they are, everything else (quotes,
 * backslashes, '?' of trigraphs, control and non-ASCII bytes) as an octal escape. Truncated to the buffer. */
static const char *c_string(char *dst, size_t cap, const char *src)
{
    size_t k = 0;
    for (const char *p = src; *p && k + 5 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || strchr(" _.+-", c))
            dst[k++] = (char)c;
        else
            k += (size_t)snprintf(dst + k, cap - k, "\\%03o", c);
    }
    dst[k] = 0;
    return dst;
}

/* printf into the atomic file; returns the first failure */
static qsnn_status put(qsnn_atomic_file *f, qsnn_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static qsnn_status put(qsnn_atomic_file *f, qsnn_status st, const char *fmt, ...)
{
    if (st != QSNN_OK)
        return st;
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return qsnn_fail(QSNN_ERR_ARG, "%s: line too long", f->path);
    return qsnn_atomic_write(f, buf, (size_t)n);
}

/* The first second of AUDIO as the model's uint8 input (qsnn/kws.h: the MFCC of qsnn stream and the training
 * features, scaled with the model's range), and the engine's potentials and class for it. */
static qsnn_status test_vector(const qsnn_snn_model *m, const char *audio, uint8_t **x, int32_t *pot, int32_t *pred)
{
    size_t in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    void *mem = malloc(qsnn_snn_mem_size(m));
    *x = malloc(in_n);
    qsnn_snn_ctx *ctx = NULL;
    qsnn_status st = mem && *x ? QSNN_OK : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", audio);
    if (st == QSNN_OK)
        st = qsnn_kws_file_u8(*x, m, audio);
    if (st == QSNN_OK)
        st = qsnn_snn_init(&ctx, m, mem, qsnn_snn_mem_size(m));
    if (st == QSNN_OK)
        st = qsnn_snn_run(ctx, *x, pot, pred, NULL);
    free(mem);
    if (st != QSNN_OK) {
        free(*x);
        *x = NULL;
    }
    return st;
}

/* What was written: one line on stderr (none with -q), or with --json one object on stdout. tpred: the test
 * vector's class (NULL without --input); pv: the PCM vector (NULL without --pcm). */
static int print_result(const cli_args *a, const char *model, const char *name, size_t size, size_t ws,
                        const int32_t *tpred, const export_pcm *pv)
{
    if (a->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", model);
        cJSON_AddStringToObject(root, "output", a->output);
        cJSON_AddStringToObject(root, "name", name);
        cJSON_AddNumberToObject(root, "model_bytes", (double)size);
        cJSON_AddNumberToObject(root, "workspace_bytes", (double)ws);
        cli_json_number_or_null(root, "test_class", tpred ? *tpred : 0, tpred != NULL);
        if (pv) {
            cJSON *jp = cJSON_AddObjectToObject(root, "pcm");
            cJSON_AddNumberToObject(jp, "samples", (double)pv->n);
            cJSON_AddNumberToObject(jp, "frames", (double)pv->frames);
            cJSON_AddNumberToObject(jp, "windows", (double)pv->windows);
            cJSON_AddNumberToObject(jp, "host_u8_values_differ", (double)pv->u8_diff);
            cJSON_AddNumberToObject(jp, "host_u8_max_difference", pv->u8_maxdiff);
            cJSON_AddNumberToObject(jp, "host_classes_differ", (double)pv->pred_diff);
        } else {
            cJSON_AddNullToObject(root, "pcm");
        }
        return cli_json_print(CMD, root);
    }
    if (a->quiet)
        return QSNN_EXIT_OK;
    fprintf(stderr, "qsnn export: %s: %zu-byte model, workspace %zu bytes\n", a->output, size, ws);
    if (pv)
        fprintf(stderr, "qsnn export: PCM vector: %zu samples, %zu frames, %zu windows; qsnn_mfcc's uint8 features "
                        "differ in %zu of %zu values (by at most %d), its classes in %zu of %zu windows\n",
                pv->n, pv->frames, pv->windows, pv->u8_diff, pv->frames * QSNN_MFCC_DEVICE_COEFFS, pv->u8_maxdiff,
                pv->pred_diff, pv->windows);
    return QSNN_EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    enum { O_NAME = 256, O_INPUT, O_PCM, O_PCM_SECONDS, O_PCM_WAV, O_HOP };
    static const struct option opts[] = {{"name", required_argument, 0, O_NAME},
                                         {"input", required_argument, 0, O_INPUT},
                                         {"pcm", required_argument, 0, O_PCM},
                                         {"pcm-seconds", required_argument, 0, O_PCM_SECONDS},
                                         {"pcm-wav", required_argument, 0, O_PCM_WAV},
                                         {"hop-ms", required_argument, 0, O_HOP},
                                         {0, 0, 0, 0}};
    cli_args a = {.cmd = CMD, .takes = CLI_OUTPUT, .help = print_help};
    const char *name = "kws", *input = NULL;
    const char *pcm[16], *pcm_wav = NULL;
    int npcm = 0;
    double pcm_seconds = 4.0;
    long hop_ms = 100;
    int c;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc;
        case O_NAME: name = optarg; break;
        case O_INPUT: input = optarg; break;
        case O_PCM:
            if (npcm == (int)(sizeof pcm / sizeof *pcm))
                return cli_usage_error(CMD, "--pcm: at most %d files", (int)(sizeof pcm / sizeof *pcm));
            pcm[npcm++] = optarg;
            break;
        case O_PCM_SECONDS:
            if (!cli_parse_double(optarg, 1.0, 60.0, &pcm_seconds))
                return cli_usage_error(CMD, "--pcm-seconds '%s': expected 1..60", optarg);
            break;
        case O_PCM_WAV: pcm_wav = optarg; break;
        case O_HOP:
            if (!cli_parse_int(optarg, 20, 1000, &hop_ms) || hop_ms % 20)
                return cli_usage_error(CMD, "--hop-ms '%s': expected a multiple of 20 in 20..1000", optarg);
            break;
        }
    }
    const char *out = a.output;
    if (optind + 1 != argc)
        return cli_usage_error(CMD, "expected one MODEL.snn file");
    if (!out)
        return cli_usage_error(CMD, "-o FILE.h is required");
    if (pcm_wav && !npcm)
        return cli_usage_error(CMD, "--pcm-wav needs --pcm");
    if (!valid_name(name))
        return cli_usage_error(CMD, "--name '%s': use letters, digits and _ (not starting with a digit, <= 64)", name);
    const char *path = argv[optind];
    qsnn_status st = qsnn_check_outputs((const char *[]){out}, 1, (const char *[]){path, input}, 2, 1u << 20);
    if (st != QSNN_OK)
        return cli_fail(CMD, st);
    qsnn_snn_model m;
    unsigned char *img = NULL;
    st = qsnn_snn_load(path, &m, &img);
    if (st != QSNN_OK)
        return cli_fail(CMD, st);
    size_t ws = qsnn_snn_mem_size(&m), size = m.size; /* m points into img, freed below */
    uint8_t *tx = NULL;
    int32_t tpot[QSNN_SNN_MAX_CLASSES], tpred = -1;
    if (input && (st = test_vector(&m, input, &tx, tpot, &tpred)) != QSNN_OK) {
        free(img);
        return cli_fail(CMD, st);
    }
    export_pcm pv = {0};
    if (npcm && ((st = export_pcm_build(&pv, &m, pcm, npcm, pcm_seconds, (int)(hop_ms * QSNN_SAMPLE_RATE / 1000))) ||
                 (pcm_wav && (st = export_pcm_write_wav(&pv, pcm_wav))))) {
        export_pcm_free(&pv);
        free(tx);
        free(img);
        return cli_fail(CMD, st);
    }
    char up[65];
    size_t nl = strlen(name);
    for (size_t i = 0; i <= nl; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    qsnn_atomic_file f;
    static char cbuf[2][4200]; /* c_comment() of paths and labels */
    st = qsnn_atomic_open(&f, out);
    if (st != QSNN_OK) {
        export_pcm_free(&pv);
        free(tx);
        free(img);
        return cli_fail(CMD, st);
    }
    st = put(&f, st, "/* %s: generated by `qsnn export` (qsnn %s) from %s (%zu bytes, %d layers, %d classes).\n"
                     " * Use with src/snn and src/core/status.c of qsnn (C11, libc only): see `qsnn export --help`.\n"
                     " * C11 and C++11. Declares the arrays wherever it is included; defines them in the one file that\n"
                     " * has `#define %s_MODEL_IMPLEMENTATION` before the #include. */\n"
                     "#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n",
             c_comment(cbuf[0], sizeof cbuf[0], out), qsnn_version(), c_comment(cbuf[1], sizeof cbuf[1], path),
             m.size, m.num_layers, m.num_classes, up, up, up);
    st = put(&f, st, "#ifndef QSNN_EXPORT_DECL /* C linkage and 16-byte alignment, spelled for C11 and C++11 */\n"
                     "#ifdef __cplusplus\n#define QSNN_EXPORT_DECL extern \"C\"\n#define QSNN_EXPORT_DEF extern \"C\"\n"
                     "#define QSNN_EXPORT_ALIGN16 alignas(16)\n#else\n#define QSNN_EXPORT_DECL extern\n"
                     "#define QSNN_EXPORT_DEF\n#define QSNN_EXPORT_ALIGN16 _Alignas(16)\n#endif\n#endif\n\n");
    st = put(&f, st, "#define %s_MODEL_SIZE %zu\n#define %s_WORKSPACE_SIZE %zu /* qsnn_snn_mem_size */\n", up, m.size,
             up, ws);
    st = put(&f, st, "#define %s_WORKSPACE_CACHED_SIZE %zu /* qsnn_snn_mem_size_cached: faster, optional */\n", up,
             qsnn_snn_mem_size_cached(&m));
    st = put(&f, st, "#define %s_INPUT_H %d\n#define %s_INPUT_W %d\n#define %s_INPUT_C %d\n#define %s_NUM_CLASSES %d\n",
             up, m.in_h, up, m.in_w, up, m.in_c, up, m.num_classes);
    st = put(&f, st, "/* uint8 input = (x - MIN) * 255 / (MAX - MIN) in float, truncated, clamped to 0..255; x the MFCC */\n"
                     "#define %s_SCALE_MIN %.9gf\n#define %s_SCALE_MAX %.9gf\n\n",
             up, (double)m.scale_min, up, (double)m.scale_max);
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(&m, &meta);
    int cal = (meta.flags & QSNN_SNN_META_DETECT) != 0;
    if (meta.flags & QSNN_SNN_META_SCALE)
        st = put(&f, st, "/* class scores (qsnn/detect.h): softmax(potentials * LOGIT_SCALE) */\n"
                         "#define %s_LOGIT_SCALE %.9gf\n", up, (double)meta.logit_scale);
    st = put(&f, st, "/* keyword detector (qsnn/detect.h): %s */\n"
                     "#define %s_DETECT_CALIBRATED %d\n#define %s_DETECT_THRESHOLD %.9gf\n"
                     "#define %s_DETECT_AVERAGE_MS %d\n#define %s_DETECT_SUPPRESS_MS %d\n\n",
             cal ? "calibrated by `qsnn eval-stream --calibrate`" : "qsnn's defaults (the model is not calibrated)",
             up, cal, up, cal ? (double)meta.threshold : (double)QSNN_DETECT_DEFAULT_THRESHOLD, up,
             cal ? (int)meta.average_ms : QSNN_DETECT_DEFAULT_AVERAGE_MS, up,
             cal ? (int)meta.suppress_ms : QSNN_DETECT_DEFAULT_SUPPRESS_MS);
    st = put(&f, st, "QSNN_EXPORT_DECL const char *const %s_labels[%d];\n"
                     "/* the validated .snn image, 16-byte aligned where it is defined */\n"
                     "QSNN_EXPORT_DECL const unsigned char %s_model[%zu];\n", name, m.num_classes, name, m.size);
    size_t in_n = (size_t)m.in_h * (size_t)m.in_w * (size_t)m.in_c;
    if (tx)
        st = put(&f, st, "\n/* test vector: the first second of %s; this host's engine predicts %s */\n"
                         "#define %s_TEST_CLASS %d\nQSNN_EXPORT_DECL const int32_t %s_test_potentials[%d];\n"
                         "QSNN_EXPORT_DECL const unsigned char %s_test_input[%zu];\n",
                 c_comment(cbuf[0], sizeof cbuf[0], input), c_comment(cbuf[1], sizeof cbuf[1], m.labels[tpred]), up,
                 (int)tpred, name, m.num_classes, name, in_n);
    if (npcm)
        st = export_pcm_write_decl(&pv, &m, put, &f, st, name, up);
    st = put(&f, st, "\n#endif /* %s_MODEL_H */\n\n#if defined(%s_MODEL_IMPLEMENTATION) && !defined(%s_MODEL_IMPLEMENTED)\n"
                     "#define %s_MODEL_IMPLEMENTED\n", up, up, up, up);
    st = put(&f, st, "QSNN_EXPORT_DEF const char *const %s_labels[%d] = {", name, m.num_classes);
    for (int i = 0; i < m.num_classes; i++) {
        char lab[4 * QSNN_SNN_LABEL_MAX + 1];
        st = put(&f, st, "%s\"%s\"", i ? ", " : "", c_string(lab, sizeof lab, m.labels[i]));
    }
    st = put(&f, st, "};\n\nQSNN_EXPORT_DEF QSNN_EXPORT_ALIGN16 const unsigned char %s_model[%zu] = {", name, m.size);
    for (size_t i = 0; i < m.size; i++)
        st = put(&f, st, "%s0x%02x%s", i % 16 ? "" : "\n    ", img[i], i + 1 < m.size ? "," : "");
    st = put(&f, st, "\n};\n");
    if (tx) {
        st = put(&f, st, "QSNN_EXPORT_DEF const int32_t %s_test_potentials[%d] = {", name, m.num_classes);
        for (int i = 0; i < m.num_classes; i++)
            st = put(&f, st, "%s%ld", i ? ", " : "", (long)tpot[i]);
        st = put(&f, st, "};\nQSNN_EXPORT_DEF const unsigned char %s_test_input[%zu] = {", name, in_n);
        for (size_t i = 0; i < in_n; i++)
            st = put(&f, st, "%s%u%s", i % 20 ? "" : "\n    ", (unsigned)tx[i], i + 1 < in_n ? "," : "");
        st = put(&f, st, "\n};\n");
    }
    if (npcm)
        st = export_pcm_write(&pv, &m, put, &f, st, name);
    st = put(&f, st, "#endif /* %s_MODEL_IMPLEMENTATION */\n", up);
    free(tx);
    free(img);
    if (st == QSNN_OK)
        st = qsnn_atomic_commit(&f);
    else
        qsnn_atomic_abort(&f);
    if (st != QSNN_OK) {
        export_pcm_free(&pv);
        return cli_fail(CMD, st);
    }
    int rc = print_result(&a, path, name, size, ws, input ? &tpred : NULL, npcm ? &pv : NULL);
    export_pcm_free(&pv);
    return rc;
}
