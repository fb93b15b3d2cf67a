using System.Runtime.CompilerServices;

namespace ConvGL.Core.Tests.Fuzz;

/// <summary>The mutation fuzzer over every loader (see <see cref="FuzzTargets"/>): in CI each target gets 2,000
/// inputs from a fixed seed; <c>scripts/fuzz.sh COUNT SEED</c> runs the same test with more. Findings fail the test
/// with their reproduction (target, seed, index) and, when CONVGL_FUZZ_FINDINGS names a folder, are written there to
/// become regression files.</summary>
public sealed class LoaderFuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryMutatedInput_LoadsValid_OrIsOneErrorLineNamingIt(string name)
    {
        FuzzTarget target = FuzzTargets.All.Single(t => t.Name == name);
        int count = Fuzzer.DefaultCount, seed = Fuzzer.DefaultSeed;
        (List<Finding> findings, int ran, TimeSpan slowest) = Fuzzer.Run(target, count, seed);
        output.WriteLine($"fuzz {name}: {ran} inputs, seed {seed}, slowest {slowest.TotalMilliseconds:0} ms, {findings.Count} findings");
        Save(findings);
        Assert.True(findings.Count == 0, $"{findings.Count} finding(s) in {ran} inputs:\n" + string.Join("\n", findings.Take(10)));
        Assert.Equal(count, ran);
    }

    /// <summary>Every seed is a valid file of its format that loads as it is: a seed the loader refuses would leave
    /// the fuzzer mutating garbage (a GIF writer bug, a missing conformance case) without anyone noticing.</summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void EverySeed_Loads(string name)
    {
        FuzzTarget target = FuzzTargets.All.Single(t => t.Name == name);
        using var dir = new TempDir();
        byte[][] seeds = target.Seeds(dir.Path);
        Assert.NotEmpty(seeds);
        foreach ((byte[] seed, int i) in seeds.Select((s, i) => (s, i)))
            target.Load(seed, Path.Combine(dir.Path, $"seed{i}{target.Extension}"));
        output.WriteLine($"{name}: {seeds.Length} seeds load");
    }

    /// <summary>Every input a fuzzing run once found, kept under Fuzz/regressions/TARGET/, must now pass.</summary>
    [Fact]
    public void Regressions_AllPass()
    {
        string root = RegressionDir();
        int replayed = 0;
        var failures = new List<string>();
        using var dir = new TempDir();
        foreach (FuzzTarget target in FuzzTargets.All)
        {
            string folder = Path.Combine(root, target.Name);
            if (!Directory.Exists(folder)) continue;
            foreach (string file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
            {
                byte[] input = File.ReadAllBytes(file);
                // Each regression goes through the file loader and the in-memory parser.
                foreach (bool viaFile in new[] { true, false })
                {
                    Finding? f = Fuzzer.Check(target, input, dir.Path, 0, 1, viaFile);
                    if (f is not null) failures.Add($"{Path.GetFileName(file)}: {f}");
                }
                replayed++;
            }
        }
        output.WriteLine($"{replayed} regression inputs replayed");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(replayed > 0, $"no regression files under {root}");
    }

    private static string RegressionDir([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "regressions");

    private static void Save(List<Finding> findings)
    {
        string? dir = Environment.GetEnvironmentVariable("CONVGL_FUZZ_FINDINGS");
        if (string.IsNullOrEmpty(dir)) return;
        foreach (Finding f in findings)
        {
            string folder = Path.Combine(dir, f.Target);
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, $"seed{f.Seed}-{f.Index}.bin"), f.Input);
            File.WriteAllText(Path.Combine(folder, $"seed{f.Seed}-{f.Index}.txt"), f + "\n");
        }
    }
}
