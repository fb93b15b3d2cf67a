using ConvGL.Core.Learning;
using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>`convgl train` through the executable: where it writes by default and what it reports.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Without --out the files go to ./trained (never over the shipped assets/stacks/learned.*), and the run
    /// ends with the units that stayed inactive on the held-out images.</summary>
    [Fact]
    public void Train_Default_WritesToTrained_AndReportsInactiveUnits()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        string trained = Path.Combine(_dir, "trained");
        Assert.Equal(["learned-curve.png", "learned.json", "learned.safetensors"],
            Directory.GetFiles(trained).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(16, SafeTensors.Read(Path.Combine(trained, "learned.safetensors"))["conv2.weight"].Shape[0]);
        Assert.Contains("--out trained ", r.Stdout);
        string report = r.Stdout.Split('\n').Single(l => l.StartsWith("inactive units on the held-out images", StringComparison.Ordinal));
        // 8 conv1 + 16 conv2 channels are measured; the line either names the inactive ones or says none.
        Assert.True(report.Contains("of 24", StringComparison.Ordinal), report);
    }

    /// <summary>The choices that map to a bool (--schedule, --init) take their word, and the run's reproduction line
    /// spells every setting out, the dead-unit fixes included.</summary>
    [Fact]
    public void Train_ScheduleInitAndWarmupChoices_AreParsedAndEchoed()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12",
            "--schedule", "constant", "--init", "uniform", "--warmup", "0", "--out", "run");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Contains("--schedule constant --warmup 0 --init uniform", r.Stdout);
        Assert.Contains("inactive units ", r.Stdout.Split('\n').Single(l => l.TrimStart().StartsWith("epoch ", StringComparison.Ordinal)));
        ApplyProcess.Result bad = ApplyProcess.Convgl(_dir, "train", "--warmup", "1", "--out", "run2");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--warmup (a fraction of the steps) must be in [0, 1), got 1", bad.Stderr);
    }

    /// <summary>What a third audit found: sizes without an upper cap (out of memory), names that are not plain file
    /// names (a newline or an escape in the files' names), an empty --out (internal error), --reps past any use; each is
    /// one line, exit 2, before any work.</summary>
    [Theory]
    [InlineData("--samples 2147483647", "--samples must be 10..1000000")]
    [InlineData("--test-samples 2000000", "--test-samples must be 10..1000000")]
    [InlineData("--samples 1000000 --test-samples 1000000 --size 256", "hold more than 1073741824 values")]
    [InlineData("--batch 2147483647", "--batch must be 1..60")]
    [InlineData("--workers 100000", "--workers must be 0 (one per core) .. 256")]
    [InlineData("--epochs 2147483647", "--epochs must be 1..10000")]
    [InlineData("--name ..", "must be a plain file name")]
    [InlineData("--name a\u001b[31m", "must be a plain file name")]
    [InlineData("--out ", "--out is empty")]
    public void Train_BadSizesAndNames_AreOneLine_Exit2_NothingWritten(string args, string mentions)
    {
        // The case's options, the small run's for the rest (each option once).
        string[] given = args.Split(' ').Select(a => System.Text.RegularExpressions.Regex.Unescape(a)).ToArray();
        var argv = new List<string> { "train" };
        argv.AddRange(given);
        foreach ((string option, string value) in new[] { ("--epochs", "1"), ("--samples", "60"), ("--test-samples", "20"), ("--size", "12") })
            if (!given.Contains(option)) argv.AddRange([option, value]);
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, [.. argv]);
        Assert.True(r.ExitCode == 2, $"{args}: exit {r.ExitCode}, stderr {r.Stderr}");
        Assert.Contains(mentions, r.Stderr);
        Assert.StartsWith("convgl: train: ", r.Stderr); // the range checks of the trainer's settings too
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    /// <summary>A training run that diverges (an --lr of 1e30) writes nothing: its weights were all infinities, which
    /// the stack loader then refused.</summary>
    [Fact]
    public void Train_Diverged_WritesNothing_Exit2()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", "--lr", "1e30", "--out", "run");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the training diverged", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")), "a failed run left its --out folder");
        // Finite but diverged: --lr 1e6 ended with a test loss of ~1e18 (against ln 10 = 2.3 before it), most units
        // dead, at chance; it was written as a trained network.
        r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", "--lr", "1e6", "--out", "run");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the training diverged (test loss ", r.Stderr);
        Assert.Contains(" before it, held-out accuracy ", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")), "a diverged run left its --out folder");
    }

    /// <summary>The third audit's late failures: an --out the run cannot write was found only after the training, and a
    /// --preview that could not be written failed after the weights and the stack file were down. Both are found
    /// before the first epoch now (a file system that is read-only even for root, /proc, stands in for a read-only
    /// folder), and a run writes its files all or none, making its folders only then.</summary>
    [Theory]
    [InlineData("--out /proc/convgl-trained", "train: --out: cannot write in '/proc'")]
    [InlineData("--out run --preview /proc/convgl-preview.png", "train: --preview: cannot write in '/proc'")]
    [InlineData("--out run --preview sheet.png", "train: --preview 'sheet.png' is a folder; give a .png file name")]
    [InlineData("--out run --preview run/learned-curve.png", "train: --preview 'run/learned-curve.png' is the run's own learned-curve.png in --out; give the sample sheet another name")]
    [InlineData("--out run --name n --preview run/./n-curve.png", "train: --preview 'run/./n-curve.png' is the run's own n-curve.png in --out")]
    public void Train_UnwritableOutputs_AreFoundBeforeTraining_AndNothingIsLeft(string args, string mentions)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "sheet.png"));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, ["train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", .. args.Split(' ')]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: " + mentions, r.Stderr);
        Assert.DoesNotContain("epoch", r.Stdout);
        Assert.Equal([Path.Combine(_dir, "sheet.png")], Directory.GetFileSystemEntries(_dir));
        Assert.False(Directory.Exists("/proc/convgl-trained"));
    }

    /// <summary>A CLI review: a folder (or a device) where one of the run's files goes was found only after the whole
    /// training; every output name is checked before the first epoch.</summary>
    [Theory]
    [InlineData("learned.json", "it is a folder; give a file name")]
    [InlineData("learned-curve.png", "it is a folder; give a file name")]
    [InlineData("learned.safetensors", "it is a device, FIFO or socket, not a file")]
    public void Train_AnOutputFileThatCannotBeWritten_IsFoundBeforeTraining(string file, string mentions)
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        if (file.EndsWith(".safetensors", StringComparison.Ordinal)) File.CreateSymbolicLink(Path.Combine(run, file), "/dev/null");
        else Directory.CreateDirectory(Path.Combine(run, file));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", "--out", "run");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith($"convgl: train: cannot write '{Path.Combine("run", file)}': {mentions}", r.Stderr);
        Assert.EndsWith("(nothing was trained)", r.Stderr.Trim());
        Assert.DoesNotContain("epoch", r.Stdout);
    }

    /// <summary>The quick audit: a --preview through a link to the run's curve (dangling before the run) or through a
    /// linked --out folder replaced the curve; it is compared where the write really lands.</summary>
    [Fact]
    public void Train_APreviewThatLeadsToTheRunsOwnFile_ThroughLinks_IsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "run"));
        File.CreateSymbolicLink(Path.Combine(_dir, "run", "alias.png"), "m-curve.png");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "linked"), Path.Combine(_dir, "run"));
        foreach (string[] args in new[] { new[] { "--out", "run", "--preview", "run/alias.png" }, ["--out", "linked", "--preview", "run/m-curve.png"] })
        {
            ApplyProcess.Result r = ApplyProcess.Convgl(_dir, ["train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", "--name", "m", .. args]);
            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains("is the run's own m-curve.png in --out", r.Stderr);
            Assert.False(File.Exists(Path.Combine(_dir, "run", "m-curve.png")));
        }
    }

    /// <summary>--out and --preview in folders that do not exist yet: both are made when the files go down.</summary>
    [Fact]
    public void Train_NewNestedFolders_AreMadeForTheOutputs()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12",
            "--out", "a/b", "--preview", "c/d/sheet.png");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(3, Directory.GetFiles(Path.Combine(_dir, "a", "b")).Length);
        Assert.True(File.Exists(Path.Combine(_dir, "c", "d", "sheet.png")));
        Assert.Equal(0x89, File.ReadAllBytes(Path.Combine(_dir, "c", "d", "sheet.png"))[0]);
    }

    /// <summary>Run as root, `train --fit-kernel --out /dev/null` renamed a regular file over the device node; any
    /// writer now refuses a target that is a device, FIFO or socket. A FIFO stands in for the device here.</summary>
    [Fact]
    public void AtomicWrite_OverAFifo_IsRefused_AndTheFifoKept()
    {
        string fifo = Path.Combine(_dir, "pipe");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo])) mk!.WaitForExit();
        var e = Assert.Throws<ConvGL.Core.ConvGLException>(() => AtomicFile.WriteAllBytes(fifo, [1, 2, 3]));
        Assert.Contains("is a device, FIFO or socket", e.Message);
        Assert.False(ConvGL.Core.IO.BoundedFile.IsRegularFile(fifo));
        Assert.Equal([fifo], Directory.GetFileSystemEntries(_dir));
        ApplyProcess.Result bench = ApplyProcess.Convgl(_dir, "bench", "--quick", "--device", "cpu", "--case", "gauss5-2d", "--reps", "200000");
        Assert.Equal(2, bench.ExitCode);
        Assert.Contains("--reps 200000 is over 100000", bench.Stderr);
    }

    /// <summary>An audit: the fit checked its --out only after fitting (15 s and 62 lines of steps and kernel on stdout,
    /// then the error). A missing folder and a folder's name are refused before the first step (a read-only file too, where
    /// the user is not root: AtomicFile.Check).</summary>
    [Fact]
    public void FitKernel_AnOutItCannotWrite_IsRefusedBeforeTheFit()
    {
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--hidden", "sobel-x", "--out", "nodir/k.txt");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith($"convgl: train: --out: cannot write 'nodir/k.txt': directory '{Path.Combine(_dir, "nodir")}' does not exist; create it or give another path (nothing was fitted)", r.Stderr);
        Assert.DoesNotContain("step", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("fitting", r.Stdout, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(_dir, "d.txt"));
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--hidden", "sobel-x", "--out", "d.txt");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: train: --out 'd.txt' is a directory; give a kernel file name", r.Stderr);

        Assert.True(Directory.Exists(Path.Combine(_dir, "d.txt")));
    }

    /// <summary>The fit's kernel file holds the fitted float32 taps exactly (rounded to 4 decimals, a fitted 5x5 Gaussian
    /// filtered its input with an mse of 1.9e-8 where the fit had printed 2e-16).</summary>
    [Fact]
    public void FitKernel_File_HoldsTheFittedTapsExactly()
    {
        var options = new ConvGL.Core.ConvOptions { Border = ConvGL.Core.Border.Reflect };
        var input = ConvGL.Core.Tensor.Chw(1, 32, 32, Enumerable.Range(0, 1024).Select(i => (float)Math.Sin(i * 0.37) + (i % 7) * 0.1f).ToArray());
        ConvGL.Core.Tensor gauss = ConvGL.Core.Kernels.KernelLibrary.Get("gaussian:5,1");
        KernelFitResult r = KernelFit.Fit(input, ConvGL.Core.Ops.Conv2D.Filter(input, gauss, options), 5, 5, options);
        ConvGL.Core.Tensor read = ConvGL.Core.Kernels.KernelFile.ParseText(ConvGL.App.Commands.TrainCommand.KernelText(r, options), "fitted.txt");
        Assert.Equal(r.Kernel.Data, read.Data);
        Assert.Contains(r.Kernel.Data, v => Math.Round(v, 4) != v); // taps that 4 decimals would have changed
    }

    /// <summary>The hardening audit: a large --samples x --size grew toward 4 GB while it drew the images, with nothing
    /// said. The images' memory is checked first against the machine's (a 1 GiB heap limit stands in for a small one), and
    /// a run says it is drawing them before it does.</summary>
    [Fact]
    public void Train_ImagesBeyondTheMachinesMemory_AreRefusedBeforeTheyAreDrawn_AndDrawingIsSaid()
    {
        var small = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" };
        ApplyProcess.Result r = ApplyProcess.ConvglWith(small, _dir, "train", "--samples", "4000", "--size", "256", "--out", "run");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convgl: train: 5000 images of 256x256 needs about ", r.Stderr);
        Assert.Contains("use fewer --samples / --test-samples or a smaller --size (nothing was trained)", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
        r = ApplyProcess.Convgl(_dir, "train", "--epochs", "1", "--samples", "60", "--test-samples", "20", "--size", "12", "--out", "run");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("generating 60 training and 20 test images of 12x12 ...", r.Stdout);
    }

    /// <summary>A fit that ran out of steps says so (the newcomer audit's run printed its mse up to the cap and nothing
    /// else); one that converged says that instead.</summary>
    [Fact]
    public void FitKernel_SaysWhetherItConverged_OrStoppedAtTheStepLimit()
    {
        Npy.Write(Path.Combine(_dir, "in.npy"), ConvGL.Core.Tensor.Chw(1, 24, 24, Enumerable.Range(0, 576).Select(v => (float)Math.Sin(v * 0.37) + (v % 7) / 7f).ToArray()));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "in.npy", "--hidden", "gaussian:5,1", "--kernel-size", "5", "--steps", "4");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("stopped at the step limit (4 steps) before converging: more --steps may fit it closer", r.Stdout);
        Assert.DoesNotContain("converged after", r.Stdout);
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "in.npy", "--hidden", "sobel-x");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("converged after step ", r.Stdout);
        Assert.DoesNotContain("step limit", r.Stdout);
    }

    /// <summary>A kernel fit on values near float32's range (an input of 1e38 everywhere) ends in NaN: it used to write a
    /// kernel file of NaN, exit 0, which apply then refused.</summary>
    [Fact]
    public void FitKernel_Diverged_WritesNothing_Exit2()
    {
        Npy.Write(Path.Combine(_dir, "in.npy"), ConvGL.Core.Tensor.Chw(1, 16, 16, Enumerable.Repeat(1e38f, 256).ToArray()));
        Npy.Write(Path.Combine(_dir, "target.npy"), ConvGL.Core.Tensor.Chw(1, 16, 16, Enumerable.Range(0, 256).Select(v => v / 256f).ToArray()));
        ApplyProcess.Result r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "in.npy", "--target", "target.npy", "--out", "k.txt");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the fit diverged", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "k.txt")));
        // A .npy name for the text kernel is refused before the fit.
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "target.npy", "--hidden", "sobel-x", "--out", "k.npy");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the fit writes a text kernel; give it a .txt name", r.Stderr);
        // So is an image's name (fitted.png was a text file under a PNG's name), and an empty one.
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "target.npy", "--hidden", "sobel-x", "--out", "fitted.png");
        Assert.True(r.ExitCode == 2 && r.Stderr.Contains("give it a .txt name"), r.ToString());
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "target.npy", "--hidden", "sobel-x", "--out", "");
        Assert.True(r.ExitCode == 2 && r.Stderr.Contains("--out is empty"), r.ToString());
        // A finite fit that ended above where it started diverged too: Adam at --lr 1e30 wrote taps of 4e16.
        r = ApplyProcess.Convgl(_dir, "train", "--fit-kernel", "--input", "target.npy", "--hidden", "box", "--optimizer", "adam", "--lr", "1e30", "--out", "k.txt");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("the fit diverged (mse", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "k.txt")));
        Assert.Equal(["in.npy", "target.npy"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
    }
}
