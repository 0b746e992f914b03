/* SPDX-License-Identifier: Apache-2.0 */
/* split.c: the split names and TensorFlow's which_set (docs/design.md s2.2), and the dataset options'
 * defaults. */
#include "data/dataset_internal.h"

#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- splits and options */

const char *qsnn_split_name(qsnn_split s)
{
    switch (s) {
    case QSNN_SPLIT_TRAIN: return "train";
    case QSNN_SPLIT_VALIDATION: return "validation";
    case QSNN_SPLIT_TEST: return "test";
    default: return "?";
    }
}

int qsnn_split_parse(const char *name, qsnn_split *out)
{
    if (!name)
        return 0;
    if (!strcmp(name, "train") || !strcmp(name, "training")) {
        *out = QSNN_SPLIT_TRAIN;
        return 1;
    }
    if (!strcmp(name, "validation") || !strcmp(name, "val") || !strcmp(name, "valid")) {
        *out = QSNN_SPLIT_VALIDATION;
        return 1;
    }
    if (!strcmp(name, "test") || !strcmp(name, "testing")) {
        *out = QSNN_SPLIT_TEST;
        return 1;
    }
    return 0;
}

void qsnn_data_default_opts(qsnn_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->wanted_words = NULL;
    o->silence_pct = 10.0;
    o->unknown_pct = 10.0;
    o->validation_pct = 10.0;
    o->testing_pct = 10.0;
    o->time_shift_ms = 100.0;
    o->background_volume = 0.1;
    o->background_frequency = 0.8;
    o->seed = 59185;
}

/* ---------------------------------------------------------------- which_set */

uint32_t qsnn_which_set_hash(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* re.sub(r'_nohash_.*$', '', base): everything from the first "_nohash_" on is dropped */
    const char *cut = strstr(base, "_nohash_");
    size_t len = cut ? (size_t)(cut - base) : strlen(base);
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, len, (const uint8_t *)base);
    sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
    /* int(hexdigest, 16) is the digest read as a big-endian 160-bit number; mod 2^27 keeps its low 27 bits,
     * which are the low 27 bits of the last four bytes read big-endian. */
    uint32_t last = ((uint32_t)digest[16] << 24) | ((uint32_t)digest[17] << 16) | ((uint32_t)digest[18] << 8) |
                    (uint32_t)digest[19];
    return last & ((UINT32_C(1) << 27) - 1);
}

qsnn_split qsnn_which_set(const char *path, double val_pct, double test_pct)
{
    const double max_num_wavs = 134217727.0; /* 2^27 - 1 */
    double pct = (double)qsnn_which_set_hash(path) * (100.0 / max_num_wavs);
    if (pct < val_pct)
        return QSNN_SPLIT_VALIDATION;
    if (pct < test_pct + val_pct)
        return QSNN_SPLIT_TEST;
    return QSNN_SPLIT_TRAIN;
}
