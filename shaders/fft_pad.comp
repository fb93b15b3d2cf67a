#version 430
// Builds the FFT frames of a convolution's input: the input padded by its border (exactly the in_pad of
// DESIGN.md's formula), cut into four tiles along y, the tiles packed as the four floats of each texel.
//
// The dense (stride 1) correlation of the padded input with a kernel spanning dkH x dkW rows/columns needs,
// for dense output rows [t*T_h, (t+1)*T_h) of tile t, the padded rows [t*T_h, (t+1)*T_h + dkH - 1). A frame of
// F_h >= T_h + dkH - 1 rows and F_w >= W_need columns (W_need = the padded columns any output reads) holds a
// tile without wrap-around reaching the outputs that are read (overlap-save), so the frame only has to be a
// quarter as tall as the padded input, plus the kernel. The four tiles are real; packing them two per complex
// value (tile 0 + i tile 1, tile 2 + i tile 3) is exact because every kernel is real: (a + ib) * k = a*k + i b*k.
// Texel (c, fy, fx) = (in_pad[c, fy, fx], in_pad[c, T_h + fy, fx], in_pad[c, 2T_h + fy, fx], in_pad[c, 3T_h + fy, fx]),
// 0 beyond H_need rows or W_need columns (those values reach no output that is read).
// Where each padded row and column comes from is a table made on the CPU by Core's Borders.Map (the reference's
// own mapping; -1 for a zero border outside, or beyond H_need / W_need): no modulo per texel, which llvmpipe
// would run one lane at a time, and no second copy of the border rules to keep in step.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input;   // (C, H, W) tensor
layout(rgba32f, binding = 1) writeonly uniform imageBuffer u_frames;
layout(r32i, binding = 2) readonly uniform iimageBuffer u_maps;   // row map (3 T_h + F_h), then column map (F_w)

uniform ivec3 u_in_shape;  // (C, H, W)
uniform ivec2 u_frame;     // (F_h, F_w)
uniform int u_tile_rows;   // T_h
uniform int u_columns_at;  // where the column map starts in u_maps

void main()
{
    int fx = int(gl_GlobalInvocationID.x), fy = int(gl_GlobalInvocationID.y), c = int(gl_GlobalInvocationID.z);
    if (fx >= u_frame.y || fy >= u_frame.x || c >= u_in_shape.x) return;
    int h = u_in_shape.y, w = u_in_shape.z;
    int sx = imageLoad(u_maps, u_columns_at + fx).x;
    vec4 v;
    for (int t = 0; t < 4; t++)
    {
        int sy = imageLoad(u_maps, t * u_tile_rows + fy).x;
        bool ok = sx >= 0 && sy >= 0;
        // Predicated load (index 0 when outside) rather than a branch around it: see PERF-NOTES.md.
        float value = imageLoad(u_input, ok ? (c * h + sy) * w + sx : 0).x;
        v[t] = ok ? value : 0.0;
    }
    imageStore(u_frames, (c * u_frame.x + fy) * u_frame.y + fx, v);
}
