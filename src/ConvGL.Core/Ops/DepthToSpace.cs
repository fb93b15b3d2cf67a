namespace ConvGL.Core.Ops;

/// <summary>How <see cref="DepthToSpace"/> reads its channels: ONNX's DCR (depth-column-row: the block offset is the
/// outer part of the channel index) or CRD (column-row-depth: PyTorch's PixelShuffle, the offset the inner part).</summary>
public enum DepthToSpaceMode { Dcr, Crd }

/// <summary>Channels to pixels and back (ONNX DepthToSpace / SpaceToDepth, PyTorch PixelShuffle / PixelUnshuffle: the
/// "sub-pixel convolution" of super-resolution nets). DepthToSpace with block b: (C, H, W) -> (C / b^2, H b, W b),
/// output (c, h b + i, w b + j) = input (DCR: (i b + j) C / b^2 + c; CRD: c b^2 + i b + j, h, w). SpaceToDepth is
/// DCR's inverse: (C, H, W) -> (C b^2, H / b, W / b), output ((i b + j) C + c, h, w) = input (c, h b + i, w b + j).
/// A pure permutation of the values.</summary>
public static class DepthToSpace
{
    public static (int C, int H, int W) OutputShape(int c, int h, int w, int block, bool toSpace)
    {
        if (block < 1 || block > 4096) throw new ConvGLException($"blocksize {block} must be in [1, 4096]");
        long b2 = (long)block * block;
        if (toSpace)
        {
            if (c % b2 != 0) throw new ConvGLException($"depth_to_space with blocksize {block} needs channels divisible by {b2}, got {c}");
            if ((long)h * block * w * block > Limits.ConvPlaneValues) throw new ConvGLException($"depth_to_space of a {w}x{h} map by {block} is too large");
            return ((int)(c / b2), h * block, w * block);
        }
        if (h % block != 0 || w % block != 0) throw new ConvGLException($"space_to_depth with blocksize {block} needs a size divisible by it, got {w}x{h}");
        if (c * b2 > Limits.StackChannels) throw new ConvGLException($"space_to_depth of {c} channels by {block} gives more than {Limits.StackChannels} channels");
        return ((int)(c * b2), h / block, w / block);
    }

    public static Tensor ToSpace(Tensor input, int block, DepthToSpaceMode mode)
    {
        if (input.Rank != 3) throw new ConvGLException($"depth_to_space takes a (C, H, W) map, got {input.ShapeString}");
        (int c, int h, int w) = OutputShape(input.C, input.H, input.W, block, toSpace: true);
        var output = Tensor.Chw(c, h, w);
        for (int oc = 0; oc < c; oc++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = y % block, j = x % block;
                    int ic = mode == DepthToSpaceMode.Dcr ? (i * block + j) * c + oc : (oc * block + i) * block + j;
                    output[oc, y, x] = input[ic, y / block, x / block];
                }
        return output;
    }

    public static Tensor ToDepth(Tensor input, int block)
    {
        if (input.Rank != 3) throw new ConvGLException($"space_to_depth takes a (C, H, W) map, got {input.ShapeString}");
        (int c, int h, int w) = OutputShape(input.C, input.H, input.W, block, toSpace: false);
        var output = Tensor.Chw(c, h, w);
        for (int oc = 0; oc < c; oc++)
        {
            int offset = oc / input.C, ic = oc % input.C, i = offset / block, j = offset % block;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    output[oc, y, x] = input[ic, y * block + i, x * block + j];
        }
        return output;
    }
}
