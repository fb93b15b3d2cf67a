using System.CommandLine;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.IO;
using ConvGL.Core.Kernels;
using ConvGL.Core.Ops;
using ConvGL.Gpu;

namespace ConvGL.App.Commands;

/// <summary>`convgl apply INPUT OUTPUT --kernel NAME|FILE ...`: one 2D kernel applied to every channel of an
/// image alone (DESIGN.md "Command line").
///
/// INPUT: an image (PNG, JPEG, BMP, TGA; decoded by content) or a `.npy` float array (C, H, W) or (H, W).
/// `--channels gray|rgb` converts (gray = BT.601 luma, rgb = gray repeated); without it an image is RGB when the
/// file stores colour and gray when it stores gray, and a `.npy` keeps its channels.
///
/// OUTPUT: `.npy` holds the float32 (C, H, W) result unscaled. `.png` holds 8 bits per channel, normalised by this
/// rule (<see cref="PngScalingFor"/>): if every output value lies in [0, 1], or the kernel sums to 1 (a smoothing or
/// sharpening filter, whose output is an image and whose overshoot saturates as OpenCV's 8-bit output does), values
/// are clamped to [0, 1] and scaled by 255; otherwise (edge detectors and other signed responses) the output is
/// min-max normalised over all channels together, so 0 lands mid-gray for a symmetric response.
///
/// Every argument, the input and the kernel are checked before anything runs; any bad input is one line on stderr
/// and exit 2, and the output file is written atomically (nothing is left behind on failure).</summary>
internal static class ApplyCommand
{
    private static readonly Dictionary<string, ImageChannels> Channels = new() { ["gray"] = ImageChannels.Gray, ["rgb"] = ImageChannels.Rgb };
    private static readonly Argument<string> Input = Opt.Arg("INPUT", "image (PNG, JPEG, BMP, TGA) or .npy float array (C,H,W) or (H,W)");
    private static readonly Argument<string> Output = Opt.Arg("OUTPUT",
        ".npy (float32 (C,H,W), unscaled) or .png (8-bit: clamp to [0,1] when the output is already in [0,1] or the kernel sums to 1, else min-max over all channels)");
    private static readonly Option<string?> KernelOption = Opt.Text("--kernel",
        "a library name (below; parameters as NAME:v1,v2 or NAME:key=value) or a kernel file (text rows with optional 'scale 1/16' line, or a 2D .npy)",
        "NAME|FILE", required: true);
    private static readonly Option<ConvMode> Mode = Opt.ModeChoice();
    private static readonly Option<Border> BorderOption = Opt.BorderChoice(Border.Reflect);
    private static readonly Option<(PaddingMode Mode, int Pad)> Size = Opt.Parsed("--size",
        "output size: same (default), valid, full, or N pixels of padding on every side", Parsers.Padding, (PaddingMode.Same, 0), "same|valid|full|N");
    private static readonly Option<int> Stride = Opt.Int("--stride", "stride, both axes", 1, min: 1);
    private static readonly Option<int> Dilation = Opt.Int("--dilation", "dilation, both axes", 1, min: 1);
    private static readonly Option<ImageChannels?> ChannelsOption = Opt.Parsed<ImageChannels?>("--channels",
        "gray (BT.601 luma) or rgb (gray repeated); default: as the file", s => Parsers.Choice(s, Channels), null, "gray|rgb");
    private static readonly Option<Device> DeviceOption = Opt.DeviceChoice();

    public static Command Create() => CliRoot.Define("apply",
        "One 2D kernel applied to every channel of an image alone; every argument, the input and the kernel are checked " +
        "before anything runs, and OUTPUT is written atomically.",
        typeof(ApplyCommand), Run, () => "kernels:\n" + KernelLibrary.Describe());

    private static int Run(ParseResult args)
    {
        string input = args.GetValue(Input)!;
        string output = args.GetValue(Output)!;

        // 1. Everything the command line says, checked before any file is touched.
        bool png = output.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        if (!png && !output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"apply: output '{output}' must end in .npy (float32, unscaled) or .png (8-bit)");
        ConvOptions options = ParseOptions(args);
        ImageChannels? channels = args.GetValue(ChannelsOption);
        Device device = args.GetValue(DeviceOption);

        // 2. The kernel and the input.
        Tensor kernel = KernelSource.Resolve(args.GetValue(KernelOption)!);
        Tensor image = LoadInput(input, channels);
        if (png && image.C != 1 && image.C != 3)
            throw new ConvGLException($"apply: '{input}' has {image.C} channels; a .png output holds 1 or 3 (write .npy, or pass --channels gray|rgb)");
        // Throws the "output below 1x1" error before any work.
        ConvGeometry.Compute(image.H, image.W, kernel.H, kernel.W, options);

        // 3. The work, on the chosen device.
        Tensor result;
        try
        {
            result = Filter(image, kernel, options, device);
        }
        catch (DeviceUnavailableException e)
        {
            Console.Error.WriteLine($"convgl: {e.Message}");
            return 1;
        }

        // 4. The output, atomically.
        if (png) ImageIO.SavePng(output, result, PngScalingFor(result, kernel));
        else Npy.Write(output, result);
        return 0;
    }

    /// <summary>The one place the device is chosen.</summary>
    internal static Tensor Filter(Tensor image, Tensor kernel, ConvOptions options, Device device) => device switch
    {
        Device.Cpu => CpuFilter(image, kernel, options),
        Device.Gpu => GpuApply(image, kernel, options),
        _ => throw new ArgumentOutOfRangeException(nameof(device)),
    };

    /// <summary>The GPU path: shaders/conv2d.comp on a headless context (EGL). A machine without a usable
    /// OpenGL 4.3 is a runtime failure (exit 1) whose message says what was found.</summary>
    private static Tensor GpuApply(Tensor image, Tensor kernel, ConvOptions options)
    {
        try
        {
            using var filter = new GpuFilter();
            return filter.Filter(image, kernel, options);
        }
        catch (GpuException e)
        {
            throw new DeviceUnavailableException($"apply: --device gpu failed: {e.Message} (use --device cpu)");
        }
    }

    /// <summary>The CPU path, one channel per task (channels are independent under a depthwise filter). A rank-1
    /// kernel (box, gaussian, sobel, scharr, prewitt, ...) runs as two 1D passes (<see cref="Separable.Filter"/>,
    /// kH + kW taps instead of kH * kW, equal to the 2D sum for every option and accumulated in double); any
    /// other kernel runs the reference <see cref="Conv2D.Filter"/>. Both agree with NumPy/SciPy to 1e-5 (tested).</summary>
    private static Tensor CpuFilter(Tensor image, Tensor kernel, ConvOptions options)
    {
        double[] column = [], row = [];
        bool separable = kernel.H > 1 && kernel.W > 1 && Separable.TryFactor(kernel, out column, out row, 1e-6);
        var parts = new Tensor[image.C];
        Parallel.For(0, image.C, c => parts[c] = separable
            ? Separable.Filter(image.Channel(c), column, row, options)
            : Conv2D.Filter(image.Channel(c), kernel, options));
        return Tensor.Concat(parts);
    }

    /// <summary>The .png normalisation rule documented on the class.</summary>
    internal static PngScaling PngScalingFor(Tensor result, Tensor kernel)
    {
        if (ImageIO.AutoScaling(result) == PngScaling.Clamp) return PngScaling.Clamp;
        double sum = 0, abs = 0;
        foreach (float v in kernel.Data)
        {
            sum += v;
            abs += Math.Abs(v);
        }
        return Math.Abs(sum - 1) <= 1e-4 * Math.Max(1, abs) ? PngScaling.Clamp : PngScaling.MinMax;
    }

    private static ConvOptions ParseOptions(ParseResult args)
    {
        (PaddingMode padding, int pad) = args.GetValue(Size);
        int stride = args.GetValue(Stride), dilation = args.GetValue(Dilation);
        return new ConvOptions
        {
            Mode = args.GetValue(Mode),
            Border = args.GetValue(BorderOption),
            Padding = padding,
            PadY = pad,
            PadX = pad,
            StrideY = stride,
            StrideX = stride,
            DilationY = dilation,
            DilationX = dilation,
        };
    }

    private static Tensor LoadInput(string path, ImageChannels? channels)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return ImageIO.Load(path, channels ?? ImageChannels.Auto);
        Tensor t = Npy.Read(path);
        if (t.Rank == 2) t = t.Reshape(1, t.H, t.W);
        if (t.Rank != 3 || t.Length == 0)
            throw new ConvGLException($"apply: '{path}' has shape {t.ShapeString}; an input array must be (C, H, W) or (H, W)");
        switch (channels)
        {
            case null:
                return t;
            case ImageChannels.Gray when t.C is 1 or 3:
                return ImageIO.ToGray(t);
            case ImageChannels.Rgb when t.C == 3:
                return t;
            case ImageChannels.Rgb when t.C == 1:
                return Tensor.Concat([t, t, t]);
            default:
                throw new ConvGLException($"apply: --channels {channels.ToString()!.ToLowerInvariant()} needs a 1- or 3-channel input, '{path}' has {t.C}");
        }
    }

    /// <summary>A device that exists in the command line but not in this build: exit 1 (a runtime limit, not bad input).</summary>
    private sealed class DeviceUnavailableException(string message) : Exception(message);
}
