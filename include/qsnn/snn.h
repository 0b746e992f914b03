/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/snn.h: the integer event-based engine (src/snn, libc only: embeddable without the rest of qsnn).
 *
 * A model is an immutable .snn image (docs/snn.md): a 64-byte header, one 136-byte record per layer, the
 * label names, then the integer weights and per-neuron thresholds. qsnn_snn_model_init validates the whole
 * image and keeps pointers into it: the image is the model, so it can live in flash, in a static array or in
 * caller memory; nothing is copied or allocated.
 *
 * Inference (uint8 input [H][W][C], NHWC as everywhere in qsnn):
 *   layer 0 takes the uint8 input (values 0..255); every later layer takes the previous layer's activation
 *   levels (0..2^act_bits - 1). Each layer accumulates exact int32 potentials p and fires
 *     level = #{ n in 1..L : p * 2^f > T + (n - 1) * S }          (T, S int32 per neuron, f per layer)
 *   i.e. T/2^f and S/2^f are the threshold and step in potential units, kept with f fractional bits (exact
 *   comparison in integers; docs/snn.md explains why this reproduces the float model). The last layer has
 *   activations disabled: its int32 potentials are the output; the class is their argmax, lowest index on ties.
 *   Separable layers: p[f] = sum_c pw[c][f] * (sum_taps dw[tap][c] * a[tap][c]), exact, no rounding between.
 *   Global pooling sums the potentials over the map (Akida's GAP; the thresholds are scaled by the area).
 *
 * Three interchangeable paths give identical integers (tests/test_snn.c):
 *   QSNN_SNN_EVENT  iterate over the non-zero inputs (events) and scatter into the potentials (Akida's way),
 *   QSNN_SNN_DENSE  gather loops with SIMD kernels (fastest; the default),
 *   QSNN_SNN_REF    plain scalar gather loops (the reference kernels, *_ref).
 *
 * Memory: qsnn_snn_mem_size(model) bytes of caller memory (any alignment; 64 recommended) hold everything an
 * inference touches besides the model and the input; qsnn_snn_init places the context in it. No allocation
 * ever happens in this module. A context is used by one thread at a time; run several contexts (one per
 * thread) over one shared model to use several cores.
 *
 * Errors: qsnn_status and qsnn_last_error() (qsnn/core.h); bad images are refused with the field named.
 */
#ifndef QSNN_SNN_H
#define QSNN_SNN_H

#include "qsnn/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_SNN_MAGIC "QSNN_SNN" /* 8 bytes, no NUL in the file */
#define QSNN_SNN_VERSION 1
#define QSNN_SNN_HEADER_SIZE 64
#define QSNN_SNN_RECORD_SIZE 136
#define QSNN_SNN_MAX_LAYERS 32
#define QSNN_SNN_MAX_CLASSES 64
#define QSNN_SNN_LABEL_MAX 32
#define QSNN_SNN_MAX_DIM 4096       /* any H, W or C */
/* Elements (H x W x C) of any activation map of a layer: its input, its convolution output, its output (the
 * zero-padded input of the cached path: 4x this). Indexes then fit an int and, with the workspace limit below,
 * every size the engine computes fits a 32-bit size_t: the limits are what a Cortex-M4 and a 64-bit host share. */
#define QSNN_SNN_MAX_MAP (1u << 24)
/* Bytes of the largest workspace (qsnn_snn_mem_size_mt with QSNN_SNN_MAX_THREADS) a valid model may need. */
#define QSNN_SNN_MAX_WORKSPACE ((size_t)1 << 30)
#define QSNN_SNN_MAX_KERNEL 15
#define QSNN_SNN_MAX_FRAC_BITS 24

/* Akida 1.x layer types. */
typedef enum {
    QSNN_SNN_INPUT_CONV = 0, /* InputConvolutional: the first layer, uint8 dense input */
    QSNN_SNN_CONV = 1,       /* Convolutional */
    QSNN_SNN_SEPARABLE = 2,  /* SeparableConvolutional: depthwise KxK then pointwise */
    QSNN_SNN_FC = 3          /* FullyConnected (input flattened in NHWC order) */
} qsnn_snn_layer_type;

/* Name of a layer type as Akida prints it ("InputConvolutional", ...). */
const char *qsnn_snn_type_name(int type);

/* One layer record, exactly as stored in the image (little-endian int32 fields; read in place). */
typedef struct {
    char name[32];          /* NUL-terminated */
    int32_t type;           /* qsnn_snn_layer_type */
    int32_t in_h, in_w, in_c;
    int32_t conv_h, conv_w; /* output map before pooling */
    int32_t out_h, out_w, out_c;  /* after pooling (1 x 1 x F with global pooling) */
    int32_t kh, kw, stride_h, stride_w, pad_top, pad_left, padding_same;
    int32_t weight_bits;    /* 1..8; <= 4: two per byte, else one int8 per byte (docs/snn.md) */
    int32_t in_bits;        /* 8 for layer 0 (uint8 input), else the previous layer's act_bits */
    int32_t act_bits;       /* 1..4; 0 = activations disabled (the last layer: outputs potentials) */
    int32_t pool;           /* 0 none, 1 global sum pooling */
    int32_t frac_bits;      /* f: thresholds are in units of 2^-f potential */
    uint32_t off_w, n_w;    /* conv [kh][kw][cin][cout] / pointwise [cin][cout] / dense [in][out] */
    uint32_t off_dw, n_dw;  /* separable depthwise [kh][kw][cin]; 0, 0 otherwise */
    uint32_t off_th;        /* int32 T[out_c] then int32 S[out_c] (0 when act_bits == 0) */
} qsnn_snn_layer;

/* A validated model: pointers into the caller's image (which must outlive it). */
typedef struct {
    const unsigned char *image;
    size_t size;
    int num_layers;
    int in_h, in_w, in_c;
    int num_classes;
    float scale_min, scale_max; /* feature range of the uint8 input scaling (x - min) * 255 / (max - min) */
    float input_scale;          /* 255: the float model saw x / input_scale */
    const qsnn_snn_layer *layers;
    const char *labels[QSNN_SNN_MAX_CLASSES]; /* into the image */
} qsnn_snn_model;

/* Validate an image (magic, version, sizes, CRC-32 (qsnn_crc32), every record, shapes chained, offsets, weight
 * ranges, thresholds, int32 overflow bounds) and fill *m. `origin` names the image in messages (a file name). */
qsnn_status qsnn_snn_model_init(qsnn_snn_model *m, const void *image, size_t size, const char *origin);

/* The characters a class label may hold: ASCII letters, digits and "_.+-", 1..QSNN_SNN_LABEL_MAX-1 of them
 * (every Speech Commands word, _silence_, _unknown_). Nothing else, so that a label printed into C source, JSON,
 * a shell or a terminal needs no escaping to be harmless (writers escape anyway). The .snn validator, the .qsnn
 * loader and the dataset's wanted words all use this one rule. 1 when `s` is a valid label. */
#define QSNN_LABEL_CHARS "A-Z a-z 0-9 _ . + -"
int qsnn_label_valid(const char *s);

/* Weight i of a layer's main kernel (w) or depthwise kernel (dw), as an integer. */
int qsnn_snn_weight(const qsnn_snn_model *m, int layer, int depthwise, size_t i);
/* Number of non-zero weights of a layer (w and dw), for the summary's #Weights. */
size_t qsnn_snn_weight_nnz(const qsnn_snn_model *m, int layer);
/* Thresholds of neuron j (NULL pointers allowed). */
void qsnn_snn_threshold(const qsnn_snn_model *m, int layer, int j, int32_t *t, int32_t *s);

/* 4-bit packing, CMSIS-NN order: element 2i in the low nibble of byte i, element 2i+1 in the high nibble;
 * signed values are two's-complement nibbles (-8..7), activation levels unsigned (0..15). */
static inline int qsnn_snn_nibble_s4(const uint8_t *p, size_t i)
{
    int v = (p[i >> 1] >> ((i & 1) * 4)) & 15;
    return v >= 8 ? v - 16 : v;
}
static inline int qsnn_snn_nibble_u4(const uint8_t *p, size_t i) { return (p[i >> 1] >> ((i & 1) * 4)) & 15; }

/* ---- the .snn file ---- */

/* Write atomically (src/snn/snn_file.c, in libqsnn, not in the libc-only engine library: it writes through io). */
qsnn_status qsnn_snn_save(const char *path, const void *image, size_t size);
/* Read and validate (src/snn/snn_load.c, in the engine library libqsnn-snn: stdio only): *image is malloc'ed
 * (free() it after the model). Files over 64 MiB, folders and (on POSIX) FIFOs and devices are refused. */
qsnn_status qsnn_snn_load(const char *path, qsnn_snn_model *m, unsigned char **image);
/* (What a file is, .snn or another format: qsnn_file_kind_of, qsnn/io.h.) */

/* ---- inference ---- */

typedef enum { QSNN_SNN_DENSE = 0, QSNN_SNN_EVENT = 1, QSNN_SNN_REF = 2 } qsnn_snn_mode;

/* Statistics accumulated by qsnn_snn_run when given a non-NULL pointer (zero it first). Counts are sums over
 * `samples` runs; Akida's derived figures are computed by qsnn_snn_stats_layer. */
typedef struct {
    uint64_t samples;
    uint64_t in_nnz[QSNN_SNN_MAX_LAYERS];  /* non-zero input values (events) */
    uint64_t out_nnz[QSNN_SNN_MAX_LAYERS]; /* non-zero output levels (0 for a layer without activations) */
    uint64_t time_ns[QSNN_SNN_MAX_LAYERS]; /* wall time spent in the layer */
} qsnn_snn_stats;

/* Akida's per-layer statistics (docs/design.md s5.4): sparsities are fractions of zeros averaged over the
 * samples; ops = fan-out per event x average events per sample (borders and stride ignored): conv
 * kw*kh*F, separable kw*kh*(1+F), fully connected F. */
typedef struct {
    double in_sparsity, out_sparsity, ops, time_us; /* time_us: mean per sample */
    int has_input;                                  /* 0 for layer 0 (no input statistics, as Akida) */
} qsnn_snn_layer_stats;
void qsnn_snn_stats_layer(const qsnn_snn_model *m, const qsnn_snn_stats *st, int layer, qsnn_snn_layer_stats *out);
/* Fan-out per input event of a layer (see above). */
uint64_t qsnn_snn_ops_per_event(const qsnn_snn_layer *l);
void qsnn_snn_stats_merge(qsnn_snn_stats *dst, const qsnn_snn_stats *src, int num_layers);

/* Optional per-layer callback (NNoM style), called after each layer with its output: 4-bit packed levels
 * (count values, read with qsnn_snn_nibble_u4) for an activated layer, potentials (count values) for the last
 * one; the other pointer is NULL. */
typedef void (*qsnn_snn_layer_cb)(void *user, int layer, const uint8_t *packed_levels, const int32_t *potentials,
                                  size_t count);

typedef struct qsnn_snn_ctx qsnn_snn_ctx;

/* Bytes of caller memory an inference context needs for this model (all three modes). */
size_t qsnn_snn_mem_size(const qsnn_snn_model *m);
/* Bytes of that which hold activations and potentials (the rest: unpacked weights of the current layer). */
size_t qsnn_snn_act_mem_size(const qsnn_snn_model *m);
/* With at least this much memory, qsnn_snn_init unpacks every layer's weights once (int16, for the SIMD
 * kernels) and inference skips the per-clip unpacking: faster, at the cost of ~2 bytes per weight. */
size_t qsnn_snn_mem_size_cached(const qsnn_snn_model *m);
/* Place a context in mem[size] (size >= qsnn_snn_mem_size; >= qsnn_snn_mem_size_cached for the weight
 * cache). The model must outlive the context. */
qsnn_status qsnn_snn_init(qsnn_snn_ctx **ctx, const qsnn_snn_model *m, void *mem, size_t size);
void qsnn_snn_set_mode(qsnn_snn_ctx *ctx, qsnn_snn_mode mode);
void qsnn_snn_set_callback(qsnn_snn_ctx *ctx, qsnn_snn_layer_cb cb, void *user);

/* One clip: x[in_h * in_w * in_c] uint8. potentials[num_classes] (may be NULL) receives the last layer's
 * potentials, *pred (may be NULL) the class. stats (may be NULL) accumulates counters and timings. */
qsnn_status qsnn_snn_run(qsnn_snn_ctx *ctx, const uint8_t *x, int32_t *potentials, int32_t *pred,
                         qsnn_snn_stats *stats);
/* n clips, one after the other, in this context: x[n][in], potentials[n][num_classes] and pred[n] may be NULL. */
qsnn_status qsnn_snn_run_batch(qsnn_snn_ctx *ctx, const uint8_t *x, size_t n, int32_t *potentials, int32_t *pred,
                               qsnn_snn_stats *stats);

/* One clip on several cores (latency): nthreads workers (<= QSNN_SNN_MAX_THREADS), each on its own thread,
 * call qsnn_snn_run_mt(ctx, tid, x, ...) with tid = 0..nthreads-1 and the same x at the same time; they split
 * every pixel-pair layer's pixels and meet at a spinning barrier after each layer (so run them on distinct
 * cores). Results (potentials, pred) are written by tid 0 and equal qsnn_snn_run's. The context comes from
 * qsnn_snn_init_mt with qsnn_snn_mem_size_mt(m, nthreads) bytes (the cached layout plus each extra worker's
 * scratch). With a callback set, another mode than dense, or nthreads = 1, tid 0 runs qsnn_snn_run alone and
 * the others return at once. No statistics. The engine creates no threads: the caller owns them. */
#define QSNN_SNN_MAX_THREADS 8
size_t qsnn_snn_mem_size_mt(const qsnn_snn_model *m, int nthreads);
qsnn_status qsnn_snn_init_mt(qsnn_snn_ctx **ctx, const qsnn_snn_model *m, void *mem, size_t size, int nthreads);
qsnn_status qsnn_snn_run_mt(qsnn_snn_ctx *ctx, int tid, const uint8_t *x, int32_t *potentials, int32_t *pred);
/* One layer alone (for conversion checks): in = unpacked input levels (layer 0: the uint8 input) of
 * in_h*in_w*in_c values; writes levels[out count] (activated layer; may be NULL) and potentials[out count]
 * (may be NULL; for an activated layer the potentials it fired from, after pooling). Uses the context's mode. */
qsnn_status qsnn_snn_run_layer(qsnn_snn_ctx *ctx, int layer, const uint8_t *in, uint8_t *levels,
                               int32_t *potentials);

/* Argmax, lowest index on ties. */
int qsnn_snn_argmax_s32(const int32_t *v, int n);

#ifdef __cplusplus
}
#endif
#endif
