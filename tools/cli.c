/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c: shared helpers of the qsnn subcommands (error printing, number parsing). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
