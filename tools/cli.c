/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c: shared helpers of the qsnn subcommands: error printing, number parsing, the common options (one
 * grammar for every command, cli.h) and JSON printing. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail(const char *cmd, qsnn_status st)
{
    const char *msg = qsnn_last_error();
    fprintf(stderr, "qsnn %s: ", cmd);
    qsnn_fputs_plain((msg && msg[0]) ? msg : qsnn_status_str(st), stderr);
    fputc('\n', stderr);
    return QSNN_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qsnn %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'qsnn %s --help'.\n", cmd);
    return QSNN_EXIT_USAGE;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

/* ---- the common options ---- */

/* vals of the common long-only options: above any command's own (which are < 0x1000) */
enum { C_THREADS = 0x7f00, C_JSON, C_LIST, C_OUT_ALIAS, C_JOBS_ALIAS };

/* One common option: its table entry, whether --help shows it, and which CLI_* flag it needs (0: always). */
typedef struct {
    struct option opt;
    int hidden;
    unsigned needs;
} common_opt;

static const common_opt k_common[] = {
    {{"output", required_argument, 0, 'o'}, 0, CLI_OUTPUT},
    {{"threads", required_argument, 0, C_THREADS}, 0, CLI_THREADS},
    {{"quiet", no_argument, 0, 'q'}, 0, 0},
    {{"json", no_argument, 0, C_JSON}, 0, 0},
    {{"help", no_argument, 0, 'h'}, 0, 0},
    {{"out", required_argument, 0, C_OUT_ALIAS}, 1, CLI_OUTPUT},
    {{"jobs", required_argument, 0, C_JOBS_ALIAS}, 1, CLI_THREADS},
    {{"list-options", no_argument, 0, C_LIST}, 1, 0},
};
#define N_COMMON (sizeof k_common / sizeof k_common[0])

static int is_hidden_common(const char *name)
{
    for (size_t i = 0; i < N_COMMON; i++)
        if (k_common[i].hidden && !strcmp(k_common[i].opt.name, name))
            return 1;
    return 0;
}

static void build_table(cli_args *a, const struct option *own)
{
    size_t n = 0;
    for (size_t i = 0; i < N_COMMON; i++)
        if (!k_common[i].needs || (a->takes & k_common[i].needs))
            a->table_[n++] = k_common[i].opt;
    for (size_t i = 0; own && own[i].name; i++) {
        if (n + 1 >= CLI_MAX_OPTIONS) {
            fprintf(stderr, "qsnn %s: too many options for cli_getopt (CLI_MAX_OPTIONS)\n", a->cmd);
            abort(); /* a programmer bug, caught by tests/test_cli.c on every command */
        }
        a->table_[n++] = own[i];
    }
    memset(&a->table_[n], 0, sizeof a->table_[n]);
    snprintf(a->short_, sizeof a->short_, ":%sqh%s", (a->takes & CLI_OUTPUT) ? "o:" : "",
             (a->takes & CLI_THREADS) ? "j:" : "");
    a->ready_ = 1;
}

/* --list-options: every option --help documents, one a line, "ARG" after the ones that take a value. */
static void list_options(const cli_args *a)
{
    for (size_t i = 0; a->table_[i].name; i++) {
        const struct option *o = &a->table_[i];
        if (is_hidden_common(o->name))
            continue;
        const char *arg = o->has_arg == required_argument ? " ARG" : "";
        if (o->val == 'o' || o->val == 'q' || o->val == 'h')
            printf("-%c%s\n", o->val, arg);
        printf("--%s%s\n", o->name, arg);
    }
}

static int stop(cli_args *a, int rc)
{
    a->rc = rc;
    return CLI_STOP;
}

int cli_getopt(cli_args *a, int argc, char **argv, const struct option *own)
{
    if (!a->ready_) {
        build_table(a, own);
        optind = 1;
        opterr = 0;
    }
    for (;;) {
        int c = getopt_long(argc, argv, a->short_, a->table_, NULL);
        long v;
        switch (c) {
        case 'o':
        case C_OUT_ALIAS: a->output = optarg; break;
        case 'q':
            a->quiet = 1;
            qsnn_log_set_level(QSNN_LOG_QUIET);
            break;
        case C_JSON: a->json = 1; break;
        case 'j':
        case C_THREADS:
        case C_JOBS_ALIAS:
            if (!cli_parse_int(optarg, 0, CLI_MAX_THREADS, &v))
                return stop(a, cli_usage_error(a->cmd, "--threads: expected 0..%d (0: all cores), got '%s'",
                                               CLI_MAX_THREADS, optarg));
            a->threads = (int)v;
            if (v > 0)
                omp_set_num_threads((int)v);
            break;
        case 'h': a->help(); return stop(a, QSNN_EXIT_OK);
        case C_LIST: list_options(a); return stop(a, QSNN_EXIT_OK);
        case ':': return stop(a, cli_usage_error(a->cmd, "option '%s' needs a value", argv[optind - 1]));
        case '?':
            if (strncmp(argv[optind - 1], "--", 2) && optopt > 0 && optopt < 0x100)
                return stop(a, cli_usage_error(a->cmd, "unknown option '-%c'", optopt));
            return stop(a, cli_usage_error(a->cmd, "unknown, ambiguous or misused option '%s'", argv[optind - 1]));
        default: return c; /* an own option, or -1 */
        }
    }
}

int cli_stdout_divert(int quiet)
{
    fflush(stdout);
    int fd = dup(STDOUT_FILENO);
    if (fd < 0)
        return -1;
    int to = quiet ? open("/dev/null", O_WRONLY) : STDERR_FILENO;
    if (to < 0 || dup2(to, STDOUT_FILENO) < 0) {
        if (quiet && to >= 0)
            close(to);
        close(fd);
        return -1;
    }
    if (quiet)
        close(to);
    return fd;
}

void cli_stdout_restore(int *fd)
{
    if (*fd < 0)
        return;
    fflush(stdout);
    dup2(*fd, STDOUT_FILENO);
    close(*fd);
    *fd = -1;
}

/* ---- JSON ---- */

cJSON *cli_json_number_or_null(cJSON *obj, const char *name, double v, int have)
{
    return have ? cJSON_AddNumberToObject(obj, name, v) : cJSON_AddNullToObject(obj, name);
}

cJSON *cli_json_string_or_null(cJSON *obj, const char *name, const char *s)
{
    return s ? cJSON_AddStringToObject(obj, name, s) : cJSON_AddNullToObject(obj, name);
}

int cli_json_print(const char *cmd, cJSON *root)
{
    char *txt = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!txt) {
        fprintf(stderr, "qsnn %s: out of memory for the JSON output\n", cmd);
        return QSNN_EXIT_FAIL;
    }
    printf("%s\n", txt);
    free(txt);
    return QSNN_EXIT_OK;
}
