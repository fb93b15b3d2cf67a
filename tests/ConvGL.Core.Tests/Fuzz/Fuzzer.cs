using System.Diagnostics;

namespace ConvGL.Core.Tests.Fuzz;

/// <summary>What went wrong with one input: anything but "loaded and valid" or "ConvGLException, one line, naming
/// the input".</summary>
internal sealed record Finding(string Target, int Seed, int Index, string Kind, string Detail, byte[] Input)
{
    public override string ToString() => $"{Target} seed {Seed} input {Index} ({Input.Length} bytes): {Kind}: {Detail}";
}

/// <summary>Thrown by a target's validity check on an input that loaded but is not valid (a NaN kernel, an image
/// value outside [0, 1]).</summary>
internal sealed class InvalidResultException(string message) : Exception(message);

/// <summary>One loader under fuzzing: its valid seeds, a dictionary of tokens its format is made of, and how to
/// load (and check) one input: <see cref="Load"/>(bytes, name, path) parses the bytes in memory under that name, or,
/// when bytes is null, reads the file at path (every 16th input goes through the file, so the bounded reads are
/// fuzzed too, without a file write per input). <see cref="Names"/> is what an error about the input must contain
/// (the name or path, by default).</summary>
internal sealed record FuzzTarget(string Name, string Extension, Func<string, byte[][]> Seeds, byte[][] Dictionary, Action<byte[]?, string> Load)
{
    public Func<string, string> Names { get; init; } = path => path;
    /// <summary>PNG inputs get their chunk CRCs rewritten half of the time (see <see cref="Mutator.FixPngCrcs"/>).</summary>
    public bool PngCrcs { get; init; }
}

/// <summary>Runs a target over mutated inputs on a worker thread watched by the caller's thread: an input that runs
/// past <see cref="Timeout"/> is a hang finding (the run stops there: the thread cannot be taken back), one that
/// allocates more than <see cref="MaxAllocation"/> bytes is an allocation finding.</summary>
internal static class Fuzzer
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    /// <summary>The largest managed allocation the caps allow one input is a decode at <see cref="Limits.ImageDecodeBytes"/>
    /// (a 100-byte WebP may legitimately claim that many pixels); anything past it, with room for the input's own
    /// copies, is a cap that failed.</summary>
    public const long MaxAllocation = Limits.ImageDecodeBytes + (64L << 20);

    public static int DefaultCount => int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_COUNT"), out int n) && n > 0 ? n : 2000;
    public static int DefaultSeed => int.TryParse(Environment.GetEnvironmentVariable("CONVGL_FUZZ_SEED"), out int s) ? s : 20261202;

    /// <summary>The inputs of one run: input i comes from seed i mod (seed count), mutated by Random(seed * 7919 + i),
    /// so any single input can be regenerated without the ones before it.</summary>
    public static byte[] Input(FuzzTarget target, byte[][] seeds, int seed, int index)
    {
        var rng = new Random(unchecked(seed * 7919 + index));
        byte[] input = Mutator.Mutate(seeds[index % seeds.Length], rng, target.Dictionary, seeds);
        if (target.PngCrcs && rng.Next(2) == 0 && input.Length > 8 && input[1] == 'P') input = Mutator.FixPngCrcs(input);
        return input;
    }

    public static (List<Finding> Findings, int Ran, TimeSpan Slowest) Run(FuzzTarget target, int count, int seed)
    {
        using var dir = new TempDir();
        byte[][] seeds = target.Seeds(dir.Path);
        var findings = new List<Finding>();
        int current = -1, ran = 0;
        long startedAt = 0;
        TimeSpan slowest = TimeSpan.Zero;
        var worker = new Thread(() =>
        {
            for (int i = 0; i < count; i++)
            {
                byte[] input = Input(target, seeds, seed, i);
                Volatile.Write(ref startedAt, Stopwatch.GetTimestamp());
                Volatile.Write(ref current, i);
                Finding? f = Check(target, input, dir.Path, seed, i);
                TimeSpan took = Stopwatch.GetElapsedTime(Volatile.Read(ref startedAt));
                lock (findings)
                {
                    if (f is not null) findings.Add(f);
                    if (took > slowest) slowest = took;
                    ran = i + 1;
                }
            }
            Volatile.Write(ref current, count);
        }) { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();
        while (!worker.Join(50))
        {
            int i = Volatile.Read(ref current);
            if (i >= 0 && i < count && Stopwatch.GetElapsedTime(Volatile.Read(ref startedAt)) > Timeout)
            {
                lock (findings)
                {
                    findings.Add(new Finding(target.Name, seed, i, "hang", $"still running after {Timeout.TotalSeconds} s", Input(target, seeds, seed, i)));
                    return (new List<Finding>(findings), ran, slowest);
                }
            }
        }
        return (findings, ran, slowest);
    }

    /// <summary>One input, on the calling thread: null when it loaded and was valid or was refused properly.</summary>
    public static Finding? Check(FuzzTarget target, byte[] input, string dir, int seed, int index, bool viaFile = false)
    {
        string path = Path.Combine(dir, "input" + target.Extension);
        viaFile |= index % 16 == 0;
        if (viaFile) File.WriteAllBytes(path, input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Finding? finding = null;
        try
        {
            target.Load(viaFile ? null : input, path);
        }
        catch (ConvGLException e)
        {
            string name = target.Names(path);
            if (!ErrorText.IsOneLine(e.Message)) finding = new(target.Name, seed, index, "multi-line error", e.Message, input);
            else if (!e.Message.Contains(name, StringComparison.Ordinal)) finding = new(target.Name, seed, index, "error without the input's name", e.Message, input);
            else if (e.Message.Length > 1000) finding = new(target.Name, seed, index, "overlong error", e.Message[..200], input);
        }
        catch (InvalidResultException e)
        {
            finding = new(target.Name, seed, index, "invalid result", e.Message, input);
        }
        catch (Exception e)
        {
            finding = new(target.Name, seed, index, e.GetType().Name, ErrorText.Echo(e.Message, 300), input);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (finding is null && allocated > MaxAllocation)
            finding = new(target.Name, seed, index, "huge allocation", $"{allocated} bytes", input);
        return finding;
    }
}
