#version 430
// A strided copy, the GPU side of StridedView.Read in src/ConvGL.Core/Ops/Indexing.cs: output element k, with index
// (i0, ..., i[r-1]) over u_dims, is input element u_in_offset + sum of i_d * u_in_strides[d], written to
// u_out_offset + sum of i_d * u_out_strides[d]. Transpose, Slice, Split and Gather (one copy per index) are such
// copies. RANK (1..6) dimensions (the C# side merges contiguous ones first); strides may be negative (negative slice
// steps).
//
// Defines (GpuStridedCopy picks them): RANK, the loop over the dimensions unrolled, so every u_dims[d] is a constant
// index (on llvmpipe a uniform array indexed by a loop counter is a gather per lane); TEXEL_INPUT, the input read through
// an r32f texel view (a vector gather; a storage load with a per-lane address is a scalar loop over the lanes there),
// else a storage block (inputs beyond GL_MAX_TEXTURE_BUFFER_SIZE); VEC4, 4 consecutive outputs of the innermost
// dimension per invocation and one vec4 store (the innermost output stride 1, its size and every other output stride
// multiples of 4, the output offset too). No early return: the store is predicated.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if TEXEL_INPUT
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#define LOAD(i) imageLoad(u_input, (i)).r
#else
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
#define LOAD(i) in_data[i]
#endif
#if VEC4
layout(std430, binding = 3) buffer Output { vec4 out_data[]; };
#define PER_INVOCATION 4
#else
layout(std430, binding = 3) buffer Output { float out_data[]; };
#define PER_INVOCATION 1
#endif

uniform int u_count; // values to copy (a multiple of 4 with VEC4)
uniform int u_row;   // invocations per dispatch row (see GlProgram.DispatchFlat)
uniform int u_dims[6];
uniform int u_in_strides[6];
uniform int u_out_strides[6];
uniform int u_in_offset;
uniform int u_out_offset;

void main()
{
    int invocations = u_count / PER_INVOCATION;
    int k = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = k < invocations;
    int rest = min(k, invocations - 1) * PER_INVOCATION, source = u_in_offset, target = u_out_offset;
    for (int d = RANK - 1; d >= 0; d--)
    {
        int q = rest / u_dims[d];
        int i = rest - q * u_dims[d];
        rest = q;
        source += i * u_in_strides[d];
        target += i * u_out_strides[d];
    }
#if VEC4
    int step = u_in_strides[RANK - 1];
    vec4 v = vec4(LOAD(source), LOAD(source + step), LOAD(source + 2 * step), LOAD(source + 3 * step));
    if (inside) out_data[target / 4] = v;
#else
    float v = LOAD(source);
    if (inside) out_data[target] = v;
#endif
}
