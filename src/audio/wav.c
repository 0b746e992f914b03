/* SPDX-License-Identifier: Apache-2.0 */
/* wav.c: audio file input (libsndfile + libsamplerate) and atomic PCM16 WAV output.
 *
 * Reading follows TensorFlow's DecodeWav where it is defined: PCM16 samples are read as raw shorts and divided
 * by 32768 (exact in float), so -32768 -> -1.0 and 32767 -> 0.999969482. Other sample formats are converted by
 * libsndfile's normalised double reader (PCM_U8 -> (x-128)/128, PCM_24 -> x/2^23, float as stored). Channels are
 * averaged. Any rate other than 16 kHz is resampled with libsamplerate (sinc, medium quality) to exactly
 * round(n * 16000 / rate) samples, with a notice. Decoding and resampling run as a stream (qsnn_audio_stream_*),
 * one block at a time: a reader that wants the first second decodes about one second whatever the file declares,
 * and the stream's samples equal a whole-file resampling's bit for bit (libsamplerate's state carries over).
 *
 * Invariants: nothing read from the file is trusted (NaN/Inf samples and float samples beyond +-1000 are
 * rejected); only regular files are opened. Channels, rate and frame count are validated before any
 * allocation; a WAV whose data chunk claims more bytes than the file holds is reported as truncated (libsndfile
 * silently shortens it; TensorFlow refuses it); a short read is an error, never silent zeros. No function here
 * exits or aborts on bad input.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/audio.h"
#include "qsnn/io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CHANNELS 1024
#define MAX_FRAMES ((sf_count_t)1 << 28) /* ~4.6 h at 16 kHz: far beyond any clip or noise file */
#define MIN_RATE 1000
#define MAX_RATE 768000
#define BLOCK_FRAMES 4096

/* For RIFF/WAVE files only: walk the chunks and fail if the "data" chunk declares more bytes than the file
 * holds. Streaming writers put 0 or 0xFFFFFFFF there; those are accepted (libsndfile uses the file size). */
static qsnn_status check_wav_data_chunk(const char *path, FILE *fp, long long file_size)
{
    unsigned char h[12];
    if (fseek(fp, 0, SEEK_SET) != 0 || fread(h, 1, 12, fp) != 12)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated WAV header", path);
    if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        return QSNN_OK; /* RF64, W64, FLAC...: libsndfile's own checks apply */
    long long pos = 12;
    while (pos + 8 <= file_size) {
        unsigned char c[8];
        if (fseek(fp, (long)pos, SEEK_SET) != 0 || fread(c, 1, 8, fp) != 8)
            break;
        unsigned long long len = (unsigned long long)c[4] | ((unsigned long long)c[5] << 8) |
                                 ((unsigned long long)c[6] << 16) | ((unsigned long long)c[7] << 24);
        if (memcmp(c, "data", 4) == 0) {
            long long avail = file_size - (pos + 8);
            if (len != 0 && len != 0xFFFFFFFFull && (long long)len > avail)
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated: data chunk declares %llu bytes, file holds %lld",
                                 path, len, avail);
            return QSNN_OK;
        }
        pos += 8 + (long long)len + (long long)(len & 1);
    }
    return QSNN_OK; /* no data chunk found by this walk: libsndfile decides */
}

/* Open `path` for reading with clear errors for the cases libsndfile reports vaguely. */
static qsnn_status open_checked(const char *path, SNDFILE **sf, SF_INFO *info)
{
    *sf = NULL;
    struct stat stt;
    if (stat(path, &stt) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(stt.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: is a directory, not an audio file", path);
    FILE *fp;
    qsnn_status open_st = qsnn_open_regular(path, &fp); /* a FIFO named *.wav would block forever */
    if (open_st != QSNN_OK)
        return open_st;
    {
        if (stt.st_size == 0) {
            fclose(fp);
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: empty file (0 bytes)", path);
        }
        qsnn_status st = check_wav_data_chunk(path, fp, (long long)stt.st_size);
        if (st) {
            fclose(fp);
            return st;
        }
    }
    fclose(fp);
    memset(info, 0, sizeof *info);
    *sf = sf_open(path, SFM_READ, info);
    if (!*sf)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: not a readable audio file (libsndfile: %s)", path, sf_strerror(NULL));
    if (info->channels < 1 || info->channels > MAX_CHANNELS) {
        sf_close(*sf);
        *sf = NULL;
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: channels: %d is not in [1, %d]", path, info->channels, MAX_CHANNELS);
    }
    if (info->samplerate < MIN_RATE || info->samplerate > MAX_RATE) {
        sf_close(*sf);
        *sf = NULL;
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: sample rate: %d Hz is not in [%d, %d]", path, info->samplerate,
                         MIN_RATE, MAX_RATE);
    }
    if (info->frames <= 0) {
        sf_close(*sf);
        *sf = NULL;
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: no audio samples (zero-length audio)", path);
    }
    if (info->frames > MAX_FRAMES) {
        sf_close(*sf);
        *sf = NULL;
        return qsnn_fail(QSNN_ERR_RANGE, "%s: %lld frames is more than the %lld supported", path,
                         (long long)info->frames, (long long)MAX_FRAMES);
    }
    return QSNN_OK;
}

#define MAX_AMPLITUDE 1000.0 /* float samples beyond +-1000 (60 dB over full scale) are not audio */

/* The audio stream: decoding and resampling one block at a time, so that memory stays bounded whatever the file
 * declares and a reader that needs one second decodes about one second. */
struct qsnn_audio_stream {
    SNDFILE *sf;
    SF_INFO info;
    char path[4096];
    int pcm16;
    void *buf;                 /* one block of interleaved frames (shorts or doubles) */
    float in[BLOCK_FRAMES];    /* decoded mono block not yet consumed by the resampler */
    size_t in_len, in_pos;
    size_t decoded;            /* frames decoded so far */
    size_t out_done, out_total; /* 16 kHz samples delivered / in the whole file */
    SRC_STATE *src;            /* NULL at 16 kHz */
};

/* The next `count` frames (count <= BLOCK_FRAMES) into mono float: PCM16 through raw shorts (/32768), anything
 * else through doubles, channels averaged; a non-finite or absurd float sample is refused naming the frame. */
static qsnn_status decode_block(qsnn_audio_stream *s, float *mono, size_t count)
{
    const int ch = s->info.channels;
    const size_t total = (size_t)s->info.frames;
    size_t done = 0;
    while (done < count) {
        sf_count_t want = (sf_count_t)(count - done);
        sf_count_t got = s->pcm16 ? sf_readf_short(s->sf, s->buf, want) : sf_readf_double(s->sf, s->buf, want);
        if (got <= 0) {
            int err = sf_error(s->sf);
            if (err)
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: read error after %zu of %zu frames: %s", s->path,
                                 s->decoded + done, total, sf_strerror(s->sf));
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated: %zu of %zu frames present", s->path,
                             s->decoded + done, total);
        }
        for (sf_count_t f = 0; f < got; f++) {
            if (s->pcm16) {
                const short *p = (const short *)s->buf + f * ch;
                if (ch == 1) {
                    mono[done + (size_t)f] = (float)p[0] / 32768.0f;
                } else {
                    double acc = 0.0;
                    for (int c = 0; c < ch; c++)
                        acc += (double)p[c] / 32768.0;
                    mono[done + (size_t)f] = (float)(acc / ch);
                }
            } else {
                const double *d = (const double *)s->buf + f * ch;
                double acc = 0.0;
                for (int c = 0; c < ch; c++)
                    acc += d[c];
                acc /= ch;
                /* float files can hold NaN / Inf or 1e30: they would poison every feature (NaN MFCC) */
                if (!isfinite(acc) || fabs(acc) > MAX_AMPLITUDE)
                    return qsnn_fail(QSNN_ERR_FORMAT, "%s: sample at frame %zu is %g: non-finite or beyond +-%g "
                                                      "(full scale is +-1)", s->path, s->decoded + done + (size_t)f,
                                     acc, MAX_AMPLITUDE);
                mono[done + (size_t)f] = (float)acc;
            }
        }
        done += (size_t)got;
    }
    s->decoded += count;
    return QSNN_OK;
}

qsnn_status qsnn_audio_stream_open(qsnn_audio_stream **out, const char *path, int *orig_rate)
{
    *out = NULL;
    if (!path)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_stream_open: NULL path");
    if (strlen(path) >= sizeof((qsnn_audio_stream *)0)->path)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", path);
    qsnn_audio_stream *s = calloc(1, sizeof *s);
    if (!s)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    qsnn_status st = open_checked(path, &s->sf, &s->info);
    if (st) {
        free(s);
        return st;
    }
    const int ch = s->info.channels, rate = s->info.samplerate;
    s->pcm16 = (s->info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
    s->buf = malloc((size_t)BLOCK_FRAMES * (size_t)ch * (s->pcm16 ? sizeof(short) : sizeof(double)));
    size_t frames = (size_t)s->info.frames;
    s->out_total = rate == QSNN_SAMPLE_RATE
                       ? frames
                       : (size_t)(((unsigned long long)frames * QSNN_SAMPLE_RATE + (unsigned long long)rate / 2) /
                                  (unsigned long long)rate);
    int err = 0;
    if (rate != QSNN_SAMPLE_RATE)
        s->src = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err);
    if (!s->buf || (rate != QSNN_SAMPLE_RATE && !s->src)) {
        qsnn_audio_stream_close(s);
        return err ? qsnn_fail(QSNN_ERR_FORMAT, "%s: resampler: %s", path, src_strerror(err))
                   : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    }
    if (orig_rate)
        *orig_rate = rate;
    *out = s;
    return QSNN_OK;
}

qsnn_status qsnn_audio_resample(const float *x, size_t n, double ratio, qsnn_resample_quality q, size_t want,
                                float **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (!(ratio > 0) || ratio > 1e6)
        return qsnn_fail(QSNN_ERR_ARG, "resample: ratio %g out of range", ratio);
    /* libsamplerate may produce a few extra frames: room for them, then `want` (or what it made) is kept */
    size_t cap = (want ? want : (size_t)ceil((double)n * ratio)) + 64;
    float *y = calloc(cap, sizeof *y);
    if (!y)
        return qsnn_fail(QSNN_ERR_NOMEM, "resample: %zu samples", cap);
    if (ratio == 1.0 && !want) {
        memcpy(y, x, n * sizeof *y);
        *out = y;
        *out_n = n;
        return QSNN_OK;
    }
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = x;
    d.data_out = y;
    d.input_frames = (long)n;
    d.output_frames = (long)cap;
    d.src_ratio = ratio;
    d.end_of_input = 1;
    int err = src_simple(&d, q == QSNN_RESAMPLE_FASTEST ? SRC_SINC_FASTEST : SRC_SINC_MEDIUM_QUALITY, 1);
    if (err) {
        free(y);
        return qsnn_fail(QSNN_ERR_DEPENDENCY, "libsamplerate: %s", src_strerror(err));
    }
    /* frames beyond output_frames_gen are already zero (calloc) */
    *out = y;
    *out_n = want ? want : (size_t)d.output_frames_gen;
    return QSNN_OK;
}

size_t qsnn_audio_stream_length(const qsnn_audio_stream *s) { return s->out_total; }

qsnn_status qsnn_audio_stream_read(qsnn_audio_stream *s, float *x, size_t want, size_t *got)
{
    *got = 0;
    size_t left = s->out_total - s->out_done;
    if (want > left)
        want = left;
    const size_t total = (size_t)s->info.frames;
    while (*got < want) {
        if (!s->src) { /* 16 kHz: straight through */
            size_t k = want - *got < BLOCK_FRAMES ? want - *got : BLOCK_FRAMES;
            qsnn_status st = decode_block(s, x + *got, k);
            if (st)
                return st;
            *got += k;
            s->out_done += k;
            continue;
        }
        if (s->in_pos == s->in_len && s->decoded < total) {
            size_t k = total - s->decoded < BLOCK_FRAMES ? total - s->decoded : BLOCK_FRAMES;
            qsnn_status st = decode_block(s, s->in, k);
            if (st)
                return st;
            s->in_len = k;
            s->in_pos = 0;
        }
        SRC_DATA d;
        memset(&d, 0, sizeof d);
        d.data_in = s->in + s->in_pos;
        d.input_frames = (long)(s->in_len - s->in_pos);
        d.data_out = x + *got;
        d.output_frames = (long)(want - *got);
        d.src_ratio = (double)QSNN_SAMPLE_RATE / (double)s->info.samplerate;
        d.end_of_input = s->decoded == total;
        int err = src_process(s->src, &d);
        if (err)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: resampling from %d Hz failed: %s", s->path, s->info.samplerate,
                             src_strerror(err));
        s->in_pos += (size_t)d.input_frames_used;
        *got += (size_t)d.output_frames_gen;
        s->out_done += (size_t)d.output_frames_gen;
        if (d.end_of_input && d.input_frames_used == 0 && d.output_frames_gen == 0) {
            /* drained short of round(n * 16000 / rate): the rest is silence, as a whole-file resampling gives */
            size_t pad = want - *got;
            memset(x + *got, 0, pad * sizeof *x);
            *got += pad;
            s->out_done += pad;
        }
    }
    return QSNN_OK;
}

void qsnn_audio_stream_close(qsnn_audio_stream *s)
{
    if (!s)
        return;
    if (s->sf)
        sf_close(s->sf);
    if (s->src)
        src_delete(s->src);
    free(s->buf);
    free(s);
}

qsnn_status qsnn_audio_read_first(const char *path, size_t max_samples, float **samples, size_t *n, int *orig_rate)
{
    if (!path || !samples || !n)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_read: NULL argument");
    *samples = NULL;
    *n = 0;
    qsnn_audio_stream *s;
    int rate = 0;
    qsnn_status st = qsnn_audio_stream_open(&s, path, &rate);
    if (st)
        return st;
    size_t want = s->out_total < max_samples ? s->out_total : max_samples;
    float *x = malloc((want ? want : 1) * sizeof *x);
    if (!x) {
        qsnn_audio_stream_close(s);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory for %zu samples", path, want);
    }
    size_t got = 0;
    st = qsnn_audio_stream_read(s, x, want, &got);
    qsnn_audio_stream_close(s);
    if (st) {
        free(x);
        return st;
    }
    if (rate != QSNN_SAMPLE_RATE)
        qsnn_info("%s: resampled from %d Hz to %d Hz", path, rate, QSNN_SAMPLE_RATE);
    if (orig_rate)
        *orig_rate = rate;
    *samples = x;
    *n = got;
    return QSNN_OK;
}

qsnn_status qsnn_audio_read(const char *path, float **samples, size_t *n, int *orig_rate)
{
    return qsnn_audio_read_first(path, SIZE_MAX, samples, n, orig_rate);
}

qsnn_status qsnn_audio_read_clip(const char *path, float *out, size_t want)
{
    if (!out && want)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_read_clip: NULL output");
    qsnn_audio_stream *s;
    qsnn_status st = qsnn_audio_stream_open(&s, path, NULL);
    if (st)
        return st;
    size_t got = 0; /* only the frames the clip needs are decoded */
    st = qsnn_audio_stream_read(s, out, want, &got);
    qsnn_audio_stream_close(s);
    if (st)
        return st;
    for (size_t i = got; i < want; i++)
        out[i] = 0.0f;
    return QSNN_OK;
}

static short to_pcm16(float v)
{
    if (!(v == v))
        return 0; /* NaN */
    double s = rint((double)v * 32768.0);
    if (s > 32767.0)
        s = 32767.0;
    if (s < -32768.0)
        s = -32768.0;
    return (short)s;
}

qsnn_status qsnn_audio_write_wav16(const char *path, const float *x, size_t n, int rate)
{
    if (!path || (!x && n))
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_write_wav16: NULL argument");
    if (rate < 1 || rate > MAX_RATE)
        return qsnn_fail(QSNN_ERR_ARG, "%s: sample rate %d out of range", path, rate);
    if (n > (size_t)0x7FFFFFF0 / 2)
        return qsnn_fail(QSNN_ERR_RANGE, "%s: %zu samples do not fit in a WAV file", path, n);
    char tmp[4096 + 32];
    if (strlen(path) >= 4096)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 0);
    if (!sf) {
        qsnn_status st = qsnn_fail(QSNN_ERR_IO, "%s: cannot write WAV: %s", path, sf_strerror(NULL));
        close(fd);
        unlink(tmp);
        return st;
    }
    short buf[BLOCK_FRAMES];
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i += BLOCK_FRAMES) {
        size_t k = n - i < BLOCK_FRAMES ? n - i : BLOCK_FRAMES;
        for (size_t j = 0; j < k; j++)
            buf[j] = to_pcm16(x[i + j]);
        if (sf_writef_short(sf, buf, (sf_count_t)k) != (sf_count_t)k)
            bad = 1;
    }
    char sferr[256] = "";
    if (bad)
        snprintf(sferr, sizeof sferr, "%s", sf_strerror(sf));
    if (sf_close(sf) != 0 && !bad) {
        bad = 1;
        snprintf(sferr, sizeof sferr, "closing failed");
    }
    if (!bad && fsync(fd) != 0) {
        bad = 1;
        snprintf(sferr, sizeof sferr, "fsync: %s", strerror(errno));
    }
    if (close(fd) != 0 && !bad) {
        bad = 1;
        snprintf(sferr, sizeof sferr, "close: %s", strerror(errno));
    }
    if (bad) {
        unlink(tmp);
        return qsnn_fail(QSNN_ERR_IO, "%s: write failed: %s", path, sferr);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return QSNN_OK;
}
