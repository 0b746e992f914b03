/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/simd.h: which kernels run, chosen at run time (portable builds, issue 15).
 *
 * On x86 every AVX2 + FMA kernel is compiled next to its scalar twin whatever -march says (the kernel files
 * compile their SIMD block for AVX2 + FMA with the target regions below), and qsnn_simd_level() picks one per
 * process at its first call: QSNN_SIMD_AVX2 when the CPU has AVX2 and FMA (with the OS saving the YMM registers)
 * and QSNN_FORCE_SCALAR is unset, empty or "0" in the environment; QSNN_SIMD_SCALAR otherwise and on other
 * architectures. The choice holds for the rest of the process, so training stays bit-identical for a given
 * thread count. The engine's integers are the same on both paths; float kernels that use FMA round differently
 * from their scalar twins (as two builds with different -march did), within the tests' tolerances.
 * core module, libc only (getenv; on x86 the compiler's __builtin_cpu_supports). */
#ifndef QSNN_SIMD_H
#define QSNN_SIMD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    QSNN_SIMD_SCALAR = 0, /* plain C loops (what the compiler makes of them for the build's -march) */
    QSNN_SIMD_AVX2 = 1,   /* the AVX2 + FMA kernels */
} qsnn_simd;

/* The kernels this process uses (decided at the first call, see above). Thread-safe. */
qsnn_simd qsnn_simd_level(void);
/* "scalar" or "avx2" */
const char *qsnn_simd_name(qsnn_simd s);

#ifdef __cplusplus
}
#endif

/* ---- for qsnn's own kernel files ----
 * QSNN_SIMD_X86: the build has the AVX2 blocks (x86 with GCC or clang; -DQSNN_NO_SIMD leaves them out).
 * A kernel file includes <immintrin.h> at its top, puts its AVX2 functions between QSNN_AVX2_BEGIN and
 * QSNN_AVX2_END (compiled for AVX2 + FMA; their static helpers too, so that they inline into each other) and
 * calls them from its dispatcher when qsnn_simd_avx2() is true. No plain-C float arithmetic goes inside a region
 * unless the scalar path does the same operations (the vectoriser may fuse multiply-adds there). */
#if !defined(__cplusplus) && (defined(__x86_64__) || defined(__i386__)) &&                                             \
    (defined(__GNUC__) || defined(__clang__)) && !defined(QSNN_NO_SIMD)
#define QSNN_SIMD_X86 1
#include <stdatomic.h>
extern atomic_int qsnn_simd_state; /* the decided qsnn_simd, -1 before the first call (src/core/simd.c) */
int qsnn_simd_decide(void);
/* 1 when the AVX2 kernels run: one relaxed load after the first call (cheap enough per kernel call) */
static inline int qsnn_simd_avx2(void)
{
    int s = atomic_load_explicit(&qsnn_simd_state, memory_order_relaxed);
    return (s < 0 ? qsnn_simd_decide() : s) == QSNN_SIMD_AVX2;
}
#if defined(__clang__)
#define QSNN_AVX2_BEGIN _Pragma("clang attribute push (__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define QSNN_AVX2_END _Pragma("clang attribute pop")
#else
#define QSNN_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define QSNN_AVX2_END _Pragma("GCC pop_options")
#endif
#else
#define QSNN_SIMD_X86 0
#define QSNN_AVX2_BEGIN
#define QSNN_AVX2_END
#endif

#endif
