/* SPDX-License-Identifier: Apache-2.0 */
/* log.c: leveled logging and progress lines on stderr (stdout is reserved for results). */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static qsnn_log_level g_level = QSNN_LOG_INFO;

void qsnn_log_set_level(qsnn_log_level level) { g_level = level; }
qsnn_log_level qsnn_log_get_level(void) { return g_level; }

void qsnn_fputs_plain(const char *s, FILE *fp)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : c, fp);
    }
}

void qsnn_log(qsnn_log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap); /* file names in messages come from folders: no escape sequences */
    va_end(ap);
    if (level == QSNN_LOG_WARN)
        fputs("warning: ", stderr);
    qsnn_fputs_plain(buf, stderr);
    size_t n = strlen(buf);
    if (n == 0 || buf[n - 1] != '\n')
        fputc('\n', stderr);
}

double qsnn_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void qsnn_format_duration(char *buf, size_t n, double s)
{
    if (s < 0 || s > 1e7)
        snprintf(buf, n, "?");
    else if (s < 60)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress_print(qsnn_progress *p, size_t done, const char *extra, int final)
{
    double now = qsnn_time_now();
    double el = now - p->t_start;
    double rate = el > 0 ? (double)done / el : 0.0;
    char eta[32] = "";
    if (!final && p->total > 0 && rate > 0 && done <= p->total) {
        char d[24];
        qsnn_format_duration(d, sizeof d, (double)(p->total - done) / rate);
        snprintf(eta, sizeof eta, "  ETA %s", d);
    } else if (final) {
        char d[24];
        qsnn_format_duration(d, sizeof d, el);
        snprintf(eta, sizeof eta, "  in %s", d);
    }
    char count[64];
    if (p->total > 0)
        snprintf(count, sizeof count, "%zu/%zu", done, p->total);
    else
        snprintf(count, sizeof count, "%zu", done);
    fprintf(stderr, "%s%s  %s %s  %.0f %s/s%s%s%s%s", p->is_tty ? "\r\033[K" : "", p->label, count, p->unit,
            rate, p->unit, eta, extra ? "  " : "", extra ? extra : "", (final || !p->is_tty) ? "\n" : "");
    fflush(stderr);
    p->t_last = now;
}

void qsnn_progress_begin(qsnn_progress *p, const char *label, const char *unit, size_t total)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->unit = unit;
    p->total = total;
    p->t_start = p->t_last = qsnn_time_now();
    p->is_tty = isatty(fileno(stderr));
}

void qsnn_progress_update(qsnn_progress *p, size_t done, const char *extra)
{
    if (g_level < QSNN_LOG_INFO)
        return;
    double gap = p->is_tty ? 0.2 : 10.0;
    if (qsnn_time_now() - p->t_last < gap)
        return;
    progress_print(p, done, extra, 0);
}

void qsnn_progress_end(qsnn_progress *p, size_t done, const char *extra)
{
    if (g_level < QSNN_LOG_INFO)
        return;
    progress_print(p, done, extra, 1);
}
