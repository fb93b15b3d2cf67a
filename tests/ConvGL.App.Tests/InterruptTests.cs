using System.Diagnostics;
using ConvGL.Core;
using ConvGL.Core.IO;

namespace ConvGL.App.Tests;

/// <summary>An interrupted command ends at once and leaves nothing: `features` stopped by Ctrl+C or SIGTERM while writing
/// left its hidden, half-written folder beside --out (.convgl-&lt;pid&gt;-&lt;id&gt;.tmp, hundreds of MB). SIGTERM is sent here (a
/// background job's shell may ignore SIGINT for its children, which would test nothing); Program.cs handles both the same
/// way.</summary>
public sealed class InterruptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convgl-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>CI once saw the kill land after the writing had finished (the maps of `edges` took ~2 s to write, and the
    /// test's poll ran late on a loaded 2-core machine: "interrupted (SIGTERM)" with nothing to remove). The stack here
    /// computes in a moment and writes for tens of seconds (24 layers of 8 maps), so the kill lands mid-write however late
    /// the poll runs; the poll sleeps on its own thread rather than awaiting a thread-pool continuation.</summary>
    [Fact]
    public async Task Features_TerminatedWhileWriting_EndsAtOnce_AndRemovesItsHiddenFolder()
    {
        var rng = new Random(5);
        Npy.Write(Path.Combine(_dir, "in.npy"), new Tensor([1024, 1024], Enumerable.Range(0, 1024 * 1024).Select(_ => (float)rng.NextDouble()).ToArray()));
        string relus = string.Join(", ", Enumerable.Repeat("""{ "type": "relu" }""", 23));
        File.WriteAllText(Path.Combine(_dir, "slow.json"), $$"""
            { "name": "slow-to-write", "input": "gray", "layers": [
              { "type": "conv", "kernels": ["box:3", "sobel-x", "sobel-y", "box:3", "sobel-x", "sobel-y", "box:3", "sobel-x"] },
              {{relus}} ] }
            """);
        string dll = Path.Combine(AppContext.BaseDirectory, "convgl.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { WorkingDirectory = _dir, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "features", "in.npy", "--stack", "slow.json", "--out", "maps" }) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        CancellationToken cancel = TestContext.Current.CancellationToken;
        Task<string> stderr = p.StandardError.ReadToEndAsync(cancel);
        _ = p.StandardOutput.ReadToEndAsync(cancel);

        // The hidden folder appears once the maps are computed and their writing starts; the kill waits for a file in it
        // (a CI run and a loaded local run killed on the folder alone and found nothing in flight in the process: the
        // message then lacks "removed", rightly, and the test failed; not explained, see the session note of 2026-12-07).
        var clock = Stopwatch.StartNew();
        while (!Directory.GetDirectories(_dir).Any(d => Path.GetFileName(d).StartsWith(".convgl-", StringComparison.Ordinal) && HoldsAFile(d)))
        {
            if (p.HasExited) Assert.Fail($"features ended before its writing was seen: {await stderr}");
            Assert.True(clock.Elapsed.TotalSeconds < 120, "no hidden output folder within 120 s");
            Thread.Sleep(20);
        }
        using (Process kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        Assert.True(p.WaitForExit(10_000), "features was still running 10 s after SIGTERM");
        Assert.False(Directory.Exists(Path.Combine(_dir, "maps")), "the writing finished before the kill: the test's stack writes too little");
        Assert.Equal(128 + 15, p.ExitCode);
        string said = await stderr;
        Assert.Contains("convgl: interrupted (SIGTERM); the unfinished output was removed", said);
        // Redirected (a log, a pipe), no blank line before it (a newline for a terminal's progress line left one).
        Assert.DoesNotContain("\n\nconvgl: interrupted", "\n" + said);
        Assert.Equal([Path.Combine(_dir, "in.npy"), Path.Combine(_dir, "slow.json")], Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal));
    }

    private static bool HoldsAFile(string folder)
    {
        try
        {
            return Directory.EnumerateFiles(folder).Any();
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    [Fact]
    public void InFlight_RemoveAll_TakesFilesAndFolders_AndForgetsThem()
    {
        string file = Path.Combine(_dir, ".a.tmp"), folder = Path.Combine(_dir, ".b.tmp");
        File.WriteAllText(file, "x");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "c.npy"), "y");
        InFlight.Add(file);
        InFlight.Add(folder);
        InFlight.Add(Path.Combine(_dir, ".gone.tmp"));
        Assert.True(InFlight.RemoveAll(processEnding: false) >= 2);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
        Assert.DoesNotContain(file, InFlight.Now);
        Assert.DoesNotContain(folder, InFlight.Now);
    }

    /// <summary>The audit's SIGINT during features left `.fo.guid.tmp/` with 41-85 files: the writer thread put a file
    /// into the folder while it was being deleted, the delete failed "not empty" and gave up.</summary>
    [Fact]
    public void InFlight_RemoveAll_TakesAFolderAWriterIsStillFilling()
    {
        for (int round = 0; round < 5; round++)
        {
            string folder = Path.Combine(_dir, $".maps{round}.tmp");
            Directory.CreateDirectory(folder);
            InFlight.Add(folder);
            using var stop = new CancellationTokenSource();
            int written = 0;
            var writer = new Thread(() =>
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    // A file every millisecond or so, as features writes its maps (a writer as fast as the delete
                    // would keep a recursive delete's listing from ever ending).
                    try { File.WriteAllBytes(Path.Combine(folder, $"{i}.npy"), new byte[256]); Interlocked.Increment(ref written); Thread.Sleep(1); }
                    catch (IOException) { Thread.Sleep(1); } // the folder is gone (or going): as features' writer fails then
                }
            });
            writer.Start();
            SpinWait.SpinUntil(() => Volatile.Read(ref written) > 50, 10_000);
            Assert.Equal(1, InFlight.RemoveAll(processEnding: false));
            bool gone = !Directory.Exists(folder);
            stop.Cancel();
            writer.Join();
            Assert.True(gone, $"round {round}: the folder was left with {(Directory.Exists(folder) ? Directory.GetFiles(folder).Length : 0)} files");
        }
    }
}
