using ConvGL.App.Live.Views;
using ConvGL.Core;

namespace ConvGL.App.Tests;

/// <summary>The filters view's kernel-to-pixels mapping, on hand-checked numbers.</summary>
public sealed class KernelImageTests
{
    // (C_out 2, C_in 3, kH 1, kW 2); kernel 0's largest |w| is 2, so its weights map to 128 + round(127 w / 2); kernel
    // 1's is 0.5.
    private static readonly Tensor Rgb = new([2, 3, 1, 2],
    [
        2, 0, -2, 1, 0.5f, -1, // kernel 0: R = [2, 0], G = [-2, 1], B = [0.5, -1]
        -0.5f, 0, 0, 0, 0, 0,  // kernel 1: only R[0] = -0.5
    ]);

    [Fact]
    public void Level_IsSymmetricAroundMidGrey()
    {
        Assert.Equal(128, KernelImage.Level(0, 2));
        Assert.Equal(255, KernelImage.Level(2, 2));
        Assert.Equal(1, KernelImage.Level(-2, 2));
        Assert.Equal(192, KernelImage.Level(1, 2));   // 128 + 63.5, rounded to even
        Assert.Equal(64, KernelImage.Level(-1, 2));   // 128 - 64: mirrored
        Assert.Equal(160, KernelImage.Level(0.5f, 2)); // 128 + 31.75
        Assert.Equal(128, KernelImage.Level(float.NaN, 2));
    }

    [Fact]
    public void Strip_ColoursFromTheThreeSlices_EachKernelAtItsOwnScale()
    {
        Assert.Equal(2f, KernelImage.Scale(Rgb, 0));
        Assert.Equal(0.5f, KernelImage.Scale(Rgb, 1));
        byte[] px = KernelImage.Strip(Rgb, null);
        // 2 wide, 2 kernels x 1 row tall: kernel 0 on row 0, kernel 1 on row 1.
        Assert.Equal(new byte[]
        {
            255, 1, 160, 255,   128, 192, 64, 255,
            1, 128, 128, 255,   128, 128, 128, 255, // kernel 1's -0.5 is its largest |w|: black in red, not the bank's 96
        }, px);
    }

    [Fact]
    public void Strip_FollowsTheInputsChannelOrder()
    {
        // A BGR model: input channel 0 is blue, 2 is red.
        byte[] px = KernelImage.Strip(Rgb, [2, 1, 0]);
        Assert.Equal(new byte[] { 160, 1, 255, 255 }, px[..4]);
        Assert.Equal(new byte[] { 128, 128, 1, 255 }, px[8..12]);
    }

    [Fact]
    public void Strip_OneInputChannel_IsGrey_AndAnAllZeroKernelIsFlatGrey()
    {
        var grey = new Tensor([1, 1, 2, 1], [-3, 1.5f]);
        Assert.Equal(new byte[] { 1, 1, 1, 255, 192, 192, 192, 255 }, KernelImage.Strip(grey, null));
        Assert.All(KernelImage.Strip(new Tensor([2, 1, 2, 2]), null).Where((_, i) => i % 4 != 3), b => Assert.Equal(128, b));
        // A zero kernel beside a strong one stays flat; the weak one beside it fills its own range.
        var mixed = new Tensor([3, 1, 1, 2], [0, 0, 100, -100, 0.01f, -0.005f]);
        Assert.Equal(new byte[] { 128, 128, 128, 255, 128, 128, 128, 255, 255, 255, 255, 255, 1, 1, 1, 255, 255, 255, 255, 255, 64, 64, 64, 255 },
            KernelImage.Strip(mixed, null));
    }
}
