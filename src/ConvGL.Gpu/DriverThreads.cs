using System.Runtime.InteropServices;

namespace ConvGL.Gpu;

/// <summary>Pins Mesa llvmpipe's compute worker threads one per core (Linux), once per process.
///
/// Why: llvmpipe runs a dispatch by waking its N compute threads, each taking 1/N of the workgroups; a thread that is
/// done takes a waiting share too. The thread that dispatched then sleeps, and Linux's wake-up placement often puts the
/// woken workers on the waker's core, where they run one after the other until the balancer moves one. Measured on the
/// 2-core build machine (bench/README.md, "Issue 8, fifth round"): gauss5-2d's median swung between 4.2 and 8.3 ms from
/// run to run (one core or two); with the workers pinned it was 4.2-4.3 ms in every run.
///
/// Which threads: the ones that appeared while the first context was made (<see cref="MarkBaseline"/> before,
/// <see cref="PinAfterContext"/> after) and carry the creating thread's name (the compute pool's threads are unnamed,
/// so they inherit it; Mesa names its rasteriser threads "llvmpipe-N" and its queues "name:queue"). There must be as
/// many of them as rasteriser threads (llvmpipe starts both pools with the same count), and at least as many as the CPUs
/// the process may use (a pool capped below the CPU count is left to the scheduler); otherwise nothing is pinned.
/// Each goes to the next CPU the process may use. Only on llvmpipe; <c>CONVGL_PIN_THREADS=0</c> turns it off.</summary>
public static class DriverThreads
{
    private static readonly object s_lock = new();
    private static HashSet<int>? s_baseline;
    private static string? s_creatorName;
    private static bool s_done;

    /// <summary>What was done, for machine lines: "2 llvmpipe compute threads pinned to CPUs 0,1", "off (...)",
    /// "not pinned (...)", or null before the first context.</summary>
    public static string? Status { get; private set; }

    /// <summary>The pinned threads (thread id, CPU), empty when none were.</summary>
    public static IReadOnlyList<(int Tid, int Cpu)> Pinned { get; private set; } = [];

    /// <summary>Records the threads that exist before the first GL context is made (a no-op after the first call).</summary>
    public static void MarkBaseline()
    {
        lock (s_lock)
        {
            if (s_baseline is not null || s_done || !OperatingSystem.IsLinux()) return;
            s_baseline = ThreadIds();
            s_creatorName = ThreadName("thread-self");
        }
    }

    /// <summary>Called once a context is current: on llvmpipe, pins the compute threads that appeared since
    /// <see cref="MarkBaseline"/> (once per process; later contexts share the first one's driver screen).</summary>
    public static void PinAfterContext(bool software)
    {
        lock (s_lock)
        {
            if (s_done) return;
            if (!software)
            {
                // A hardware driver: nothing to pin, and the baseline is no longer needed.
                s_done = true;
                s_baseline = null;
                Status = "not pinned (a hardware driver)";
                return;
            }
            if (s_baseline is null) return;
            s_done = true;
            if (Environment.GetEnvironmentVariable("CONVGL_PIN_THREADS") == "0")
            {
                Status = "off (CONVGL_PIN_THREADS=0)";
                return;
            }
            var fresh = new List<(int Tid, string Name)>();
            foreach (int tid in ThreadIds())
                if (!s_baseline.Contains(tid)) fresh.Add((tid, ThreadName($"self/task/{tid}") ?? ""));
            s_baseline = null;
            IReadOnlyList<int> cpus = AllowedCpus();
            if (cpus.Count < 2)
            {
                Status = "not pinned (one CPU)";
                return;
            }
            IReadOnlyList<int> workers = SelectWorkers(fresh, s_creatorName ?? "");
            if (workers.Count == 0)
            {
                Status = "not pinned (llvmpipe's compute threads not recognised)";
                return;
            }
            // Fewer workers than CPUs (llvmpipe caps its pool; LP_NUM_THREADS): pinned, they would all crowd onto the
            // first CPUs, as would every other ConvGL process's; the scheduler's spread is the better bet there.
            if (workers.Count < cpus.Count)
            {
                Status = $"not pinned ({workers.Count} llvmpipe compute threads for {cpus.Count} CPUs)";
                return;
            }
            var pinned = new List<(int, int)>();
            foreach ((int tid, int cpu) in Assign(workers, cpus))
                if (SetAffinity(tid, cpu)) pinned.Add((tid, cpu));
            Pinned = pinned;
            Status = pinned.Count == workers.Count
                ? $"{pinned.Count} llvmpipe compute threads pinned to CPUs {string.Join(",", pinned.Select(p => p.Item2))}"
                : $"not pinned (sched_setaffinity refused {workers.Count - pinned.Count} of {workers.Count})";
        }
    }

    /// <summary>The compute workers among the threads that appeared with the context: those named like the thread that
    /// made it, when there are exactly as many as rasteriser threads ("llvmpipe-N"); else none.</summary>
    public static IReadOnlyList<int> SelectWorkers(IReadOnlyList<(int Tid, string Name)> fresh, string creatorName)
    {
        int rasterisers = fresh.Count(t => t.Name.StartsWith("llvmpipe-", StringComparison.Ordinal));
        var workers = fresh.Where(t => t.Name == creatorName).Select(t => t.Tid).Order().ToList();
        return rasterisers > 0 && workers.Count == rasterisers ? workers : [];
    }

    /// <summary>Worker i goes to allowed CPU i mod count.</summary>
    public static IEnumerable<(int Tid, int Cpu)> Assign(IReadOnlyList<int> workers, IReadOnlyList<int> cpus)
    {
        for (int i = 0; i < workers.Count; i++) yield return (workers[i], cpus[i % cpus.Count]);
    }

    /// <summary>The CPUs a thread may run on, from /proc (its Cpus_allowed_list); empty when unreadable.</summary>
    public static IReadOnlyList<int> AllowedCpus(string task = "thread-self")
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{task}/status"))
                if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))
                    return ParseCpuList(line["Cpus_allowed_list:".Length..]);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return [];
    }

    /// <summary>Parses a kernel CPU list ("0-3,8,10-11") into its CPUs in order.</summary>
    public static IReadOnlyList<int> ParseCpuList(string list)
    {
        var cpus = new List<int>();
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] ends = part.Split('-');
            if (!int.TryParse(ends[0], out int lo)) return [];
            int hi = lo;
            if (ends.Length == 2 && !int.TryParse(ends[1], out hi)) return [];
            if (ends.Length > 2 || hi < lo || hi - lo > 4096) return [];
            for (int c = lo; c <= hi; c++) cpus.Add(c);
        }
        return cpus;
    }

    private static HashSet<int> ThreadIds()
    {
        var ids = new HashSet<int>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc/self/task"))
                if (int.TryParse(Path.GetFileName(dir), out int tid)) ids.Add(tid);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return ids;
    }

    private static string? ThreadName(string task)
    {
        try { return File.ReadAllText($"/proc/{task}/comm").TrimEnd('\n'); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int tid, nint size, byte[] mask);

    private static bool SetAffinity(int tid, int cpu)
    {
        var mask = new byte[Math.Max(128, cpu / 8 + 1)];
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        try { return SchedSetAffinity(tid, mask.Length, mask) == 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }
}
