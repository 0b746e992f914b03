/* qsnn/qsnn.h: the whole public API. Include this, or the one module header you need. */
#ifndef QSNN_H
#define QSNN_H
#include "qsnn/core.h"
#include "qsnn/tensor.h"
#include "qsnn/io.h"
#include "qsnn/audio.h"
#include "qsnn/data.h"
#include "qsnn/model.h"
#endif
