#version 430
// Reads the convolution out of the inverse-transformed frames: output (o, y, x) is the dense correlation at
// padded position (y * s_y, x * s_x) (the stride subsamples it), which lives in tile t = (y s_y) / T_h at frame
// row (y s_y) - t T_h, column x s_x, float t of the texel (fft_pad.comp's packing); plus the bias.
// An invocation reads four texels along x of frame rows below T_h and writes the (up to 16) outputs they hold:
// fewer invocations than one per output (llvmpipe's cost per invocation is well above that of a gather), and
// each texel is read once. Divisions by the strides are done in float (see fft_pass.comp).
// Defines: HAS_BIAS (0/1).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_frames;
layout(r32f, binding = 1) writeonly uniform imageBuffer u_output;   // (C_out, H_out, W_out) tensor
layout(std430, binding = 2) readonly buffer Bias { float b_data[]; };

uniform ivec3 u_out_shape; // (C_out, H_out, W_out)
uniform ivec2 u_frame;     // (F_h, F_w)
uniform ivec2 u_stride;    // (s_y, s_x)
uniform vec2 u_inv_stride; // (1 / s_y, 1 / s_x)
uniform int u_tile_rows;   // T_h

void main()
{
    int fx0 = int(gl_GlobalInvocationID.x) * 4, fy = int(gl_GlobalInvocationID.y), o = int(gl_GlobalInvocationID.z);
    if (fx0 >= u_frame.y || fy >= u_tile_rows || o >= u_out_shape.x) return;
#if HAS_BIAS
    float bias = b_data[o];
#else
    float bias = 0.0;
#endif
    ivec4 y, m;
    for (int t = 0; t < 4; t++)
    {
        m[t] = t * u_tile_rows + fy;
        y[t] = int((float(m[t]) + 0.5) * u_inv_stride.x);
    }
    bvec4 row_ok = equal(y * u_stride.x, m);
    for (int t = 0; t < 4; t++) row_ok[t] = row_ok[t] && y[t] < u_out_shape.y;
    for (int u = 0; u < 4; u++)
    {
        int n = fx0 + u;
        int x = int((float(n) + 0.5) * u_inv_stride.y);
        bool col_ok = x * u_stride.y == n && x < u_out_shape.z;
        vec4 v = imageLoad(u_frames, (o * u_frame.x + fy) * u_frame.y + min(n, u_frame.y - 1));
        for (int t = 0; t < 4; t++)
            if (col_ok && row_ok[t]) imageStore(u_output, (o * u_out_shape.y + y[t]) * u_out_shape.z + x, vec4(v[t] + bias));
    }
}
