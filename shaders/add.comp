#version 430
// Element-wise a + b with NumPy broadcasting over up to 4 dimensions. The reference is Elementwise.Add
// in src/ConvGL.Core/Ops/Elementwise.cs. The host right-aligns both shapes to rank 4 and passes each
// input's element strides, 0 along a broadcast dimension; equal shapes are the strides of the output.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer A { float a_data[]; };
layout(std430, binding = 1) readonly buffer B { float b_data[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_count;      // output elements
uniform int u_row;        // invocations per dispatch row (see GlProgram.DispatchFlat)
uniform ivec4 u_dims;     // output shape, rank 4
uniform ivec4 u_a_stride; // a's element strides in the output's index space
uniform ivec4 u_b_stride;

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_count) return;
    int rest = index;
    ivec4 i;
    i.w = rest % u_dims.w; rest /= u_dims.w;
    i.z = rest % u_dims.z; rest /= u_dims.z;
    i.y = rest % u_dims.y; rest /= u_dims.y;
    i.x = rest;
    out_data[index] = a_data[i.x * u_a_stride.x + i.y * u_a_stride.y + i.z * u_a_stride.z + i.w * u_a_stride.w]
                    + b_data[i.x * u_b_stride.x + i.y * u_b_stride.y + i.z * u_b_stride.z + i.w * u_b_stride.w];
}
