/* SPDX-License-Identifier: Apache-2.0 */
/* status.c: status names and the per-thread last-error message.
 * Invariant: qsnn_last_error() always returns a NUL-terminated string (possibly ""). */
#include "qsnn/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define QSNN_ERR_MSG_MAX 1024

/* Per thread. Bare-metal Arm (arm-none-eabi: no OS, no thread pointer for _Thread_local) has one thread of
 * execution, so a plain static there; QSNN_NO_TLS forces that elsewhere (a firmware on another target). */
#if defined(QSNN_NO_TLS) || (defined(__arm__) && !defined(__linux__) && !defined(__APPLE__) && !defined(_WIN32))
#define QSNN_TLS
#else
#define QSNN_TLS _Thread_local
#endif

static QSNN_TLS char g_err[QSNN_ERR_MSG_MAX];

const char *qsnn_status_str(qsnn_status st)
{
    switch (st) {
    case QSNN_OK: return "ok";
    case QSNN_ERR_ARG: return "invalid argument";
    case QSNN_ERR_NOMEM: return "out of memory";
    case QSNN_ERR_IO: return "i/o error";
    case QSNN_ERR_FORMAT: return "bad file format";
    case QSNN_ERR_SHAPE: return "shape mismatch";
    case QSNN_ERR_UNSUPPORTED: return "unsupported";
    case QSNN_ERR_RANGE: return "out of range";
    case QSNN_ERR_DEPENDENCY: return "missing dependency";
    case QSNN_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

qsnn_status qsnn_fail(qsnn_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return st;
}

qsnn_status qsnn_fail_context(qsnn_status st, const char *fmt, ...)
{
    char prefix[QSNN_ERR_MSG_MAX];
    char old[QSNN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_err, sizeof old);
    /* prefix + ": " + old message (or the status name), truncated to the buffer */
    const char *tail = old[0] ? old : qsnn_status_str(st);
    size_t n = strlen(prefix);
    if (n > sizeof g_err - 1)
        n = sizeof g_err - 1;
    memcpy(g_err, prefix, n);
    size_t room = sizeof g_err - 1 - n;
    size_t m = strlen(tail) + 2;
    if (m > room)
        m = room;
    char joined[QSNN_ERR_MSG_MAX + 2];
    memcpy(joined, ": ", 2);
    memcpy(joined + 2, tail, strlen(tail) + 1 > QSNN_ERR_MSG_MAX ? QSNN_ERR_MSG_MAX : strlen(tail) + 1);
    memcpy(g_err + n, joined, m);
    g_err[n + m] = '\0';
    return st;
}

const char *qsnn_last_error(void) { return g_err; }

void qsnn_clear_error(void) { g_err[0] = '\0'; }

int qsnn_mul_size(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > (size_t)-1 / a) {
        *out = 0;
        return 0;
    }
    *out = a * b;
    return 1;
}

int qsnn_add_size(size_t *out, size_t a, size_t b)
{
    if (b > (size_t)-1 - a) {
        *out = 0;
        return 0;
    }
    *out = a + b;
    return 1;
}
