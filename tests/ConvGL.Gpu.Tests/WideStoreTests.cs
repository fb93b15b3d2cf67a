using ConvGL.Core;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>The 32-byte stores (include/store8.glsl: 8 floats as one u64vec4, GL_ARB_gpu_shader_int64) move bits, not
/// values: the padded copy (conv2d_pad.comp, the copy every padded dense layer and Winograd plan reads) must hold
/// exactly the input's bits, NaN payloads, signed zeros, infinities and denormals included, in its wide form (8 elements
/// per invocation, rgba32f loads where the border is zero and rows are whole vec4s, r32f loads otherwise) and in its
/// 4-wide form, for every left padding (the rgba32f loads' shift) and every border.</summary>
[Collection(GlCollection.Name)]
public sealed class WideStoreTests(GlFixture fixture)
{
    [Fact]
    public void Llvmpipe_HasThem_SoTheSuiteCoversThem()
    {
        GlContext context = fixture.Context;
        // Mesa's llvmpipe has had GL_ARB_gpu_shader_int64 since Mesa 19; without it the wide paths would go untested here.
        if (context.IsSoftware) Assert.True(context.WideStores, context.Description);
    }

    private static readonly uint[] Specials =
    [
        0x7fc00000, 0x7fc12345, 0xffc00001, 0x7f800001, // quiet NaNs with payloads, a signalling NaN
        0x7f800000, 0xff800000, 0x80000000, 0x00000000, // +-infinity, -0, +0
        0x00000001, 0x807fffff, 0x00400000,             // denormals
        0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, // +-max, +-1
    ];

    [Theory]
    [InlineData(Border.Zero, 16)]   // wide, rgba32f loads
    [InlineData(Border.Zero, 13)]   // wide, r32f loads (rows not whole vec4s)
    [InlineData(Border.Reflect, 16)] // wide, r32f loads and border indices
    [InlineData(Border.Wrap, 9)]
    public void PaddedCopy_KeepsEveryBit_AtEveryLeftPadding(Border border, int w)
    {
        GlContext context = fixture.Context;
        const int c = 2, h = 5;
        var input = new Tensor([c, h, w]);
        for (int i = 0; i < input.Length; i++) input.Data[i] = BitConverter.UInt32BitsToSingle(Specials[i % Specials.Length] ^ (uint)(i / Specials.Length << 16 & 0x000f0000));
        using GpuTensor gpuIn = GpuTensor.From(context, input);
        using var padded = new GpuTensor(context);
        foreach (bool wide in new[] { true, false })
            FastConvTests.WithWideStores(context, wide, () =>
            {
                for (int padX = 0; padX < 4; padX++)
                {
                    int padY = 1 + padX % 2;
                    int multiple = ConvPlan.PadRowMultiple(context);
                    int wp = (w + 2 * padX + 3 + multiple - 1) / multiple * multiple, hp = h + 2 * padY;
                    ConvPlan.PadPass pass = ConvPlan.PadProgram(context, border, w, padX, wp);
                    Assert.Equal(wide && context.WideStores, pass.Wide);
                    Assert.Equal(pass.Wide && border == Border.Zero && w % 4 == 0, pass.Vec4In);
                    padded.Resize(c, hp, wp);
                    ConvPlan.PadCopy(context.Gl, pass, gpuIn, padded, padX, padY);
                    Tensor actual = padded.Download();
                    for (int ch = 0; ch < c; ch++)
                        for (int y = 0; y < hp; y++)
                            for (int x = 0; x < wp; x++)
                            {
                                int sy = y - padY, sx = x - padX;
                                bool inside = (uint)sy < (uint)h && (uint)sx < (uint)w;
                                uint expected = border == Border.Zero && !inside ? 0u
                                    : BitConverter.SingleToUInt32Bits(input[ch, Borders.Map(sy, h, border), Borders.Map(sx, w, border)]);
                                uint got = BitConverter.SingleToUInt32Bits(actual[ch, y, x]);
                                Assert.True(expected == got,
                                    $"{border} w={w} pad=({padX},{padY}) wide={pass.Wide} vec4={pass.Vec4In}: ({ch},{y},{x}) {got:x8}, expected {expected:x8}");
                            }
                }
            });
    }
}
