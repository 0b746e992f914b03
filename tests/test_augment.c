/* SPDX-License-Identifier: Apache-2.0 */
/* test_augment.c: the training augmentations beyond TF's (qsnn_data_opts speed_pct, level_db, SpecAugment masks)
 * on real clips of ../shared/data/speech_commands_test_subset (skipped when it is absent):
 *  - all off: the augmented features are those of a dataset opened with the defaults, bit for bit;
 *  - SpecAugment: the student's features differ only in whole masked frames / coefficients, each set to the
 *    clip's mean; a teacher's front end (qsnn_dataset_features_fe with explicit parameters) hears the clip
 *    unmasked;
 *  - speed and level change the features, deterministically for a seed;
 *  - out-of-range options are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qsnn/qsnn.h"

#define N 8
enum { F = 49, C = 10, S = F * C }; /* the tutorial MFCC: 49 frames x 10 coefficients */

static char g_dir[4096];

static void feats(const qsnn_data_opts *o, uint64_t seed, const qsnn_frontend_params *fe, float *out)
{
    qsnn_dataset *ds = NULL;
    if (qsnn_dataset_open(&ds, g_dir, o) != QSNN_OK)
        fail_msg("open: %s", qsnn_last_error());
    size_t idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = (size_t)(i * 37 + 11); /* word clips, not silence */
    assert_int_equal(qsnn_dataset_features_fe(ds, QSNN_SPLIT_TEST, idx, N, 1, seed, fe, out), QSNN_OK);
    qsnn_dataset_free(ds);
}

static void test_augmentations(void **state)
{
    (void)state;
    const char *root = getenv("QSNN_SHARED_DATA") ? getenv("QSNN_SHARED_DATA") : QSNN_SHARED_DATA;
    snprintf(g_dir, sizeof g_dir, "%s/speech_commands_test_subset", root);
    struct stat sb;
    if (stat(g_dir, &sb) != 0) {
        print_message("skipped: %s not found\n", g_dir);
        skip();
    }
    static float base[N * S], x[N * S], y[N * S];
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    feats(&o, 7, NULL, base);
    /* SpecAugment: 2 time masks of up to 5 frames, 1 of up to 2 coefficients */
    qsnn_data_opts m = o;
    m.time_masks = 2, m.time_mask_max = 5, m.freq_masks = 1, m.freq_mask_max = 2;
    feats(&m, 7, NULL, x);
    int masked_frames = 0;
    for (int i = 0; i < N; i++) {
        const float *b = base + i * S, *a = x + i * S;
        float mean[C];
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int t = 0; t < F; t++)
                s += b[t * C + c];
            mean[c] = (float)(s / F);
        }
        int changed = 0;
        for (int t = 0; t < F; t++)
            for (int c = 0; c < C; c++)
                if (a[t * C + c] != b[t * C + c]) {
                    changed++;
                    /* a masked value is its coefficient's clip mean (frequency masks after time masks: the
                     * mean of the unmasked clip in both cases) */
                    if (fabsf(a[t * C + c] - mean[c]) > 1e-4f * (1 + fabsf(mean[c])))
                        fail_msg("clip %d frame %d coefficient %d: %g is neither the original %g nor the mean %g", i,
                                 t, c, a[t * C + c], b[t * C + c], mean[c]);
                }
        for (int t = 0; t < F; t++) {
            int all = 1;
            for (int c = 0; c < C; c++)
                all &= a[t * C + c] == mean[c];
            masked_frames += all;
        }
        assert_true(changed > 0 && changed <= 2 * 5 * C + 2 * F);
    }
    assert_true(masked_frames >= N); /* at least one whole frame per clip on average */
    /* a teacher's front end (explicit parameters) hears the clip unmasked */
    qsnn_frontend_params fe;
    qsnn_frontend_defaults(&fe, QSNN_FRONTEND_TF_AUDIO_OPS);
    feats(&m, 7, &fe, y);
    assert_memory_equal(y, base, sizeof base);
    /* speed and level: other features, the same for the same seed, and the teacher hears them too */
    qsnn_data_opts sl = o;
    sl.speed_pct = 10, sl.level_db = 6;
    feats(&sl, 7, NULL, x);
    assert_true(memcmp(x, base, sizeof base) != 0);
    feats(&sl, 7, &fe, y);
    assert_memory_equal(x, y, sizeof base);
    for (int i = 0; i < N * S; i++)
        assert_true(isfinite(x[i]));
    /* refused options */
    qsnn_dataset *ds = NULL;
    qsnn_data_opts bad = o;
    bad.speed_pct = 60;
    assert_int_equal(qsnn_dataset_open(&ds, g_dir, &bad), QSNN_ERR_ARG);
    bad = o;
    bad.time_masks = 2, bad.time_mask_max = 50;
    assert_int_equal(qsnn_dataset_open(&ds, g_dir, &bad), QSNN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_augmentations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
