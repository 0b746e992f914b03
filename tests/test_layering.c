/* SPDX-License-Identifier: Apache-2.0 */
/* test_layering.c: the architecture of docs/architecture.md, checked against the code.
 *
 * Every source and header of src/<module>/, include/qsnn/, tools/ and examples/mcu/ is read; every
 * `#include "..."` line is mapped to the module that owns the header, and must be allowed by the table below
 * (a module includes only itself and modules below it: the include graph has no upward arrows). Also:
 *   - a private header (src/<module>/<name>_internal.h) is included only by files of its own module (and by
 *     tests and benchmarks, which are not read here), always spelled "<module>/<name>_internal.h";
 *   - tools/ includes only public headers (qsnn/...) and its own headers (cli.h);
 *   - no source file of src/, tools/ or include/ has more than 800 lines.
 * A failure names the file, the line and the rule. To add a module: a row in `modules`, its headers in
 * `public_headers`, and the same row in docs/architecture.md. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINES 800

/* Modules from the bottom up. A module may include itself and every module before it in this list (layers: the
 * include graph cannot have a cycle nor an upward arrow), unless `only` restricts it further: the engine stays
 * libc-only and embeddable (snn), the firmware sees the engine alone (examples). */
typedef struct {
    const char *name;
    const char *only; /* NULL: every module below; else the space-separated modules it may include */
} module_rule;

static const module_rule modules[] = {
    {"core", NULL},
    {"io", NULL},
    {"plot", NULL},     /* issue 15: the figures' canvas, ticks, axes, legend (cairo), for train, report, kws */
    {"snn", "core io"}, /* io only for snn_file.c, which is not in the libc-only engine library */
    {"quant", NULL},
    {"nn", NULL},       /* below audio and data: the layers know nothing of datasets */
    {"audio", NULL},
    {"data", NULL},
    {"synth", NULL},
    {"model", NULL},
    {"train", NULL},
    {"convert", NULL},
    {"report", NULL},
    {"kws", NULL},
    {"import", NULL},   /* TFLite models into qsnn models (issue 12) */
    {"tools", NULL},
    {"examples", "core snn audio kws"}, /* issue 14: the on-device MFCC (audio) and the detector (kws) */
};

/* Public header -> owning module ("all" for the umbrella header). */
static const struct {
    const char *header;
    const char *module;
} public_headers[] = {
    {"qsnn/core.h", "core"},       {"qsnn/labels.h", "core"},   {"qsnn/tensor.h", "core"},
    {"qsnn/io.h", "io"},           {"qsnn/audio.h", "audio"},   {"qsnn/snn.h", "snn"},
    {"qsnn/quant.h", "quant"},     {"qsnn/nn.h", "nn"},         {"qsnn/model.h", "model"},
    {"qsnn/plan.h", "model"},      {"qsnn/data.h", "data"},     {"qsnn/synth.h", "synth"},
    {"qsnn/train.h", "train"},     {"qsnn/convert.h", "convert"}, {"qsnn/report.h", "report"},
    {"qsnn/kws.h", "kws"},         {"qsnn/qsnn.h", "all"},
    /* issue 14's headers (branch stream): the detector and the streaming evaluation in kws, the .snn metadata */
    {"qsnn/detect.h", "kws"},      {"qsnn/stream_eval.h", "kws"}, {"qsnn/snn_meta.h", "snn"},
    /* issue 12's headers (branch import): the TFLite importer, the TF front ends in audio, batch inference */
    {"qsnn/import.h", "import"},   {"qsnn/frontend.h", "audio"},  {"qsnn/infer.h", "model"},
    {"qsnn/version.h", "core"}, /* issue 15 (branch adopt) */
    {"qsnn/plot.h", "plot"}, /* issue 15 (branch plots) */
    {"qsnn/simd.h", "core"}, /* issue 15 (branch portable): the run-time choice of kernels */
    {"qsnn/mfcc_device.h", "audio"}, /* issue 14 (branch device): the libc-only MFCC the firmware builds */
};

static int rank_of(const char *module)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (!strcmp(modules[i].name, module))
            return (int)i;
    return -1;
}

static const module_rule *rule_of(const char *module)
{
    int r = rank_of(module);
    return r < 0 ? NULL : &modules[r];
}

static int allowed(const char *from, const char *to)
{
    if (!strcmp(from, to))
        return 1;
    const module_rule *r = rule_of(from);
    if (!r || rank_of(to) < 0)
        return 0;
    if (!r->only)
        return rank_of(to) < rank_of(from);
    size_t n = strlen(to);
    for (const char *p = r->only; (p = strstr(p, to)) != NULL; p += n)
        if ((p == r->only || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

typedef struct {
    int violations;
    int files;
    int includes;
} report;

static void violation(report *rep, const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", path, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    rep->violations++;
}

/* The module of a header named in an #include, or NULL when it is no header of the project's modules. */
static const char *header_module(const char *inc, char *buf, size_t cap, int *is_private)
{
    *is_private = 0;
    for (size_t i = 0; i < sizeof public_headers / sizeof public_headers[0]; i++)
        if (!strcmp(public_headers[i].header, inc))
            return public_headers[i].module;
    const char *slash = strchr(inc, '/');
    if (!slash || (size_t)(slash - inc) >= cap)
        return NULL;
    memcpy(buf, inc, (size_t)(slash - inc));
    buf[slash - inc] = '\0';
    if (!rule_of(buf))
        return NULL;
    *is_private = 1;
    return buf;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static void check_file(report *rep, const char *root, const char *rel, const char *module)
{
    char path[8192 + 16];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        violation(rep, rel, 0, "cannot open");
        return;
    }
    rep->files++;
    char line[4096];
    int ln = 0;
    while (fgets(line, sizeof line, fp)) {
        ln++;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "#include \"", 10) != 0)
            continue;
        char inc[512];
        const char *q = p + 10, *e = strchr(q, '"');
        if (!e || (size_t)(e - q) >= sizeof inc) {
            violation(rep, rel, ln, "unreadable #include");
            continue;
        }
        memcpy(inc, q, (size_t)(e - q));
        inc[e - q] = '\0';
        rep->includes++;
        if (!strcmp(module, "tools") && !strchr(inc, '/')) { /* the command's own headers (cli.h...) */
            char own[4096 + 600];
            snprintf(own, sizeof own, "%s/tools/%s", root, inc);
            FILE *t = fopen(own, "r");
            if (t) {
                fclose(t);
                continue;
            }
        }
        if (!strcmp(module, "examples") && !strchr(inc, '/'))
            continue; /* the firmware's generated kws_model.h */
        char mbuf[64];
        int priv;
        const char *to = header_module(inc, mbuf, sizeof mbuf, &priv);
        if (!to) {
            violation(rep, rel, ln, "\"%s\" is no header of a module: spell public headers \"qsnn/<name>.h\" and "
                                    "private ones \"<module>/<name>_internal.h\"", inc);
            continue;
        }
        if (priv && !has_suffix(inc, "_internal.h"))
            violation(rep, rel, ln, "\"%s\": a private header is named <name>_internal.h", inc);
        if (priv && strcmp(to, module) != 0)
            violation(rep, rel, ln, "module %s includes \"%s\", a private header of module %s", module, inc, to);
        else if (!strcmp(to, "all") ? strcmp(module, "tools") != 0 : !allowed(module, to))
            violation(rep, rel, ln, "module %s may not include \"%s\" (module %s): an upward arrow, see "
                                    "docs/architecture.md", module, inc, to);
    }
    fclose(fp);
    if (ln > MAX_LINES && !has_suffix(rel, ".md"))
        violation(rep, rel, ln, "%d lines, more than %d: split it along a seam", ln, MAX_LINES);
}

/* Every .c / .h file of root/dir (one level), as module `module` (NULL: the folder's name). */
static int check_dir(report *rep, const char *root, const char *dir, const char *module)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, ".c") && !has_suffix(de->d_name, ".h"))
            continue;
        char rel[4096];
        snprintf(rel, sizeof rel, "%s/%s", dir, de->d_name);
        const char *mod = module;
        char hb[64];
        if (!mod && !strcmp(dir, "include/qsnn")) {
            int priv;
            char inc[512];
            snprintf(inc, sizeof inc, "qsnn/%s", de->d_name);
            mod = header_module(inc, hb, sizeof hb, &priv);
            if (!mod) {
                violation(rep, rel, 0, "public header without a module in the table of tests/test_layering.c");
                continue;
            }
            if (!strcmp(mod, "all"))
                mod = "tools";
        }
        check_file(rep, root, rel, mod ? mod : dir + 4);
        n++;
    }
    closedir(d);
    return n;
}

static void test_include_graph(void **state)
{
    (void)state;
    const char *root = QSNN_SOURCE_DIR;
    report rep = {0, 0, 0};
    char src[4096];
    snprintf(src, sizeof src, "%s/src", root);
    DIR *d = opendir(src);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096 + 512];
        struct stat sb;
        snprintf(sub, sizeof sub, "%s/%s", src, de->d_name);
        if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (!rule_of(de->d_name)) {
            violation(&rep, sub, 0, "folder src/%s is no module of tests/test_layering.c (add it to the table and to "
                                    "docs/architecture.md)", de->d_name);
            continue;
        }
        char dir[512];
        snprintf(dir, sizeof dir, "src/%s", de->d_name);
        check_dir(&rep, root, dir, NULL);
    }
    closedir(d);
    assert_true(check_dir(&rep, root, "include/qsnn", NULL) > 10);
    assert_true(check_dir(&rep, root, "tools", "tools") > 5);
    assert_true(check_dir(&rep, root, "examples/mcu", "examples") > 0);
    fprintf(stderr, "layering: %d files, %d includes, %d violations\n", rep.files, rep.includes, rep.violations);
    assert_true(rep.files > 50 && rep.includes > 100);
    assert_int_equal(rep.violations, 0);
}

/* The checker itself: an upward include, a foreign private header and a misspelled one are refused. */
static void test_rules(void **state)
{
    (void)state;
    assert_true(allowed("nn", "quant"));
    assert_true(allowed("model", "nn"));
    assert_true(allowed("kws", "snn"));
    assert_true(allowed("snn", "io"));
    assert_false(allowed("nn", "model"));
    assert_false(allowed("nn", "data"));
    assert_false(allowed("quant", "audio"));
    assert_false(allowed("model", "train"));
    assert_false(allowed("snn", "model"));
    assert_false(allowed("snn", "quant")); /* below it in the list, but the engine is restricted */
    assert_false(allowed("examples", "model"));
    assert_true(allowed("examples", "snn"));
    assert_false(allowed("core", "io"));
    assert_false(allowed("data", "dat")); /* unknown module */
    assert_false(allowed("tools", "nothing"));
    char b[64];
    int priv;
    assert_string_equal(header_module("qsnn/plan.h", b, sizeof b, &priv), "model");
    assert_int_equal(priv, 0);
    assert_string_equal(header_module("data/dataset_internal.h", b, sizeof b, &priv), "data");
    assert_int_equal(priv, 1);
    assert_null(header_module("gemm_internal.h", b, sizeof b, &priv));
    assert_null(header_module("qsnn/nothing.h", b, sizeof b, &priv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_include_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
