#version 430
// Y = alpha * A' B' + beta * C (ONNX Gemm; PyTorch Linear with transB). The reference is Gemm.Apply in
// src/ConvGL.Core/Ops/Gemm.cs. One invocation per output element (i, j); the host passes A' and B' as
// strides into A and B, so transposes cost nothing, and C's strides are 0 along broadcast dimensions.
// Defines: HAS_C (1 when C is given).

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer A { float a_data[]; };
layout(std430, binding = 1) readonly buffer B { float b_data[]; };
layout(std430, binding = 2) readonly buffer C { float c_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_mnk;       // (M, N, K)
uniform ivec2 u_a_stride;  // A'[i, p] = a_data[i * s.x + p * s.y]
uniform ivec2 u_b_stride;  // B'[p, j] = b_data[p * s.x + j * s.y]
uniform ivec2 u_c_stride;  // C[i, j] = c_data[i * s.x + j * s.y]
uniform float u_alpha;
uniform float u_beta;

void main()
{
    int j = int(gl_GlobalInvocationID.x), i = int(gl_GlobalInvocationID.y);
    if (i >= u_mnk.x || j >= u_mnk.y) return;
    float sum = 0.0;
    // 8 terms a pass (the inner loop unrolls; the same order of additions): llvmpipe before Mesa 23 leaves any loop after
    // 65,535 passes (GlContext.LoopLimit), so this reaches K of ~520,000 there (GpuGemm checks), not 65,535.
    int p = 0;
    for (; p + 8 <= u_mnk.z; p += 8)
        for (int q = 0; q < 8; q++)
            sum += a_data[i * u_a_stride.x + (p + q) * u_a_stride.y] * b_data[(p + q) * u_b_stride.x + j * u_b_stride.y];
    for (; p < u_mnk.z; p++)
        sum += a_data[i * u_a_stride.x + p * u_a_stride.y] * b_data[p * u_b_stride.x + j * u_b_stride.y];
    float y = u_alpha * sum;
#if HAS_C
    y += u_beta * c_data[i * u_c_stride.x + j * u_c_stride.y];
#endif
    out_data[i * u_mnk.y + j] = y;
}
