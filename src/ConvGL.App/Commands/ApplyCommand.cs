using System.Globalization;
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
/// INPUT: an image (PNG, JPEG, BMP, GIF, WebP, TGA; decoded by content) or a `.npy` float array (C, H, W) or (H, W).
/// `--channels gray|rgb` converts (gray = BT.601 luma; rgb keeps a colour file's three channels and repeats a gray one's); without it an image is RGB when the
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
    private static readonly Argument<string> Input = Opt.Arg("INPUT", "image (PNG, JPEG, BMP, GIF, WebP, TGA) or .npy float array (C,H,W) or (H,W)");
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
        "gray (BT.601 luma) or rgb (a colour file's three channels; a gray one's repeated); default: as the file", s => Parsers.Choice(s, Channels), null, "gray|rgb");
    private static readonly Option<Device> DeviceOption = Opt.DeviceChoice();
    private static readonly Option<ConvAlgorithm> AlgorithmOption = Opt.AlgorithmChoice(
        "auto (default: a cost model picks per kernel and image), direct, separable (rank-1 kernels only) or fft");
    private static readonly Option<bool> Verbose = Opt.Flag("--verbose", "say on stderr which algorithm runs, and why");

    public static Command Create() => CliRoot.Define("apply",
        "One 2D kernel applied to every channel of an image alone; every argument, the input and the kernel are checked " +
        "before anything runs, and OUTPUT is written atomically.",
        typeof(ApplyCommand), Run,
        () => "kernels (--kernel NAME, NAME:v1,v2,... in the order listed, or NAME:key=value,...; each parameter's default, domain and meaning):\n" + KernelLibrary.Describe());

    private static int Run(ParseResult args)
    {
        string input = args.GetValue(Input)!;
        string output = args.GetValue(Output)!;

        // 1. Everything the command line says, checked before any file is touched.
        bool png = output.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        if (!png && !output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ConvGLException($"apply: output '{output}' must end in .npy (float32, unscaled) or .png (8-bit)");
        string kernelArg = args.GetValue(KernelOption)!;
        FileIdentity.CheckNotRead("apply", "OUTPUT", output, ("input", input), ("kernel file", kernelArg));
        // A folder that is not there or takes no file: said now, not after the convolution (a 14 s FFT ran first).
        try
        {
            AtomicFile.CheckWritable(output);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"apply: {e.Message} (nothing was computed)", e);
        }
        ConvOptions options = ParseOptions(args);
        ImageChannels? channels = args.GetValue(ChannelsOption);
        Device device = args.GetValue(DeviceOption);

        // 2. The kernel and the input.
        Tensor kernel = KernelSource.Resolve(kernelArg);
        // An array's output size from its header, before its data is read (a (1, 30000, 30000) array was read whole,
        // 3.6 GB, before the output limit refused it).
        if (input.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) && Npy.ReadShape(input) is { Length: 2 or 3 } shape)
        {
            // An empty array is the file's fault, not the geometry options' (it was blamed on --size/--stride/--dilation).
            if (shape.Contains(0))
                throw new ConvGLException($"apply: '{input}' has shape {Tensor.ShapeText(shape)}: an empty array; an input array must be (C, H, W) or (H, W) with at least one value");
            OutputGeometry(shape[^2], shape[^1], kernel, options);
        }
        Tensor image = LoadInput(input, channels);
        if (png && image.C != 1 && image.C != 3)
            // (--channels converts only 1- and 3-channel inputs: suggesting it for a 4-channel array was a dead end.)
            throw new ConvGLException($"apply: '{input}' has {image.C} channels; a .png output holds 1 or 3 (write .npy, or give a 1- or 3-channel array)");
        // The "output below 1x1" and output-too-large errors before any work, naming the options that set the geometry.
        ConvGeometry geometry = OutputGeometry(image.H, image.W, kernel, options);
        // The algorithm (ConvAlgorithm.cs has the cost model); separable asked of a kernel that is not rank 1 is bad input.
        ConvCostModel model = device == Device.Gpu ? ConvCostModel.Llvmpipe : ConvCostModel.Cpu;
        ConvAlgorithm requested = args.GetValue(AlgorithmOption);
        AlgorithmChoice choice = ConvAlgorithms.ChooseFilter(image.C, image.H, image.W, kernel, options, model, requested);
        // An algorithm asked for that runs far longer than auto's: it runs as asked, after one line saying so (the CPU's
        // model only: the GPU's is llvmpipe's, and llvmpipe refuses such direct loops anyway, see LoopLimit).
        if (device == Device.Cpu && requested != ConvAlgorithm.Auto &&
            SlowChoiceNote(choice, ConvAlgorithms.ChooseFilter(image.C, image.H, image.W, kernel, options, model)) is { } note)
            Console.Error.WriteLine(note);
        if (args.GetValue(Verbose)) Console.Error.WriteLine($"algorithm: {choice}, {image.C}x{image.H}x{image.W} on the {device.ToString().ToLowerInvariant()}, ~{Duration(choice.EstimatedMs)} by the cost model");
        long outputValues = (long)image.C * geometry.Y.Output * geometry.X.Output;
        long fftBytes = device == Device.Cpu && choice.Algorithm == ConvAlgorithm.Fft ? FftBytes(image, kernel, options) : 0;
        // The auto choice's FFT frames would not fit this machine's memory (a tall kernel's frames hold 8 of its heights):
        // the next best algorithm instead, said on one line (asked for by --algorithm fft, it is refused below).
        if (fftBytes > 0 && requested == ConvAlgorithm.Auto && !MemoryBudget.Fits((image.Length + outputValues) * BytesPerValue + fftBytes))
        {
            choice = ConvAlgorithms.ChooseFilter(image.C, image.H, image.W, kernel, options, model, allowFft: false);
            Console.Error.WriteLine($"convgl: apply: the FFT's frames would take {Limits.Bytes(fftBytes)}, more than this machine gives: running {choice.Name} instead (the auto choice, ~{Duration(choice.EstimatedMs)})");
            fftBytes = 0;
        }
        CheckMemory(input, image, outputValues, fftBytes);

        // 3. The work, on the chosen device, with progress on stderr once it has taken a second (Progress.cs).
        using var progress = new Progress("convgl apply");
        Tensor result;
        AlgorithmChoice? ran;
        try
        {
            try
            {
                result = Filter(image, kernel, options, device, choice.Algorithm, progress, out ran);
            }
            catch (FftTooLargeException e) when (requested == ConvAlgorithm.Auto)
            {
                // Even a frame one tile row tall passes this driver's buffers (a picture some 260,000 columns wide: taller ones
                // run in bands of rows): the next best algorithm instead, said on one line.
                choice = ConvAlgorithms.ChooseFilter(image.C, image.H, image.W, kernel, options, model, allowFft: false);
                progress.Interrupt();
                Console.Error.WriteLine($"convgl: apply: {e.Message.Split(';')[0]}: running {choice.Name} instead (the auto choice)");
                result = Filter(image, kernel, options, device, choice.Algorithm, progress, out ran);
            }
        }
        catch (DeviceUnavailableException e)
        {
            progress.Dispose();
            Console.Error.WriteLine($"convgl: {e.Message}");
            return 1;
        }

        // The GPU's own plan where it differs from the model's first estimate (an FFT in bands of rows: the estimate above
        // is made before the GPU is opened, without its buffer sizes).
        if (args.GetValue(Verbose) && ran is not null && ran.Detail != choice.Detail && ran.Algorithm == choice.Algorithm)
            Console.Error.WriteLine($"algorithm as run on the gpu: {ran}");

        // 4. The output, atomically. Finite inputs and kernels can still sum past float32's range (a review: 1e38 taps
        // gave infinities with no word, and a PNG of them came out all white): a PNG has no range to show then, and an
        // .npy is written with the count said.
        int overflowed = 0;
        foreach (float v in result.Data) if (!float.IsFinite(v)) overflowed++;
        if (overflowed > 0)
        {
            string what = string.Create(CultureInfo.InvariantCulture, $"{overflowed} of {result.Length} output values overflow float32 (their sums pass 3.4e38)");
            if (png)
            {
                progress.Dispose();
                throw new ConvGLException($"apply: {what}, so a PNG has no range to show; write .npy to keep the infinities, or scale the kernel or the input down (nothing was written)");
            }
            progress.Interrupt();
            Console.Error.WriteLine($"convgl: apply: {what}: written to {output} as infinities; scale the kernel or the input down for finite values");
        }
        progress.Report(1, $"writing {Path.GetFileName(output)}");
        if (png) ImageIO.SavePng(output, result, PngScalingFor(result, kernel));
        else Npy.Write(output, result);
        progress.Complete();
        return 0;
    }

    /// <summary>Bytes apply takes per value of its input and output together (float32 each): measured ~10 at the peak (a
    /// 4096x4096 array, gaussian:5 to .npy and .png on the CPU: 128 MB of tensors, 433-537 MB resident over the runtime's
    /// ~100 MB), rounded up.</summary>
    internal const int BytesPerValue = 12;

    /// <summary>The CPU FFT's working memory: per channel (the channels run in parallel) its input's spectrum, the kernel's
    /// and the product's, complex doubles over its frame (<see cref="FftConv2D.Plan"/>: the whole picture's, or a band of
    /// rows' where that passes 16 MiB), beside the bordered copy and a band's slice of it (the fifth audit: gaussian:1025
    /// on an 8192x4096 RGB picture, frames of 2048x10240, ended out of memory).</summary>
    internal static long FftBytes(Tensor image, Tensor kernel, ConvOptions o)
    {
        FftConv2D.CpuPlan plan = FftConv2D.Plan(image.H, image.W, kernel.H, kernel.W, o);
        ConvGeometry g = ConvGeometry.Compute(image.H, image.W, kernel.H, kernel.W, o);
        long padded = (long)(image.H + g.Y.PadBefore + g.Y.PadAfter) * (image.W + g.X.PadBefore + g.X.PadAfter);
        return image.C * (plan.Plane * 48 + padded * 8);
    }

    /// <summary>The input and output together, and an FFT's working memory, must fit this machine's memory (<see cref="MemoryBudget"/>).</summary>
    private static void CheckMemory(string path, Tensor image, long outputValues, long workBytes)
    {
        long need = (image.Length + outputValues) * BytesPerValue + workBytes;
        (int w, int h) = MemoryBudget.FittingSize(image.W, image.H, need);
        MemoryBudget.Check($"apply: '{ErrorText.Echo(path)}' ({image.ShapeString}, {image.Length + outputValues} input and output values)", need,
            workBytes > 0 ? $"the FFT's frames take {Limits.Bytes(workBytes)} of it: use a smaller kernel or picture (nothing was written)"
                          : $"scale the input down to about {w}x{h} (nothing was written)");
    }

    /// <summary>The one place the device is chosen.</summary>
    /// <summary>The line that warns of an asked-for algorithm estimated at 20 s or more and 10x or more auto's choice
    /// (<see cref="ConvCostModel"/>), else null.</summary>
    internal static string? SlowChoiceNote(AlgorithmChoice asked, AlgorithmChoice auto) =>
        asked.EstimatedMs >= 20_000 && asked.EstimatedMs >= 10 * auto.EstimatedMs
            ? $"convgl apply: --algorithm {asked.Name} takes ~{Duration(asked.EstimatedMs)} on this input by the cost model, auto ({auto.Name}) " +
              $"~{Duration(auto.EstimatedMs)}; running as asked (Ctrl+C stops it, nothing is written)"
            : null;

    /// <summary>A duration for a person: "350 ms", "4.2 s", "12 min", "13 h".</summary>
    internal static string Duration(double ms) => ms switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{ms:0} ms"),
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.#} s"),
        < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 60_000:0} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000:0.#} h"),
    };

    /// <summary>The filter on <paramref name="device"/>; <paramref name="ran"/>: on the GPU, its plan as run (with the
    /// driver's buffer sizes known: an FFT in bands of rows), else null.</summary>
    internal static Tensor Filter(Tensor image, Tensor kernel, ConvOptions options, Device device, ConvAlgorithm algorithm, Progress? progress,
                                  out AlgorithmChoice? ran)
    {
        ran = null;
        return device switch
        {
            Device.Cpu => CpuFilter(image, kernel, options, algorithm, progress),
            Device.Gpu => GpuApply(image, kernel, options, algorithm, progress, out ran),
            _ => throw new ArgumentOutOfRangeException(nameof(device)),
        };
    }

    /// <summary>The GPU path: <see cref="GpuFilter"/> (direct, separable or FFT shaders) on a headless context (EGL).
    /// A machine without a usable OpenGL 4.3 is a runtime failure (exit 1) whose message says what was found.</summary>
    private static Tensor GpuApply(Tensor image, Tensor kernel, ConvOptions options, ConvAlgorithm algorithm, Progress? progress, out AlgorithmChoice? ran)
    {
        try
        {
            progress?.Report(0, "opening the GPU context");
            using var filter = new GpuFilter { Algorithm = algorithm, Progress = progress is null ? null : progress.Report };
            Tensor result = filter.Filter(image, kernel, options);
            ran = filter.LastChoice;
            return result;
        }
        catch (GpuException e)
        {
            // The driver's own messages that already say "--device cpu" (llvmpipe's loop limit, no GL 4.3) say it once.
            throw new DeviceUnavailableException($"apply: --device gpu failed: {ErrorText.JoinLines(e.Message)}{(e.Message.Contains("--device cpu", StringComparison.Ordinal) ? "" : " (use --device cpu)")}");
        }
    }

    /// <summary>The CPU path, one channel per task (channels are independent under a depthwise filter), by the chosen
    /// algorithm: <see cref="Separable.Filter"/> for a rank-1 kernel (box, gaussian, sobel, ...: kH + kW taps instead of
    /// kH * kW, equal to the 2D sum for every option, accumulated in double), <see cref="FftConv2D.Filter"/> (the
    /// convolution theorem in double) or the reference <see cref="Conv2D.Filter"/>. All agree with NumPy/SciPy to 1e-5 (tested).</summary>
    private static Tensor CpuFilter(Tensor image, Tensor kernel, ConvOptions options, ConvAlgorithm algorithm, Progress? progress)
    {
        double[] column = [], row = [];
        if (algorithm == ConvAlgorithm.Separable && !Separable.TryFactor(kernel, out column, out row))
            throw new ConvGLException($"apply: --algorithm separable needs a rank-1 kernel; this {kernel.H}x{kernel.W} kernel is not");
        var parts = new Tensor[image.C];
        string name = $"cpu {algorithm.ToString().ToLowerInvariant()}";
        int done = 0;
        progress?.Report(0, $"{name}, {image.C} channel{(image.C == 1 ? "" : "s")}");
        Parallel.For(0, image.C, c =>
        {
            parts[c] = algorithm switch
            {
                ConvAlgorithm.Separable => Separable.Filter(image.Channel(c), column, row, options),
                ConvAlgorithm.Fft => FftConv2D.Filter(image.Channel(c), kernel, options),
                _ => Conv2D.Filter(image.Channel(c), kernel, options),
            };
            int n = Interlocked.Increment(ref done);
            progress?.Report((double)n / image.C, $"{name}, {n} of {image.C} channel{(image.C == 1 ? "" : "s")} done");
        });
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

    private static ConvGeometry OutputGeometry(int h, int w, Tensor kernel, ConvOptions options)
    {
        try
        {
            return ConvGeometry.Compute(h, w, kernel.H, kernel.W, options);
        }
        catch (ConvGLException e)
        {
            throw new ConvGLException($"apply: --size/--stride/--dilation: {e.Message}");
        }
    }

    private static Tensor LoadInput(string path, ImageChannels? channels)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return ImageIO.Load(path, channels ?? ImageChannels.Auto);
        Tensor t = Npy.Read(path);
        Npy.RequireFinite(t, "apply", path);
        Npy.RequireChannelsFirst(t, "apply", path);
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
