using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>add.comp's SAME_SHAPE program (a residual add: texel-view reads, 4 values per invocation when the count is a
/// multiple of 4) against Elementwise.Add, on counts around the vec4 and the workgroup of 256, and a chain of adds that
/// reuses the same tensors (the texel views must see each new write).</summary>
[Collection(GlCollection.Name)]
public sealed class FastAddTests(GlFixture fixture)
{
    [Fact]
    public void SameShape_EveryCountAroundTheBlocks_MatchesReference()
    {
        using var add = new GpuAdd(fixture.Context);
        foreach (int[] shape in new[] { new[] { 1 }, [3], [7], [8], [9], [12], [16], [20], [24], [31], [33], [257], [2, 3, 4, 5], [1, 64, 7, 7], [1, 3, 17, 5], [255], [1025], [1, 8, 257] })
        {
            var rng = new Random(shape.Aggregate(1, (x, d) => x * 31 + d));
            int n = shape.Aggregate(1, (x, d) => x * d);
            Tensor a = Parity.Random(rng, 1, 1, n).Reshape(shape), b = Parity.Random(rng, 1, 1, n).Reshape(shape);
            Tensor actual = add.Apply(a, b);
            Assert.Equal(shape, actual.Shape);
            // Exact: one float addition per element on both sides.
            Assert.Equal(Elementwise.Add(a, b).Data, actual.Data);
            // Counts of whole pairs of vec4s take the 32-byte stores, other multiples of 4 one vec4 per invocation.
            Assert.Equal(n % 8 == 0 && fixture.Context.WideStores ? "same shape: pairs of vec4s, 32-byte stores" : n % 4 == 0 ? "same shape: vec4" : "same shape: 1 value", add.Variant);
        }
    }

    [Fact]
    public void SameShape_ChainedOnTheGpu_SeesEachWrite()
    {
        // x1 = x0 + x0, x2 = x1 + x0, x3 = x2 + x1 over (64, 7, 7) and an odd (3, 5, 7): each add reads what the one
        // before wrote through a texel view.
        foreach ((int c, int h, int w) in new[] { (64, 7, 7), (3, 5, 7) })
        {
            Tensor x0 = Parity.Random(new Random(c), c, h, w);
            using var add = new GpuAdd(fixture.Context);
            using GpuTensor g0 = GpuTensor.From(fixture.Context, x0), g1 = new(fixture.Context), g2 = new(fixture.Context), g3 = new(fixture.Context);
            int[] shape = [1, c, h, w];
            add.Run(g0, shape, g0, shape, g1, (c, h, w));
            add.Run(g1, shape, g0, shape, g2, (c, h, w));
            add.Run(g2, shape, g1, shape, g3, (c, h, w));
            Tensor x1 = Elementwise.Add(x0, x0), x2 = Elementwise.Add(x1, x0), x3 = Elementwise.Add(x2, x1);
            Assert.Equal(x3.Data, g3.Download().Data);
        }
    }

    [Fact]
    public void TensorOverload_MatchesReference_AndAllocatesNothingOnceWarm()
    {
        // Run(a, b, output): the stack runner's residual add, per frame; (64, 7, 7) takes the vec4 program, (3, 5, 7) the scalar one.
        foreach ((int c, int h, int w) in new[] { (64, 7, 7), (3, 5, 7) })
        {
            Tensor x = Parity.Random(new Random(c + 1), c, h, w), y = Parity.Random(new Random(c + 2), c, h, w);
            using var add = new GpuAdd(fixture.Context);
            using GpuTensor ga = GpuTensor.From(fixture.Context, x), gb = GpuTensor.From(fixture.Context, y), sum = new(fixture.Context);
            add.Run(ga, gb, sum);
            long before = GC.GetAllocatedBytesForCurrentThread();
            add.Run(ga, gb, sum);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
            Assert.Equal([c, h, w], sum.Shape);
            Assert.Equal(Elementwise.Add(x, y).Data, sum.Download().Data);
        }
    }
}
