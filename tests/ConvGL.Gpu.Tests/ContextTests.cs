namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class ContextTests(GlFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void CreateHeadless_GivesOpenGL43CoreWithCompute()
    {
        GlContext ctx = fixture.Context;
        output.WriteLine($"{ctx.Description}; max storage block {ctx.MaxStorageBlockBytes >> 20} MiB");
        ctx.Gl.GetInteger(Silk.NET.OpenGL.GetPName.MajorVersion, out int major);
        ctx.Gl.GetInteger(Silk.NET.OpenGL.GetPName.MinorVersion, out int minor);
        Assert.True(major * 10 + minor >= 43, $"got {major}.{minor}: {ctx.Description}");
        Assert.True(ctx.MaxStorageBlockBytes >= 1 << 24, $"GL guarantees 16 MiB storage blocks, got {ctx.MaxStorageBlockBytes}");
    }

    [Fact]
    public void DebugMessages_ReachTheLog()
    {
        GlContext ctx = fixture.Context;
        lock (fixture.Messages) fixture.Messages.Clear();
        ctx.Gl.Enable((Silk.NET.OpenGL.EnableCap)0x7FFF); // not a capability: GL_INVALID_ENUM
        ctx.Gl.GetError();
        lock (fixture.Messages) Assert.Contains(fixture.Messages, m => m.Contains("Error", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Objects_CarryDebugLabels()
    {
        GlContext ctx = fixture.Context;
        using var t = new GpuTensor(ctx, label: "my feature map");
        ctx.Gl.GetObjectLabel(Silk.NET.OpenGL.ObjectIdentifier.Buffer, t.Handle, 64, out uint length, out string label);
        Assert.Equal("my feature map", label[..(int)length]);
    }

    [Fact]
    public void Adopt_WrapsTheCurrentContext()
    {
        _ = fixture.Context;
        using GlContext adopted = GlContext.Adopt(Egl.GetProcAddress);
        Assert.Contains("adopted", adopted.Description);
        using var t = GpuTensor.From(adopted, ConvGL.Core.Tensor.Chw(1, 1, 3, [1, 2, 3]));
        Assert.Equal(new float[] { 1, 2, 3 }, t.Download().Data);
    }
}
