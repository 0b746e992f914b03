/* SPDX-License-Identifier: Apache-2.0 */
/* snn_ref.c: the reference path: a plain scalar gather per output pixel (libc only). */
#include "snn/engine_internal.h"

void qsnn_snn_layer_ref(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    if (l->type == QSNN_SNN_FC) {
        size_t n = count_of(l->in_h, l->in_w, C);
        for (int f = 0; f < F; f++) {
            int32_t acc = 0;
            for (size_t i = 0; i < n; i++)
                acc += in_at(r->in, r->in_u8, i) * wget(r, i * (size_t)F + (size_t)f);
            r->s.pot[f] = acc;
        }
        fire_or_store(r, r->s.pot, 0, 1);
        return;
    }
    for (int y = 0; y < l->conv_h; y++)
        for (int x = 0; x < l->conv_w; x++) {
            if (l->type == QSNN_SNN_SEPARABLE) {
                for (int c = 0; c < C; c++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < l->kh; ky++) {
                        int iy = y * l->stride_h - l->pad_top + ky;
                        if (iy < 0 || iy >= l->in_h)
                            continue;
                        for (int kx = 0; kx < l->kw; kx++) {
                            int ix = x * l->stride_w - l->pad_left + kx;
                            if (ix < 0 || ix >= l->in_w)
                                continue;
                            acc += in_at(r->in, r->in_u8, ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C + (size_t)c) *
                                   dwget(r, ((size_t)ky * (size_t)l->kw + (size_t)kx) * (size_t)C + (size_t)c);
                        }
                    }
                    r->s.dwv[c] = acc;
                }
                for (int f = 0; f < F; f++) {
                    int32_t acc = 0;
                    for (int c = 0; c < C; c++)
                        acc += r->s.dwv[c] * wget(r, (size_t)c * (size_t)F + (size_t)f);
                    r->s.pot[f] = acc;
                }
            } else {
                for (int f = 0; f < F; f++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < l->kh; ky++) {
                        int iy = y * l->stride_h - l->pad_top + ky;
                        if (iy < 0 || iy >= l->in_h)
                            continue;
                        for (int kx = 0; kx < l->kw; kx++) {
                            int ix = x * l->stride_w - l->pad_left + kx;
                            if (ix < 0 || ix >= l->in_w)
                                continue;
                            for (int c = 0; c < C; c++)
                                acc += in_at(r->in, r->in_u8, ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C + (size_t)c) *
                                       wget(r, (((size_t)ky * (size_t)l->kw + (size_t)kx) * (size_t)C + (size_t)c) * (size_t)F + (size_t)f);
                        }
                    }
                    r->s.pot[f] = acc;
                }
            }
            emit(r, r->s.pot, y, x, 1);
        }
    finish_pool(r, 1);
}
