/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/data.h: Speech Commands datasets, TensorFlow's index building and augmentation, uint8 scaling, and the
 * versioned feature file.
 *
 * Layouts accepted by qsnn_dataset_open (detected automatically):
 *   - the released full dataset: one folder per word, _background_noise_/, validation_list.txt,
 *     testing_list.txt (every clip in neither list is training). Without the list files, clips are assigned
 *     with TensorFlow's which_set (SHA1 of the file name without _nohash_..., docs/design.md s2.2).
 *   - the released test set: 12 class folders including _silence_ and _unknown_; every clip is test data.
 *
 * Labels: 0 = _silence_, 1 = _unknown_, then the wanted words in alphabetical order (the tutorial's order).
 */
#ifndef QSNN_DATA_H
#define QSNN_DATA_H

#include "qsnn/core.h"
#include "qsnn/frontend.h"
#include "qsnn/labels.h"
#include "qsnn/mfcc_device.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The features of one clip: 49 frames x 10 MFCC coefficients (qsnn/audio.h defaults, one second at 16 kHz). */
#define QSNN_DATA_FRAMES 49
#define QSNN_DATA_COEFFS 10
#define QSNN_DATA_FEATURE_SIZE (QSNN_DATA_FRAMES * QSNN_DATA_COEFFS)

typedef enum { QSNN_SPLIT_TRAIN = 0, QSNN_SPLIT_VALIDATION = 1, QSNN_SPLIT_TEST = 2, QSNN_SPLIT_COUNT = 3 } qsnn_split;
const char *qsnn_split_name(qsnn_split s); /* "train", "validation", "test" */
/* Parses "train", "validation"/"val", "test"; returns 0 on an unknown name. */
int qsnn_split_parse(const char *name, qsnn_split *out);

/* TensorFlow's which_set hash: int(sha1(name without _nohash_...).hexdigest(), 16) % 2^27, where name is the
 * base name of `path`. */
uint32_t qsnn_which_set_hash(const char *path);
/* TensorFlow's which_set(path, val_pct, test_pct) (docs/design.md s2.2): pct = hash * 100 / (2^27 - 1);
 * validation below val_pct, test below val_pct + test_pct, else train. The synthetic voices' ids use it too. */
qsnn_split qsnn_which_set(const char *path, double val_pct, double test_pct);

typedef struct {
    const char *wanted_words;    /* comma-separated; NULL = down,go,left,no,off,on,right,stop,up,yes */
    double silence_pct;          /* 10: silence entries per split, % of the wanted-word clips */
    double unknown_pct;          /* 10 */
    double validation_pct;       /* 10, used only when the list files are missing */
    double testing_pct;          /* 10 */
    double time_shift_ms;        /* 100: training shift in [-T, T) */
    double background_volume;    /* 0.1 */
    double background_frequency; /* 0.8 */
    uint64_t seed;               /* index building and augmentation */
    /* further training augmentation (augment = 1 only; each 0 = off, the results then equal TF's): */
    double speed_pct;            /* speed perturbation: the clip resampled (libsamplerate) by a factor uniform in
                                  * [1 - p/100, 1 + p/100] (tempo and pitch together), centred, before the shift */
    double level_db;             /* foreground gain uniform in [-L, +L] dB, before the noise is added */
    int time_masks, time_mask_max; /* SpecAugment: masks of 1..max frames, each set to the clip's mean */
    int freq_masks, freq_mask_max; /* masks of 1..max coefficients, each set to its mean over the clip */
} qsnn_data_opts;

void qsnn_data_default_opts(qsnn_data_opts *o);

typedef struct qsnn_dataset qsnn_dataset;

/* Scan dir, build the index of the three splits, decode every clip once into memory (with progress). Clips that
 * cannot be decoded are skipped, counted and named in a warning. */
qsnn_status qsnn_dataset_open(qsnn_dataset **out, const char *dir, const qsnn_data_opts *opts);

#define QSNN_DATASET_MAX_DIRS 64
/* Several Speech Commands directories as one dataset (qsnn_dataset_open is the case num_dirs = 1). Each directory
 * keeps its own layout, split assignment (list files or which_set), silence/unknown quotas per split and its own
 * index (built and shuffled as if it were opened alone); the splits are the concatenation of the directories'
 * splits in the order given. Every directory needs a folder for each wanted word: a word missing in one
 * directory but present in another is an error naming both. Background noise is pooled: the recordings of all
 * directories (identical recordings once) serve the augmentation and the silence entries of every directory.
 * With num_dirs > 1 the sources are prefixed with their directory as given ("DIR/word/clip.wav"), so they stay
 * unique; silence entries remain "_silence_". */
qsnn_status qsnn_dataset_open_many(qsnn_dataset **out, const char *const *dirs, int num_dirs,
                                   const qsnn_data_opts *opts);
void qsnn_dataset_free(qsnn_dataset *ds);
int qsnn_dataset_num_labels(const qsnn_dataset *ds);
const char *qsnn_dataset_label_name(const qsnn_dataset *ds, int label);
size_t qsnn_dataset_count(const qsnn_dataset *ds, qsnn_split s);
int qsnn_dataset_label(const qsnn_dataset *ds, qsnn_split s, size_t i);
/* Path of the clip relative to the dataset dir (prefixed with its directory when several were opened), or
 * "_silence_" for generated silence entries. */
const char *qsnn_dataset_source(const qsnn_dataset *ds, qsnn_split s, size_t i);
size_t qsnn_dataset_num_skipped(const qsnn_dataset *ds);
/* The decoded audio of entry i of split s: QSNN_CLIP_SAMPLES int16 samples (cropped or zero-padded as TF's
 * DecodeWav), owned by the dataset; NULL for a generated silence entry (src/data/dataset_access.c). */
const int16_t *qsnn_dataset_clip_pcm(const qsnn_dataset *ds, qsnn_split s, size_t i);
/* The background-noise recordings (_background_noise_/, pooled over the directories): count, and recording k
 * as float samples in [-1, 1] (*len >= QSNN_CLIP_SAMPLES), owned by the dataset. */
int qsnn_dataset_num_noise(const qsnn_dataset *ds);
const float *qsnn_dataset_noise(const qsnn_dataset *ds, int k, size_t *len);

/* MFCC features of entries idx[0..count) of split s into out[count * 49 * 10] (frame-major per sample).
 * augment = 1: training augmentation (time shift, background noise w.p. background_frequency); silence entries
 * are always background noise at volume U(0, 1). All randomness of entry k comes from the stream
 * (seed, idx[k]) so the result does not depend on the thread count. Parallel inside (OpenMP).
 * augment = 0: clean features; `seed` is ignored and the silence entries' noise comes from the dataset's own
 * seed (qsnn_data_opts.seed), so every caller gets the same validation and test samples. */
qsnn_status qsnn_dataset_features(const qsnn_dataset *ds, qsnn_split s, const size_t *idx, size_t count,
                                  int augment, uint64_t seed, float *out);

/* The same with the features of a front end (qsnn/frontend.h; NULL = the default tf-audio-ops MFCC, exactly
 * qsnn_dataset_features): out[count * frames * coefficients]. The waveforms, and so the augmentation draws, are
 * those of qsnn_dataset_features for the same (split, entry, augment, seed): a teacher with its own front end
 * sees the same augmented clip as the student. SpecAugment (qsnn_data_opts) applies only with fe == NULL:
 * a teacher hears the clip unmasked. */
qsnn_status qsnn_dataset_features_fe(const qsnn_dataset *ds, qsnn_split s, const size_t *idx, size_t count,
                                     int augment, uint64_t seed, const qsnn_frontend_params *fe, float *out);

/* Clean (augment = 0) or augmented features of every entry of split s, in index order, into
 * out[count(s) * 490], in batches; `done` (may be NULL with prog) is advanced and prog updated per batch. */
qsnn_status qsnn_data_split_features(const qsnn_dataset *ds, qsnn_split s, int augment, uint64_t seed,
                                     float *out, qsnn_progress *prog, size_t *done);
/* The same with a front end's features (NULL = the default MFCC): out[count(s) * frames * coefficients]. */
qsnn_status qsnn_data_split_features_fe(const qsnn_dataset *ds, qsnn_split s, int augment, uint64_t seed,
                                        const qsnn_frontend_params *fe, float *out, qsnn_progress *prog,
                                        size_t *done);

/* The tutorial's uint8 scaling qsnn_features_to_u8: in qsnn/mfcc_device.h (libc-only, firmware builds it). */

/* A set of feature tensors with their labels, splits and sources: the content of a feature file. */
typedef struct {
    size_t n;            /* samples */
    int h, w;            /* 49, 10 (c = 1) */
    int num_labels;
    char labels[QSNN_MAX_LABELS][QSNN_LABEL_MAX];
    int is_u8;           /* 1: u8 holds the data; 0: f32 does */
    float *f32;          /* [n * h * w] or NULL */
    uint8_t *u8;         /* [n * h * w] or NULL */
    int32_t *label;      /* [n] */
    uint8_t *split;      /* [n] qsnn_split */
    char **source;       /* [n] clip path relative to the data dir, or "_silence_" */
    float scale_min, scale_max; /* the training range used for uint8 scaling */
} qsnn_featureset;

qsnn_status qsnn_featureset_save(const qsnn_featureset *fs, const char *path);
/* Validates the whole header (magic, version, sizes, overflow) before allocating. */
qsnn_status qsnn_featureset_load(qsnn_featureset *fs, const char *path);
void qsnn_featureset_free(qsnn_featureset *fs);

/* Evaluation data for one split, as uint8 scaled with [min, max] (normally the model's recorded training
 * range): `path` is a dataset directory (either layout; clean features, no augmentation) or a feature file.
 * The result holds only that split's samples, with is_u8 = 1. */
qsnn_status qsnn_data_load_split_u8(const char *path, qsnn_split s, float min, float max,
                                    const qsnn_data_opts *opts, qsnn_featureset *out);

/* What a model expects of its data: input h x w (frames x coefficients) and its class labels in order. */
typedef struct {
    const char *path; /* the model file, for messages */
    int in_h, in_w;
    int num_labels;
    const char *const *labels; /* NULL: the model records no names (only the count is compared) */
} qsnn_model_expect;

/* Index a dataset with a model's words: when labels are _silence_, _unknown_, w1..., sets o->wanted_words to
 * "w1,w2,..." written into buf[cap] (else leaves o alone), so that evaluating a model trained on other words
 * scores each clip against its own class. */
void qsnn_data_opts_words_of(qsnn_data_opts *o, char *buf, size_t cap, const char *const *labels, int num_labels);

/* The data fits the model: the same h x w (a 7x70 set has as many values as 49x10 but is not its input) and the
 * same label names in the same order (other words, or the same words in another order, would be scored against
 * the wrong classes). QSNN_ERR_SHAPE naming both files and the first mismatch otherwise. */
qsnn_status qsnn_featureset_check_model(const qsnn_featureset *fs, const char *data_path, const qsnn_model_expect *m);

/* map[i] = the index in to[n_to] of the name from[i] (a model's class order onto a dataset's), for
 * i < n_from; n_from must equal n_to. QSNN_ERR_ARG naming the first name missing from `to`. */
qsnn_status qsnn_labels_map(int *map, const char *const *from, int n_from, const char *const *to, int n_to);

/* Evaluation data for one split with a front end's features, as float (is_u8 = 0, f32 holds them): `path` is a
 * dataset directory (either layout; clean features). Feature files are refused (they hold tf-audio-ops MFCC). */
qsnn_status qsnn_data_load_split_fe(const char *path, qsnn_split s, const qsnn_frontend_params *fe,
                                    const qsnn_data_opts *opts, qsnn_featureset *out);

#ifdef __cplusplus
}
#endif
#endif
