#!/usr/bin/env python3
"""Strips an ONNX model's float weights, or fills a stripped model with random ones: the packaged ResNet18 (63.6 MB) is
too big to travel to a GPU machine (the device tool takes 64 MiB in all), but its graph without the weights is ~50 KB.
Timing does not depend on the values, so the GPU machine times the same graph with fixed-seed random weights.

    scripts/onnx-weights.py strip MODEL.onnx SKELETON.onnx
    scripts/onnx-weights.py fill SKELETON.onnx MODEL.onnx [--seed N]

`strip` drops the payload (float_data, raw_data) of every float initializer and keeps its name, type and dims. `fill`
gives each float initializer without a payload fixed-seed values as raw_data: He-uniform (+-sqrt(6 / fan_in)) for a
tensor of 2 or more dimensions (conv weights), uniform 0.5..1.5 for a vector (batchnorm scale, bias, mean, variance: the
variance must stay positive), so activations stay finite through a deep network. Works on the protobuf wire format
directly (the standard library only): ModelProto.graph is field 7, GraphProto.initializer field 5, TensorProto's
dims 1, data_type 2, float_data 4, raw_data 9."""

import argparse
import math
import random
import sys
from array import array


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fields(buf):
    """(field number, wire type, raw bytes of the whole field, payload) for each field of a message."""
    i = 0
    while i < len(buf):
        start = i
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            _, i = varint(buf, i)
            payload = None
        elif wt == 1:
            i += 8
            payload = None
        elif wt == 5:
            i += 4
            payload = None
        elif wt == 2:
            n, i = varint(buf, i)
            payload = buf[i:i + n]
            i += n
        else:
            raise ValueError(f"wire type {wt} at byte {start}: not a protobuf message this script reads")
        yield num, wt, buf[start:i], payload


def length_field(num, payload):
    return enc_varint(num << 3 | 2) + enc_varint(len(payload)) + payload


def parse_tensor(t):
    """dims, data_type, whether a float payload is there."""
    dims, dtype, has_data = [], 0, False
    i = 0
    while i < len(t):
        key, i = varint(t, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(t, i)
            if num == 1:
                dims.append(v)
            elif num == 2:
                dtype = v
        elif wt == 2:
            n, i = varint(t, i)
            payload = t[i:i + n]
            i += n
            if num == 1:
                j = 0
                while j < len(payload):
                    d, j = varint(payload, j)
                    dims.append(d)
            elif num in (4, 9) and n > 0:
                has_data = True
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise ValueError(f"wire type {wt} in a TensorProto")
    return dims, dtype, has_data


def rewrite(model, tensor_fn):
    out = bytearray()
    for num, wt, raw, payload in fields(model):
        if num == 7 and wt == 2:
            graph = bytearray()
            for gnum, gwt, graw, gpayload in fields(payload):
                graph += length_field(5, tensor_fn(gpayload)) if gnum == 5 and gwt == 2 else graw
            out += length_field(7, bytes(graph))
        else:
            out += raw
    return bytes(out)


def strip(t):
    _, dtype, _ = parse_tensor(t)
    if dtype != 1:
        return t
    return b"".join(raw for num, _, raw, _ in fields(t) if num not in (4, 9))


def filler(seed):
    rng = random.Random(seed)
    counts = {"filled": 0, "values": 0}

    def fill(t):
        dims, dtype, has_data = parse_tensor(t)
        if dtype != 1 or has_data:
            return t
        n = math.prod(dims)
        if len(dims) >= 2:
            a = math.sqrt(6.0 / max(1, math.prod(dims[1:])))
            lo, hi = -a, a
        else:
            lo, hi = 0.5, 1.5
        values = array("f", (rng.uniform(lo, hi) for _ in range(n)))
        if sys.byteorder != "little":
            values.byteswap()
        counts["filled"] += 1
        counts["values"] += n
        return t + length_field(9, values.tobytes())

    return fill, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["strip", "fill"])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    with open(args.src, "rb") as f:
        model = f.read()
    if args.mode == "strip":
        result = rewrite(model, strip)
        note = ""
    else:
        fn, counts = filler(args.seed)
        result = rewrite(model, fn)
        note = f", {counts['filled']} initializers filled ({counts['values']} values)"
    with open(args.dst, "wb") as f:
        f.write(result)
    print(f"onnx-weights {args.mode}: {args.src} ({len(model)} bytes) -> {args.dst} ({len(result)} bytes){note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
