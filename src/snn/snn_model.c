/* SPDX-License-Identifier: Apache-2.0 */
/* snn_model.c: validation of a .snn image and read-only accessors (libc only).
 *
 * Invariant: once qsnn_snn_model_init returns QSNN_OK, the engine can run the model without any further check:
 * every offset is inside the image, shapes chain, weight values are in range, thresholds satisfy the fire
 * kernels' preconditions and no potential can overflow int32 (bounded from the actual weights).
 * The image is never modified nor copied. Header layout (little-endian), see docs/snn.md:
 *   0 magic[8] | 8 version | 12 header_size | 16 total_size | 20 crc32 (computed with this field zeroed) |
 *   24 num_layers | 28 record_size | 32 in_h | 36 in_w | 40 in_c | 44 num_classes | 48 scale_min (f32) |
 *   52 scale_max (f32) | 56 input_scale (f32) | 60 labels_size; then the records, the labels, the data, and an
 *   optional metadata block (snn_meta.c).
 */
#include "qsnn/snn.h"
#include "qsnn/snn_meta.h"
#include "qsnn/tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *qsnn_snn_type_name(int type)
{
    switch (type) {
    case QSNN_SNN_INPUT_CONV: return "InputConvolutional";
    case QSNN_SNN_CONV: return "Convolutional";
    case QSNN_SNN_SEPARABLE: return "SeparableConvolutional";
    case QSNN_SNN_FC: return "FullyConnected";
    default: return "Unknown";
    }
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static float rdf32(const unsigned char *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static size_t weight_bytes(size_t n, int bits) { return bits <= 4 ? (n + 1) / 2 : n; }

static int raw_weight(const unsigned char *base, size_t i, int bits)
{
    if (bits <= 4)
        return qsnn_snn_nibble_s4(base, i);
    return (int)(int8_t)base[i];
}

int qsnn_snn_weight(const qsnn_snn_model *m, int layer, int depthwise, size_t i)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    return raw_weight(m->image + (depthwise ? l->off_dw : l->off_w), i, l->weight_bits);
}

size_t qsnn_snn_weight_nnz(const qsnn_snn_model *m, int layer)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    size_t nnz = 0;
    for (size_t i = 0; i < l->n_w; i++)
        nnz += qsnn_snn_weight(m, layer, 0, i) != 0;
    for (size_t i = 0; i < l->n_dw; i++)
        nnz += qsnn_snn_weight(m, layer, 1, i) != 0;
    return nnz;
}

void qsnn_snn_threshold(const qsnn_snn_model *m, int layer, int j, int32_t *t, int32_t *s)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    const int32_t *th = (const int32_t *)(const void *)(m->image + l->off_th);
    if (t)
        *t = th[j];
    if (s)
        *s = th[l->out_c + j];
}

#define FAIL(...) qsnn_fail(QSNN_ERR_FORMAT, __VA_ARGS__)

static int in_image(size_t size, uint32_t off, size_t bytes, size_t data_start)
{
    return off >= data_start && off <= size && bytes <= size - off;
}

static qsnn_status check_layer(const qsnn_snn_model *m, int li, const char *origin, size_t data_start, int prev_c,
                               int prev_h, int prev_w, int prev_act)
{
    const qsnn_snn_layer *l = &m->layers[li];
    char name[33];
    memcpy(name, l->name, 32);
    name[32] = 0;
    if (!memchr(l->name, 0, 32))
        return FAIL("%s: layer %d: name not NUL-terminated", origin, li);
    if (!name[0])
        return FAIL("%s: layer %d: empty name", origin, li);
#define LFAIL(fmt, ...) FAIL("%s: layer %d '%s': " fmt, origin, li, name, __VA_ARGS__)
    if (l->type < 0 || l->type > QSNN_SNN_FC)
        return LFAIL("unknown type %d", (int)l->type);
    if (l->type == QSNN_SNN_INPUT_CONV && li != 0)
        return LFAIL("%s", "InputConvolutional must be the first layer");
    const int32_t dims[] = {l->in_h, l->in_w, l->in_c, l->conv_h, l->conv_w, l->out_h, l->out_w, l->out_c};
    for (int i = 0; i < 8; i++)
        if (dims[i] < 1 || dims[i] > QSNN_SNN_MAX_DIM)
            return LFAIL("dimension %d out of range 1..%d", (int)dims[i], QSNN_SNN_MAX_DIM);
    /* map sizes in 64 bits (a 4096^3 map wraps a 32-bit size_t to a few bytes) */
    const char *const map_names[3] = {"input", "convolution output", "output"};
    const int32_t map_dims[3][3] = {{l->in_h, l->in_w, l->in_c}, {l->conv_h, l->conv_w, l->out_c},
                                    {l->out_h, l->out_w, l->out_c}};
    for (int i = 0; i < 3; i++) {
        uint64_t n = (uint64_t)map_dims[i][0] * (uint64_t)map_dims[i][1] * (uint64_t)map_dims[i][2];
        if (n > QSNN_SNN_MAX_MAP)
            return LFAIL("%s map %dx%dx%d = %llu elements, above the engine's %u", map_names[i], (int)map_dims[i][0],
                         (int)map_dims[i][1], (int)map_dims[i][2], (unsigned long long)n, QSNN_SNN_MAX_MAP);
    }
    if (l->in_h != prev_h || l->in_w != prev_w || l->in_c != prev_c)
        return LFAIL("input %dx%dx%d does not match the previous output %dx%dx%d", (int)l->in_h, (int)l->in_w,
                     (int)l->in_c, prev_h, prev_w, prev_c);
    if (l->kh < 1 || l->kh > QSNN_SNN_MAX_KERNEL || l->kw < 1 || l->kw > QSNN_SNN_MAX_KERNEL)
        return LFAIL("kernel %dx%d out of range", (int)l->kh, (int)l->kw);
    if (l->stride_h < 1 || l->stride_h > QSNN_SNN_MAX_KERNEL || l->stride_w < 1 || l->stride_w > QSNN_SNN_MAX_KERNEL)
        return LFAIL("stride %dx%d out of range", (int)l->stride_h, (int)l->stride_w);
    if (l->padding_same != 0 && l->padding_same != 1)
        return LFAIL("padding_same %d", (int)l->padding_same);
    if (l->type == QSNN_SNN_FC) {
        if (l->kh != 1 || l->kw != 1 || l->stride_h != 1 || l->stride_w != 1 || l->conv_h != 1 || l->conv_w != 1 ||
            l->pad_top || l->pad_left || l->pool)
            return LFAIL("%s", "fully connected layer with a kernel, padding or pooling");
    } else {
        int pt, pl;
        int oh = qsnn_conv_out_size(l->in_h, l->kh, l->stride_h, l->padding_same, &pt);
        int ow = qsnn_conv_out_size(l->in_w, l->kw, l->stride_w, l->padding_same, &pl);
        if (oh != l->conv_h || ow != l->conv_w || pt != l->pad_top || pl != l->pad_left)
            return LFAIL("map %dx%d pad %d,%d inconsistent with input, kernel and stride (expected %dx%d pad %d,%d)",
                         (int)l->conv_h, (int)l->conv_w, (int)l->pad_top, (int)l->pad_left, oh, ow, pt, pl);
    }
    uint64_t padded = (uint64_t)((l->conv_h - 1) * l->stride_h + l->kh) *
                      (uint64_t)((l->conv_w - 1) * l->stride_w + l->kw) * (uint64_t)l->in_c;
    if (padded > 4ull * QSNN_SNN_MAX_MAP)
        return LFAIL("padded input of %llu elements, above the engine's %llu", (unsigned long long)padded,
                     4ull * QSNN_SNN_MAX_MAP);
    if (l->pool != 0 && l->pool != 1)
        return LFAIL("pool %d", (int)l->pool);
    if (l->pool ? (l->out_h != 1 || l->out_w != 1) : (l->out_h != l->conv_h || l->out_w != l->conv_w))
        return LFAIL("output %dx%d inconsistent with pooling", (int)l->out_h, (int)l->out_w);
    if (l->type == QSNN_SNN_SEPARABLE && l->out_c < 1)
        return LFAIL("%s", "no pointwise neurons");
    if (l->weight_bits < 1 || l->weight_bits > 8)
        return LFAIL("weight bits %d out of range 1..8", (int)l->weight_bits);
    int want_in_bits = li == 0 ? 8 : prev_act;
    if (l->in_bits != want_in_bits)
        return LFAIL("input bits %d, expected %d", (int)l->in_bits, want_in_bits);
    int last = li == m->num_layers - 1;
    if (last) {
        if (l->act_bits != 0)
            return LFAIL("%s", "the last layer must have activations disabled (it outputs the potentials)");
        if (l->out_h != 1 || l->out_w != 1 || l->out_c != m->num_classes)
            return LFAIL("last output %dx%dx%d, expected 1x1x%d", (int)l->out_h, (int)l->out_w, (int)l->out_c,
                         m->num_classes);
    } else if (l->act_bits < 1 || l->act_bits > 4) {
        return LFAIL("activation bits %d out of range 1..4", (int)l->act_bits);
    }
    if (l->frac_bits < 0 || l->frac_bits > QSNN_SNN_MAX_FRAC_BITS)
        return LFAIL("threshold fraction bits %d out of range 0..%d", (int)l->frac_bits, QSNN_SNN_MAX_FRAC_BITS);

    /* weight counts and offsets */
    size_t kk = (size_t)l->kh * (size_t)l->kw, cin = (size_t)l->in_c, f = (size_t)l->out_c;
    uint64_t want_w, want_dw = 0; /* 64 bits: an FC layer's H*W*C*F can pass 2^32 */
    if (l->type == QSNN_SNN_SEPARABLE) {
        want_dw = (uint64_t)kk * cin;
        want_w = (uint64_t)cin * f;
    } else if (l->type == QSNN_SNN_FC) {
        want_w = (uint64_t)l->in_h * (uint64_t)l->in_w * cin * f;
    } else {
        want_w = (uint64_t)kk * cin * f;
    }
    if (l->n_w != want_w || l->n_dw != want_dw)
        return LFAIL("weight counts %u/%u, expected %llu/%llu", (unsigned)l->n_w, (unsigned)l->n_dw,
                     (unsigned long long)want_w, (unsigned long long)want_dw);
    if (!in_image(m->size, l->off_w, weight_bytes(l->n_w, l->weight_bits), data_start))
        return LFAIL("weights at offset %u outside the image", (unsigned)l->off_w);
    if (want_dw && !in_image(m->size, l->off_dw, weight_bytes(l->n_dw, l->weight_bits), data_start))
        return LFAIL("depthwise weights at offset %u outside the image", (unsigned)l->off_dw);
    int kmax = l->weight_bits <= 2 ? 1 : (1 << (l->weight_bits - 1)) - 1;
    const unsigned char *wb = m->image + l->off_w, *dwb = m->image + l->off_dw;
    for (size_t i = 0; i < l->n_w; i++) {
        int v = raw_weight(wb, i, l->weight_bits);
        if (v > kmax || v < -kmax)
            return LFAIL("weight %zu = %d outside +-%d", i, v, kmax);
    }
    for (size_t i = 0; i < l->n_dw; i++) {
        int v = raw_weight(dwb, i, l->weight_bits);
        if (v > kmax || v < -kmax)
            return LFAIL("depthwise weight %zu = %d outside +-%d", i, v, kmax);
    }
    if (l->act_bits) {
        if (l->off_th % 4 || !in_image(m->size, l->off_th, 8 * f, data_start))
            return LFAIL("thresholds at offset %u outside the image or misaligned", (unsigned)l->off_th);
        for (int j = 0; j < l->out_c; j++) {
            int32_t t, s;
            qsnn_snn_threshold(m, li, j, &t, &s);
            int64_t need = (t < 0 ? -(int64_t)t : (int64_t)t) + 16 * (int64_t)s + ((int64_t)2 << l->frac_bits);
            if (s <= 0 || need >= ((int64_t)1 << 31))
                return LFAIL("neuron %d: threshold %ld / step %ld (2^-%d units) out of range", j, (long)t, (long)s,
                             (int)l->frac_bits);
        }
    }
    /* int32 overflow bound of every potential, from the actual weights */
    double maxin = li == 0 ? 255.0 : (double)((1 << prev_act) - 1);
    double area = l->pool ? (double)l->conv_h * (double)l->conv_w : 1.0;
    double worst = 0;
    for (size_t o = 0; o < f; o++) {
        double b = 0;
        if (l->type == QSNN_SNN_SEPARABLE) {
            for (size_t c = 0; c < cin; c++) {
                double d = 0;
                for (size_t t = 0; t < kk; t++)
                    d += abs(raw_weight(dwb, t * cin + c, l->weight_bits));
                b += d * maxin * abs(raw_weight(wb, c * f + o, l->weight_bits));
            }
        } else {
            size_t k = l->n_w / f;
            for (size_t i = 0; i < k; i++)
                b += maxin * abs(raw_weight(wb, i * f + o, l->weight_bits));
        }
        b *= area;
        if (b > worst)
            worst = b;
    }
    if (worst >= 2147483647.0)
        return LFAIL("potentials can reach %.0f, beyond int32", worst);
#undef LFAIL
    return QSNN_OK;
}

int qsnn_label_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '.' || c == '+' || c == '-';
        if (!ok || n + 1 >= QSNN_SNN_LABEL_MAX)
            return 0;
    }
    return n > 0;
}

qsnn_status qsnn_snn_model_init(qsnn_snn_model *m, const void *image, size_t size, const char *origin)
{
    const unsigned char *p = image;
    memset(m, 0, sizeof *m);
    if (!origin)
        origin = "snn image";
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe != 1)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: the .snn engine needs a little-endian host", origin);
    if (!p || ((uintptr_t)p & 3))
        return qsnn_fail(QSNN_ERR_ARG, "%s: image must be 4-byte aligned", origin);
    if (size < QSNN_SNN_HEADER_SIZE)
        return FAIL("%s: truncated header (%zu bytes)", origin, size);
    if (memcmp(p, QSNN_SNN_MAGIC, 8) != 0)
        return FAIL("%s: not a .snn model (bad magic)", origin);
    uint32_t version = rd32(p + 8);
    if (version != QSNN_SNN_VERSION)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: version %u, this build reads version %d", origin,
                         (unsigned)version, QSNN_SNN_VERSION);
    if (rd32(p + 12) != QSNN_SNN_HEADER_SIZE)
        return FAIL("%s: header_size %u", origin, (unsigned)rd32(p + 12));
    uint32_t total = rd32(p + 16);
    if (total != size)
        return FAIL("%s: %s: header says %u bytes, have %zu", origin, total > size ? "truncated" : "trailing data",
                    (unsigned)total, size);
    unsigned char zero[4] = {0, 0, 0, 0};
    uint32_t crc = qsnn_crc32(0, p, 20);
    crc = qsnn_crc32(crc, zero, 4);
    crc = qsnn_crc32(crc, p + 24, size - 24);
    if (crc != rd32(p + 20))
        return FAIL("%s: checksum mismatch (corrupt file)", origin);
    uint32_t nl = rd32(p + 24);
    if (nl < 1 || nl > QSNN_SNN_MAX_LAYERS)
        return FAIL("%s: num_layers %u out of range 1..%d", origin, (unsigned)nl, QSNN_SNN_MAX_LAYERS);
    if (rd32(p + 28) != QSNN_SNN_RECORD_SIZE)
        return FAIL("%s: record_size %u, expected %d", origin, (unsigned)rd32(p + 28), QSNN_SNN_RECORD_SIZE);
    m->image = p;
    m->size = size;
    m->num_layers = (int)nl;
    uint32_t ih = rd32(p + 32), iw = rd32(p + 36), ic = rd32(p + 40), nc = rd32(p + 44);
    if (ih < 1 || ih > QSNN_SNN_MAX_DIM || iw < 1 || iw > QSNN_SNN_MAX_DIM || ic < 1 || ic > QSNN_SNN_MAX_DIM)
        return FAIL("%s: input shape %ux%ux%u out of range", origin, (unsigned)ih, (unsigned)iw, (unsigned)ic);
    if (nc < 1 || nc > QSNN_SNN_MAX_CLASSES)
        return FAIL("%s: num_classes %u out of range 1..%d", origin, (unsigned)nc, QSNN_SNN_MAX_CLASSES);
    m->in_h = (int)ih;
    m->in_w = (int)iw;
    m->in_c = (int)ic;
    m->num_classes = (int)nc;
    m->scale_min = rdf32(p + 48);
    m->scale_max = rdf32(p + 52);
    m->input_scale = rdf32(p + 56);
    if (!isfinite(m->scale_min) || !isfinite(m->scale_max) || !(m->scale_max > m->scale_min))
        return FAIL("%s: input scaling range [%g, %g] invalid", origin, (double)m->scale_min, (double)m->scale_max);
    if (!(m->input_scale > 0) || !isfinite(m->input_scale))
        return FAIL("%s: input_scale %g invalid", origin, (double)m->input_scale);
    size_t rec_end = QSNN_SNN_HEADER_SIZE + (size_t)nl * QSNN_SNN_RECORD_SIZE;
    if (rec_end > size)
        return FAIL("%s: truncated layer records", origin);
    uint32_t lsz = rd32(p + 60);
    if (lsz > size - rec_end)
        return FAIL("%s: truncated labels (%u bytes)", origin, (unsigned)lsz);
    m->layers = (const qsnn_snn_layer *)(const void *)(p + QSNN_SNN_HEADER_SIZE);
    /* labels: num_classes NUL-terminated strings */
    const char *lab = (const char *)p + rec_end;
    size_t pos = 0;
    for (int i = 0; i < m->num_classes; i++) {
        const char *s = lab + pos;
        const char *nul = memchr(s, 0, lsz - pos);
        if (!nul)
            return FAIL("%s: labels: label %d not terminated", origin, i);
        size_t len = (size_t)(nul - s);
        if (len == 0 || len >= QSNN_SNN_LABEL_MAX)
            return FAIL("%s: labels: label %d has length %zu (1..%d)", origin, i, len, QSNN_SNN_LABEL_MAX - 1);
        if (!qsnn_label_valid(s))
            return FAIL("%s: labels: label %d has a character outside " QSNN_LABEL_CHARS, origin, i);
        m->labels[i] = s;
        pos += len + 1;
    }
    size_t data_start = rec_end + lsz;
    int ph = m->in_h, pw = m->in_w, pc = m->in_c, pact = 8;
    for (int li = 0; li < m->num_layers; li++) {
        qsnn_status st = check_layer(m, li, origin, data_start, pc, ph, pw, pact);
        if (st != QSNN_OK) {
            memset(m, 0, sizeof *m);
            return st;
        }
        const qsnn_snn_layer *l = &m->layers[li];
        ph = l->out_h;
        pw = l->out_w;
        pc = l->out_c;
        pact = l->act_bits;
    }
    /* the optional metadata block after the last section (qsnn/snn_meta.h) */
    qsnn_status st = qsnn_snn_meta_check(p, size, qsnn_snn_meta_offset(m), origin);
    if (st != QSNN_OK) {
        memset(m, 0, sizeof *m);
        return st;
    }
    /* the engine's sizes saturate at SIZE_MAX instead of wrapping: a model whose workspace passes the limit (or
     * this target's size_t) is refused here, not found out by a short buffer */
    size_t ws = qsnn_snn_mem_size_mt(m, QSNN_SNN_MAX_THREADS);
    if (ws > QSNN_SNN_MAX_WORKSPACE) {
        memset(m, 0, sizeof *m);
        if (ws == SIZE_MAX)
            return FAIL("%s: workspace size overflows this target's %u-bit size_t", origin,
                        (unsigned)(sizeof(size_t) * 8));
        return FAIL("%s: workspace of %zu bytes, above the engine's %zu", origin, ws, QSNN_SNN_MAX_WORKSPACE);
    }
    return QSNN_OK;
}
