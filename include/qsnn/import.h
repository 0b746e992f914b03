/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/import.h: TensorFlow Lite models as qsnn float models (`qsnn import`, docs/import.md).
 *
 * The flatbuffer is untrusted input: every offset, vtable, vector length and tensor size is checked before it
 * is used, and errors (QSNN_ERR_FORMAT for a corrupt file, QSNN_ERR_UNSUPPORTED for a valid model qsnn cannot
 * run) name the file and the field or the operator and its index:
 *   m.tflite: subgraphs[0].tensors[7].shape: vector length runs past the end of the file (...)
 *   m.tflite: operator 3 (LSTM): not supported (CONV_2D, DEPTHWISE_CONV_2D, ...)
 *
 * Supported: one subgraph that is a chain (each operator consumes the previous one's output) of CONV_2D,
 * DEPTHWISE_CONV_2D (multiplier 1), AVERAGE_POOL_2D, MAX_POOL_2D, FULLY_CONNECTED, RESHAPE, SOFTMAX (last, beta
 * 1: qsnn models output logits) and ADD of a constant per-channel vector (a bias); fused NONE, RELU, RELU6;
 * SAME and VALID padding; float32 input; float32 weights, or int8/uint8 "dynamic range" weights with one scale
 * per tensor or per output channel (dequantized: w = scale * (q - zero_point)); float32 biases (int32 biases of
 * int8 models are not: a fully int8 model, int8 activations, is refused as such).
 * The result is a float model (no quantizers, no batch norm, episode 0) whose architecture follows the graph:
 * conv_<k> / dw_<k> / pw_<k> (1x1 convolution) / dense_<k> layers with biases, their fused activation, and
 * pooling as pool_after.
 */
#ifndef QSNN_IMPORT_H
#define QSNN_IMPORT_H

#include "qsnn/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* comma-separated class names in the model's output order ("down,go,...,_silence_,_unknown_"); NULL: the
     * tutorial's 12 labels for a 12-class model, else class_<i> */
    const char *labels;
    /* the features the model was trained on (TFLite files do not record them); NULL: tf-audio-ops defaults.
     * The input kind is forced to QSNN_INPUT_FLOAT (the TFLite input tensor holds the features). */
    const qsnn_frontend_params *features;
    const char *name; /* model name; NULL: "imported" */
} qsnn_import_opts;

/* Import a TFLite flatbuffer held in memory (buf[size], not modified, no alignment needed). `origin` names it
 * in messages. On success *m owns its parameters (qsnn_model_free). */
qsnn_status qsnn_import_tflite_mem(qsnn_model *m, const void *buf, size_t size, const char *origin,
                                   const qsnn_import_opts *opts);
/* The same from a file (at most 256 MiB). */
qsnn_status qsnn_import_tflite(qsnn_model *m, const char *path, const qsnn_import_opts *opts);

/* Parse "a,b,c" into labels[][QSNN_LABEL_MAX]: exactly `count` names, each 1..31 characters of A-Z a-z 0-9
 * _ . + -, no duplicates. */
qsnn_status qsnn_labels_parse(char labels[][QSNN_LABEL_MAX], int count, const char *csv);

#ifdef __cplusplus
}
#endif
#endif
