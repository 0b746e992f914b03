/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/synth.h: a synthetic Speech Commands dataset made with Debian's speech synthesizers.
 *
 * qsnn_synth_run writes, under out_dir, the released Speech Commands layout so that every other command reads it
 * unchanged:
 *   <word>/<voice id>_nohash_<n>.wav    one second, 16 kHz, mono, PCM16; n = repetition of that word by that voice
 *   _background_noise_/<name>.wav        synthetic white, pink and brown noise (+ copies of real noise files)
 *   validation_list.txt, testing_list.txt   "<word>/<file>.wav" lines, sorted; every other clip is training
 *   synth_voices.txt                    one line per voice: id, split, engine, configuration
 *
 * Voices: a fixed table (qsnn_synth_voice_get) of espeak-ng English accents x voice variants and flite voices x
 * pitch settings. Each voice has a stable 8-hex-digit id that looks like a Speech Commands speaker id and is
 * chosen so that TensorFlow's which_set(id, 10, 10) gives that voice's split: the list files and which_set
 * agree, and a voice appears in exactly one split (about 80/10/10 of the voices).
 *
 * Determinism: every clip is a function of (seed, word, voice, n) only. Each clip is made in a process forked
 * from a synthesizer state that has never spoken (espeak-ng and flite keep state and use rand() between
 * utterances), so the bytes do not depend on the job count, on the order of work, or on which files already
 * existed. Existing clips and noise files are kept (resumable); the list files are rebuilt from the directory.
 *
 * Not thread-safe: one qsnn_synth_run at a time per process (the synthesizers are process-global).
 */
#ifndef QSNN_SYNTH_H
#define QSNN_SYNTH_H

#include "qsnn/core.h"
#include "qsnn/data.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tutorial's 10 keywords and the 25 other Speech Commands words (comma-separated). */
#define QSNN_SYNTH_KEYWORDS "down,go,left,no,off,on,right,stop,up,yes"
#define QSNN_SYNTH_OTHER_WORDS                                                                                   \
    "backward,bed,bird,cat,dog,eight,five,follow,forward,four,happy,house,learn,marvin,nine,one,seven,sheila,"   \
    "six,three,tree,two,visual,wow,zero"

typedef struct {
    const char *out_dir;       /* created if missing (with parents) */
    const char *words;         /* comma-separated words to speak; NULL = keywords + other words */
    const char *keywords;      /* which of them get per_word clips; NULL = QSNN_SYNTH_KEYWORDS */
    int per_word;              /* clips per keyword, default 150 */
    int unknown_per_word;      /* clips per other word, default 30 */
    int num_voices;            /* use the first N voices of the table; 0 = all */
    uint64_t seed;             /* default 1 */
    const char *noise_dir;     /* NULL or a folder of real noise recordings to add (any audio libsndfile reads) */
    double noise_seconds;      /* length of each synthetic noise file, default 60; 0 = no synthetic noise */
    int jobs;                  /* parallel processes; 0 = the number of online cores */
    const char *espeak_data;   /* espeak-ng data folder; NULL = espeak-ng's own default */
} qsnn_synth_opts;

void qsnn_synth_default_opts(qsnn_synth_opts *o);

typedef struct {
    size_t clips_written;       /* made by this run */
    size_t clips_kept;          /* already present, left untouched */
    size_t clips_failed;        /* 0 on success */
    size_t clips_split[QSNN_SPLIT_COUNT]; /* clips of the requested words in each split (made + kept) */
    int voices_split[QSNN_SPLIT_COUNT];   /* voices used in each split */
    size_t noise_written, noise_kept;
    double seconds;             /* wall time of the whole run */
    double clips_per_second;    /* clips_written / time spent making clips */
} qsnn_synth_summary;

/* Make (or complete) the dataset. Progress on stderr through qsnn_progress. Errors: QSNN_ERR_ARG (bad option,
 * bad word), QSNN_ERR_DEPENDENCY (a synthesizer or its data is missing: the message names the Debian package),
 * QSNN_ERR_IO (a file or folder could not be written, named), others from the clip workers (message of the first
 * failing clip). `sum` may be NULL. */
qsnn_status qsnn_synth_run(const qsnn_synth_opts *o, qsnn_synth_summary *sum);

typedef enum { QSNN_SYNTH_ESPEAK = 0, QSNN_SYNTH_FLITE = 1 } qsnn_synth_engine;

typedef struct {
    char id[9];                 /* 8 lowercase hex digits, the "speaker id" of the file names */
    qsnn_split split;           /* == qsnn_synth_which_set(id) */
    qsnn_synth_engine engine;
    char name[64];              /* espeak-ng voice name ("en-us+f3") or flite voice ("slt") */
    double pitch;               /* espeak: base pitch 0..100; flite: target mean F0 in Hz */
    double pitch_range;         /* espeak: pitch range 0..100; flite: F0 standard deviation in Hz */
    double rate;                /* espeak: words per minute; flite: duration stretch (1 = normal) */
} qsnn_synth_voice;

/* The number of voices in the table (at least 100). */
int qsnn_synth_num_voices(void);
/* Voice i of the table, 0 <= i < qsnn_synth_num_voices(); the table's order interleaves engines, accents and
 * splits so that its first N voices are a varied sample (every 10 consecutive voices: 8 train, 1 validation,
 * 1 test). Returns QSNN_ERR_RANGE for a bad index, QSNN_ERR_DEPENDENCY if SHA-1 is unavailable. */
qsnn_status qsnn_synth_voice_get(int i, qsnn_synth_voice *out);

/* qsnn_which_set(name, 10, 10) (qsnn/data.h) for speaker id `name` (the part before "_nohash_"):
 * pct = (int(sha1(name)) mod 2^27) * 100 / (2^27 - 1). */
qsnn_split qsnn_synth_which_set(const char *name);

/* Background noise. `out[n]` receives noise with a given colour and RMS `rms` in (0, 1), clipped to +-0.99, from
 * the stream `seed`. White: flat spectrum; pink: -3 dB/octave (Paul Kellett's filter); brown: -6 dB/octave (leaky
 * integrator, DC removed). */
typedef enum { QSNN_NOISE_WHITE = 0, QSNN_NOISE_PINK = 1, QSNN_NOISE_BROWN = 2 } qsnn_noise_color;
qsnn_status qsnn_noise_generate(float *out, size_t n, qsnn_noise_color color, double rms, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
