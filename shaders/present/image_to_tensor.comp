#version 430
// An RGBA8 image texture -> a (C, H, W) tensor with values in [0, 1] (8-bit / 255: the UNORM
// conversion texelFetch applies). GRAY=1 gives C = 1 with BT.601 luma (0.299 R + 0.587 G + 0.114 B,
// as OpenCV's cvtColor); GRAY=0 gives C = 3 (R, G, B). Texel (x, y) becomes tensor (y, x): texture
// row 0 is the image's top row as uploaded from a file, unless u_flip_y asks for GL's bottom-up order.

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(binding = 0) uniform sampler2D u_image;
// (C, H, W) row-major, C = 1 (gray) or 3 (rgb).
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec2 u_size;   // (W, H)
uniform int u_flip_y;

void main()
{
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (p.x >= u_size.x || p.y >= u_size.y) return;
    int ty = u_flip_y != 0 ? u_size.y - 1 - p.y : p.y;
    vec4 t = texelFetch(u_image, ivec2(p.x, ty), 0);
    int i = p.y * u_size.x + p.x;
#if GRAY
    out_data[i] = 0.299 * t.r + 0.587 * t.g + 0.114 * t.b;
#else
    int plane = u_size.x * u_size.y;
    out_data[i] = t.r;
    out_data[plane + i] = t.g;
    out_data[2 * plane + i] = t.b;
#endif
}
