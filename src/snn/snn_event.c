/* SPDX-License-Identifier: Apache-2.0 */
/* snn_event.c: the event path: every non-zero input value (event) scatters into the
 * potentials of the output rows it reaches, kept in a ring of rows (libc only). */
#include "snn/engine_internal.h"

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int ceil_div(int a, int b) { return -floor_div(-a, b); }

static void finalize_row(run_state *r, int row, int32_t *slot)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    for (int x = 0; x < l->conv_w; x++) {
        const int32_t *pot;
        if (l->type == QSNN_SNN_SEPARABLE) {
            const int32_t *d = slot + (size_t)x * (size_t)C;
            memset(r->s.pot, 0, (size_t)F * 4);
            if (r->w16) {
                /* cached weights (so |d| <= 32767, dw_fits_s16): the non-zero pairs are the events */
                int np = 0;
                for (int c = 0; c < C; c += 2) {
                    int32_t v0 = d[c], v1 = c + 1 < C ? d[c + 1] : 0;
                    if (!(v0 | v1))
                        continue;
                    r->s.col[2 * np] = (int16_t)v0;
                    r->s.col[2 * np + 1] = (int16_t)v1;
                    r->s.idx[np++] = c / 2;
                }
                qsnn_snn_gemv_sparse_s16_s16(r->s.pot, r->s.col, r->s.idx, np, r->w16, F);
                emit(r, r->s.pot, row, x, 0);
                continue;
            }
            for (int c = 0; c < C; c++) {
                int32_t v = d[c];
                if (!v)
                    continue; /* a zero depthwise potential sends no event to the pointwise neurons */
                for (int f = 0; f < F; f++)
                    r->s.pot[f] += v * wget(r, (size_t)c * (size_t)F + (size_t)f);
            }
            pot = r->s.pot;
        } else {
            pot = slot + (size_t)x * (size_t)F;
        }
        emit(r, pot, row, x, 0);
    }
}

qsnn_status qsnn_snn_layer_event(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    if (l->type == QSNN_SNN_FC) {
        size_t n = count_of(l->in_h, l->in_w, C);
        memset(r->s.pot, 0, (size_t)F * 4);
        for (size_t i = 0; i < n; i++) {
            int v = in_at(r->in, r->in_u8, i);
            if (!v)
                continue;
            for (int f = 0; f < F; f++)
                r->s.pot[f] += v * wget(r, i * (size_t)F + (size_t)f);
        }
        fire_or_store(r, r->s.pot, 0, 0);
        return QSNN_OK;
    }
    int sep = l->type == QSNN_SNN_SEPARABLE;
    int KC = sep ? C : F, R = ring_rows(l);
    size_t slot_n = (size_t)l->conv_w * (size_t)KC;
    int next_fin = 0, opened = 0;
    for (int y = 0; y < l->in_h; y++) {
        int r_lo = ceil_div(y + l->pad_top - l->kh + 1, l->stride_h);
        int r_hi = floor_div(y + l->pad_top, l->stride_h);
        if (r_lo < 0)
            r_lo = 0;
        if (r_hi > l->conv_h - 1)
            r_hi = l->conv_h - 1;
        while (opened <= r_hi) {
            if (opened - next_fin >= R)
                return qsnn_fail(QSNN_ERR_RANGE, "snn: layer '%s': event ring overflow (internal)", l->name);
            memset(r->s.ring + (size_t)(opened % R) * slot_n, 0, slot_n * 4);
            opened++;
        }
        for (int x = 0; x < l->in_w; x++) {
            int x_lo = ceil_div(x + l->pad_left - l->kw + 1, l->stride_w);
            int x_hi = floor_div(x + l->pad_left, l->stride_w);
            if (x_lo < 0)
                x_lo = 0;
            if (x_hi > l->conv_w - 1)
                x_hi = l->conv_w - 1;
            size_t ibase = ((size_t)y * (size_t)l->in_w + (size_t)x) * (size_t)C;
            for (int c = 0; c < C; c++) {
                int v = in_at(r->in, r->in_u8, ibase + (size_t)c);
                if (!v)
                    continue;
                for (int ro = r_lo; ro <= r_hi; ro++) {
                    int ky = y + l->pad_top - ro * l->stride_h;
                    int32_t *slot = r->s.ring + (size_t)(ro % R) * slot_n;
                    for (int xo = x_lo; xo <= x_hi; xo++) {
                        int kx = x + l->pad_left - xo * l->stride_w;
                        size_t tap = (size_t)ky * (size_t)l->kw + (size_t)kx;
                        if (sep) {
                            size_t wi = tap * (size_t)C + (size_t)c;
                            slot[(size_t)xo * (size_t)C + (size_t)c] += v * (r->dw16 ? r->dw16[wi] : dwget(r, wi));
                        } else {
                            int32_t *o = slot + (size_t)xo * (size_t)F;
                            size_t k = tap * (size_t)C + (size_t)c;
                            if (r->w16) { /* cached: row k of the pair-interleaved int16 weights */
                                const int16_t *wr = r->w16 + (k / 2) * (size_t)F * 2 + (k & 1);
                                for (int f = 0; f < F; f++)
                                    o[f] += v * wr[2 * f];
                            } else {
                                for (int f = 0; f < F; f++)
                                    o[f] += v * wget(r, k * (size_t)F + (size_t)f);
                            }
                        }
                    }
                }
            }
        }
        while (next_fin < l->conv_h &&
               (next_fin * l->stride_h - l->pad_top + l->kh - 1 <= y || y == l->in_h - 1)) {
            while (opened <= next_fin) {
                memset(r->s.ring + (size_t)(opened % R) * slot_n, 0, slot_n * 4);
                opened++;
            }
            finalize_row(r, next_fin, r->s.ring + (size_t)(next_fin % R) * slot_n);
            next_fin++;
        }
    }
    finish_pool(r, 0);
    return QSNN_OK;
}
