using System.Globalization;
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
    public static readonly CommandSpec Spec = new(
        "apply", ["INPUT", "OUTPUT"], ["kernel", "mode", "border", "size", "stride", "dilation", "channels", "device"], ["help"],
        RequiredPositionals: 0);

    internal enum Device { Cpu, Gpu }

    private static readonly Dictionary<string, ConvMode> Modes = new() { ["correlate"] = ConvMode.Correlate, ["convolve"] = ConvMode.Convolve };
    private static readonly Dictionary<string, ImageChannels> Channels = new() { ["gray"] = ImageChannels.Gray, ["rgb"] = ImageChannels.Rgb };
    private static readonly Dictionary<string, Device> Devices = new() { ["cpu"] = Device.Cpu, ["gpu"] = Device.Gpu };

    public const string Usage = """
        convgl apply INPUT OUTPUT --kernel NAME|FILE [--mode correlate|convolve]
                     [--border zero|replicate|reflect|symmetric|wrap] [--size same|valid|full|N]
                     [--stride N] [--dilation N] [--channels gray|rgb] [--device cpu|gpu]

          INPUT    image (PNG, JPEG, BMP, TGA) or .npy float array (C,H,W) or (H,W)
          OUTPUT   .npy (float32 (C,H,W), unscaled) or .png (8-bit: clamp to [0,1] when the output is already
                   in [0,1] or the kernel sums to 1, else min-max over all channels)
          --kernel a library name (below; parameters as NAME:v1,v2 or NAME:key=value) or a kernel file
                   (text rows with optional 'scale 1/16' line, or a 2D .npy)
          --mode correlate (default) | convolve      --border reflect (default) | zero | replicate | symmetric | wrap
          --size same (default) | valid | full | N (N pixels of padding on every side)
          --stride N, --dilation N (default 1, both axes)   --channels gray | rgb (default: as the file)

        kernels:
        """;

    public static int Run(CommandLine args)
    {
        if (args.Flag("help"))
        {
            Console.WriteLine(Usage);
            Console.Write(KernelLibrary.Describe());
            return 0;
        }
        string input = args.Positional(0) ?? throw new ConvGLException("apply: missing INPUT (see convgl apply --help)");
        string output = args.Positional(1) ?? throw new ConvGLException("apply: missing OUTPUT (see convgl apply --help)");

        // 1. Everything the command line says, checked before any file is touched.
        bool png = output.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        if (!png && !output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"apply: output '{output}' must end in .npy (float32, unscaled) or .png (8-bit)");
        ConvOptions options = ParseOptions(args);
        ImageChannels? channels = args.Get("channels") is null ? null : args.GetChoice("channels", ImageChannels.Auto, Channels);
        Device device = args.GetChoice("device", Device.Cpu, Devices);

        // 2. The kernel and the input.
        Tensor kernel = KernelSource.Resolve(args.Require("kernel"));
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

    internal static ConvOptions ParseOptions(CommandLine args)
    {
        string? borderName = args.Get("border");
        Border border = Border.Reflect; // OpenCV's default for image filters (DESIGN.md)
        if (borderName is not null && !Borders.TryParse(borderName, out border))
            throw new ConvGLException($"apply: --border must be one of {Borders.Names}, got '{borderName}'");

        string size = args.Get("size", "same");
        PaddingMode padding;
        int pad = 0;
        switch (size)
        {
            case "same": padding = PaddingMode.Same; break;
            case "valid": padding = PaddingMode.Valid; break;
            case "full": padding = PaddingMode.Full; break;
            default:
                if (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pad))
                    throw new ConvGLException($"apply: --size must be same, valid, full or a padding N >= 0, got '{size}'");
                padding = PaddingMode.Explicit;
                break;
        }
        int stride = args.GetInt("stride", 1, min: 1);
        int dilation = args.GetInt("dilation", 1, min: 1);
        return new ConvOptions
        {
            Mode = args.GetChoice("mode", ConvMode.Correlate, Modes),
            Border = border,
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
