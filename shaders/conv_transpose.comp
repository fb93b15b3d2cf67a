#version 430
// Transposed convolution, the reference is ConvTranspose2D.Apply in src/ConvGL.Core/Ops/ConvTranspose2D.cs, written as a
// gather: output (ox, oy, oc) sums x[ic, iy, ix] * w[ic, oc % (C_out / groups), ky, kx] over its group's input channels
// and the taps with iy * stride - padTop + ky * dilation = oy (and the same along x), the taps whose input position is
// not a whole, in-range multiple of the stride skipped. One output per invocation, storage-block loads: the general
// path (decoders' few transposed layers, and the teaching view), not a tuned one.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };   // (C, H, W)
layout(std430, binding = 1) readonly buffer Weight { float w_data[]; };   // (C, C_out / groups, kH, kW)
layout(std430, binding = 2) readonly buffer Bias { float bias_data[]; };  // (C_out), when u_has_bias
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; }; // (C_out, H', W')

uniform ivec2 u_in_size;   // (W, H)
uniform ivec3 u_out_size;  // (W', H', C_out)
uniform ivec2 u_kernel;    // (kW, kH)
uniform ivec2 u_stride;    // (x, y)
uniform ivec2 u_dilation;  // (x, y)
uniform ivec2 u_pad;       // (left, top); negative adds leading zero rows / columns
uniform int u_in_group;    // input channels per group
uniform int u_out_group;   // output channels per group
uniform int u_has_bias;

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    if (p.x >= u_out_size.x || p.y >= u_out_size.y || p.z >= u_out_size.z) return;
    int g = p.z / u_out_group, j = p.z - g * u_out_group;
    float sum = 0.0;
    for (int ic = g * u_in_group; ic < (g + 1) * u_in_group; ic++)
        for (int ky = 0; ky < u_kernel.y; ky++)
        {
            int ny = p.y + u_pad.y - ky * u_dilation.y;
            if (ny < 0 || ny % u_stride.y != 0) continue;
            int iy = ny / u_stride.y;
            if (iy >= u_in_size.y) continue;
            for (int kx = 0; kx < u_kernel.x; kx++)
            {
                int nx = p.x + u_pad.x - kx * u_dilation.x;
                if (nx < 0 || nx % u_stride.x != 0) continue;
                int ix = nx / u_stride.x;
                if (ix >= u_in_size.x) continue;
                sum += in_data[(ic * u_in_size.y + iy) * u_in_size.x + ix] * w_data[((ic * u_out_group + j) * u_kernel.y + ky) * u_kernel.x + kx];
            }
        }
    if (u_has_bias != 0) sum += bias_data[p.z];
    out_data[(p.z * u_out_size.y + p.y) * u_out_size.x + p.x] = sum;
}
