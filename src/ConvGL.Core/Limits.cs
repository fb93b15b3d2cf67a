namespace ConvGL.Core;

/// <summary>Every size ConvGL refuses to go past, checked before the work or the allocation it would bound (README,
/// "Limits"). Each cap is named in its error so the user knows what was refused and why. The figures leave a
/// 16384 x 16384 gray image (the largest <c>features --size</c>) room to run through a small stack on a machine
/// with a few GiB free, and refuse what only a damaged or hostile file claims.</summary>
public static class Limits
{
    /// <summary>A stack file (JSON text).</summary>
    public const long StackFileBytes = 4L << 20;

    /// <summary>A text kernel file: a 1025 x 1025 kernel at 15 characters a number fits.</summary>
    public const long KernelTextBytes = 16L << 20;

    /// <summary>A .npy header (the dict literal): NumPy itself writes a few hundred bytes.</summary>
    public const int NpyHeaderBytes = 1 << 20;

    /// <summary>A safetensors file, read whole: about 268 M float32 weights.</summary>
    public const long SafeTensorsBytes = 1L << 30;

    /// <summary>An ONNX model or tensor file, read whole (protobuf messages cannot exceed 2 GiB; ResNet-sized models are tens of MB).</summary>
    public const long OnnxFileBytes = 1L << 30;

    /// <summary>An image file, read whole before decoding (a 16384 x 16384 RGBA BMP is 1 GiB).</summary>
    public const long ImageFileBytes = 1536L << 20;

    /// <summary>An image's width or height, read from the file's header before decoding.</summary>
    public const int ImageSide = 32768;

    /// <summary>An image's width * height (16384 x 16384), read from the file's header before decoding.</summary>
    public const long ImagePixels = 1L << 28;

    /// <summary>The memory decoding one image takes, from the header's size before decoding: the decoder's 8-bit
    /// pixels (counted as 4 bytes a pixel, RGBA) plus the float32 image ConvGL keeps (4 bytes a value a channel), so
    /// 16 bytes a pixel loaded as RGB, 8 as gray. 512 MiB is a 32-megapixel colour photo (8192 x 4096) or a
    /// 64-megapixel gray one; a 1 MB PNG of zeros, or a 100-byte WebP, that claims 16384 x 16384 pixels would
    /// otherwise take 4 GiB.</summary>
    public const long ImageDecodeBytes = 512L << 20;

    /// <summary>A kernel's height or width (library, text, .npy and stack kernels).</summary>
    public const int KernelSide = 1025;

    /// <summary>The channels of any feature map of a stack.</summary>
    public const int StackChannels = 16384;

    /// <summary>Values of one feature map of a stack plan (C * H * W, 2 GiB of float32).</summary>
    public const long StackMapValues = 1L << 29;

    /// <summary>Values of every map of a stack plan together, input included (4 GiB of float32): what the
    /// <c>features</c> command and the window hold at once.</summary>
    public const long StackPlanValues = 1L << 30;

    /// <summary>Weights of every conv layer of a stack together (256 MiB of float32), checked as each layer is
    /// read, before a fixed bank is expanded over its input channels.</summary>
    public const long StackWeights = 1L << 26;

    /// <summary>Values of one output channel of a convolution (H * W, 2 GiB of float32), checked as a product from
    /// the geometry before the output exists: three such channels still fit a tensor's int indexing.</summary>
    public const long ConvPlaneValues = 1L << 29;

    /// <summary>Layers of a stack and nodes of an ONNX graph (ResNet18 has 69 nodes, the large vision models a few thousand):
    /// the fifth audit's stack of 100,000 relus (a 1.8 MB file) held the window for minutes, and 400 MB of tiny ONNX
    /// nodes took 27 bytes of memory a byte of file before they were read.</summary>
    public const int Layers = 10_000;

    /// <summary>Entries of an ONNX graph counted before its protobuf objects are built: every node's inputs, outputs and
    /// attributes, and the graph's initializers, inputs, outputs and value_info records.</summary>
    public const int GraphEntries = 1_000_000;

    /// <summary>A stack's or layer's name in a stack file, in characters (one line of printable text).</summary>
    public const int StackNameChars = 200;

    /// <summary>A stack's description in a stack file, in characters (one line of printable text).</summary>
    public const int StackDescriptionChars = 4000;

    /// <summary>A byte count for messages: "1.5 GiB", "16 MiB", "900 bytes".</summary>
    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{n / (double)(1L << 10):0.#} KiB",
        _ => $"{n} bytes",
    };
}
