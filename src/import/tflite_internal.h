/* SPDX-License-Identifier: Apache-2.0 */
/* tflite_internal.h (private to libqsnn): the parts of a TFLite model the importer uses, as read by tflite_read.c, and
 * the builder (tflite.c) that turns them into a qsnn model. Positions of weight data and quantization vectors
 * point into the caller's buffer (g->fb), already checked to lie inside it. */
#ifndef QSNN_IMPORT_TFLITE_H
#define QSNN_IMPORT_TFLITE_H

#include "import/flatbuf_internal.h"

#define TFL_MAX_RANK 8
#define TFL_MAX_CODES 256
#define TFL_MAX_TENSORS 4096
#define TFL_MAX_OPS 256
#define TFL_MAX_IO 8
#define TFL_MAX_OP_IO 64 /* LSTM has 24 inputs: read them, so that the refusal names the operator */

/* BuiltinOperator values of schema.fbs */
enum {
    TFL_ADD = 0, TFL_AVERAGE_POOL_2D = 1, TFL_CONV_2D = 3, TFL_DEPTHWISE_CONV_2D = 4, TFL_DEQUANTIZE = 6,
    TFL_FULLY_CONNECTED = 9, TFL_MAX_POOL_2D = 17, TFL_RELU = 19, TFL_RELU6 = 21, TFL_RESHAPE = 22,
    TFL_SOFTMAX = 25, TFL_QUANTIZE = 114
};
/* TensorType */
enum { TFL_FLOAT32 = 0, TFL_FLOAT16 = 1, TFL_INT32 = 2, TFL_UINT8 = 3, TFL_INT64 = 4, TFL_INT16 = 7, TFL_INT8 = 9 };
/* ActivationFunctionType */
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU_N1_TO_1 = 2, TFL_ACT_RELU6 = 3 };
/* Padding */
enum { TFL_PAD_SAME = 0, TFL_PAD_VALID = 1 };

typedef struct {
    int32_t shape[TFL_MAX_RANK];
    int rank;
    uint8_t type;
    uint32_t buffer;        /* index into buffers (0 = no data) */
    char name[64];
    qsnn_fb_vec scale;      /* float32 scales (len 0 without quantization) */
    qsnn_fb_vec zero_point; /* int64 */
    int32_t qdim;           /* quantized_dimension */
} qsnn_tfl_tensor;

typedef struct {
    int32_t code;
    int32_t in[TFL_MAX_OP_IO], out[TFL_MAX_OP_IO]; /* tensor indices, -1 = absent optional input */
    int num_in, num_out;
    uint8_t padding, act, weights_format;
    int32_t stride_w, stride_h, dil_w, dil_h, depth_multiplier, filter_w, filter_h;
    float beta;
} qsnn_tfl_op;

typedef struct {
    qsnn_fb fb;
    uint32_t version;
    int num_codes;
    int32_t codes[TFL_MAX_CODES];
    int num_tensors, num_ops, num_buffers;
    qsnn_tfl_tensor *tensors;
    qsnn_tfl_op *ops;
    qsnn_fb_vec *buffers;   /* each buffer's data (len 0 = none) */
    int32_t inputs[TFL_MAX_IO], outputs[TFL_MAX_IO];
    int num_inputs, num_outputs;
} qsnn_tfl_model;

/* Read and check the flatbuffer (fb->buf stays owned by the caller and must outlive g). */
qsnn_status qsnn_tfl_read(qsnn_tfl_model *g, const qsnn_fb *fb);
void qsnn_tfl_free(qsnn_tfl_model *g);
/* "CONV_2D"..., or NULL for a code without a name here. */
const char *qsnn_tfl_op_name(int code);

#endif
