/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/labels.h: the class labels every module agrees on (constants only, no code).
 *
 * Label 0 is _silence_, label 1 _unknown_, then the wanted words in alphabetical order (the tutorial's order).
 * A label name is at most QSNN_LABEL_MAX - 1 bytes; a model or a dataset has at most QSNN_MAX_LABELS classes.
 * Kept apart from qsnn/data.h so that the model (qsnn/model.h) can name its labels without the dataset API.
 */
#ifndef QSNN_LABELS_H
#define QSNN_LABELS_H

#define QSNN_MAX_LABELS 64
#define QSNN_LABEL_MAX 32 /* bytes of one label name, NUL included */
#define QSNN_LABEL_SILENCE 0
#define QSNN_LABEL_UNKNOWN 1

#endif
