using System.Diagnostics;
using ConvGL.Core;
using ConvGL.Core.Ops;
using ConvGL.Gpu.Ops;

namespace ConvGL.Gpu.Tests;

/// <summary>Literal-weight programs built ahead on the <see cref="ShaderWarmer"/>'s thread (the live window's setting on
/// llvmpipe): a layer runs its general program, equal to the reference, while its literal programs are built, and the
/// literal ones, equal to the reference too, once they are done; one job per distinct program text; programs the warm-up
/// cannot mimic or that do not compile are finished unwarmed (the GL thread builds them and reports, as without a warmer);
/// a disk cache that is off means no warmer.</summary>
[Collection(GlCollection.Name)]
public sealed class ShaderWarmerTests(GlFixture fixture, ITestOutputHelper log)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    // Runs body with a warmer on the fixture's context, taken off and disposed after.
    private void WithWarmer(Action<ShaderWarmer> body)
    {
        // The literal programs are a software rasteriser's (elsewhere the warmer's thread builds nothing and finishes its
        // jobs at once, which these tests' first runs would race).
        Assert.SkipUnless(fixture.Context.IsSoftware, $"building ahead is for software rasterisers; this is {fixture.Context.Renderer}");
        ShaderWarmer? warmer = ShaderWarmer.TryStart(out string? why);
        Assert.SkipWhen(warmer is null, $"no warmer: {why}");
        fixture.Context.Warmer = warmer;
        try
        {
            body(warmer!);
        }
        finally
        {
            fixture.Context.Warmer = null;
            warmer!.Dispose();
        }
    }

    private void StandsInThenSwitches(ConvPath path, string literalVariant, int cin, int cout, int h, int w, ConvOptions o, int seed)
    {
        WithWarmer(warmer =>
        {
            var rng = new Random(seed);
            Tensor input = Parity.Random(rng, cin, h, w);
            // Weights no earlier run compiled (the seed and the clock): the disk cache cannot hold the program yet.
            Tensor weight = Parity.Random(new Random(seed ^ Environment.TickCount), 1f / MathF.Sqrt(cin * 9), cout, cin, 3, 3);
            float[] bias = Parity.RandomVector(rng, 1f, cout);
            Tensor expected = Conv2D.Apply(input, weight, bias, o);
            using var conv = new GpuConv2D(fixture.Context, weight, bias, o) { Choice = path };

            var clock = Stopwatch.StartNew();
            Tensor first = conv.Apply(input);
            log.WriteLine($"first run {clock.ElapsedMilliseconds} ms: {conv.Variant}");
            Assert.True(conv.WaitingForPrograms, "the literal programs were not queued");
            Assert.DoesNotContain("literal", conv.Variant[..^GpuConv2D.StandingIn.Length], StringComparison.Ordinal);
            Assert.EndsWith(GpuConv2D.StandingIn, conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(expected, first, "standing in: " + conv.Variant);

            clock.Restart();
            Assert.True(warmer.WaitIdle(Patience), "the warmer did not finish");
            log.WriteLine($"built ahead in {clock.ElapsedMilliseconds} ms");
            Assert.False(warmer.Busy);

            clock.Restart();
            Tensor second = conv.Apply(input);
            log.WriteLine($"run after {clock.ElapsedMilliseconds} ms (its own build from Mesa's cache): {conv.Variant}");
            Assert.False(conv.WaitingForPrograms);
            Assert.StartsWith(literalVariant, conv.Variant, StringComparison.Ordinal);
            Assert.DoesNotContain(GpuConv2D.StandingIn, conv.Variant, StringComparison.Ordinal);
            Parity.AssertGpuMatchesReference(expected, second, "built ahead: " + conv.Variant);
        });
    }

    [Fact]
    public void LiteralWinograd_GeneralProgramStandsIn_ThenTheBuiltOneRuns() =>
        StandsInThenSwitches(ConvPath.LiteralWinograd, "conv2d_literal_winograd:", 3, 5, 9, 16, new ConvOptions(), 11);

    [Fact]
    public void LiteralConv_EveryBlockQueued_ThenTheBuiltOnesRun() =>
        // 9 output channels: three programs (blocks of 4, 4 and 1), a reflect border (the padded copy).
        StandsInThenSwitches(ConvPath.Literal, "conv2d_literal:", 2, 9, 7, 13, new ConvOptions { Border = Border.Reflect }, 12);

    [Fact]
    public void OneJobPerText_AndWhatCannotBeWarmedIsFinishedUnwarmed()
    {
        WithWarmer(warmer =>
        {
            string tag = Guid.NewGuid().ToString("N");
            string good = $"#version 430\n// {tag}\nlayout(local_size_x = 8) in;\nlayout(rgba32f, binding = 1) readonly uniform imageBuffer u_in;\n" +
                          "layout(std430, binding = 3) writeonly buffer Out { vec4 o[]; };\nvoid main() { o[gl_GlobalInvocationID.x] = imageLoad(u_in, int(gl_GlobalInvocationID.x)) * 2.0; }\n";
            ShaderWarmer.Job a = warmer.Request("a.comp", good);
            Assert.Same(a, warmer.Request("again.comp", good));
            ShaderWarmer.Job sampler = warmer.Request("s.comp", good.Replace("readonly uniform imageBuffer u_in;", "uniform samplerBuffer u_s;", StringComparison.Ordinal)
                .Replace("imageLoad(u_in,", "texelFetch(u_s,", StringComparison.Ordinal));
            ShaderWarmer.Job image2d = warmer.Request("i.comp", good.Replace("imageBuffer", "image2D", StringComparison.Ordinal));
            ShaderWarmer.Job broken = warmer.Request("b.comp", good.Replace("* 2.0;", "* undefined_name;", StringComparison.Ordinal));
            Assert.True(warmer.WaitIdle(Patience));
            Assert.True(a.Done && sampler.Done && image2d.Done && broken.Done);
            Assert.Null(a.Skipped ?? warmer.NotServed);
            Assert.Contains("sampler", sampler.Skipped, StringComparison.Ordinal);
            Assert.Contains("image2D", image2d.Skipped, StringComparison.Ordinal);
            Assert.Contains("does not compile", broken.Skipped, StringComparison.Ordinal);
        });
    }

    /// <summary>A queued job whose requester released it (a stack switched away while its programs waited) is skipped, and
    /// a later request queues it again; a job still wanted is built.</summary>
    [Fact]
    public void AJobNobodyWaitsFor_IsSkipped_AndQueuedAgainWhenAskedFor()
    {
        WithWarmer(warmer =>
        {
            string Program(string tag, int terms)
            {
                var sb = new System.Text.StringBuilder($"#version 430\n// {tag}\nlayout(local_size_x = 8) in;\n");
                sb.Append("layout(rgba32f, binding = 1) readonly uniform imageBuffer u_in;\nlayout(std430, binding = 3) writeonly buffer Out { vec4 o[]; };\n");
                sb.Append("void main() { vec4 a = imageLoad(u_in, int(gl_GlobalInvocationID.x)); vec4 s = vec4(0.0);\n");
                for (int i = 0; i < terms; i++) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"s += a.{"xyzw"[i % 4]} * {1 + i * 0.001f:R}; a = a.yzwx * 1.0001;\n");
                return sb.Append("o[gl_GlobalInvocationID.x] = s; }\n").ToString();
            }
            string tag = Guid.NewGuid().ToString("N");
            // A program that keeps the thread busy (~1 s on llvmpipe) while the second one is queued and released.
            ShaderWarmer.Job slow = warmer.Request("slow.comp", Program(tag + " slow", 3000));
            string text = Program(tag + " released", 8);
            ShaderWarmer.Job released = warmer.Request("released.comp", text);
            warmer.Release(released);
            ShaderWarmer.Job wanted = warmer.Request("wanted.comp", Program(tag + " wanted", 8));
            Assert.True(warmer.WaitIdle(Patience));
            Assert.True(slow.Done && released.Done && wanted.Done);
            Assert.Null(slow.Skipped ?? wanted.Skipped ?? warmer.NotServed);
            Assert.Equal("no longer needed", released.Skipped);
            ShaderWarmer.Job again = warmer.Request("released.comp", text);
            Assert.NotSame(released, again);
            Assert.True(warmer.WaitIdle(Patience));
            Assert.True(again.Done);
            Assert.Null(again.Skipped);
        });
    }

    [Fact]
    public void ABrokenGeneratedProgram_IsStillTheBuildsError()
    {
        WithWarmer(warmer =>
        {
            string text = $"#version 430\n// {Guid.NewGuid():N}\nlayout(local_size_x = 8) in;\nvoid main() {{ undefined_name = 1; }}\n";
            var pending = new List<ShaderWarmer.Job>();
            ShaderBuildException? e = null;
            try
            {
                // Queued (null) or, where the warmer's thread already gave up on it, built here and failed: the same error.
                if (fixture.Context.Shaders.ComputeGeneratedWhenWarm("generated/broken.comp", text, pending) is null)
                {
                    Assert.Single(pending);
                    Assert.True(warmer.WaitIdle(Patience));
                    Assert.Contains("does not compile", pending[0].Skipped, StringComparison.Ordinal);
                }
            }
            catch (ShaderBuildException thrown)
            {
                e = thrown;
            }
            e ??= Assert.Throws<ShaderBuildException>(() => fixture.Context.Shaders.ComputeGeneratedWhenWarm("generated/broken.comp", text, pending));
            Assert.Contains("generated/broken.comp", e.Message, StringComparison.Ordinal);
            Assert.Contains("undefined_name", e.Message, StringComparison.Ordinal);
        });
    }

    /// <summary>Mesa reads its switch as a boolean (1, true, t, y, yes in any case), and the older MESA_GLSL_CACHE_DISABLE
    /// only where MESA_SHADER_CACHE_DISABLE is unset: a cache that is off means no warmer; other values leave it.</summary>
    [Fact]
    public void NoWarmer_WhereMesasCacheIsOff()
    {
        string? shader = Environment.GetEnvironmentVariable("MESA_SHADER_CACHE_DISABLE"), glsl = Environment.GetEnvironmentVariable("MESA_GLSL_CACHE_DISABLE");
        try
        {
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DISABLE", null);
            foreach (string off in (string[])["true", "1", "t", "y", "YES"])
            {
                Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DISABLE", off);
                Assert.Null(ShaderWarmer.TryStart(out string? why));
                Assert.Equal($"MESA_SHADER_CACHE_DISABLE={off}: Mesa's shader cache is off", why);
            }
            foreach (string on in (string[])["false", "0", "n"])
            {
                Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DISABLE", on);
                Assert.Null(ShaderWarmer.CacheDisabled());
            }
            // The older name counts only without the newer one.
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DISABLE", "true");
            Assert.Null(ShaderWarmer.CacheDisabled());
            Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DISABLE", null);
            Assert.Equal("MESA_GLSL_CACHE_DISABLE=true: Mesa's shader cache is off", ShaderWarmer.CacheDisabled());
        }
        finally
        {
            Environment.SetEnvironmentVariable("MESA_SHADER_CACHE_DISABLE", shader);
            Environment.SetEnvironmentVariable("MESA_GLSL_CACHE_DISABLE", glsl);
        }
    }

    /// <summary>A warmed program whose build on the GL thread was slow was no cache hit (the cache cannot be written, or is
    /// full): the warmer stops, later programs are built on the GL thread at once, and a job still queued is finished
    /// unwarmed so nothing waits for it.</summary>
    [Fact]
    public void ASlowBuildAfterWarming_StopsBuildingAhead()
    {
        WithWarmer(warmer =>
        {
            warmer.BuiltOnGlThread(ShaderWarmer.CacheHitMs / 2);
            Assert.Null(warmer.NotServed);
            string tag = Guid.NewGuid().ToString("N");
            string Text(string what) => $"#version 430\n// {tag} {what}\nlayout(local_size_x = 8) in;\nlayout(std430, binding = 3) writeonly buffer Out {{ float o[]; }};\nvoid main() {{ o[gl_GlobalInvocationID.x] = 1.0; }}\n";
            warmer.BuiltOnGlThread(ShaderWarmer.CacheHitMs * 3);
            Assert.Contains("no hit in Mesa's shader cache", warmer.NotServed, StringComparison.Ordinal);
            ShaderWarmer.Job queued = warmer.Request("queued.comp", Text("queued"));
            Assert.True(warmer.WaitIdle(Patience));
            Assert.True(queued.Done);
            Assert.Contains("no hit in Mesa's shader cache", queued.Skipped, StringComparison.Ordinal);
            var pending = new List<ShaderWarmer.Job>();
            GlProgram? built = fixture.Context.Shaders.ComputeGeneratedWhenWarm("generated/after.comp", Text("after"), pending);
            Assert.NotNull(built);
            Assert.Empty(pending);
            built!.Delete();
        });
    }
}
