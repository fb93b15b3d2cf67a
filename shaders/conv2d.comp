#version 430
// 2D convolution with PyTorch Conv2d layouts and DESIGN.md's semantics; the reference is
// Conv2D.Apply in src/ConvGL.Core/Ops/Conv2D.cs. One invocation computes one output value.
//
//   out[o, y, x] = bias[o] + sum_{c, i, j} w[o, c, i', j'] * in_pad[g*Cin_g + c, y*sy + i*dy, x*sx + j*dx]
//
// with g = o / Cout_g the group of output channel o, (i', j') = (i, j) under correlate and
// (kH-1-i, kW-1-j) under convolve (CONVOLVE defined), so switching modes never re-uploads weights.
// Defines: BORDER (include/border.glsl), CONVOLVE (0/1), HAS_BIAS (0/1), FUSED_ACT (include/fused_act.glsl).

#include "include/border.glsl"
#include "include/fused_act.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// (C_in, H, W) row-major: element (c, y, x) at (c*H + y)*W + x. Same layout as the CPU Tensor.
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// (C_out, C_in/groups, kH, kW) row-major, PyTorch's weight layout.
layout(std430, binding = 1) readonly buffer Weight { float w_data[]; };
// (C_out)
layout(std430, binding = 2) readonly buffer Bias { float b_data[]; };
// (C_out, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;    // (C_in, H, W)
uniform ivec3 u_out_shape;   // (C_out, H_out, W_out)
uniform ivec2 u_kernel;      // (kH, kW)
uniform ivec2 u_stride;      // (sy, sx)
uniform ivec2 u_dilation;    // (dy, dx)
uniform ivec2 u_pad;         // padding before: (top, left)
uniform ivec2 u_group;       // (C_in per group, C_out per group)

void main()
{
    ivec3 pos = ivec3(gl_GlobalInvocationID); // (x, y, o)
    if (pos.x >= u_out_shape.z || pos.y >= u_out_shape.y || pos.z >= u_out_shape.x) return;

    int o = pos.z;
    int h = u_in_shape.y, w = u_in_shape.z;
    int kh = u_kernel.x, kw = u_kernel.y;
    int cin_g = u_group.x;
    int first_input = (o / u_group.y) * cin_g;
    int y0 = pos.y * u_stride.x - u_pad.x;
    int x0 = pos.x * u_stride.y - u_pad.y;

#if HAS_BIAS
    float sum = b_data[o];
#else
    float sum = 0.0;
#endif
#if CONVOLVE
    // Weight (i, j) is read at (kH-1-i, kW-1-j): row pointer at the row's last tap, stepping back.
    #define W_ROW(plane, i) (((plane) + kh - 1 - (i)) * kw + kw - 1)
    #define W_AT(row, j) w_data[(row) - (j)]
#else
    #define W_ROW(plane, i) (((plane) + (i)) * kw)
    #define W_AT(row, j) w_data[(row) + (j)]
#endif
    // Most outputs see no border at all: their whole dilated window lies inside the image. They take a
    // loop with no border arithmetic per tap (the difference is ~1.5x on llvmpipe); only the rim pays
    // for border_map. Both loops sum the same terms in the same order.
    bool interior = y0 >= 0 && y0 + (kh - 1) * u_dilation.x < h && x0 >= 0 && x0 + (kw - 1) * u_dilation.y < w;
    if (interior)
    {
        for (int c = 0; c < cin_g; c++)
        {
            int in_plane = (first_input + c) * h;
            int w_plane = (o * cin_g + c) * kh;
            for (int i = 0; i < kh; i++)
            {
                int wrow = W_ROW(w_plane, i);
                int in_row = (in_plane + y0 + i * u_dilation.x) * w + x0;
                for (int j = 0; j < kw; j++)
                    sum += W_AT(wrow, j) * in_data[in_row + j * u_dilation.y];
            }
        }
    }
    else
    {
        for (int c = 0; c < cin_g; c++)
        {
            int in_plane = (first_input + c) * h;
            int w_plane = (o * cin_g + c) * kh;
            for (int i = 0; i < kh; i++)
            {
                int sy = border_map(y0 + i * u_dilation.x, h);
                if (sy < 0) continue;
                int wrow = W_ROW(w_plane, i);
                int in_row = (in_plane + sy) * w;
                for (int j = 0; j < kw; j++)
                {
                    int sx = border_map(x0 + j * u_dilation.y, w);
                    if (sx < 0) continue;
                    sum += W_AT(wrow, j) * in_data[in_row + sx];
                }
            }
        }
    }
    out_data[(o * u_out_shape.y + pos.y) * u_out_shape.z + pos.x] = fused_act(sum);
}
