using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Where the official ONNX backend node cases are (Debian's libonnx-testdata) and which of them ConvGL's
/// supported ops must pass. Shared by the Core (CPU) and Gpu tests (linked, one list).</summary>
internal static class OnnxCases
{
    public const string NodeDir = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Every supported op's 2D node cases. Left out on purpose: the 1D/3D pools, uint8 variants, MaxPool with
    /// the Indices output and BatchNormalization in training mode (each is rejected with its own error: see
    /// OnnxNodeCaseTests.UnsupportedCases_FailToLoad_WithOneErrorNamingTheNodeAndWhatIsSupported).</summary>
    public static readonly string[] Supported =
    [
        "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_conv_with_autopad_same",
        "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_no_padding", "test_conv_with_strides_padding",
        "test_maxpool_2d_ceil", "test_maxpool_2d_default", "test_maxpool_2d_dilations", "test_maxpool_2d_pads",
        "test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_strides",
        "test_maxpool_2d_same_lower", "test_maxpool_2d_same_upper", "test_maxpool_2d_strides",
        "test_averagepool_2d_ceil", "test_averagepool_2d_default", "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad",
        "test_averagepool_2d_precomputed_pads", "test_averagepool_2d_precomputed_pads_count_include_pad",
        "test_averagepool_2d_precomputed_same_upper", "test_averagepool_2d_precomputed_strides", "test_averagepool_2d_same_lower",
        "test_averagepool_2d_same_upper", "test_averagepool_2d_strides",
        "test_batchnorm_epsilon", "test_batchnorm_example",
        "test_relu", "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example", "test_sigmoid", "test_sigmoid_example",
        "test_tanh", "test_tanh_example", "test_abs", "test_add", "test_add_bcast", "test_globalaveragepool", "test_globalaveragepool_precomputed",
        "test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_matrix_bias", "test_gemm_default_no_bias",
        "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias", "test_gemm_default_vector_bias",
        "test_gemm_default_zero_bias", "test_gemm_transposeA", "test_gemm_transposeB",
        "test_flatten_axis0", "test_flatten_axis1", "test_flatten_axis2", "test_flatten_axis3", "test_flatten_default_axis",
        "test_flatten_negative_axis1", "test_flatten_negative_axis2", "test_flatten_negative_axis3", "test_flatten_negative_axis4",
    ];

    /// <summary>The pool cases with auto_pad SAME_UPPER / SAME_LOWER: they also run imported as a stack (a pool layer
    /// keeps the padding mode and resolves it per input size), not only as a graph.</summary>
    public static readonly string[] SamePools =
    [
        "test_maxpool_2d_same_upper", "test_maxpool_2d_same_lower", "test_maxpool_2d_precomputed_same_upper",
        "test_averagepool_2d_same_upper", "test_averagepool_2d_same_lower", "test_averagepool_2d_precomputed_same_upper",
    ];

    /// <summary>A case runner that imports the case's one-input model as a stack (<see cref="OnnxStack.FromGraph"/>) and
    /// runs it with <paramref name="run"/> (the CPU <see cref="StackRunner"/> or the GPU runner) on the (C, H, W) input,
    /// giving the last layer's map back as the graph's (1, C, H, W) output.</summary>
    public static OnnxTestCase.Runner AsStack(Func<Stack, Tensor, Tensor> run) => (graph, inputs) =>
    {
        Stack stack = OnnxStack.FromGraph(graph, "case");
        Tensor x = inputs[graph.Inputs[0].Name];
        Tensor y = run(stack, x.Reshape(x.Shape[1..]));
        return new Dictionary<string, Tensor> { [graph.Outputs[0].Name] = y.Reshape([1, .. y.Shape]) };
    };

    /// <summary>The case's directory; skips (with the reason) only when the Debian test data is not installed.</summary>
    public static string Dir(string name)
    {
        if (!Directory.Exists(NodeDir))
            Assert.Skip($"ONNX backend test data absent: {NodeDir} (install it with: apt-get install libonnx-testdata; scripts/install-deps.sh --test does)");
        string dir = Path.Combine(NodeDir, name);
        Assert.True(Directory.Exists(dir), $"{dir} is missing although {NodeDir} exists");
        return dir;
    }
}
