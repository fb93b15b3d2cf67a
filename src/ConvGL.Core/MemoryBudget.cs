namespace ConvGL.Core;

/// <summary>The memory a command is about to need, checked against what this machine gives the process before the work
/// allocates it. <see cref="Limits"/> caps what any file may ask for whatever the machine; this check is the machine's
/// own: ConvGL's fixed caps let a stack hold 4 GiB of maps, which a laptop with 8 GiB cannot take while writing them
/// (features peaked at 3.3x its maps' bytes, 2026-12-04, a 4096x4096 input through `edges`).
/// "This machine" is what .NET's GC reports: the physical memory, or a container's or DOTNET_GCHeapHardLimit's
/// limit when one is set.</summary>
public static class MemoryBudget
{
    /// <summary>The share of the machine's memory one command may plan to take (the rest: the runtime, the OS, other programs).</summary>
    public const double Share = 0.8;

    /// <summary>The memory this process may use, in bytes.</summary>
    public static long Machine => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The process's address-space limit (ulimit -v, prlimit --as) on Linux, null where none is set. The checks
    /// here do not count it (the runtime's and libraries' reservations take an unknown share of it: a run of 3.3 GB
    /// resident ran out under a 6 GB limit); an out-of-memory error names it.</summary>
    public static long? AddressSpaceLimit()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return Native.getrlimit(Native.RlimitAs, out Native.RLimit limit) == 0 && limit.Current < long.MaxValue ? (long)limit.Current : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static class Native
    {
        public const int RlimitAs = 9; // RLIMIT_AS on Linux (x86-64, arm64)

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        public struct RLimit
        {
            public ulong Current, Maximum;
        }

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int getrlimit(int resource, out RLimit limit);
    }

    /// <summary>Whether <paramref name="needBytes"/> is within <see cref="Share"/> of <see cref="Machine"/> (what <see cref="Check"/> lets pass).</summary>
    public static bool Fits(long needBytes) => needBytes <= Machine * Share;

    /// <summary>Throws one error line when <paramref name="needBytes"/> is over <see cref="Share"/> of
    /// <see cref="Machine"/>: "<paramref name="what"/> needs about N of memory, ...; <paramref name="fix"/>".</summary>
    public static void Check(string what, long needBytes, string fix)
    {
        long machine = Machine;
        if (needBytes > machine * Share)
            throw new ConvGLException($"{what} needs about {Limits.Bytes(needBytes)} of memory, over {Share * 100:0}% of the {Limits.Bytes(machine)} " +
                                      $"this machine gives the process; {fix}");
    }

    /// <summary>The factor (at most 1) by which both sides of an image scale so that work needing <paramref name="needBytes"/>,
    /// in proportion to its pixels, fits the budget.</summary>
    public static double FittingScale(long needBytes) =>
        Math.Min(1.0, Math.Sqrt(Machine * Share / Math.Max(1.0, needBytes)) * 0.98);

    /// <summary>A <paramref name="width"/> x <paramref name="height"/> picture scaled by <see cref="FittingScale"/>, for
    /// the refusal's hint.</summary>
    public static (int Width, int Height) FittingSize(int width, int height, long needBytes)
    {
        double s = FittingScale(needBytes);
        return (Math.Max(1, (int)(width * s)), Math.Max(1, (int)(height * s)));
    }
}
