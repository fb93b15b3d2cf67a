#version 430
// One input of a concatenation (ONNX Concat, the reference is Concat.Apply in src/ConvGL.Core/Ops/Concat.cs): the input
// is u_outer slabs of u_slab values (the dimensions before the axis, and the axis onward); slab o lands in the output at
// o * u_out_slab + u_at. One dispatch per input; one invocation per value. A pure copy (exact for any value, NaN included).

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) buffer Output { float out_data[]; };

uniform int u_slab;     // values of one slab of this input
uniform int u_outer;    // slabs
uniform int u_out_slab; // values of one slab of the output (every input's slab together)
uniform int u_at;       // where this input's slab starts inside the output's
uniform int u_row;      // invocations per dispatch row (see GlProgram.DispatchFlat)

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_slab * u_outer) return;
    int o = index / u_slab, i = index - o * u_slab;
    out_data[o * u_out_slab + u_at + i] = in_data[index];
}
