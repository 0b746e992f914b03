/* SPDX-License-Identifier: Apache-2.0 */
/* test_audio.c: audio file input/output (src/audio/wav.c).
 *
 * Bad input (missing, empty, truncated header, truncated data, random bytes, text, zero-length audio, a directory)
 * must give a QSNN_ERR_* whose message names the file; PCM16 must decode exactly as TensorFlow's DecodeWav
 * (x / 32768); other formats, channel counts and rates are converted; crop/pad and write/read round trips are exact.
 * Every input is generated here with libsndfile into a private directory under /tmp.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qsnn/audio.h"
#include "qsnn/core.h"

#define QSNN_PI 3.14159265358979323846

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_audio.%ld", (long)getpid());
    mkdir(g_dir, 0700);
    qsnn_log_set_level(QSNN_LOG_WARN); /* resampling notices are expected here */
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write interleaved shorts/ints/floats/doubles with libsndfile in any format. */
static void write_sf(const char *path, int format, int rate, int channels, const void *data, sf_count_t frames,
                     char kind)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    sf_count_t w = 0;
    switch (kind) {
    case 's': w = sf_writef_short(sf, data, frames); break;
    case 'i': w = sf_writef_int(sf, data, frames); break;
    case 'f': w = sf_writef_float(sf, data, frames); break;
    default: w = sf_writef_double(sf, data, frames); break;
    }
    assert_int_equal(w, frames);
    assert_int_equal(sf_close(sf), 0);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    *n = (size_t)sz;
    return b;
}

/* A valid 1000-sample PCM16 WAV to cut up. */
static const char *make_valid_wav(void)
{
    short s[1000];
    for (int i = 0; i < 1000; i++)
        s[i] = (short)(i * 13 - 6000);
    const char *p = tmp_path("valid.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, s, 1000, 's');
    return p;
}

static void expect_error(const char *path, qsnn_status want)
{
    float *x = (float *)0x1;
    size_t n = 123;
    qsnn_clear_error();
    qsnn_status st = qsnn_audio_read(path, &x, &n, NULL);
    if (st != want)
        fprintf(stderr, "%s: got status %d (%s), message '%s'\n", path, st, qsnn_status_str(st), qsnn_last_error());
    assert_int_equal(st, want);
    assert_null(x);
    assert_int_equal(n, 0);
    assert_non_null(strstr(qsnn_last_error(), path));
    /* read_clip reports the same way and leaves no garbage to free */
    float clip[16];
    qsnn_clear_error();
    assert_int_equal(qsnn_audio_read_clip(path, clip, 16), want);
    assert_non_null(strstr(qsnn_last_error(), path));
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char valid[512];
    snprintf(valid, sizeof valid, "%s", make_valid_wav());
    size_t n;
    unsigned char *b = slurp(valid, &n);
    assert_int_equal(n, 44 + 2000);

    expect_error(tmp_path("missing.wav"), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "No such file"));

    const char *empty = tmp_path("empty.wav");
    write_bytes(empty, "", 0);
    expect_error(empty, QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "empty"));

    const char *hdr = tmp_path("trunc_header.wav");
    write_bytes(hdr, b, 20);
    expect_error(hdr, QSNN_ERR_FORMAT);

    const char *data = tmp_path("trunc_data.wav");
    write_bytes(data, b, 44 + 1000);
    expect_error(data, QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "truncated"));

    unsigned char rnd[3000];
    qsnn_rng r;
    qsnn_rng_seed(&r, 7);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (unsigned char)qsnn_rng_below(&r, 256);
    const char *rb = tmp_path("random.wav");
    write_bytes(rb, rnd, sizeof rnd);
    expect_error(rb, QSNN_ERR_FORMAT);

    const char *txt = tmp_path("notes.txt");
    const char *text = "this is not audio, just some text\nwith two lines\n";
    write_bytes(txt, text, strlen(text));
    expect_error(txt, QSNN_ERR_FORMAT);

    const char *zero = tmp_path("zero.wav");
    write_sf(zero, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, NULL, 0, 's');
    expect_error(zero, QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "zero-length"));

    expect_error(g_dir, QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "directory"));

    /* streaming writers leave the data size at 0xFFFFFFFF: accepted, the file size decides */
    unsigned char *stream = malloc(n);
    assert_non_null(stream);
    memcpy(stream, b, n);
    assert_memory_equal(stream + 36, "data", 4);
    memset(stream + 40, 0xFF, 4);
    const char *ps = tmp_path("streaming.wav");
    write_bytes(ps, stream, n);
    float *y;
    size_t ny;
    if (qsnn_audio_read(ps, &y, &ny, NULL) == QSNN_OK) {
        assert_int_equal(ny, 1000);
        free(y);
    } else { /* libsndfile may refuse it itself; then it must still be a clean, named error */
        assert_non_null(strstr(qsnn_last_error(), ps));
    }
    /* one byte more than the file holds is already truncated */
    memcpy(stream, b, n);
    stream[40] = (unsigned char)(2001 & 0xff);
    stream[41] = (unsigned char)(2001 >> 8);
    const char *p1 = tmp_path("one_byte_short.wav");
    write_bytes(p1, stream, n);
    expect_error(p1, QSNN_ERR_FORMAT);
    free(stream);

    /* sample rates: 1000 Hz is the lowest accepted, 999 Hz is refused */
    short tone[100] = {0};
    const char *lo = tmp_path("rate999.wav");
    write_sf(lo, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 999, 1, tone, 100, 's');
    expect_error(lo, QSNN_ERR_UNSUPPORTED);
    const char *ok = tmp_path("rate1000.wav");
    write_sf(ok, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1000, 1, tone, 100, 's');
    assert_int_equal(qsnn_audio_read(ok, &y, &ny, NULL), QSNN_OK);
    assert_int_equal(ny, 1600);
    free(y);

    /* the uncut file still reads: the checks above are not over-eager */
    float *x;
    assert_int_equal(qsnn_audio_read(valid, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 1000);
    assert_true(x[999] == (float)(999 * 13 - 6000) / 32768.0f);
    free(x);
    free(b);
}

static void test_pcm16_scaling_exact(void **state)
{
    (void)state;
    short s[6] = {-32768, 16384, 0, 32767, -1, 1};
    const char *p = tmp_path("scale.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, s, 6, 's');
    float *x;
    size_t n;
    int rate = 0;
    assert_int_equal(qsnn_audio_read(p, &x, &n, &rate), QSNN_OK);
    assert_int_equal(n, 6);
    assert_int_equal(rate, 16000);
    assert_true(x[0] == -1.0f);
    assert_true(x[1] == 0.5f);
    assert_true(x[2] == 0.0f);
    assert_true(x[3] == 32767.0f / 32768.0f);
    assert_true(x[4] == -1.0f / 32768.0f);
    assert_true(x[5] == 1.0f / 32768.0f);
    free(x);

    /* FLAC (16-bit) decodes to the same exact values */
    const char *fl = tmp_path("scale.flac");
    write_sf(fl, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, s, 6, 's');
    assert_int_equal(qsnn_audio_read(fl, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 6);
    for (int i = 0; i < 6; i++)
        assert_true(x[i] == (float)s[i] / 32768.0f);
    free(x);
}

static void test_other_formats_converted(void **state)
{
    (void)state;
    float *x;
    size_t n;
    /* 8-bit unsigned: libsndfile maps short 16384 -> u8 192 -> 0.5 */
    short s8[3] = {16384, -32768, 0};
    const char *p8 = tmp_path("u8.wav");
    write_sf(p8, SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 16000, 1, s8, 3, 's');
    assert_int_equal(qsnn_audio_read(p8, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 3);
    assert_true(x[0] == 0.5f);
    assert_true(x[1] == -1.0f);
    assert_true(x[2] == 0.0f);
    free(x);

    /* 24-bit: int 0x40000000 -> 0x400000 -> 0.5; one 24-bit LSB -> 2^-23 */
    int i24[3] = {0x40000000, 1 << 8, -0x40000000};
    const char *p24 = tmp_path("s24.wav");
    write_sf(p24, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 1, i24, 3, 'i');
    assert_int_equal(qsnn_audio_read(p24, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 3);
    assert_true(x[0] == 0.5f);
    assert_true(x[1] == ldexpf(1.0f, -23));
    assert_true(x[2] == -0.5f);
    free(x);

    /* 32-bit float holding a NaN: refused, naming the file */
    float bad[3] = {0.25f, NAN, 0.0f};
    const char *pn = tmp_path("nan.wav");
    write_sf(pn, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, bad, 3, 'f');
    qsnn_clear_error();
    assert_int_equal(qsnn_audio_read(pn, &x, &n, NULL), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), pn));
    assert_non_null(strstr(qsnn_last_error(), "non-finite"));
    /* finite but absurd (1e30: its power spectrum overflows float and every feature is NaN): refused as well,
     * also through the clip reader and the stream */
    float huge[3] = {0.25f, 0.5f, 1e30f};
    write_sf(pn, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, huge, 3, 'f');
    assert_int_equal(qsnn_audio_read(pn, &x, &n, NULL), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "frame 2 is 1e+30"));
    float clip[16];
    assert_int_equal(qsnn_audio_read_clip(pn, clip, 16), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), pn));

    /* 32-bit float: stored values come back unchanged */
    float f[3] = {0.25f, -0.75f, 0.123456789f};
    const char *pf = tmp_path("float.wav");
    write_sf(pf, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, f, 3, 'f');
    assert_int_equal(qsnn_audio_read(pf, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++)
        assert_true(x[i] == f[i]);
    free(x);
}

static void test_stereo_mixdown(void **state)
{
    (void)state;
    short s[8] = {16384, 0, -32768, -32768, 100, -100, 32767, 32767};
    const char *p = tmp_path("stereo.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, s, 4, 's');
    float *x;
    size_t n;
    assert_int_equal(qsnn_audio_read(p, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, 4);
    assert_true(x[0] == 0.25f);
    assert_true(x[1] == -1.0f);
    assert_true(x[2] == 0.0f);
    assert_true(x[3] == 32767.0f / 32768.0f);
    free(x);
}

/* Frequency by the interpolated zero crossings of the middle half of x. */
static double tone_freq(const float *x, size_t n, double rate)
{
    size_t a = n / 4, b = 3 * n / 4;
    double first = -1, last = -1;
    int count = 0;
    for (size_t i = a; i + 1 < b; i++) {
        if (x[i] <= 0 && x[i + 1] > 0) {
            double t = (double)i + (double)x[i] / ((double)x[i] - (double)x[i + 1]);
            if (first < 0)
                first = t;
            else
                count++;
            last = t;
        }
    }
    assert_true(count > 10);
    return rate * count / (last - first);
}

static void check_resample(int rate, double seconds, double freq)
{
    size_t n = (size_t)(rate * seconds);
    double *d = malloc(n * sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = 0.5 * sin(2.0 * QSNN_PI * freq * (double)i / rate);
    char name[64];
    snprintf(name, sizeof name, "tone_%d.wav", rate);
    const char *p = tmp_path(name);
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 1, d, (sf_count_t)n, 'd');
    free(d);
    float *x;
    size_t m;
    int orig = 0;
    assert_int_equal(qsnn_audio_read(p, &x, &m, &orig), QSNN_OK);
    assert_int_equal(orig, rate);
    size_t want = (size_t)(((unsigned long long)n * 16000 + (unsigned long long)rate / 2) / (unsigned long long)rate);
    assert_int_equal(m, want);
    double f = tone_freq(x, m, 16000.0);
    if (fabs(f - freq) > 0.5)
        fprintf(stderr, "rate %d: tone %.3f Hz became %.3f Hz\n", rate, freq, f);
    assert_true(fabs(f - freq) <= 0.5);
    /* amplitude preserved in the middle (away from the filter's edges) */
    double peak = 0;
    for (size_t i = m / 4; i < 3 * m / 4; i++)
        peak = fmax(peak, fabs(x[i]));
    assert_true(fabs(peak - 0.5) < 0.01);
    /* and the phase: sample i of the output is the tone at time i / 16000 */
    double err = 0;
    for (size_t i = m / 4; i < 3 * m / 4; i++)
        err = fmax(err, fabs(x[i] - 0.5 * sin(2.0 * QSNN_PI * freq * (double)i / 16000.0)));
    assert_true(err < 0.01);
    free(x);
}

static void test_resampling(void **state)
{
    (void)state;
    check_resample(44100, 1.0, 1000.0);
    check_resample(8000, 1.0, 1000.0);
    check_resample(44100, 0.37, 440.0); /* a length that does not divide evenly */
    check_resample(22050, 0.5, 3000.0);
}

/* OGG/Vorbis (lossy) through the same reader, when this libsndfile was built with it. */
static void test_ogg_vorbis(void **state)
{
    (void)state;
    SF_INFO probe;
    memset(&probe, 0, sizeof probe);
    probe.samplerate = 16000;
    probe.channels = 1;
    probe.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    if (!sf_format_check(&probe)) {
        printf("  libsndfile without OGG/Vorbis: skipping\n");
        skip();
    }
    enum { N = 16000 };
    double *d = malloc(N * sizeof *d);
    assert_non_null(d);
    for (int i = 0; i < N; i++)
        d[i] = 0.5 * sin(2.0 * QSNN_PI * 700.0 * i / 16000.0);
    const char *p = tmp_path("tone.ogg");
    write_sf(p, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, d, N, 'd');
    free(d);
    float *x;
    size_t n;
    assert_int_equal(qsnn_audio_read(p, &x, &n, NULL), QSNN_OK);
    assert_int_equal(n, N);
    assert_true(fabs(tone_freq(x, n, 16000.0) - 700.0) < 0.5);
    free(x);
}

static void test_crop_and_pad(void **state)
{
    (void)state;
    enum { LONG = 20000, SHORT = 1000 };
    short *s = malloc(LONG * sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < LONG; i++)
        s[i] = (short)((i * 7919) % 65536 - 32768);
    const char *pl = tmp_path("long.wav");
    const char *ps = tmp_path("short.wav");
    write_sf(pl, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, s, LONG, 's');
    write_sf(ps, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, s, SHORT, 's');
    float *clip = malloc(QSNN_CLIP_SAMPLES * sizeof *clip);
    assert_non_null(clip);
    assert_int_equal(qsnn_audio_read_clip(pl, clip, QSNN_CLIP_SAMPLES), QSNN_OK);
    for (int i = 0; i < QSNN_CLIP_SAMPLES; i++)
        assert_true(clip[i] == (float)s[i] / 32768.0f);
    for (int i = 0; i < QSNN_CLIP_SAMPLES; i++)
        clip[i] = 42.0f;
    assert_int_equal(qsnn_audio_read_clip(ps, clip, QSNN_CLIP_SAMPLES), QSNN_OK);
    for (int i = 0; i < SHORT; i++)
        assert_true(clip[i] == (float)s[i] / 32768.0f);
    for (int i = SHORT; i < QSNN_CLIP_SAMPLES; i++)
        assert_true(clip[i] == 0.0f);
    free(clip);
    free(s);
}

static void test_write_read_roundtrip(void **state)
{
    (void)state;
    enum { N = 5000 };
    short s[N];
    float x[N];
    qsnn_rng r;
    qsnn_rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        s[i] = (short)((int)qsnn_rng_below(&r, 65536) - 32768);
        x[i] = (float)s[i] / 32768.0f;
    }
    s[0] = -32768;
    x[0] = -1.0f;
    s[1] = 32767;
    x[1] = 32767.0f / 32768.0f;
    const char *p = tmp_path("roundtrip.wav");
    assert_int_equal(qsnn_audio_write_wav16(p, x, N, 16000), QSNN_OK);
    /* no temporary file left behind */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* raw shorts and format are what we asked for */
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(p, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.samplerate, 16000);
    assert_int_equal(info.frames, N);
    short back[N];
    assert_int_equal(sf_readf_short(sf, back, N), N);
    sf_close(sf);
    assert_memory_equal(back, s, sizeof s);
    /* and through our reader the floats are bit-identical */
    float *y;
    size_t n;
    assert_int_equal(qsnn_audio_read(p, &y, &n, NULL), QSNN_OK);
    assert_int_equal(n, N);
    assert_memory_equal(y, x, sizeof x);
    free(y);
}

static void test_write_clips_and_rounds(void **state)
{
    (void)state;
    float x[8] = {1.5f, -2.0f, 1.0f, -1.0f, 0.49f / 32768.0f, 0.51f / 32768.0f, -1.51f / 32768.0f, NAN};
    short want[8] = {32767, -32768, 32767, -32768, 0, 1, -2, 0};
    const char *p = tmp_path("clip.wav");
    assert_int_equal(qsnn_audio_write_wav16(p, x, 8, 8000), QSNN_OK);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(p, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.samplerate, 8000);
    short back[8];
    assert_int_equal(sf_readf_short(sf, back, 8), 8);
    sf_close(sf);
    assert_memory_equal(back, want, sizeof want);

    /* overwriting replaces the file; a missing directory fails cleanly, naming the file */
    assert_int_equal(qsnn_audio_write_wav16(p, x, 3, 16000), QSNN_OK);
    float *y;
    size_t n;
    assert_int_equal(qsnn_audio_read(p, &y, &n, NULL), QSNN_OK);
    assert_int_equal(n, 3);
    free(y);
    const char *bad = tmp_path("no/such/dir/x.wav");
    qsnn_clear_error();
    assert_int_equal(qsnn_audio_write_wav16(bad, x, 3, 16000), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), bad));
    assert_int_equal(qsnn_audio_write_wav16(p, x, 3, 0), QSNN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_pcm16_scaling_exact),
        cmocka_unit_test(test_other_formats_converted),
        cmocka_unit_test(test_stereo_mixdown),
        cmocka_unit_test(test_resampling),
        cmocka_unit_test(test_ogg_vorbis),
        cmocka_unit_test(test_crop_and_pad),
        cmocka_unit_test(test_write_read_roundtrip),
        cmocka_unit_test(test_write_clips_and_rounds),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
