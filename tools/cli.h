/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what every qsnn subcommand shares: the command table, exit codes, error printing, and the one
 * command-line grammar (issue 15).
 *
 * Exit codes: 0 success, 1 failure (the message names the file and the problem), 2 usage error.
 * Each subcommand lives in tools/cmd_<name>.c, parses its options with cli_getopt (its own long options plus the
 * common ones below), prints --help to stdout, results to stdout and progress/diagnostics to stderr.
 *
 * The common options mean the same in every command that takes them (docs/cli.md):
 *   -o, --output PATH   what the command writes (a file or a directory)          every command that writes
 *   -q, --quiet         no progress, notes or warnings on stderr (errors still)  every command
 *       --threads N     at most N threads or processes (default: all cores)      every command that works in parallel
 *       --json          the results as one JSON document on stdout (cJSON)       every command
 *   -h, --help          the command's help on stdout, exit 0                     every command
 * Old spellings keep working as hidden aliases (not in --help): --out for --output, -j/--jobs for --threads.
 * The hidden --list-options prints the command's options, one a line ("--split ARG"), for the bash completion
 * and the tests; it is generated from the same table getopt_long parses. */
#ifndef QSNN_TOOLS_CLI_H
#define QSNN_TOOLS_CLI_H

#include "qsnn/core.h"
#include "qsnn/io.h" /* qsnn_check_outputs: every command checks its outputs before working */

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>

enum { QSNN_EXIT_OK = 0, QSNN_EXIT_FAIL = 1, QSNN_EXIT_USAGE = 2 };

typedef int (*qsnn_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    qsnn_cmd_fn fn;
    const char *summary; /* one line for `qsnn help` */
} qsnn_cmd;

int cmd_mfcc(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_eval_stream(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_tutorial(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* Print "qsnn <cmd>: <qsnn_last_error() or status name>" to stderr and return QSNN_EXIT_FAIL. */
int cli_fail(const char *cmd, qsnn_status st);
/* Print "qsnn <cmd>: <message>\nTry 'qsnn <cmd> --help'." to stderr and return QSNN_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parse helpers: return 1 on success, 0 on a malformed or out-of-range value. */
int cli_parse_int(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* ---- the common options ---- */
enum {
    CLI_OUTPUT = 1u << 0,  /* -o, --output PATH (alias --out) */
    CLI_THREADS = 1u << 1, /* --threads N (aliases -j, --jobs) */
    CLI_QUIET = 1u << 2,   /* -q, --quiet: always taken */
    CLI_JSON = 1u << 3,    /* --json: always taken */
};
#define CLI_MAX_OPTIONS 64
#define CLI_STOP (-2) /* cli_getopt: stop parsing and return a->rc (help or list printed: 0; usage error: 2) */
#define CLI_MAX_THREADS 1024

typedef struct {
    /* in */
    const char *cmd;    /* the command's name, for messages */
    unsigned takes;     /* CLI_OUTPUT | CLI_THREADS (quiet, json and help are taken by every command) */
    void (*help)(void); /* prints the command's --help on stdout */
    /* out: the common options as given */
    const char *output; /* -o/--output, NULL when absent */
    int quiet, json;    /* -q/--quiet (also sets the log level to QSNN_LOG_QUIET), --json */
    int threads;        /* --threads N, 0..CLI_MAX_THREADS (N > 0 also omp_set_num_threads); 0: all cores */
    int rc;             /* the exit code when cli_getopt returned CLI_STOP */
    /* private */
    struct option table_[CLI_MAX_OPTIONS];
    char short_[16];
    int ready_;
} cli_args;

/* getopt_long over own (the command's long options, terminated by a zero entry; their val must be >= 256 or a
 * letter other than o, q, h, j) and the common options of a->takes. Returns an own option's val (optarg as
 * getopt_long sets it), -1 after the last option (optind: the first operand), or CLI_STOP after it printed the
 * help, the option list or a usage error (exit code in a->rc). Common options are handled here. */
int cli_getopt(cli_args *a, int argc, char **argv, const struct option *own);

/* With --json, a command whose text report is long (tutorial) sends it to stderr (to /dev/null with -q) so that
 * stdout holds only the JSON: cli_stdout_divert flushes stdout and points it there, returning the saved
 * descriptor (-1: nothing diverted, or dup failed); cli_stdout_restore(&fd) flushes and puts stdout back (once;
 * then fd = -1). */
int cli_stdout_divert(int quiet);
void cli_stdout_restore(int *fd);

/* ---- JSON output (cJSON only: strings escaped, null for missing values) ---- */
/* Add a number, or null when !have. Returns the item (NULL when out of memory). */
cJSON *cli_json_number_or_null(cJSON *obj, const char *name, double v, int have);
/* Add a string, or null when s is NULL. */
cJSON *cli_json_string_or_null(cJSON *obj, const char *name, const char *s);
/* Print root (formatted) and a newline on stdout, then delete it. Returns QSNN_EXIT_OK, or QSNN_EXIT_FAIL with a
 * message when root is NULL or printing ran out of memory. */
int cli_json_print(const char *cmd, cJSON *root);

#endif
