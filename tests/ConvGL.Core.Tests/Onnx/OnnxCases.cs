using ConvGL.Core.Onnx;
using ConvGL.Core.Stacks;

namespace ConvGL.Core.Tests.Onnx;

/// <summary>Where the official ONNX backend node cases are (Debian's libonnx-testdata) and which of them ConvGL's
/// supported ops must pass. Shared by the Core (CPU) and Gpu tests (linked, one list).</summary>
internal static class OnnxCases
{
    /// <summary>Debian's libonnx-testdata, or a copy of the cases named here where <c>CONVGL_ONNX_TESTDATA</c> says
    /// (scripts/gpu-machine.sh carries one to a GPU machine, which has no Debian package).</summary>
    public static readonly string DataRoot = Environment.GetEnvironmentVariable("CONVGL_ONNX_TESTDATA") is { Length: > 0 } root
        ? root : "/usr/share/libonnx-testdata/data";

    public static readonly string NodeDir = Path.Combine(DataRoot, "node");

    /// <summary>Every supported op's 1D and 2D node cases. Left out on purpose: the 3D pools, uint8 variants, MaxPool with
    /// the Indices output and BatchNormalization in training mode (each is rejected with its own error: see
    /// OnnxNodeCaseTests.UnsupportedCases_FailToLoad_WithOneErrorNamingTheNodeAndWhatIsSupported), and ReduceLogSumExp's
    /// cases, whose data is DOUBLE (its worked example and GPU sweep are in the reduce tests instead).</summary>
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
        "test_maxpool_1d_default", "test_averagepool_1d_default", "test_convtranspose_1d",
        "test_batchnorm_epsilon", "test_batchnorm_example",
        "test_relu", "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example", "test_sigmoid", "test_sigmoid_example",
        "test_tanh", "test_tanh_example", "test_abs", "test_add", "test_add_bcast", "test_globalaveragepool", "test_globalaveragepool_precomputed",
        "test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_matrix_bias", "test_gemm_default_no_bias",
        "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias", "test_gemm_default_vector_bias",
        "test_gemm_default_zero_bias", "test_gemm_transposeA", "test_gemm_transposeB",
        "test_flatten_axis0", "test_flatten_axis1", "test_flatten_axis2", "test_flatten_axis3", "test_flatten_default_axis",
        "test_flatten_negative_axis1", "test_flatten_negative_axis2", "test_flatten_negative_axis3", "test_flatten_negative_axis4",
        "test_clip", "test_clip_default_inbounds", "test_clip_default_max", "test_clip_default_min", "test_clip_example",
        "test_clip_inbounds", "test_clip_outbounds", "test_clip_splitbounds",
        "test_prelu_broadcast", "test_prelu_example", "test_sub", "test_sub_bcast", "test_sub_example", "test_mul", "test_mul_bcast",
        "test_mul_example", "test_div", "test_div_bcast", "test_div_example",
        "test_concat_1d_axis_0", "test_concat_1d_axis_negative_1", "test_concat_2d_axis_0", "test_concat_2d_axis_1",
        "test_concat_2d_axis_negative_1", "test_concat_2d_axis_negative_2", "test_concat_3d_axis_0", "test_concat_3d_axis_1",
        "test_concat_3d_axis_2", "test_concat_3d_axis_negative_1", "test_concat_3d_axis_negative_2", "test_concat_3d_axis_negative_3",
        "test_constant_pad", "test_constant", "test_identity",
        "test_dropout_default", "test_dropout_default_old", "test_dropout_default_ratio", "test_dropout_random_old",
        "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2", "test_softmax_default_axis", "test_softmax_example",
        "test_softmax_large_number", "test_softmax_negative_axis", "test_logsoftmax_axis_0", "test_logsoftmax_axis_1",
        "test_logsoftmax_axis_2", "test_logsoftmax_default_axis", "test_logsoftmax_example_1", "test_logsoftmax_large_number",
        "test_logsoftmax_negative_axis",
        "test_reshape_extended_dims", "test_reshape_negative_dim", "test_reshape_negative_extended_dims", "test_reshape_one_dim",
        "test_reshape_reduced_dims", "test_reshape_reordered_all_dims", "test_reshape_reordered_last_dims",
        "test_reshape_zero_and_negative_dim", "test_reshape_zero_dim",
        "test_elu", "test_elu_default", "test_elu_example", "test_selu", "test_selu_default", "test_selu_example",
        "test_hardsigmoid", "test_hardsigmoid_default", "test_hardsigmoid_example", "test_hardswish", "test_softplus",
        "test_softplus_example", "test_softsign", "test_softsign_example",
        "test_convtranspose", "test_convtranspose_autopad_same", "test_convtranspose_dilations", "test_convtranspose_kernel_shape",
        "test_convtranspose_output_shape", "test_convtranspose_pad", "test_convtranspose_pads", "test_convtranspose_with_kernel",
        "test_resize_downsample_scales_linear", "test_resize_downsample_scales_linear_align_corners", "test_resize_downsample_scales_nearest",
        "test_resize_downsample_sizes_linear_pytorch_half_pixel", "test_resize_downsample_sizes_nearest",
        "test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn", "test_resize_upsample_scales_linear",
        "test_resize_upsample_scales_linear_align_corners", "test_resize_upsample_scales_nearest", "test_resize_upsample_sizes_nearest",
        "test_resize_upsample_sizes_nearest_ceil_half_pixel", "test_resize_upsample_sizes_nearest_floor_align_corners",
        "test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric", "test_upsample_nearest",
        "test_resize_downsample_scales_cubic", "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside",
        "test_resize_downsample_scales_cubic_align_corners", "test_resize_downsample_sizes_cubic", "test_resize_upsample_scales_cubic",
        "test_resize_upsample_scales_cubic_A_n0p5_exclude_outside", "test_resize_upsample_scales_cubic_align_corners",
        "test_resize_upsample_scales_cubic_asymmetric", "test_resize_upsample_sizes_cubic",
        "test_instancenorm_epsilon", "test_instancenorm_example",
        "test_lrn", "test_lrn_default",
        "test_depthtospace_crd_mode", "test_depthtospace_crd_mode_example", "test_depthtospace_dcr_mode", "test_depthtospace_example",
        "test_spacetodepth", "test_spacetodepth_example",
        "test_globalmaxpool", "test_globalmaxpool_precomputed",
        "test_reduce_max_default_axes_keepdim_example", "test_reduce_max_default_axes_keepdims_random", "test_reduce_max_do_not_keepdims_example",
        "test_reduce_max_do_not_keepdims_random", "test_reduce_max_keepdims_example", "test_reduce_max_keepdims_random",
        "test_reduce_max_negative_axes_keepdims_example", "test_reduce_max_negative_axes_keepdims_random",
        "test_reduce_mean_default_axes_keepdims_example", "test_reduce_mean_default_axes_keepdims_random", "test_reduce_mean_do_not_keepdims_example",
        "test_reduce_mean_do_not_keepdims_random", "test_reduce_mean_keepdims_example", "test_reduce_mean_keepdims_random",
        "test_reduce_mean_negative_axes_keepdims_example", "test_reduce_mean_negative_axes_keepdims_random",
        "test_reduce_min_default_axes_keepdims_example", "test_reduce_min_default_axes_keepdims_random", "test_reduce_min_do_not_keepdims_example",
        "test_reduce_min_do_not_keepdims_random", "test_reduce_min_keepdims_example", "test_reduce_min_keepdims_random",
        "test_reduce_min_negative_axes_keepdims_example", "test_reduce_min_negative_axes_keepdims_random",
        "test_reduce_sum_default_axes_keepdims_example", "test_reduce_sum_default_axes_keepdims_random", "test_reduce_sum_do_not_keepdims_example",
        "test_reduce_sum_do_not_keepdims_random", "test_reduce_sum_empty_axes_input_noop_example", "test_reduce_sum_empty_axes_input_noop_random",
        "test_reduce_sum_keepdims_example", "test_reduce_sum_keepdims_random", "test_reduce_sum_negative_axes_keepdims_example",
        "test_reduce_sum_negative_axes_keepdims_random",
        "test_argmax_default_axis_example", "test_argmax_default_axis_example_select_last_index", "test_argmax_default_axis_random",
        "test_argmax_default_axis_random_select_last_index", "test_argmax_keepdims_example",
        "test_argmax_keepdims_example_select_last_index", "test_argmax_keepdims_random", "test_argmax_keepdims_random_select_last_index",
        "test_argmax_negative_axis_keepdims_example", "test_argmax_negative_axis_keepdims_example_select_last_index",
        "test_argmax_negative_axis_keepdims_random", "test_argmax_negative_axis_keepdims_random_select_last_index",
        "test_argmax_no_keepdims_example", "test_argmax_no_keepdims_example_select_last_index", "test_argmax_no_keepdims_random",
        "test_argmax_no_keepdims_random_select_last_index",
        "test_argmin_default_axis_example", "test_argmin_default_axis_example_select_last_index", "test_argmin_default_axis_random",
        "test_argmin_default_axis_random_select_last_index", "test_argmin_keepdims_example",
        "test_argmin_keepdims_example_select_last_index", "test_argmin_keepdims_random", "test_argmin_keepdims_random_select_last_index",
        "test_argmin_negative_axis_keepdims_example", "test_argmin_negative_axis_keepdims_example_select_last_index",
        "test_argmin_negative_axis_keepdims_random", "test_argmin_negative_axis_keepdims_random_select_last_index",
        "test_argmin_no_keepdims_example", "test_argmin_no_keepdims_example_select_last_index", "test_argmin_no_keepdims_random",
        "test_argmin_no_keepdims_random_select_last_index",
        "test_reduce_l1_default_axes_keepdims_example", "test_reduce_l1_default_axes_keepdims_random",
        "test_reduce_l1_do_not_keepdims_example", "test_reduce_l1_do_not_keepdims_random",
        "test_reduce_l1_keep_dims_example", "test_reduce_l1_keep_dims_random",
        "test_reduce_l1_negative_axes_keep_dims_example", "test_reduce_l1_negative_axes_keep_dims_random",
        "test_reduce_l2_default_axes_keepdims_example", "test_reduce_l2_default_axes_keepdims_random",
        "test_reduce_l2_do_not_keepdims_example", "test_reduce_l2_do_not_keepdims_random",
        "test_reduce_l2_keep_dims_example", "test_reduce_l2_keep_dims_random",
        "test_reduce_l2_negative_axes_keep_dims_example", "test_reduce_l2_negative_axes_keep_dims_random",
        "test_reduce_log_sum", "test_reduce_log_sum_asc_axes", "test_reduce_log_sum_default", "test_reduce_log_sum_desc_axes",
        "test_reduce_log_sum_negative_axes",
        "test_reduce_prod_default_axes_keepdims_example", "test_reduce_prod_default_axes_keepdims_random",
        "test_reduce_prod_do_not_keepdims_example", "test_reduce_prod_do_not_keepdims_random",
        "test_reduce_prod_keepdims_example", "test_reduce_prod_keepdims_random",
        "test_reduce_prod_negative_axes_keepdims_example", "test_reduce_prod_negative_axes_keepdims_random",
        "test_reduce_sum_square_default_axes_keepdims_example", "test_reduce_sum_square_default_axes_keepdims_random",
        "test_reduce_sum_square_do_not_keepdims_example", "test_reduce_sum_square_do_not_keepdims_random",
        "test_reduce_sum_square_keepdims_example", "test_reduce_sum_square_keepdims_random",
        "test_reduce_sum_square_negative_axes_keepdims_example", "test_reduce_sum_square_negative_axes_keepdims_random",
        "test_max_example", "test_max_one_input", "test_max_two_inputs", "test_max_float32", "test_min_example", "test_min_one_input",
        "test_min_two_inputs", "test_min_float32", "test_sum_example", "test_sum_one_input", "test_sum_two_inputs", "test_mean_example",
        "test_mean_one_input", "test_mean_two_inputs", "test_pow", "test_pow_example", "test_pow_bcast_array", "test_pow_bcast_scalar",
        "test_neg", "test_neg_example", "test_exp", "test_exp_example", "test_log", "test_log_example", "test_sqrt", "test_sqrt_example", "test_reciprocal", "test_reciprocal_example", "test_floor", "test_floor_example", "test_ceil", "test_ceil_example", "test_sign",
        "test_constantofshape_float_ones", "test_constantofshape_int_shape_zero", "test_constantofshape_int_zeros",
        "test_erf", "test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices",
        "test_matmul_2d", "test_matmul_3d", "test_matmul_4d", "test_shape", "test_shape_clip_end", "test_shape_clip_start",
        "test_shape_end_1", "test_shape_end_negative_1", "test_shape_example", "test_shape_start_1", "test_shape_start_1_end_2",
        "test_shape_start_1_end_negative_1", "test_shape_start_negative_1", "test_slice", "test_slice_default_axes",
        "test_slice_default_steps", "test_slice_end_out_of_bounds", "test_slice_neg", "test_slice_neg_steps",
        "test_slice_negative_axes", "test_split_equal_parts_1d", "test_split_equal_parts_2d", "test_split_equal_parts_default_axis",
        "test_split_variable_parts_1d", "test_split_variable_parts_2d", "test_split_variable_parts_default_axis",
        "test_squeeze", "test_squeeze_negative_axes", "test_transpose_all_permutations_0", "test_transpose_all_permutations_1",
        "test_transpose_all_permutations_2", "test_transpose_all_permutations_3", "test_transpose_all_permutations_4",
        "test_transpose_all_permutations_5", "test_transpose_default", "test_unsqueeze_axis_0", "test_unsqueeze_axis_1",
        "test_unsqueeze_axis_2", "test_unsqueeze_axis_3", "test_unsqueeze_negative_axes", "test_unsqueeze_three_axes",
        "test_unsqueeze_two_axes", "test_unsqueeze_unsorted_axes",
        "test_celu", "test_thresholdedrelu", "test_thresholdedrelu_default", "test_thresholdedrelu_example",
        "test_expand_dim_changed", "test_expand_dim_unchanged", "test_tile", "test_tile_precomputed",
        // Functions written out as the ops they are defined by (ONNX's *_expanded cases): a graph of several supported ops
        // each, MeanVarianceNormalization's ReduceMean over the axes (0, 2, 3) with the channels kept between them.
        "test_celu_expanded", "test_hardswish_expanded", "test_mvn_expanded",
        "test_softmax_axis_0_expanded", "test_softmax_axis_1_expanded", "test_softmax_axis_2_expanded", "test_softmax_default_axis_expanded",
        "test_softmax_example_expanded", "test_softmax_large_number_expanded", "test_softmax_negative_axis_expanded",
        "test_logsoftmax_axis_0_expanded", "test_logsoftmax_axis_1_expanded", "test_logsoftmax_axis_2_expanded",
        "test_logsoftmax_default_axis_expanded", "test_logsoftmax_example_1_expanded", "test_logsoftmax_large_number_expanded",
        "test_logsoftmax_negative_axis_expanded",
        // Empty tensors: a dimension of 0 in, out, or made by a Slice past the end (the GPU runner keeps their shapes only).
        "test_reshape_allowzero_reordered", "test_slice_start_out_of_bounds", "test_split_zero_size_splits",
        // LayerNormalization with its Mean and InvStdDev outputs (LayerNormCases also runs them on Y alone).
        .. LayerNormCases.Names,
    ];

    public static readonly string PyTorchOperatorDir = Path.Combine(DataRoot, "pytorch-operator");

    /// <summary>PyTorch operators exported to ONNX (ONNX's pytorch-operator cases) that are float32 and 2D: torch.chunk
    /// (Split), x[0] indexing (Slice), permute (Transpose), view (Reshape), mm / addmm (Gemm / MatMul) among them.</summary>
    public static readonly string[] PyTorchOperator =
    [
        "test_operator_addmm", "test_operator_basic", "test_operator_chunk", "test_operator_clip", "test_operator_concat2",
        "test_operator_conv", "test_operator_convtranspose", "test_operator_exp", "test_operator_flatten", "test_operator_index",
        "test_operator_max", "test_operator_min", "test_operator_mm", "test_operator_pad", "test_operator_params",
        "test_operator_permute2", "test_operator_pow", "test_operator_reduced_mean", "test_operator_reduced_mean_keepdim",
        "test_operator_reduced_sum", "test_operator_reduced_sum_keepdim", "test_operator_selu", "test_operator_sqrt",
        "test_operator_symbolic_override", "test_operator_symbolic_override_nested", "test_operator_view",
        "test_operator_repeat", "test_operator_repeat_dim_overflow",
    ];

    public static readonly string PyTorchDir = Path.Combine(DataRoot, "pytorch-converted");

    /// <summary>PyTorch modules exported to ONNX (ONNX's pytorch-converted cases: batches of 2, opset 6-era files)
    /// whose ops ConvGL runs, 2D only.</summary>
    public static readonly string[] PyTorchConverted =
    [
        "test_AvgPool2d", "test_AvgPool2d_stride", "test_BatchNorm2d_eval", "test_BatchNorm2d_momentum_eval", "test_ConstantPad2d",
        "test_Conv2d", "test_Conv2d_depthwise", "test_Conv2d_depthwise_padded", "test_Conv2d_depthwise_strided",
        "test_Conv2d_depthwise_with_multiplier", "test_Conv2d_dilated", "test_Conv2d_groups", "test_Conv2d_groups_thnn",
        "test_Conv2d_no_bias", "test_Conv2d_padding", "test_Conv2d_strided", "test_LeakyReLU", "test_LeakyReLU_with_negval",
        "test_Linear", "test_MaxPool2d", "test_MaxPool2d_stride_padding_dilation", "test_PReLU_1d", "test_PReLU_1d_multiparam",
        "test_PReLU_2d", "test_PReLU_2d_multiparam", "test_PReLU_3d", "test_PReLU_3d_multiparam", "test_ReLU", "test_ReflectionPad2d",
        "test_ReplicationPad2d", "test_Sigmoid", "test_Tanh", "test_ZeroPad2d", "test_Softmax", "test_softmax_lastdim",
        "test_softmax_functional_dim3", "test_LogSoftmax", "test_log_softmax_dim3", "test_log_softmax_lastdim",
        "test_ELU", "test_SELU", "test_Softplus", "test_Softsign", "test_ConvTranspose2d", "test_ConvTranspose2d_no_bias",
        // Modules whose exports are ops of any rank or 2D underneath (a 1D pool written as a 2D one between an Unsqueeze and a
        // Squeeze; batchnorm of 3D maps; an embedding as a Gather; GLU as a Split, a Sigmoid and a Mul), and the 1D convs and
        // pools (run as one-row 2D ops): all but the 13 3D convs and pools of the folder, which are refused.
        "test_AvgPool1d", "test_AvgPool1d_stride", "test_BatchNorm1d_3d_input_eval", "test_BatchNorm3d_eval", "test_BatchNorm3d_momentum_eval",
        "test_Embedding", "test_Embedding_sparse", "test_GLU", "test_GLU_dim", "test_Linear_no_bias", "test_PixelShuffle",
        "test_PoissonNLLLLoss_no_reduce", "test_Softmin",
        "test_Conv1d", "test_Conv1d_dilated", "test_Conv1d_groups", "test_Conv1d_pad1", "test_Conv1d_pad1size1", "test_Conv1d_pad2",
        "test_Conv1d_pad2size1", "test_Conv1d_stride", "test_MaxPool1d", "test_MaxPool1d_stride", "test_MaxPool1d_stride_padding_dilation",
    ];

    /// <summary>A pytorch-converted case's directory (skips only when the Debian test data is absent).</summary>
    public static string PyTorchCase(string name)
    {
        Dir("test_relu"); // skips when the data is absent
        string dir = Path.Combine(name.StartsWith("test_operator_", StringComparison.Ordinal) ? PyTorchOperatorDir : PyTorchDir, name);
        Assert.True(Directory.Exists(dir), $"{dir} is missing although {NodeDir} exists");
        return dir;
    }

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
