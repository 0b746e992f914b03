/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_checkpoint.c: the trainer's checkpoint loader (qsnn_ckpt_load) for a fixed tiny model (fuzz_ckpt_arch) and a
 * fixed run (3 episodes of 2 epochs). The option hash is taken from the input itself (bytes 40..47), so that the
 * fuzzer gets past that check to the checksum, the position, the records and the values. A checkpoint it accepts
 * must put the run at a position that exists, with finite parameters. Seeds: fuzz/corpus/checkpoint (made with
 * `FUZZ_WRITE_SEED=DIR ./fuzz_checkpoint`, which saves a real checkpoint of that model into DIR). */
#include "fuzz_common.h"
#include "qsnn/model.h"
#include "qsnn/train.h"

#include "train/train_internal.h"

#include <math.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *fuzz_ckpt_arch =
    "{\"name\": \"tiny\", \"input\": [4, 4, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"stride\": 2, \"weight_bits\": 8},"
    "{\"name\": \"d1\", \"op\": \"dense\", \"filters\": 3, \"weight_bits\": 4, \"batch_norm\": false,"
    " \"activation\": false}]}";

static qsnn_model g_m;
static qsnn_trainer *g_t;
static qsnn_train_opts g_o;
static char g_dir[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    qsnn_arch a;
    if (qsnn_arch_from_json(&a, fuzz_ckpt_arch, "fuzz") != QSNN_OK || qsnn_model_init(&g_m, &a, 1) != QSNN_OK ||
        qsnn_trainer_create(&g_t, &g_m, 4, 1) != QSNN_OK)
        abort();
    qsnn_train_default_opts(&g_o);
    g_o.epochs[0] = g_o.epochs[1] = g_o.epochs[2] = 2;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    const char *seed = getenv("FUZZ_WRITE_SEED");
    if (seed) { /* a real checkpoint after 3 epochs (episode index 1, next epoch 1) */
        static qsnn_train_result res;
        memset(&res, 0, sizeof res);
        res.num_records = 3;
        for (int i = 0; i < 3; i++)
            res.records[i] = (qsnn_epoch_record){i < 2 ? 1 : 2, i % 2 + 1, 1.0, 0.5, 0.5, 1e-3, 100.0, 1.0};
        qsnn_ckpt_state cs = {1, 1, 0.5, 0x1234567890abcdefull};
        float *best = malloc(g_m.num_params * sizeof *best);
        memcpy(best, g_m.params, g_m.num_params * sizeof *best);
        mkdir(seed, 0777);
        if (qsnn_ckpt_save(seed, g_t, &g_m, best, &cs, &res) != QSNN_OK)
            abort();
        free(best);
        exit(0);
    }
    const char *dir = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/qsnn_fuzz_ckpt_%ld", dir && dir[0] ? dir : "/tmp", (long)getpid());
    mkdir(g_dir, 0777);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[300];
    snprintf(path, sizeof path, "%s/state.qsnnckpt", g_dir);
    static uint8_t sealed[1 << 16];
    data = fuzz_reseal_tail(data, size, sealed, sizeof sealed);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    static float best[4096];
    static qsnn_train_result res;
    if (g_m.num_params > sizeof best / sizeof best[0])
        abort();
    qsnn_ckpt_state cs;
    memset(&cs, 0, sizeof cs);
    if (size >= 48)
        memcpy(&cs.opts_hash, data + 40, 8);
    if (qsnn_ckpt_load(g_dir, &g_o, g_t, &g_m, best, &cs, &res) != QSNN_OK)
        return 0;
    if (cs.ep_i < 0 || cs.ep_i >= g_o.num_episodes || cs.epoch < 0 || cs.epoch > g_o.epochs[cs.ep_i])
        abort();
    for (size_t i = 0; i < g_m.num_params; i++)
        if (!isfinite(g_m.params[i]) || !isfinite(best[i]))
            abort();
    return 0;
}
