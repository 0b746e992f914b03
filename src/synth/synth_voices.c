/* SPDX-License-Identifier: Apache-2.0 */
/* synth_voices.c: the voice table of the synthetic dataset (the split of an id: data's qsnn_which_set).
 *
 * The table is data: espeak-ng English accents x voice variants, and flite voices x pitch settings. Its order is a
 * fixed shuffle (constant seed, never --seed) so that its first N voices are a varied sample; position p gets
 * the split validation when p % 10 == 4, test when p % 10 == 9, train otherwise. A voice's id is the first 8 hex
 * digits of SHA-1("qsnn-synth/<engine>/<name>/<salt>") for the smallest salt whose which_set() is the wanted split,
 * so ids look like Speech Commands speaker ids, are stable across runs and releases of this table that keep the
 * voice, and TensorFlow's hash-based split agrees with our list files. Ids are unique (checked while building). */
#include "synth/synth_internal.h"

#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>

static const char *const k_accents[] = {"en",         "en-us",          "en-029",     "en-gb-scotland",
                                        "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-us-nyc"};
/* Voice variants from espeak-ng-data/voices/!v that sound like people ("" = the accent's own voice). */
static const char *const k_variants[] = {"",      "m1",     "m2",     "m3",      "m4",      "m5",     "m6",
                                         "m7",    "f1",     "f2",     "f3",      "f4",      "f5",     "klatt",
                                         "klatt2", "klatt3", "Annie", "belinda", "grandpa", "linda",  "steph",
                                         "croak", "whisper"};
/* flite voices with their natural mean F0 (Hz); cmu_time_awb is left out: it only says the time. */
static const struct {
    const char *name;
    double f0;
} k_flite[] = {{"kal", 95.0}, {"kal16", 95.0}, {"awb", 120.0}, {"rms", 105.0}, {"slt", 175.0}};
static const double k_flite_pitch[] = {0.85, 1.0, 1.15, 1.3};

#define N_ACCENTS (sizeof k_accents / sizeof k_accents[0])
#define N_VARIANTS (sizeof k_variants / sizeof k_variants[0])
#define N_FLITE (sizeof k_flite / sizeof k_flite[0])
#define N_FLITE_PITCH (sizeof k_flite_pitch / sizeof k_flite_pitch[0])
#define N_VOICES (N_ACCENTS * N_VARIANTS + N_FLITE * N_FLITE_PITCH)

static qsnn_synth_voice g_voices[N_VOICES];
static int g_built;

uint64_t synth_hash_str(const char *s, uint64_t h)
{
    if (!h)
        h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

qsnn_split qsnn_synth_which_set(const char *name) { return qsnn_which_set(name, 10.0, 10.0); }

static void make_id(char id[9], const char *key, unsigned salt)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s/%u", key, salt);
    struct sha1_ctx c;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&c);
    sha1_update(&c, strlen(buf), (const uint8_t *)buf);
    sha1_digest(&c, sizeof d, d);
    for (int i = 0; i < 4; i++)
        snprintf(id + 2 * i, 3, "%02x", d[i]);
}

static void build_table(void)
{
    size_t k = 0;
    qsnn_rng r;
    /* Base settings of each voice come from a stream keyed by its name: the voice keeps them when the table
     * grows. */
    for (size_t a = 0; a < N_ACCENTS; a++)
        for (size_t v = 0; v < N_VARIANTS; v++) {
            qsnn_synth_voice *x = &g_voices[k++];
            memset(x, 0, sizeof *x);
            x->engine = QSNN_SYNTH_ESPEAK;
            snprintf(x->name, sizeof x->name, "%s%s%s", k_accents[a], k_variants[v][0] ? "+" : "",
                     k_variants[v]);
            qsnn_rng_seed(&r, synth_hash_str(x->name, 0));
            x->pitch = 35.0 + 30.0 * qsnn_rng_uniform(&r);
            x->pitch_range = 35.0 + 40.0 * qsnn_rng_uniform(&r);
            x->rate = 150.0 + 45.0 * qsnn_rng_uniform(&r);
        }
    for (size_t f = 0; f < N_FLITE; f++)
        for (size_t p = 0; p < N_FLITE_PITCH; p++) {
            qsnn_synth_voice *x = &g_voices[k++];
            memset(x, 0, sizeof *x);
            x->engine = QSNN_SYNTH_FLITE;
            snprintf(x->name, sizeof x->name, "%s", k_flite[f].name);
            char key[96];
            snprintf(key, sizeof key, "%.16s/%.2f", x->name, k_flite_pitch[p]);
            qsnn_rng_seed(&r, synth_hash_str(key, 0));
            x->pitch = k_flite[f].f0 * k_flite_pitch[p];
            x->pitch_range = x->pitch * (0.10 + 0.10 * qsnn_rng_uniform(&r));
            x->rate = 0.95 + 0.2 * qsnn_rng_uniform(&r);
        }
    /* Fixed interleaving shuffle. */
    size_t perm[N_VOICES];
    for (size_t i = 0; i < N_VOICES; i++)
        perm[i] = i;
    qsnn_rng_seed(&r, 0x5153594e5448ULL); /* "QSYNTH" */
    qsnn_rng_shuffle_size(&r, perm, N_VOICES);
    static qsnn_synth_voice tmp[N_VOICES];
    for (size_t i = 0; i < N_VOICES; i++)
        tmp[i] = g_voices[perm[i]];
    for (size_t p = 0; p < N_VOICES; p++) {
        qsnn_synth_voice *x = &tmp[p];
        qsnn_split want = p % 10 == 4 ? QSNN_SPLIT_VALIDATION : p % 10 == 9 ? QSNN_SPLIT_TEST : QSNN_SPLIT_TRAIN;
        char key[128];
        if (x->engine == QSNN_SYNTH_ESPEAK)
            snprintf(key, sizeof key, "qsnn-synth/espeak/%.63s", x->name);
        else
            snprintf(key, sizeof key, "qsnn-synth/flite/%.63s/%.0f", x->name, x->pitch);
        for (unsigned salt = 0;; salt++) {
            make_id(x->id, key, salt);
            if (qsnn_synth_which_set(x->id) != want)
                continue;
            int dup = 0;
            for (size_t q = 0; q < p && !dup; q++)
                dup = !strcmp(tmp[q].id, x->id);
            if (!dup)
                break;
        }
        x->split = want;
        g_voices[p] = *x;
    }
    g_built = 1;
}

int qsnn_synth_num_voices(void) { return (int)N_VOICES; }

qsnn_status qsnn_synth_voice_get(int i, qsnn_synth_voice *out)
{
    if (!out)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_synth_voice_get: NULL output");
    if (i < 0 || i >= (int)N_VOICES)
        return qsnn_fail(QSNN_ERR_RANGE, "synth voice %d out of range [0, %d)", i, (int)N_VOICES);
    if (!g_built)
        build_table();
    *out = g_voices[i];
    return QSNN_OK;
}
