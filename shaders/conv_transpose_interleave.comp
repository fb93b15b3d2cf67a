#version 430
// The parity split of a transposed convolution at strides above 2 (GpuConvTranspose2D.RunParity; strides up to 2 use
// conv_transpose_weave.comp): one output phase's values, computed as a
// plain correlation into a (C, H_phase, W_phase) tensor, written stride apart: output (c, sy q + py, sx r + px) =
// phase (c, q, r) for q < u_count.y, r < u_count.x (the phase tensor may hold extra rows and columns: dropped).
// One value per invocation, (r, q, c) from the invocation id: no division; the phase read through an r32f texel view.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_phase_values; // (C, H_phase, W_phase) as r32f texels
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec2 u_phase_size; // (W_phase, H_phase)
uniform ivec3 u_count;      // (outputs along x, along y, channels) of this phase
uniform ivec2 u_out_size;   // (W, H) of the output
uniform ivec2 u_stride;     // (sx, sy)
uniform ivec2 u_phase;      // (px, py)

void main()
{
    ivec3 id = ivec3(gl_GlobalInvocationID);
    ivec3 at = min(id, u_count - 1);
    float v = imageLoad(u_phase_values, (at.z * u_phase_size.y + at.y) * u_phase_size.x + at.x).r;
    int y = u_stride.y * at.y + u_phase.y, x = u_stride.x * at.x + u_phase.x;
    if (all(lessThan(id, u_count))) out_data[(at.z * u_out_size.y + y) * u_out_size.x + x] = v;
}
