/* SPDX-License-Identifier: Apache-2.0 */
/* trainer.c: the three-episode training loop (docs/design.md s3.7): episode 1 float (ReLU6), 2 quantized ReLU,
 * 3 quantized ReLU + quantized weights, each starting from the best-validation model of the previous one, with a
 * fresh Adam state (a new Keras compile). Per epoch: optional on-the-fly augmentation (the caller's augment
 * callback refills the training samples with seed f(seed, episode, epoch)), a shuffle from the stream
 * (seed, episode, epoch), steps of
 * Adam with the learning-rate schedule, validation accuracy, best-model bookkeeping, the JSON log, the PNG plot
 * and an atomic checkpoint.
 * Invariant for --resume: everything an epoch depends on is either derived from (seed, episode, epoch) or stored
 * in the checkpoint (parameters incl. BN moving statistics, Adam moments and step, best parameters and accuracy,
 * history), so a resumed run continues bit-exactly with one thread. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/train.h"

#include "qsnn/io.h"
#include "qsnn/plot.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void qsnn_train_default_opts(qsnn_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->num_episodes = 3;
    for (int i = 0; i < 3; i++) {
        o->episodes[i] = i + 1;
        o->epochs[i] = 16;
    }
    o->batch = 100;
    o->seed = 1;
    o->sched = QSNN_SCHED_COSINE;
    o->lr_max = 1e-3;
    o->lr_min = 1e-5;
    o->bn_batches = 10;
    o->kd_weight = 0.9f;
    o->kd_temperature = 2.0f;
}

/* BN re-estimation (opts.bn_batches): the moving statistics become the mean over nb training batches of the
 * batch statistics of the current weights, in training mode (each layer normalised with its batch's statistics,
 * as in training); the batches are the first ones of this epoch's order */
static qsnn_status bn_reestimate(qsnn_trainer *t, const uint8_t *train_x, const size_t *order, size_t n_train,
                                 size_t B, size_t S, int nb, uint8_t *xb)
{
    const size_t steps = (n_train + B - 1) / B;
    const size_t use = (size_t)nb < steps ? (size_t)nb : steps;
    for (size_t k = 0; k < use; k++) {
        size_t n = n_train - k * B < B ? n_train - k * B : B;
        if (n < B && k > 0) /* a short last batch would weigh as much as a full one */
            break;
        for (size_t i = 0; i < n; i++)
            memcpy(xb + i * S, train_x + order[k * B + i] * S, S);
        qsnn_status st = qsnn_trainer_bn_stats(t, xb, n, (float)k / (float)(k + 1));
        if (st != QSNN_OK)
            return st;
    }
    return QSNN_OK;
}

static uint64_t mix_seed(uint64_t seed, int episode, int epoch, uint64_t salt)
{
    qsnn_rng r;
    qsnn_rng_seed_stream(&r, seed ^ salt, (uint64_t)episode * 100003u + (uint64_t)epoch);
    return qsnn_rng_u64(&r);
}

uint64_t qsnn_train_opts_hash(const qsnn_train_opts *o, size_t n_train)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
    MIX(o->num_episodes);
    for (int i = 0; i < o->num_episodes; i++)
        MIX(o->episodes[i]), MIX(o->epochs[i]);
    MIX(o->batch), MIX(o->seed), MIX(o->sched), MIX(n_train);
    uint64_t a, b;
    memcpy(&a, &o->lr_max, 8);
    memcpy(&b, &o->lr_min, 8);
    MIX(a), MIX(b);
    MIX(o->bn_batches), MIX(o->aug_sets);
    uint32_t ka, kt;
    memcpy(&ka, &o->kd_weight, 4);
    memcpy(&kt, &o->kd_temperature, 4);
    MIX(ka), MIX(kt);
#undef MIX
    return h;
}

static qsnn_status save_episode_model(const qsnn_model *m, const char *out, int episode)
{
    if (!out)
        return QSNN_OK;
    char path[4096];
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (dot && (!slash || dot > slash))
        snprintf(path, sizeof path, "%.*s.ep%d%s", (int)(dot - out), out, episode, dot);
    else
        snprintf(path, sizeof path, "%s.ep%d", out, episode);
    return qsnn_model_save(m, path);
}

qsnn_status qsnn_train_run(qsnn_model *m, const qsnn_train_data *data, const qsnn_train_opts *o,
                           qsnn_train_result *res)
{
    if (!m || !data || !o || !res)
        return qsnn_fail(QSNN_ERR_ARG, "train: NULL argument");
    memset(res, 0, sizeof *res);
    if (o->num_episodes < 1 || o->num_episodes > 3 || o->batch < 1)
        return qsnn_fail(QSNN_ERR_ARG, "train: bad episodes or batch");
    for (int i = 0; i < o->num_episodes; i++)
        if (o->episodes[i] < 1 || o->episodes[i] > 3 || o->epochs[i] < 0 || o->epochs[i] > 100000)
            return qsnn_fail(QSNN_ERR_ARG, "train: episode %d / epochs %d out of range", o->episodes[i],
                             o->epochs[i]);
    const size_t S = qsnn_shape_count(m->arch.input);
    const size_t n_train = data->n_train;
    if (n_train == 0 || !data->train_labels || (!data->augment && !data->train_u8))
        return qsnn_fail(QSNN_ERR_ARG, "train: no training samples");
    if (o->resume && !o->ckpt_dir)
        return qsnn_fail(QSNN_ERR_ARG, "train: resume needs a checkpoint directory");
    qsnn_plot_format plot_fmt;
    if (o->plot_path && qsnn_plot_format_of(o->plot_path, &plot_fmt) != QSNN_OK)
        return QSNN_ERR_ARG; /* before the first epoch, not after it */
    if (o->ckpt_dir && mkdir(o->ckpt_dir, 0777) != 0) {
        struct stat sb;
        if (stat(o->ckpt_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return qsnn_fail(QSNN_ERR_IO, "%s: cannot create checkpoint directory", o->ckpt_dir);
    }

    qsnn_trainer *t = NULL;
    qsnn_status st = qsnn_trainer_create(&t, m, o->batch, o->threads);
    if (st != QSNN_OK)
        return st;
    const size_t np = m->num_params, B = (size_t)o->batch;
    float *best = malloc(np * sizeof *best);
    size_t *order = malloc(n_train * sizeof *order);
    uint8_t *xb = malloc(B * S);
    int32_t *yb = malloc(B * sizeof *yb);
    /* augmented training sets: one per epoch, or a cycle of aug_sets sets computed once (with their soft targets) */
    const size_t nsets = data->augment ? (o->aug_sets > 0 ? (size_t)o->aug_sets : 1) : 0;
    const size_t K = (size_t)m->arch.num_classes;
    const int kd = data->soft_targets != NULL;
    uint8_t *aug_u8 = nsets ? malloc(nsets * n_train * S) : NULL;
    float *soft = kd ? malloc(nsets * n_train * K * sizeof *soft) : NULL, *softb = kd ? malloc(B * K * sizeof *softb) : NULL;
    unsigned char *have = nsets ? calloc(nsets, 1) : NULL;
    if (data->augment && (!aug_u8 || !have)) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "train: out of memory for %zu augmented sets of %zu samples (--aug-sets)",
                       nsets, n_train);
        goto done;
    }
    if (kd && (!data->augment || !(o->kd_weight >= 0 && o->kd_weight <= 1) || !(o->kd_temperature > 0))) {
        st = qsnn_fail(QSNN_ERR_ARG, "train: distillation needs augmentation, a weight in [0, 1], a temperature > 0");
        goto done;
    }
    if (!best || !order || !xb || !yb || (data->augment && !aug_u8) || (kd && (!soft || !softb))) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "train: out of memory");
        goto done;
    }
    const uint8_t *train_x = data->augment ? aug_u8 : data->train_u8;
    const float *soft_x = soft;
    const int32_t *train_y = data->train_labels;

    qsnn_ckpt_state cs;
    memset(&cs, 0, sizeof cs);
    cs.opts_hash = qsnn_train_opts_hash(o, n_train);
    cs.best_acc = -1.0;
    memcpy(best, m->params, np * sizeof *best);
    if (o->resume) {
        st = qsnn_ckpt_load(o->ckpt_dir, o, t, m, best, &cs, res);
        if (st != QSNN_OK)
            goto done;
        qsnn_info("train: resuming from %s at episode %d epoch %d", o->ckpt_dir, o->episodes[cs.ep_i],
                  cs.epoch + 1);
    }
    const size_t steps_per_epoch = (n_train + B - 1) / B;
    size_t samples_left_total = 0;
    for (int i = cs.ep_i; i < o->num_episodes; i++)
        samples_left_total += (size_t)(o->epochs[i] - (i == cs.ep_i ? cs.epoch : 0)) * n_train;
    double rate_est = 0;
    int epochs_this_run = 0;
    for (; cs.ep_i < o->num_episodes; cs.ep_i++, cs.epoch = 0) {
        const int E = o->episodes[cs.ep_i];
        const int n_epochs = o->epochs[cs.ep_i];
        m->quant_acts = E >= 2;
        m->quant_weights = E >= 3;
        if (cs.epoch == 0) { /* fresh episode: new optimizer, best so far = nothing */
            qsnn_trainer_adam_reset(t);
            cs.best_acc = -1.0;
            memcpy(best, m->params, np * sizeof *best);
        }
        qsnn_sched sch = {o->sched, o->lr_max, o->lr_min, 4.0 * (double)n_train / (double)B,
                          (double)n_epochs * (double)steps_per_epoch};
        double ep_samples = 0, ep_time = 0;
        for (; cs.epoch < n_epochs; cs.epoch++) {
            const double t_epoch = qsnn_time_now();
            if (data->augment) { /* set k of the cycle (its seed depends on k only), or this epoch's own */
                const size_t k = o->aug_sets > 0 ? (size_t)cs.epoch % nsets : 0;
                const uint64_t aseed = o->aug_sets > 0 ? mix_seed(o->seed, 0, (int)k, 0xc5c5c5c5ULL)
                                                       : mix_seed(o->seed, E, cs.epoch, 0xa5a5a5a5ULL);
                uint8_t *ax = aug_u8 + k * n_train * S;
                float *sx = kd ? soft + k * n_train * K : NULL;
                if (!have[k] || o->aug_sets <= 0) {
                    st = data->augment(data->augment_ctx, aseed, ax);
                    if (st == QSNN_OK && kd)
                        st = data->soft_targets(data->augment_ctx, aseed, sx);
                    if (st != QSNN_OK)
                        goto done;
                    have[k] = 1;
                }
                train_x = ax;
                soft_x = sx;
            }
            qsnn_rng r;
            qsnn_rng_seed_stream(&r, mix_seed(o->seed, E, cs.epoch, 0x5eedULL), 1);
            for (size_t i = 0; i < n_train; i++)
                order[i] = i;
            qsnn_rng_shuffle_size(&r, order, n_train);
            char label[64];
            snprintf(label, sizeof label, "episode %d epoch %d/%d", E, cs.epoch + 1, n_epochs);
            qsnn_progress pr;
            if (!o->quiet)
                qsnn_progress_begin(&pr, label, "samples", n_train);
            double loss_sum = 0, lr = 0;
            size_t hits = 0, done_n = 0;
            const double t_train = qsnn_time_now();
            for (size_t s = 0; s < steps_per_epoch; s++) {
                size_t nb = n_train - s * B < B ? n_train - s * B : B;
                for (size_t k = 0; k < nb; k++) {
                    size_t j = order[s * B + k];
                    memcpy(xb + k * S, train_x + j * S, S);
                    yb[k] = train_y[j];
                    if (kd)
                        memcpy(softb + k * K, soft_x + j * K, K * sizeof *softb);
                }
                double loss;
                int correct;
                st = qsnn_trainer_forward_backward_kd(t, xb, yb, kd ? softb : NULL, o->kd_weight, o->kd_temperature,
                                                      nb, &loss, &correct);
                if (st != QSNN_OK)
                    goto done;
                lr = qsnn_sched_lr(&sch, (double)(cs.epoch * steps_per_epoch + s));
                qsnn_trainer_adam_step(t, (float)lr, NULL);
                loss_sum += loss * (double)nb;
                hits += (size_t)correct;
                done_n += nb;
                if (!o->quiet) {
                    double el = qsnn_time_now() - t_train;
                    double rate = el > 0 ? (double)done_n / el : 0;
                    double r_all = rate_est > 0 ? rate_est : rate;
                    char left[32], extra[160];
                    qsnn_format_duration(left, sizeof left,
                                         r_all > 0 ? (double)(samples_left_total - done_n) / r_all : 0);
                    snprintf(extra, sizeof extra, "loss %.4f acc %.4f lr %.2e  %.0f samples/s  run left %s",
                             loss_sum / (double)done_n, (double)hits / (double)done_n, lr, rate, left);
                    qsnn_progress_update(&pr, done_n, extra);
                }
            }
            if (o->bn_batches > 0 && (st = bn_reestimate(t, train_x, order, n_train, B, S, o->bn_batches, xb)) != QSNN_OK)
                goto done;
            const double train_secs = qsnn_time_now() - t_train;
            double val_acc = -1.0;
            if (data->n_val) {
                st = qsnn_eval_float(m, data->val_u8, data->val_labels, data->n_val, &val_acc, NULL);
                if (st != QSNN_OK)
                    goto done;
            }
            double score = data->n_val ? val_acc : (double)cs.epoch; /* no validation: keep the last */
            if (score > cs.best_acc) {
                cs.best_acc = score;
                memcpy(best, m->params, np * sizeof *best);
            }
            const double sps = (double)n_train / train_secs;
            rate_est = rate_est > 0 ? 0.5 * (rate_est + sps) : sps;
            samples_left_total -= n_train;
            ep_samples += (double)n_train;
            ep_time += train_secs;
            if (res->num_records < sizeof res->records / sizeof res->records[0]) {
                qsnn_epoch_record *rec = &res->records[res->num_records++];
                rec->episode = E;
                rec->epoch = cs.epoch + 1;
                rec->loss = loss_sum / (double)n_train;
                rec->train_acc = (double)hits / (double)n_train;
                rec->val_acc = val_acc;
                rec->lr = lr;
                rec->samples_per_s = sps;
                rec->seconds = qsnn_time_now() - t_epoch;
            }
            if (!o->quiet) {
                char extra[160];
                snprintf(extra, sizeof extra, "loss %.4f acc %.4f val %.4f (best %.4f)  %.0f samples/s",
                         loss_sum / (double)n_train, (double)hits / (double)n_train, val_acc,
                         data->n_val ? cs.best_acc : val_acc, sps);
                qsnn_progress_end(&pr, n_train, extra);
            }
            if (o->log_path && (st = qsnn_train_write_log(o->log_path, o, res, m)) != QSNN_OK)
                goto done;
            if (o->plot_path && (st = qsnn_train_plot(o->plot_path, o->out_path, res)) != QSNN_OK)
                goto done;
            if (o->ckpt_dir) {
                qsnn_ckpt_state next = cs;
                next.epoch = cs.epoch + 1;
                if ((st = qsnn_ckpt_save(o->ckpt_dir, t, m, best, &next, res)) != QSNN_OK)
                    goto done;
            }
            epochs_this_run++;
            if (o->stop_after_epochs > 0 && epochs_this_run >= o->stop_after_epochs) {
                res->stopped_early = 1;
                st = QSNN_OK;
                goto done;
            }
        }
        /* end of episode: keep the best-validation model of this episode */
        memcpy(m->params, best, np * sizeof *best);
        m->episode = E;
        res->best_val_acc[cs.ep_i] = data->n_val ? cs.best_acc : -1.0;
        res->samples_per_s[cs.ep_i] = ep_time > 0 ? ep_samples / ep_time : 0;
        if ((st = save_episode_model(m, o->out_path, E)) != QSNN_OK)
            goto done;
    }
    if (o->out_path)
        st = qsnn_model_save(m, o->out_path);
done:
    free(best);
    free(order);
    free(xb);
    free(yb);
    free(aug_u8);
    free(have);
    free(soft);
    free(softb);
    qsnn_trainer_free(t);
    return st;
}
