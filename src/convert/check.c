/* SPDX-License-Identifier: Apache-2.0 */
/* check.c: the conversion check: the quantized float model (qsnn_model_forward_trace) against the integer
 * engine, layer by layer and end to end.
 *
 * Teacher forcing: layer l of the engine gets the float model's layer l-1 levels (act / gamma_act), so a
 * mismatch is that layer's own. For each compared neuron we also know the engine's integer potential p, hence
 * the exact level #{n : p > T + (n-1) S} with T, S the real (double) thresholds of the folding: the engine must
 * equal it everywhere (exact_mismatch = 0 shows the int32 2^-f representation loses nothing), and a
 * difference with the float model is a "tie" when p sits within tie_tol (relative, in batch-norm output units)
 * of a level boundary, i.e. where float32 rounding in the float model decides the level.
 */
#include "qsnn/convert.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TIE_TOL 1e-5

static int argmax_f(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

qsnn_status qsnn_convert_check(const qsnn_model *fm, const qsnn_snn_model *sm, const uint8_t *x, size_t n,
                               qsnn_convert_check_result *res)
{
    memset(res, 0, sizeof *res);
    res->tie_tol = TIE_TOL;
    const qsnn_arch *a = &fm->arch;
    if (a->num_layers != sm->num_layers)
        return qsnn_fail(QSNN_ERR_SHAPE, "check: float model has %d layers, .snn model %d", a->num_layers,
                         sm->num_layers);
    qsnn_convert_info info;
    unsigned char *img = NULL;
    size_t sz;
    qsnn_status st = qsnn_convert_model(fm, &img, &sz, &info);
    if (st != QSNN_OK)
        return st;
    free(img);
    size_t in_n = (size_t)sm->in_h * sm->in_w * sm->in_c, maxc = in_n;
    float *acts[QSNN_SNN_MAX_LAYERS] = {0};
    for (int l = 0; l < a->num_layers; l++) {
        size_t c = qsnn_shape_count(a->layers[l].out);
        maxc = c > maxc ? c : maxc;
        acts[l] = malloc(sizeof(float) * c);
    }
    uint8_t *lin = malloc(maxc), *lout = malloc(maxc);
    int32_t *pot = malloc(4 * maxc);
    size_t ms = qsnn_snn_mem_size(sm);
    void *mem = malloc(ms);
    int ok = lin && lout && pot && mem;
    for (int l = 0; l < a->num_layers; l++)
        ok = ok && acts[l];
    qsnn_snn_ctx *ctx = NULL;
    if (!ok)
        st = qsnn_fail(QSNN_ERR_NOMEM, "check: out of memory");
    else
        st = qsnn_snn_init(&ctx, sm, mem, ms);
    int last = a->num_layers - 1;
    for (size_t s = 0; s < n && st == QSNN_OK; s++) {
        const uint8_t *xs = x + s * in_n;
        st = qsnn_model_forward_trace(fm, xs, acts);
        if (st != QSNN_OK)
            break;
        int32_t pe;
        st = qsnn_snn_run(ctx, xs, NULL, &pe, NULL);
        if (st != QSNN_OK)
            break;
        res->pred_agree += pe == argmax_f(acts[last], a->num_classes);
        for (int l = 0; l <= last && st == QSNN_OK; l++) {
            const qsnn_snn_layer *L = &sm->layers[l];
            size_t cin = (size_t)L->in_h * L->in_w * L->in_c, cout = (size_t)L->out_h * L->out_w * L->out_c;
            if (l == 0) {
                memcpy(lin, xs, in_n);
            } else {
                qsnn_qrelu q = qsnn_qrelu_params(a->layers[l - 1].act_bits);
                for (size_t i = 0; i < cin; i++) {
                    long v = lrintf(acts[l - 1][i] / q.gamma);
                    lin[i] = (uint8_t)(v < 0 ? 0 : v > q.levels ? q.levels : v);
                }
            }
            st = qsnn_snn_run_layer(ctx, l, lin, lout, pot);
            if (st != QSNN_OK)
                break;
            int F = L->out_c;
            if (l == last) {
                int pm = qsnn_snn_argmax_s32(pot, F), fmx = argmax_f(acts[l], F);
                res->last_argmax_agree += pm == fmx;
                /* a different argmax is a tie when the float model's winner has (within tolerance) the same
                 * potential as the engine's: float32 rounding of the logits decides between them */
                if (pm != fmx) {
                    double big = 0;
                    for (int j = 0; j < F; j++)
                        big = fabs((double)pot[j]) > big ? fabs((double)pot[j]) : big;
                    if ((double)pot[pm] - (double)pot[fmx] <= TIE_TOL * (big > 1 ? big : 1))
                        res->last_argmax_ties++;
                }
                continue;
            }
            qsnn_qrelu q = qsnn_qrelu_params(a->layers[l].act_bits);
            const qsnn_convert_fold *fo = &info.layer[l];
            for (size_t i = 0; i < cout; i++) {
                int f = (int)(i % (size_t)F);
                double T = fo->t[f], S = fo->s[f], p = pot[i];
                int exact = 0;
                for (int k = 1; k <= q.levels; k++)
                    if (p > T + (k - 1) * S)
                        exact = k;
                long lf = lrintf(acts[l][i] / q.gamma);
                res->neurons[l]++;
                res->exact_mismatch[l] += lout[i] != exact;
                if (lout[i] == lf)
                    continue;
                res->mismatch[l]++;
                /* distance of p to the nearest boundary, in BN output units, relative to the boundary value */
                double best = INFINITY;
                for (int k = 1; k <= q.levels; k++) {
                    double bnd = T + (k - 1) * S;
                    double d = fabs(p - bnd) / S * (double)q.gamma;
                    double bv = (double)q.t0 + (k - 1) * (double)q.gamma;
                    double rel = d / (fabs(bv) > 1 ? fabs(bv) : 1);
                    best = rel < best ? rel : best;
                }
                if (best <= TIE_TOL) {
                    res->ties[l]++;
                    if (best > res->max_tie_dist[l])
                        res->max_tie_dist[l] = best;
                }
            }
        }
        res->samples++;
    }
    qsnn_convert_info_free(&info);
    for (int l = 0; l < a->num_layers; l++)
        free(acts[l]);
    free(lin);
    free(lout);
    free(pot);
    free(mem);
    return st;
}

void qsnn_convert_check_print(FILE *out, const qsnn_snn_model *sm, const qsnn_convert_check_result *r)
{
    fprintf(out, "Conversion check on %zu clips (per layer, the engine gets the float model's input levels)\n",
            r->samples);
    fprintf(out, "%-16s %12s %12s %12s %12s %14s\n", "layer", "levels", "differ", "float ties", "other",
            "engine!=exact");
    size_t other_total = 0;
    for (int l = 0; l + 1 < sm->num_layers; l++) {
        size_t other = r->mismatch[l] - r->ties[l];
        other_total += other;
        fprintf(out, "%-16s %12zu %12zu %12zu %12zu %14zu\n", sm->layers[l].name, r->neurons[l], r->mismatch[l],
                r->ties[l], other, r->exact_mismatch[l]);
    }
    fprintf(out, "%-16s argmax(potentials) == argmax(float logits): %zu / %zu (%zu of the others at float ties)\n",
            sm->layers[sm->num_layers - 1].name, r->last_argmax_agree, r->samples, r->last_argmax_ties);
    fprintf(out, "ties: float model within %.0e (relative, BN units) of a level boundary\n", r->tie_tol);
    fprintf(out, "Levels identical except at float ties: %s\n", other_total ? "NO" : "yes");
    fprintf(out, "End to end: same class for %zu / %zu clips (%.2f%%)\n", r->pred_agree, r->samples,
            r->samples ? 100.0 * (double)r->pred_agree / (double)r->samples : 0.0);
}
