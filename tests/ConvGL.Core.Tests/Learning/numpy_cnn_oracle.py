#!/usr/bin/python3
"""Independent NumPy forward pass of ConvGL's SmallCnn, for ExportTests.

Usage: numpy_cnn_oracle.py WEIGHTS.safetensors IMAGES.npy LOGITS.npy

Reads the safetensors file itself (8-byte little-endian header length, JSON header, raw little-endian data),
takes images (N, 1, S, S) float32, and writes logits (N, classes) float32 computed as PyTorch would:
conv1 (3x3, padding 1) -> relu -> max_pool2d(2) -> conv2 (3x3, padding 1) -> relu -> max_pool2d(2)
-> flatten (C, H, W order) -> fc. Shares no code with ConvGL.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return tensors


def conv2d_same3x3(x, w, b):
    """x (C, H, W), w (O, C, 3, 3), b (O): cross-correlation with one pixel of zero padding (PyTorch padding=1)."""
    c, h, wd = x.shape
    xp = np.zeros((c, h + 2, wd + 2))
    xp[:, 1:-1, 1:-1] = x
    out = np.zeros((w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            patch = xp[:, i:i + h, j:j + wd]  # (C, H, W)
            out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return out + b[:, None, None]


def maxpool2(x):
    c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    return x[:, :h2 * 2, :w2 * 2].reshape(c, h2, 2, w2, 2).max(axis=(2, 4))


def main():
    t = read_safetensors(sys.argv[1])
    images = np.load(sys.argv[2]).astype(np.float64)
    logits = []
    for img in images:
        x = maxpool2(np.maximum(conv2d_same3x3(img, t["conv1.weight"], t["conv1.bias"]), 0))
        x = maxpool2(np.maximum(conv2d_same3x3(x, t["conv2.weight"], t["conv2.bias"]), 0))
        logits.append(t["fc.weight"] @ x.reshape(-1) + t["fc.bias"])
    np.save(sys.argv[3], np.array(logits, dtype=np.float32))


if __name__ == "__main__":
    main()
