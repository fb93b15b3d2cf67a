namespace ConvGL.Gpu.Tests;

/// <summary>One headless context shared by every GL test class. GL contexts are bound to one thread and the
/// tests share GL state, so the collection below is not run in parallel. When libEGL cannot be loaded at all,
/// <see cref="SkipReason"/> says so and tests skip; any other failure to create the context throws (and fails).</summary>
public sealed class GlFixture : IDisposable
{
    private readonly GlContext? _context;
    public string? SkipReason { get; }
    public List<string> Messages { get; } = [];

    public GlFixture()
    {
        if (!GlContext.EglAvailable(out string reason))
        {
            SkipReason = reason;
            return;
        }
        _context = GlContext.CreateHeadless();
        _context.Log = m =>
        {
            lock (Messages) Messages.Add(m);
        };
    }

    /// <summary>The context, or a skip when no EGL exists on this machine.</summary>
    public GlContext Context
    {
        get
        {
            Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");
            return _context!;
        }
    }

    public void Dispose() => _context?.Dispose();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlCollection : ICollectionFixture<GlFixture>
{
    public const string Name = "GL";
}
