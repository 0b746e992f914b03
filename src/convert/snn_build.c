/* SPDX-License-Identifier: Apache-2.0 */
/* snn_build.c: serialisation of integer layers into a .snn image (layout: docs/snn.md, qsnn/snn.h).
 *
 * Invariant: every image returned has passed qsnn_snn_model_init, so a builder bug or out-of-range input
 * (weights, thresholds, overflowing potentials) is reported here, with the layer named, and never reaches
 * a file. Sections are 4-byte aligned; 4-bit weights are packed two per byte, element 2i in the low nibble.
 */
#include "qsnn/convert.h"
#include "qsnn/snn_meta.h"
#include "qsnn/version.h"
#include "qsnn/tensor.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static_assert(sizeof(qsnn_snn_layer) == QSNN_SNN_RECORD_SIZE, "record layout is the file layout");
static_assert(offsetof(qsnn_snn_layer, type) == 32, "record layout");
static_assert(offsetof(qsnn_snn_layer, off_th) == QSNN_SNN_RECORD_SIZE - 4, "record layout");

void qsnn_convert_layer_shape(qsnn_snn_layer *rec, int type, int in_h, int in_w, int in_c, int filters, int kh,
                              int kw, int stride_h, int stride_w, int padding_same, int pool)
{
    rec->type = type;
    rec->in_h = in_h;
    rec->in_w = in_w;
    rec->in_c = in_c;
    rec->out_c = filters;
    if (type == QSNN_SNN_FC) {
        kh = kw = stride_h = stride_w = 1;
        pool = 0;
        rec->conv_h = rec->conv_w = 1;
        rec->pad_top = rec->pad_left = 0;
    } else {
        int pt, pl;
        rec->conv_h = qsnn_conv_out_size(in_h, kh, stride_h, padding_same, &pt);
        rec->conv_w = qsnn_conv_out_size(in_w, kw, stride_w, padding_same, &pl);
        rec->pad_top = pt;
        rec->pad_left = pl;
    }
    rec->kh = kh;
    rec->kw = kw;
    rec->stride_h = stride_h;
    rec->stride_w = stride_w;
    rec->padding_same = padding_same;
    rec->pool = pool;
    rec->out_h = pool ? 1 : rec->conv_h;
    rec->out_w = pool ? 1 : rec->conv_w;
}

static size_t a4(size_t n) { return (n + 3) & ~(size_t)3; }
static size_t wbytes(size_t n, int bits) { return bits <= 4 ? (n + 1) / 2 : n; }
static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void pack_weights(unsigned char *dst, const int8_t *w, size_t n, int bits)
{
    if (bits > 4) {
        memcpy(dst, w, n);
        return;
    }
    for (size_t i = 0; i < n; i += 2) {
        unsigned lo = (unsigned)w[i] & 15u, hi = i + 1 < n ? (unsigned)w[i + 1] & 15u : 0u;
        dst[i / 2] = (unsigned char)(lo | (hi << 4));
    }
}

static size_t weight_count(const qsnn_snn_layer *r, size_t *n_dw)
{
    size_t kk = (size_t)r->kh * (size_t)r->kw, c = (size_t)r->in_c, f = (size_t)r->out_c;
    *n_dw = 0;
    if (r->type == QSNN_SNN_SEPARABLE) {
        *n_dw = kk * c;
        return c * f;
    }
    if (r->type == QSNN_SNN_FC)
        return (size_t)r->in_h * (size_t)r->in_w * c * f;
    return kk * c * f;
}

qsnn_status qsnn_convert_build_image(const qsnn_convert_build *b, unsigned char **image, size_t *size)
{
    *image = NULL;
    *size = 0;
    if (b->num_layers < 1 || b->num_layers > QSNN_SNN_MAX_LAYERS || b->num_classes < 1 ||
        b->num_classes > QSNN_SNN_MAX_CLASSES)
        return qsnn_fail(QSNN_ERR_ARG, "snn build: %d layers, %d classes out of range", b->num_layers, b->num_classes);
    char deflab[QSNN_SNN_MAX_CLASSES][16];
    size_t lab_bytes = 0;
    for (int i = 0; i < b->num_classes; i++) {
        snprintf(deflab[i], sizeof deflab[i], "class%d", i);
        const char *s = b->labels[i] ? b->labels[i] : deflab[i];
        lab_bytes += strlen(s) + 1;
    }
    size_t off = QSNN_SNN_HEADER_SIZE + (size_t)b->num_layers * QSNN_SNN_RECORD_SIZE;
    size_t lab_off = off;
    off = a4(off + lab_bytes);
    qsnn_snn_layer recs[QSNN_SNN_MAX_LAYERS];
    for (int i = 0; i < b->num_layers; i++) {
        qsnn_snn_layer *r = &recs[i];
        *r = b->layers[i].rec;
        size_t n_dw, n_w = weight_count(r, &n_dw);
        if (r->weight_bits < 1 || r->weight_bits > 8 || n_w > UINT32_MAX / 2)
            return qsnn_fail(QSNN_ERR_RANGE, "snn build: layer %d '%.31s': weight bits %d or size out of range", i,
                             r->name, (int)r->weight_bits);
        r->n_w = (uint32_t)n_w;
        r->off_w = (uint32_t)off;
        off = a4(off + wbytes(n_w, r->weight_bits));
        r->n_dw = (uint32_t)n_dw;
        r->off_dw = 0;
        if (n_dw) {
            r->off_dw = (uint32_t)off;
            off = a4(off + wbytes(n_dw, r->weight_bits));
        }
        r->off_th = 0;
        if (r->act_bits > 0) {
            r->off_th = (uint32_t)off;
            off += 8 * (size_t)r->out_c;
        }
        if (off > UINT32_MAX / 2)
            return qsnn_fail(QSNN_ERR_RANGE, "snn build: image too large");
    }
    unsigned char *img = calloc(1, off);
    if (!img)
        return qsnn_fail(QSNN_ERR_NOMEM, "snn build: %zu bytes", off);
    memcpy(img, QSNN_SNN_MAGIC, 8);
    put32(img + 8, QSNN_SNN_VERSION);
    put32(img + 12, QSNN_SNN_HEADER_SIZE);
    put32(img + 16, (uint32_t)off);
    put32(img + 24, (uint32_t)b->num_layers);
    put32(img + 28, QSNN_SNN_RECORD_SIZE);
    put32(img + 32, (uint32_t)b->in_h);
    put32(img + 36, (uint32_t)b->in_w);
    put32(img + 40, (uint32_t)b->in_c);
    put32(img + 44, (uint32_t)b->num_classes);
    memcpy(img + 48, &b->scale_min, 4);
    memcpy(img + 52, &b->scale_max, 4);
    memcpy(img + 56, &b->input_scale, 4);
    put32(img + 60, (uint32_t)lab_bytes);
    size_t p = lab_off;
    for (int i = 0; i < b->num_classes; i++) {
        const char *s = b->labels[i] ? b->labels[i] : deflab[i];
        size_t n = strlen(s) + 1;
        memcpy(img + p, s, n);
        p += n;
    }
    for (int i = 0; i < b->num_layers; i++) {
        const qsnn_snn_layer *r = &recs[i];
        const qsnn_convert_layer *L = &b->layers[i];
        memcpy(img + QSNN_SNN_HEADER_SIZE + (size_t)i * QSNN_SNN_RECORD_SIZE, r, sizeof *r);
        if (r->n_w && L->w)
            pack_weights(img + r->off_w, L->w, r->n_w, r->weight_bits);
        if (r->n_dw && L->dw)
            pack_weights(img + r->off_dw, L->dw, r->n_dw, r->weight_bits);
        if (r->act_bits > 0 && L->th_t && L->th_s) {
            memcpy(img + r->off_th, L->th_t, 4 * (size_t)r->out_c);
            memcpy(img + r->off_th + 4 * (size_t)r->out_c, L->th_s, 4 * (size_t)r->out_c);
        }
    }
    uint32_t crc = qsnn_crc32(0, img, off);
    put32(img + 20, crc);
    qsnn_snn_model m;
    qsnn_status st = qsnn_snn_model_init(&m, img, off, "converted model");
    if (st != QSNN_OK) {
        free(img);
        return st;
    }
    if (b->logit_scale > 0.0f) { /* the metadata block after the sections */
        qsnn_snn_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.flags = QSNN_SNN_META_SCALE;
        meta.logit_scale = b->logit_scale;
        meta.writer_version = QSNN_VERSION_U32; /* which qsnn converted it (qsnn/version.h) */
        size_t cap = off + QSNN_SNN_META_SIZE;
        unsigned char *img2 = malloc(cap);
        if (!img2) {
            free(img);
            return qsnn_fail(QSNN_ERR_NOMEM, "snn build: %zu bytes", cap);
        }
        st = qsnn_snn_meta_write(&m, &meta, img2, cap, &off);
        free(img);
        img = img2;
        if (st == QSNN_OK)
            st = qsnn_snn_model_init(&m, img, off, "converted model");
        if (st != QSNN_OK) {
            free(img);
            return st;
        }
    }
    *image = img;
    *size = off;
    return QSNN_OK;
}
