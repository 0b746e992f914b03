/* SPDX-License-Identifier: Apache-2.0 */
/* synth_internal.h: what the files of the synthetic dataset generator share (every .c file of src/synth).
 * Not a public header. */
#ifndef QSNN_SYNTH_SYNTH_INTERNAL_H
#define QSNN_SYNTH_SYNTH_INTERNAL_H

#include "qsnn/synth.h"

#include <stddef.h>
#include <stdint.h>

#define SYNTH_WORD_MAX 32 /* bytes of a word, NUL included */

/* 64-bit FNV-1a of a string: stable stream numbers for words and voice ids. */
uint64_t synth_hash_str(const char *s, uint64_t h);

/* ---- synthesizers (synth_engine.c) ---- */
/* Initialise espeak-ng (once per process; data folder checked first) and flite. Call in the parent, before any
 * fork; never synthesises, so that each forked clip starts from the same never-used state. */
qsnn_status synth_engines_init(const char *espeak_data);

/* Per-utterance settings, already varied by the caller. */
typedef struct {
    double rate_mul;  /* multiplies the voice's rate (espeak wpm) or divides its duration stretch (flite) */
    double pitch_mul; /* multiplies the voice's base pitch */
    double range_mul; /* multiplies the voice's pitch range */
    unsigned rand_seed; /* srand() before speaking: espeak-ng's Klatt voices and flite's clustergen use rand() */
} synth_utt;

/* Speak `word` with voice v: *out (malloc'ed, caller frees) receives float samples at *rate Hz. Meant for a
 * forked clip process (it changes the synthesizers' state). */
qsnn_status synth_speak(const qsnn_synth_voice *v, const char *word, const synth_utt *u, float **out, size_t *n,
                        int *rate);

/* ---- signal processing (synth_post.c) ---- */
/* (resampling: qsnn_audio_resample, qsnn/audio.h) */
/* Bounds [*b, *e) of the speech in x[n]: 5 ms frames louder than -35 dB below the loudest frame, widened by
 * `margin` samples each side (clamped). *e == *b when x is silent. */
void synth_trim_bounds(const float *x, size_t n, size_t margin, size_t *b, size_t *e);

/* One clip: speak, trim, fit into the second, reverberate, set the level, place, add a noise floor, write. */
qsnn_status synth_make_clip(const char *path, const qsnn_synth_voice *v, const char *word, int rep, uint64_t seed);

#endif
