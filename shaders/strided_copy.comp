#version 430
// A strided copy, the GPU side of StridedView.Read in src/ConvGL.Core/Ops/Indexing.cs: output element k, with index
// (i0, ..., i[r-1]) over u_dims, is input element u_in_offset + sum of i_d * u_in_strides[d], written to
// u_out_offset + sum of i_d * u_out_strides[d]. Transpose, Slice, Split and Gather (one copy per index) are such
// copies. Up to 6 dimensions (the C# side merges contiguous ones first); strides may be negative (negative slice steps).
// One value per invocation, plain storage loads: these ops move a map once, they are not the hot path.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 3) buffer Output { float out_data[]; };

uniform int u_count;
uniform int u_row; // invocations per dispatch row (see GlProgram.DispatchFlat)
uniform int u_rank;
uniform int u_dims[6];
uniform int u_in_strides[6];
uniform int u_out_strides[6];
uniform int u_in_offset;
uniform int u_out_offset;

void main()
{
    int k = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (k >= u_count) return;
    int rest = k, source = u_in_offset, target = u_out_offset;
    for (int d = 5; d >= 0; d--)
    {
        if (d >= u_rank) continue;
        int i = rest % u_dims[d];
        rest /= u_dims[d];
        source += i * u_in_strides[d];
        target += i * u_out_strides[d];
    }
    out_data[target] = in_data[source];
}
