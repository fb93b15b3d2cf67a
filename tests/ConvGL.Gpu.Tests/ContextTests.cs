namespace ConvGL.Gpu.Tests;

[Collection(GlCollection.Name)]
public sealed class ContextTests(GlFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void CreateHeadless_GivesOpenGL43CoreWithCompute()
    {
        GlContext ctx = fixture.Context;
        output.WriteLine(ctx.Description);
        ctx.Gl.GetInteger(Silk.NET.OpenGL.GetPName.MajorVersion, out int major);
        ctx.Gl.GetInteger(Silk.NET.OpenGL.GetPName.MinorVersion, out int minor);
        Assert.True(major * 10 + minor >= 43, $"got {major}.{minor}: {ctx.Description}");
        Assert.True(ctx.MaxStorageBlockBytes >= 1 << 24, $"GL guarantees 16 MiB storage blocks, got {ctx.MaxStorageBlockBytes}");
    }
}
