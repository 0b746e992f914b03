/* wav.c: audio file input (libsndfile + libsamplerate) and atomic PCM16 WAV output.
 *
 * Reading follows TensorFlow's DecodeWav where it is defined: PCM16 samples are read as raw shorts and divided
 * by 32768 (exact in float), so -32768 -> -1.0 and 32767 -> 0.999969482. Other sample formats are converted by
 * libsndfile's normalised double reader (PCM_U8 -> (x-128)/128, PCM_24 -> x/2^23, float as stored). Channels are
 * averaged. Any rate other than 16 kHz is resampled with libsamplerate (sinc, medium quality) to exactly
 * round(n * 16000 / rate) samples, with a notice.
 *
 * Invariants: nothing read from the file is trusted (NaN/Inf samples of float files are rejected). Channels, rate and frame count are validated before any
 * allocation; a WAV whose data chunk claims more bytes than the file holds is reported as truncated (libsndfile
 * silently shortens it; TensorFlow refuses it); a short read is an error, never silent zeros. No function here
 * exits or aborts on bad input.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/audio.h"

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
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISREG(stt.st_mode)) {
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

/* Decode all frames into mono float: PCM16 through raw shorts (/32768), anything else through doubles. */
static qsnn_status decode_mono(const char *path, SNDFILE *sf, const SF_INFO *info, float *mono)
{
    const int ch = info->channels;
    const size_t total = (size_t)info->frames;
    const int pcm16 = (info->format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
    void *buf = malloc((size_t)BLOCK_FRAMES * (size_t)ch * (pcm16 ? sizeof(short) : sizeof(double)));
    if (!buf)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    size_t done = 0;
    while (done < total) {
        sf_count_t want = (sf_count_t)(total - done < BLOCK_FRAMES ? total - done : BLOCK_FRAMES);
        sf_count_t got = pcm16 ? sf_readf_short(sf, buf, want) : sf_readf_double(sf, buf, want);
        if (got <= 0) {
            int err = sf_error(sf);
            free(buf);
            if (err)
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: read error after %zu of %zu frames: %s", path, done, total,
                                 sf_strerror(sf));
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated: %zu of %zu frames present", path, done, total);
        }
        for (sf_count_t f = 0; f < got; f++) {
            if (pcm16) {
                const short *s = (const short *)buf + f * ch;
                if (ch == 1) {
                    mono[done + (size_t)f] = (float)s[0] / 32768.0f;
                } else {
                    double acc = 0.0;
                    for (int c = 0; c < ch; c++)
                        acc += (double)s[c] / 32768.0;
                    mono[done + (size_t)f] = (float)(acc / ch);
                }
            } else {
                const double *d = (const double *)buf + f * ch;
                double acc = 0.0;
                for (int c = 0; c < ch; c++)
                    acc += d[c];
                if (!isfinite(acc)) { /* float files can hold NaN / Inf: they would poison every feature */
                    free(buf);
                    return qsnn_fail(QSNN_ERR_FORMAT, "%s: non-finite sample at frame %zu", path,
                                     done + (size_t)f);
                }
                mono[done + (size_t)f] = (float)(acc / ch);
            }
        }
        done += (size_t)got;
    }
    free(buf);
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

/* Resample x[n] at `rate` to exactly round(n * 16000 / rate) samples at 16 kHz. */
static qsnn_status resample_16k(const char *path, const float *x, size_t n, int rate, float **out, size_t *out_n)
{
    size_t want = (size_t)(((unsigned long long)n * QSNN_SAMPLE_RATE + (unsigned long long)rate / 2) /
                           (unsigned long long)rate);
    if (!want) { /* (a file too short to give one sample at 16 kHz) */
        *out = calloc(1, sizeof **out);
        *out_n = 0;
        return *out ? QSNN_OK : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    }
    qsnn_status st = qsnn_audio_resample(x, n, (double)QSNN_SAMPLE_RATE / (double)rate, QSNN_RESAMPLE_MEDIUM, want,
                                         out, out_n);
    if (st != QSNN_OK)
        return qsnn_fail(st, "%s: resampling from %d Hz failed: %s", path, rate, qsnn_last_error());
    return QSNN_OK;
}

qsnn_status qsnn_audio_read(const char *path, float **samples, size_t *n, int *orig_rate)
{
    if (!path || !samples || !n)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_read: NULL argument");
    *samples = NULL;
    *n = 0;
    SNDFILE *sf;
    SF_INFO info;
    qsnn_status st = open_checked(path, &sf, &info);
    if (st)
        return st;
    size_t frames = (size_t)info.frames;
    float *mono = malloc(frames * sizeof *mono);
    if (!mono) {
        sf_close(sf);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory for %zu samples", path, frames);
    }
    st = decode_mono(path, sf, &info, mono);
    sf_close(sf);
    if (st) {
        free(mono);
        return st;
    }
    if (orig_rate)
        *orig_rate = info.samplerate;
    if (info.samplerate != QSNN_SAMPLE_RATE) {
        float *y = NULL;
        size_t ny = 0;
        st = resample_16k(path, mono, frames, info.samplerate, &y, &ny);
        free(mono);
        if (st)
            return st;
        qsnn_info("%s: resampled from %d Hz to %d Hz", path, info.samplerate, QSNN_SAMPLE_RATE);
        *samples = y;
        *n = ny;
        return QSNN_OK;
    }
    *samples = mono;
    *n = frames;
    return QSNN_OK;
}

qsnn_status qsnn_audio_read_clip(const char *path, float *out, size_t want)
{
    if (!out && want)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_audio_read_clip: NULL output");
    float *x;
    size_t n;
    qsnn_status st = qsnn_audio_read(path, &x, &n, NULL);
    if (st)
        return st;
    size_t k = n < want ? n : want;
    if (k)
        memcpy(out, x, k * sizeof *out);
    for (size_t i = k; i < want; i++)
        out[i] = 0.0f;
    free(x);
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
