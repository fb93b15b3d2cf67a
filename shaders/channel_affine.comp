#version 430
// y = a[c] * x + b[c] per channel: inference batch normalisation (BatchNorm.Apply in
// src/ConvGL.Core/Ops/BatchNorm.cs) when it cannot fold into a preceding convolution.
// Channel of element i: (i / u_inner) % u_channels, so (N, C, ...) batches work unchanged.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// a[0..C) then b[0..C).
layout(std430, binding = 1) readonly buffer Affine { float affine[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_count;
uniform int u_row;
uniform int u_inner;     // elements per channel plane (H * W)
uniform int u_channels;  // C

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    int c = (index / u_inner) % u_channels;
    out_data[index] = affine[c] * in_data[index] + affine[u_channels + c];
}
