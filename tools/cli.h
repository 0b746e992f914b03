/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what every qsnn subcommand shares: the command table, exit codes, error printing.
 *
 * Exit codes: 0 success, 1 failure (the message names the file and the problem), 2 usage error.
 * Each subcommand lives in tools/cmd_<name>.c, parses its own options with getopt_long, prints --help to stdout,
 * results to stdout and progress/diagnostics to stderr. */
#ifndef QSNN_TOOLS_CLI_H
#define QSNN_TOOLS_CLI_H

#include "qsnn/core.h"
#include "qsnn/io.h" /* qsnn_check_outputs: every command checks its outputs before working */

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

#endif
