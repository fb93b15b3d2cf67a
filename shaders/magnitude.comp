#version 430
// Gradient magnitude of channel pairs: out[i, y, x] = sqrt(in[2i, y, x]^2 + in[2i+1, y, x]^2).
// The reference is Magnitude in src/ConvGL.Core/Ops/Magnitude.cs, which evaluates the same float32 expression
// (and so defines NaN and Inf the same way: NaN in gives NaN, Inf with a number +Inf, squares past float32's range +Inf).

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

// (2*C_out, H, W) row-major.
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// (C_out, H, W) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_plane;  // H * W
uniform int u_count;  // C_out * H * W
uniform int u_row;    // invocations per dispatch row: index = y * u_row + x

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    int i = index / u_plane, p = index - i * u_plane;
    float a = in_data[2 * i * u_plane + p];
    float b = in_data[(2 * i + 1) * u_plane + p];
    out_data[index] = sqrt(a * a + b * b);
}
