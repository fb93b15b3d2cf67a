#version 430
#if WIDE
#extension GL_ARB_gpu_shader_int64 : require
#endif
// 1x1 convolution, step 1 of 2 (PointwisePlan): the input value each output pixel reads, gathered once into a
// (C_in, TP) matrix whose rows are the output pixels in order, zero past the last (TP: the output's H_out * W_out rounded up
// to 8): V[c][y * W_out + x] = in[c][border(y * sy - top)][border(x * sx - left)], 0 where a zero border falls outside.
// A 1x1 layer at stride 1 without padding whose output rows fill whole blocks of 8 reads its input as it is and skips
// this. One invocation: 8 consecutive pixels of one channel, one 32-byte store (WIDE) or two vec4 stores.

#include "include/border.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (C, H, W) as r32f texels
#if WIDE
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Gathered8 { u64vec4 v_data8[]; };
#else
layout(std430, binding = 3) writeonly buffer Gathered { vec4 v_data[]; };
#endif

uniform ivec2 u_in_size;  // (W, H)
uniform ivec3 u_out;      // (W_out, H_out * W_out, TP)
uniform ivec2 u_stride;   // (x, y)
uniform ivec2 u_pad;      // (left, top)
uniform int u_count;      // C_in * TP / 8 invocations
uniform int u_row;

void main()
{
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    bool inside = id < u_count;
    id = min(id, u_count - 1);
    int blocks = u_out.z / 8;
    int c = id / blocks;
    int p0 = 8 * (id - c * blocks);
    float v[8];
    for (int e = 0; e < 8; e++)
    {
        int p = min(p0 + e, u_out.y - 1);
        int y = p / u_out.x;
        int x = p - y * u_out.x;
        int sy = y * u_stride.y - u_pad.y, sx = x * u_stride.x - u_pad.x;
        float value = imageLoad(u_input, (c * u_in_size.y + border_index(sy, u_in_size.y)) * u_in_size.x + border_index(sx, u_in_size.x)).r;
#if BORDER == BORDER_ZERO
        value = border_inside(sx, u_in_size.x) && border_inside(sy, u_in_size.y) ? value : 0.0;
#endif
        v[e] = p0 + e < u_out.y ? value : 0.0;
    }
    if (inside)
    {
#if WIDE
        v_data8[id] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
#else
        v_data[2 * id] = vec4(v[0], v[1], v[2], v[3]);
        v_data[2 * id + 1] = vec4(v[4], v[5], v[6], v[7]);
#endif
    }
}
