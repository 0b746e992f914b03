/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/model.h: model descriptions (architectures as data), float/quantized models and the model file.
 *
 * A model is a sequence of layers. Each layer is one weighted operation followed by optional parts, always in
 * this order (as in akida_models):  op -> [global average pooling] -> [batch norm] -> [activation]
 *   op = conv2d | depthwise | separable (depthwise KxK then pointwise 1x1, no rounding in between) | dense
 *   activation = ReLU6 in float training, the tutorial's quantized ReLU (ActivationDiscreteRelu) with act_bits
 *   when activations are quantized; a layer without activation outputs logits (the last one).
 * Shapes are NHWC (qsnn/tensor.h). Weights use the Keras layouts listed in qsnn/tensor.h.
 *
 * The architecture is described by a small JSON document (docs/model.md), for example
 *   {"name": "mobilenet_kws", "input": [49, 10, 1], "classes": 12, "layers": [
 *     {"name": "conv_0", "op": "conv2d", "filters": 32, "kernel": 5, "stride": 2, "weight_bits": 8,
 *      "batch_norm": true, "activation": true, "act_bits": 4}, ...]}
 */
#ifndef QSNN_MODEL_H
#define QSNN_MODEL_H

#include "qsnn/core.h"
#include "qsnn/frontend.h"
#include "qsnn/labels.h"
#include "qsnn/quant.h"
#include "qsnn/tensor.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_MAX_LAYERS 32
#define QSNN_NAME_MAX 32

typedef enum { QSNN_OP_CONV2D = 0, QSNN_OP_DEPTHWISE = 1, QSNN_OP_SEPARABLE = 2, QSNN_OP_DENSE = 3 } qsnn_op;
/* pool: QSNN_POOL_GLOBAL_AVG (akida_models' pooling, before BN). pool_after: QSNN_POOL_AVG or QSNN_POOL_MAX over
 * a window, a separate Keras/TFLite pooling layer after the activation (TF's 'same'/'valid' rules; an average
 * over a 'same' window divides by the taps inside the image, as TensorFlow). */
typedef enum { QSNN_POOL_NONE = 0, QSNN_POOL_GLOBAL_AVG = 1, QSNN_POOL_AVG = 2, QSNN_POOL_MAX = 3 } qsnn_pool;

typedef struct {
    char name[QSNN_NAME_MAX];
    qsnn_op op;
    int filters;            /* output channels (depthwise: ignored, equals input channels) */
    int kh, kw;             /* kernel size ("kernel": 5 or [10, 4]) */
    int stride_h, stride_w; /* "stride": 2 or [2, 2]; default 1 */
    int padding_same;       /* "padding": "same" (default) or "valid" */
    int use_bias;           /* default false */
    int weight_bits;        /* bits when weights are quantized: 2..8; 0 = always float */
    qsnn_pool pool;         /* "pool": "global_avg" */
    int batch_norm;         /* default true */
    int activation;         /* default true; false = raw outputs (logits) */
    int act_bits;           /* bits of the quantized ReLU when activations are quantized: 1..8, default 4 */
    int act_relu;           /* "activation": "relu": max(x, 0) without the cap at 6 (float inference; the
                             * trainer refuses it); "relu6" or true: ReLU6; "none" or false: no activation */
    qsnn_pool pool_after;   /* "pool_after": "avg" / "max" (float inference; the trainer refuses it) */
    int pool_kh, pool_kw;   /* "pool_size": n or [h, w] */
    int pool_sh, pool_sw;   /* "pool_stride": default the pool size */
    int pool_same;          /* "pool_padding": "valid" (default) or "same" */
    /* derived by qsnn_arch_validate: */
    qsnn_shape in, out;     /* per-sample shapes; out is after pooling (and pool_after) */
    qsnn_shape act;         /* the activation's output, before pool_after (== out without it) */
} qsnn_layer_desc;

typedef struct {
    char name[64];
    qsnn_shape input; /* 49 x 10 x 1 */
    int num_classes;
    int num_layers;
    qsnn_layer_desc layers[QSNN_MAX_LAYERS];
    /* "features": the front end and input kind the model expects (qsnn/frontend.h); absent in the JSON = the
     * tf-audio-ops defaults with uint8 input. A zeroed struct (sample_rate 0) is taken as those defaults by
     * qsnn_arch_validate. */
    qsnn_frontend_params features;
} qsnn_arch;

/* Parse and validate a JSON description. `origin` names the source in error messages ("my_model.json").
 * Errors name the layer and the field ("layer 3 'separable_3': kernel must be 1..15"). */
qsnn_status qsnn_arch_from_json(qsnn_arch *out, const char *json, const char *origin);
/* JSON text of an architecture (malloc'ed, caller frees). */
qsnn_status qsnn_arch_to_json(const qsnn_arch *a, char **out);
/* Built-in architectures: "mobilenet_kws" (the tutorial's) and "ds_cnn" (MLPerf Tiny). */
qsnn_status qsnn_arch_builtin(qsnn_arch *out, const char *name);
/* A built-in name ("mobilenet_kws", "ds_cnn") or the path of a JSON description (a name ending in ".json" or
 * containing '/'): what `--arch` takes on the command line. */
qsnn_status qsnn_arch_load(qsnn_arch *out, const char *name_or_path);
/* Check consistency and compute every layer's shapes (out of the last layer must be 1x1xclasses). */
qsnn_status qsnn_arch_validate(qsnn_arch *a);
/* QSNN_OK when the trainer (and the converter) can handle the architecture; else QSNN_ERR_UNSUPPORTED naming the
 * layer and the float-inference-only part ("activation": "relu", pool_after) or the front end (training
 * computes the tf-audio-ops MFCC scaled to uint8). */
qsnn_status qsnn_arch_trainable(const qsnn_arch *a);
/* Total parameter count (Keras' count: weights, biases, BN gamma/beta/mean/var); *trainable excludes the BN
 * moving statistics. mobilenet_kws: 24,576 total, 23,872 trainable. */
size_t qsnn_arch_param_count(const qsnn_arch *a, size_t *trainable);

/* Views into the one parameter allocation of a model. NULL where a layer has no such part.
 * Sizes: conv2d w [kh*kw*cin*cout]; depthwise dw [kh*kw*c]; separable dw [kh*kw*cin] and pw [cin*cout];
 * dense w [in*out] with in = h*w*c of the layer input. BN arrays have the layer's output channel count. */
typedef struct {
    float *w;      /* conv2d / dense kernel, or the separable pointwise kernel */
    float *dw;     /* depthwise kernel (depthwise and separable) */
    float *bias;
    float *gamma, *beta, *moving_mean, *moving_var;
    size_t n_w, n_dw, n_bias, n_bn;
} qsnn_layer_params;

/* Training episodes: 1 = float weights, ReLU6; 2 = float weights, quantized ReLU; 3 = quantized weights and
 * quantized ReLU. quant_acts / quant_weights record which quantizers the model was trained with. */
typedef struct {
    qsnn_arch arch;
    float *params;        /* one allocation: every layer's parameters, carved by a size table */
    size_t num_params;
    qsnn_layer_params lp[QSNN_MAX_LAYERS];
    int quant_acts;       /* forward uses the quantized ReLU */
    int quant_weights;    /* forward uses quantized weights */
    int episode;          /* last completed training episode (0 = untrained) */
    int num_labels;
    char labels[QSNN_MAX_LABELS][QSNN_LABEL_MAX];
    float scale_min, scale_max; /* training feature range of the uint8 input scaling */
    float bn_eps;         /* 1e-3 */
    uint32_t writer_version; /* loaded model: QSNN_VERSION_U32 of the qsnn that saved it (qsnn/version.h), 0 for
                                a version 1 file (qsnn 0.1.0); a model in memory: 0. Saving writes this build's */
} qsnn_model;

/* Allocate parameters for a validated arch; weights Keras glorot_uniform from `seed` (fans as Keras computes
 * them, docs/model.md), biases 0, BN gamma 1, beta 0, mean 0, var 1, bn_eps 1e-3, default labels. */
qsnn_status qsnn_model_init(qsnn_model *m, const qsnn_arch *a, uint64_t seed);
void qsnn_model_free(qsnn_model *m);
/* Model file: magic "QSNNMODL", version, arch JSON, labels, scaling, flags, parameters. Written atomically;
 * validated entirely before use. */
qsnn_status qsnn_model_save(const qsnn_model *m, const char *path);
qsnn_status qsnn_model_load(qsnn_model *m, const char *path);
#define QSNN_MODEL_MAGIC "QSNNMODL"

/* Inference of the float/quantized model (as trained: quantizers on per quant_acts/quant_weights, BN in
 * inference mode) on uint8 inputs x[n * h * w * c] (the model sees x / 255). Writes logits[n * classes] (may be
 * NULL) and pred[n] (argmax, lowest index on ties; may be NULL). Threads over the batch.
 * Evaluation runs in double precision (QSNN_PREC_F64): the same function as the float32 training graph, with
 * quantized weights k / delta, x / 255, sums, BN and the quantized ReLU all in double, so that it differs from the
 * exact integer engine (qsnn/snn.h) only at true ties (docs/training.md, "Evaluation precision"). */
qsnn_status qsnn_model_predict(const qsnn_model *m, const uint8_t *x, size_t n, float *logits, int32_t *pred);
/* The class of a row of logits, as the integer engine decides it: argmax, lowest index on ties, where two logits
 * within 1e-9 of the largest |logit| are a tie (equal in exact arithmetic: the double forward is exact to about
 * 1e-13, and the engine's integer potentials of two such classes are equal). Used by qsnn_model_predict. */
int qsnn_argmax_f64(const double *v, int n);

/* Per-layer activations of one sample (for conversion checks): acts[l] receives layer l's output
 * (after pooling/BN/activation), acts[l] sized qsnn_shape_count(arch.layers[l].out). Double precision, rounded
 * to float on output (quantized levels gamma * k are then exactly the float32 values gamma * k). */
qsnn_status qsnn_model_forward_trace(const qsnn_model *m, const uint8_t *x, float *const *acts);

/* QSNN_PREC_F64: the double-precision evaluation forward (default of the two functions above);
 * QSNN_PREC_F32: the float32 forward (BLAS kernels, the training graph's arithmetic), ~1.9x faster, kept for
 * comparison (tests/test_convert.c bounds the difference). */
typedef enum { QSNN_PREC_F64 = 0, QSNN_PREC_F32 = 1 } qsnn_precision;
qsnn_status qsnn_model_predict_prec(const qsnn_model *m, const uint8_t *x, size_t n, float *logits, int32_t *pred,
                                    qsnn_precision prec);
qsnn_status qsnn_model_forward_trace_prec(const qsnn_model *m, const uint8_t *x, float *const *acts,
                                          qsnn_precision prec);

/* Float/quantized model accuracy on n uint8 samples; confusion[k * k] (may be NULL, row = true label,
 * column = prediction) with k = arch.num_classes. */
qsnn_status qsnn_eval_float(const qsnn_model *m, const uint8_t *x, const int32_t *labels, size_t n,
                            double *accuracy, int64_t *confusion);

/* Keras-style summary table of the tutorial (Layer (type) / Output Shape / Param #, totals). */
void qsnn_model_print_summary(FILE *out, const qsnn_model *m);

#ifdef __cplusplus
}
#endif
#endif
