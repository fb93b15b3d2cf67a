namespace ConvGL.Gpu.Tests;

/// <summary>Which threads <see cref="DriverThreads"/> pins and where: the selection rule and the CPU list on worked
/// examples, and on this machine's llvmpipe that every thread it reports pinned is bound to exactly its CPU. (That the
/// real app finds llvmpipe's compute threads is checked on `convgl bench`'s machine line in BenchCommandTests.)</summary>
[Collection(GlCollection.Name)]
public sealed class DriverThreadsTests(GlFixture fixture)
{
    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-1", new[] { 0, 1 })]
    [InlineData(" 0-3,8,10-11\n", new[] { 0, 1, 2, 3, 8, 10, 11 })]
    [InlineData("5", new[] { 5 })]
    [InlineData("", new int[0])]
    [InlineData("a-b", new int[0])]
    [InlineData("3-1", new int[0])]
    [InlineData("1-2-3", new int[0])]
    public void ParseCpuList_KernelFormat(string list, int[] expected) =>
        Assert.Equal(expected, DriverThreads.ParseCpuList(list));

    [Fact]
    public void SelectWorkers_TheNewThreadsNamedLikeTheCreator_WhenAsManyAsRasterisers()
    {
        (int, string)[] fresh =
        [
            (21, "dotnet"), (20, "dotnet"), (22, "llvmpipe-0"), (23, "llvmpipe-1"), (24, "dotnet:disk$0"), (25, ".NET TP Worker"),
        ];
        Assert.Equal([20, 21], DriverThreads.SelectWorkers(fresh, "dotnet"));
        // Three threads named like the creator but two rasterisers: one of them is not llvmpipe's, so none is pinned.
        Assert.Empty(DriverThreads.SelectWorkers([.. fresh, (26, "dotnet")], "dotnet"));
        // No rasteriser threads (not llvmpipe, or LP_NUM_THREADS=0): nothing.
        Assert.Empty(DriverThreads.SelectWorkers([(20, "dotnet"), (21, "dotnet")], "dotnet"));
        // Created from a thread with another name: its name is the one the workers inherit.
        Assert.Equal([30, 31], DriverThreads.SelectWorkers([(31, "worker"), (30, "worker"), (32, "llvmpipe-0"), (33, "llvmpipe-1"), (34, "dotnet")], "worker"));
    }

    [Fact]
    public void Assign_RoundRobinOverTheAllowedCpus()
    {
        Assert.Equal([(7, 2), (8, 5), (9, 2)], DriverThreads.Assign([7, 8, 9], [2, 5]).ToList());
        Assert.Equal([(7, 0), (8, 1)], DriverThreads.Assign([7, 8], [0, 1, 2, 3]).ToList());
    }

    [Fact]
    public void Pinned_EveryReportedThreadIsBoundToItsCpuAlone()
    {
        GlContext context = fixture.Context;
        Assert.NotNull(DriverThreads.Status); // decided when the first context was made
        if (!context.IsSoftware) Assert.Empty(DriverThreads.Pinned);
        foreach ((int tid, int cpu) in DriverThreads.Pinned)
            Assert.Equal([cpu], DriverThreads.AllowedCpus($"self/task/{tid}"));
        Assert.Equal(DriverThreads.Pinned.Count, DriverThreads.Pinned.Select(p => p.Tid).Distinct().Count());
    }
}
