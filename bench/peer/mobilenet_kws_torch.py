#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch peer of qsnn's quantization-aware training (issue 4) and float inference (issue 5).

The same model and training recipe as qsnn, written independently with PyTorch, so that speed, memory and
accuracy can be compared on the same features:
  - the architecture is read from qsnn's JSON description (models/mobilenet_kws.json by default, docs/model.md):
    NHWC semantics, TF 'same' padding (a stride-2 5x5 conv on 49x10 pads rows 2/2 and columns 1/2), layer order
    op -> [bias] -> [global average pooling] -> [BN] -> [activation], dense layers flatten in NHWC order;
  - Keras glorot_uniform initialisation with Keras' fans (qsnn_model_init), BN gamma 1 beta 0 mean 0 var 1;
  - episode 1 float weights + ReLU6, episode 2 + ActivationDiscreteRelu(act_bits) (ceil, straight-through,
    gradient 1 on (t0 - gamma, t0 + levels*gamma]), episode 3 + per-tensor weight quantizer (population std,
    delta = kmax / (threshold * std), round half to even, clip to [-kmax, kmax], straight-through gradient zeroed
    where the code is clipped, delta not differentiated: as qsnn's src/quant); each episode starts from the
    previous one's best-validation weights with a fresh Adam;
  - BN momentum 0.99 (PyTorch momentum=0.01), eps 1e-3; Adam betas (0.9, 0.999), eps 1e-7 (Keras); batch 100;
    per-step learning rate as qsnn's trainer (src/train/schedule.c), restarted each episode: Keras CyclicLR
    'triangular' (default: base 5e-6, max 2e-3, half-period 4 * N_train / batch steps, as BrainChip's
    kws_train), cosine lr_max -> lr_min over the episode, or constant; 16 epochs per episode by default;
  - inputs: qsnn's --npy export (`qsnn features DATA -o F --u8 --npy DIR`): x_<split>.npy uint8 (n,49,10[,1]),
    y_<split>.npy int32; the model sees x / 255.

Modes:
  train (default)  per-episode training samples/s, validation and test accuracy, peak RSS -> JSON
  --infer          float model (ReLU6, float weights, BN inference): batch-1 latency (median of --calls calls under
                   torch.no_grad) and batched clips/s
  --eval-qsnn F    load a qsnn model file (QSNNMODL v1) and report its accuracy on the npy splits, as trained
                   (quantizers per the file's flags): an independent check of qsnn_model_predict
Run with /usr/bin/python3 (Debian's python3-torch). See bench/README.md.
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_MOMENTUM = 0.99  # Keras convention (moving = m * moving + (1 - m) * batch); --bn-momentum
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ----------------------------------------------------------------------------- architecture (qsnn JSON)

LAYER_FIELDS = {"name", "op", "filters", "kernel", "stride", "padding", "use_bias", "weight_bits", "pool",
                "batch_norm", "activation", "act_bits"}


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_out_size(n, k, s, same):
    """TF padding (qsnn_conv_out_size): returns (out, pad_before, pad_after)."""
    if same:
        out = (n + s - 1) // s
        total = max((out - 1) * s + k - n, 0)
        return out, total // 2, total - total // 2
    return (n - k) // s + 1, 0, 0


def load_arch(spec):
    """spec: a built-in name (models/<name>.json in the repo) or a JSON file path. Returns a dict with shapes."""
    path = spec if spec.endswith(".json") else os.path.join(REPO, "models", spec + ".json")
    with open(path) as f:
        doc = json.load(f)
    h, w, c = doc["input"]
    layers = []
    for i, raw in enumerate(doc["layers"]):
        unknown = set(raw) - LAYER_FIELDS
        if unknown:
            raise ValueError("%s: layer %d: unknown fields %s" % (path, i, sorted(unknown)))
        L = {"name": raw["name"], "op": raw["op"], "use_bias": raw.get("use_bias", False),
             "weight_bits": raw.get("weight_bits", 4), "pool": raw.get("pool", "none"),
             "batch_norm": raw.get("batch_norm", True), "activation": raw.get("activation", True),
             "act_bits": raw.get("act_bits", 4), "same": raw.get("padding", "same") == "same"}
        if L["op"] == "dense":
            L["kernel"], L["stride"] = (1, 1), (1, 1)
        else:
            L["kernel"], L["stride"] = _pair(raw["kernel"]), _pair(raw.get("stride", 1))
        L["filters"] = c if L["op"] == "depthwise" else raw["filters"]
        L["in"] = (h, w, c)
        if L["op"] == "dense":
            h, w = 1, 1
        else:
            oh, pt, pb = conv_out_size(h, L["kernel"][0], L["stride"][0], L["same"])
            ow, pl, pr = conv_out_size(w, L["kernel"][1], L["stride"][1], L["same"])
            L["pad"] = (pl, pr, pt, pb)  # F.pad order: last dim (W) first
            h, w = oh, ow
        c = L["filters"]
        if L["pool"] == "global_avg":
            h, w = 1, 1
        L["out"] = (h, w, c)
        layers.append(L)
    if (h, w, c) != (1, 1, doc["classes"]):
        raise ValueError("%s: the last layer gives %dx%dx%d, not 1x1x%d" % (path, h, w, c, doc["classes"]))
    return {"name": doc.get("name", "model"), "input": tuple(doc["input"]), "classes": doc["classes"],
            "layers": layers, "path": path}


# ----------------------------------------------------------------------------- quantizers


def quant_weights(w, bits):
    """cnn2snn WeightQuantizer (docs/design.md s3.3), per tensor, straight-through; delta is not differentiated."""
    kmax = float(2 ** (bits - 1) - 1) if bits >= 2 else 1.0
    thr = 3.0 if bits > 2 else 1.0
    sd = w.detach().double().std(unbiased=False).float()
    if not (sd > 0):
        return w + (torch.zeros_like(w) - w).detach()
    delta = kmax / (thr * sd)
    wr = w * delta
    wr = wr + (torch.round(wr) - wr).detach()  # torch.round: half to even, like tf.round
    return torch.clamp(wr, -kmax, kmax) / delta


def qrelu(x, bits):
    """ActivationDiscreteRelu(bits): y = gamma * clip(ceil((x - t0) / gamma), 0, levels), straight-through."""
    levels = 2 ** bits - 1
    relumax = min(levels, 6)
    gamma = relumax / levels
    t0 = gamma / 2
    z = (x - t0) / gamma
    z = z + (torch.ceil(z) - z).detach()
    return gamma * torch.clamp(z, 0, levels)


# ----------------------------------------------------------------------------- the model


def glorot_(t, fan_in, fan_out):
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        t.uniform_(-lim, lim)


class Layer(nn.Module):
    def __init__(self, L):
        super().__init__()
        self.L = L
        kh, kw = L["kernel"]
        cin, cout = L["in"][2], L["filters"]
        k = kh * kw
        self.w = self.dw = self.bias = None
        if L["op"] == "conv2d":
            self.w = nn.Parameter(torch.empty(cout, cin, kh, kw))
            glorot_(self.w, k * cin, k * cout)
        elif L["op"] in ("depthwise", "separable"):
            self.dw = nn.Parameter(torch.empty(cin, 1, kh, kw))
            glorot_(self.dw, k * cin, k)
            if L["op"] == "separable":
                self.w = nn.Parameter(torch.empty(cout, cin, 1, 1))
                glorot_(self.w, cin, cout)
        elif L["op"] == "dense":
            nin = L["in"][0] * L["in"][1] * L["in"][2]
            self.w = nn.Parameter(torch.empty(cout, nin))
            glorot_(self.w, nin, cout)
        else:
            raise ValueError("unknown op " + L["op"])
        if L["use_bias"]:
            self.bias = nn.Parameter(torch.zeros(cout))
        flat = L["pool"] == "global_avg" or L["op"] == "dense"
        self.bn = None
        if L["batch_norm"]:
            cls = nn.BatchNorm1d if flat else nn.BatchNorm2d
            self.bn = cls(cout, eps=1e-3, momentum=1.0 - BN_MOMENTUM)

    def forward(self, x, qa, qw):
        L = self.L
        wb = L["weight_bits"] if qw else 0
        q = (lambda t: quant_weights(t, wb)) if wb else (lambda t: t)
        stride = L["stride"]
        if L["op"] == "dense":
            x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC flatten order, as qsnn
            x = F.linear(x, q(self.w), self.bias)
        else:
            if any(L["pad"]):
                x = F.pad(x, L["pad"])
            if L["op"] == "conv2d":
                x = F.conv2d(x, q(self.w), self.bias, stride=stride)
            else:
                x = F.conv2d(x, q(self.dw), None if L["op"] == "separable" else self.bias, stride=stride,
                             groups=x.shape[1])
                if L["op"] == "separable":
                    x = F.conv2d(x, q(self.w), self.bias)
            if L["pool"] == "global_avg":
                x = x.mean(dim=(2, 3))
        if self.bn is not None:
            x = self.bn(x)
        if L["activation"]:
            x = qrelu(x, L["act_bits"]) if qa else torch.clamp(x, 0.0, 6.0)
        if x.dim() == 2 and not self._last:
            x = x[:, :, None, None]  # a flat vector entering a convolution is 1x1xC
        return x


class Net(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        self.layers = nn.ModuleList(Layer(L) for L in arch["layers"])
        for i, m in enumerate(self.layers):
            m._last = i == len(self.layers) - 1
        self.quant_acts = False
        self.quant_weights = False

    def forward(self, x):  # x: (N, H, W, C) float in [0, 1]
        x = x.permute(0, 3, 1, 2)
        for m in self.layers:
            x = m(x, self.quant_acts, self.quant_weights)
        return x.reshape(x.shape[0], -1)


# ----------------------------------------------------------------------------- data


def load_split(d, split, sample_shape):
    xp, yp = os.path.join(d, "x_%s.npy" % split), os.path.join(d, "y_%s.npy" % split)
    if not os.path.exists(xp):
        return None, None
    x = np.load(xp)
    y = np.load(yp).astype(np.int64)
    if x.dtype != np.uint8:
        sys.exit("%s: dtype %s, expected uint8 (export with `qsnn features ... --u8 --npy DIR`)" % (xp, x.dtype))
    x = x.reshape(x.shape[0], *sample_shape)
    if y.shape[0] != x.shape[0]:
        sys.exit("%s: %d labels for %d samples" % (yp, y.shape[0], x.shape[0]))
    return x, y


def random_split(n, protos, rng):
    """Learnable random data for a smoke test: each class has its own mean pattern protos[class]."""
    sample_shape = protos.shape[1:]
    y = rng.integers(0, protos.shape[0], size=n)
    noise = rng.normal(0, 40, size=(n,) + sample_shape)
    x = np.clip(protos[y] + noise, 0, 255).astype(np.uint8)
    return x, y.astype(np.int64)


def to_tensor(x):
    return torch.from_numpy(x).float().div_(255.0)


# ----------------------------------------------------------------------------- training


def sched_lr(kind, it, total, lr_max, lr_min, step_size):
    if kind == "cosine":
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * min(it / max(total, 1), 1.0)))
    if kind == "cyclic":  # Keras CyclicLR 'triangular'
        cycle = math.floor(1 + it / (2 * step_size))
        xx = abs(it / step_size - 2 * cycle + 1)
        return lr_min + (lr_max - lr_min) * max(0.0, 1 - xx)
    return lr_max


def evaluate(model, x, y, batch=1000):
    if x is None or len(x) == 0:
        return None
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(to_tensor(x[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / len(x)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(args, arch, data):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Net(arch)
    xtr, ytr = data["train"]
    xva, yva = data["validation"]
    xte, yte = data["test"]
    n = len(xtr)
    steps_per_epoch = (n + args.batch - 1) // args.batch
    results = []
    for ep in args.episodes:
        model.quant_acts = ep >= 2
        model.quant_weights = ep >= 3
        opt = torch.optim.Adam(model.parameters(), lr=args.lr_max, betas=(0.9, 0.999), eps=1e-7)
        total = steps_per_epoch * args.epochs
        step_size = args.step_size if args.step_size > 0 else 4.0 * n / args.batch
        best_acc, best_state, train_time, it = -1.0, None, 0.0, 0
        epochs = []
        for e in range(args.epochs):
            model.train()
            perm = rng.permutation(n)
            loss_sum, correct = 0.0, 0
            t0 = time.perf_counter()
            for b in range(steps_per_epoch):
                idx = perm[b * args.batch:(b + 1) * args.batch]
                xb, yb = to_tensor(xtr[idx]), torch.from_numpy(ytr[idx])
                lr = sched_lr(args.sched, it, total, args.lr_max, args.lr_min, step_size)
                for g in opt.param_groups:
                    g["lr"] = lr
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += float(loss) * len(idx)
                correct += int((logits.argmax(1) == yb).sum())
                it += 1
            dt = time.perf_counter() - t0
            train_time += dt
            val = evaluate(model, xva, yva)
            rec = {"epoch": e + 1, "loss": loss_sum / n, "train_acc": correct / n, "val_acc": val, "lr": lr,
                   "samples_per_s": n / dt, "seconds": dt}
            epochs.append(rec)
            if not args.quiet:
                print("episode %d epoch %d/%d  loss %.4f  train %.4f  val %s  %.0f samples/s" %
                      (ep, e + 1, args.epochs, rec["loss"], rec["train_acc"],
                       "-" if val is None else "%.4f" % val, rec["samples_per_s"]), file=sys.stderr)
            score = val if val is not None else 0.0
            if val is None or score > best_acc:  # without validation: keep the last epoch
                best_acc = score
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        results.append({"episode": ep, "epochs": args.epochs, "quant_acts": model.quant_acts,
                        "quant_weights": model.quant_weights,
                        "samples_per_s": n * args.epochs / train_time, "train_seconds": train_time,
                        "best_val_acc": None if xva is None else best_acc,
                        "test_acc": evaluate(model, xte, yte), "epoch_log": epochs})
        if not args.quiet:
            r = results[-1]
            print("episode %d: %.0f samples/s, best val %s, test %s" %
                  (ep, r["samples_per_s"], r["best_val_acc"], r["test_acc"]), file=sys.stderr)
    return model, results


# ----------------------------------------------------------------------------- inference benchmark


def infer_bench(args, arch, model):
    model.eval()
    model.quant_acts = args.quantized
    model.quant_weights = args.quantized
    h, w, c = arch["input"]
    g = torch.Generator().manual_seed(args.seed)
    x1 = torch.rand(1, h, w, c, generator=g)
    xb = torch.rand(args.infer_batch, h, w, c, generator=g)
    times = []
    with torch.no_grad():
        for _ in range(50):
            model(x1)
        for _ in range(args.calls):
            t0 = time.perf_counter()
            model(x1)
            times.append(time.perf_counter() - t0)
        model(xb)
        done, t0 = 0, time.perf_counter()
        while True:
            model(xb)
            done += args.infer_batch
            if time.perf_counter() - t0 >= args.min_seconds and done >= 5 * args.infer_batch:
                break
        dt = time.perf_counter() - t0
    times.sort()
    return {"latency_median_ms": 1e3 * times[len(times) // 2], "latency_p90_ms": 1e3 * times[int(0.9 * len(times))],
            "latency_min_ms": 1e3 * times[0], "calls": args.calls, "batch": args.infer_batch,
            "batched_clips_per_s": done / dt, "quantized": bool(args.quantized)}


# ----------------------------------------------------------------------------- qsnn model files


def load_qsnn_model(path):
    """Read a QSNNMODL v1 file (docs/model.md) into a Net with the file's weights and flags."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 68 or blob[:8] != b"QSNNMODL":
        sys.exit("%s: not a qsnn model file" % path)
    version, hsize, flags, episode, jlen, nlab, labsz = struct.unpack_from("<7I", blob, 8)
    scale_min, scale_max, bn_eps = struct.unpack_from("<3f", blob, 36)
    (nparams,) = struct.unpack_from("<Q", blob, 48)
    if version != 1 or hsize != 64:
        sys.exit("%s: unsupported version %d" % (path, version))
    if 64 + jlen + nlab * labsz + 4 * nparams + 4 != len(blob):
        sys.exit("%s: size does not match the header" % path)
    if zlib.crc32(blob[:-4]) != struct.unpack_from("<I", blob, len(blob) - 4)[0]:
        sys.exit("%s: checksum mismatch" % path)
    arch_json = blob[64:64 + jlen].decode()
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "qsnn_peer_arch_%d.json" % os.getpid())
    with open(tmp, "w") as f:
        f.write(arch_json)
    arch = load_arch(tmp)
    os.remove(tmp)
    p = np.frombuffer(blob, dtype="<f4", count=nparams, offset=64 + jlen + nlab * labsz).astype(np.float32)
    model = Net(arch)
    off = 0

    def take(count):
        nonlocal off
        v = torch.from_numpy(p[off:off + count].copy())
        off += count
        return v

    with torch.no_grad():
        for m in model.layers:
            L = m.L
            kh, kw = L["kernel"]
            cin, cout = L["in"][2], L["filters"]
            # qsnn's layout per layer: w (conv2d kernel, separable pointwise, dense), dw, bias, BN (docs/model.md)
            if L["op"] == "conv2d":
                m.w.copy_(take(kh * kw * cin * cout).reshape(kh, kw, cin, cout).permute(3, 2, 0, 1))
            if L["op"] == "separable":
                m.w.copy_(take(cin * cout).reshape(cin, cout).t().reshape(cout, cin, 1, 1))
            if L["op"] in ("depthwise", "separable"):
                m.dw.copy_(take(kh * kw * cin).reshape(kh, kw, cin).permute(2, 0, 1).unsqueeze(1))
            if L["op"] == "dense":
                nin = L["in"][0] * L["in"][1] * L["in"][2]
                m.w.copy_(take(nin * cout).reshape(nin, cout).t())
            if m.bias is not None:
                m.bias.copy_(take(cout))
            if m.bn is not None:
                m.bn.weight.copy_(take(cout))
                m.bn.bias.copy_(take(cout))
                m.bn.running_mean.copy_(take(cout))
                m.bn.running_var.copy_(take(cout))
                m.bn.eps = float(bn_eps)
    if off != nparams:
        sys.exit("%s: %d parameters, the architecture uses %d" % (path, nparams, off))
    model.quant_acts = bool(flags & 1)
    model.quant_weights = bool(flags & 2)
    return arch, model, {"episode": episode, "scale": [scale_min, scale_max]}


# ----------------------------------------------------------------------------- main


def write_json_atomic(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npy", metavar="DIR", help="qsnn --npy export (x_train.npy, y_train.npy, ...)")
    ap.add_argument("--random", type=int, metavar="N", default=0,
                    help="instead of --npy: N random learnable training samples (smoke test)")
    ap.add_argument("--arch", default="mobilenet_kws", help="built-in name or qsnn JSON file")
    ap.add_argument("--episodes", default="1,2,3", help="episodes to run, in order (default 1,2,3)")
    ap.add_argument("--epochs", type=int, default=16, help="epochs per episode (default 16, as qsnn train)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--sched", choices=["cosine", "cyclic", "constant"], default="cyclic")
    ap.add_argument("--lr-max", type=float, default=2e-3)
    ap.add_argument("--lr-min", type=float, default=5e-6)
    ap.add_argument("--step-size", type=float, default=0, help="cyclic half-period in steps (default 4*N/batch)")
    ap.add_argument("--bn-momentum", type=float, default=0.99,
                    help="Keras BN momentum (default 0.99; PyTorch momentum = 1 - this)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--infer", action="store_true", help="inference benchmark of the float model")
    ap.add_argument("--quantized", action="store_true", help="with --infer: time the quantized forward instead")
    ap.add_argument("--calls", type=int, default=1000, help="--infer: batch-1 calls (default 1000)")
    ap.add_argument("--infer-batch", type=int, default=1000, help="--infer: batch of the throughput run")
    ap.add_argument("--min-seconds", type=float, default=3.0, help="--infer: duration of the throughput run")
    ap.add_argument("--eval-qsnn", metavar="MODEL", help="accuracy of a qsnn model file on the npy splits")
    ap.add_argument("--logits", metavar="FILE.npy",
                    help="with --eval-qsnn: also save the test-split logits (float32 (n, classes)) for comparison")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON to FILE")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global BN_MOMENTUM
    BN_MOMENTUM = args.bn_momentum
    args.episodes = [int(e) for e in args.episodes.split(",") if e]
    if any(e not in (1, 2, 3) for e in args.episodes):
        ap.error("--episodes: values 1, 2, 3")

    out = {"peer": "pytorch", "torch": torch.__version__, "threads": args.threads, "seed": args.seed}
    if args.eval_qsnn:
        arch, model, info = load_qsnn_model(args.eval_qsnn)
    else:
        arch = load_arch(args.arch)
        torch.manual_seed(args.seed)
        model = Net(arch)
    out["arch"] = arch["name"]
    out["params"] = sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for n_, b in model.named_buffers() if "running" in n_)
    sample_shape = tuple(arch["input"])

    if args.infer:
        out["mode"] = "infer"
        out.update(infer_bench(args, arch, model))
        print("%s: batch-1 latency median %.3f ms (p90 %.3f), batch %d: %.0f clips/s, %d threads" %
              (arch["name"], out["latency_median_ms"], out["latency_p90_ms"], args.infer_batch,
               out["batched_clips_per_s"], args.threads))
    else:
        data = {}
        if args.npy:
            for s in ("train", "validation", "test"):
                data[s] = load_split(args.npy, s, sample_shape)
            if data["train"][0] is None and not args.eval_qsnn:
                sys.exit("%s: no x_train.npy" % args.npy)
            out["data"] = os.path.abspath(args.npy)
        elif args.random:
            rng = np.random.default_rng(args.seed)
            protos = rng.integers(0, 256, size=(arch["classes"],) + sample_shape)
            data["train"] = random_split(args.random, protos, rng)
            data["validation"] = random_split(max(args.random // 5, 1), protos, rng)
            data["test"] = random_split(max(args.random // 5, 1), protos, rng)
            out["data"] = "random"
        else:
            ap.error("give --npy DIR or --random N (or --infer)")
        out["counts"] = {s: (0 if v[0] is None else int(len(v[0]))) for s, v in data.items()}
        if args.eval_qsnn:
            out["mode"] = "eval"
            out.update(info)
            out["quant_acts"], out["quant_weights"] = model.quant_acts, model.quant_weights
            for s in ("train", "validation", "test"):
                out[s + "_acc"] = evaluate(model, *data[s])
            print("%s: validation %s, test %s" % (args.eval_qsnn, out["validation_acc"], out["test_acc"]))
            if args.logits and data["test"][0] is not None:
                model.eval()
                with torch.no_grad():
                    np.save(args.logits, model(to_tensor(data["test"][0])).numpy().astype(np.float32))
        else:
            out["mode"] = "train"
            out.update({"batch": args.batch, "epochs": args.epochs, "sched": args.sched, "lr_max": args.lr_max,
                        "lr_min": args.lr_min, "bn_momentum": args.bn_momentum})
            t0 = time.perf_counter()
            _, out["episodes"] = train(args, arch, data)
            out["wall_seconds"] = time.perf_counter() - t0
            for r in out["episodes"]:
                print("episode %d: %.0f samples/s  val %s  test %s" %
                      (r["episode"], r["samples_per_s"], r["best_val_acc"], r["test_acc"]))
    out["peak_rss_mb"] = peak_rss_mb()
    print("peak RSS %.1f MB" % out["peak_rss_mb"])
    if args.json:
        write_json_atomic(args.json, out)


if __name__ == "__main__":
    main()
