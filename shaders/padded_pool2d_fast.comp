#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Max and average pooling with every ONNX MaxPool / AveragePool option, the fast variant of padded_pool2d.comp (same
// semantics, same summation order; the reference is PaddedPool2D.Apply in src/ConvGL.Core/Ops/PaddedPool2D.cs). One
// invocation computes OX outputs along x of one row of one plane, reading the input through an r32f texel view of its
// buffer (a vector gather on llvmpipe, where a storage-block load with a per-lane address is a scalar loop): a window
// row of OX outputs reads SPAN inputs, not OX * KW. The window's size, strides and dilations are compile-time, so the
// loops unroll; a tap outside the image is read clamped into it and dropped with a select (no branch, no early return,
// no load out of bounds). The taps padded_pool2d.comp counts for count_include_pad (those before the end padding) are
// counted the same way: its loops stop at the first tap past the end padding, and every later one is past it too.
// Defines: POOL_MAX (1 max, 0 average), KH, KW, SY, SX, DY, DX, OX, and VEC4_LOADS (input rows of whole vec4s: a window
// row's span read as rgba32f texels, starting VEC4_SHIFT floats early, the same for every block since blocks are
// OX * SX apart: ~2x fewer fetch instructions on llvmpipe than one r32f fetch per float), VEC4_STORES (output rows of
// whole vec4s: two aligned vec4 stores per block, each wholly inside or outside the row), U64_STORES (output rows of
// whole multiples of 8: the block's 8 outputs as one 32-byte store, include/store8.glsl).

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

#define SPAN ((OX - 1) * SX + (KW - 1) * DX + 1)

// The input tensor, (P, H, W) row-major: P planes pooled alone; as rgba32f texels (VEC4_LOADS).
#if VEC4_LOADS
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4;
#else
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#endif
// (P, H_out, W_out) row-major.
#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform ivec3 u_in_shape;  // (P, H, W)
uniform ivec3 u_out_shape; // (P, H_out, W_out)
uniform ivec2 u_pad;       // (top, left)
uniform ivec2 u_pad_end;   // (bottom, right)
uniform int u_include_pad; // average: 1 divides by the taps inside the padded input, 0 by those inside the image

void main()
{
    int plane = int(gl_GlobalInvocationID.z);
    int h = u_in_shape.y, w = u_in_shape.z;
    int ox = int(gl_GlobalInvocationID.x) * OX;
    int oy = int(gl_GlobalInvocationID.y);
    bool inside = ox < u_out_shape.z && oy < u_out_shape.y;
    // Loads stay in the tensor however far out the invocation is; the stores below are predicated.
    int y0 = min(oy, u_out_shape.y - 1) * SY - u_pad.x;
    // Unclamped along x: the columns are clamped below (and VEC4_SHIFT holds for every block).
    int x0 = ox * SX - u_pad.y;
    int base = min(plane, u_in_shape.x - 1) * h * w;

    int cols[SPAN];
    bool col_in[SPAN], col_counted[SPAN];
    for (int s = 0; s < SPAN; s++)
    {
        int x = x0 + s;
        cols[s] = clamp(x, 0, w - 1);
        col_in[s] = uint(x) < uint(w);
        col_counted[s] = x < w + u_pad_end.y;
    }

#if POOL_MAX
    // -inf: a window of padding alone (possible only with large pads) gives -inf, as the reference does.
    float acc[OX];
    for (int k = 0; k < OX; k++) acc[k] = uintBitsToFloat(0xff800000u);
#else
    float acc[OX];
    int in_image[OX], in_padded[OX];
    for (int k = 0; k < OX; k++)
    {
        acc[k] = 0.0;
        in_image[k] = 0;
        in_padded[k] = 0;
    }
#endif
    for (int i = 0; i < KH; i++)
    {
        int y = y0 + i * DY;
        bool row_in = uint(y) < uint(h);
        bool row_counted = y < h + u_pad_end.x;
        int row = base + clamp(y, 0, h - 1) * w;
        float v[SPAN];
#if VEC4_LOADS
        // Texels clamped into the row: those outside it are read from its ends and every such tap dropped by col_in.
        int xt = x0 - VEC4_SHIFT; // a multiple of 4
        for (int q = 0; q < (SPAN + VEC4_SHIFT + 3) / 4; q++)
        {
            vec4 t = imageLoad(u_input4, (row + clamp(xt + 4 * q, 0, w - 4)) >> 2);
            for (int e = 0; e < 4; e++)
            {
                int s = 4 * q + e - VEC4_SHIFT;
                if (s >= 0 && s < SPAN) v[s] = t[e];
            }
        }
#else
        for (int s = 0; s < SPAN; s++) v[s] = imageLoad(u_input, row + cols[s]).r;
#endif
        for (int k = 0; k < OX; k++)
        {
            for (int j = 0; j < KW; j++)
            {
                int s = k * SX + j * DX;
                bool tap_in = row_in && col_in[s];
                float t = v[s];
#if POOL_MAX
                // Not max(): GLSL leaves its NaN result undefined; a NaN in the window is the output, as in the reference.
                acc[k] = tap_in && (t > acc[k] || isnan(t)) ? t : acc[k];
#else
                acc[k] += tap_in ? t : 0.0;
                in_image[k] += tap_in ? 1 : 0;
                in_padded[k] += row_counted && col_counted[s] ? 1 : 0;
#endif
            }
        }
    }

    if (inside)
    {
        int at = (plane * u_out_shape.y + oy) * u_out_shape.z + ox;
        float r[OX];
        for (int k = 0; k < OX; k++)
        {
#if POOL_MAX
            r[k] = acc[k];
#else
            int divisor = u_include_pad != 0 ? in_padded[k] : in_image[k];
            r[k] = divisor == 0 ? 0.0 : acc[k] / float(divisor);
#endif
        }
#if U64_STORES
        out_data8[at >> 3] = pack8(vec4(r[0], r[1], r[2], r[3]), vec4(r[4], r[5], r[6], r[7]));
#elif VEC4_STORES
        for (int q = 0; q < OX / 4; q++)
            if (ox + 4 * q < u_out_shape.z) out_data4[(at >> 2) + q] = vec4(r[4 * q], r[4 * q + 1], r[4 * q + 2], r[4 * q + 3]);
#else
        for (int k = 0; k < OX; k++)
            if (ox + k < u_out_shape.z) out_data[at + k] = r[k];
#endif
    }
}
