/* SPDX-License-Identifier: Apache-2.0 */
/* hw_rules.c: Akida NSoC v1 hardware compatibility of each layer (docs/design.md s4.9, the 1.7-era rules that
 * cnn2snn's compatibility check applies). A layer breaking a rule still converts and runs in software; the
 * summary prints "no" and every reason.
 */
#include "qsnn/convert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t cap, len;
    int count;
} reasons;

static void add(reasons *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void add(reasons *r, const char *fmt, ...)
{
    r->count++;
    if (!r->buf || r->len + 1 >= r->cap)
        return;
    if (r->len) {
        int n = snprintf(r->buf + r->len, r->cap - r->len, "; ");
        r->len += n > 0 ? (size_t)n : 0;
        if (r->len >= r->cap)
            r->len = r->cap - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    r->len += n > 0 ? (size_t)n : 0;
    if (r->len >= r->cap)
        r->len = r->cap - 1;
}

static int odd_kernel(int k) { return k == 3 || k == 5 || k == 7; }

int qsnn_convert_hw_check(const qsnn_snn_model *m, int layer, char *buf, size_t cap)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    reasons r = {buf, cap, 0, 0};
    if (buf && cap)
        buf[0] = 0;
    if (l->act_bits && l->act_bits != 1 && l->act_bits != 2 && l->act_bits != 4)
        add(&r, "activation bits %d (threshold_fire_bits must be 1, 2 or 4)", (int)l->act_bits);
    switch (l->type) {
    case QSNN_SNN_INPUT_CONV: {
        if (l->in_c != 1 && l->in_c != 3)
            add(&r, "InputConvolutional needs 1 or 3 input channels (has %d)", (int)l->in_c);
        if (l->weight_bits != 8)
            add(&r, "InputConvolutional needs 8-bit weights (has %d)", (int)l->weight_bits);
        if (l->kh != l->kw || !odd_kernel(l->kw))
            add(&r, "InputConvolutional kernel must be 3x3, 5x5 or 7x7 (is %dx%d)", (int)l->kw, (int)l->kh);
        if (l->stride_h != l->stride_w || l->stride_w < 1 || l->stride_w > 3)
            add(&r, "InputConvolutional stride must be 1, 2 or 3 (is %dx%d)", (int)l->stride_w, (int)l->stride_h);
        if (l->in_w > 256)
            add(&r, "InputConvolutional input width %d exceeds 256", (int)l->in_w);
        if (l->kh == l->kw && odd_kernel(l->kw) && (l->in_c == 1 || l->in_c == 3)) {
            static const int lim1[] = {512, 192, 96}, lim3[] = {192, 64, 32};
            int maxf = (l->in_c == 1 ? lim1 : lim3)[(l->kw - 3) / 2];
            if (l->out_c > maxf)
                add(&r, "InputConvolutional with %d channel(s) and %dx%d kernel allows %d filters (has %d)",
                    (int)l->in_c, (int)l->kw, (int)l->kh, maxf, (int)l->out_c);
        }
        if (l->pool)
            add(&r, "InputConvolutional cannot do average pooling");
        if (!l->padding_same && (l->stride_h != 1 || l->stride_w != 1))
            add(&r, "InputConvolutional with valid padding needs stride 1 on v1");
        break;
    }
    case QSNN_SNN_CONV:
    case QSNN_SNN_SEPARABLE: {
        int sep = l->type == QSNN_SNN_SEPARABLE;
        const char *tn = sep ? "SeparableConvolutional" : "Convolutional";
        if (sep ? (l->weight_bits != 2 && l->weight_bits != 4) : (l->weight_bits != 1 && l->weight_bits != 2))
            add(&r, "%s needs %s-bit weights (has %d)", tn, sep ? "2 or 4" : "1 or 2", (int)l->weight_bits);
        if (l->kh != l->kw || !(odd_kernel(l->kw) || (!sep && l->kw == 1)))
            add(&r, "%s kernel must be %s (is %dx%d)", tn, sep ? "3x3, 5x5 or 7x7" : "1x1, 3x3, 5x5 or 7x7",
                (int)l->kw, (int)l->kh);
        if (l->stride_h != 1 || l->stride_w != 1)
            add(&r, "%s stride must be 1 (is %dx%d)", tn, (int)l->stride_w, (int)l->stride_h);
        if (!l->padding_same)
            add(&r, "%s supports Same padding only", tn);
        if (l->pool) {
            if (l->in_w > 32)
                add(&r, "global average pooling needs input width <= 32 (is %d)", (int)l->in_w);
            if (l->out_c % 8)
                add(&r, "global average pooling on v1 needs a neuron count multiple of 8 (has %d)", (int)l->out_c);
            if ((long)l->conv_h * l->conv_w >= (1L << 20))
                add(&r, "global average pooling size %d exceeds 20 bits", (int)(l->conv_h * l->conv_w));
        }
        break;
    }
    case QSNN_SNN_FC:
        if (l->weight_bits > 4)
            add(&r, "FullyConnected needs 1..4-bit weights (has %d)", (int)l->weight_bits);
        if (l->in_bits != 1 && l->in_bits != 2)
            add(&r, "FullyConnected needs 1- or 2-bit input spikes (previous activation has %d bits)",
                (int)l->in_bits);
        break;
    default: add(&r, "unknown layer type %d", (int)l->type);
    }
    return r.count;
}
