#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent float64 numpy reference of the tf-signal front end (MLPerf Tiny KWS, get_dataset.py with
feature_type mfcc on TensorFlow's tf.signal), written from TensorFlow's documented algorithms, not from qsnn's C.

Writes tests/data/tf_signal_<case>.txt (frames lines of coefficients, %.9g) for the WAV fixtures of
tests/data (silence, noise, a 1 kHz tone, a chirp, a quiet low tone, a short clip), with the default parameters
and two variants; tests/test_frontend.c compares qsnn's tf-signal front end with them (worst absolute
difference <= 1e-3).

    /usr/bin/python3 tests/ref/tf_signal_ref.py       # needs python3-numpy (apt-get install python3-numpy)
"""
import os
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == 16000
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def mel(hz):
    return 1127.0 * np.log(1.0 + hz / 700.0)


def mel_matrix(bands, bins, rate, lo, hi):
    # tf.signal.linear_to_mel_weight_matrix: drop the DC bin, triangles on the bins' mel values, pad DC back
    freqs = np.linspace(0.0, rate / 2.0, bins)[1:]
    m = mel(freqs)[:, None]
    edges = np.linspace(mel(lo), mel(hi), bands + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    w = np.maximum(0.0, np.minimum((m - lower) / (center - lower), (upper - m) / (upper - center)))
    return np.vstack([np.zeros((1, bands)), w])  # [bins, bands]


def tf_signal_mfcc(x, clip=16000, window=480, stride=320, fft=512, bands=40, coeffs=10, lo=20.0, hi=4000.0,
                   offset=1e-6, peak=True):
    x = np.asarray(x, dtype=np.float64)[:clip]
    if peak and x.size and x.max() != 0.0:
        x = x / x.max()  # the signed maximum, as MLPerf's get_dataset.py
    x = np.concatenate([x, np.zeros(clip - x.size)])
    frames = 1 + (clip - window) // stride
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(window) / window)  # periodic
    idx = np.arange(window)[None, :] + stride * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * hann, n=fft))  # [frames, fft/2 + 1]
    logmel = np.log(spec @ mel_matrix(bands, fft // 2 + 1, 16000.0, lo, hi) + offset)
    n = np.arange(bands)
    dct = np.cos(np.pi * np.arange(coeffs)[:, None] * (2 * n[None, :] + 1) / (2.0 * bands))  # [coeffs, bands]
    return logmel @ dct.T * np.sqrt(2.0 / bands)


CASES = [
    ("silence", "mfcc_silence.wav", {}),
    ("noise", "mfcc_noise.wav", {}),
    ("tone1k", "mfcc_tone1k.wav", {}),
    ("chirp", "mfcc_chirp.wav", {}),
    ("low", "mfcc_low.wav", {}),
    ("short", "mfcc_short.wav", {}),
    ("tone1k_w400s160_f1024_b26_k13", "mfcc_tone1k.wav",
     dict(window=400, stride=160, fft=1024, bands=26, coeffs=13, lo=60.0, hi=7600.0)),
    ("noise_nopeak", "mfcc_noise.wav", dict(peak=False)),
]

if __name__ == "__main__":
    for name, wav, kw in CASES:
        f = tf_signal_mfcc(read_wav(os.path.join(DATA, wav)), **kw)
        out = os.path.join(DATA, "tf_signal_%s.txt" % name)
        with open(out, "w") as fp:
            fp.write("# tests/ref/tf_signal_ref.py: %s %s\n" % (wav, kw if kw else "defaults"))
            for row in f:
                fp.write(" ".join("%.9g" % v for v in row) + "\n")
        print(out, f.shape)
