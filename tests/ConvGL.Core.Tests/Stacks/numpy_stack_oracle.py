#!/usr/bin/python3
"""An independent NumPy computation of a small learned stack, the oracle for ConvGL's stack executors.

Usage: numpy_stack_oracle.py DIR
DIR holds input.bin (float32 little-endian, shape in shape.txt as "C H W").
If DIR/weights.safetensors is missing, this script writes it itself (PyTorch layout, conv1.weight as F16,
conv1.bias F32, conv2.weight BF16, conv2.bias F32) from its own random numbers. It then reads the file back
with its own parser (8-byte length + JSON header + np.frombuffer) and computes, in float64, by explicit loops:

    conv1 (3x3, padding 1, zero border) -> relu -> maxpool 2 -> conv2 (groups 2, stride (1, 2), padding (1, 0))
    -> relu -> avgpool 2 stride 1 padding 1 (zeros counted, PyTorch's count_include_pad)

and writes layer i's output as out{i}.bin (float64 little-endian, shape in out{i}.txt).
Nothing here comes from ConvGL: this is the textbook definition of a cross-correlation layer.
"""
import json
import os
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, float32 array); names sorted, offsets contiguous."""
    header, blobs, offset = {}, [], 0
    for name, dtype, a in sorted(tensors, key=lambda t: t[0]):
        a = np.ascontiguousarray(a, dtype=np.float32)
        if dtype == "F32":
            raw = a.astype("<f4").tobytes()
        elif dtype == "F16":
            raw = a.astype("<f2").tobytes()
        elif dtype == "BF16":
            # Round to nearest even on the top 16 bits of the float32.
            bits = a.view(np.uint32).astype(np.uint64)
            rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
            raw = rounded.tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = body[begin:end]
        if info["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif info["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            raise ValueError(info["dtype"])
        out[name] = a.reshape(info["shape"])
    return out


def conv2d(x, w, b, stride, pad, groups):
    c_in, h, wd = x.shape
    c_out, c_per_group, kh, kw = w.shape
    (sy, sx), (py, px) = stride, pad
    xp = np.zeros((c_in, h + 2 * py, wd + 2 * px))
    xp[:, py:py + h, px:px + wd] = x
    ho = (h + 2 * py - kh) // sy + 1
    wo = (wd + 2 * px - kw) // sx + 1
    out = np.zeros((c_out, ho, wo))
    out_per_group = c_out // groups
    for o in range(c_out):
        g = o // out_per_group
        acc = np.full((ho, wo), b[o])
        for c in range(c_per_group):
            for i in range(kh):
                for j in range(kw):
                    acc += w[o, c, i, j] * xp[g * c_per_group + c, i:i + sy * (ho - 1) + 1:sy, j:j + sx * (wo - 1) + 1:sx]
        out[o] = acc
    return out


def pool2d(x, k, s, p, kind):
    c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((c, h + 2 * p, w + 2 * p), fill)
    xp[:, p:p + h, p:p + w] = x
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((c, ho, wo))
    for y in range(ho):
        for xx in range(wo):
            win = xp[:, y * s:y * s + k, xx * s:xx * s + k]
            out[:, y, xx] = win.max(axis=(1, 2)) if kind == "max" else win.sum(axis=(1, 2)) / (k * k)
    return out


def main():
    d = sys.argv[1]
    c, h, w = (int(v) for v in open(os.path.join(d, "shape.txt")).read().split())
    x = np.fromfile(os.path.join(d, "input.bin"), dtype="<f4").astype(np.float64).reshape(c, h, w)
    path = os.path.join(d, "weights.safetensors")
    if not os.path.exists(path):
        rng = np.random.default_rng(2024)
        write_safetensors(path, [
            ("conv1.weight", "F16", rng.uniform(-1, 1, (6, c, 3, 3))),
            ("conv1.bias", "F32", rng.uniform(-0.5, 0.5, 6)),
            ("conv2.weight", "BF16", rng.uniform(-1, 1, (4, 3, 3, 3))),
            ("conv2.bias", "F32", rng.uniform(-0.5, 0.5, 4)),
            ("fc.weight", "F32", rng.uniform(-1, 1, (10, 4))),  # unused by the stack, as in a real state_dict
        ])
    t = read_safetensors(path)
    outs = []
    a = conv2d(x, t["conv1.weight"], t["conv1.bias"], (1, 1), (1, 1), 1); outs.append(a)
    a = np.maximum(a, 0); outs.append(a)
    a = pool2d(a, 2, 2, 0, "max"); outs.append(a)
    a = conv2d(a, t["conv2.weight"], t["conv2.bias"], (1, 2), (1, 0), 2); outs.append(a)
    a = np.maximum(a, 0); outs.append(a)
    a = pool2d(a, 2, 1, 1, "avg"); outs.append(a)
    for i, o in enumerate(outs):
        o.astype("<f8").tofile(os.path.join(d, f"out{i}.bin"))
        with open(os.path.join(d, f"out{i}.txt"), "w") as f:
            f.write(" ".join(str(s) for s in o.shape))


if __name__ == "__main__":
    main()
