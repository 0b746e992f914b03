/* SPDX-License-Identifier: Apache-2.0 */
/* train_log.c: the JSON training log (options, per-epoch records, per-episode summary), written atomically after
 * every epoch so it is readable while training runs. */
#include "qsnn/io.h"

#include "train/train_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

qsnn_status qsnn_train_write_log(const char *path, const qsnn_train_opts *o, const qsnn_train_result *res,
                                 const qsnn_model *m)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    cJSON_AddStringToObject(root, "arch", m->arch.name);
    cJSON *op = cJSON_AddObjectToObject(root, "options");
    cJSON *eps = cJSON_AddArrayToObject(op, "episodes");
    cJSON *epo = cJSON_AddArrayToObject(op, "epochs");
    for (int i = 0; i < o->num_episodes; i++) {
        cJSON_AddItemToArray(eps, cJSON_CreateNumber(o->episodes[i]));
        cJSON_AddItemToArray(epo, cJSON_CreateNumber(o->epochs[i]));
    }
    cJSON_AddNumberToObject(op, "batch", o->batch);
    cJSON_AddNumberToObject(op, "seed", (double)o->seed);
    cJSON_AddStringToObject(op, "schedule",
                            o->sched == QSNN_SCHED_CYCLIC ? "cyclic" : o->sched == QSNN_SCHED_COSINE ? "cosine" : "constant");
    cJSON_AddNumberToObject(op, "lr_max", o->lr_max);
    cJSON_AddNumberToObject(op, "lr_min", o->lr_min);
    cJSON_AddNumberToObject(op, "bn_batches", o->bn_batches);
    cJSON_AddNumberToObject(op, "aug_sets", o->aug_sets);
    cJSON_AddNumberToObject(op, "kd_weight", o->kd_weight);
    cJSON_AddNumberToObject(op, "kd_temperature", o->kd_temperature);
    cJSON *arr = cJSON_AddArrayToObject(root, "epochs");
    for (size_t i = 0; i < res->num_records; i++) {
        const qsnn_epoch_record *r = &res->records[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "episode", r->episode);
        cJSON_AddNumberToObject(e, "epoch", r->epoch);
        cJSON_AddNumberToObject(e, "loss", r->loss);
        cJSON_AddNumberToObject(e, "train_acc", r->train_acc);
        if (r->val_acc >= 0)
            cJSON_AddNumberToObject(e, "val_acc", r->val_acc);
        else
            cJSON_AddNullToObject(e, "val_acc");
        cJSON_AddNumberToObject(e, "lr", r->lr);
        cJSON_AddNumberToObject(e, "samples_per_s", r->samples_per_s);
        cJSON_AddNumberToObject(e, "seconds", r->seconds);
        cJSON_AddItemToArray(arr, e);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st == QSNN_OK) {
        st = qsnn_atomic_write(&f, txt, strlen(txt));
        if (st == QSNN_OK)
            st = qsnn_atomic_write(&f, "\n", 1);
        st = st == QSNN_OK ? qsnn_atomic_commit(&f) : (qsnn_atomic_abort(&f), st);
    }
    free(txt);
    return st;
}
