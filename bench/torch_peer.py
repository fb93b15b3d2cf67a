#!/usr/bin/env python3
"""PyTorch / cuDNN peer for `convgl bench` on a GPU machine (issue 8, "On a real GPU").

Times F.conv2d (cudnn.benchmark on, TF32 off, float32, NCHW, batch 1) on the shapes of ConvGL's bench cases, with
the same borders (reflect padding done by F.pad inside the timed call, as ConvGL's shaders do it in the pass), plus
the 32->32 3x3 layer at 1080p that ConvGL's bench cannot hold on llvmpipe, torchvision's ResNet18 architecture
up to its average pool (random weights: the shapes of the packaged model, which has two more 512->512 convs) and the device-to-device copy bandwidth the
issue compares the bandwidth-bound cases with. Prints a Markdown table: median and min of CUDA-event times in ms.

Run by scripts/gpu-machine.sh on the GPU machine; needs a CUDA build of PyTorch. Not run in CI."""

import argparse
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"torch_peer: PyTorch is not installed ({e})", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch_peer: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    g = torch.Generator(device="cpu").manual_seed(1)

    def rand(*shape):
        return (torch.rand(*shape, generator=g) * 2.4 - 1.2).to(dev)

    def conv(cin, cout, h, w, k, stride=1, groups=1, reflect=False, bias=True):
        x = rand(1, cin, h, w)
        wt = rand(cout, cin // groups, k, k)
        b = rand(cout) if bias else None
        p = k // 2
        if reflect:
            return lambda: F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), wt, b, stride=stride, groups=groups)
        return lambda: F.conv2d(x, wt, b, stride=stride, padding=p, groups=groups)

    cases = [
        ("gauss5-2d", conv(1, 1, 1080, 1920, 5, reflect=True, bias=False)),
        ("gauss9-2d", conv(1, 1, 1080, 1920, 9, reflect=True, bias=False)),
        ("sobel3-rgb", conv(3, 3, 1080, 1920, 3, groups=3, reflect=True, bias=False)),
        ("conv3-16to32", conv(16, 32, 256, 256, 3)),
        ("dwconv3-32", conv(32, 32, 256, 256, 3, groups=32, bias=False)),
        ("dwconv3-144-56", conv(144, 144, 56, 56, 3, groups=144)),
        ("dwconv7-96-56", conv(96, 96, 56, 56, 7, groups=96)),
        ("conv3-16to16-1080", conv(16, 16, 1080, 1920, 3)),
        ("conv3-32to32-1080", conv(32, 32, 1080, 1920, 3)),
        ("conv3-32to32-512", conv(32, 32, 512, 512, 3)),
        ("conv3-64to64-56", conv(64, 64, 56, 56, 3)),
        ("conv1-s2-64to128-56", conv(64, 128, 56, 56, 1, stride=2, bias=False)),
        ("conv7-s2-3to64-224", conv(3, 64, 224, 224, 7, stride=2, bias=False)),
        ("conv3-256to256-14", conv(256, 256, 14, 14, 3)),
        ("conv3-512to512-7", conv(512, 512, 7, 7, 3)),
        ("gabor15-1to8", conv(1, 8, 360, 640, 15, reflect=True, bias=False)),
    ]
    pool_in = rand(1, 32, 256, 256)
    cases.append(("maxpool2-32", lambda: F.max_pool2d(pool_in, 2)))
    try:
        import torchvision

        # Up to the global average pool, as the packaged CNTK model ends (no fc head).
        full = torchvision.models.resnet18(weights=None)
        net = torch.nn.Sequential(*list(full.children())[:-1]).to(dev).eval()
        img = rand(1, 3, 224, 224)
        cases.append(("resnet18-224 (torchvision, random weights, up to the average pool)", lambda: net(img)))
    except ImportError:
        print("torch_peer: torchvision missing, no resnet18 row", file=sys.stderr)
    src = torch.empty(256 * 1024 * 1024 // 4, device=dev)
    dst = torch.empty_like(src)
    cases.append(("copy 256 MiB (device to device)", lambda: dst.copy_(src)))

    name = torch.cuda.get_device_name(0)
    print(f"- torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {name}; cudnn.benchmark on, TF32 off, float32; "
          "each case run back to back for 250 ms before its timed reps")
    print()
    print("| case | median ms | min ms |")
    print("|---|--:|--:|")
    with torch.no_grad():
        for label, fn in cases:
            # As ConvGL's bench does on a real GPU: back to back for 250 ms first, so the card's clocks are up when
            # a few microseconds of work are timed at a time.
            start = time.perf_counter()
            n = 0
            while time.perf_counter() - start < 0.25 and n < 20000:
                fn()
                n += 1
                if n % 8 == 0:
                    torch.cuda.synchronize()
            torch.cuda.synchronize()
            times = []
            for _ in range(args.reps):
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            print(f"| {label} | {statistics.median(times):.4g} | {min(times):.4g} |")
            if label.startswith("copy"):
                gbs = 2 * 256 / 1024 / (statistics.median(times) / 1000)
                print(f"| (copy bandwidth, read + write) | {gbs:.0f} GiB/s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
