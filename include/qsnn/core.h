/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/core.h: status codes, error messages, logging and progress, arena, RNG, overflow-checked sizes.
 *
 * status.c, arena.c, rng.c and crc32.c are libc-only so that the integer engine (qsnn/snn.h) can be embedded with
 * them and nothing else (examples/mcu builds src/snn with status.c and crc32.c); log.c (progress lines, the clock)
 * uses POSIX isatty and clock_gettime.
 *
 * Error convention: every library function that can fail returns a qsnn_status. On failure it also records a
 * human-readable message (which file, which field, which value) retrievable with qsnn_last_error(); the message
 * is thread-local. Library code never exits or aborts on bad input; assert() is for programmer bugs only.
 */
#ifndef QSNN_CORE_H
#define QSNN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    QSNN_OK = 0,
    QSNN_ERR_ARG,         /* invalid argument or option value */
    QSNN_ERR_NOMEM,       /* allocation failed */
    QSNN_ERR_IO,          /* a file could not be opened, read or written */
    QSNN_ERR_FORMAT,      /* file content is corrupt, truncated or of the wrong kind */
    QSNN_ERR_SHAPE,       /* tensor or model shapes do not fit together */
    QSNN_ERR_UNSUPPORTED, /* valid but not supported (layer type, bit-width, sample format...) */
    QSNN_ERR_RANGE,       /* a value is out of range or an arithmetic result would overflow */
    QSNN_ERR_DEPENDENCY,  /* an optional library is not available in this build */
    QSNN_ERR_INTERRUPTED  /* stopped on request (signal) */
} qsnn_status;

/* Short constant name of a status ("invalid argument", ...). Never NULL. */
const char *qsnn_status_str(qsnn_status st);

/* Record a formatted error message for the current thread and return `st` unchanged, so that library code can
 * write `return qsnn_fail(QSNN_ERR_FORMAT, "%s: header: bad magic", path);`. */
qsnn_status qsnn_fail(qsnn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefix the current thread's error message with more context ("reading model m.qsnn: " + old message). */
qsnn_status qsnn_fail_context(qsnn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The last error message of this thread, "" when none. Valid until the next qsnn_fail on this thread. */
const char *qsnn_last_error(void);
void qsnn_clear_error(void);

/* ---- logging: everything goes to stderr; stdout is reserved for results ---- */
typedef enum { QSNN_LOG_QUIET = 0, QSNN_LOG_WARN = 1, QSNN_LOG_INFO = 2, QSNN_LOG_DEBUG = 3 } qsnn_log_level;
void qsnn_log_set_level(qsnn_log_level level);
/* fputs with control characters other than newline and tab (escape sequences, carriage returns, DEL) shown as
 * '?': for text from files and folder names on a terminal. qsnn_log and the commands' error lines use it. */
void qsnn_fputs_plain(const char *s, FILE *fp);

/* fopen(path, "rb") of a regular file only: a FIFO, device, socket or folder is refused (QSNN_ERR_IO naming it)
 * before it is opened, so that a reader never blocks on a FIFO nor reads a device without end (POSIX systems;
 * without stat(), a plain fopen). Every reader of a file format opens through this, the engine's .snn loader
 * included (src/core/open_regular.c). */
qsnn_status qsnn_open_regular(const char *path, FILE **fp);
qsnn_log_level qsnn_log_get_level(void);
void qsnn_log(qsnn_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#define qsnn_info(...) qsnn_log(QSNN_LOG_INFO, __VA_ARGS__)
#define qsnn_warn(...) qsnn_log(QSNN_LOG_WARN, __VA_ARGS__)
#define qsnn_debug(...) qsnn_log(QSNN_LOG_DEBUG, __VA_ARGS__)

/* Progress line on stderr for anything that takes more than a few seconds: "label  done/total  rate/s  ETA".
 * Redrawn at most ~5 times a second with '\r' when stderr is a terminal, one line every ~10 s otherwise;
 * silent at QSNN_LOG_QUIET. Not thread-safe: call from one thread. */
typedef struct {
    const char *label;
    const char *unit;   /* "clips", "samples"... */
    size_t total;       /* 0 when unknown */
    double t_start, t_last;
    int is_tty;
} qsnn_progress;
void qsnn_progress_begin(qsnn_progress *p, const char *label, const char *unit, size_t total);
/* `extra` (may be NULL) is appended, e.g. "loss 0.412 acc 0.871". */
void qsnn_progress_update(qsnn_progress *p, size_t done, const char *extra);
void qsnn_progress_end(qsnn_progress *p, size_t done, const char *extra);

/* A duration for progress lines: "42s", "3m07s", "2h05m"; "?" when negative or absurd (> 1e7 s). */
void qsnn_format_duration(char *buf, size_t n, double s);

/* Monotonic wall clock in seconds. */
double qsnn_time_now(void);

/* ---- sizes: every size computed from untrusted input goes through these ---- */
/* *out = a * b; returns 0 on overflow (and leaves *out = 0), 1 otherwise. */
int qsnn_mul_size(size_t *out, size_t a, size_t b);
int qsnn_add_size(size_t *out, size_t a, size_t b);

/* ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32()): the integrity check of every
 * qsnn file format (.qsnn, .snn). Continue a CRC: start with crc = 0; qsnn_crc32(qsnn_crc32(0, a, n), b, m) is
 * the CRC of a||b. No global state (thread-safe, embeddable). ---- */
uint32_t qsnn_crc32(uint32_t crc, const void *data, size_t n);

/* ---- arena: one allocation, bump-allocated; reset frees everything at once ---- */
typedef struct {
    unsigned char *base;
    size_t size;
    size_t used;
    int owned; /* 1 when the arena malloc'ed base itself */
} qsnn_arena;

/* Allocate `size` bytes with malloc. */
qsnn_status qsnn_arena_init(qsnn_arena *a, size_t size);
/* Use caller-provided memory; never frees it. */
void qsnn_arena_init_from(qsnn_arena *a, void *mem, size_t size);
/* `align` must be a power of two; returns NULL (and records an error) when the arena is full. Memory is not
 * zeroed. */
void *qsnn_arena_alloc(qsnn_arena *a, size_t n, size_t align);
void qsnn_arena_reset(qsnn_arena *a);
void qsnn_arena_free(qsnn_arena *a);

/* ---- RNG: xoshiro256** seeded through splitmix64. State is passed explicitly, never seeded from the clock. ---- */
typedef struct {
    uint64_t s[4];
} qsnn_rng;
void qsnn_rng_seed(qsnn_rng *r, uint64_t seed);
/* An independent stream derived from (seed, stream), for per-thread or per-sample determinism. */
void qsnn_rng_seed_stream(qsnn_rng *r, uint64_t seed, uint64_t stream);
uint64_t qsnn_rng_u64(qsnn_rng *r);
double qsnn_rng_uniform(qsnn_rng *r);             /* [0, 1) with 53 random bits */
uint64_t qsnn_rng_below(qsnn_rng *r, uint64_t n); /* uniform in [0, n), unbiased; n > 0 */
int64_t qsnn_rng_range(qsnn_rng *r, int64_t lo, int64_t hi_exclusive);
double qsnn_rng_normal(qsnn_rng *r);              /* standard normal */
void qsnn_rng_shuffle_size(qsnn_rng *r, size_t *v, size_t n); /* Fisher-Yates */

#ifdef __cplusplus
}
#endif
#endif
