#version 430
// Max and average pooling, the fast variant of pool2d.comp (same semantics: padding that max never picks and average
// counts as zeros, PyTorch's count_include_pad=True; a NaN in a max window is the output). The reference is
// Pool2D.Apply. One invocation computes OX outputs along x of one row of one channel, reading the input through a
// texel view of its buffer (a vector gather on llvmpipe, where a storage-block load with a per-lane address is a
// scalar loop): a row of OX windows reads SPAN inputs per window row, not OX * KW. Taps outside the image are
// clamped into it and replaced by the padding value with a select, so there is no branch and no load out of bounds.
// Defines: POOL_MAX (1 max, 0 average), KH, KW (window), SX (x stride), OX.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

#define SPAN ((OX - 1) * SX + KW)

// The input tensor, (C, H, W) row-major, as r32f texels.
layout(binding = 0) uniform samplerBuffer u_input;
// (C, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;  // (C, H, W)
uniform ivec3 u_out_shape; // (C, H_out, W_out)
uniform int u_stride_y;
uniform ivec2 u_pad;       // (top, left)

#if POOL_MAX
const float PAD_VALUE = -3.402823466e+38; // never picked: PyTorch requires pad <= size/2, so a real pixel is in every window
#else
const float PAD_VALUE = 0.0;
#endif

void main()
{
    int c = int(gl_WorkGroupID.z);
    int h = u_in_shape.y, w = u_in_shape.z;
    int ox = int(gl_GlobalInvocationID.x) * OX;
    int oy = int(gl_GlobalInvocationID.y);
    int x0 = ox * SX - u_pad.y;
    int y0 = oy * u_stride_y - u_pad.x;

    int cols[SPAN];
    bool col_real[SPAN];
    for (int s = 0; s < SPAN; s++)
    {
        col_real[s] = uint(x0 + s) < uint(w);
        cols[s] = clamp(x0 + s, 0, w - 1);
    }

    float acc[OX];
    for (int k = 0; k < OX; k++) acc[k] = PAD_VALUE;
    for (int i = 0; i < KH; i++)
    {
        int y = y0 + i;
        bool row_real = uint(y) < uint(h);
        int row = (c * h + clamp(y, 0, h - 1)) * w;
        float v[SPAN];
        for (int s = 0; s < SPAN; s++) v[s] = (row_real && col_real[s]) ? texelFetch(u_input, row + cols[s]).r : PAD_VALUE;
        for (int j = 0; j < KW; j++)
            for (int k = 0; k < OX; k++)
            {
                float t = v[k * SX + j];
#if POOL_MAX
                // Not max(): GLSL leaves its NaN result undefined; PyTorch takes t when `t > max || isnan(t)`.
                acc[k] = (t > acc[k] || isnan(t)) ? t : acc[k];
#else
                acc[k] += t;
#endif
            }
    }

    // Predicated stores (no early return above).
    if (oy < u_out_shape.y)
    {
        int out_row = (c * u_out_shape.y + oy) * u_out_shape.z;
        for (int k = 0; k < OX; k++)
        {
#if POOL_MAX
            float r = acc[k];
#else
            float r = acc[k] / float(KH * KW);
#endif
            if (ox + k < u_out_shape.z) out_data[out_row + ox + k] = r;
        }
    }
}
