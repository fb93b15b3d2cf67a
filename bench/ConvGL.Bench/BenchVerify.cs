using System.Globalization;
using ConvGL.Core;

namespace ConvGL.Bench;

internal readonly record struct Verification(bool Ok, string Message);

/// <summary>Checks a GPU output against the CPU reference on two crops of the input: the top-left and the
/// bottom-right corner, so both image borders are covered. The reference runs on the crop alone, so near the crop's
/// inner edges it sees a border the full image does not have; only outputs whose every tap reads the same input
/// value in the crop as in the full image (worked out with <see cref="Borders.Map"/> for the case's border) are
/// compared. Tolerance as the parity tests: |gpu - cpu| &lt;= 1e-4 + 1e-4 |cpu| (float32 sums of up to 225 taps on
/// the GPU against the reference's double sums).</summary>
internal static class BenchVerify
{
    private const int CropH = 48, CropW = 64;
    private const double Abs = 1e-4, Rel = 1e-4;

    public static Verification Check(BenchCase c, Tensor input, Tensor gpu)
    {
        WindowGeometry win = c.Window;
        ConvOptions o = win.Options;
        ConvGeometry full = ConvGeometry.Compute(input.H, input.W, win.KernelY, win.KernelX, o);
        if (gpu.H != full.Y.Output || gpu.W != full.X.Output)
            return new(false, $"GPU output is {gpu.ShapeString}, the reference's is ({c.Cout}, {full.Y.Output}, {full.X.Output})");
        long compared = 0;
        double worst = 0;
        // The output rows and columns each crop compared: on a small map the two crops overlap (an audit read "65536
        // values" for a 32768-value output), and the note counts each value once.
        var cropRows = new List<HashSet<int>>();
        var cropCols = new List<HashSet<int>>();
        foreach (bool bottomRight in new[] { false, true })
        {
            // The crop starts on a stride multiple, so crop output y' is full output y' + top / stride.
            // A crop grows with the kernel's span, so a big kernel still has outputs that read only the crop.
            int cropH = CropH + (win.KernelY - 1) * o.DilationY, cropW = CropW + (win.KernelX - 1) * o.DilationX;
            int top = bottomRight ? Math.Max(0, input.H - cropH) / o.StrideY * o.StrideY : 0;
            int left = bottomRight ? Math.Max(0, input.W - cropW) / o.StrideX * o.StrideX : 0;
            int h = bottomRight ? input.H - top : Math.Min(cropH, input.H);
            int w = bottomRight ? input.W - left : Math.Min(cropW, input.W);
            Tensor cpu = c.Reference(Crop(input, top, left, h, w));
            ConvGeometry g = ConvGeometry.Compute(h, w, win.KernelY, win.KernelX, o);
            bool[] rows = Exact(input.H, top, h, cpu.H, win.KernelY, o.StrideY, o.DilationY, g.Y.PadBefore, o.Border);
            bool[] cols = Exact(input.W, left, w, cpu.W, win.KernelX, o.StrideX, o.DilationX, g.X.PadBefore, o.Border);
            int dy = top / o.StrideY, dx = left / o.StrideX;
            cropRows.Add(Enumerable.Range(0, cpu.H).Where(y => rows[y] && y + dy < gpu.H).Select(y => y + dy).ToHashSet());
            cropCols.Add(Enumerable.Range(0, cpu.W).Where(x => cols[x] && x + dx < gpu.W).Select(x => x + dx).ToHashSet());
            for (int ch = 0; ch < cpu.C; ch++)
                for (int y = 0; y < cpu.H; y++)
                {
                    if (!rows[y] || y + dy >= gpu.H) continue;
                    for (int x = 0; x < cpu.W; x++)
                    {
                        if (!cols[x] || x + dx >= gpu.W) continue;
                        float want = cpu[ch, y, x], got = gpu[ch, y + dy, x + dx];
                        double err = Math.Abs((double)got - want);
                        if (!(err <= Abs + Rel * Math.Abs(want)))
                            return new(false, string.Create(CultureInfo.InvariantCulture,
                                $"output (c={ch}, y={y + dy}, x={x + dx}) is {got:G9} on the GPU, {want:G9} in the CPU reference ({(c.CpuAlgo == "Pool2D.Apply" ? "Pool2D.Apply" : "direct Conv2D")}), abs diff {err:G3} > {Abs:G2} + {Rel:G2} * abs(cpu)"));
                        worst = Math.Max(worst, err);
                        compared++;
                    }
                }
        }
        if (compared == 0) return new(false, "no output could be compared (crop too small for the kernel): the check cannot vouch for this kernel");
        compared -= (long)gpu.C * cropRows[0].Intersect(cropRows[1]).Count() * cropCols[0].Intersect(cropCols[1]).Count();
        return new(true, string.Create(CultureInfo.InvariantCulture, $"verified on 2 corner crops ({compared} values, max abs err {worst:0.0e0})"));
    }

    /// <summary>Every value of the GPU's output against the peer's (<paramref name="peerName"/>), both already checked
    /// against the reference on the corners: |gpu - peer| &lt;= 1e-4 + 1e-4 |peer|, the corners' tolerance.</summary>
    public static Verification Agree(Tensor gpu, Tensor peer, string peerName)
    {
        if (!gpu.Shape.SequenceEqual(peer.Shape))
            return new(false, $"the GPU's output is {gpu.ShapeString}, the {peerName} peer's {peer.ShapeString}");
        double worst = 0;
        for (int i = 0; i < gpu.Length; i++)
        {
            float got = gpu.Data[i], want = peer.Data[i];
            double err = Math.Abs((double)got - want);
            if (!(err <= Abs + Rel * Math.Abs(want)))
            {
                int plane = gpu.Rank >= 2 ? gpu.Shape[^1] * gpu.Shape[^2] : 1, w = gpu.Rank >= 1 ? gpu.Shape[^1] : 1;
                return new(false, string.Create(CultureInfo.InvariantCulture,
                    $"output (c={i / plane}, y={i % plane / w}, x={i % w}) is {got:G9} on the GPU, {want:G9} from {peerName}, abs diff {err:G3} > {Abs:G2} + {Rel:G2} * abs(peer); both matched the reference on the corner crops, so one of them is wrong away from the corners"));
            }
            worst = Math.Max(worst, err);
        }
        return new(true, string.Create(CultureInfo.InvariantCulture, $"all {gpu.Length} values equal to {peerName}'s (max abs diff {worst:0.0e0})"));
    }

    /// <summary>Per crop output index along one axis: true when every tap maps, through the border, to the same input
    /// position in the crop (length <paramref name="m"/> at offset <paramref name="offset"/>) as in the full axis.</summary>
    private static bool[] Exact(int n, int offset, int m, int outputs, int k, int stride, int dilation, int padBefore, Border border)
    {
        var exact = new bool[outputs];
        for (int y = 0; y < outputs; y++)
        {
            exact[y] = true;
            for (int i = 0; i < k && exact[y]; i++)
            {
                int inCrop = y * stride - padBefore + i * dilation;
                int fromCrop = Borders.Map(inCrop, m, border), fromFull = Borders.Map(inCrop + offset, n, border);
                exact[y] = fromCrop < 0 ? fromFull < 0 : fromFull == fromCrop + offset;
            }
        }
        return exact;
    }

    private static Tensor Crop(Tensor t, int top, int left, int h, int w)
    {
        var c = Tensor.Chw(t.C, h, w);
        for (int ch = 0; ch < t.C; ch++)
            for (int y = 0; y < h; y++)
                Array.Copy(t.Data, (ch * t.H + top + y) * t.W + left, c.Data, (ch * h + y) * w, w);
        return c;
    }
}

