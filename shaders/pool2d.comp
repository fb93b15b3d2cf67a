#version 430
// Max and average pooling over each channel, PyTorch MaxPool2d / AvgPool2d semantics: padding on
// both sides that max never picks (-inf) and average counts as zeros (count_include_pad=True),
// output size rounded down. The reference is Pool2D.Apply in src/ConvGL.Core/Ops/Pool2D.cs.
// Defines: POOL_MAX (1 max, 0 average), TEXEL_VIEW (the input read through an r32f texel view of its buffer, as in
// padded_pool2d.comp: GpuPool2D sets it wherever the input fits the driver's texel-buffer size).

#include "include/nonfinite.glsl"

// One output per invocation, the outputs numbered flat ((plane * H_out + y) * W_out + x, GlProgram.DispatchFlat): a grid
// of 16x16 tiles would run mostly idle invocations on small maps (ResNet18's 7x7 average pool to 512 maps of 1x1 filled
// 1 of every 256, 1.2-1.8 ms on llvmpipe).
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

// (C, H, W) row-major.
#if TEXEL_VIEW
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#define LOAD(i) imageLoad(u_input, (i)).r
#else
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
#define LOAD(i) in_data[(i)]
#endif
// (C, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;   // (C, H, W)
uniform ivec3 u_out_shape;  // (C, H_out, W_out)
uniform int u_row;          // invocations per dispatch row (DispatchFlat)
uniform ivec2 u_size;       // (kH, kW)
uniform ivec2 u_stride;     // (sy, sx)
uniform ivec2 u_pad;        // (top, left)

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_out_shape.x * u_out_shape.y * u_out_shape.z) return;
    int rows = index / u_out_shape.z;
    ivec3 pos = ivec3(index - rows * u_out_shape.z, rows % u_out_shape.y, rows / u_out_shape.y); // (x, y, plane)
    int h = u_in_shape.y, w = u_in_shape.z;
    int plane = pos.z * h * w;
    int y0 = pos.y * u_stride.x - u_pad.x;
    int x0 = pos.x * u_stride.y - u_pad.y;

#if POOL_MAX
    // -inf, as the reference starts (a window whose real taps are all -inf is -inf; -FLT_MAX gave -3.4e38 there).
    // PyTorch requires pad <= size/2, so every window holds at least one real pixel.
    float acc = -INF_F;
#else
    float acc = 0.0;
#endif
    for (int i = 0; i < u_size.x; i++)
    {
        int iy = y0 + i;
        if (uint(iy) >= uint(h)) continue;
        for (int j = 0; j < u_size.y; j++)
        {
            int ix = x0 + j;
            if (uint(ix) >= uint(w)) continue;
            float v = LOAD(plane + iy * w + ix);
#if POOL_MAX
            // Not max(): GLSL leaves its NaN result undefined (NVIDIA and llvmpipe return the other operand).
            // PyTorch takes v when `v > max || isnan(v)`, so a NaN in the window is the output, as in Pool2D.Apply.
            acc = (v > acc || isnan(v)) ? v : acc;
#else
            acc += v;
#endif
        }
    }
#if !POOL_MAX
    acc /= float(u_size.x * u_size.y);
#endif
    out_data[(pos.z * u_out_shape.y + pos.y) * u_out_shape.z + pos.x] = acc;
}
