/* SPDX-License-Identifier: Apache-2.0 */
/* snn_limits.c: the .snn validator against geometry fields whose sizes wrap a 32-bit size_t and against labels
 * outside the label character set, on a copy of a valid model image (libc and the engine only).
 *
 * Run twice: on the host by tests/test_hostile.c (#include of this file), and for a Cortex-M4 (32-bit size_t)
 * in QEMU by tests/target/run_snn_limits.sh, where a 4096x4096x256 map is 2^32 elements = 0 in size_t: before
 * the checks, a 41 KB model like that was accepted with a 64-byte activation buffer.
 * snn_limits_run returns the number of cases that did not behave (0: all refused as expected, the intact image
 * accepted) and prints one line per failing case through `say`. */
#include "qsnn/snn.h"

#include <stdio.h>
#include <string.h>

typedef void (*snn_limits_say)(const char *line);

/* Recompute the image's CRC (offset 20, computed with the field zeroed). */
static void snn_limits_reseal(unsigned char *img, size_t n)
{
    unsigned char zero[4] = {0, 0, 0, 0};
    uint32_t crc = qsnn_crc32(0, img, 20);
    crc = qsnn_crc32(crc, zero, 4);
    crc = qsnn_crc32(crc, img + 24, n - 24);
    for (int i = 0; i < 4; i++)
        img[20 + i] = (unsigned char)(crc >> (8 * i));
}

static int snn_limits_case(const char *what, unsigned char *img, size_t n, const char *expect, snn_limits_say say)
{
    char line[400];
    qsnn_snn_model m;
    snn_limits_reseal(img, n);
    qsnn_status st = qsnn_snn_model_init(&m, img, n, "crafted.snn");
    int ok = expect ? st != QSNN_OK && strstr(qsnn_last_error(), expect) && strstr(qsnn_last_error(), "crafted.snn")
                    : st == QSNN_OK;
    if (!ok) {
        snprintf(line, sizeof line, "snn limits: %s: status %d, message '%s' (expected %s)\n", what, (int)st,
                 qsnn_last_error(), expect ? expect : "accepted");
        say(line);
    }
    return !ok;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A consistent two-layer image (what a crafted file can be): InputConvolutional 1x1 of an H x W x 1 input into F
 * channels, then a 1x1 convolution into 2 classes with global pooling; zero weights, valid thresholds. Every
 * dimension is in range; only the map H x W x F is large. Returns the image size (buf: SNN_LIMITS_BUF bytes). */
#define SNN_LIMITS_BUF 4096
static size_t snn_limits_build(unsigned char *buf, int H, int W, int F)
{
    memset(buf, 0, SNN_LIMITS_BUF);
    size_t rec = QSNN_SNN_HEADER_SIZE, labels = rec + 2 * QSNN_SNN_RECORD_SIZE, lsz = 4;
    size_t w0 = labels + lsz, th0 = (w0 + ((size_t)F + 1) / 2 + 3) & ~(size_t)3, w1 = th0 + 8 * (size_t)F;
    size_t total = (w1 + (size_t)F + 3) & ~(size_t)3; /* 2F 4-bit weights; sections end 4-byte aligned */
    memcpy(buf, QSNN_SNN_MAGIC, 8);
    put32(buf + 8, QSNN_SNN_VERSION);
    put32(buf + 12, QSNN_SNN_HEADER_SIZE);
    put32(buf + 16, (uint32_t)total);
    put32(buf + 24, 2);
    put32(buf + 28, QSNN_SNN_RECORD_SIZE);
    put32(buf + 32, (uint32_t)H);
    put32(buf + 36, (uint32_t)W);
    put32(buf + 40, 1);
    put32(buf + 44, 2);
    float f[3] = {0.0f, 1.0f, 255.0f};
    memcpy(buf + 48, f, sizeof f);
    put32(buf + 60, (uint32_t)lsz);
    qsnn_snn_layer l0, l1;
    memset(&l0, 0, sizeof l0);
    strcpy(l0.name, "big");
    l0.type = QSNN_SNN_INPUT_CONV;
    l0.in_h = l0.conv_h = l0.out_h = H, l0.in_w = l0.conv_w = l0.out_w = W, l0.in_c = 1, l0.out_c = F;
    l0.kh = l0.kw = l0.stride_h = l0.stride_w = 1;
    l0.weight_bits = 4, l0.in_bits = 8, l0.act_bits = 4;
    l0.off_w = (uint32_t)w0, l0.n_w = (uint32_t)F, l0.off_th = (uint32_t)th0;
    l1 = l0;
    strcpy(l1.name, "out");
    l1.type = QSNN_SNN_CONV;
    l1.in_c = F, l1.out_h = l1.out_w = 1, l1.out_c = 2, l1.pool = 1, l1.in_bits = 4, l1.act_bits = 0;
    l1.off_w = (uint32_t)w1, l1.n_w = 2 * (uint32_t)F, l1.off_th = 0;
    memcpy(buf + rec, &l0, sizeof l0);
    memcpy(buf + rec + QSNN_SNN_RECORD_SIZE, &l1, sizeof l1);
    memcpy(buf + labels, "a\0b\0", 4);
    for (int j = 0; j < F; j++) {
        put32(buf + th0 + 4 * (size_t)j, 1000);          /* T */
        put32(buf + th0 + 4 * ((size_t)F + j), 100);     /* S */
    }
    return total;
}

/* work: at least n bytes, 4-byte aligned; img: the intact image. */
static int snn_limits_run(const unsigned char *img, size_t n, unsigned char *work, snn_limits_say say)
{
    int bad = 0;
    qsnn_snn_model m;
    memcpy(work, img, n);
    if (qsnn_snn_model_init(&m, work, n, "intact.snn") != QSNN_OK) {
        say("snn limits: the intact image is refused\n");
        return 1;
    }
    size_t labels_at = QSNN_SNN_HEADER_SIZE + (size_t)m.num_layers * QSNN_SNN_RECORD_SIZE;
    static _Alignas(16) unsigned char big[SNN_LIMITS_BUF];
    /* a 4096 x 4096 x 256 map: 2^32 elements, 0 in a 32-bit size_t (the crafted 41 KB model of issue 16) */
    size_t bn = snn_limits_build(big, 4096, 4096, 256);
    bad += snn_limits_case("2^32-element map", big, bn, "output map 4096x4096x256 = 4294967296", say);
    /* just above the limit without any wrap, and at the limit (accepted: tens of MB of workspace) */
    bn = snn_limits_build(big, 4096, 4096, 2);
    bad += snn_limits_case("2^25-element map", big, bn, "above the engine's 16777216", say);
    bn = snn_limits_build(big, 4096, 2048, 1); /* the last layer's 4096 x 2048 x 2 map: at the limit */
    bad += snn_limits_case("2^24-element map", big, bn, NULL, say);
    if (qsnn_snn_model_init(&m, big, bn, "limit.snn") == QSNN_OK &&
        (qsnn_snn_act_mem_size(&m) < ((size_t)1 << 22) || qsnn_snn_mem_size(&m) < qsnn_snn_act_mem_size(&m))) {
        say("snn limits: workspace of the 2^24-element model smaller than its activations\n");
        bad++;
    }
    /* labels: a C comment end, an escape sequence, a quote, a space */
    static const char *const bad_labels[] = {"*/x", "\033[2J", "a\"b", "a b", "a/b"};
    for (size_t k = 0; k < sizeof bad_labels / sizeof bad_labels[0]; k++) {
        memcpy(work, img, n);
        size_t len = strlen((const char *)work + labels_at);
        if (strlen(bad_labels[k]) > len) {
            say("snn limits: first label too short for the case\n");
            return bad + 1;
        }
        memset(work + labels_at, 'z', len);
        memcpy(work + labels_at, bad_labels[k], strlen(bad_labels[k]));
        bad += snn_limits_case("label", work, n, "character outside", say);
    }
    /* a label of the set: accepted */
    memcpy(work, img, n);
    work[labels_at] = 'Q';
    bad += snn_limits_case("label of the set", work, n, NULL, say);
    return bad;
}

#if defined(SNN_LIMITS_MAIN)
#define KWS_MODEL_IMPLEMENTATION
#include "kws_model.h"

void board_puts(const char *s);

static _Alignas(16) unsigned char g_work[KWS_MODEL_SIZE];

int main(void)
{
    int bad = snn_limits_run(kws_model, KWS_MODEL_SIZE, g_work, board_puts);
    char line[120];
    snprintf(line, sizeof line, "snn limits: %u-bit size_t, %s\n", (unsigned)(sizeof(size_t) * 8),
             bad ? "FAILED" : "every crafted image refused as expected");
    board_puts(line);
    return bad ? 1 : 0;
}
#endif
