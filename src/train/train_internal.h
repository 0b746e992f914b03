/* SPDX-License-Identifier: Apache-2.0 */
/* train_internal.h (private to src/train): checkpoint state, log and plot writers of the trainer loop. */
#ifndef QSNN_TRAIN_TRAIN_INTERNAL_H
#define QSNN_TRAIN_TRAIN_INTERNAL_H

#include "qsnn/train.h"

typedef struct {
    int ep_i;          /* index into opts.episodes of the episode in progress */
    int epoch;         /* next epoch (0-based) of that episode */
    double best_acc;   /* best validation accuracy of the episode so far (-1: none) */
    uint64_t opts_hash;
} qsnn_ckpt_state;

uint64_t qsnn_train_opts_hash(const qsnn_train_opts *o, size_t n_train);
/* <dir>/state.qsnnckpt: parameters, best parameters, Adam moments and step, position, history; atomic.
 * <dir>/model.qsnn: the current model (a usable model file, not needed to resume). */
qsnn_status qsnn_ckpt_save(const char *dir, qsnn_trainer *t, const qsnn_model *m, const float *best,
                           const qsnn_ckpt_state *cs, const qsnn_train_result *res);
/* Validates everything (magic, version, sizes, option hash == cs->opts_hash, checksum, the position against
 * o's episodes and epochs, the records, finite values) before touching m / t; QSNN_ERR_FORMAT (QSNN_ERR_ARG for
 * other options) naming the file and the field, ending with how to start over. */
qsnn_status qsnn_ckpt_load(const char *dir, const qsnn_train_opts *o, qsnn_trainer *t, qsnn_model *m, float *best,
                           qsnn_ckpt_state *cs, qsnn_train_result *res);
qsnn_status qsnn_train_write_log(const char *path, const qsnn_train_opts *o, const qsnn_train_result *res,
                                 const qsnn_model *m);
/* The curves as PNG or SVG (by path's extension); model_path (may be NULL) names the figure. */
qsnn_status qsnn_train_plot(const char *path, const char *model_path, const qsnn_train_result *res);

#endif
