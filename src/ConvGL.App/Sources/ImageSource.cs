namespace ConvGL.App.Sources;

/// <summary>A still image: one frame, handed over once (the texture keeps it).</summary>
internal sealed class ImageSource(string name, int width, int height, byte[] rgba) : IFrameSource
{
    private bool _taken;

    public string Name { get; } = name;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public string? Error => null;

    public byte[]? TakeFrame(double time)
    {
        if (_taken) return null;
        _taken = true;
        return rgba;
    }

    public void Dispose() { }
}
