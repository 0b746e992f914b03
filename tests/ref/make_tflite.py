#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small TFLite models for tests/test_import_ops.c and the fuzz corpus, with reference outputs from an
independent float64 numpy forward (TensorFlow's operator semantics as documented: SAME/VALID padding with the
extra padding after, average pooling over the taps inside the image, int8 weights w = scale * (q - zero_point)).

The flatbuffers are written by a small serializer below (no flatbuffers package needed): objects are laid out
parent first, children after (uoffsets point forward), each table preceded by its vtable. Field numbers follow
tensorflow/lite/schema/schema.fbs (version 3).

Writes tests/data/tflite/<name>.tflite and tests/data/tflite/<name>.json ({"input": [...], "logits": [...]}),
and the malformed variants bad_*.tflite that test_import_ops.c expects to be refused.

    /usr/bin/python3 tests/ref/make_tflite.py      # needs python3-numpy (apt-get install python3-numpy)
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "tflite")

# ---------------------------------------------------------------- serializer


class T:
    """A table: f = {field id: (kind, value)}; kinds u8 i32 u32 f32 u64 table str vi32 vf32 vi64 vu8 vtable."""

    def __init__(self, f=None):
        self.f = f or {}


def table(*fields):
    """table((id, kind, value), ...); a value of None leaves the field absent."""
    return T({fid: (kind, val) for fid, kind, val in fields if val is not None})


SCALAR = {"u8": ("<B", 1), "i32": ("<i", 4), "u32": ("<I", 4), "f32": ("<f", 4), "u64": ("<Q", 8)}


class Writer:
    def __init__(self):
        self.b = bytearray()

    def align(self, n, extra=0):
        while (len(self.b) + extra) % n:
            self.b.append(0)

    def put(self, fmt, v):
        p = len(self.b)
        self.b += struct.pack(fmt, v)
        return p

    def patch_uoffset(self, at, target):
        struct.pack_into("<I", self.b, at, target - at)

    def table(self, t):
        ids = sorted(t.f)
        nfields = (max(ids) + 1) if ids else 0
        # table layout: soffset, then fields (offsets are u32 slots, scalars their own size), naturally aligned
        layout, off = {}, 4
        for fid in ids:
            kind, _ = t.f[fid]
            size = SCALAR[kind][1] if kind in SCALAR else 4
            while off % size:
                off += 1
            layout[fid] = off
            off += size
        tsize = off
        self.align(4)
        vt = len(self.b)
        self.put("<H", 4 + 2 * nfields)
        self.put("<H", tsize)
        for fid in range(nfields):
            self.put("<H", layout.get(fid, 0))
        self.align(8)
        pos = len(self.b)
        self.b += bytes(tsize)
        struct.pack_into("<i", self.b, pos, pos - vt)
        children = []
        for fid in ids:
            kind, val = t.f[fid]
            at = pos + layout[fid]
            if kind in SCALAR:
                struct.pack_into(SCALAR[kind][0], self.b, at, val)
            else:
                children.append((at, kind, val))
        for at, kind, val in children:
            self.patch_uoffset(at, self.child(kind, val))
        return pos

    def child(self, kind, val):
        if kind == "table":
            return self.table(val)
        if kind == "str":
            self.align(4)
            p = self.put("<I", len(val))
            self.b += val.encode() + b"\0"
            return p
        if kind == "vu8":
            self.align(4)
            p = self.put("<I", len(val))
            self.b += bytes(val)
            return p
        if kind in ("vi32", "vf32"):
            self.align(4)
            p = self.put("<I", len(val))
            for v in val:
                self.put("<i" if kind == "vi32" else "<f", v)
            return p
        if kind == "vi64":
            self.align(8, 4)
            p = self.put("<I", len(val))
            for v in val:
                self.put("<q", v)
            return p
        if kind == "vtable":
            self.align(4)
            p = self.put("<I", len(val))
            slots = [self.put("<I", 0) for _ in val]
            for s, t in zip(slots, val):
                self.patch_uoffset(s, self.table(t))
            return p
        raise ValueError(kind)

    def finish(self, root):
        self.b += bytes(4) + b"TFL3"
        self.patch_uoffset(0, self.table(root))
        return bytes(self.b)


# ---------------------------------------------------------------- model building

CONV_2D, DEPTHWISE, AVG_POOL, MAX_POOL, FC, RESHAPE, SOFTMAX, ADD, RELU, LSTM = 3, 4, 1, 17, 9, 22, 25, 0, 19, 16
F32, I32, U8, I8 = 0, 2, 3, 9
NONE_, RELU_, RELU6_ = 0, 1, 3
SAME, VALID = 0, 1


class Model:
    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [b""], [], []

    def tensor(self, shape, ttype=F32, data=None, scale=None, zp=None, qdim=0, name=None):
        buf = 0
        if data is not None:
            self.buffers.append(bytes(data))
            buf = len(self.buffers) - 1
        q = None
        if scale is not None:
            q = table((2, "vf32", list(scale)), (3, "vi64", list(zp if zp is not None else [0] * len(scale))),
                      (6, "i32", qdim))
        self.tensors.append(table((0, "vi32", list(shape)), (1, "u8", ttype), (2, "u32", buf),
                                  (3, "str", name or "t%d" % len(self.tensors)), (4, "table", q)))
        return len(self.tensors) - 1

    def const_f32(self, a):
        a = np.asarray(a, dtype=np.float32)
        return self.tensor(a.shape, F32, a.tobytes())

    def const_q(self, q, scale, zp=None, qdim=0, ttype=I8):
        q = np.asarray(q)
        return self.tensor(q.shape, ttype, q.astype(np.int8 if ttype == I8 else np.uint8).tobytes(), scale, zp,
                           qdim)

    def op(self, code, ins, outs, opts=None):
        if code not in self.codes:
            self.codes.append(code)
        self.ops.append(table((0, "u32", self.codes.index(code)), (1, "vi32", ins), (2, "vi32", outs),
                              (4, "table", opts)))

    def serialize(self, inputs, outputs):
        codes = [table((0, "u8", min(c, 127)), (3, "i32", c), (2, "i32", 1)) for c in self.codes]
        sub = table((0, "vtable", self.tensors), (1, "vi32", inputs), (2, "vi32", outputs), (3, "vtable", self.ops),
                    (4, "str", "main"))
        bufs = [table((0, "vu8", list(b))) if b else table() for b in self.buffers]
        root = table((0, "u32", 3), (1, "vtable", codes), (2, "vtable", [sub]), (3, "str", "qsnn test"),
                     (4, "vtable", bufs))
        return Writer().finish(root)


def conv_opts(pad, sw, sh, act):
    return table((0, "u8", pad), (1, "i32", sw), (2, "i32", sh), (3, "u8", act))


def dw_opts(pad, sw, sh, act):
    return table((0, "u8", pad), (1, "i32", sw), (2, "i32", sh), (3, "i32", 1), (4, "u8", act))


def pool_opts(pad, sw, sh, fw, fh):
    return table((0, "u8", pad), (1, "i32", sw), (2, "i32", sh), (3, "i32", fw), (4, "i32", fh), (5, "u8", 0))


# ---------------------------------------------------------------- numpy reference forward (float64, NHWC)


def pads(n, k, s, same):
    if not same:
        return (n - k) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + k - n, 0) // 2


def windows(x, kh, kw, sh, sw, same, fill=0.0):
    h, w, c = x.shape
    oh, pt = pads(h, kh, sh, same)
    ow, pl = pads(w, kw, sw, same)
    big = np.full((h + kh + sh * oh, w + kw + sw * ow, c), fill)
    big[pt:pt + h, pl:pl + w] = x
    mask = np.zeros(big.shape[:2])
    mask[pt:pt + h, pl:pl + w] = 1
    out = np.zeros((oh, ow, kh, kw, c))
    cnt = np.zeros((oh, ow, kh, kw))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = big[i * sh:i * sh + kh, j * sw:j * sw + kw]
            cnt[i, j] = mask[i * sh:i * sh + kh, j * sw:j * sw + kw]
    return out, cnt


def act(x, a):
    return np.maximum(x, 0) if a == RELU_ else np.clip(x, 0, 6) if a == RELU6_ else x


def ref_conv(x, w, b, sh, sw, same, a):  # w [O, kh, kw, I]
    win, _ = windows(x, w.shape[1], w.shape[2], sh, sw, same)
    y = np.einsum("ijabc,oabc->ijo", win, w) + (0 if b is None else b)
    return act(y, a)


def ref_dw(x, w, b, sh, sw, same, a):  # w [1, kh, kw, C]
    win, _ = windows(x, w.shape[1], w.shape[2], sh, sw, same)
    y = np.einsum("ijabc,abc->ijc", win, w[0]) + (0 if b is None else b)
    return act(y, a)


def ref_pool(x, kh, kw, sh, sw, same, is_max):
    win, cnt = windows(x, kh, kw, sh, sw, same, fill=-np.inf if is_max else 0.0)
    if is_max:
        return win.max(axis=(2, 3))
    return win.sum(axis=(2, 3)) / cnt.sum(axis=(2, 3))[..., None]


# ---------------------------------------------------------------- the models


def model_a(rng):
    """conv 3x2 s(2,1) SAME float + bias RELU; depthwise 3x3 SAME int8 per channel + bias RELU6; conv 1x1 int8 per
    tensor, no bias; ADD bias (fused RELU); MAX_POOL 2x2 s2 SAME; RESHAPE; FC float + bias; SOFTMAX."""
    m = Model()
    x = rng.standard_normal((6, 5, 1)).astype(np.float32).astype(np.float64)
    x_t = m.tensor([1, 6, 5, 1], name="input")
    w1 = rng.standard_normal((4, 3, 2, 1)) * 0.5
    b1 = rng.standard_normal(4) * 0.1
    t1 = m.tensor([1, 3, 5, 4])
    m.op(CONV_2D, [x_t, m.const_f32(w1), m.const_f32(b1)], [t1], conv_opts(SAME, 1, 2, RELU_))
    q2 = rng.integers(-127, 128, (1, 3, 3, 4))
    s2 = rng.uniform(0.005, 0.02, 4)
    b2 = rng.standard_normal(4) * 0.1
    t2 = m.tensor([1, 3, 5, 4])
    m.op(DEPTHWISE, [t1, m.const_q(q2, s2, qdim=3), m.const_f32(b2)], [t2], dw_opts(SAME, 1, 1, RELU6_))
    q3 = rng.integers(-127, 128, (6, 1, 1, 4))
    t3 = m.tensor([1, 3, 5, 6])
    m.op(CONV_2D, [t2, m.const_q(q3, [0.01]), -1], [t3], conv_opts(SAME, 1, 1, NONE_))
    b4 = rng.standard_normal(6) * 0.1
    t4 = m.tensor([1, 3, 5, 6])
    m.op(ADD, [t3, m.const_f32(b4)], [t4], table((0, "u8", RELU_)))
    t5 = m.tensor([1, 2, 3, 6])
    m.op(MAX_POOL, [t4], [t5], pool_opts(SAME, 2, 2, 2, 2))
    t6 = m.tensor([1, 36])
    m.op(RESHAPE, [t5, m.const_f32(np.array([1, 36]).astype(np.float32))], [t6])
    w7 = rng.standard_normal((3, 36)) * 0.3
    b7 = rng.standard_normal(3) * 0.1
    t7 = m.tensor([1, 3])
    m.op(FC, [t6, m.const_f32(w7), m.const_f32(b7)], [t7], table((0, "u8", NONE_)))
    t8 = m.tensor([1, 3], name="probs")
    m.op(SOFTMAX, [t7], [t8], table((0, "f32", 1.0)))
    f32 = lambda a: np.asarray(a, np.float32).astype(np.float64)
    y = ref_conv(x, f32(w1), f32(b1), 2, 1, True, RELU_)
    y = ref_dw(y, f32(f32(s2)[None, None, None, :] * q2), f32(b2), 1, 1, True, RELU6_)
    y = ref_conv(y, f32(0.01 * f32(q3)), None, 1, 1, True, NONE_)
    y = act(y + f32(b4), RELU_)
    y = ref_pool(y, 2, 2, 2, 2, True, True)
    logits = f32(w7) @ y.reshape(-1) + f32(b7)
    return m.serialize([x_t], [t8]), x, logits


def model_b(rng):
    """depthwise 2x3 s2 VALID float, no bias, RELU; AVERAGE_POOL 3x3 s1 SAME (edges divide by fewer taps); conv
    2x2 VALID uint8 weights with a zero point, RELU; AVERAGE_POOL over the whole map; FC, logits out."""
    m = Model()
    x = rng.standard_normal((7, 6, 2)).astype(np.float32).astype(np.float64)
    x_t = m.tensor([1, 7, 6, 2], name="input")
    w1 = rng.standard_normal((1, 2, 3, 2))
    t1 = m.tensor([1, 3, 2, 2])
    m.op(DEPTHWISE, [x_t, m.const_f32(w1), -1], [t1], dw_opts(VALID, 2, 2, RELU_))
    t2 = m.tensor([1, 3, 2, 2])
    m.op(AVG_POOL, [t1], [t2], pool_opts(SAME, 1, 1, 3, 3))
    q3 = rng.integers(0, 256, (3, 2, 2, 2))
    t3 = m.tensor([1, 2, 1, 3])
    m.op(CONV_2D, [t2, m.const_q(q3, [0.02], [128], ttype=U8), m.const_f32(np.zeros(3))], [t3],
         conv_opts(VALID, 1, 1, RELU_))
    t4 = m.tensor([1, 1, 1, 3])
    m.op(AVG_POOL, [t3], [t4], pool_opts(VALID, 1, 2, 1, 2))
    w5 = rng.standard_normal((4, 3))
    t5 = m.tensor([1, 4], name="logits")
    m.op(FC, [t4, m.const_f32(w5), -1], [t5], table((0, "u8", NONE_)))
    f32 = lambda a: np.asarray(a, np.float32).astype(np.float64)
    y = ref_dw(x, f32(w1), None, 2, 2, False, RELU_)
    y = ref_pool(y, 3, 3, 1, 1, True, False)
    y = ref_conv(y, f32(np.float32(0.02) * (q3.astype(np.float32) - 128)), None, 1, 1, False, RELU_)
    y = ref_pool(y, 2, 1, 2, 1, False, False)
    logits = f32(w5) @ y.reshape(-1)
    return m.serialize([x_t], [t5]), x, logits


def unknown_op(rng):
    """conv then LSTM (code 16) as operator 1: refused naming it."""
    m = Model()
    x_t = m.tensor([1, 4, 4, 1])
    t1 = m.tensor([1, 4, 4, 2])
    m.op(CONV_2D, [x_t, m.const_f32(rng.standard_normal((2, 1, 1, 1))), -1], [t1], conv_opts(SAME, 1, 1, NONE_))
    t2 = m.tensor([1, 4, 4, 2])
    m.op(LSTM, [t1], [t2])
    return m.serialize([x_t], [t2])


def int8_model(rng):
    """int8 input and activations (a fully quantized model): refused as such."""
    m = Model()
    x_t = m.tensor([1, 4, 4, 1], I8, scale=[0.1], zp=[0])
    t1 = m.tensor([1, 4, 4, 2], I8, scale=[0.1], zp=[0])
    m.op(CONV_2D, [x_t, m.const_q(rng.integers(-127, 128, (2, 1, 1, 1)), [0.01]),
                   m.tensor([2], I32, np.zeros(2, np.int32).tobytes())], [t1], conv_opts(SAME, 1, 1, NONE_))
    return m.serialize([x_t], [t1])


def model_c(rng):
    """conv 2x2 VALID int8 per output channel (quantized_dimension 0), a standalone RELU6; depthwise 3x3 SAME s2
    float + bias, a standalone RELU; FC int8 per output channel + bias with a fused RELU; FC float: logits."""
    m = Model()
    x = rng.standard_normal((5, 4, 3)).astype(np.float32).astype(np.float64)
    x_t = m.tensor([1, 5, 4, 3], name="input")
    q1 = rng.integers(-127, 128, (4, 2, 2, 3))
    s1 = rng.uniform(0.005, 0.03, 4)
    t1 = m.tensor([1, 4, 3, 4])
    m.op(CONV_2D, [x_t, m.const_q(q1, s1, qdim=0), -1], [t1], conv_opts(VALID, 1, 1, NONE_))
    t2 = m.tensor([1, 4, 3, 4])
    m.op(21, [t1], [t2])  # RELU6
    w3 = rng.standard_normal((1, 3, 3, 4))
    b3 = rng.standard_normal(4) * 0.1
    t3 = m.tensor([1, 2, 2, 4])
    m.op(DEPTHWISE, [t2, m.const_f32(w3), m.const_f32(b3)], [t3], dw_opts(SAME, 2, 2, NONE_))
    t4 = m.tensor([1, 2, 2, 4])
    m.op(RELU, [t3], [t4])
    q5 = rng.integers(-127, 128, (6, 16))
    s5 = rng.uniform(0.001, 0.004, 6)
    b5 = rng.uniform(1.0, 3.0, 6)  # so that the fused RELU keeps some outputs and zeroes others
    t5 = m.tensor([1, 6])
    m.op(FC, [t4, m.const_q(q5, s5, qdim=0), m.const_f32(b5)], [t5], table((0, "u8", RELU_)))
    w6 = rng.standard_normal((3, 6))
    t6 = m.tensor([1, 3], name="logits")
    m.op(FC, [t5, m.const_f32(w6), -1], [t6], table((0, "u8", NONE_)))
    f32 = lambda a: np.asarray(a, np.float32).astype(np.float64)
    y = ref_conv(x, f32(f32(s1)[:, None, None, None] * q1), None, 1, 1, False, RELU6_)
    y = ref_dw(y, f32(w3), f32(b3), 2, 2, True, RELU_)
    y = act(f32(f32(s5)[:, None] * q5) @ y.reshape(-1) + f32(b5), RELU_)
    logits = f32(w6) @ y
    return m.serialize([x_t], [t6]), x, logits


def refused(kind, rng):
    """One-change variants that must be refused with a reason: dilation, a depth multiplier, softmax beta, a
    branch, an activation fused on a pooling."""
    m = Model()
    x_t = m.tensor([1, 4, 4, 2])
    w = m.const_f32(rng.standard_normal((2, 1, 1, 2)))
    t1 = m.tensor([1, 4, 4, 2])
    opts = conv_opts(SAME, 1, 1, NONE_)
    if kind == "dilation":
        opts = table((0, "u8", SAME), (1, "i32", 1), (2, "i32", 1), (3, "u8", 0), (4, "i32", 2), (5, "i32", 2))
    m.op(CONV_2D, [x_t, w, -1], [t1], opts)
    last = t1
    if kind == "multiplier":
        t2 = m.tensor([1, 4, 4, 4])
        m.op(DEPTHWISE, [t1, m.const_f32(rng.standard_normal((1, 3, 3, 4))), -1], [t2],
             table((0, "u8", SAME), (1, "i32", 1), (2, "i32", 1), (3, "i32", 2), (4, "u8", 0)))
        last = t2
    elif kind == "branch":
        t2 = m.tensor([1, 4, 4, 2])
        m.op(CONV_2D, [x_t, w, -1], [t2], conv_opts(SAME, 1, 1, NONE_))  # the input again, not t1
        last = t2
    elif kind == "pool_act":
        t2 = m.tensor([1, 2, 2, 2])
        m.op(MAX_POOL, [t1], [t2], table((0, "u8", SAME), (1, "i32", 2), (2, "i32", 2), (3, "i32", 2), (4, "i32", 2),
                                          (5, "u8", RELU_)))
        last = t2
    t3 = m.tensor([1, 32])
    m.op(RESHAPE, [last], [t3]) if kind != "multiplier" else None
    if kind == "multiplier":
        t3 = m.tensor([1, 64])
        m.op(RESHAPE, [last], [t3])
    t4 = m.tensor([1, 2])
    m.op(FC, [t3, m.const_f32(rng.standard_normal((2, 64 if kind == "multiplier" else 32 if kind != "pool_act"
                                                  else 8))), -1], [t4], table((0, "u8", NONE_)))
    t5 = m.tensor([1, 2])
    m.op(SOFTMAX, [t4], [t5], table((0, "f32", 0.5 if kind == "beta" else 1.0)))
    return m.serialize([x_t], [t5])


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261204)
    for name, fn in (("ops_a", model_a), ("ops_b", model_b)):
        data, x, logits = fn(rng)
        with open(os.path.join(OUT, name + ".tflite"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump({"made_by": "tests/ref/make_tflite.py (numpy float64 forward)", "input_shape": list(x.shape),
                       "input": [float(np.float32(v)) for v in x.reshape(-1)],
                       "logits": [float(v) for v in logits]}, f)
        print(name, len(data), "bytes, logits", logits)
    for name, fn in (("bad_unknown_op", unknown_op), ("bad_int8", int8_model)):
        data = fn(rng)
        with open(os.path.join(OUT, name + ".tflite"), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")
    data, x, logits = model_c(rng)
    with open(os.path.join(OUT, "ops_c.tflite"), "wb") as f:
        f.write(data)
    with open(os.path.join(OUT, "ops_c.json"), "w") as f:
        json.dump({"made_by": "tests/ref/make_tflite.py (numpy float64 forward)", "input_shape": list(x.shape),
                   "input": [float(np.float32(v)) for v in x.reshape(-1)], "logits": [float(v) for v in logits]}, f)
    print("ops_c", len(data), "bytes, logits", logits)
    for kind in ("dilation", "multiplier", "beta", "branch", "pool_act"):
        data = refused(kind, rng)
        with open(os.path.join(OUT, "bad_%s.tflite" % kind), "wb") as f:
            f.write(data)
        print("bad_" + kind, len(data), "bytes")


if __name__ == "__main__":
    main()
