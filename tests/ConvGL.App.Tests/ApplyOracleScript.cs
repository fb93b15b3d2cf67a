namespace ConvGL.App.Tests;

/// <summary>The NumPy/SciPy side of the apply oracle. It shares no code with ConvGL: it decodes the raw RGB bytes
/// itself, builds the kernels from their textbook definitions (or the numbers the test wrote into the kernel files),
/// computes every case, reads convgl's .npy output with np.load and reports the worst error as JSON.
///
/// Two independent routes, chosen by the case's --size:
/// - same / valid: scipy.ndimage.correlate / convolve with the border mapped to SciPy's names
///   (reflect -> 'mirror', symmetric -> 'reflect', replicate -> 'nearest', wrap -> 'wrap', zero -> 'constant' 0).
///   Dilation is a kernel with d-1 zeros between taps; stride is [::s] slicing of the stride-1 result; valid is
///   the same result cropped by the pad. SciPy centres a kernel of even length n at n//2, one tap right of
///   DESIGN.md's (PyTorch's) floor((n-1)/2) before: correlate therefore gets origin=-1 on an even axis; convolve
///   mirrors the kernel about that centre, which lands on PyTorch's placement, so it keeps origin=0.
/// - full / explicit N: np.pad with NumPy's own mode names, then a plain sum over kernel taps of shifted slices.</summary>
internal static class ApplyOracleScript
{
    public const string Source = """
import json, sys
import numpy as np
import scipy.ndimage as nd

spec = json.load(open(sys.argv[1]))
H, W = spec["height"], spec["width"]
rgb = np.fromfile(spec["raw"], dtype=np.uint8).reshape(H, W, 3).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
gray = (0.299 * rgb[0].astype(np.float64) + 0.587 * rgb[1].astype(np.float64) + 0.114 * rgb[2].astype(np.float64)).astype(np.float32)[None]

SCIPY = {"zero": "constant", "replicate": "nearest", "reflect": "mirror", "symmetric": "reflect", "wrap": "wrap"}
NPPAD = {"zero": "constant", "replicate": "edge", "reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap"}

def gaussian(n, sigma):
    x = np.arange(n) - n // 2
    g = np.exp(-x * x / (2.0 * sigma * sigma))
    g /= g.sum()
    return np.outer(g, g)

def log(n, sigma):
    x = np.arange(n) - n // 2
    r2 = x[:, None] ** 2 + x[None, :] ** 2
    k = -(1 - r2 / (2 * sigma ** 2)) * np.exp(-r2 / (2 * sigma ** 2)) / (np.pi * sigma ** 4)
    return k - k.mean()

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "box:3": np.full((3, 3), 1 / 9),
    "box:4": np.full((4, 4), 1 / 16),
    "gaussian:5,1.2": gaussian(5, 1.2),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
    "sobel-x": SOBEL_X,
    "sobel-y": SOBEL_X.T.copy(),
    "scharr-x": np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], float),
    "laplacian:8": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], float),
    "log:7,1.0": log(7, 1.0),
    "vertical-edge": np.array([[1, 0, -1]] * 3, float),
    "motion-blur:5,0": np.vstack([np.zeros((2, 5)), np.full((1, 5), 0.2), np.zeros((2, 5))]),
}

def dilate(k, d):
    kd = np.zeros(((k.shape[0] - 1) * d + 1, (k.shape[1] - 1) * d + 1))
    kd[::d, ::d] = k
    return kd

def expected_plane(plane, k, mode, border, size, s, d):
    plane = plane.astype(np.float64)
    kd = dilate(k, d)
    sy, sx = kd.shape[0] - 1, kd.shape[1] - 1
    h, w = plane.shape
    if size in ("same", "valid"):
        if mode == "correlate":
            origin = [-1 if n % 2 == 0 else 0 for n in kd.shape]
            dense = nd.correlate(plane, kd, mode=SCIPY[border], cval=0.0, origin=origin)
        else:
            dense = nd.convolve(plane, kd, mode=SCIPY[border], cval=0.0, origin=0)
        if size == "same":
            return dense[::s, ::s]
        by, bx = sy // 2, sx // 2
        return dense[by:h - sy + by:s, bx:w - sx + bx:s]
    if size == "full":
        pads = ((sy, sy), (sx, sx))
    else:
        p = int(size)
        pads = ((p, p), (p, p))
    padded = np.pad(plane, pads, mode=NPPAD[border])
    kk = kd if mode == "correlate" else kd[::-1, ::-1]
    oh, ow = padded.shape[0] - sy, padded.shape[1] - sx
    out = np.zeros((oh, ow))
    for i in range(kk.shape[0]):
        for j in range(kk.shape[1]):
            if kk[i, j] != 0:
                out += kk[i, j] * padded[i:i + oh, j:j + ow]
    return out[::s, ::s]

results = []
for case in spec["cases"]:
    k = np.array(case["matrix"], float) if "matrix" in case else (np.load(case["npy"]).astype(np.float64) if "npy" in case else KERNELS[case["kernel"]])
    if case.get("input") == "gray-npy":
        src = gray
    else:
        src = gray if case["channels"] == "gray" else rgb
    exp = np.stack([expected_plane(p, k, case["mode"], case["border"], case["size"], case["stride"], case["dilation"]) for p in src])
    got = np.load(case["output"])
    r = {"id": case["id"], "expected_shape": list(exp.shape), "shape": list(got.shape), "dtype": str(got.dtype)}
    if got.shape == exp.shape:
        err = np.abs(got.astype(np.float64) - exp)
        allowed = 1e-5 * np.maximum(1.0, np.abs(exp))
        worst = np.unravel_index(np.argmax(err - allowed), err.shape)
        r.update(ok=bool(np.all(err <= allowed)), max_err=float(err.max()), worst=[int(i) for i in worst],
                 got=float(got[worst]), want=float(exp[worst]), range=[float(exp.min()), float(exp.max())])
    else:
        r.update(ok=False)
    results.append(r)
print(json.dumps(results))
""";
}
