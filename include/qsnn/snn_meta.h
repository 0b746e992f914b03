/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/snn_meta.h: the optional metadata block at the end of a .snn image (docs/snn.md, "Metadata block"): the
 * softmax scale of the potentials and the keyword detector's calibrated parameters. libc only (src/snn).
 *
 * The block sits right after the last data section (4-byte aligned) and runs to the end of the file, inside the
 * total size and the CRC of the header. Files without it (every .snn written before the block existed) load as
 * before and report no metadata; a build that predates the block ignores it (it validates only the sections the
 * records point to). Layout, little-endian, block version 2 (48 bytes):
 *   0 magic "QSNNMETA" | 8 block version | 12 block size | 16 flags | 20 f32 logit_scale | 24 f32 threshold |
 *   28 u32 average_ms | 32 u32 suppress_ms | 36 f32 calibrated false accepts per hour | 40 f32 calibrated miss rate
 *   | 44 u32 writer version (QSNN_VERSION_U32 of the qsnn that converted the model, qsnn/version.h; 0 unknown).
 * Block version 1 (qsnn 0.1.0) is the same with 44 reserved and 0; it still loads. Builds of 0.1.0 read version 2
 * blocks too (they take the fields they know and never read 44). Later versions only append fields (a reader
 * takes the fields it knows and skips to the block's size). */
#ifndef QSNN_SNN_META_H
#define QSNN_SNN_META_H

#include "qsnn/snn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_SNN_META_MAGIC "QSNNMETA"
#define QSNN_SNN_META_VERSION 2
#define QSNN_SNN_META_SIZE 48

enum {
    QSNN_SNN_META_SCALE = 1u,   /* logit_scale is set */
    QSNN_SNN_META_DETECT = 2u,  /* threshold, average_ms, suppress_ms are set (calibrated) */
};

typedef struct {
    uint32_t flags;        /* QSNN_SNN_META_*; 0 when the image has no block */
    float logit_scale;     /* float logits = potentials * logit_scale (> 0, finite) */
    float threshold;       /* detector threshold, (0, 1] */
    uint32_t average_ms;   /* 1..100000 */
    uint32_t suppress_ms;  /* 0..3600000 */
    float calib_fa_per_hour, calib_miss_rate; /* what calibration measured (>= 0; miss rate <= 1); informational */
    uint32_t writer_version; /* QSNN_VERSION_U32 of the qsnn that converted the model; 0 = not recorded (block
                                version 1). Written as given: the converter sets it, a rewrite keeps it */
} qsnn_snn_meta;

/* The metadata of a validated model (qsnn_snn_model_init checked the block); meta->flags = 0 without one. */
void qsnn_snn_meta_get(const qsnn_snn_model *m, qsnn_snn_meta *meta);
/* Bytes of the model's image without its metadata block (where a block starts). */
size_t qsnn_snn_meta_offset(const qsnn_snn_model *m);
/* Write into dst[cap] the model's image with its metadata block replaced by `meta` (total size and CRC
 * updated); *size receives the new size, qsnn_snn_meta_offset(m) + QSNN_SNN_META_SIZE. dst must not overlap
 * the model's image. Errors: QSNN_ERR_ARG (cap too small, invalid field values). */
qsnn_status qsnn_snn_meta_write(const qsnn_snn_model *m, const qsnn_snn_meta *meta, void *dst, size_t cap,
                                size_t *size);
/* Check a block at image[off..size) (called by qsnn_snn_model_init with the end of the data sections). */
qsnn_status qsnn_snn_meta_check(const unsigned char *image, size_t size, size_t off, const char *origin);

#ifdef __cplusplus
}
#endif
#endif
