/* SPDX-License-Identifier: Apache-2.0 */
/* test_shell.h: running shell commands from the tests (the qsnn binary, compilers, QEMU), one copy for every
 * test_*.c that needs it. Header-only: each test is its own program. */
#ifndef QSNN_TEST_SHELL_H
#define QSNN_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Run cmd with system(); its exit status, or -1 when it could not run or did not exit (a signal). */
static inline int test_system(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* test_system of a printf-formatted command (at most 8191 characters). */
__attribute__((format(printf, 1, 2))) static inline int test_shell(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return test_system(cmd);
}

#endif
