/* SPDX-License-Identifier: Apache-2.0 */
/* snn_predict.c: threaded evaluation of a .snn model. The engine (src/snn) is single-threaded and libc-only;
 * here each OpenMP thread gets its own context in its own workspace (allocated once per call, never per clip,
 * large enough for the weight cache)
 * and runs the clips of a static partition. Statistics are kept per thread and merged, restricted to the
 * first stats_samples clips (the tutorial counts 20).
 */
#include "qsnn/report.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

qsnn_status qsnn_report_snn_predict(const qsnn_snn_model *m, qsnn_snn_mode mode, const uint8_t *x, size_t n,
                                    int threads, int32_t *pred, int32_t *potentials, qsnn_snn_stats *stats,
                                    size_t stats_samples)
{
    if (threads <= 0)
        threads = omp_get_max_threads();
    if ((size_t)threads > n && n > 0)
        threads = (int)n;
    if (threads < 1)
        threads = 1;
    size_t ms = qsnn_snn_mem_size_cached(m); /* with the weight cache: the fastest layout */
    size_t in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    if (stats_samples == 0 || stats_samples > n)
        stats_samples = n;
    qsnn_snn_stats *tst = calloc((size_t)threads, sizeof *tst);
    unsigned char *mem = malloc(ms * (size_t)threads);
    if (!tst || !mem) {
        free(tst);
        free(mem);
        return qsnn_fail(QSNN_ERR_NOMEM, "snn predict: %d workspaces of %zu bytes", threads, ms);
    }
    qsnn_status status = QSNN_OK;
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        qsnn_snn_ctx *ctx;
        qsnn_status st = qsnn_snn_init(&ctx, m, mem + ms * (size_t)t, ms);
        if (st == QSNN_OK)
            qsnn_snn_set_mode(ctx, mode);
#pragma omp for schedule(static)
        for (long i = 0; i < (long)n; i++) {
            if (st != QSNN_OK)
                continue;
            size_t k = (size_t)i;
            st = qsnn_snn_run(ctx, x + k * in_n, potentials ? potentials + k * (size_t)m->num_classes : NULL,
                              pred ? pred + k : NULL, (stats && k < stats_samples) ? &tst[t] : NULL);
        }
        if (st != QSNN_OK) {
#pragma omp critical(qsnn_snn_predict_err)
            status = st;
        }
    }
    if (stats)
        for (int t = 0; t < threads; t++)
            qsnn_snn_stats_merge(stats, &tst[t], m->num_layers);
    free(tst);
    free(mem);
    return status;
}
