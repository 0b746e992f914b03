/* SPDX-License-Identifier: Apache-2.0 */
/* test_cli.c: the one command-line grammar of qsnn (issue 15), on the built binary. The subcommands are read from
 * `qsnn help` (tools/main.c's table), never listed here, and each one's options from `qsnn CMD --list-options` (the
 * table its parser uses, tools/cli.c). For every subcommand:
 *   - --help exits 0, starts with its usage line and documents every option the parser takes (and the parser takes
 *     every option --help documents); the common options are there in their canonical spelling (-h, --help;
 *     -q, --quiet; --json; -o, --output where it writes; --threads N where it works in parallel), the hidden
 *     aliases (--out, -j/--jobs) are not, and still work;
 *   - an unknown option or a bad --threads value is a usage error (exit 2) naming it;
 *   - --json prints one JSON document that cJSON parses, on tiny inputs made here (a synthetic set of a few clips,
 *     its features, the shipped model converted), and -q leaves stderr empty on success.
 * Then the bash completion completes every subcommand and exactly each one's options, and the man pages (when
 * help2man was there at build time) exist for qsnn and every subcommand. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_shell.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "qsnn/version.h"

#define MAX_CMDS 64

static char g_tmp[256];
static const char *g_exe;
static char g_cmds[MAX_CMDS][32];
static int g_ncmds;

/* Run a shell command with stdout (and stderr, unless err is NULL) captured; returns the exit status (-1: not run).
 * *out (and *err) are malloc'ed, NUL-terminated. */
__attribute__((noinline)) /* GCC 12 -Wdangling-pointer false positive when inlined */
static int
capture(char **out, char **err, const char *fmt, ...)
{
    char cmd[8192], full[8800], epath[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(epath, sizeof epath, "%s/stderr.txt", g_tmp);
    snprintf(full, sizeof full, "(%s) 2>'%s'", cmd, epath);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int rc = pclose(p);
    *out = buf;
    if (err) {
        FILE *f = fopen(epath, "rb");
        char *e = calloc(1, 1 << 16);
        assert_non_null(e);
        if (f) {
            size_t m = fread(e, 1, (1 << 16) - 1, f);
            e[m] = '\0';
            fclose(f);
        }
        *err = e;
    }
    return (rc == -1 || !WIFEXITED(rc)) ? -1 : WEXITSTATUS(rc);
}

/* The subcommands, from the "Commands:" block of `qsnn help`. */
static int read_commands(void)
{
    char *out;
    if (capture(&out, NULL, "'%s' help", g_exe) != 0)
        return -1;
    char *p = strstr(out, "\nCommands:\n");
    if (p)
        for (p = strchr(p + 1, '\n') + 1; p && p[0] == ' ' && p[1] == ' ' && g_ncmds < MAX_CMDS;) {
            int n = 0;
            while (p[2 + n] && !isspace((unsigned char)p[2 + n]) && n < 31)
                n++;
            memcpy(g_cmds[g_ncmds], p + 2, (size_t)n);
            g_cmds[g_ncmds++][n] = '\0';
            p = strchr(p, '\n');
            p = p ? p + 1 : NULL;
        }
    free(out);
    return g_ncmds > 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    g_exe = getenv("QSNN_EXE");
    if (!g_exe)
        g_exe = QSNN_BINARY_DIR "/qsnn";
    snprintf(g_tmp, sizeof g_tmp, "/tmp/qsnn_test_cli_XXXXXX");
    if (!mkdtemp(g_tmp) || read_commands() != 0)
        return -1;
    /* the tiny inputs of the --json runs: a few synthetic clips, their features, the shipped model converted */
    return test_shell("'%s' synth -o '%s/s' --per-word 2 --unknown-per-word 1 --voices 60 --noise-seconds 2 -q >/dev/null"
               " && '%s' features '%s/s' -o '%s/f.qsf' -q >/dev/null"
               " && '%s' convert '%s/models/mobilenet_kws_pretrained.qsnn' -o '%s/m.snn' -q >/dev/null",
               g_exe, g_tmp, g_exe, g_tmp, g_tmp, g_exe, QSNN_SOURCE_DIR, g_tmp);
}

static int teardown(void **state)
{
    (void)state;
    test_shell("rm -rf '%s'", g_tmp);
    return 0;
}

/* Whether text holds opt ("--split") as a whole option name (not as the start of "--split-x" or "--splits"). */
static int has_option(const char *text, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = strstr(text, opt); p; p = strstr(p + 1, opt)) {
        char before = p == text ? ' ' : p[-1], after = p[n];
        if ((before == ' ' || before == '\n' || before == '[' || before == '(' || before == ',') &&
            !(isalnum((unsigned char)after) || after == '-' || after == '_'))
            return 1;
    }
    return 0;
}

/* Whether a --list-options output has this line (e.g. "--output ARG", "-q"). */
static int listed(const char *list, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(list, line); p; p = strstr(p + 1, line))
        if ((p == list || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static void test_commands_listed(void **state)
{
    (void)state;
    /* a broken parse of `qsnn help` would make every later walk vacuous */
    assert_true(g_ncmds >= 10);
    for (int i = 0; i < g_ncmds; i++)
        for (int j = 0; j < i; j++)
            assert_string_not_equal(g_cmds[i], g_cmds[j]);
}

/* Every option the "Options:" block of --help documents at the start of a line ("  -x, --name" or "  --name") is
 * one the parser takes. The block ends at the next unindented line ("Examples:", "Exit status: ..."). */
static void check_documented_are_taken(const char *cmd, const char *help, const char *list)
{
    const char *block = strstr(help, "\nOptions:\n");
    if (!block)
        fail_msg("qsnn %s --help has no \"Options:\" block", cmd);
    for (const char *line = strchr(block + 1, '\n') + 1; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line != ' ' && *line != '\n')
            break;
        const char *p = line;
        while (*p == ' ')
            p++;
        if (p == line || p[0] != '-')
            continue;
        if (p[1] != '-' && p[2] == ',' && p[3] == ' ')
            p += 4; /* "-o, --output" */
        if (p[0] != '-' || p[1] != '-')
            continue;
        char name[64];
        size_t n = 0;
        while (n < sizeof name - 1 && (isalnum((unsigned char)p[n]) || p[n] == '-'))
            name[n] = p[n], n++;
        name[n] = '\0';
        char want[80], want_arg[80];
        snprintf(want, sizeof want, "%s", name);
        snprintf(want_arg, sizeof want_arg, "%s ARG", name);
        if (!listed(list, want) && !listed(list, want_arg))
            fail_msg("qsnn %s --help documents %s, which its parser does not take", cmd, name);
    }
}

static void test_help_and_common_options(void **state)
{
    (void)state;
    for (int i = 0; i < g_ncmds; i++) {
        const char *c = g_cmds[i];
        char *help, *list, *out, *err;
        assert_int_equal(capture(&help, NULL, "'%s' %s --help", g_exe, c), 0);
        assert_int_equal(capture(&list, NULL, "'%s' %s --list-options", g_exe, c), 0);
        char usage[2100];
        snprintf(usage, sizeof usage, "Usage: qsnn %s", c);
        if (strncmp(help, usage, strlen(usage)))
            fail_msg("qsnn %s --help does not start with '%s'", c, usage);
        /* the options every command takes, in the parser and in the help */
        static const char *const always[] = {"-h", "--help", "-q", "--quiet", "--json"};
        for (size_t k = 0; k < sizeof always / sizeof *always; k++)
            if (!listed(list, always[k]))
                fail_msg("qsnn %s does not take %s", c, always[k]);
        if (!strstr(help, "-h, --help") || !strstr(help, "-q, --quiet") || !has_option(help, "--json"))
            fail_msg("qsnn %s --help lacks '-h, --help', '-q, --quiet' or '--json'", c);
        /* every option the parser takes is documented, and the other way round */
        for (char *line = list; *line;) {
            char *nl = strchr(line, '\n');
            assert_non_null(nl);
            *nl = '\0';
            char name[64];
            snprintf(name, sizeof name, "%s", line);
            char *sp = strchr(name, ' ');
            if (sp)
                *sp = '\0';
            if (!has_option(help, name))
                fail_msg("qsnn %s takes %s but --help does not document it", c, name);
            *nl = '\n';
            line = nl + 1;
        }
        check_documented_are_taken(c, help, list);
        /* -o/--output: where the command writes (its usage line says -o), canonical in the help */
        const int writes = listed(list, "--output ARG");
        char *eol = strchr(help, '\n');
        *eol = '\0';
        const int usage_o = strstr(help, " -o ") != NULL;
        *eol = '\n';
        if (usage_o && !writes)
            fail_msg("qsnn %s: its usage line has -o but it does not take --output", c);
        if (writes && (!listed(list, "-o ARG") || !strstr(help, "-o, --output")))
            fail_msg("qsnn %s takes --output but not as '-o, --output' in its parser and help", c);
        const int threads = listed(list, "--threads ARG");
        if (threads && !strstr(help, "--threads N"))
            fail_msg("qsnn %s --help does not spell --threads N", c);
        /* the hidden aliases stay out of the help, and work */
        if (has_option(help, "--out") || has_option(help, "--jobs") || strstr(help, "-j, ") ||
            listed(list, "--out ARG") || listed(list, "--jobs ARG") || listed(list, "--list-options"))
            fail_msg("qsnn %s shows a hidden alias (--out, -j/--jobs, --list-options)", c);
        free(help);
        free(list);
        assert_int_equal(test_shell("'%s' %s -q --json --help >/dev/null", g_exe, c), 0);
        if (writes) {
            assert_int_equal(test_shell("'%s' %s --out x --help >/dev/null", g_exe, c), 0);
            assert_int_equal(test_shell("'%s' %s -o x --help >/dev/null", g_exe, c), 0);
        } else {
            assert_int_equal(test_shell("'%s' %s -o x --help >/dev/null 2>&1", g_exe, c), 2);
        }
        if (threads) {
            assert_int_equal(test_shell("'%s' %s --threads 2 --jobs 2 -j 2 --help >/dev/null", g_exe, c), 0);
            assert_int_equal(capture(&out, &err, "'%s' %s --threads many", g_exe, c), 2);
            if (!strstr(err, "--threads"))
                fail_msg("qsnn %s --threads many: the message does not name the option: %s", c, err);
            free(out);
            free(err);
        } else {
            assert_int_equal(test_shell("'%s' %s --threads 2 --help >/dev/null 2>&1", g_exe, c), 2);
        }
        /* usage errors name the option */
        assert_int_equal(capture(&out, &err, "'%s' %s --no-such-option", g_exe, c), 2);
        if (!strstr(err, "--no-such-option") || !strstr(err, "--help"))
            fail_msg("qsnn %s --no-such-option: unclear message: %s", c, err);
        free(out);
        free(err);
        assert_int_equal(capture(&out, &err, "'%s' %s -Z", g_exe, c), 2);
        if (!strstr(err, "'-Z'"))
            fail_msg("qsnn %s -Z: the message does not name it: %s", c, err);
        free(out);
        free(err);
    }
}

/* One --json run per subcommand on the tiny inputs: {command, arguments (printf with the temp dir), a key the
 * object must have}. @T stands for the temp dir, @S for the source dir. */
typedef struct {
    const char *cmd, *args, *key;
} json_case;

static const json_case k_json[] = {
    {"mfcc", "'@S/tests/data/mfcc_tone1k.wav'", "features"},
    {"features", "'@T/s' -o '@T/f2.qsf'", "splits"},
    {"synth", "-o '@T/s' --per-word 2 --unknown-per-word 1 --voices 60 --noise-seconds 2", "clips"},
    {"train", "'@T/f.qsf' -o '@T/t.qsnn' --episodes 1 --epochs 1 --no-checkpoint --threads 1", "episodes"},
    {"eval", "'@T/m.snn' '@T/f.qsf'", "accuracy"},
    {"summary", "'@T/m.snn'", "layers"},
    {"convert", "'@S/models/mobilenet_kws_pretrained.qsnn' -o '@T/m2.snn' --check '@T/f.qsf'", "check"},
    {"stream", "'@T/m.snn' '@S/tests/data/mfcc_tone1k.wav'", "detections"},
    {"eval-stream", "'@T/m.snn' '@T/s' --minutes 0.1", "keywords"},
    {"import", "'@S/tests/data/tflite/ops_a.tflite' -o '@T/i.qsnn'", "labels"},
    {"export", "'@T/m.snn' -o '@T/m.h'", "model_bytes"},
    {"tutorial", "--data '@T/s' -o '@T/tut'", "accuracy_spiking"},
};

/* args with @T and @S replaced */
static void expand(char *dst, size_t cap, const char *args)
{
    size_t n = 0;
    for (const char *p = args; *p && n + 1 < cap; p++) {
        const char *rep = p[0] == '@' && p[1] == 'T' ? g_tmp : p[0] == '@' && p[1] == 'S' ? QSNN_SOURCE_DIR : NULL;
        if (rep) {
            n += (size_t)snprintf(dst + n, cap - n, "%s", rep);
            p++;
        } else {
            dst[n++] = *p;
        }
        if (n >= cap)
            n = cap - 1;
    }
    dst[n] = '\0';
}

static cJSON *run_json(const char *cmd, const char *args, int quiet)
{
    char a[2048], *out, *err;
    expand(a, sizeof a, args);
    int rc = capture(&out, &err, "'%s' %s %s --json %s", g_exe, cmd, a, quiet ? "-q" : "");
    if (rc != 0)
        fail_msg("qsnn %s %s --json: exit %d: %s", cmd, a, rc, err);
    if (quiet && err[0])
        fail_msg("qsnn %s %s --json -q wrote to stderr: %s", cmd, a, err);
    cJSON *j = cJSON_Parse(out);
    if (!cJSON_IsObject(j))
        fail_msg("qsnn %s --json: stdout is not one JSON object: %.400s", cmd, out);
    free(out);
    free(err);
    return j;
}

static void test_json_outputs(void **state)
{
    (void)state;
    const size_t nj = sizeof k_json / sizeof *k_json;
    for (int i = 0; i < g_ncmds; i++) { /* no subcommand without its --json case here */
        size_t k = 0;
        while (k < nj && strcmp(k_json[k].cmd, g_cmds[i]))
            k++;
        if (k == nj)
            fail_msg("qsnn %s: no --json case in tests/test_cli.c", g_cmds[i]);
    }
    for (size_t k = 0; k < nj; k++) {
        cJSON *j = run_json(k_json[k].cmd, k_json[k].args, 1);
        if (!cJSON_GetObjectItemCaseSensitive(j, k_json[k].key))
            fail_msg("qsnn %s --json: no \"%s\"", k_json[k].cmd, k_json[k].key);
        cJSON_Delete(j);
    }
    /* null, not a made-up number, where a value does not exist: train without a validation split, summary's HW
     * reasons of a compatible layer, export without a test vector */
    cJSON *j = run_json("train",
                        "'@T/f.qsf' -o '@T/t.qsnn' --episodes 1 --epochs 1 --no-checkpoint "
                        "--val-split none",
                        1);
    const cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "episodes"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ep, "best_val_acc")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ep, "test_acc")));
    cJSON_Delete(j);
    j = run_json("summary", "'@S/models/mobilenet_kws_pretrained.qsnn'", 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "kind")->valuestring, "model");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(j, "parameters")->valuedouble, 24576);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "written_by"))); /* saved before 0.2.0 */
    cJSON_Delete(j);
    j = run_json("summary", "'@T/m.snn'", 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "written_by")->valuestring, "qsnn " QSNN_VERSION_STRING);
    const cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "layers"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l0, "hw")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l0, "hw_reasons")));
    cJSON_Delete(j);
    j = run_json("export", "'@T/m.snn' -o '@T/m.h'", 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "test_class")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "pcm")));
    cJSON_Delete(j);
}

/* What the bash completion offers for the words (the last one being completed). */
__attribute__((noinline)) static char *complete(const char *words)
{
    char *out = NULL;
    int rc = capture(&out, NULL,
                     "bash -c '. \"$0\"; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _qsnn; "
                     "printf \"%%s\\n\" \"${COMPREPLY[@]}\"' '%s'",
                     words, QSNN_COMPLETION);
    assert_int_equal(rc, 0);
    return out;
}

static void test_bash_completion(void **state)
{
    (void)state;
#ifndef QSNN_COMPLETION
    skip(); /* cross-compiled: not generated */
#else
    char *all = complete("qsnn \"\"");
    for (int i = 0; i < g_ncmds; i++)
        if (!listed(all, g_cmds[i]))
            fail_msg("the bash completion does not offer '%s': %s", g_cmds[i], all);
    free(all);
    for (int i = 0; i < g_ncmds; i++) { /* exactly the parser's options, from its table */
        char w[2100], *got, *list;
        snprintf(w, sizeof w, "qsnn %s -", g_cmds[i]);
        got = complete(w);
        assert_int_equal(capture(&list, NULL, "'%s' %s --list-options | cut -d' ' -f1", g_exe, g_cmds[i]), 0);
        int n_list = 0, n_got = 0;
        for (char *p = list; (p = strchr(p, '\n')); p++)
            n_list++;
        for (char *p = got; (p = strchr(p, '\n')); p++)
            n_got++;
        for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n"))
            if (!listed(got, line))
                fail_msg("qsnn %s: the completion lacks %s", g_cmds[i], line);
        assert_int_equal(n_got, n_list);
        free(got);
        free(list);
    }
    char *o = complete("qsnn eval --thr");
    assert_string_equal(o, "--threads\n");
    free(o);
#endif
}

static void test_man_pages(void **state)
{
    (void)state;
#ifndef QSNN_MAN_DIR
    skip();
#else
    if (!QSNN_MAN_DIR[0])
        skip(); /* help2man was not installed at build time: the build skipped the man pages */
    char *page;
    assert_int_equal(capture(&page, NULL, "cat '%s/qsnn.1'", QSNN_MAN_DIR), 0);
    assert_non_null(strstr(page, ".TH QSNN "));
    for (int i = 0; i < g_ncmds; i++) { /* listed under SEE ALSO */
        char ref[64];
        snprintf(ref, sizeof ref, ".BR qsnn\\-%s (1)", g_cmds[i]);
        if (!strstr(page, ref))
            fail_msg("qsnn.1 does not refer to qsnn-%s(1)", g_cmds[i]);
    }
    free(page);
    for (int i = 0; i < g_ncmds; i++) {
        assert_int_equal(capture(&page, NULL, "cat '%s/qsnn-%s.1'", QSNN_MAN_DIR, g_cmds[i]), 0);
        char th[64];
        snprintf(th, sizeof th, ".TH QSNN-");
        if (!strstr(page, th) || !strstr(page, "\\-\\-json") || !strstr(page, "\\-\\-help"))
            fail_msg("qsnn-%s.1 is not the man page of its --help", g_cmds[i]);
        free(page);
    }
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_listed), cmocka_unit_test(test_help_and_common_options),
        cmocka_unit_test(test_json_outputs),    cmocka_unit_test(test_bash_completion),
        cmocka_unit_test(test_man_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
