/* SPDX-License-Identifier: Apache-2.0 */
/* dataset_access.c: read-only access to a dataset's decoded clips and background-noise recordings (qsnn/data.h),
 * for code outside src/data that builds its own signals from them (the streaming recordings of src/kws). */
#include "data/dataset_internal.h"

#include "qsnn/audio.h"

#include <stddef.h>

const int16_t *qsnn_dataset_clip_pcm(const qsnn_dataset *ds, qsnn_split s, size_t i)
{
    if ((int)s < 0 || s >= QSNN_SPLIT_COUNT || i >= ds->count[s] || ds->entries[s][i].clip < 0)
        return NULL;
    return ds->audio + (size_t)ds->entries[s][i].clip * QSNN_CLIP_SAMPLES;
}

int qsnn_dataset_num_noise(const qsnn_dataset *ds) { return ds->num_noise; }

const float *qsnn_dataset_noise(const qsnn_dataset *ds, int k, size_t *len)
{
    if (k < 0 || k >= ds->num_noise) {
        *len = 0;
        return NULL;
    }
    *len = ds->noise_len[k];
    return ds->noise[k];
}
