#version 430
// Reads the convolution out of the inverse-transformed frames: output (o, y, x) is the dense correlation at
// padded position (y * s_y, x * s_x) (the stride subsamples it), which lives in tile t = (y s_y) / T_h at frame
// row (y s_y) - t T_h, column x s_x, float t of the texel (fft_pad.comp's packing); plus the bias.
// Defines: HAS_BIAS (0/1).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_frames;
layout(r32f, binding = 1) writeonly uniform imageBuffer u_output;   // (C_out, H_out, W_out) tensor
layout(std430, binding = 2) readonly buffer Bias { float b_data[]; };

uniform ivec3 u_out_shape; // (C_out, H_out, W_out)
uniform ivec2 u_frame;     // (F_h, F_w)
uniform ivec2 u_stride;    // (s_y, s_x)
uniform int u_tile_rows;   // T_h
uniform float u_inv_tile_rows; // 1 / T_h: the tile is found in float (see fft_pass.comp on integer division)

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y), o = int(gl_GlobalInvocationID.z);
    if (x >= u_out_shape.z || y >= u_out_shape.y || o >= u_out_shape.x) return;
    int m = y * u_stride.x;
    int t = min(int((float(m) + 0.5) * u_inv_tile_rows), 3);
    vec4 v = imageLoad(u_frames, (o * u_frame.x + (m - t * u_tile_rows)) * u_frame.y + x * u_stride.y);
    float r = t == 0 ? v.x : t == 1 ? v.y : t == 2 ? v.z : v.w;
#if HAS_BIAS
    r += b_data[o];
#endif
    imageStore(u_output, (o * u_out_shape.y + y) * u_out_shape.z + x, vec4(r));
}
