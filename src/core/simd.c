/* SPDX-License-Identifier: Apache-2.0 */
/* simd.c: the run-time choice of kernels (qsnn/simd.h): decided once per process from the CPU and
 * QSNN_FORCE_SCALAR, then read with one relaxed atomic load. Deciding twice (two threads at the first call)
 * gives the same answer, so no lock is needed. */
#include "qsnn/simd.h"

#include <stdlib.h>
#include <string.h>

#if QSNN_SIMD_X86
atomic_int qsnn_simd_state = -1;

int qsnn_simd_decide(void)
{
    const char *e = getenv("QSNN_FORCE_SCALAR");
    int s = QSNN_SIMD_SCALAR;
    if (!(e && *e && strcmp(e, "0"))) {
        __builtin_cpu_init(); /* needed before __builtin_cpu_supports only in constructors; harmless here */
        /* libgcc's answers include the OS check (XSAVE enabled for the YMM state) */
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            s = QSNN_SIMD_AVX2;
    }
    atomic_store_explicit(&qsnn_simd_state, s, memory_order_relaxed);
    return s;
}

qsnn_simd qsnn_simd_level(void) { return qsnn_simd_avx2() ? QSNN_SIMD_AVX2 : QSNN_SIMD_SCALAR; }
#else
qsnn_simd qsnn_simd_level(void) { return QSNN_SIMD_SCALAR; }
#endif

const char *qsnn_simd_name(qsnn_simd s) { return s == QSNN_SIMD_AVX2 ? "avx2" : "scalar"; }
