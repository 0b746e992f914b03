/* SPDX-License-Identifier: Apache-2.0 */
/* dataset_internal.h: the in-memory Speech Commands dataset shared by src/data/dataset.c (index building),
 * dataset_files.c (folders, list files, decoding, noise), split.c (which_set),
 * src/data/augment.c (mixing, MFCC) and src/data/features.c (uint8 scaling, evaluation loading).
 * Not a public contract: tests include it (tests see src/) to check which_set and the augmentation draws.
 *
 * Invariants: every entry of a split refers to a decoded clip (clip >= 0, audio at clips + clip * 16000) or is a
 * generated silence entry (clip = -1); labels are in [0, num_labels); noise[k] has noise_len[k] >= 16000. */
#ifndef QSNN_DATA_DATASET_INTERNAL_H
#define QSNN_DATA_DATASET_INTERNAL_H

#include "qsnn/data.h"

#include <stdint.h>

typedef enum { QSNN_LAYOUT_FULL = 0, QSNN_LAYOUT_TEST = 1 } qsnn_layout;

typedef struct {
    int32_t clip;  /* index into the decoded clips, -1 for a generated silence entry */
    int32_t label;
} qsnn_data_entry;

struct qsnn_dataset {
    qsnn_data_opts opts;
    qsnn_layout layout;
    int num_labels;
    char labels[QSNN_MAX_LABELS][QSNN_LABEL_MAX];
    /* decoded clips: int16 PCM, QSNN_CLIP_SAMPLES each, cropped or zero-padded as TF's DecodeWav does */
    size_t num_clips, cap_clips;
    int16_t *audio;        /* [num_clips * 16000] */
    char **clip_path;      /* [num_clips] relative to the dataset dir */
    qsnn_data_entry *entries[QSNN_SPLIT_COUNT];
    size_t count[QSNN_SPLIT_COUNT];
    /* background noise recordings, whole files as float */
    int num_noise;
    float **noise;
    size_t *noise_len;
    size_t skipped;
};

/* The random choices made for one entry (what qsnn_dataset_mix drew), for tests and debugging. */
typedef struct {
    int shift;            /* samples; > 0 pads zeros at the front */
    int noise_index;      /* -1 when no noise was mixed in */
    size_t noise_offset;
    float noise_volume;   /* 0 when no noise */
    float fg_volume;      /* 1, or 0 for silence entries */
} qsnn_mix_info;

/* The augmented (or clean) waveform of entry i of split s into out[16000]: time shift, background noise,
 * clip to [-1, 1]. Randomness comes only from the stream (seed, s, i). info may be NULL. */
void qsnn_dataset_mix(const qsnn_dataset *ds, qsnn_split s, size_t i, int augment, uint64_t seed, float *out,
                      qsnn_mix_info *info);


/* ---- between dataset.c (index building) and dataset_files.c (directories, list files, decoding, noise) ---- */

#define QSNN_DATA_BACKGROUND_DIR "_background_noise_"

typedef struct {
    char *rel;   /* "word/file.wav" */
    int label;
    int split;
    int wanted;  /* 1: always in the index (wanted word, or any clip of the test layout); 0: unknown qsnn_candidate */
} qsnn_candidate;

typedef struct {
    char **v;
    size_t n, cap;
} qsnn_strvec;

typedef struct {
    qsnn_progress prog;
    size_t done;
} qsnn_decode_progress;

void qsnn_data_strvec_free(qsnn_strvec *s);
/* a + "/" + b, malloc'ed (NULL when out of memory). */
char *qsnn_data_join_path(const char *a, const char *b);
int qsnn_data_is_dir(const char *path);
/* The entries of a folder (sub-folders when want_dirs, else audio files), sorted bytewise. */
qsnn_status qsnn_data_list_dir(const char *path, int want_dirs, qsnn_strvec *out);
/* A list file (validation_list.txt, testing_list.txt) of dir; *present = 0 when it does not exist. */
qsnn_status qsnn_data_read_list(const char *dir, const char *name, qsnn_strvec *out, int *present);
int qsnn_data_list_has(const qsnn_strvec *l, const char *rel);
/* Decode the candidates cand[order[0..n)] of dir (relative paths prefixed with `prefix` in the dataset) and
 * append the clips that decode; ids[k] receives the clip index of order[k], or -1 when it was skipped. */
qsnn_status qsnn_data_decode_append(qsnn_dataset *ds, const char *dir, const char *prefix,
                                    const qsnn_candidate *cand, const size_t *order, size_t n, int32_t *ids,
                                    qsnn_decode_progress *dp);
/* The usable recordings of dir/_background_noise_ into the dataset's shared noise pool. */
qsnn_status qsnn_data_load_noise(qsnn_dataset *ds, const char *dir, int *added);

#endif
